//! Turning driver and pool errors into [`StoreError`]s. Messages carry the SQLSTATE and the
//! server's one-line message at most: never a URL, a password or a DETAIL line.
use crate::store::StoreError;
use deadpool_postgres::PoolError;
use tokio_postgres::error::SqlState;

pub(crate) fn from_pg(err: tokio_postgres::Error) -> StoreError {
    match err.as_db_error() {
        Some(db) if is_timeout(db.code()) => StoreError::Timeout,
        Some(db) => StoreError::Unavailable(format!("{} ({})", db.message(), db.code().code())),
        // Connection-level errors: "error connecting to server: Connection refused" and the
        // like. tokio-postgres does not put the host, user or password in these.
        None => StoreError::Unavailable(err.to_string()),
    }
}

/// An error that reached us as a SQLSTATE alone (an admission of a group,
/// migrations/0007): the same mapping as [`from_pg`].
pub(crate) fn from_sqlstate(code: &str) -> StoreError {
    if is_timeout(&SqlState::from_code(code)) {
        StoreError::Timeout
    } else {
        StoreError::Unavailable(format!("admission failed ({code})"))
    }
}

/// Cancelled by a timeout, or a row lock not granted within `lock_timeout`.
fn is_timeout(state: &SqlState) -> bool {
    *state == SqlState::QUERY_CANCELED || *state == SqlState::LOCK_NOT_AVAILABLE
}

pub(crate) fn from_pool(err: PoolError) -> StoreError {
    match err {
        PoolError::Backend(err) => from_pg(err),
        PoolError::Timeout(_) => {
            StoreError::Unavailable("timed out waiting for a database connection".into())
        }
        PoolError::Closed => StoreError::Unavailable("the connection pool is closed".into()),
        PoolError::NoRuntimeSpecified => {
            StoreError::Unavailable("the connection pool has no runtime".into())
        }
        PoolError::PostCreateHook(_) => {
            StoreError::Unavailable("a new database connection was rejected".into())
        }
    }
}

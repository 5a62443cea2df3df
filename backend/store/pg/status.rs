//! The operator's view of what the database holds: counts and ages, never content.
use super::PgStore;
use crate::store::status::{RequestCount, RowAge, SchemaStatus, StatusReport};
use crate::store::StoreError;
use std::time::Duration;
use tokio_postgres::Transaction;

const REQUESTS_BY_CATEGORY: &str = "
    SELECT outcome, category, count(*) FROM requests
    WHERE finished_at > now() - interval '24 hours'
    GROUP BY outcome, category ORDER BY outcome, category";

const SESSIONS_AGE: &str = "
    SELECT count(*) FILTER (WHERE expires_at > now()),
           extract(epoch FROM now() - min(created_at))::float8,
           count(*) FILTER (WHERE expires_at < now())
    FROM sessions";

const REQUESTS_AGE: &str = "
    SELECT count(*),
           extract(epoch FROM now() - min(finished_at))::float8,
           count(*) FILTER (WHERE expires_at < now())
    FROM requests";

const USERS_LAST_24H: &str =
    "SELECT count(*) FROM users WHERE last_seen_at > now() - interval '24 hours'";

const WRITER_DROPPED: &str =
    "SELECT coalesce(sum(dropped), 0)::int8 FROM writer_drops WHERE expires_at > now()";

/// Status scans more than a hot-path query; give it more time.
const STATUS_TIMEOUT_FACTOR: u32 = 10;

impl PgStore {
    pub(crate) async fn status(&self) -> Result<StatusReport, StoreError> {
        let schema = self.ping().await?;
        if !schema.is_current() {
            return Err(StoreError::SchemaBehind {
                current: schema.current,
                expected: schema.expected,
            });
        }
        let timeout = self
            .query_timeout
            .saturating_mul(STATUS_TIMEOUT_FACTOR)
            .max(Duration::from_secs(5));
        let (session_ttl, request_ttl) = (self.session_ttl, self.request_ttl);
        self.transact(timeout, move |tx| {
            Box::pin(async move {
                let counts = tx.query_typed(REQUESTS_BY_CATEGORY, &[]).await?;
                let requests_last_24h = counts
                    .iter()
                    .map(|row| {
                        let count: i64 = row.try_get(2)?;
                        Ok(RequestCount {
                            outcome: row.try_get(0)?,
                            category: row.try_get(1)?,
                            count: count.max(0) as u64,
                        })
                    })
                    .collect::<Result<Vec<_>, tokio_postgres::Error>>()?;
                let (sessions_active, sessions_age) = age(tx, SESSIONS_AGE, session_ttl).await?;
                let (_, requests_age) = age(tx, REQUESTS_AGE, request_ttl).await?;
                let dropped: i64 = tx.query_typed_one(WRITER_DROPPED, &[]).await?.try_get(0)?;
                let users: i64 = tx.query_typed_one(USERS_LAST_24H, &[]).await?.try_get(0)?;
                Ok(StatusReport {
                    backend: "postgres",
                    schema: SchemaStatus::from(schema),
                    sessions_active,
                    users_last_24h: users.max(0) as u64,
                    requests_last_24h,
                    sessions_age,
                    requests_age,
                    writer_dropped: Some(dropped.max(0) as u64),
                })
            })
        })
        .await
    }
}

/// `(count, age)` from one of the age queries.
async fn age(
    tx: &Transaction<'_>,
    sql: &str,
    ttl: Duration,
) -> Result<(u64, RowAge), tokio_postgres::Error> {
    let row = tx.query_typed_one(sql, &[]).await?;
    let count: i64 = row.try_get(0)?;
    let expired: i64 = row.try_get(2)?;
    let age = RowAge {
        oldest_seconds: row.try_get(1)?,
        ttl_seconds: i64::try_from(ttl.as_secs()).unwrap_or(i64::MAX),
        expired_waiting: expired.max(0) as u64,
    };
    Ok((count.max(0) as u64, age))
}

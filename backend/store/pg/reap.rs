//! Deleting expired rows: small batches, each its own short transaction holding a
//! transaction-scoped advisory lock (works through a transaction-mode pooler), so only one
//! replica deletes at any moment and no statement runs long.
use super::PgStore;
use crate::store::{ReapReport, StoreError};
use tokio_postgres::types::Type;

/// `pg_try_advisory_xact_lock` key held by a reaping batch ("gc-reap").
pub(crate) const REAPER_LOCK_KEY: i64 = 0x0067_632d_7265_6170;

/// At most this many batches per table per round, so one round stays bounded.
const MAX_BATCHES_PER_TABLE: usize = 1_000;

/// Tables with `expires_at`, in the order of [`ReapReport::add`]'s index.
const TABLES: [&str; 5] = [
    "sessions",
    "requests",
    "address_limits",
    "writer_drops",
    "users",
];

fn delete_batch(table: &str) -> String {
    // `FOR UPDATE SKIP LOCKED`: never wait on a row an admission is updating right now.
    format!(
        "DELETE FROM {table} WHERE ctid = ANY(ARRAY(
             SELECT ctid FROM {table} WHERE expires_at < now() LIMIT $1 FOR UPDATE SKIP LOCKED))
           AND expires_at < now()"
    )
}

impl PgStore {
    pub(crate) async fn reap_once(&self) -> Result<ReapReport, StoreError> {
        let mut report = ReapReport::default();
        for (index, table) in TABLES.iter().enumerate() {
            let sql = delete_batch(table);
            for _ in 0..MAX_BATCHES_PER_TABLE {
                match self.reap_batch(&sql).await? {
                    None => {
                        report.lock_busy = true;
                        return Ok(report);
                    }
                    Some(deleted) => {
                        report.add(index, deleted);
                        if deleted < self.reaper_batch_size as u64 {
                            break;
                        }
                    }
                }
            }
        }
        Ok(report)
    }

    /// `None` when another reaper holds the lock.
    async fn reap_batch(&self, sql: &str) -> Result<Option<u64>, StoreError> {
        let sql = sql.to_owned();
        let limit = self.reaper_batch_size;
        self.transact(self.query_timeout, move |tx| {
            Box::pin(async move {
                let locked = tx
                    .query_typed_one(
                        "SELECT pg_try_advisory_xact_lock($1)",
                        &[(&REAPER_LOCK_KEY, Type::INT8)],
                    )
                    .await?;
                if !locked.try_get::<_, bool>(0)? {
                    return Ok(None);
                }
                let deleted = tx.execute_typed(&sql, &[(&limit, Type::INT8)]).await?;
                Ok(Some(deleted))
            })
        })
        .await
    }
}

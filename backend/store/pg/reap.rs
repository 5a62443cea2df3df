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

/// Tables with `expires_at`, in the order of [`ReapReport::add`]'s index, each with the
/// indexed column that finds its expired rows: `expires_at` itself, except for sessions,
/// whose `expires_at` slides with every turn and is not indexed (migrations/0006); their
/// `reap_after` is at least `expires_at` and moves only in steps.
const TABLES: [(&str, &str); 5] = [
    ("sessions", "reap_after"),
    ("requests", "expires_at"),
    ("address_limits", "expires_at"),
    ("writer_drops", "expires_at"),
    ("users", "expires_at"),
];

fn delete_batch(table: &str, column: &str) -> String {
    // `FOR UPDATE SKIP LOCKED`: never wait on a row an admission is updating right now.
    format!(
        "DELETE FROM {table} WHERE ctid = ANY(ARRAY(
             SELECT ctid FROM {table} WHERE {column} < now() LIMIT $1 FOR UPDATE SKIP LOCKED))
           AND expires_at < now()"
    )
}

impl PgStore {
    pub(crate) async fn reap_once(&self) -> Result<ReapReport, StoreError> {
        let mut report = ReapReport::default();
        for (index, (table, column)) in TABLES.iter().enumerate() {
            let sql = delete_batch(table, column);
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

//! The hot path's transaction: one statement, in one round trip. `BEGIN` with the local
//! settings, the statement, and `COMMIT` are sent together (tokio-postgres pipelines
//! requests that are polled concurrently), so a turn's admission costs one network round
//! trip and holds its row locks only for as long as the server needs to run it.
//!
//! `synchronous_commit = off` for these transactions only: a database crash may forget the
//! last fraction of a second of quota increments (turns are never double-admitted, data is
//! never corrupted), and in exchange no turn waits for a disk flush.
use super::{discard, error, PgStore};
use crate::store::StoreError;
use std::time::Duration;
use tokio_postgres::types::{ToSql, Type};
use tokio_postgres::Row;

/// `BEGIN` with the hot path's local settings for a given query timeout.
pub(super) fn begin(timeout: Duration) -> String {
    format!(
        "BEGIN; SET LOCAL statement_timeout = {}; SET LOCAL synchronous_commit = off",
        timeout.as_millis().max(1)
    )
}

impl PgStore {
    /// Run `sql` as the only statement of a transaction, bounded by the query timeout on the
    /// server (`statement_timeout`) and here. If the statement fails, the pipelined `COMMIT`
    /// ends the aborted transaction as a rollback on the server.
    pub(super) async fn one_statement(
        &self,
        sql: &str,
        params: &[(&(dyn ToSql + Sync), Type)],
    ) -> Result<Vec<Row>, StoreError> {
        let client = self.client().await?;
        let outcome = tokio::time::timeout(self.query_timeout, async {
            let (begun, rows, committed) = tokio::join!(
                client.batch_execute(&self.begin_hot),
                client.query_typed(sql, params),
                client.batch_execute("COMMIT"),
            );
            begun?;
            let rows = rows?;
            committed?;
            Ok(rows)
        })
        .await;
        match outcome {
            Ok(result) => result.map_err(error::from_pg),
            Err(_) => {
                discard(client);
                Err(StoreError::Timeout)
            }
        }
    }
}

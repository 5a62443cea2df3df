//! Inserting finished turns: one function call per batch (`unnest` over typed arrays), and
//! idempotent, so the writer may safely retry a batch whose commit it never saw confirmed.
use super::PgStore;
use crate::store::{RequestRecord, StoreError};
use chrono::{DateTime, Utc};
use std::time::Duration;
use tokio_postgres::types::Type;

/// The batch insert (migrations/0008): a function, so the server plans its statement once
/// per connection instead of once per batch.
const INSERT: &str =
    "SELECT gc_insert_requests($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)";

/// The batch as columns, the shape `unnest` takes.
#[derive(Default)]
struct Columns {
    request_id: Vec<String>,
    session_id: Vec<Option<String>>,
    started_at: Vec<DateTime<Utc>>,
    finished_at: Vec<DateTime<Utc>>,
    outcome: Vec<&'static str>,
    category: Vec<Option<&'static str>>,
    http_status: Vec<i16>,
    input_chars: Vec<i64>,
    output_chars: Vec<i64>,
    reasoning_ms: Vec<Option<i64>>,
    expression_ms: Vec<Option<i64>>,
    provider_status: Vec<Option<i16>>,
    first_byte_ms: Vec<Option<i64>>,
}

/// Statuses are 100..=599 once `is_storable` has passed, so this never saturates.
fn status(code: u16) -> i16 {
    i16::try_from(code).unwrap_or(i16::MAX)
}

impl Columns {
    fn push(&mut self, row: &RequestRecord) {
        self.request_id.push(row.request_id.clone());
        self.session_id
            .push(row.session_id.as_ref().map(|id| id.as_str().to_owned()));
        self.started_at.push(row.started_at);
        self.finished_at.push(row.finished_at);
        self.outcome.push(row.outcome.as_str());
        self.category
            .push(row.category.map(|category| category.as_str()));
        self.http_status.push(status(row.http_status));
        self.input_chars.push(i64::from(row.input_chars));
        self.output_chars.push(i64::from(row.output_chars));
        self.reasoning_ms.push(row.reasoning_ms.map(i64::from));
        self.expression_ms.push(row.expression_ms.map(i64::from));
        self.provider_status.push(row.provider_status.map(status));
        self.first_byte_ms.push(row.first_byte_ms.map(i64::from));
    }
}

impl PgStore {
    /// Insert within `timeout` (at most the query timeout); on a timeout the connection is
    /// closed, not returned to the pool mid-transaction.
    pub(crate) async fn insert_requests(
        &self,
        rows: &[RequestRecord],
        timeout: Duration,
    ) -> Result<(), StoreError> {
        let mut columns = Columns::default();
        for row in rows {
            if row.is_storable() {
                columns.push(row);
            } else {
                tracing::warn!("skipping a request record that does not fit the schema");
            }
        }
        if columns.request_id.is_empty() {
            return Ok(());
        }
        let ttl = self.request_ttl.as_secs_f64();
        let timeout = timeout.min(self.query_timeout);
        self.transact(timeout, move |tx| {
            Box::pin(async move {
                let c = &columns;
                tx.execute_typed(
                    INSERT,
                    &[
                        (&c.request_id, Type::TEXT_ARRAY),
                        (&c.session_id, Type::TEXT_ARRAY),
                        (&c.started_at, Type::TIMESTAMPTZ_ARRAY),
                        (&c.finished_at, Type::TIMESTAMPTZ_ARRAY),
                        (&c.outcome, Type::TEXT_ARRAY),
                        (&c.category, Type::TEXT_ARRAY),
                        (&c.http_status, Type::INT2_ARRAY),
                        (&c.input_chars, Type::INT8_ARRAY),
                        (&c.output_chars, Type::INT8_ARRAY),
                        (&c.reasoning_ms, Type::INT8_ARRAY),
                        (&c.expression_ms, Type::INT8_ARRAY),
                        (&c.provider_status, Type::INT2_ARRAY),
                        (&c.first_byte_ms, Type::INT8_ARRAY),
                        (&ttl, Type::FLOAT8),
                    ],
                )
                .await
                .map(|_| ())
            })
        })
        .await
    }
}

const RECORD_DROPPED: &str = "
    INSERT INTO writer_drops (writer_id, dropped, updated_at, expires_at)
    VALUES ($1, $2, now(), now() + make_interval(secs => $3))
    ON CONFLICT (writer_id) DO UPDATE
    SET dropped = GREATEST(writer_drops.dropped, EXCLUDED.dropped),
        updated_at = EXCLUDED.updated_at,
        expires_at = EXCLUDED.expires_at";

impl PgStore {
    /// Record this writer's running total of dropped rows (monotonic; a stale retry never
    /// lowers it). It expires like request rows.
    pub(crate) async fn record_dropped(
        &self,
        writer_id: &str,
        dropped: u64,
    ) -> Result<(), StoreError> {
        let writer_id = writer_id.to_owned();
        let dropped = i64::try_from(dropped).unwrap_or(i64::MAX);
        let ttl = self.request_ttl.as_secs_f64();
        self.transact(self.query_timeout, move |tx| {
            Box::pin(async move {
                tx.execute_typed(
                    RECORD_DROPPED,
                    &[
                        (&writer_id, Type::TEXT),
                        (&dropped, Type::INT8),
                        (&ttl, Type::FLOAT8),
                    ],
                )
                .await
                .map(|_| ())
            })
        })
        .await
    }
}

//! Operational metadata: sessions, quotas and request records. Postgres in production, an
//! in-memory store with the same behaviour in development. Never holds user text, model
//! output or reasoning. (Interface fixed; implementation lives in the sibling files.)
mod address;
mod clock;
mod memory;
pub mod migrate;
mod pg;
mod reaper;
mod record;
mod status;
mod writer;

use crate::config::{QuotaSettings, RetentionSettings, Settings};
use crate::domain::{Category, Outcome, SessionId};
use chrono::{DateTime, Utc};

pub use clock::Clock;
pub use memory::MemoryStore;
pub use migrate::MigrateReport;
pub use pg::PgStore;
pub use reaper::{ReapReport, Reaper, ReaperHandle};
pub use status::{RequestCount, RowAge, SchemaStatus, StatusReport};
pub use writer::{MetadataWriter, WriterHandle};

#[derive(Debug, Clone, thiserror::Error)]
pub enum StoreError {
    #[error("database unavailable: {0}")]
    Unavailable(String),
    #[error("database query timed out")]
    Timeout,
    #[error("database schema is behind: at {current}, binary expects {expected}")]
    SchemaBehind { current: i32, expected: i32 },
}

/// One finished turn, as the `requests` table holds it: ids, times, categories, sizes.
#[derive(Debug, Clone)]
pub struct RequestRecord {
    pub request_id: String,
    pub session_id: Option<SessionId>,
    pub started_at: DateTime<Utc>,
    pub finished_at: DateTime<Utc>,
    pub outcome: Outcome,
    pub category: Option<Category>,
    pub http_status: u16,
    pub input_chars: u32,
    pub output_chars: u32,
    pub reasoning_ms: Option<u32>,
    pub expression_ms: Option<u32>,
    pub provider_status: Option<u16>,
    /// Streamed turns: milliseconds from admission to the first governed byte sent.
    pub first_byte_ms: Option<u32>,
}

/// What the http layer knows when a turn arrives.
#[derive(Debug, Clone)]
pub struct AdmissionRequest {
    /// The id the client sent, if it parsed.
    pub session_id: Option<SessionId>,
    /// The client address (peer, or from the trusted proxy header), already canonical
    /// (IPv4-mapped IPv6 folded to IPv4, IPv6 bucketed by /64). Stored only as a keyed hash.
    pub client_address: Option<String>,
    /// The verified user (Supabase `sub`), when the turn carries a valid token. Stored only
    /// as a keyed hash. A session continues only for the identity that created it: the same
    /// user, or anonymous for an anonymous session; any other turn gets a session of its own.
    pub user: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Admission {
    Admitted {
        session_id: SessionId,
        new_session: bool,
    },
    /// Over a quota: the turn is refused with category `quota` (HTTP 429).
    OverQuota { session_id: Option<SessionId> },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SchemaState {
    pub current: i32,
    pub expected: i32,
}

impl SchemaState {
    pub fn is_current(&self) -> bool {
        self.current >= self.expected
    }
}

/// The store behind the service: one of two backends, dispatched by `match` (no `dyn`).
/// One per process, behind an `Arc`: the variants' sizes do not matter.
#[allow(clippy::large_enum_variant)]
pub enum Store {
    Memory(MemoryStore),
    Postgres(PgStore),
}

impl Store {
    /// Postgres when `DATABASE_URL` is set, otherwise the in-memory store. Never connects:
    /// the pool connects lazily and readiness reports a database that is down. Fails only
    /// when the URL cannot be parsed (the error never contains the URL).
    pub fn from_settings(settings: &Settings) -> anyhow::Result<Store> {
        Ok(match &settings.database.url {
            Some(_) => Store::Postgres(PgStore::connect(
                &settings.database,
                &settings.retention,
                &settings.quota,
            )?),
            None => Store::memory(&settings.retention, &settings.quota),
        })
    }

    /// The development store, with the same quota and TTL behaviour as Postgres.
    pub fn memory(retention: &RetentionSettings, quota: &QuotaSettings) -> Store {
        Store::Memory(MemoryStore::new(retention, quota))
    }

    pub fn backend_name(&self) -> &'static str {
        match self {
            Store::Memory(_) => "memory",
            Store::Postgres(_) => "postgres",
        }
    }

    /// Readiness probe: the store answers, and reports its schema version.
    pub async fn ping(&self) -> Result<SchemaState, StoreError> {
        match self {
            Store::Memory(store) => Ok(store.ping()),
            Store::Postgres(store) => store.ping().await,
        }
    }

    /// Find or create the session and count this turn against the session's, the user's and
    /// the address's quotas, atomically: a refused turn counts against none of them.
    pub async fn admit(&self, request: AdmissionRequest) -> Result<Admission, StoreError> {
        match self {
            Store::Memory(store) => Ok(store.admit(request)),
            Store::Postgres(store) => store.admit(request).await,
        }
    }

    /// Insert finished turns. Rows that could never satisfy the schema's CHECKs (see
    /// [`RequestRecord::is_storable`]) are skipped with a warning, so one bad row cannot
    /// wedge the writer. Inserting the same row twice is a no-op.
    pub async fn insert_requests(&self, rows: &[RequestRecord]) -> Result<(), StoreError> {
        self.insert_requests_within(rows, std::time::Duration::MAX)
            .await
    }

    /// [`Store::insert_requests`] bounded by `timeout` as well as the query timeout. A
    /// Postgres connection that ran out of time is closed rather than pooled, so whoever
    /// comes next (the writer's final drop report) is not queued behind the stuck statement.
    pub async fn insert_requests_within(
        &self,
        rows: &[RequestRecord],
        timeout: std::time::Duration,
    ) -> Result<(), StoreError> {
        match self {
            Store::Memory(store) => {
                store.insert_requests(rows);
                Ok(())
            }
            Store::Postgres(store) => store.insert_requests(rows, timeout).await,
        }
    }

    /// Record a writer's running total of dropped rows, so `status` can report drops from
    /// every replica.
    pub async fn record_dropped(&self, writer_id: &str, dropped: u64) -> Result<(), StoreError> {
        match self {
            Store::Memory(store) => {
                store.record_dropped(writer_id, dropped);
                Ok(())
            }
            Store::Postgres(store) => store.record_dropped(writer_id, dropped).await,
        }
    }

    /// Apply pending migrations (Postgres); a no-op for the memory store.
    pub async fn migrate(&self) -> anyhow::Result<MigrateReport> {
        match self {
            Store::Memory(_) => Ok(MigrateReport::memory()),
            Store::Postgres(store) => store.migrate().await,
        }
    }

    /// Delete expired rows once, in small batches, if no other replica is reaping.
    pub async fn reap_once(&self) -> Result<ReapReport, StoreError> {
        match self {
            Store::Memory(store) => Ok(store.reap_once()),
            Store::Postgres(store) => store.reap_once().await,
        }
    }

    /// What the store holds, for operators, including the rows writers reported dropping
    /// (within the request TTL).
    pub async fn status(&self) -> Result<StatusReport, StoreError> {
        match self {
            Store::Memory(store) => Ok(store.status()),
            Store::Postgres(store) => store.status().await,
        }
    }
}

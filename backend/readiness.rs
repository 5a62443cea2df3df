//! Readiness: config complete, metadata store reachable with a current schema, not shutting
//! down. The store is checked in the background about once a second with a short timeout,
//! so probes read a cached answer and never hammer the database.
use crate::store::{SchemaState, Store};
use serde::Serialize;
use std::sync::atomic::{AtomicBool, AtomicU8, Ordering};
use std::sync::Arc;
use std::time::Duration;

const PENDING: u8 = 0;
const OK: u8 = 1;
const UNREACHABLE: u8 = 2;
const SCHEMA_BEHIND: u8 = 3;

pub struct Readiness {
    config_problems: Vec<String>,
    database: AtomicU8,
    /// With AUTH_MODE on: PENDING until the signing keys are first fetched, then OK.
    /// With auth off: OK from the start (reported as "off").
    auth: AtomicU8,
    auth_on: AtomicBool,
    shutting_down: AtomicBool,
    shutdown_started: std::sync::OnceLock<std::time::Instant>,
}

#[derive(Debug, Serialize)]
pub struct ReadinessReport {
    pub ready: bool,
    pub checks: Checks,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub problems: Vec<String>,
}

#[derive(Debug, Serialize)]
pub struct Checks {
    pub config: &'static str,
    pub database: &'static str,
    /// "off", "pending" (signing keys not fetched yet) or "ok".
    pub auth: &'static str,
    pub shutdown: &'static str,
}

impl Readiness {
    pub fn new(config_problems: Vec<String>) -> Self {
        Readiness {
            config_problems,
            database: AtomicU8::new(PENDING),
            auth: AtomicU8::new(OK),
            auth_on: AtomicBool::new(false),
            shutting_down: AtomicBool::new(false),
            shutdown_started: std::sync::OnceLock::new(),
        }
    }

    pub fn begin_shutdown(&self) {
        self.shutdown_started.get_or_init(std::time::Instant::now);
        self.shutting_down.store(true, Ordering::SeqCst);
    }

    /// How long ago shutdown began (zero if it has not).
    pub fn since_shutdown_began(&self) -> Duration {
        self.shutdown_started
            .get()
            .map_or(Duration::ZERO, |started| started.elapsed())
    }

    pub fn config_ok(&self) -> bool {
        self.config_problems.is_empty()
    }

    pub fn is_shutting_down(&self) -> bool {
        self.shutting_down.load(Ordering::SeqCst)
    }

    pub fn database_ok(&self) -> bool {
        self.database.load(Ordering::Acquire) == OK
    }

    pub fn is_ready(&self) -> bool {
        self.config_ok() && self.database_ok() && self.auth_ok() && !self.is_shutting_down()
    }

    /// Auth is on: not ready until the signing keys are first fetched.
    pub fn await_auth_keys(&self) {
        self.auth_on.store(true, Ordering::SeqCst);
        self.auth.store(PENDING, Ordering::Release);
    }

    /// The signing keys were fetched (later failures keep the last good keys).
    pub fn auth_keys_loaded(&self) {
        if self.auth.swap(OK, Ordering::AcqRel) != OK {
            tracing::info!(check = "auth", state = "ok", "readiness changed");
        }
    }

    fn auth_ok(&self) -> bool {
        self.auth.load(Ordering::Acquire) == OK
    }

    pub fn report(&self) -> ReadinessReport {
        let database = match self.database.load(Ordering::Acquire) {
            OK => "ok",
            UNREACHABLE => "unreachable",
            SCHEMA_BEHIND => "schema_behind",
            _ => "pending",
        };
        ReadinessReport {
            ready: self.is_ready(),
            checks: Checks {
                config: if self.config_problems.is_empty() {
                    "ok"
                } else {
                    "problems"
                },
                database,
                auth: match (self.auth_on.load(Ordering::SeqCst), self.auth_ok()) {
                    (false, _) => "off",
                    (true, true) => "ok",
                    (true, false) => "pending",
                },
                shutdown: if self.is_shutting_down() {
                    "shutting_down"
                } else {
                    "ok"
                },
            },
            problems: self.config_problems.clone(),
        }
    }

    fn record(&self, result: Option<SchemaState>) {
        let state = match result {
            Some(schema) if schema.is_current() => OK,
            Some(_) => SCHEMA_BEHIND,
            None => UNREACHABLE,
        };
        let previous = self.database.swap(state, Ordering::AcqRel);
        if previous != state {
            match state {
                OK => tracing::info!(check = "database", state = "ok", "readiness changed"),
                SCHEMA_BEHIND => tracing::warn!(
                    check = "database",
                    state = "schema_behind",
                    "readiness changed"
                ),
                _ => tracing::warn!(
                    check = "database",
                    state = "unreachable",
                    "readiness changed"
                ),
            }
        }
    }

    /// Check the store about every `period` (the first check is the caller's, see
    /// [`Readiness::check_database`]) until the task is aborted.
    pub fn spawn_checker(
        self: &Arc<Self>,
        store: Arc<Store>,
        period: Duration,
        timeout: Duration,
    ) -> tokio::task::JoinHandle<()> {
        let readiness = Arc::clone(self);
        tokio::spawn(async move {
            let start = tokio::time::Instant::now() + period;
            let mut ticker = tokio::time::interval_at(start, period);
            ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                ticker.tick().await;
                readiness.check_database(&store, timeout).await;
            }
        })
    }

    /// One database check, within `timeout`. Run once before the server starts listening
    /// (so no request meets a database state nobody has checked yet), then by the checker.
    pub async fn check_database(&self, store: &Store, timeout: Duration) {
        let result = tokio::time::timeout(timeout, store.ping()).await;
        self.record(result.ok().and_then(Result::ok));
    }
}

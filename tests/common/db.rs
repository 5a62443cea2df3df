//! A real PostgreSQL database per test. `TestDatabase::create()` makes a fresh database
//! `gc_test_<uuid>` through the admin URL, migrates it, and drops it (best effort, with
//! FORCE) when the value is dropped, even if the test panicked.
//!
//! - `GC_TEST_DATABASE_URL`: admin URL where databases are created (plain connection),
//!   default `postgres://postgres@127.0.0.1:5432/postgres`.
//! - `GC_TEST_CONNECT_URL_TEMPLATE`: how the code under test connects, `{db}` standing for
//!   the database name, e.g. `postgres://postgres@127.0.0.1:6432/{db}` to go through
//!   pgbouncer. Default: the admin URL with its database replaced.
//!
//! Reuse from another test binary with `#[path = "../common/db.rs"] mod db;`.
#![allow(dead_code)]

use governed_chat::config::{
    DatabaseSettings, QuotaSettings, RetentionSettings, Settings, WriterSettings,
};
use governed_chat::store::{PgStore, Store};
use secrecy::SecretString;
use std::time::Duration;
use tokio_postgres::NoTls;

pub const ADMIN_URL_VAR: &str = "GC_TEST_DATABASE_URL";
pub const CONNECT_TEMPLATE_VAR: &str = "GC_TEST_CONNECT_URL_TEMPLATE";
const DEFAULT_ADMIN_URL: &str = "postgres://postgres@127.0.0.1:5432/postgres";

pub struct TestDatabase {
    name: String,
    admin_url: String,
    url: String,
}

impl TestDatabase {
    /// A fresh, migrated database.
    pub async fn create() -> TestDatabase {
        let db = TestDatabase::create_empty().await;
        let store = db.settings().store();
        store.migrate().await.expect("migrating the test database");
        db
    }

    /// A fresh database with no schema at all.
    pub async fn create_empty() -> TestDatabase {
        let admin_url =
            std::env::var(ADMIN_URL_VAR).unwrap_or_else(|_| DEFAULT_ADMIN_URL.to_owned());
        let name = format!("gc_test_{}", uuid::Uuid::new_v4().simple());
        let admin = connect(&admin_url).await;
        admin
            .batch_execute(&format!("CREATE DATABASE {name}"))
            .await
            .unwrap_or_else(|err| panic!("creating test database {name}: {err}"));
        let url = match std::env::var(CONNECT_TEMPLATE_VAR) {
            Ok(template) => template.replace("{db}", &name),
            Err(_) => with_database(&admin_url, &name),
        };
        TestDatabase {
            name,
            admin_url,
            url,
        }
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    /// How the code under test connects (through the template, e.g. via pgbouncer).
    pub fn url(&self) -> &str {
        &self.url
    }

    /// Straight to the server (the admin URL's host), bypassing any pooler.
    pub fn direct_url(&self) -> String {
        with_database(&self.admin_url, &self.name)
    }

    /// Sub-settings pointing at this database, with test-friendly defaults.
    pub fn settings(&self) -> TestSettings {
        TestSettings::new(&self.url)
    }

    /// A plain client through `url()`. Use `simple_query` / `query_typed` only: a named
    /// prepared statement does not survive a transaction-mode pooler.
    pub async fn client(&self) -> tokio_postgres::Client {
        connect(&self.url).await
    }

    /// A plain client straight to the server.
    pub async fn direct_client(&self) -> tokio_postgres::Client {
        connect(&self.direct_url()).await
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        let (admin_url, name) = (self.admin_url.clone(), self.name.clone());
        let (done, wait) = std::sync::mpsc::channel();
        // A thread with its own runtime: Drop cannot await, and the test's runtime may be
        // shutting down.
        std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build();
            if let Ok(runtime) = runtime {
                runtime.block_on(async {
                    if let Ok((client, connection)) =
                        tokio_postgres::connect(&admin_url, NoTls).await
                    {
                        tokio::spawn(connection);
                        let sql = format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)");
                        if let Err(err) = client.batch_execute(&sql).await {
                            eprintln!("could not drop test database {name}: {err}");
                        }
                    }
                });
            }
            let _ = done.send(());
        });
        let _ = wait.recv_timeout(Duration::from_secs(10));
    }
}

/// The sub-structs of `Settings` that the store reads.
#[derive(Clone)]
pub struct TestSettings {
    pub database: DatabaseSettings,
    pub retention: RetentionSettings,
    pub quota: QuotaSettings,
    pub writer: WriterSettings,
}

impl TestSettings {
    pub fn new(url: &str) -> TestSettings {
        TestSettings {
            database: DatabaseSettings {
                url: Some(SecretString::from(url.to_owned())),
                pool_size: 4,
                connect_timeout: Duration::from_secs(2),
                query_timeout: Duration::from_secs(5),
                migrate_on_start: false,
            },
            retention: RetentionSettings {
                session_ttl: Duration::from_secs(3600),
                request_ttl: Duration::from_secs(3600),
                reaper_interval: Duration::from_millis(200),
                reaper_batch_size: 100,
            },
            quota: QuotaSettings {
                per_minute: 20,
                per_day: 500,
                new_sessions_per_address_per_hour: 30,
                turns_per_address_per_hour: 1_000,
                user_per_minute: 30,
                user_per_day: 1_000,
                trusted_proxy_header: None,
                address_hash_key: SecretString::from("test-address-hash-key".to_owned()),
            },
            writer: WriterSettings {
                queue_capacity: 1_000,
                batch_size: 50,
                flush_interval: Duration::from_millis(50),
            },
        }
    }

    pub fn with_url(mut self, url: &str) -> TestSettings {
        self.database.url = Some(SecretString::from(url.to_owned()));
        self
    }

    pub fn with_quota(
        mut self,
        per_minute: u32,
        per_day: u32,
        new_sessions_per_address_per_hour: u32,
    ) -> TestSettings {
        self.quota.per_minute = per_minute;
        self.quota.per_day = per_day;
        self.quota.new_sessions_per_address_per_hour = new_sessions_per_address_per_hour;
        self
    }

    /// Per-address turns per hour and per-user quotas per minute and per day.
    pub fn with_turn_limits(
        mut self,
        turns_per_address_per_hour: u32,
        user_per_minute: u32,
        user_per_day: u32,
    ) -> TestSettings {
        self.quota.turns_per_address_per_hour = turns_per_address_per_hour;
        self.quota.user_per_minute = user_per_minute;
        self.quota.user_per_day = user_per_day;
        self
    }

    pub fn with_ttl(mut self, session_ttl: Duration, request_ttl: Duration) -> TestSettings {
        self.retention.session_ttl = session_ttl;
        self.retention.request_ttl = request_ttl;
        self
    }

    /// A Postgres store for these settings (the pool connects lazily).
    pub fn store(&self) -> Store {
        let store = PgStore::connect(&self.database, &self.retention, &self.quota)
            .expect("a valid test database URL");
        Store::Postgres(store)
    }

    /// The in-memory store for the same settings: the behaviour both stores promise.
    pub fn memory_store(&self) -> Store {
        Store::memory(&self.retention, &self.quota)
    }

    /// Point a full `Settings` (e.g. from `Settings::for_tests()`) at this database.
    pub fn apply_to(&self, settings: &mut Settings) {
        settings.database = self.database.clone();
        settings.retention = self.retention.clone();
        settings.quota = self.quota.clone();
        settings.writer = self.writer.clone();
    }
}

async fn connect(url: &str) -> tokio_postgres::Client {
    let (client, connection) = tokio_postgres::connect(url, NoTls)
        .await
        .unwrap_or_else(|err| panic!("connecting to the test PostgreSQL server: {err} (run scripts/provision-postgres.sh)"));
    tokio::spawn(connection);
    client
}

/// `url` with its database (path) replaced by `name`.
fn with_database(url: &str, name: &str) -> String {
    let mut parsed = url::Url::parse(url).expect("GC_TEST_DATABASE_URL is a URL");
    parsed.set_path(&format!("/{name}"));
    parsed.to_string()
}

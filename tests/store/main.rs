//! The store against real PostgreSQL, each test in its own fresh database. Run it directly
//! and a second time through pgbouncer in transaction mode (see scripts/provision-postgres.sh):
//!
//!   cargo test --test store
//!   GC_TEST_CONNECT_URL_TEMPLATE='postgres://postgres@127.0.0.1:6432/{db}' cargo test --test store
#[path = "../common/db.rs"]
mod db;

mod admission;
mod admission_groups;
mod connection;
mod id_checks;
mod migrations;
mod proxy;
mod quotas;
mod reaper;
mod refused_after_write;
mod schema;
mod status;
mod support;
mod writer;

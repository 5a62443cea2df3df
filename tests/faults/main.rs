//! Fault injection, black-box, over real loopback sockets: a misbehaving model provider
//! behind `POST /api/chat`, a database that goes away or stalls behind a lock, and the real
//! binary stopped mid-load or run three times against one database. Every fault must end
//! as a categorized JSON outcome within a bounded time, never a hang and never a 500.
//!
//!   cargo nextest run --test faults
//!
//! The database tests need the PostgreSQL server of scripts/provision-postgres.sh.
#[path = "../common/app.rs"]
mod app;
#[path = "../common/db.rs"]
mod db;
#[path = "../common/pg_cluster.rs"]
mod pg_cluster;
#[path = "../common/process.rs"]
mod process;
#[path = "../common/provider.rs"]
mod provider;
#[path = "../store/proxy.rs"]
mod proxy;
/// Raw TCP stubs (silence, bodies that never end), shared with the provider tests.
#[path = "../provider/support.rs"]
#[allow(dead_code)]
mod stub;
#[path = "../common/timing.rs"]
mod timing;

mod database_faults;
mod database_restart;
mod drain;
mod process_faults;
mod provider_actionable;
mod provider_faults;
mod support;

//! The Postgres store: a deadpool pool sized by config, every operation one short transaction
//! with `SET LOCAL statement_timeout` (admission: one function call with a `lock_timeout`)
//! and an outer `tokio::time::timeout`. Only unnamed
//! statements (`query_typed` / `execute_typed`) and simple queries are used, never named
//! prepared statements, so a transaction-mode pooler (pgbouncer, Supavisor) is safe.
mod admission_groups;
mod admission_pools;
mod admit;
mod connect;
mod error;
mod reap;
mod requests;
mod status;
mod tls;

use super::address::{AddressHasher, Identities};
use super::{migrate, MigrateReport, SchemaState, StoreError};
use super::{Admission, AdmissionRequest};
use crate::config::{DatabaseSettings, QuotaSettings, RetentionSettings};
use crate::domain::SessionId;
use anyhow::Context;
use deadpool_postgres::{Object, Pool};
use futures::future::BoxFuture;
use std::time::Duration;
use tokio_postgres::Transaction;

/// Migrations may rewrite tables: they get far more time than a hot-path query.
const MIGRATION_TIMEOUT: Duration = Duration::from_secs(300);

pub struct PgStore {
    /// Background work: writer, reaper, readiness, migrations.
    pool: Pool,
    /// Turn admission, over each thread's own connections.
    admission: admission_pools::AdmissionPools,
    query_timeout: Duration,
    session_ttl: Duration,
    request_ttl: Duration,
    reaper_batch_size: i64,
    hasher: AddressHasher,
}

impl PgStore {
    /// Build the pool without connecting (connections are made on first use), so a database
    /// that is down at start shows up in readiness, not as a crash. Fails only when
    /// `database.url` is missing or cannot be parsed; the error never contains the URL.
    pub fn connect(
        database: &DatabaseSettings,
        retention: &RetentionSettings,
        quota: &QuotaSettings,
    ) -> anyhow::Result<PgStore> {
        let url = database.url.as_ref().context("DATABASE_URL is not set")?;
        let factory = connect::PoolFactory::new(url, database)?;
        Ok(PgStore {
            pool: factory.shared()?,
            admission: admission_pools::AdmissionPools::new(
                factory,
                admit::Terms::new(retention.session_ttl, quota, database.query_timeout),
            ),
            query_timeout: database.query_timeout,
            session_ttl: retention.session_ttl,
            request_ttl: retention.request_ttl,
            reaper_batch_size: retention.reaper_batch_size.max(1),
            hasher: AddressHasher::new(&quota.address_hash_key),
        })
    }

    /// The shared connection pool (background work), for diagnostics and tests. Use unnamed
    /// statements only.
    pub fn pool(&self) -> &Pool {
        &self.pool
    }

    /// Admits a turn: one call of `gc_admit`, or one call for the turns of this thread that
    /// arrived together (`admission_groups.rs`).
    pub(crate) async fn admit(&self, request: AdmissionRequest) -> Result<Admission, StoreError> {
        let Identities { address, user } = self.hasher.identities(&request);
        let ask = admit::Ask {
            sent: request.session_id,
            fresh: SessionId::generate(),
            address,
            user,
        };
        self.admission.admit(ask).await
    }

    /// A connection of the calling thread's admission pool, for diagnostics and tests.
    pub async fn admission_connection(&self) -> Result<Object, StoreError> {
        self.admission.client().await
    }

    pub(crate) async fn ping(&self) -> Result<SchemaState, StoreError> {
        let current = self
            .transact(self.query_timeout, |tx| {
                Box::pin(async move {
                    let row = tx
                        .query_typed_one("SELECT to_regclass('schema_migrations') IS NOT NULL", &[])
                        .await?;
                    if !row.try_get::<_, bool>(0)? {
                        return Ok(0);
                    }
                    let row = tx
                        .query_typed_one(
                            "SELECT coalesce(max(version), 0) FROM schema_migrations",
                            &[],
                        )
                        .await?;
                    row.try_get::<_, i32>(0)
                })
            })
            .await?;
        Ok(SchemaState {
            current,
            expected: migrate::expected_version(),
        })
    }

    pub(crate) async fn migrate(&self) -> anyhow::Result<MigrateReport> {
        let mut client = self
            .client()
            .await
            .context("connecting to run migrations")?;
        let outcome = tokio::time::timeout(
            MIGRATION_TIMEOUT,
            migrate::run(&mut client, MIGRATION_TIMEOUT),
        )
        .await;
        match outcome {
            Ok(report) => report,
            Err(_) => {
                discard(client);
                anyhow::bail!("migrations did not finish within {MIGRATION_TIMEOUT:?}")
            }
        }
    }

    /// A pooled connection, or why there is none.
    async fn client(&self) -> Result<Object, StoreError> {
        self.pool.get().await.map_err(error::from_pool)
    }

    /// Run `work` in one transaction with `statement_timeout` set locally (works through a
    /// transaction-mode pooler), bounded as a whole by `timeout`. A connection whose work
    /// timed out, or was abandoned by its caller mid-way, is closed rather than returned to
    /// the pool (the next caller would queue behind the unfinished statement).
    async fn transact<T, F>(&self, timeout: Duration, work: F) -> Result<T, StoreError>
    where
        F: for<'t> FnOnce(&'t Transaction<'t>) -> BoxFuture<'t, Result<T, tokio_postgres::Error>>,
    {
        let mut checkout = Checkout(Some(self.client().await?));
        let Some(client) = checkout.0.as_mut() else {
            return Err(StoreError::Unavailable("no connection".into()));
        };
        let statement_timeout = format!(
            "SET LOCAL statement_timeout = {}",
            timeout.as_millis().max(1)
        );
        let outcome = tokio::time::timeout(timeout, async {
            let tx = client.transaction().await?;
            tx.batch_execute(&statement_timeout).await?;
            let value = work(&tx).await?;
            tx.commit().await?;
            Ok(value)
        })
        .await;
        match outcome {
            Ok(result) => {
                checkout.release();
                result.map_err(error::from_pg)
            }
            Err(_) => Err(StoreError::Timeout), // the checkout closes the connection
        }
    }
}

/// A pooled connection that goes back to the pool only when released: dropped unreleased
/// (timed out, or the caller's future was dropped mid-statement), it is closed.
struct Checkout(Option<Object>);

impl Checkout {
    fn release(&mut self) {
        drop(self.0.take());
    }
}

impl Drop for Checkout {
    fn drop(&mut self) {
        if let Some(client) = self.0.take() {
            discard(client);
        }
    }
}

/// Close a connection that may be mid-query instead of handing it to the next caller.
fn discard(client: Object) {
    drop(Object::take(client));
}

#[cfg(test)]
mod statement_guard;

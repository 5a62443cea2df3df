//! From DATABASE_URL to lazily connecting pools. The URL is parsed by the configuration
//! (`crate::config::DatabaseUrl`), so what `check-config` passes connects here.
//!
//! The shared pool opens every connection on the [`IoRuntime`], so its driver task outlives
//! the HTTP worker whose request happened to open it. Admission uses pools of each worker's
//! own instead (`admission_pools.rs`).
use super::tls;
use crate::config::{DatabaseSettings, DatabaseUrl};
use crate::io_runtime::IoRuntime;
use anyhow::{anyhow, Context};
use deadpool_postgres::{Connect, Manager, ManagerConfig, Pool, RecyclingMethod, Runtime};
use futures::future::BoxFuture;
use secrecy::{ExposeSecret, SecretString};
use tokio::task::JoinHandle;
use tokio_postgres::tls::MakeTlsConnect;
use tokio_postgres::Socket;
use tokio_postgres_rustls::MakeRustlsConnect;

/// The background tasks that may hold a connection at once: the writer, the reaper and a
/// readiness check.
const BACKGROUND_CONNECTIONS: usize = 3;

/// What every pool of this store is built from: the driver settings and the TLS connector.
#[derive(Clone)]
pub(super) struct PoolFactory {
    config: tokio_postgres::Config,
    tls: MakeRustlsConnect,
    pool_size: usize,
    wait: Option<std::time::Duration>,
}

impl PoolFactory {
    /// Fails only when the URL cannot be parsed or the TLS roots cannot be loaded; the error
    /// never contains the URL.
    pub(super) fn new(url: &SecretString, settings: &DatabaseSettings) -> anyhow::Result<Self> {
        let url = DatabaseUrl::parse(url.expose_secret())
            .map_err(|reason| anyhow!("DATABASE_URL {reason}"))?;
        let mut config = url.driver;
        config
            .connect_timeout(settings.connect_timeout)
            .keepalives(true)
            .ssl_mode(tls::driver_mode(url.sslmode));
        if config.get_application_name().is_none() {
            config.application_name("governed-chat");
        }
        Ok(PoolFactory {
            config,
            tls: tls::connector(url.sslmode, url.roots.as_ref())?,
            pool_size: settings.pool_size.max(1),
            wait: Some(settings.connect_timeout),
        })
    }

    /// The shared pool of background work (writer, reaper, readiness, migrations), at most
    /// [`BACKGROUND_CONNECTIONS`]: its connections open on the runtime this is called on (see
    /// [`IoRuntime::current`]), so they outlive any HTTP worker that happens to use one.
    pub(super) fn shared(&self) -> anyhow::Result<Pool> {
        let connector = OnIoRuntime {
            tls: self.tls.clone(),
            io: IoRuntime::current()?,
        };
        let manager = Manager::from_connect(self.config.clone(), connector, manager_config());
        self.build(manager, self.pool_size.min(BACKGROUND_CONNECTIONS))
    }

    /// A pool whose connections open, and are driven, on the runtime of whoever first
    /// checks one out: an HTTP worker's own pool (see `admission_pools.rs`).
    pub(super) fn local(&self, size: usize) -> anyhow::Result<Pool> {
        let manager = Manager::from_config(self.config.clone(), self.tls.clone(), manager_config());
        self.build(manager, size)
    }

    pub(super) fn pool_size(&self) -> usize {
        self.pool_size
    }

    fn build(&self, manager: Manager, size: usize) -> anyhow::Result<Pool> {
        Pool::builder(manager)
            .max_size(size.max(1))
            .wait_timeout(self.wait)
            .create_timeout(self.wait)
            .recycle_timeout(self.wait)
            .runtime(Runtime::Tokio1)
            .build()
            .context("building the database connection pool")
    }
}

/// `Fast`: a connection the driver saw close is replaced at checkout; `Verified` would add
/// a round trip to every turn to catch the rest, which fail once and are dropped.
fn manager_config() -> ManagerConfig {
    ManagerConfig {
        recycling_method: RecyclingMethod::Fast,
    }
}

/// The shared pool (see [`PoolFactory::shared`]).
#[cfg(test)]
pub(super) fn build_pool(url: &SecretString, settings: &DatabaseSettings) -> anyhow::Result<Pool> {
    PoolFactory::new(url, settings)?.shared()
}

/// Opens each connection, and spawns its driver task, on the I/O runtime.
struct OnIoRuntime<T> {
    tls: T,
    io: IoRuntime,
}

impl<T> Connect for OnIoRuntime<T>
where
    T: MakeTlsConnect<Socket> + Clone + Sync + Send + 'static,
    T::Stream: Sync + Send,
    T::TlsConnect: Sync + Send,
    <T::TlsConnect as tokio_postgres::tls::TlsConnect<Socket>>::Future: Send,
{
    fn connect(
        &self,
        config: &tokio_postgres::Config,
    ) -> BoxFuture<'_, Result<(tokio_postgres::Client, JoinHandle<()>), tokio_postgres::Error>>
    {
        let (config, tls) = (config.clone(), self.tls.clone());
        let open = async move {
            let (client, connection) = config.connect(tls).await?;
            // Spawned from inside the I/O runtime's task, so it runs there.
            let driver = tokio::spawn(async move {
                if let Err(error) = connection.await {
                    tracing::warn!(error = %error, "a database connection failed");
                }
            });
            Ok((client, driver))
        };
        Box::pin(async move {
            match self.io.run(open).await {
                Ok(opened) => opened,
                // The process is exiting: no new connection; the pool's create timeout ends
                // the wait (tokio-postgres offers no error value to return here).
                Err(_stopped) => std::future::pending().await,
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(url: &str) -> (SecretString, DatabaseSettings) {
        let database = DatabaseSettings {
            url: Some(SecretString::from(url.to_owned())),
            pool_size: 2,
            connect_timeout: std::time::Duration::from_millis(100),
            query_timeout: std::time::Duration::from_millis(100),
            migrate_on_start: false,
        };
        (SecretString::from(url.to_owned()), database)
    }

    #[tokio::test]
    async fn a_pool_is_built_without_a_reachable_database() {
        let (url, database) = settings("postgres://user:hunter2@127.0.0.1:1/none?sslmode=require");
        assert!(build_pool(&url, &database).is_ok());
    }

    #[tokio::test]
    async fn an_unparsable_url_is_an_error_that_does_not_repeat_the_url() {
        for bad in [
            "postgres://user:hunter2@db:notaport/app",
            "postgres://u:hunter2@db/app?sslmode=sometimes",
        ] {
            let (url, database) = settings(bad);
            let message = format!("{:#}", build_pool(&url, &database).expect_err("rejected"));
            assert!(
                !message.contains("hunter2") && !message.contains("db:"),
                "{message}"
            );
        }
    }
}

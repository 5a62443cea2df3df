//! From DATABASE_URL to a lazily connecting pool. The URL is parsed by the configuration
//! (`crate::config::DatabaseUrl`), so what `check-config` passes connects here.
//!
//! Every connection is opened on the [`IoRuntime`], so its driver task outlives the HTTP
//! worker whose turn happened to open it (the pool shares connections across workers).
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

/// Connections open on the runtime this is called on (see [`IoRuntime::current`]).
pub(super) fn build_pool(url: &SecretString, settings: &DatabaseSettings) -> anyhow::Result<Pool> {
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
    let connector = OnIoRuntime {
        tls: tls::connector(url.sslmode, url.roots.as_ref())?,
        io: IoRuntime::current()?,
    };
    let manager = Manager::from_connect(
        config,
        connector,
        // `Fast`: a connection the driver saw close is replaced at checkout; `Verified` would
        // add a round trip to every turn to catch the rest, which fail once and are dropped.
        ManagerConfig {
            recycling_method: RecyclingMethod::Fast,
        },
    );
    let wait = Some(settings.connect_timeout);
    Pool::builder(manager)
        .max_size(settings.pool_size.max(1))
        .wait_timeout(wait)
        .create_timeout(wait)
        .recycle_timeout(wait)
        .runtime(Runtime::Tokio1)
        .build()
        .context("building the database connection pool")
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

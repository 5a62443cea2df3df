//! From DATABASE_URL to a lazily connecting pool. `sslmode` is read here (libpq semantics,
//! including `verify-ca` / `verify-full`, which tokio-postgres does not parse itself) along
//! with `sslrootcert`; everything else is tokio-postgres's own URL / key=value syntax.
//!
//! Every connection is opened on the [`IoRuntime`], so its driver task outlives the HTTP
//! worker whose turn happened to open it (the pool shares connections across workers).
use super::tls::{self, TlsMode};
use crate::config::DatabaseSettings;
use crate::io_runtime::IoRuntime;
use anyhow::{anyhow, bail, Context};
use deadpool_postgres::{Connect, Manager, ManagerConfig, Pool, RecyclingMethod, Runtime};
use futures::future::BoxFuture;
use secrecy::{ExposeSecret, SecretString};
use tokio::task::JoinHandle;
use tokio_postgres::tls::MakeTlsConnect;
use tokio_postgres::Socket;

/// The parts of a connection string this module handles itself.
#[derive(Debug, PartialEq, Eq)]
pub(super) struct Extracted {
    pub(super) rest: String,
    pub(super) sslmode: Option<String>,
    pub(super) sslrootcert: Option<String>,
}

/// Connections open on the runtime this is called on (see [`IoRuntime::current`]).
pub(super) fn build_pool(url: &SecretString, settings: &DatabaseSettings) -> anyhow::Result<Pool> {
    let extracted = extract(url.expose_secret());
    let mode = TlsMode::parse(extracted.sslmode.as_deref())?;
    let mut config: tokio_postgres::Config =
        extracted
            .rest
            .parse()
            .map_err(|err: tokio_postgres::Error| {
                // Only the option-name errors are safe to repeat; others can echo URL characters.
                let detail = err.to_string();
                match detail.split_once("invalid configuration: ") {
                    Some((_, why))
                        if why.starts_with("invalid value for option")
                            || why.starts_with("unknown option") =>
                    {
                        anyhow!("DATABASE_URL is not a valid postgres connection string: {why}")
                    }
                    _ => anyhow!("DATABASE_URL is not a valid postgres connection string"),
                }
            })?;
    if config.get_hosts().is_empty() {
        bail!("DATABASE_URL names no host");
    }
    config
        .connect_timeout(settings.connect_timeout)
        .keepalives(true)
        .ssl_mode(mode.driver_mode());
    if config.get_application_name().is_none() {
        config.application_name("governed-chat");
    }
    let connector = OnIoRuntime {
        tls: tls::connector(mode, extracted.sslrootcert.as_deref())?,
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

/// Pull `sslmode` and `sslrootcert` out of a URL query or a key=value string.
pub(super) fn extract(raw: &str) -> Extracted {
    let mut extracted = Extracted {
        rest: String::new(),
        sslmode: None,
        sslrootcert: None,
    };
    let mut take = |pair: &str| -> bool {
        match pair.split_once('=') {
            Some(("sslmode", value)) => extracted.sslmode = Some(value.to_owned()),
            Some(("sslrootcert", value)) => extracted.sslrootcert = Some(value.to_owned()),
            _ => return false,
        }
        true
    };
    let rest = if raw.starts_with("postgres://") || raw.starts_with("postgresql://") {
        match raw.split_once('?') {
            Some((base, query)) => {
                let kept: Vec<&str> = query.split('&').filter(|pair| !take(pair)).collect();
                if kept.is_empty() {
                    base.to_owned()
                } else {
                    format!("{base}?{}", kept.join("&"))
                }
            }
            None => raw.to_owned(),
        }
    } else {
        let kept: Vec<&str> = raw.split_whitespace().filter(|pair| !take(pair)).collect();
        kept.join(" ")
    };
    extracted.rest = rest;
    extracted
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sslmode_and_sslrootcert_are_taken_out_of_a_url_query() {
        let got = extract(
            "postgres://u:p@db:5432/app?sslmode=verify-full&application_name=x&sslrootcert=/ca.pem",
        );
        assert_eq!(got.rest, "postgres://u:p@db:5432/app?application_name=x");
        assert_eq!(got.sslmode.as_deref(), Some("verify-full"));
        assert_eq!(got.sslrootcert.as_deref(), Some("/ca.pem"));
        assert_eq!(
            extract("postgresql://db/app?sslmode=require").rest,
            "postgresql://db/app"
        );
    }

    #[test]
    fn sslmode_is_taken_out_of_a_key_value_string() {
        let got = extract("host=db user=app sslmode=require dbname=app");
        assert_eq!(got.rest, "host=db user=app dbname=app");
        assert_eq!(got.sslmode.as_deref(), Some("require"));
    }

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

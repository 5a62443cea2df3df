//! Builds the whole application from settings: store, provider, governor, background tasks
//! and the HTTP server. Tests build it with port 0 and talk to it over real sockets.
use crate::auth::Authenticator;
use crate::capacity::TurnCapacity;
use crate::config::{AuthMode, LoadedConfig};
use crate::governor::{Governor, GovernorConfig};
use crate::http;
use crate::metrics::Metrics;
use crate::provider::Provider;
use crate::readiness::Readiness;
use crate::state::AppState;
use crate::store::MetadataWriter;
use crate::store::Reaper;
use crate::store::Store;
use actix_web::dev::{Server, ServerHandle};
use actix_web::{web, HttpServer};
use anyhow::Context;
use secrecy::{ExposeSecret, SecretString};
use std::net::{SocketAddr, TcpListener};
use std::sync::Arc;
use std::time::Duration;

const READINESS_PERIOD: Duration = Duration::from_secs(1);

pub struct Application {
    address: SocketAddr,
    server: Server,
    state: web::Data<AppState>,
    readiness_task: tokio::task::JoinHandle<()>,
    jwks_task: Option<tokio::task::JoinHandle<()>>,
}

/// Stops the application gracefully from elsewhere (a signal, a test).
#[derive(Clone)]
pub struct ShutdownHandle {
    server: ServerHandle,
    readiness: Arc<Readiness>,
}

impl ShutdownHandle {
    /// Readiness flips to 503 at once; in-flight requests finish (bounded by the shutdown
    /// timeout); then `run_until_stopped` flushes background tasks and returns.
    pub async fn shutdown(&self) {
        self.readiness.begin_shutdown();
        tracing::info!(
            event = "shutdown",
            "shutdown requested: draining in-flight requests"
        );
        self.server.stop(true).await;
    }
}

impl Application {
    pub async fn build(config: LoadedConfig) -> anyhow::Result<Self> {
        let settings = config.settings.clone();
        for problem in &config.problems {
            tracing::error!(
                target: crate::telemetry::ALWAYS_LOGGED,
                variable = %problem.variable,
                reason = %problem.reason,
                "configuration problem"
            );
        }
        // A DATABASE_URL the store cannot (or must not) connect with is a configuration
        // problem like a missing one: the service stays up, not ready, on the in-memory
        // stand-in, instead of exiting before anyone can ask /ready why.
        let store = if config.has_problem("DATABASE_URL") {
            Store::memory(&settings.retention, &settings.quota)
        } else {
            Store::from_settings(&settings).context("Failed to set up the metadata store")?
        };
        let store = Arc::new(store);
        if settings.database.migrate_on_start {
            store
                .migrate()
                .await
                .context("Failed to apply migrations on start")?;
        }
        let provider = Provider::from_settings(&settings.provider)
            .context("Failed to set up the model provider")?;
        let governor = Governor::new(GovernorConfig {
            max_message_chars: settings.limits.max_message_chars,
            max_message_bytes: settings.limits.max_message_bytes,
            max_reply_chars: settings.limits.max_reply_chars,
            link_allowlist: settings.limits.link_allowlist.clone(),
            secrets: all_secrets(&settings),
        });
        let readiness = Arc::new(Readiness::new(config.problem_variables()));
        let check_timeout = settings
            .database
            .connect_timeout
            .min(Duration::from_millis(900));
        readiness.check_database(&store, check_timeout).await;
        let readiness_task =
            readiness.spawn_checker(Arc::clone(&store), READINESS_PERIOD, check_timeout);
        let auth = Arc::new(Authenticator::from_settings(&settings));
        let jwks_task = start_key_refresher(&auth, &readiness, config.is_ready())?;
        let writer = MetadataWriter::spawn(Arc::clone(&store), &settings.writer);
        let reaper = Reaper::spawn(Arc::clone(&store), &settings.retention);

        let listener = bind(SocketAddr::new(settings.host, settings.port))
            .with_context(|| format!("Failed to bind {}:{}", settings.host, settings.port))?;
        let address = listener
            .local_addr()
            .context("Failed to read the bound address")?;
        let state = web::Data::new(AppState {
            settings: settings.clone(),
            governor,
            provider,
            store,
            writer,
            reaper,
            readiness,
            metrics: Metrics::new(),
            auth,
            capacity: TurnCapacity::new(settings.limits.max_concurrent_turns),
        });
        let app_state = state.clone();
        let server = HttpServer::new(move || http::app(app_state.clone()))
            .disable_signals()
            .shutdown_timeout(settings.shutdown_timeout.as_secs())
            .client_request_timeout(settings.limits.client_request_timeout)
            .listen(listener)
            .context("Failed to listen")?
            .run();
        tracing::info!(
            event = "listening",
            address = %address,
            environment = settings.environment.as_str(),
            store = state.store.backend_name(),
            ready_config = config.problems.is_empty(),
            "governed-chat listening"
        );
        Ok(Application {
            address,
            server,
            state,
            readiness_task,
            jwks_task,
        })
    }

    pub fn port(&self) -> u16 {
        self.address.port()
    }

    pub fn address(&self) -> SocketAddr {
        self.address
    }

    pub fn shutdown_handle(&self) -> ShutdownHandle {
        ShutdownHandle {
            server: self.server.handle(),
            readiness: Arc::clone(&self.state.readiness),
        }
    }

    /// Serve until SIGTERM/SIGINT (or a `ShutdownHandle`), then drain, flush and return.
    pub async fn run_until_stopped(self) -> anyhow::Result<()> {
        let handle = self.shutdown_handle();
        let signals = tokio::spawn(async move {
            wait_for_signal().await;
            handle.shutdown().await;
        });
        let served = self.server.await;
        signals.abort();
        self.readiness_task.abort();
        if let Some(task) = &self.jwks_task {
            task.abort();
        }
        // One budget for the whole shutdown: the metadata flush gets what the HTTP drain left
        // of SHUTDOWN_TIMEOUT_SECONDS (at least a second), so SIGKILL after the platform's
        // draining window (>= timeout + 1 s) never lands mid-flush.
        let budget = self.state.settings.shutdown_timeout;
        let left = budget.saturating_sub(self.state.readiness.since_shutdown_began());
        self.state.reaper.stop().await;
        self.state
            .writer
            .shutdown(left.max(Duration::from_secs(1)))
            .await;
        tracing::info!(
            event = "stopped",
            rows_written = self.state.writer.written(),
            rows_dropped = self.state.writer.dropped(),
            "governed-chat stopped"
        );
        served.context("The HTTP server failed")
    }
}

/// With auth on, readiness waits for the first JWKS fetch, which runs (with its refreshes)
/// on this, the main runtime. A config with problems fetches nothing: it serves no turns.
fn start_key_refresher(
    auth: &Arc<Authenticator>,
    readiness: &Arc<Readiness>,
    config_ok: bool,
) -> anyhow::Result<Option<tokio::task::JoinHandle<()>>> {
    if auth.mode() == AuthMode::Off {
        return Ok(None);
    }
    readiness.await_auth_keys();
    if !config_ok {
        return Ok(None);
    }
    let readiness = Arc::clone(readiness);
    let task = auth
        .spawn_refresher(move || readiness.auth_keys_loaded())
        .context("Failed to set up the JWKS client")?;
    Ok(Some(task))
}

/// Pending connections the kernel queues for the listener (actix's own default). The
/// standard library listens with 128: a burst of more new connections than that overflows
/// the queue, and the overflow's handshakes complete only after SYN-ACK retransmits, seconds
/// later.
const LISTEN_BACKLOG: u32 = 1024;

fn bind(address: SocketAddr) -> std::io::Result<TcpListener> {
    let socket = match address {
        SocketAddr::V4(_) => tokio::net::TcpSocket::new_v4()?,
        SocketAddr::V6(_) => tokio::net::TcpSocket::new_v6()?,
    };
    socket.set_reuseaddr(true)?;
    socket.bind(address)?;
    socket.listen(LISTEN_BACKLOG)?.into_std()
}

/// Every secret the process holds, so the output governor can redact each verbatim. URLs
/// count twice: whole, and the password inside them (a model could repeat just that part).
fn all_secrets(settings: &crate::config::Settings) -> Vec<SecretString> {
    let whole = [
        settings.provider.api_key.clone(),
        settings.database.url.clone(),
        settings.supabase.anon_key.clone(),
        settings.supabase.service_role_key.clone(),
        settings.metrics_token.clone(),
        settings.auth.jwt_secret.clone(),
        Some(settings.quota.address_hash_key.clone()),
        Some(settings.provider.base_url.clone()),
    ];
    let passwords: Vec<SecretString> = [
        settings.database.url.as_ref(),
        settings.supabase.url.as_ref(),
        Some(&settings.provider.base_url),
    ]
    .into_iter()
    .flatten()
    .flat_map(|url| url_passwords(url.expose_secret()))
    .collect();
    whole.into_iter().flatten().chain(passwords).collect()
}

/// The password of a URL, both as written (percent-encoded) and decoded.
fn url_passwords(raw: &str) -> Vec<SecretString> {
    let Some(encoded) = url::Url::parse(raw)
        .ok()
        .and_then(|url| url.password().map(str::to_owned))
    else {
        return Vec::new();
    };
    let decoded = percent_encoding::percent_decode_str(&encoded)
        .decode_utf8_lossy()
        .into_owned();
    let mut passwords = vec![SecretString::from(encoded.clone())];
    if decoded != encoded {
        passwords.push(SecretString::from(decoded));
    }
    passwords
}

async fn wait_for_signal() {
    use tokio::signal::unix::{signal, SignalKind};
    match (
        signal(SignalKind::terminate()),
        signal(SignalKind::interrupt()),
    ) {
        (Ok(mut term), Ok(mut int)) => {
            tokio::select! {
                _ = term.recv() => tracing::info!(event = "signal", signal = "SIGTERM", "signal received"),
                _ = int.recv() => tracing::info!(event = "signal", signal = "SIGINT", "signal received"),
            }
        }
        _ => {
            tracing::error!("could not install signal handlers; stop with a shutdown handle only");
            std::future::pending::<()>().await;
        }
    }
}

//! Typed settings. Each field's doc names the environment variable it comes from; every
//! key, URL with credentials and the database URL is a `SecretString` from load to use.
use secrecy::SecretString;
use std::net::IpAddr;
use std::time::Duration;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Environment {
    Development,
    Production,
}

impl Environment {
    pub fn as_str(self) -> &'static str {
        match self {
            Environment::Development => "development",
            Environment::Production => "production",
        }
    }
}

#[derive(Debug, Clone)]
pub struct Settings {
    /// `ENV`: development (default) or production. An unknown value is a problem and is
    /// treated as production, so a typo never relaxes a rule.
    pub environment: Environment,
    /// `HOST`: default 127.0.0.1 in development, 0.0.0.0 in production.
    pub host: IpAddr,
    /// `PORT`: default 8000.
    pub port: u16,
    /// `BACKEND_PUBLIC_BASE_URL`: the https URL clients reach us at (production).
    pub public_base_url: Option<url::Url>,
    pub cors: CorsSettings,
    pub supabase: SupabaseSettings,
    pub auth: AuthSettings,
    pub database: DatabaseSettings,
    pub provider: ProviderSettings,
    pub limits: LimitSettings,
    pub retention: RetentionSettings,
    pub quota: QuotaSettings,
    pub writer: WriterSettings,
    /// `LOG_LEVEL`: a tracing filter, default `info`.
    pub log_level: String,
    /// `SHUTDOWN_TIMEOUT_SECONDS`: how long in-flight requests may take to finish after
    /// SIGTERM, default 20.
    pub shutdown_timeout: Duration,
    /// `METRICS_TOKEN`: bearer token for `/metrics`. In production `/metrics` is off without it.
    pub metrics_token: Option<SecretString>,
}

#[derive(Debug, Clone)]
pub struct CorsSettings {
    /// `CORS_ORIGINS`: comma-separated exact origins (scheme://host[:port]). Empty in
    /// development means any `http://localhost:*` / `http://127.0.0.1:*`.
    pub origins: Vec<crate::config::Origin>,
}

#[derive(Debug, Clone, Default)]
pub struct SupabaseSettings {
    /// `SUPABASE_URL`
    pub url: Option<SecretString>,
    /// `SUPABASE_ANON_KEY`
    pub anon_key: Option<SecretString>,
    /// `SUPABASE_SERVICE_ROLE_KEY`
    pub service_role_key: Option<SecretString>,
}

/// Whether chat turns carry a verified Supabase user.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthMode {
    /// No token is read; every turn is anonymous.
    Off,
    /// A turn without a token is anonymous; a turn with one must carry a valid one.
    Optional,
    /// Every turn needs a valid token.
    Required,
}

impl AuthMode {
    pub fn as_str(self) -> &'static str {
        match self {
            AuthMode::Off => "off",
            AuthMode::Optional => "optional",
            AuthMode::Required => "required",
        }
    }
}

#[derive(Debug, Clone)]
pub struct AuthSettings {
    /// `AUTH_MODE`: off (default), optional or required. An unknown value is a problem and
    /// is treated as required, so a typo never lets a turn through unverified.
    pub mode: AuthMode,
    /// `SUPABASE_JWT_SECRET`: the project's legacy shared HS256 secret. Unset: HS256 tokens
    /// are refused and only the asymmetric keys of the project's JWKS verify tokens.
    pub jwt_secret: Option<SecretString>,
}

#[derive(Debug, Clone)]
pub struct DatabaseSettings {
    /// `DATABASE_URL`: a postgres:// URL. Unset in development means the in-memory store.
    pub url: Option<SecretString>,
    /// `DATABASE_POOL_SIZE`: default 8.
    pub pool_size: usize,
    /// `DATABASE_CONNECT_TIMEOUT_MS`: default 2000.
    pub connect_timeout: Duration,
    /// `DATABASE_QUERY_TIMEOUT_MS`: default 2000.
    pub query_timeout: Duration,
    /// `MIGRATE_ON_START`: apply pending migrations when the server starts, default false.
    pub migrate_on_start: bool,
}

#[derive(Debug, Clone)]
pub struct ProviderSettings {
    /// `MODEL_PROVIDER_API_KEY`: unset in development means the offline provider.
    pub api_key: Option<SecretString>,
    /// `MODEL_PROVIDER_BASE_URL`: default `https://api.openai.com/v1`.
    pub base_url: SecretString,
    /// `LLM_REASONING_MODEL`: default `gpt-4o-mini`.
    pub reasoning_model: String,
    /// `LLM_EXPRESSION_MODEL`: default `gpt-4o-mini`.
    pub expression_model: String,
    /// `PROVIDER_CONNECT_TIMEOUT_MS`: default 2000.
    pub connect_timeout: Duration,
    /// `PROVIDER_REQUEST_TIMEOUT_MS`: one upstream attempt, default 20000.
    pub request_timeout: Duration,
    /// `PROVIDER_MAX_RETRIES`: retries after the first attempt, default 2.
    pub max_retries: u32,
    /// `TURN_DEADLINE_MS`: the whole turn (both stages, all retries), default 45000.
    pub turn_deadline: Duration,
    /// `PROVIDER_MAX_RESPONSE_BYTES`: larger upstream bodies are a bad response, default 1 MiB.
    pub max_response_bytes: usize,
    /// `PROVIDER_MAX_TOKENS`: `max_tokens` sent per stage, default 1024.
    pub max_tokens: u32,
    /// `PROVIDER_BREAKER_FAILURES`: consecutive failed provider calls that open the circuit
    /// breaker, default 5; 0 disables it.
    pub breaker_failures: u32,
    /// `PROVIDER_BREAKER_COOLDOWN_MS`: how long an open breaker fails calls fast before it
    /// lets one probe through, default 30000.
    pub breaker_cooldown: Duration,
}

#[derive(Debug, Clone)]
pub struct LimitSettings {
    /// `MAX_MESSAGE_CHARS`: default 4000.
    pub max_message_chars: usize,
    /// `MAX_MESSAGE_BYTES`: default 16000.
    pub max_message_bytes: usize,
    /// `MAX_BODY_BYTES`: default 32768.
    pub max_body_bytes: usize,
    /// `MAX_REPLY_CHARS`: default 8000.
    pub max_reply_chars: usize,
    /// `LINK_ALLOWLIST`: comma-separated hosts that reply links may point to, default none.
    pub link_allowlist: Vec<String>,
    /// `REQUEST_READ_TIMEOUT_MS`: how long a client may take to send its request head and body,
    /// default 5000.
    pub client_request_timeout: Duration,
    /// `MAX_CONCURRENT_TURNS`: turns this replica lets reach the provider at once, default 64.
    /// A turn over the cap is aborted at once with category `capacity` (503), never queued.
    pub max_concurrent_turns: usize,
}

#[derive(Debug, Clone)]
pub struct RetentionSettings {
    /// `SESSION_TTL_SECONDS`: default 86400 (1 day).
    pub session_ttl: Duration,
    /// `REQUEST_TTL_SECONDS`: default 604800 (7 days).
    pub request_ttl: Duration,
    /// `REAPER_INTERVAL_SECONDS`: default 60.
    pub reaper_interval: Duration,
    /// `REAPER_BATCH_SIZE`: rows deleted per statement, default 500.
    pub reaper_batch_size: i64,
}

#[derive(Debug, Clone)]
pub struct QuotaSettings {
    /// `QUOTA_PER_MINUTE`: turns per session per minute, default 20.
    pub per_minute: u32,
    /// `QUOTA_PER_DAY`: turns per session per day, default 500.
    pub per_day: u32,
    /// `NEW_SESSIONS_PER_ADDRESS_PER_HOUR`: default 30, in a window of one hour whatever the
    /// session TTL.
    pub new_sessions_per_address_per_hour: u32,
    /// `TURNS_PER_ADDRESS_PER_HOUR`: admitted turns per client address per hour, across all
    /// of its sessions, default 1000.
    pub turns_per_address_per_hour: u32,
    /// `USER_QUOTA_PER_MINUTE`: turns per verified user per minute, across all of the user's
    /// sessions, default 30.
    pub user_per_minute: u32,
    /// `USER_QUOTA_PER_DAY`: turns per verified user per day, default 1000.
    pub user_per_day: u32,
    /// `TRUSTED_PROXY_HEADER`: header carrying the client address (e.g. `X-Forwarded-For`),
    /// only set when a trusted proxy overwrites it. Unset: the peer address is used.
    pub trusted_proxy_header: Option<String>,
    /// `ADDRESS_HASH_KEY`: key for hashing client addresses. Unset: a random per-process key
    /// (development only; production requires it so replicas agree).
    pub address_hash_key: SecretString,
}

#[derive(Debug, Clone)]
pub struct WriterSettings {
    /// `WRITER_QUEUE_CAPACITY`: rows held in memory while the database is slow or down,
    /// default 10000.
    pub queue_capacity: usize,
    /// `WRITER_BATCH_SIZE`: default 16 (small batches keep each insert short; see docs/BENCHMARKS.md).
    pub batch_size: usize,
    /// `WRITER_FLUSH_INTERVAL_MS`: default 200.
    pub flush_interval: Duration,
}

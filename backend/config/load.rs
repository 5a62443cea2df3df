use super::settings::*;
use super::validate::validate;
use super::{log_filter, names, Environment, Origin, Problem, RawEnv};
use secrecy::SecretString;
use std::net::{IpAddr, Ipv4Addr};
use std::str::FromStr;
use std::time::Duration;

/// Variables a hosting platform sets in every deployment (Railway, Render, Fly.io, Heroku,
/// Cloud Run): with one of them present, development mode must be asked for explicitly.
const PLATFORM_MARKERS: [&str; 6] = [
    "RAILWAY_ENVIRONMENT",
    "RAILWAY_ENVIRONMENT_NAME",
    "RENDER",
    "FLY_APP_NAME",
    "DYNO",
    "K_SERVICE",
];

/// Settings plus every problem found while loading them. With any problem the service
/// still starts (so `/health` and `/ready` can say why) but is never ready.
#[derive(Debug, Clone)]
pub struct LoadedConfig {
    pub settings: Settings,
    pub problems: Vec<Problem>,
}

impl LoadedConfig {
    pub fn from_process_env() -> Self {
        Self::from_env(&RawEnv::from_process())
    }

    pub fn from_env(env: &RawEnv) -> Self {
        let mut reader = Reader {
            env,
            problems: Vec::new(),
        };
        let settings = reader.settings();
        let mut problems = reader.problems;
        problems.extend(validate(env, &settings));
        for name in env.names() {
            if let Some(meant) = names::probable_misspelling(name) {
                if env.get(meant).is_none() {
                    problems.push(Problem::new(
                        name,
                        format!("unknown variable; did you mean {meant}?"),
                    ));
                }
            }
        }
        LoadedConfig { settings, problems }
    }

    pub fn is_ready(&self) -> bool {
        self.problems.is_empty()
    }

    /// Whether `variable` has a problem.
    pub fn has_problem(&self, variable: &str) -> bool {
        self.problems.iter().any(|p| p.variable == variable)
    }

    /// The names of the variables with problems, for `/ready`.
    pub fn problem_variables(&self) -> Vec<String> {
        let mut names: Vec<String> = self.problems.iter().map(|p| p.variable.clone()).collect();
        names.sort_unstable();
        names.dedup();
        names
    }
}

/// Reads typed values, recording a problem (and falling back to the default) for each
/// value that does not parse, so one bad variable never hides the next.
struct Reader<'a> {
    env: &'a RawEnv,
    problems: Vec<Problem>,
}

impl Reader<'_> {
    fn problem(&mut self, name: &str, reason: impl Into<String>) {
        self.problems.push(Problem::new(name, reason));
    }

    fn text(&self, name: &str) -> Option<String> {
        self.env.get(name).map(str::to_owned)
    }

    fn text_or(&self, name: &str, default: &str) -> String {
        self.text(name).unwrap_or_else(|| default.to_owned())
    }

    fn secret(&self, name: &str) -> Option<SecretString> {
        self.env.get(name).map(SecretString::from)
    }

    fn number<T: FromStr + PartialOrd + Copy + std::fmt::Display>(
        &mut self,
        name: &str,
        default: T,
        min: T,
        max: T,
    ) -> T {
        let Some(raw) = self.env.get(name) else {
            return default;
        };
        match raw.parse::<T>() {
            Ok(value) if value >= min && value <= max => value,
            _ => {
                self.problem(name, format!("must be a whole number from {min} to {max}"));
                default
            }
        }
    }

    fn millis(&mut self, name: &str, default: u64, min: u64, max: u64) -> Duration {
        Duration::from_millis(self.number(name, default, min, max))
    }

    fn seconds(&mut self, name: &str, default: u64, min: u64, max: u64) -> Duration {
        Duration::from_secs(self.number(name, default, min, max))
    }

    fn flag(&mut self, name: &str, default: bool) -> bool {
        match self.env.get(name).map(str::to_ascii_lowercase).as_deref() {
            None => default,
            Some("true" | "1" | "yes") => true,
            Some("false" | "0" | "no") => false,
            Some(_) => {
                self.problem(name, "must be true or false");
                default
            }
        }
    }

    fn list(&self, name: &str) -> Vec<String> {
        self.env
            .get(name)
            .map(|raw| {
                raw.split(',')
                    .map(str::trim)
                    .filter(|s| !s.is_empty())
                    .map(str::to_owned)
                    .collect()
            })
            .unwrap_or_default()
    }

    fn environment(&mut self) -> Environment {
        match self.env.get("ENV").map(str::to_ascii_lowercase).as_deref() {
            // Development is the default on a workstation, never on a platform: there it must
            // be asked for, so a deploy that forgot ENV is named, not bound to loopback.
            None => match PLATFORM_MARKERS
                .iter()
                .find(|name| self.env.get(name).is_some())
            {
                Some(marker) => {
                    self.problem(
                        "ENV",
                        format!("is not set, but {marker} shows a deployment: set ENV=production (or ENV=development to run development mode there on purpose)"),
                    );
                    Environment::Production
                }
                None => Environment::Development,
            },
            Some("development") => Environment::Development,
            Some("production") => Environment::Production,
            Some(_) => {
                self.problem("ENV", "must be development or production");
                Environment::Production
            }
        }
    }

    fn auth_mode(&mut self) -> AuthMode {
        match self
            .env
            .get("AUTH_MODE")
            .map(str::to_ascii_lowercase)
            .as_deref()
        {
            None | Some("off") => AuthMode::Off,
            Some("optional") => AuthMode::Optional,
            Some("required") => AuthMode::Required,
            Some(_) => {
                self.problem("AUTH_MODE", "must be off, optional or required");
                AuthMode::Required
            }
        }
    }

    /// `LOG_LEVEL`, or `info` when it names nothing usable (so the problem itself is logged).
    fn log_level(&mut self) -> String {
        let filter = self.text_or("LOG_LEVEL", "info");
        match log_filter::problem(&filter) {
            None => filter,
            Some(reason) => {
                self.problem("LOG_LEVEL", reason);
                "info".to_owned()
            }
        }
    }

    fn settings(&mut self) -> Settings {
        let environment = self.environment();
        let default_host = match environment {
            Environment::Development => IpAddr::V4(Ipv4Addr::LOCALHOST),
            Environment::Production => IpAddr::V4(Ipv4Addr::UNSPECIFIED),
        };
        let host = match self.env.get("HOST") {
            None => default_host,
            Some(raw) => raw.parse().unwrap_or_else(|_| {
                self.problem("HOST", "must be an IP address such as 127.0.0.1 or 0.0.0.0");
                default_host
            }),
        };
        let public_base_url = self.env.get("BACKEND_PUBLIC_BASE_URL").and_then(|raw| {
            url::Url::parse(raw).ok().or_else(|| {
                self.problem("BACKEND_PUBLIC_BASE_URL", "is not a URL");
                None
            })
        });
        let mut origins = Vec::new();
        for entry in self.list("CORS_ORIGINS") {
            match Origin::parse(&entry) {
                Ok(origin) => origins.push(origin),
                Err(error) => self.problem("CORS_ORIGINS", format!("an entry {error}")),
            }
        }
        Settings {
            environment,
            host,
            port: self.number("PORT", 8000, 0, u16::MAX),
            public_base_url,
            cors: CorsSettings { origins },
            supabase: SupabaseSettings {
                url: self.secret("SUPABASE_URL"),
                anon_key: self.secret("SUPABASE_ANON_KEY"),
                service_role_key: self.secret("SUPABASE_SERVICE_ROLE_KEY"),
            },
            auth: AuthSettings {
                mode: self.auth_mode(),
                jwt_secret: self.secret("SUPABASE_JWT_SECRET"),
            },
            database: DatabaseSettings {
                url: self.secret("DATABASE_URL"),
                pool_size: self.number("DATABASE_POOL_SIZE", 8, 1, 256),
                connect_timeout: self.millis("DATABASE_CONNECT_TIMEOUT_MS", 2_000, 100, 60_000),
                query_timeout: self.millis("DATABASE_QUERY_TIMEOUT_MS", 2_000, 50, 60_000),
                migrate_on_start: self.flag("MIGRATE_ON_START", false),
            },
            provider: ProviderSettings {
                api_key: self.secret("MODEL_PROVIDER_API_KEY"),
                base_url: SecretString::from(
                    self.text_or("MODEL_PROVIDER_BASE_URL", "https://api.openai.com/v1"),
                ),
                reasoning_model: self.text_or("LLM_REASONING_MODEL", "gpt-4o-mini"),
                expression_model: self.text_or("LLM_EXPRESSION_MODEL", "gpt-4o-mini"),
                connect_timeout: self.millis("PROVIDER_CONNECT_TIMEOUT_MS", 2_000, 50, 60_000),
                request_timeout: self.millis("PROVIDER_REQUEST_TIMEOUT_MS", 20_000, 100, 600_000),
                max_retries: self.number("PROVIDER_MAX_RETRIES", 2, 0, 10),
                turn_deadline: self.millis("TURN_DEADLINE_MS", 45_000, 100, 600_000),
                max_response_bytes: self.number(
                    "PROVIDER_MAX_RESPONSE_BYTES",
                    1 << 20,
                    1_024,
                    64 << 20,
                ),
                max_tokens: self.number("PROVIDER_MAX_TOKENS", 1_024, 1, 128_000),
                breaker_failures: self.number("PROVIDER_BREAKER_FAILURES", 5, 0, 1_000),
                breaker_cooldown: self.millis(
                    "PROVIDER_BREAKER_COOLDOWN_MS",
                    30_000,
                    100,
                    3_600_000,
                ),
            },
            limits: LimitSettings {
                max_message_chars: self.number("MAX_MESSAGE_CHARS", 4_000, 1, 1_000_000),
                max_message_bytes: self.number("MAX_MESSAGE_BYTES", 16_000, 4, 4_000_000),
                max_body_bytes: self.number("MAX_BODY_BYTES", 32_768, 64, 16 << 20),
                max_reply_chars: self.number("MAX_REPLY_CHARS", 8_000, 16, 1_000_000),
                link_allowlist: self
                    .list("LINK_ALLOWLIST")
                    .into_iter()
                    .map(|h| h.to_ascii_lowercase())
                    .collect(),
                client_request_timeout: self.millis("REQUEST_READ_TIMEOUT_MS", 5_000, 100, 120_000),
                max_concurrent_turns: self.number("MAX_CONCURRENT_TURNS", 64, 1, 100_000),
            },
            retention: RetentionSettings {
                session_ttl: self.seconds("SESSION_TTL_SECONDS", 86_400, 1, 31_536_000),
                request_ttl: self.seconds("REQUEST_TTL_SECONDS", 604_800, 1, 31_536_000),
                reaper_interval: self.seconds("REAPER_INTERVAL_SECONDS", 60, 1, 86_400),
                reaper_batch_size: self.number("REAPER_BATCH_SIZE", 500, 1, 100_000),
            },
            quota: QuotaSettings {
                per_minute: self.number("QUOTA_PER_MINUTE", 20, 1, 1_000_000),
                per_day: self.number("QUOTA_PER_DAY", 500, 1, 100_000_000),
                new_sessions_per_address_per_hour: self.number(
                    "NEW_SESSIONS_PER_ADDRESS_PER_HOUR",
                    30,
                    1,
                    1_000_000,
                ),
                turns_per_address_per_hour: self.number(
                    "TURNS_PER_ADDRESS_PER_HOUR",
                    1_000,
                    1,
                    100_000_000,
                ),
                user_per_minute: self.number("USER_QUOTA_PER_MINUTE", 30, 1, 1_000_000),
                user_per_day: self.number("USER_QUOTA_PER_DAY", 1_000, 1, 100_000_000),
                trusted_proxy_header: self.text("TRUSTED_PROXY_HEADER"),
                address_hash_key: self.secret("ADDRESS_HASH_KEY").unwrap_or_else(random_key),
            },
            writer: WriterSettings {
                queue_capacity: self.number("WRITER_QUEUE_CAPACITY", 10_000, 1, 10_000_000),
                batch_size: self.number("WRITER_BATCH_SIZE", 16, 1, 10_000),
                flush_interval: self.millis("WRITER_FLUSH_INTERVAL_MS", 200, 1, 60_000),
            },
            log_level: self.log_level(),
            shutdown_timeout: self.seconds("SHUTDOWN_TIMEOUT_SECONDS", 20, 1, 3_600),
            metrics_token: self.secret("METRICS_TOKEN"),
        }
    }
}

fn random_key() -> SecretString {
    use rand::RngCore;
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    SecretString::from(hex::encode(bytes))
}

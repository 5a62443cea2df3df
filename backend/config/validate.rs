//! Cross-field rules. Production rules make a deploy that forgot something not ready,
//! instead of half-open.
use super::{Environment, Problem, RawEnv, Settings};
use secrecy::ExposeSecret;

pub fn validate(env: &RawEnv, settings: &Settings) -> Vec<Problem> {
    let mut problems = super::auth::validate(settings);
    let mut problem = |name: &str, reason: &str| problems.push(Problem::new(name, reason));

    if tracing_subscriber::EnvFilter::try_new(&settings.log_level).is_err() {
        problem(
            "LOG_LEVEL",
            "is not a valid level or filter (e.g. info, debug, governed_chat=debug)",
        );
    }
    if !is_http_url(settings.provider.base_url.expose_secret()) {
        problem("MODEL_PROVIDER_BASE_URL", "must be an http(s) URL");
    }
    if let Some(header) = &settings.quota.trusted_proxy_header {
        if actix_web::http::header::HeaderName::try_from(header.as_str()).is_err() {
            problem("TRUSTED_PROXY_HEADER", "is not a valid header name");
        }
    }
    if settings.environment != Environment::Production {
        return problems;
    }

    match &settings.public_base_url {
        Some(url) if url.scheme() == "https" => {}
        Some(_) => problem(
            "BACKEND_PUBLIC_BASE_URL",
            "must be an https URL in production",
        ),
        None if env.get("BACKEND_PUBLIC_BASE_URL").is_none() => {
            problem("BACKEND_PUBLIC_BASE_URL", "is required in production")
        }
        None => {} // unparsable: already reported
    }
    if env.get("CORS_ORIGINS").is_none() {
        problem(
            "CORS_ORIGINS",
            "is required in production (comma-separated https origins)",
        );
    } else if settings.cors.origins.iter().any(|o| !o.is_https()) {
        problem("CORS_ORIGINS", "every origin must be https in production");
    }
    match &settings.database.url {
        None => problem("DATABASE_URL", "is required in production"),
        Some(url) if !requires_tls(url.expose_secret()) => problem(
            "DATABASE_URL",
            "must ask for TLS in production (sslmode=require, verify-ca or verify-full) unless it is on loopback",
        ),
        Some(_) => {}
    }
    if settings.provider.api_key.is_none() {
        problem("MODEL_PROVIDER_API_KEY", "is required in production");
    }
    if !settings
        .provider
        .base_url
        .expose_secret()
        .starts_with("https://")
    {
        problem("MODEL_PROVIDER_BASE_URL", "must be https in production");
    }
    if let Some(url) = &settings.supabase.url {
        if !url.expose_secret().starts_with("https://") {
            problem("SUPABASE_URL", "must be https in production");
        }
    }
    if env.get("ADDRESS_HASH_KEY").is_none() {
        problem(
            "ADDRESS_HASH_KEY",
            "is required in production so replicas hash client addresses alike",
        );
    }
    problems
}

/// A production database connection must be encrypted; a database on the same host
/// (loopback) is the one exception.
fn requires_tls(raw: &str) -> bool {
    let asks_for_tls = [
        "sslmode=require",
        "sslmode=verify-ca",
        "sslmode=verify-full",
    ]
    .iter()
    .any(|mode| raw.contains(mode));
    let loopback = url::Url::parse(raw)
        .ok()
        .and_then(|u| u.host_str().map(str::to_owned))
        .is_some_and(|host| matches!(host.as_str(), "localhost" | "127.0.0.1" | "[::1]"));
    asks_for_tls || loopback
}

fn is_http_url(raw: &str) -> bool {
    url::Url::parse(raw).is_ok_and(|u| matches!(u.scheme(), "http" | "https") && u.host().is_some())
}

//! Cross-field rules. Production rules make a deploy that forgot something not ready,
//! instead of half-open.
use super::{DatabaseUrl, Environment, Problem, RawEnv, Settings};
use secrecy::ExposeSecret;

pub fn validate(env: &RawEnv, settings: &Settings) -> Vec<Problem> {
    let mut problems = super::auth::validate(settings);
    let mut problem = |name: &str, reason: &str| problems.push(Problem::new(name, reason));

    // Parsed as the store will connect with it: what passes here, the store can use.
    let database = settings
        .database
        .url
        .as_ref()
        .map(|url| DatabaseUrl::parse(url.expose_secret()));
    if let Some(Err(reason)) = &database {
        problem("DATABASE_URL", reason);
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
    match &database {
        None => problem("DATABASE_URL", "is required in production"),
        Some(Ok(url)) if !url.sslmode.always_encrypts() && !url.is_loopback() => problem(
            "DATABASE_URL",
            "must ask for TLS in production (sslmode=require, verify-ca or verify-full) unless it is on loopback",
        ),
        Some(_) => {} // fine, or unusable and already reported
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

fn is_http_url(raw: &str) -> bool {
    url::Url::parse(raw).is_ok_and(|u| matches!(u.scheme(), "http" | "https") && u.host().is_some())
}

//! Rules for verified users: with `AUTH_MODE` on, the project URL must name where the JWKS
//! lives, and a legacy HS256 secret must be long enough to be a secret.
use super::{AuthMode, Problem, Settings};
use secrecy::ExposeSecret;

/// Legacy Supabase JWT secrets are at least 32 characters; anything shorter is guessable.
const MIN_SECRET_CHARS: usize = 32;

pub fn validate(settings: &Settings) -> Vec<Problem> {
    let mut problems = Vec::new();
    if let Some(secret) = &settings.auth.jwt_secret {
        if secret.expose_secret().chars().count() < MIN_SECRET_CHARS {
            problems.push(Problem::new(
                "SUPABASE_JWT_SECRET",
                format!("must be at least {MIN_SECRET_CHARS} characters"),
            ));
        }
    }
    if settings.auth.mode == AuthMode::Off {
        return problems;
    }
    match &settings.supabase.url {
        None => problems.push(Problem::new(
            "SUPABASE_URL",
            "is required when AUTH_MODE is optional or required (its JWKS verifies user tokens)",
        )),
        Some(url) if !is_project_url(url.expose_secret()) => problems.push(Problem::new(
            "SUPABASE_URL",
            "must be the project's http(s) URL, e.g. https://<ref>.supabase.co, without credentials, query or fragment",
        )),
        Some(_) => {}
    }
    problems
}

/// A plain http(s) base URL: the JWKS URL and the token issuer are built from it.
fn is_project_url(raw: &str) -> bool {
    url::Url::parse(raw).is_ok_and(|url| {
        matches!(url.scheme(), "http" | "https")
            && url.host().is_some()
            && url.username().is_empty()
            && url.password().is_none()
            && url.query().is_none()
            && url.fragment().is_none()
    })
}

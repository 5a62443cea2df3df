//! Every environment variable the service reads. `env.example` documents the same list; a
//! unit test keeps the two in step, and misspelling detection compares against it.

pub const KNOWN: &[&str] = &[
    "ENV",
    "HOST",
    "PORT",
    "BACKEND_PUBLIC_BASE_URL",
    "CORS_ORIGINS",
    "SUPABASE_URL",
    "SUPABASE_ANON_KEY",
    "SUPABASE_SERVICE_ROLE_KEY",
    "SUPABASE_JWT_SECRET",
    "AUTH_MODE",
    "DATABASE_URL",
    "DATABASE_POOL_SIZE",
    "DATABASE_CONNECT_TIMEOUT_MS",
    "DATABASE_QUERY_TIMEOUT_MS",
    "MIGRATE_ON_START",
    "MODEL_PROVIDER_API_KEY",
    "MODEL_PROVIDER_BASE_URL",
    "LLM_REASONING_MODEL",
    "LLM_EXPRESSION_MODEL",
    "PROVIDER_CONNECT_TIMEOUT_MS",
    "PROVIDER_REQUEST_TIMEOUT_MS",
    "PROVIDER_MAX_RETRIES",
    "PROVIDER_MAX_RESPONSE_BYTES",
    "PROVIDER_MAX_TOKENS",
    "PROVIDER_BREAKER_FAILURES",
    "PROVIDER_BREAKER_COOLDOWN_MS",
    "TURN_DEADLINE_MS",
    "MAX_MESSAGE_CHARS",
    "MAX_MESSAGE_BYTES",
    "MAX_BODY_BYTES",
    "MAX_REPLY_CHARS",
    "LINK_ALLOWLIST",
    "REQUEST_READ_TIMEOUT_MS",
    "MAX_CONCURRENT_TURNS",
    "SESSION_TTL_SECONDS",
    "REQUEST_TTL_SECONDS",
    "REAPER_INTERVAL_SECONDS",
    "REAPER_BATCH_SIZE",
    "QUOTA_PER_MINUTE",
    "QUOTA_PER_DAY",
    "NEW_SESSIONS_PER_ADDRESS_PER_HOUR",
    "TURNS_PER_ADDRESS_PER_HOUR",
    "USER_QUOTA_PER_MINUTE",
    "USER_QUOTA_PER_DAY",
    "TRUSTED_PROXY_HEADER",
    "ADDRESS_HASH_KEY",
    "WRITER_QUEUE_CAPACITY",
    "WRITER_BATCH_SIZE",
    "WRITER_FLUSH_INTERVAL_MS",
    "LOG_LEVEL",
    "SHUTDOWN_TIMEOUT_SECONDS",
    "METRICS_TOKEN",
];

/// The known variable an unknown name was probably meant to be, if any. Short names and
/// distant ones are left alone, so `HOME` is never mistaken for `HOST`.
pub fn probable_misspelling(name: &str) -> Option<&'static str> {
    if KNOWN.contains(&name) || name.len() < 6 {
        return None;
    }
    let allowed = if name.len() < 10 { 1 } else { 2 };
    KNOWN
        .iter()
        .filter(|known| known.len() >= 6)
        .map(|known| (strsim::damerau_levenshtein(name, known), *known))
        .filter(|(distance, _)| *distance <= allowed)
        .min_by_key(|(distance, _)| *distance)
        .map(|(_, known)| known)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn near_misses_of_known_names_are_recognised() {
        assert_eq!(probable_misspelling("CORS_ORIGIN"), Some("CORS_ORIGINS"));
        assert_eq!(probable_misspelling("DATABASE_URI"), Some("DATABASE_URL"));
        assert_eq!(probable_misspelling("LOG_LEVLE"), Some("LOG_LEVEL"));
        assert_eq!(
            probable_misspelling("MODEL_PROVIDER_APIKEY"),
            Some("MODEL_PROVIDER_API_KEY")
        );
    }

    #[test]
    fn ordinary_process_variables_are_not_called_misspellings() {
        for name in [
            "HOME",
            "HOSTNAME",
            "PATH",
            "SHLVL",
            "TERM",
            "RUST_LOG",
            "RAILWAY_ENVIRONMENT",
            "CARGO_HOME",
        ] {
            assert_eq!(probable_misspelling(name), None, "{name}");
        }
    }

    #[test]
    fn env_example_documents_every_known_variable() {
        let example = include_str!("../../env.example");
        for name in KNOWN {
            assert!(
                example.contains(&format!("{name}=")),
                "env.example lacks {name}"
            );
        }
    }
}

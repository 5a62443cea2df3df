use super::*;
use secrecy::ExposeSecret;
use std::net::{IpAddr, Ipv4Addr};

pub(super) fn load(pairs: &[(&str, &str)]) -> LoadedConfig {
    LoadedConfig::from_env(&RawEnv::from_pairs(pairs.iter().copied()))
}

pub(super) fn variables(config: &LoadedConfig) -> Vec<&str> {
    config
        .problems
        .iter()
        .map(|p| p.variable.as_str())
        .collect()
}

const PRODUCTION: &[(&str, &str)] = &[
    ("ENV", "production"),
    ("BACKEND_PUBLIC_BASE_URL", "https://api.example.com"),
    (
        "CORS_ORIGINS",
        "https://app.example.com, https://www.example.com",
    ),
    (
        "DATABASE_URL",
        "postgres://u:p@db.example.com:6543/postgres?sslmode=require",
    ),
    ("MODEL_PROVIDER_API_KEY", "sk-live-0123456789"),
    ("ADDRESS_HASH_KEY", "0123456789abcdef"),
];

pub(super) fn production_with(changes: &[(&str, Option<&str>)]) -> LoadedConfig {
    let mut env = RawEnv::from_pairs(PRODUCTION.iter().copied());
    for (name, value) in changes {
        match value {
            Some(value) => env.set(name, value),
            None => env.remove(name),
        }
    }
    LoadedConfig::from_env(&env)
}

#[test]
fn an_empty_environment_is_a_ready_development_config_bound_to_loopback() {
    let config = load(&[]);
    assert!(config.problems.is_empty(), "{:?}", config.problems);
    assert_eq!(config.settings.environment, Environment::Development);
    assert_eq!(config.settings.host, IpAddr::V4(Ipv4Addr::LOCALHOST));
    assert_eq!(config.settings.port, 8000);
    assert!(config.settings.database.url.is_none());
}

#[test]
fn a_complete_production_config_has_no_problems_and_binds_all_interfaces() {
    let config = load(PRODUCTION);
    assert!(config.problems.is_empty(), "{:?}", config.problems);
    assert_eq!(config.settings.host, IpAddr::V4(Ipv4Addr::UNSPECIFIED));
    assert_eq!(config.settings.cors.origins.len(), 2);
}

#[test]
fn production_reports_every_missing_required_variable_at_once() {
    let config = load(&[("ENV", "production")]);
    let names = variables(&config);
    for name in [
        "BACKEND_PUBLIC_BASE_URL",
        "CORS_ORIGINS",
        "DATABASE_URL",
        "MODEL_PROVIDER_API_KEY",
        "ADDRESS_HASH_KEY",
    ] {
        assert!(names.contains(&name), "{name} not reported in {names:?}");
    }
}

#[test]
fn production_rejects_plain_http_urls() {
    let config = production_with(&[
        ("BACKEND_PUBLIC_BASE_URL", Some("http://api.example.com")),
        ("MODEL_PROVIDER_BASE_URL", Some("http://llm.internal/v1")),
        ("SUPABASE_URL", Some("http://x.supabase.co")),
        ("CORS_ORIGINS", Some("http://app.example.com")),
    ]);
    let names = variables(&config);
    for name in [
        "BACKEND_PUBLIC_BASE_URL",
        "MODEL_PROVIDER_BASE_URL",
        "SUPABASE_URL",
        "CORS_ORIGINS",
    ] {
        assert!(names.contains(&name), "{name} not reported in {names:?}");
    }
}

#[test]
fn cors_wildcards_paths_and_lookalikes_are_problems() {
    for bad in [
        "*",
        "https://app.example.com/",
        "https://app.example.com/path",
        "https://*.example.com",
        "null",
    ] {
        let config = production_with(&[("CORS_ORIGINS", Some(bad))]);
        assert!(
            variables(&config).contains(&"CORS_ORIGINS"),
            "{bad} accepted"
        );
    }
}

#[test]
fn an_unknown_env_value_is_a_problem_and_is_treated_as_production() {
    let config = load(&[("ENV", "prod")]);
    assert!(variables(&config).contains(&"ENV"));
    assert_eq!(config.settings.environment, Environment::Production);
    assert!(variables(&config).contains(&"DATABASE_URL"));
}

#[test]
fn unparsable_numbers_are_problems_and_every_one_is_reported() {
    let config = load(&[
        ("PORT", "eighty"),
        ("QUOTA_PER_MINUTE", "-3"),
        ("SESSION_TTL_SECONDS", "0"),
        ("MIGRATE_ON_START", "maybe"),
    ]);
    let names = variables(&config);
    for name in [
        "PORT",
        "QUOTA_PER_MINUTE",
        "SESSION_TTL_SECONDS",
        "MIGRATE_ON_START",
    ] {
        assert!(names.contains(&name), "{name} not reported in {names:?}");
    }
}

#[test]
fn a_numeric_looking_secret_loads_as_the_exact_string() {
    let config = load(&[
        ("MODEL_PROVIDER_API_KEY", "000123456789"),
        ("METRICS_TOKEN", "0042"),
    ]);
    let key = config
        .settings
        .provider
        .api_key
        .as_ref()
        .map(|k| k.expose_secret().to_owned());
    assert_eq!(key.as_deref(), Some("000123456789"));
    assert_eq!(
        config
            .settings
            .metrics_token
            .as_ref()
            .map(|k| k.expose_secret()),
        Some("0042")
    );
}

#[test]
fn a_misspelled_variable_is_reported_with_the_name_it_probably_meant() {
    let config = production_with(&[
        ("CORS_ORIGINS", None),
        ("CORS_ORIGIN", Some("https://app.example.com")),
    ]);
    let problem = config
        .problems
        .iter()
        .find(|p| p.variable == "CORS_ORIGIN")
        .expect("reported");
    assert!(problem.reason.contains("CORS_ORIGINS"), "{problem}");
}

#[test]
fn problems_and_debug_output_never_contain_secret_values() {
    let secrets = [
        "sk-very-secret-value-1",
        "postgres://u:hunter2-secret@h/db",
        "service-role-secret-2",
        "metrics-secret-3",
    ];
    let config = load(&[
        ("ENV", "production"),
        ("MODEL_PROVIDER_API_KEY", secrets[0]),
        ("DATABASE_URL", secrets[1]),
        ("SUPABASE_SERVICE_ROLE_KEY", secrets[2]),
        ("METRICS_TOKEN", secrets[3]),
        ("SUPABASE_URL", "http://insecure.example.com"),
        ("PORT", "not-a-port"),
    ]);
    let printed = format!(
        "{config:?} {:?}",
        config
            .problems
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
    );
    for secret in secrets {
        assert!(!printed.contains(secret), "{secret} leaked");
    }
    assert!(
        !printed.contains("not-a-port"),
        "a value leaked into a problem"
    );
}

#[test]
fn production_requires_an_encrypted_database_connection_except_on_loopback() {
    let plain = production_with(&[(
        "DATABASE_URL",
        Some("postgres://u:p@db.example.com:6543/postgres"),
    )]);
    assert!(variables(&plain).contains(&"DATABASE_URL"));
    let loopback = production_with(&[(
        "DATABASE_URL",
        Some("postgres://u:p@127.0.0.1:5432/postgres"),
    )]);
    assert!(
        !variables(&loopback).contains(&"DATABASE_URL"),
        "{:?}",
        loopback.problems
    );
    let verified = production_with(&[(
        "DATABASE_URL",
        Some("postgres://u:p@db.example.com/postgres?sslmode=verify-full"),
    )]);
    assert!(verified.problems.is_empty(), "{:?}", verified.problems);
}

#[test]
fn ready_names_each_variable_once() {
    let config = load(&[
        ("ENV", "production"),
        ("MODEL_PROVIDER_BASE_URL", "ftp://x"),
    ]);
    let names = config.problem_variables();
    let mut unique = names.clone();
    unique.dedup();
    assert_eq!(
        names
            .iter()
            .filter(|n| *n == "MODEL_PROVIDER_BASE_URL")
            .count(),
        1,
        "{names:?}"
    );
    assert_eq!(names, unique);
}

/// The DATABASE_URLs the store cannot connect with, each with the value a leak would show.
const UNUSABLE_DATABASE_URLS: [&str; 4] = [
    "postgres://u:hunter2@db.example.com:6543/postgres?sslmode=required",
    "postgres://u:hunter2@db.example.com:sixfive/postgres?sslmode=require",
    "postgres://u:hunter2@db.example.com:6543/postgres?sslmode=verify-full&sslrootcert=/nonexistent/prod-ca-2021.crt",
    "postgres://u:hunter2@db.example.com:6543/postgres?sslmode=require&pgbouncer=true",
];

#[test]
fn a_database_url_the_store_cannot_use_is_a_problem_naming_it_in_every_environment() {
    for url in UNUSABLE_DATABASE_URLS {
        for config in [
            production_with(&[("DATABASE_URL", Some(url))]),
            load(&[("DATABASE_URL", url)]),
        ] {
            let problems: Vec<String> = config.problems.iter().map(ToString::to_string).collect();
            assert!(
                variables(&config).contains(&"DATABASE_URL"),
                "{url} accepted: {problems:?}"
            );
            for part in ["hunter2", "db.example.com", "nonexistent", "sixfive"] {
                assert!(
                    problems.iter().all(|p| !p.contains(part)),
                    "{problems:?} repeats {part}"
                );
            }
        }
    }
}

#[test]
fn production_judges_tls_on_the_parsed_sslmode_not_on_text_in_the_url() {
    let config = production_with(&[(
        "DATABASE_URL",
        Some("postgres://u:p@db.example.com:6543/postgres?sslmode=prefer&application_name=sslmode=require"),
    )]);
    let problem = config
        .problems
        .iter()
        .find(|p| p.variable == "DATABASE_URL")
        .expect("the effective sslmode prefer is reported");
    assert!(problem.reason.contains("TLS"), "{problem}");
}

#[test]
fn a_log_level_that_names_no_level_or_known_target_is_a_problem_and_info_is_used() {
    for bad in ["warnn", "governed_chat=loud"] {
        let config = load(&[("LOG_LEVEL", bad)]);
        assert_eq!(variables(&config), ["LOG_LEVEL"], "{bad}");
        assert_eq!(config.settings.log_level, "info");
    }
    let config = load(&[("LOG_LEVEL", "governed_chat=debug,actix_web=warn")]);
    assert!(config.problems.is_empty(), "{:?}", config.problems);
    assert_eq!(
        config.settings.log_level,
        "governed_chat=debug,actix_web=warn"
    );
}

#[test]
fn on_a_platform_development_mode_must_be_asked_for_explicitly() {
    let forgotten = load(&[("RAILWAY_ENVIRONMENT", "production")]);
    let problem = forgotten
        .problems
        .iter()
        .find(|p| p.variable == "ENV")
        .expect("a deploy without ENV is a problem");
    assert!(problem.reason.contains("RAILWAY_ENVIRONMENT"), "{problem}");
    assert_eq!(forgotten.settings.environment, Environment::Production);
    assert_eq!(forgotten.settings.host, IpAddr::V4(Ipv4Addr::UNSPECIFIED));

    let asked = load(&[("RAILWAY_ENVIRONMENT", "staging"), ("ENV", "development")]);
    assert!(asked.problems.is_empty(), "{:?}", asked.problems);
    assert_eq!(asked.settings.environment, Environment::Development);
}

//! Configuration of verified users (`AUTH_MODE`, `SUPABASE_URL`, `SUPABASE_JWT_SECRET`) and
//! of the concurrent turn cap.
use super::tests::{load, production_with, variables};
use super::*;

#[test]
fn auth_is_off_by_default_and_needs_nothing_from_supabase() {
    let config = load(&[]);
    assert_eq!(config.settings.auth.mode, AuthMode::Off);
    assert!(config.settings.auth.jwt_secret.is_none());
    assert_eq!(config.settings.limits.max_concurrent_turns, 64);
}

#[test]
fn an_unknown_auth_mode_is_a_problem_and_is_treated_as_required() {
    let config = load(&[
        ("AUTH_MODE", "on"),
        ("SUPABASE_URL", "http://127.0.0.1:54321"),
    ]);
    assert_eq!(variables(&config), vec!["AUTH_MODE"]);
    assert_eq!(config.settings.auth.mode, AuthMode::Required);
}

#[test]
fn auth_needs_the_project_url_in_every_environment() {
    for mode in ["optional", "required"] {
        let config = load(&[("AUTH_MODE", mode)]);
        assert_eq!(variables(&config), vec!["SUPABASE_URL"], "{mode}");
        let config = production_with(&[("AUTH_MODE", Some(mode))]);
        assert_eq!(variables(&config), vec!["SUPABASE_URL"], "{mode}");
    }
}

#[test]
fn development_auth_accepts_a_local_http_project_and_production_insists_on_https() {
    let config = load(&[
        ("AUTH_MODE", "required"),
        ("SUPABASE_URL", "http://127.0.0.1:54321"),
    ]);
    assert!(config.problems.is_empty(), "{:?}", config.problems);
    let config = production_with(&[
        ("AUTH_MODE", Some("required")),
        ("SUPABASE_URL", Some("http://abc.supabase.co")),
    ]);
    assert_eq!(variables(&config), vec!["SUPABASE_URL"]);
    let config = production_with(&[
        ("AUTH_MODE", Some("optional")),
        ("SUPABASE_URL", Some("https://abc.supabase.co")),
    ]);
    assert!(config.problems.is_empty(), "{:?}", config.problems);
}

#[test]
fn a_project_url_with_credentials_or_a_query_is_a_problem_named_without_its_value() {
    for bad in [
        "abc.supabase.co",
        "ftp://abc.supabase.co",
        "https://user:hunter2@abc.supabase.co",
        "https://abc.supabase.co/?x=1",
    ] {
        let config = load(&[("AUTH_MODE", "required"), ("SUPABASE_URL", bad)]);
        assert_eq!(variables(&config), vec!["SUPABASE_URL"], "{bad}");
        assert!(!config.problems[0].reason.contains("hunter2"));
    }
}

#[test]
fn a_short_legacy_jwt_secret_is_a_problem() {
    let config = load(&[("SUPABASE_JWT_SECRET", "too-short")]);
    assert_eq!(variables(&config), vec!["SUPABASE_JWT_SECRET"]);
    let config = load(&[(
        "SUPABASE_JWT_SECRET",
        "a-legacy-secret-that-is-long-enough-0123",
    )]);
    assert!(config.problems.is_empty(), "{:?}", config.problems);
}

#[test]
fn the_concurrent_turn_cap_is_configurable_and_bounded() {
    let config = load(&[("MAX_CONCURRENT_TURNS", "3")]);
    assert_eq!(config.settings.limits.max_concurrent_turns, 3);
    let config = load(&[("MAX_CONCURRENT_TURNS", "0")]);
    assert_eq!(variables(&config), vec!["MAX_CONCURRENT_TURNS"]);
}

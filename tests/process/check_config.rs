use crate::process::{binary, ServerProcess};

#[test]
fn check_config_says_ok_for_the_development_default() {
    let output = binary().arg("check-config").output().unwrap();
    assert!(output.status.success());
    assert!(String::from_utf8_lossy(&output.stdout).starts_with("ok"));
}

#[test]
fn check_config_names_every_problem_without_values_and_exits_non_zero() {
    let output = binary()
        .arg("check-config")
        .env("ENV", "production")
        .env("CORS_ORIGIN", "https://app.example.com")
        .env("SUPABASE_URL", "http://leaky-value.example.com")
        .output()
        .unwrap();
    assert!(!output.status.success());
    let printed = String::from_utf8_lossy(&output.stdout);
    for name in [
        "BACKEND_PUBLIC_BASE_URL",
        "CORS_ORIGINS",
        "DATABASE_URL",
        "MODEL_PROVIDER_API_KEY",
        "SUPABASE_URL",
        "CORS_ORIGIN:",
    ] {
        assert!(printed.contains(name), "{name} missing from:\n{printed}");
    }
    assert!(printed.contains("did you mean CORS_ORIGINS"));
    assert!(
        !printed.contains("leaky-value"),
        "a value was printed:\n{printed}"
    );
}

#[test]
fn without_env_the_server_binds_loopback_only() {
    let server = ServerProcess::start(&[]);
    assert!(
        server.bound_address.starts_with("127.0.0.1:"),
        "{}",
        server.bound_address
    );
}

#[test]
fn production_binds_all_interfaces_even_when_not_ready() {
    let server = ServerProcess::start(&[("ENV", "production")]);
    assert!(
        server.bound_address.starts_with("0.0.0.0:"),
        "{}",
        server.bound_address
    );
    let ready = reqwest::blocking::get(server.url("/ready")).unwrap();
    assert_eq!(ready.status(), 503);
}

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

/// A production environment that is complete except for `DATABASE_URL`.
fn production_env(database_url: &str) -> Vec<(&'static str, String)> {
    vec![
        ("ENV", "production".to_owned()),
        ("HOST", "127.0.0.1".to_owned()),
        (
            "BACKEND_PUBLIC_BASE_URL",
            "https://api.example.com".to_owned(),
        ),
        ("CORS_ORIGINS", "https://app.example.com".to_owned()),
        (
            "MODEL_PROVIDER_API_KEY",
            "sk-test-provider-key-0000000000".to_owned(),
        ),
        (
            "ADDRESS_HASH_KEY",
            "test-address-hash-key-0123456789".to_owned(),
        ),
        ("DATABASE_URL", database_url.to_owned()),
    ]
}

/// DATABASE_URLs that check-config once passed and serve then crashed on.
const UNUSABLE_DATABASE_URLS: [&str; 4] = [
    "postgres://app:hunter2@127.0.0.1:5432/postgres?sslmode=required",
    "postgres://app:hunter2@127.0.0.1:fivefour/postgres",
    "postgres://app:hunter2@127.0.0.1:5432/postgres?sslmode=verify-full&sslrootcert=/nonexistent/prod-ca-2021.crt",
    "postgres://app:hunter2@127.0.0.1:5432/postgres?pgbouncer=true",
];

fn leaks(text: &str) -> Option<&'static str> {
    ["hunter2", "fivefour", "/nonexistent", "pgbouncer"]
        .into_iter()
        .find(|part| text.contains(part))
}

#[test]
fn check_config_names_a_database_url_the_store_cannot_use_and_migrate_refuses_it_by_name() {
    for url in UNUSABLE_DATABASE_URLS {
        let env = production_env(url);
        let output = binary()
            .arg("check-config")
            .envs(env.iter().map(|(k, v)| (*k, v.as_str())))
            .output()
            .unwrap();
        let printed = String::from_utf8_lossy(&output.stdout).into_owned();
        assert!(!output.status.success(), "{url} passed: {printed}");
        assert!(printed.starts_with("DATABASE_URL: "), "{url}: {printed}");
        assert_eq!(leaks(&printed), None, "{printed}");

        let output = binary()
            .arg("migrate")
            .env("DATABASE_URL", url)
            .output()
            .unwrap();
        let printed = String::from_utf8_lossy(&output.stderr).into_owned();
        assert!(!output.status.success(), "{url} migrated: {printed}");
        assert!(printed.contains("DATABASE_URL: "), "{url}: {printed}");
        assert!(!printed.contains("Failed to set up"), "{url}: {printed}");
        assert_eq!(leaks(&printed), None, "{printed}");
    }
}

#[test]
fn serve_with_a_database_url_the_store_cannot_use_stays_up_not_ready_and_says_why() {
    for url in UNUSABLE_DATABASE_URLS {
        let env = production_env(url);
        let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let server = ServerProcess::start(&env);
        assert_eq!(
            reqwest::blocking::get(server.url("/health"))
                .unwrap()
                .status(),
            200
        );
        let ready = reqwest::blocking::get(server.url("/ready")).unwrap();
        assert_eq!(ready.status(), 503, "{url}");
        let body: serde_json::Value = ready.json().unwrap();
        assert_eq!(
            body["problems"],
            serde_json::json!(["DATABASE_URL"]),
            "{url}"
        );
        let output = server.output().join("\n");
        assert!(
            output.contains("\"variable\":\"DATABASE_URL\""),
            "{url}: {output}"
        );
        assert_eq!(leaks(&output), None, "{output}");
    }
}

/// The first `lines` lines `serve` prints with `env` (it is stopped after them, or after 10 s).
fn first_lines_of_serve(env: &[(&str, &str)], lines: usize) -> Vec<String> {
    use std::io::{BufRead, BufReader};
    let mut child = binary()
        .arg("serve")
        .env("PORT", "0")
        .envs(env.iter().copied())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("the binary starts");
    let stdout = child.stdout.take().expect("stdout");
    let (sender, receiver) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if sender.send(line).is_err() {
                return;
            }
        }
    });
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    let mut seen = Vec::new();
    while seen.len() < lines {
        let left = deadline.saturating_duration_since(std::time::Instant::now());
        match receiver.recv_timeout(left) {
            Ok(line) => seen.push(line),
            Err(_) => break,
        }
    }
    let _ = child.kill();
    let _ = child.wait();
    seen
}

#[test]
fn configuration_problems_are_logged_whatever_the_log_filter() {
    for log_level in ["warnn", "off", "error,governed_chat=off"] {
        let mut env = production_env("postgres://app:pw@127.0.0.1:5432/postgres");
        env.retain(|(name, _)| *name != "CORS_ORIGINS");
        env.push(("LOG_LEVEL", log_level.to_owned()));
        let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let mut wanted = vec!["CORS_ORIGINS"];
        if log_level == "warnn" {
            wanted.push("LOG_LEVEL");
        }
        let output = first_lines_of_serve(&env, wanted.len()).join("\n");
        for variable in wanted {
            assert!(
                output.contains(&format!("\"variable\":\"{variable}\"")),
                "LOG_LEVEL={log_level}: no problem line for {variable}:\n{output}"
            );
        }
    }
}

#[test]
fn a_railway_deploy_that_forgot_env_is_named_and_binds_all_interfaces() {
    let output = binary()
        .arg("check-config")
        .env("RAILWAY_ENVIRONMENT", "production")
        .output()
        .unwrap();
    let printed = String::from_utf8_lossy(&output.stdout);
    assert!(!output.status.success(), "{printed}");
    assert!(
        printed.contains("ENV: is not set, but RAILWAY_ENVIRONMENT shows a deployment"),
        "{printed}"
    );
    let server = ServerProcess::start(&[("RAILWAY_ENVIRONMENT", "production")]);
    assert!(
        server.bound_address.starts_with("0.0.0.0:"),
        "{}",
        server.bound_address
    );

    let output = binary()
        .arg("check-config")
        .env("RAILWAY_ENVIRONMENT", "pr-42")
        .env("ENV", "development")
        .output()
        .unwrap();
    assert!(output.status.success(), "{output:?}");
    assert!(String::from_utf8_lossy(&output.stdout).starts_with("ok (development)"));
}

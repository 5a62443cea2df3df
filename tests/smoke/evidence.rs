//! The real binary: `governed-chat smoke` prints one line per check, exits non-zero on any
//! failure, and writes the JSON evidence file.
use crate::app::app;
use crate::{not_ready_production_app, LOCAL_FRONTEND};
use serde_json::Value;
use std::path::Path;
use std::process::Output;
use std::time::Duration;

async fn smoke_binary(args: &[&str]) -> Output {
    let mut command = tokio::process::Command::from(crate::process::binary());
    command.arg("smoke").args(args).kill_on_drop(true);
    tokio::time::timeout(Duration::from_secs(60), command.output())
        .await
        .expect("smoke finished within 60 s")
        .expect("the binary ran")
}

fn evidence(path: &Path) -> Value {
    let text = std::fs::read_to_string(path).expect("the evidence file was written");
    serde_json::from_str(&text).expect("the evidence file is JSON")
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

#[tokio::test]
async fn the_smoke_command_passes_a_healthy_deployment_and_writes_complete_evidence() {
    let app = app().spawn().await;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("evidence.json");
    let path_arg = path.to_str().unwrap();
    let output = smoke_binary(&[
        "--base-url",
        &app.address,
        "--origin",
        LOCAL_FRONTEND,
        "--json",
        path_arg,
    ])
    .await;
    let printed = stdout(&output);
    assert!(
        output.status.success(),
        "{printed}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );

    let lines: Vec<&str> = printed.lines().collect();
    assert_eq!(
        lines.len(),
        governed_chat::smoke::CHECKS.len() + 1,
        "{printed}"
    );
    for (line, name) in lines.iter().zip(governed_chat::smoke::CHECKS) {
        assert!(line.starts_with(&format!("PASS {name}: ")), "{line}");
    }
    assert!(
        lines.last().unwrap().starts_with("smoke passed: 8 checks"),
        "{printed}"
    );

    let evidence = evidence(&path);
    assert_eq!(evidence["base_url"], app.address.as_str());
    assert_eq!(evidence["passed"], true);
    let started_at = evidence["started_at"]
        .as_str()
        .expect("started_at is a string");
    chrono::DateTime::parse_from_rfc3339(started_at).expect("started_at is RFC 3339");
    let checks = evidence["checks"].as_array().expect("checks is an array");
    let names: Vec<&str> = checks.iter().map(|c| c["name"].as_str().unwrap()).collect();
    assert_eq!(names, governed_chat::smoke::CHECKS);
    for check in checks {
        let fields: Vec<&str> = check
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        assert_eq!(
            fields,
            ["detail", "duration_ms", "name", "passed", "status"],
            "{check}"
        );
        assert_eq!(check["passed"], true, "{check}");
        assert!(
            check["detail"].as_str().is_some_and(|d| !d.is_empty()),
            "{check}"
        );
        assert!(check["duration_ms"].as_u64().is_some(), "{check}");
        assert!(
            check["status"].is_null() || check["status"].as_u64().is_some(),
            "{check}"
        );
    }
    assert_eq!(checks[0]["status"], 200);
    assert!(
        checks[7]["status"].is_null(),
        "no_leaks has no single status"
    );
}

#[tokio::test]
async fn the_smoke_command_exits_non_zero_against_a_production_app_that_is_not_ready() {
    let app = not_ready_production_app().await;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("evidence.json");
    let output =
        smoke_binary(&["--base-url", &app.address, "--json", path.to_str().unwrap()]).await;
    let printed = stdout(&output);
    assert!(!output.status.success(), "{printed}");
    assert!(
        printed
            .lines()
            .any(|l| l.starts_with("FAIL ready: got 503")),
        "{printed}"
    );
    assert!(
        printed.lines().any(|l| l.starts_with("PASS health: ")),
        "{printed}"
    );
    assert!(
        printed
            .lines()
            .last()
            .unwrap()
            .starts_with("smoke FAILED: 1 of 7 checks"),
        "{printed}"
    );

    let evidence = evidence(&path);
    assert_eq!(evidence["passed"], false);
    let ready = evidence["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "ready")
        .expect("a ready check");
    assert_eq!(ready["passed"], false);
    assert_eq!(ready["status"], 503);
    assert!(
        ready["detail"].as_str().unwrap().contains("not_ready"),
        "{ready}"
    );
}

#[tokio::test]
async fn the_smoke_command_exits_non_zero_when_the_evidence_file_cannot_be_written() {
    let app = app().spawn().await;
    let output = smoke_binary(&[
        "--base-url",
        &app.address,
        "--json",
        "/nonexistent-dir/evidence.json",
    ])
    .await;
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("could not write the evidence file"));
}

#[tokio::test]
async fn the_smoke_command_requires_a_base_url() {
    let output = smoke_binary(&[]).await;
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("--base-url"));
}

/// A deployment whose `/health` answers after `delay`; every other route is a 404.
async fn deployment_with_slow_health(delay: Duration) -> wiremock::MockServer {
    use wiremock::matchers::{method, path};
    use wiremock::{Mock, MockServer, ResponseTemplate};
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/health"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(serde_json::json!({ "status": "ok" }))
                .set_delay(delay),
        )
        .mount(&server)
        .await;
    server
}

fn health_line(output: &Output) -> String {
    stdout(output)
        .lines()
        .find(|line| line.contains(" health: "))
        .unwrap_or_else(|| panic!("no health line in {}", stdout(output)))
        .to_owned()
}

#[tokio::test]
async fn the_per_check_timeout_is_set_with_timeout_seconds_and_defaults_to_ten_seconds() {
    let deployment = deployment_with_slow_health(Duration::from_secs(2)).await;
    let base_url = deployment.uri();

    let short = smoke_binary(&["--base-url", &base_url, "--timeout-seconds", "1"]).await;
    let line = health_line(&short);
    assert!(line.starts_with("FAIL health: "), "{line}");
    assert!(
        line.contains("timed out") || line.contains("within 1000 ms"),
        "{line}"
    );

    let long = smoke_binary(&["--base-url", &base_url, "--timeout-seconds", "5"]).await;
    assert!(
        health_line(&long).starts_with("PASS health: "),
        "{}",
        stdout(&long)
    );

    let default = smoke_binary(&["--base-url", &base_url]).await;
    assert!(
        health_line(&default).starts_with("PASS health: "),
        "{}",
        stdout(&default)
    );
}

#[tokio::test]
async fn a_timeout_of_zero_seconds_is_refused() {
    let output =
        smoke_binary(&["--base-url", "http://127.0.0.1:1", "--timeout-seconds", "0"]).await;
    assert!(!output.status.success());
    assert!(
        String::from_utf8_lossy(&output.stderr).contains("--timeout-seconds"),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
}

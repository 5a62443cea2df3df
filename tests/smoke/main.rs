//! `governed-chat smoke`: the deployment checklist, run against real apps (in-process and
//! through the real binary) and against a scripted deployment that gets things wrong.
#[path = "../common/app.rs"]
mod app;

#[path = "../common/process.rs"]
mod process;

mod evidence;
mod misbehaving;

use app::{app, production_app};
use governed_chat::smoke::{self, SmokeOptions, SmokeReport};

pub const LOCAL_FRONTEND: &str = "http://localhost:3000";

/// A production app whose database is unreachable: configured, but not ready.
pub async fn not_ready_production_app() -> app::TestApp {
    production_app(
        "postgres://postgres@127.0.0.1:1/none",
        "https://127.0.0.1:1/v1",
    )
    .spawn()
    .await
}

pub fn names(report: &SmokeReport) -> Vec<&'static str> {
    report.checks.iter().map(|check| check.name).collect()
}

fn explain(report: &SmokeReport) -> String {
    report.to_string()
}

#[tokio::test]
async fn smoke_passes_against_the_development_app_with_the_local_frontend_origin() {
    let app = app().spawn().await;
    let report = smoke::run(SmokeOptions::new(&app.address).origin(LOCAL_FRONTEND)).await;
    assert!(report.passed, "{}", explain(&report));
    assert_eq!(names(&report), smoke::CHECKS);
    assert!(report
        .checks
        .iter()
        .all(|check| check.passed && check.duration_ms < 10_000));
    assert_eq!(report.check("health").unwrap().status, Some(200));
    assert_eq!(report.check("ready").unwrap().status, Some(200));
    assert_eq!(report.check("chat").unwrap().status, Some(200));
    assert!(
        report.check("chat").unwrap().detail.contains("accepted"),
        "{}",
        explain(&report)
    );
    assert_eq!(report.check("malformed_body").unwrap().status, Some(400));
    assert!(report
        .check("cors_foreign_origin")
        .unwrap()
        .status
        .is_some_and(|s| (400..500).contains(&s)));
    app.stop().await.unwrap();
}

#[tokio::test]
async fn smoke_without_an_origin_skips_only_the_allowed_origin_check() {
    let app = app().spawn().await;
    let report = smoke::run(SmokeOptions::new(format!("{}/", app.address))).await;
    assert!(report.passed, "{}", explain(&report));
    let expected: Vec<&str> = smoke::CHECKS
        .into_iter()
        .filter(|name| *name != "cors_allowed_origin")
        .collect();
    assert_eq!(names(&report), expected);
    assert_eq!(
        report.base_url, app.address,
        "the trailing slash is trimmed"
    );
}

#[tokio::test]
async fn smoke_fails_when_the_origin_given_is_not_the_one_the_deployment_allows() {
    let app = app()
        .env("CORS_ORIGINS", "http://localhost:4000")
        .spawn()
        .await;
    let report = smoke::run(SmokeOptions::new(&app.address).origin(LOCAL_FRONTEND)).await;
    assert!(!report.passed);
    let cors = report.check("cors_allowed_origin").unwrap();
    assert!(!cors.passed, "{}", explain(&report));
    assert!(
        cors.detail.contains("with no Access-Control-Allow-Origin"),
        "{}",
        cors.detail
    );
    let failed: Vec<&str> = report.failures().map(|check| check.name).collect();
    assert_eq!(failed, ["cors_allowed_origin"], "{}", explain(&report));
}

#[tokio::test]
async fn smoke_fails_only_the_ready_check_of_a_production_app_that_is_not_ready() {
    let app = not_ready_production_app().await;
    let report =
        smoke::run(SmokeOptions::new(&app.address).origin("https://app.example.com")).await;
    let failed: Vec<&str> = report.failures().map(|check| check.name).collect();
    assert_eq!(failed, ["ready"], "{}", explain(&report));
    let ready = report.check("ready").unwrap();
    assert!(!ready.passed);
    assert_eq!(ready.status, Some(503));
    assert!(
        ready.detail.starts_with("got 503, expected 200"),
        "{}",
        ready.detail
    );
    assert!(
        ready.detail.contains("database=") && !ready.detail.contains("database=ok"),
        "{}",
        ready.detail
    );
    // Liveness and CORS do not depend on the database.
    for name in [
        "health",
        "cors_allowed_origin",
        "cors_foreign_origin",
        "no_leaks",
    ] {
        assert!(
            report.check(name).unwrap().passed,
            "{name}: {}",
            explain(&report)
        );
    }
    // The chat turn is aborted (the database is down): still a governed answer.
    let chat = report.check("chat").unwrap();
    assert!(chat.detail.contains("aborted"), "{}", explain(&report));
}

#[tokio::test]
async fn smoke_reports_every_check_failed_when_nothing_listens_at_the_base_url() {
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let address = format!("http://{}", closed.local_addr().unwrap());
    drop(closed);
    let report = smoke::run(SmokeOptions::new(&address)).await;
    assert!(!report.passed);
    assert_eq!(
        names(&report).len(),
        smoke::CHECKS.len() - 1,
        "all but cors_allowed_origin ran"
    );
    for check in &report.checks {
        assert!(!check.passed, "{}", explain(&report));
        assert_eq!(check.status, None);
        assert!(
            check.detail.contains("could not connect"),
            "{}",
            check.detail
        );
    }
}

#[tokio::test]
async fn smoke_refuses_a_base_url_that_is_not_http() {
    for bad in ["ftp://example.com", "not a url", "localhost:8000"] {
        let report = smoke::run(SmokeOptions::new(bad)).await;
        assert!(!report.passed, "{bad}");
        assert_eq!(names(&report), ["setup"], "{bad}");
    }
}

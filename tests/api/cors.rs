use crate::app::{app, unreachable_production_app};
use reqwest::Response;

const ALLOWED: &str = "https://app.example.com";

async fn production() -> crate::app::TestApp {
    unreachable_production_app().spawn().await
}

fn allow_origin(response: &Response) -> Option<String> {
    response
        .headers()
        .get("access-control-allow-origin")
        .map(|v| v.to_str().unwrap().to_owned())
}

#[tokio::test]
async fn production_preflight_from_the_configured_origin_is_allowed() {
    let app = production().await;
    let response = app.preflight("/api/chat", ALLOWED).await;
    assert_eq!(response.status(), 200);
    assert_eq!(allow_origin(&response).as_deref(), Some(ALLOWED));
    assert!(response
        .headers()
        .get("access-control-allow-credentials")
        .is_none());
}

#[tokio::test]
async fn production_refuses_preflight_from_lookalike_and_foreign_origins() {
    let app = production().await;
    for origin in [
        "https://app.example.com.evil.net",
        "https://evil.net",
        "null",
        "https://APP.EXAMPLE.COM",
        "https://app.example.com/",
        "http://app.example.com",
        "https://app.example.co",
        "https://xapp.example.com",
        "http://localhost:3000",
    ] {
        let response = app.preflight("/api/chat", origin).await;
        assert_eq!(allow_origin(&response), None, "{origin} was allowed");
        assert!(
            response.status().is_client_error(),
            "{origin}: {}",
            response.status()
        );
        assert!(response.headers().contains_key("x-request-id"));
    }
}

#[tokio::test]
async fn production_actual_requests_carry_allow_origin_only_for_the_configured_origin() {
    let app = production().await;
    let allowed = app
        .client
        .get(app.url("/health"))
        .header("origin", ALLOWED)
        .send()
        .await
        .unwrap();
    assert_eq!(allow_origin(&allowed).as_deref(), Some(ALLOWED));
    assert_eq!(
        allowed.headers()["access-control-expose-headers"]
            .to_str()
            .unwrap()
            .to_ascii_lowercase(),
        "x-request-id"
    );
    for origin in [
        "https://app.example.com.evil.net",
        "null",
        "https://evil.net",
    ] {
        let response = app
            .client
            .get(app.url("/health"))
            .header("origin", origin)
            .send()
            .await
            .unwrap();
        assert_eq!(allow_origin(&response), None, "{origin}");
    }
}

#[tokio::test]
async fn development_without_origins_allows_local_http_origins_only() {
    let app = app().spawn().await;
    for origin in ["http://localhost:3000", "http://127.0.0.1:5173"] {
        let response = app.preflight("/api/chat", origin).await;
        assert_eq!(allow_origin(&response).as_deref(), Some(origin));
    }
    for origin in [
        "https://evil.net",
        "http://localhost.evil.net:3000",
        "null",
        "http://127.0.0.1.nip.io",
    ] {
        let response = app.preflight("/api/chat", origin).await;
        assert_eq!(allow_origin(&response), None, "{origin}");
    }
}

#[tokio::test]
async fn development_with_configured_origins_allows_only_those() {
    let app = app()
        .env("CORS_ORIGINS", "http://localhost:4000")
        .spawn()
        .await;
    assert!(allow_origin(&app.preflight("/api/chat", "http://localhost:4000").await).is_some());
    assert!(allow_origin(&app.preflight("/api/chat", "http://localhost:3000").await).is_none());
}

#[tokio::test]
async fn an_error_for_the_allowed_origin_stays_readable_and_a_foreign_one_does_not() {
    let app = production().await;
    let post = |origin: &'static str| {
        app.client
            .post(app.url("/api/chat"))
            .header("origin", origin)
            .header("content-type", "application/json")
            .body("{")
            .send()
    };
    let allowed = post(ALLOWED).await.unwrap();
    assert_eq!(allowed.status(), 400);
    assert_eq!(allow_origin(&allowed).as_deref(), Some(ALLOWED));
    let foreign = post("https://evil.net").await.unwrap();
    assert_eq!(foreign.status(), 400);
    assert_eq!(allow_origin(&foreign), None);
}

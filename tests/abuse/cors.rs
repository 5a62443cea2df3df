//! CORS abuse: lookalike, null, re-cased and decorated origins are never allowed, and no
//! response ever allows credentials.
use crate::app::{app, production_app, TestApp};
use crate::support::{assert_no_problems, unsanitized_error, Seen};
use reqwest::Method;

const ALLOWED: &str = "https://app.example.com";

/// Production CORS (database unreachable: CORS is decided before it matters).
async fn production() -> TestApp {
    production_app(
        "postgres://postgres@127.0.0.1:1/none",
        "https://127.0.0.1:1/v1",
    )
    .spawn()
    .await
}

async fn preflight(app: &TestApp, origin: &str, request_headers: &str) -> Seen {
    let response = app
        .client
        .request(Method::OPTIONS, app.url("/api/chat"))
        .header("origin", origin)
        .header("access-control-request-method", "POST")
        .header("access-control-request-headers", request_headers)
        .send()
        .await
        .expect("preflight sent");
    Seen::read(response).await
}

async fn get_health(app: &TestApp, origin: &str) -> Seen {
    Seen::read(
        app.client
            .get(app.url("/health"))
            .header("origin", origin)
            .send()
            .await
            .expect("sent"),
    )
    .await
}

/// Problems with a response to `origin` that must not be allowed.
fn refused_problems(origin: &str, what: &str, seen: &Seen) -> Vec<String> {
    let mut problems = Vec::new();
    if let Some(allowed) = seen.header("access-control-allow-origin") {
        problems.push(format!(
            "{origin:?}: {what} got Access-Control-Allow-Origin {allowed:?}"
        ));
    }
    if seen.header("access-control-allow-credentials").is_some() {
        problems.push(format!(
            "{origin:?}: {what} got Access-Control-Allow-Credentials"
        ));
    }
    if seen.status >= 400 {
        problems.extend(
            unsanitized_error(seen.status, seen.header("x-request-id"), &seen.body)
                .map(|p| format!("{origin:?}: {what}: {p}")),
        );
    }
    problems
}

const PRODUCTION_LOOKALIKES: &[&str] = &[
    "https://app.example.com.evil.net",
    "https://app.example.com@evil.net",
    "https://evil.net#app.example.com",
    "https://evil.net?app.example.com",
    "https://evil.net/https://app.example.com",
    "https://app.example.com:443.evil.net",
    "https://app-example.com",
    "https://appXexample.com",
    "https://evilapp.example.com",
    "https://app.example.com.",
    "null",
    "NULL",
    "*",
    "",
    "https://APP.EXAMPLE.COM",
    "HTTPS://app.example.com",
    "https://App.Example.Com",
    "https://app.example.com/",
    "https://app.example.com/path",
    "https://app.example.com:8443",
    "http://app.example.com",
    "ws://app.example.com",
    "https://app.example.com, https://evil.net",
    "https://evil.net, https://app.example.com",
    "https://app.example.com https://evil.net",
    " https://app.example.com.evil.net",
    "https://xn--pp-example-hbb.com",
    "file://",
    "https://user:pass@app.example.com",
];

#[tokio::test]
async fn production_never_allows_lookalike_null_recased_or_decorated_origins() {
    let app = production().await;
    let mut problems = Vec::new();
    for origin in PRODUCTION_LOOKALIKES {
        let seen = preflight(&app, origin, "content-type").await;
        problems.extend(refused_problems(origin, "preflight", &seen));
        if (200..300).contains(&seen.status) {
            problems.push(format!("{origin:?}: preflight answered {}", seen.status));
        }
        problems.extend(refused_problems(
            origin,
            "GET /health",
            &get_health(&app, origin).await,
        ));
    }
    assert_no_problems("production lookalike origins", problems);

    // The control: the configured origin itself is allowed, so the refusals above mean
    // something.
    let seen = preflight(&app, ALLOWED, "content-type").await;
    assert_eq!(seen.status, 200);
    assert_eq!(seen.header("access-control-allow-origin"), Some(ALLOWED));
}

#[tokio::test]
async fn development_never_allows_lookalikes_of_local_origins() {
    let app = app().spawn().await;
    let mut problems = Vec::new();
    for origin in [
        "http://localhost:3000.evil.net",
        "http://localhost:3000@evil.net",
        "http://evil.net#http://localhost:3000",
        "http://evil.net?localhost",
        "http://localhost.evil.net",
        "http://127.0.0.1.evil.net:3000",
        "http://127.0.0.1@evil.net",
        "http://LOCALHOST:3000",
        "HTTP://localhost:3000",
        "http://localhost:3000/",
        "http://localhost:3000/path",
        "https://localhost:3000",
        "http://localhost:abc",
        "http://localhost:",
        "http://[::1]:3000",
        "http://0.0.0.0:3000",
        "http://127.1:3000",
        "http://2130706433:3000",
        "http://localhost:3000, http://evil.net",
        "null",
        "file://",
    ] {
        let seen = preflight(&app, origin, "content-type").await;
        problems.extend(refused_problems(origin, "preflight", &seen));
        problems.extend(refused_problems(
            origin,
            "GET /health",
            &get_health(&app, origin).await,
        ));
    }
    assert_no_problems("development lookalike origins", problems);
    let seen = preflight(&app, "http://localhost:3000", "content-type").await;
    assert_eq!(
        seen.header("access-control-allow-origin"),
        Some("http://localhost:3000"),
        "the control"
    );
}

#[tokio::test]
async fn credentials_are_never_allowed_even_for_the_configured_origin() {
    let app = production().await;
    let mut problems = Vec::new();
    for request_headers in [
        "authorization, cookie",
        "cookie",
        "authorization",
        "content-type, authorization",
        "x-api-key",
    ] {
        let seen = preflight(&app, ALLOWED, request_headers).await;
        if seen.header("access-control-allow-credentials").is_some() {
            problems.push(format!(
                "{request_headers}: preflight got Access-Control-Allow-Credentials"
            ));
        }
        let allowed_headers = seen
            .header("access-control-allow-headers")
            .unwrap_or_default()
            .to_ascii_lowercase();
        // `authorization` is allowed (the Supabase access token); credentials never are.
        for forbidden in ["cookie", "x-api-key", "*"] {
            if allowed_headers.split(',').any(|h| h.trim() == forbidden) {
                problems.push(format!(
                    "{request_headers}: preflight allows the {forbidden} header"
                ));
            }
        }
        if seen.status >= 400 {
            problems.extend(unsanitized_error(
                seen.status,
                seen.header("x-request-id"),
                &seen.body,
            ));
        }
    }
    let actual = app
        .client
        .get(app.url("/health"))
        .header("origin", ALLOWED)
        .header("cookie", "session=stolen")
        .header("authorization", "Bearer stolen")
        .send()
        .await
        .expect("sent");
    let seen = Seen::read(actual).await;
    assert_eq!(seen.header("access-control-allow-origin"), Some(ALLOWED));
    if seen.header("access-control-allow-credentials").is_some() {
        problems.push("GET /health with a cookie got Access-Control-Allow-Credentials".to_owned());
    }
    let vary = seen.header("vary").unwrap_or_default().to_ascii_lowercase();
    if !vary.contains("origin") {
        problems.push(format!("an allowed response does not Vary on Origin (Vary: {vary:?}): caches could serve it to other origins"));
    }
    assert_no_problems("credentials", problems);
}

#[tokio::test]
async fn two_origin_headers_never_produce_a_foreign_or_combined_allow_origin() {
    let app = production().await;
    for (first, second) in [("https://evil.net", ALLOWED), (ALLOWED, "https://evil.net")] {
        let mut origins = reqwest::header::HeaderMap::new();
        origins.append("origin", first.parse().unwrap());
        origins.append("origin", second.parse().unwrap());
        let response = app
            .client
            .request(Method::OPTIONS, app.url("/api/chat"))
            .headers(origins)
            .header("access-control-request-method", "POST")
            .send()
            .await;
        let Ok(response) = response else { continue };
        let seen = Seen::read(response).await;
        let allowed = seen
            .header("access-control-allow-origin")
            .unwrap_or_default();
        assert!(
            !allowed.contains("evil") && !allowed.contains(','),
            "{first} + {second}: Access-Control-Allow-Origin {allowed:?}"
        );
    }
}

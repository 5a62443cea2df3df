//! A scripted "deployment" (wiremock) that gets things wrong, one way per test: each check
//! must notice its own failure and no other.
use governed_chat::smoke::{self, SmokeOptions, SmokeReport};
use serde_json::json;
use std::time::Duration;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

const FRONTEND: &str = "https://app.example.com";
const LEAK: &str =
    "thread 'actix-rt|system:0|arbiter:0' panicked at src/main.rs:3:5 postgres://u:p@db/x";

/// Answers preflights like a CORS layer that allows every origin (the bug under test) or
/// only `FRONTEND`.
struct Preflight {
    allow_any: bool,
}

impl Respond for Preflight {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let origin = request
            .headers
            .get("origin")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        if self.allow_any || origin == FRONTEND {
            ResponseTemplate::new(200).insert_header("access-control-allow-origin", origin)
        } else {
            ResponseTemplate::new(400)
                .set_body_json(json!({ "error": "forbidden", "request_id": "req-cors-1" }))
                .insert_header("x-request-id", "req-cors-1")
        }
    }
}

fn sanitized(status: u16, code: &str, id: &str) -> ResponseTemplate {
    ResponseTemplate::new(status)
        .set_body_json(json!({ "error": code, "request_id": id }))
        .insert_header("x-request-id", id)
}

/// A deployment where every check passes, with `chat` answered by `chat`.
async fn deployment(chat: ResponseTemplate, allow_any_origin: bool) -> MockServer {
    let server = MockServer::start().await;
    // Unknown routes get a sanitized 404, like the real service.
    Mock::given(wiremock::matchers::any())
        .respond_with(sanitized(404, "not_found", "req-404-1"))
        .with_priority(10)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/health"))
        .respond_with(HealthWithCors {
            allow_any: allow_any_origin,
        })
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/ready"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({ "status": "ready" })))
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/api/chat"))
        .respond_with(ChatOrMalformed { chat })
        .mount(&server)
        .await;
    Mock::given(method("OPTIONS"))
        .and(path("/api/chat"))
        .respond_with(Preflight {
            allow_any: allow_any_origin,
        })
        .mount(&server)
        .await;
    server
}

struct HealthWithCors {
    allow_any: bool,
}

impl Respond for HealthWithCors {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let origin = request.headers.get("origin").and_then(|v| v.to_str().ok());
        let response = ResponseTemplate::new(200).set_body_json(json!({ "status": "ok" }));
        match origin {
            Some(origin) if self.allow_any || origin == FRONTEND => {
                response.insert_header("access-control-allow-origin", origin)
            }
            _ => response,
        }
    }
}

/// The smoke chat message gets `chat`; the malformed probes get a sanitized 400.
struct ChatOrMalformed {
    chat: ResponseTemplate,
}

impl Respond for ChatOrMalformed {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let streamed = request
            .headers
            .get("accept")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.contains("text/event-stream"));
        match serde_json::from_slice::<serde_json::Value>(&request.body) {
            Ok(body) if streamed && body.as_object().is_some_and(|o| o.len() == 1) => stream(),
            Ok(body) if body.as_object().is_some_and(|o| o.len() == 1) => self.chat.clone(),
            _ => sanitized(400, "invalid_request", "req-bad-1"),
        }
    }
}

/// A well-formed streamed answer.
fn stream() -> ResponseTemplate {
    let parts = [
        r#"{"type":"start","messageId":"req-stream-1","messageMetadata":{"request_id":"req-stream-1","session_id":"s"}}"#,
        r#"{"type":"text-start","id":"text-1"}"#,
        r#"{"type":"text-delta","id":"text-1","delta":"Hello!"}"#,
        r#"{"type":"text-end","id":"text-1"}"#,
        r#"{"type":"finish","messageMetadata":{"request_id":"req-stream-1","session_id":"s","outcome":"accepted"}}"#,
        "[DONE]",
    ];
    let body: String = parts.iter().map(|p| format!("data: {p}\n\n")).collect();
    ResponseTemplate::new(200)
        .set_body_raw(body, "text/event-stream")
        .insert_header("x-request-id", "req-stream-1")
}

fn accepted() -> ResponseTemplate {
    ResponseTemplate::new(200)
        .set_body_json(json!({ "request_id": "req-chat-1", "outcome": "accepted", "session_id": "s", "reply": "Hello!" }))
        .insert_header("x-request-id", "req-chat-1")
}

async fn smoke_against(server: &MockServer) -> SmokeReport {
    smoke::run(SmokeOptions::new(server.uri()).origin(FRONTEND)).await
}

fn failed(report: &SmokeReport) -> Vec<&'static str> {
    report.failures().map(|check| check.name).collect()
}

#[tokio::test]
async fn the_scripted_deployment_passes_when_it_behaves() {
    let server = deployment(accepted(), false).await;
    let report = smoke_against(&server).await;
    assert!(report.passed, "{report}");
}

#[tokio::test]
async fn smoke_catches_a_deployment_whose_cors_allows_any_origin() {
    let server = deployment(accepted(), true).await;
    let report = smoke_against(&server).await;
    assert_eq!(failed(&report), ["cors_foreign_origin"], "{report}");
    assert!(report
        .check("cors_foreign_origin")
        .unwrap()
        .detail
        .contains("smoke-foreign.invalid"));
}

#[tokio::test]
async fn smoke_catches_a_chat_route_that_leaks_a_panic_as_html_without_quoting_it() {
    let leaky = ResponseTemplate::new(500)
        .set_body_raw(format!("<html><body>{LEAK}</body></html>"), "text/html");
    let server = deployment(leaky, false).await;
    let report = smoke_against(&server).await;
    assert_eq!(failed(&report), ["chat", "no_leaks"], "{report}");
    let leaks = &report.check("no_leaks").unwrap().detail;
    assert!(
        leaks.contains("chat: POST /api/chat (500) body contains a panic message"),
        "{leaks}"
    );
    let printed = report.to_string();
    for secret in ["postgres://u:p", "src/main.rs", "<html>"] {
        assert!(
            !printed.contains(secret),
            "the report quotes {secret:?}:\n{printed}"
        );
    }
}

#[tokio::test]
async fn smoke_catches_a_chat_answer_whose_request_id_header_differs_from_the_body() {
    let mismatched = accepted().insert_header("x-request-id", "req-other");
    let server = deployment(mismatched, false).await;
    let report = smoke_against(&server).await;
    assert_eq!(failed(&report), ["chat"], "{report}");
    assert!(
        report.check("chat").unwrap().detail.contains("differs"),
        "{report}"
    );
}

#[tokio::test]
async fn smoke_catches_a_chat_answer_without_a_governed_outcome() {
    for body in [
        json!({ "request_id": "req-chat-1", "outcome": "maybe" }),
        json!({ "request_id": "req-chat-1", "reply": "raw model text" }),
        json!({ "outcome": "accepted", "reply": "no id" }),
        json!({ "request_id": "req-chat-1", "outcome": "accepted" }),
    ] {
        let answer = ResponseTemplate::new(200)
            .set_body_json(&body)
            .insert_header("x-request-id", "req-chat-1");
        let server = deployment(answer, false).await;
        let report = smoke_against(&server).await;
        assert_eq!(failed(&report), ["chat"], "{body}: {report}");
    }
}

#[tokio::test]
async fn smoke_catches_an_unsanitized_error_for_a_malformed_body() {
    let server = deployment(accepted(), false).await;
    Mock::given(method("POST"))
        .and(path("/api/chat"))
        .and(wiremock::matchers::body_string_contains("system_prompt"))
        .respond_with(ResponseTemplate::new(400).set_body_json(json!({ "error": "unknown field `system_prompt`, expected `message` or `session_id` at line 1 column 40", "request_id": "r", "detail": "serde" })))
        .with_priority(1)
        .mount(&server)
        .await;
    let report = smoke_against(&server).await;
    assert_eq!(failed(&report), ["malformed_body"], "{report}");
    assert!(
        report
            .check("malformed_body")
            .unwrap()
            .detail
            .contains("expected exactly error and request_id"),
        "{report}"
    );
}

#[tokio::test]
async fn smoke_fails_a_check_that_gets_no_answer_within_its_timeout() {
    let server = deployment(accepted(), false).await;
    Mock::given(method("GET"))
        .and(path("/ready"))
        .respond_with(ResponseTemplate::new(200).set_delay(Duration::from_secs(5)))
        .with_priority(1)
        .mount(&server)
        .await;
    let options = SmokeOptions {
        timeout: Duration::from_millis(500),
        ..SmokeOptions::new(server.uri()).origin(FRONTEND)
    };
    let report = smoke::run(options).await;
    assert_eq!(failed(&report), ["ready"], "{report}");
    let ready = report.check("ready").unwrap();
    assert!(ready.duration_ms < 2_000, "{ready:?}");
    assert!(
        ready.detail.contains("timed out") || ready.detail.contains("no answer within 500 ms"),
        "{ready:?}"
    );
}

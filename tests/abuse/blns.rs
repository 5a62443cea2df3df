//! The Big List of Naughty Strings, every line: as a chat message (offline provider), as
//! the model's own reply (a scripted provider that echoes it back), and as the value of the
//! `X-Request-Id` and `Origin` headers.
use crate::app::{json, TestApp};
use crate::provider::{base_url, completion};
use crate::support::{
    abuse_app, assert_no_problems, assert_still_serving, blns, chat_problem, preview, Seen,
};
use futures::stream::{self, StreamExt};
use reqwest::header::HeaderValue;
use serde_json::{json, Value};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

const CONCURRENCY: usize = 16;
const REASONING_MODEL: &str = "abuse-reasoning";
const EXPRESSION_MODEL: &str = "abuse-expression";

/// A session to reuse for every turn, so the corpus runs as one long conversation.
async fn session(app: &TestApp) -> String {
    let response = app.post_chat(&json!({ "message": "hello" })).await;
    assert_eq!(response.status(), 200);
    json(response).await["session_id"]
        .as_str()
        .expect("a session id")
        .to_owned()
}

/// Send every line as a chat message; return (line, response) pairs.
async fn chat_every_line(app: &TestApp, session_id: &str) -> Vec<(String, Seen)> {
    stream::iter(blns())
        .map(|line| async move {
            let body = json!({ "message": line, "session_id": session_id });
            let seen = Seen::read(app.post_chat(&body).await).await;
            (line, seen)
        })
        .buffer_unordered(CONCURRENCY)
        .collect()
        .await
}

fn problems(results: &[(String, Seen)]) -> Vec<String> {
    results
        .iter()
        .filter_map(|(line, seen)| chat_problem(seen).map(|p| format!("{}: {p}", preview(line))))
        .collect()
}

fn outcome_count(results: &[(String, Seen)], outcome: &str) -> usize {
    results
        .iter()
        .filter(|(_, seen)| {
            serde_json::from_str::<Value>(&seen.body).is_ok_and(|b| b["outcome"] == outcome)
        })
        .count()
}

#[tokio::test]
async fn every_naughty_string_as_a_message_gets_a_well_formed_governed_answer_and_never_a_5xx() {
    let app = abuse_app().spawn().await;
    let session_id = session(&app).await;
    let results = chat_every_line(&app, &session_id).await;
    assert_no_problems("naughty strings as messages", problems(&results));
    let accepted = outcome_count(&results, "accepted");
    assert!(
        accepted * 2 > results.len(),
        "only {accepted} of {} turns were accepted",
        results.len()
    );
    assert_still_serving(&app, "the corpus").await;
}

/// A provider whose reasoning stage writes harmless notes and whose expression stage
/// replies with the user's message verbatim: hostile input becomes hostile model output.
struct EchoTheUser;

impl Respond for EchoTheUser {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let body: Value = request.body_json().expect("the provider request is JSON");
        if body["model"] == REASONING_MODEL {
            return ResponseTemplate::new(200)
                .set_body_json(completion("- answer the message briefly"));
        }
        let last_user = body["messages"]
            .as_array()
            .and_then(|messages| messages.iter().rev().find(|m| m["role"] == "user"))
            .and_then(|m| m["content"].as_str())
            .unwrap_or_default();
        let reply = if last_user.trim().is_empty() {
            "(empty)"
        } else {
            last_user
        };
        ResponseTemplate::new(200).set_body_json(completion(reply))
    }
}

#[tokio::test]
async fn every_naughty_string_as_the_model_reply_is_governed_into_nothing_executable() {
    let provider = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v1/chat/completions"))
        .respond_with(EchoTheUser)
        .mount(&provider)
        .await;
    let app = abuse_app()
        .provider(&base_url(&provider))
        .env("LLM_REASONING_MODEL", REASONING_MODEL)
        .env("LLM_EXPRESSION_MODEL", EXPRESSION_MODEL)
        .spawn()
        .await;
    let session_id = session(&app).await;
    let results = chat_every_line(&app, &session_id).await;
    assert_no_problems("naughty strings echoed by the model", problems(&results));

    // The echo really reached the client for most lines, so output governance was what
    // stood between the payloads and the page.
    let echoed = results
        .iter()
        .filter(|(line, seen)| {
            serde_json::from_str::<Value>(&seen.body).is_ok_and(|b| b["reply"] == line.as_str())
        })
        .count();
    let refused = outcome_count(&results, "refused");
    eprintln!(
        "{} lines: {echoed} replies were the echoed line, {refused} turns refused",
        results.len()
    );
    assert!(
        echoed * 3 > results.len(),
        "only {echoed} of {} replies were the echoed line",
        results.len()
    );
    let script = results
        .iter()
        .find(|(line, _)| line.contains("<script>alert("))
        .expect("the corpus has a script tag");
    let body: Value = serde_json::from_str(&script.1.body).unwrap();
    assert_eq!(script.1.status, 200, "{}", script.1.body);
    assert!(
        body["outcome"] == "accepted" || body["outcome"] == "refused",
        "{}",
        script.1.body
    );
    let calls = provider.received_requests().await.map_or(0, |r| r.len());
    assert!(
        calls > results.len(),
        "the provider was called {calls} times"
    );
    assert_still_serving(&app, "the echoed corpus").await;
}

/// The value a server sees for a header line (HTTP trims surrounding spaces and tabs).
fn as_received(line: &str) -> &str {
    line.trim_matches([' ', '\t'])
}

fn is_safe_request_id(value: &str) -> bool {
    (8..=64).contains(&value.len())
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
}

/// Lines that can travel as a header value at all (no control characters).
fn header_lines() -> Vec<(String, HeaderValue)> {
    blns()
        .into_iter()
        .filter_map(|line| {
            HeaderValue::from_bytes(line.as_bytes())
                .ok()
                .map(|value| (line, value))
        })
        .collect()
}

#[tokio::test]
async fn naughty_request_ids_are_replaced_by_a_uuid_unless_short_and_safe() {
    let app = abuse_app().spawn().await;
    let lines = header_lines();
    assert!(
        lines.len() > 400,
        "only {} lines are header values",
        lines.len()
    );
    let results: Vec<(String, Seen)> = stream::iter(lines)
        .map(|(line, value)| {
            let app = &app;
            async move {
                let request = app
                    .client
                    .post(app.url("/api/chat"))
                    .header("x-request-id", value)
                    .json(&json!({ "message": "hi" }));
                (
                    line,
                    Seen::read(request.send().await.expect("request sent")).await,
                )
            }
        })
        .buffer_unordered(CONCURRENCY)
        .collect()
        .await;
    let mut problems = Vec::new();
    let mut reused = 0;
    for (line, seen) in &results {
        if let Some(problem) = chat_problem(seen) {
            problems.push(format!("{}: {problem}", preview(line)));
            continue;
        }
        let id = seen.header("x-request-id").unwrap_or_default();
        let sent = as_received(line);
        if is_safe_request_id(sent) {
            reused += 1;
            if id != sent {
                problems.push(format!(
                    "{}: a safe id was not reused (got {id:?})",
                    preview(line)
                ));
            }
        } else if uuid::Uuid::parse_str(id).is_err() || id == sent {
            problems.push(format!(
                "{}: an unsafe id came back as {id:?} instead of a fresh UUID",
                preview(line)
            ));
        }
    }
    assert_no_problems("naughty X-Request-Id values", problems);
    assert!(
        reused > 0,
        "no corpus line was a safe id: the reuse rule went untested"
    );
}

#[tokio::test]
async fn naughty_origins_are_never_echoed_into_access_control_allow_origin() {
    let app = abuse_app().spawn().await;
    let results: Vec<(String, Seen, Seen)> = stream::iter(header_lines())
        .map(|(line, value)| {
            let app = &app;
            async move {
                let preflight = app
                    .client
                    .request(reqwest::Method::OPTIONS, app.url("/api/chat"))
                    .header("origin", value.clone())
                    .header("access-control-request-method", "POST")
                    .header("access-control-request-headers", "content-type")
                    .send()
                    .await
                    .expect("preflight sent");
                let actual = app
                    .client
                    .post(app.url("/api/chat"))
                    .header("origin", value)
                    .json(&json!({ "message": "hi" }))
                    .send()
                    .await
                    .expect("request sent");
                (line, Seen::read(preflight).await, Seen::read(actual).await)
            }
        })
        .buffer_unordered(CONCURRENCY)
        .collect()
        .await;
    let mut problems = Vec::new();
    for (line, preflight, actual) in &results {
        for (what, seen) in [("preflight", preflight), ("POST", actual)] {
            if let Some(allowed) = seen.headers.get("access-control-allow-origin") {
                problems.push(format!(
                    "{}: {what} got Access-Control-Allow-Origin {allowed:?}",
                    preview(line)
                ));
            }
            if seen
                .headers
                .get("access-control-allow-credentials")
                .is_some_and(|v| v == "true")
            {
                problems.push(format!("{}: {what} allows credentials", preview(line)));
            }
            if let Some(problem) = chat_problem(seen) {
                problems.push(format!("{}: {what}: {problem}", preview(line)));
            }
        }
        if (200..300).contains(&preflight.status) {
            problems.push(format!(
                "{}: the preflight was answered {}",
                preview(line),
                preflight.status
            ));
        }
    }
    assert_no_problems("naughty Origin values", problems);
}

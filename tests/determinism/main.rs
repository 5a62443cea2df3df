//! Determinism snapshots: every case in `snapshots/cases.json` is replayed through the real
//! HTTP path against a scripted provider on loopback. The golden file of each case holds the
//! scripted provider replies, the exact provider requests sent and the exact governed
//! response. Any difference fails. To accept a reviewed change:
//! `INSTA_UPDATE=always cargo nextest run --test determinism` (see docs/API.md).
#[path = "../common/app.rs"]
mod app;

mod case;
mod scripted;

use case::{Case, Turn};
use futures::StreamExt;
use serde_json::{json, Value};

const CASES: &str = include_str!("../../snapshots/cases.json");

async fn replay(case: Case) -> (String, Value) {
    let provider = scripted::ScriptedProvider::start(case.provider.clone()).await;
    let mut builder = app::app()
        .provider(&provider.base_url())
        .env("PROVIDER_MAX_RETRIES", "2")
        .env("PROVIDER_REQUEST_TIMEOUT_MS", "1000")
        .env("TURN_DEADLINE_MS", "3000");
    for (name, value) in &case.env {
        builder = builder.env(name, value);
    }
    let app = builder.spawn().await;
    app.wait_until_ready().await;

    let mut session_id: Option<String> = None;
    let mut turns = Vec::new();
    for (index, turn) in case.turns.iter().enumerate() {
        let Turn {
            message,
            new_session,
        } = turn;
        let mut body = json!({ "message": message });
        if let (Some(id), false) = (&session_id, new_session) {
            body["session_id"] = json!(id);
        }
        let mut request = app
            .client
            .post(app.url("/api/chat"))
            .header("x-request-id", format!("snapshot-{}-{index}", case.name))
            .json(&body);
        if case.streamed {
            request = request.header("accept", "text/event-stream");
        }
        let response = request.send().await.expect("turn sent");
        let status = response.status().as_u16();
        let text = response.text().await.expect("body");
        if case.streamed && status == 200 {
            let parts: Vec<Value> = text
                .split("\n\n")
                .filter_map(|event| event.strip_prefix("data: "))
                .map(|data| serde_json::from_str(data).unwrap_or(json!(data)))
                .collect();
            if let Some(id) = parts[0]["messageMetadata"]["session_id"].as_str() {
                session_id = Some(id.to_owned());
            }
            turns.push(json!({ "message": message, "status": status, "parts": parts }));
            continue;
        }
        let body: Value = serde_json::from_str(&text).expect("JSON response");
        if let Some(id) = body["session_id"].as_str() {
            session_id = Some(id.to_owned());
        }
        turns.push(json!({ "message": message, "status": status, "response": body }));
    }
    let snapshot = json!({
        "case": case.name,
        "about": case.about,
        "env": case.env,
        "provider_script": case.provider,
        "turns": turns,
        "provider_requests": provider.received().await,
    });
    (case.name, snapshot)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_governed_turn_matches_its_golden_snapshot() {
    let cases: Vec<Case> = serde_json::from_str(CASES).expect("snapshots/cases.json parses");
    assert!(
        cases.len() >= 60,
        "the corpus has {} cases; it must keep at least 60",
        cases.len()
    );
    let mut names: Vec<&str> = cases.iter().map(|c| c.name.as_str()).collect();
    names.sort_unstable();
    names.dedup();
    assert_eq!(names.len(), cases.len(), "case names are unique");

    let mut results: Vec<(String, Value)> = futures::stream::iter(cases)
        .map(replay)
        .buffer_unordered(6)
        .collect()
        .await;
    results.sort_by(|a, b| a.0.cmp(&b.0));

    let mut settings = insta::Settings::clone_current();
    settings.set_snapshot_path("../../snapshots");
    settings.set_prepend_module_to_snapshot(false);
    settings.set_omit_expression(true);
    settings.add_redaction(".turns[].response.session_id", "[session_id]");
    settings.add_redaction(
        ".turns[].parts[].messageMetadata.session_id",
        "[session_id]",
    );
    settings.bind(|| {
        for (name, snapshot) in results {
            insta::assert_json_snapshot!(name, snapshot);
        }
    });
}

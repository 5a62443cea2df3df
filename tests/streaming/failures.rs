//! What ends a stream early: the upstream failing or going silent, the client leaving.
use crate::app::app;
use crate::contract::{expect_stream, read_until_the_reply_begins, stream_chat};
use crate::sse;
use crate::upstream::{End, Script, Upstream};
use serde_json::json;
use std::time::{Duration, Instant};

#[tokio::test]
async fn an_upstream_failure_after_the_stream_began_is_an_error_part_with_only_a_category() {
    let mut script = Script::streaming(&["x"], Duration::ZERO);
    script.expression_status = Some(500);
    let upstream = Upstream::start(script).await;
    let app = app()
        .provider(&upstream.base_url)
        .env("PROVIDER_MAX_RETRIES", "0")
        .spawn()
        .await;

    let response = stream_chat(&app, &json!({"message": "hello"})).await;

    let response = expect_stream(response).await;
    let request_id = response.headers()["x-request-id"]
        .to_str()
        .expect("id")
        .to_owned();
    let body = response.text().await.expect("body");
    assert!(
        !body.contains("zqxUPSTREAM"),
        "an upstream detail reached the client: {body}"
    );
    let parts = sse::parts(&body);
    assert_eq!(sse::types(&parts), ["start", "error", "[DONE]"]);
    assert_eq!(
        parts[1]["errorText"],
        format!("provider.unavailable (request {request_id})")
    );
}

#[tokio::test]
async fn an_upstream_silent_longer_than_the_request_timeout_ends_the_turn_as_a_timeout() {
    let mut script = Script::streaming(&["First sentence here. ", "Then "], Duration::ZERO);
    script.end = End::Silence;
    let upstream = Upstream::start(script).await;
    let app = app()
        .provider(&upstream.base_url)
        .env("PROVIDER_REQUEST_TIMEOUT_MS", "400")
        .spawn()
        .await;

    let started = Instant::now();
    let response = stream_chat(&app, &json!({"message": "hello"})).await;
    let parts = sse::parts(&response.text().await.expect("body"));

    let types = sse::types(&parts);
    assert_eq!(types[types.len() - 2..], ["error", "[DONE]"], "{types:?}");
    assert!(parts[parts.len() - 2]["errorText"]
        .as_str()
        .is_some_and(|t| t.starts_with("provider.timeout (request ")));
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "{:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn a_client_that_leaves_cancels_the_upstream_request() {
    let mut script = Script::streaming(&["Word. "; 4], Duration::from_millis(50));
    script.end = End::Forever;
    let upstream = Upstream::start(script).await;
    let app = app().provider(&upstream.base_url).spawn().await;

    let mut response = stream_chat(&app, &json!({"message": "hello"})).await;
    read_until_the_reply_begins(&mut response).await;
    let left = Instant::now();
    drop(response);

    let deadline = Instant::now() + Duration::from_secs(5);
    while upstream.seen(|s| s.closed_at.is_none()) && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let closed_at = upstream
        .seen(|s| s.closed_at)
        .expect("the upstream saw its connection close");
    let after = closed_at.saturating_duration_since(left);
    assert!(
        after < Duration::from_secs(1),
        "closed {after:?} after the client left"
    );
}

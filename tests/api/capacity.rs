//! MAX_CONCURRENT_TURNS: a turn over the cap is aborted at once (503 aborted/capacity)
//! instead of queuing spend at the provider.
use crate::app::{app, json};
use crate::provider::{base_url, completion};
use serde_json::json;
use std::time::{Duration, Instant};
use wiremock::matchers::method;
use wiremock::{Mock, MockServer, ResponseTemplate};

#[tokio::test]
async fn a_turn_over_the_concurrency_cap_is_aborted_with_503_capacity() {
    let provider = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(completion("a slow reply"))
                .set_delay(Duration::from_millis(1500)),
        )
        .mount(&provider)
        .await;
    let app = app()
        .provider(&base_url(&provider))
        .env("MAX_CONCURRENT_TURNS", "1")
        .spawn()
        .await;
    app.wait_until_ready().await;

    let first = {
        let client = app.client.clone();
        let url = app.url("/api/chat");
        tokio::spawn(async move {
            client
                .post(url)
                .json(&json!({ "message": "first" }))
                .send()
                .await
                .unwrap()
        })
    };
    let deadline = Instant::now() + Duration::from_secs(10);
    while provider.received_requests().await.unwrap().is_empty() {
        assert!(
            Instant::now() < deadline,
            "the first turn never reached the provider"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }

    let second = app.post_chat(&json!({ "message": "second" })).await;
    assert_eq!(second.status(), 503);
    let body = json(second).await;
    assert_eq!(body["outcome"], "aborted");
    assert_eq!(body["category"], "capacity");

    assert_eq!(first.await.unwrap().status(), 200);
    // The slot is free again once the first turn ended.
    assert_eq!(
        app.post_chat(&json!({ "message": "third" })).await.status(),
        200
    );
    // Only the first and third turns reached the provider (two stages each).
    assert_eq!(provider.received_requests().await.unwrap().len(), 4);
}

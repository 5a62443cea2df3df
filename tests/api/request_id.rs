use crate::app::{app, json};

#[tokio::test]
async fn a_valid_incoming_request_id_is_reused() {
    let app = app().spawn().await;
    let response = app
        .client
        .get(app.url("/nope"))
        .header("x-request-id", "frontend-trace-0001")
        .send()
        .await
        .unwrap();
    assert_eq!(response.headers()["x-request-id"], "frontend-trace-0001");
    assert_eq!(json(response).await["request_id"], "frontend-trace-0001");
}

#[tokio::test]
async fn an_unsafe_incoming_request_id_is_replaced_by_a_uuid() {
    let app = app().spawn().await;
    for bad in [
        "short",
        "has spaces in it",
        "<script>alert(1)</script>",
        &"x".repeat(200),
    ] {
        let response = app
            .client
            .get(app.url("/health"))
            .header("x-request-id", bad)
            .send()
            .await
            .unwrap();
        let id = response.headers()["x-request-id"]
            .to_str()
            .unwrap()
            .to_owned();
        assert_ne!(id, bad);
        assert!(uuid::Uuid::parse_str(&id).is_ok(), "{id} is not a uuid");
    }
}

#[tokio::test]
async fn every_response_carries_a_request_id() {
    let app = app().spawn().await;
    for path in ["/health", "/ready", "/metrics", "/nope"] {
        let response = app.get(path).await.unwrap();
        assert!(response.headers().contains_key("x-request-id"), "{path}");
    }
    let response = app.post_chat_raw(Some("application/json"), "{").await;
    assert!(response.headers().contains_key("x-request-id"));
}

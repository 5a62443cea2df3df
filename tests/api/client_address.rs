use crate::app::{app, json};
use serde_json::json;

async fn new_session_from(app: &crate::app::TestApp, forwarded: Option<&str>) -> u16 {
    let mut request = app
        .client
        .post(app.url("/api/chat"))
        .json(&json!({ "message": "hello" }));
    if let Some(forwarded) = forwarded {
        request = request.header("x-forwarded-for", forwarded);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    json(response).await;
    status
}

/// Behind a trusted proxy, one new session per client address per hour.
async fn limited_app() -> crate::app::TestApp {
    let app = app()
        .env("TRUSTED_PROXY_HEADER", "X-Forwarded-For")
        .env("NEW_SESSIONS_PER_ADDRESS_PER_HOUR", "1")
        .spawn()
        .await;
    app.wait_until_ready().await;
    app
}

#[tokio::test]
async fn the_right_most_forwarded_entry_is_the_client_and_left_entries_cannot_dodge_the_limit() {
    let app = limited_app().await;
    assert_eq!(
        new_session_from(&app, Some("198.51.100.1, 203.0.113.9")).await,
        200
    );
    // A forged left-hand entry changes nothing: the proxy saw the same client.
    assert_eq!(
        new_session_from(&app, Some("198.51.100.2, 203.0.113.9")).await,
        429
    );
    assert_eq!(new_session_from(&app, Some("203.0.113.10")).await, 200);
}

#[tokio::test]
async fn without_the_proxy_header_the_peer_address_is_limited() {
    let app = limited_app().await;
    assert_eq!(new_session_from(&app, None).await, 200);
    assert_eq!(new_session_from(&app, None).await, 429);
}

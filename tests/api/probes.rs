use crate::app::{app, json};

#[tokio::test]
async fn health_is_ok_and_touches_nothing() {
    let app = app().spawn().await;
    let response = app.get("/health").await.unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(json(response).await, serde_json::json!({ "status": "ok" }));
}

#[tokio::test]
async fn development_default_is_ready_with_memory_store_and_offline_provider() {
    let app = app().spawn().await;
    app.wait_until_ready().await;
    let body = json(app.get("/ready").await.unwrap()).await;
    assert_eq!(body["status"], "ready");
    assert_eq!(body["checks"]["config"], "ok");
    assert_eq!(body["checks"]["database"], "ok");
    assert_eq!(body["checks"]["shutdown"], "ok");
}

#[tokio::test]
async fn ready_flips_to_503_as_soon_as_shutdown_begins() {
    let app = app().spawn().await;
    app.wait_until_ready().await;
    // Warm a keep-alive connection so the probe after shutdown reuses it.
    assert_eq!(app.get("/health").await.unwrap().status(), 200);
    let shutdown = app.shutdown.clone();
    let stopping = tokio::spawn(async move { shutdown.shutdown().await });
    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    if let Ok(response) = app.get("/ready").await {
        assert_eq!(response.status(), 503);
        assert_eq!(json(response).await["checks"]["shutdown"], "shutting_down");
    }
    stopping.await.unwrap();
}

#[tokio::test]
async fn unknown_routes_get_a_json_404_with_request_id() {
    let app = app().spawn().await;
    let response = app.get("/nope").await.unwrap();
    assert_eq!(response.status(), 404);
    let body = json(response).await;
    assert_eq!(body["error"], "not_found");
    assert!(body["request_id"].as_str().is_some_and(|id| !id.is_empty()));
}

#[tokio::test]
async fn wrong_method_on_chat_is_a_json_405() {
    let app = app().spawn().await;
    let response = app.get("/api/chat").await.unwrap();
    assert_eq!(response.status(), 405);
    assert_eq!(json(response).await["error"], "method_not_allowed");
}

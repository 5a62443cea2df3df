use crate::app::{json, production_app};
use serde_json::json;

#[tokio::test]
async fn production_with_missing_config_serves_health_but_is_not_ready_and_names_the_variables() {
    let app = production_app(
        "postgres://postgres@127.0.0.1:1/none",
        "https://127.0.0.1:1/v1",
    )
    .without("DATABASE_URL")
    .without("MODEL_PROVIDER_API_KEY")
    .env("CORS_ORIGINS", "*")
    .spawn()
    .await;
    assert_eq!(app.get("/health").await.unwrap().status(), 200);

    let response = app.get("/ready").await.unwrap();
    assert_eq!(response.status(), 503);
    let body = json(response).await;
    assert_eq!(body["status"], "not_ready");
    assert_eq!(body["checks"]["config"], "problems");
    let problems: Vec<&str> = body["problems"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|v| v.as_str())
        .collect();
    for name in ["DATABASE_URL", "MODEL_PROVIDER_API_KEY", "CORS_ORIGINS"] {
        assert!(problems.contains(&name), "{name} missing from {problems:?}");
    }
}

#[tokio::test]
async fn production_with_config_problems_answers_every_other_route_with_a_fixed_503() {
    let app = production_app(
        "postgres://postgres@127.0.0.1:1/none",
        "https://127.0.0.1:1/v1",
    )
    .without("ADDRESS_HASH_KEY")
    .spawn()
    .await;
    let chat = app.post_chat(&json!({ "message": "hello" })).await;
    assert_eq!(chat.status(), 503);
    let body = json(chat).await;
    assert_eq!(body["error"], "service_unavailable");
    assert_eq!(body.as_object().map(|o| o.len()), Some(2));
    for path in ["/metrics", "/anything", "/api/chat"] {
        assert_eq!(app.get(path).await.unwrap().status(), 503, "{path}");
    }
}

#[tokio::test]
async fn production_with_an_unreachable_database_is_not_ready_and_chat_fails_closed() {
    let app = production_app(
        "postgres://postgres@127.0.0.1:1/none",
        "https://127.0.0.1:1/v1",
    )
    .env("DATABASE_CONNECT_TIMEOUT_MS", "200")
    .spawn()
    .await;
    tokio::time::sleep(std::time::Duration::from_millis(400)).await;
    let ready = app.get("/ready").await.unwrap();
    assert_eq!(ready.status(), 503);
    assert_eq!(json(ready).await["checks"]["database"], "unreachable");

    let chat = app.post_chat(&json!({ "message": "hello" })).await;
    assert_eq!(chat.status(), 503);
    let body = json(chat).await;
    assert_eq!(body["outcome"], "aborted");
    assert_eq!(body["category"], "dependency.database");
    assert!(body.get("reply").is_none());
}

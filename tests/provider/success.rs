use crate::support::{completion, messages, provider, settings, v1, DEADLINE, KEY};
use governed_chat::provider::Stage;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

async fn answering(content: &str) -> MockServer {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v1/chat/completions"))
        .respond_with(ResponseTemplate::new(200).set_body_json(completion(content)))
        .mount(&server)
        .await;
    server
}

#[tokio::test]
async fn a_successful_call_returns_the_content_after_one_attempt() {
    let server = answering("Hi!").await;
    let provider = provider(&settings(&v1(&server)));

    let done = provider
        .complete(Stage::Reasoning, &messages(), DEADLINE)
        .await;

    let done = done.expect("the call succeeds");
    assert_eq!(done.text, "Hi!");
    assert_eq!(done.status, 200);
    assert_eq!(done.attempts, 1);
}

#[tokio::test]
async fn the_request_carries_the_bearer_key_and_the_exact_json_body() {
    let server = answering("ok").await;
    let provider = provider(&settings(&v1(&server)));

    provider
        .complete(Stage::Reasoning, &messages(), DEADLINE)
        .await
        .expect("success");

    let requests = server.received_requests().await.expect("recording is on");
    assert_eq!(requests.len(), 1);
    let request = &requests[0];
    assert_eq!(request.method.as_str(), "POST");
    assert_eq!(request.url.path(), "/v1/chat/completions");
    let header = |name: &str| request.headers.get(name).and_then(|v| v.to_str().ok());
    assert_eq!(
        header("authorization"),
        Some(format!("Bearer {KEY}").as_str())
    );
    assert_eq!(header("content-type"), Some("application/json"));
    assert_eq!(
        String::from_utf8_lossy(&request.body),
        concat!(
            r#"{"model":"reasoning-model","messages":["#,
            r#"{"role":"system","content":"Be brief."},"#,
            r#"{"role":"user","content":"Hello there, secret-user-text"}],"#,
            r#""max_tokens":256,"temperature":0,"stream":false}"#
        )
    );
}

#[tokio::test]
async fn the_expression_stage_uses_the_expression_model() {
    let server = answering("ok").await;
    let provider = provider(&settings(&v1(&server)));

    provider
        .complete(Stage::Expression, &messages(), DEADLINE)
        .await
        .expect("success");

    let requests = server.received_requests().await.expect("recording is on");
    let body: serde_json::Value = serde_json::from_slice(&requests[0].body).expect("json");
    assert_eq!(body["model"], "expression-model");
    assert_eq!(provider.models(), ("reasoning-model", "expression-model"));
    assert_eq!(provider.kind(), "openai");
}

#[tokio::test]
async fn a_base_url_with_a_trailing_slash_reaches_the_same_endpoint() {
    let server = answering("slash").await;
    let provider = provider(&settings(&format!("{}/v1/", server.uri())));

    let done = provider
        .complete(Stage::Reasoning, &messages(), DEADLINE)
        .await;

    assert_eq!(done.expect("success").text, "slash");
}

#[tokio::test]
async fn a_base_url_without_a_path_posts_to_chat_completions_at_the_root() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/chat/completions"))
        .respond_with(ResponseTemplate::new(200).set_body_json(completion("root")))
        .mount(&server)
        .await;
    let provider = provider(&settings(&server.uri()));

    let done = provider
        .complete(Stage::Reasoning, &messages(), DEADLINE)
        .await;

    assert_eq!(done.expect("success").text, "root");
}

#[tokio::test]
async fn the_provider_and_its_calls_can_be_shared_across_threads() {
    fn shareable<T: Send + Sync + Clone>(_: &T) {}
    fn sendable<F: std::future::Future + Send>(_: F) {}
    let provider = provider(&settings("http://127.0.0.1:9/v1"));
    shareable(&provider);
    let messages = messages();
    sendable(provider.complete(Stage::Reasoning, &messages, DEADLINE));
}

//! Upstream answers that end the call at once, each mapped to its `ProviderError`.
use crate::support::{completion, messages, provider, settings, v1, DEADLINE};
use governed_chat::provider::{ProviderError, Stage};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

/// Runs one reasoning call against a server that always answers `response`, and returns
/// the result with the number of requests the server saw.
async fn call_against(response: ResponseTemplate) -> (Result<String, ProviderError>, usize) {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v1/chat/completions"))
        .respond_with(response)
        .mount(&server)
        .await;
    let provider = provider(&settings(&v1(&server)));
    let result = provider
        .complete(Stage::Reasoning, &messages(), DEADLINE)
        .await;
    let seen = server
        .received_requests()
        .await
        .expect("recording is on")
        .len();
    (result.map(|done| done.text), seen)
}

fn json_body(body: &str) -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_raw(body.as_bytes().to_vec(), "application/json")
}

#[tokio::test]
async fn a_500_is_unavailable_and_not_retried() {
    let (result, seen) = call_against(ResponseTemplate::new(500)).await;
    assert_eq!(result, Err(ProviderError::Unavailable));
    assert_eq!(seen, 1);
}

#[tokio::test]
async fn unauthorised_and_forbidden_are_auth_failures_and_not_retried() {
    for status in [401, 403] {
        let (result, seen) = call_against(ResponseTemplate::new(status)).await;
        assert_eq!(result, Err(ProviderError::Auth), "{status}");
        assert_eq!(seen, 1, "{status}");
    }
}

#[tokio::test]
async fn refused_requests_are_rejected_and_not_retried() {
    for status in [400, 404, 413, 422] {
        let (result, seen) = call_against(ResponseTemplate::new(status)).await;
        assert_eq!(result, Err(ProviderError::Rejected), "{status}");
        assert_eq!(seen, 1, "{status}");
    }
}

#[tokio::test]
async fn other_client_errors_are_bad_responses_and_not_retried() {
    for status in [405, 408, 409, 418] {
        let (result, seen) = call_against(ResponseTemplate::new(status)).await;
        assert_eq!(result, Err(ProviderError::BadResponse), "{status}");
        assert_eq!(seen, 1, "{status}");
    }
}

#[tokio::test]
async fn invalid_json_is_a_bad_response_and_not_retried() {
    let (result, seen) = call_against(json_body("{\"choices\": [")).await;
    assert_eq!(result, Err(ProviderError::BadResponse));
    assert_eq!(seen, 1);
}

#[tokio::test]
async fn empty_choices_are_a_bad_response() {
    let (result, _) = call_against(json_body(r#"{"choices":[]}"#)).await;
    assert_eq!(result, Err(ProviderError::BadResponse));
}

#[tokio::test]
async fn missing_choices_or_unusable_content_are_bad_responses() {
    for body in [
        r#"{"id":"x"}"#,
        r#"{"choices":[{"message":{"role":"assistant","content":null}}]}"#,
        r#"{"choices":[{"message":{"role":"assistant","content":["a"]}}]}"#,
        r#"{"choices":[{"message":{"role":"assistant"}}]}"#,
        r#"{"choices":[{"message":{"role":"assistant","content":""}}]}"#,
    ] {
        let (result, _) = call_against(json_body(body)).await;
        assert_eq!(result, Err(ProviderError::BadResponse), "{body}");
    }
}

#[tokio::test]
async fn a_body_over_the_cap_is_a_bad_response() {
    // settings() caps bodies at 4096 bytes.
    let (result, _) =
        call_against(ResponseTemplate::new(200).set_body_json(completion(&"x".repeat(5000)))).await;
    assert_eq!(result, Err(ProviderError::BadResponse));
}

#[tokio::test]
async fn a_body_just_under_the_cap_is_accepted() {
    let content = "y".repeat(3500);
    let (result, _) =
        call_against(ResponseTemplate::new(200).set_body_json(completion(&content))).await;
    assert_eq!(result, Ok(content));
}

#[tokio::test]
async fn a_redirect_is_not_followed_and_is_a_bad_response() {
    let elsewhere = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200).set_body_json(completion("followed")))
        .mount(&elsewhere)
        .await;
    let location = format!("{}/v1/chat/completions", elsewhere.uri());

    let (result, seen) =
        call_against(ResponseTemplate::new(307).insert_header("location", location.as_str())).await;

    assert_eq!(result, Err(ProviderError::BadResponse));
    assert_eq!(seen, 1);
    let forwarded = elsewhere
        .received_requests()
        .await
        .expect("recording is on");
    assert!(
        forwarded.is_empty(),
        "the key must not be forwarded to a redirect target"
    );
}

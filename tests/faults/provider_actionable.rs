//! Provider failures an operator can act on, through the real HTTP path: a refused key and
//! a refused request get their own categories and are not retried, and the circuit breaker
//! fails turns fast while the provider is down, then lets one probe turn close it.
use crate::app::{app, TestApp};
use crate::provider::{base_url, completion};
use crate::support::{assert_aborted, assert_accepted, eventually, send_turn, Turn};
use std::time::Duration;
use wiremock::matchers::method;
use wiremock::{Mock, MockServer, ResponseTemplate};

const BREAKER_FAILURES: usize = 3;
/// Long enough that no test reaches its end by accident.
const LONG_COOLDOWN: Duration = Duration::from_secs(60);
/// For the test that waits it out.
const SHORT_COOLDOWN: Duration = Duration::from_millis(400);

async fn provider_answering(template: ResponseTemplate) -> MockServer {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(template)
        .mount(&server)
        .await;
    server
}

async fn requests_seen(server: &MockServer) -> usize {
    server.received_requests().await.map_or(0, |r| r.len())
}

async fn app_against(server: &MockServer) -> TestApp {
    app_with_cooldown(server, LONG_COOLDOWN).await
}

async fn app_with_cooldown(server: &MockServer, cooldown: Duration) -> TestApp {
    let app = app()
        .provider(&base_url(server))
        .env("PROVIDER_MAX_RETRIES", "2")
        .env("PROVIDER_BREAKER_FAILURES", &BREAKER_FAILURES.to_string())
        .env(
            "PROVIDER_BREAKER_COOLDOWN_MS",
            &cooldown.as_millis().to_string(),
        )
        .env("NEW_SESSIONS_PER_ADDRESS_PER_HOUR", "10000")
        .spawn()
        .await;
    app.wait_until_ready().await;
    app
}

async fn turn(app: &TestApp) -> Turn {
    send_turn(&app.client, &app.url("/api/chat"), "Hello there", None).await
}

async fn metrics(app: &TestApp) -> String {
    let response = app.get("/metrics").await.expect("metrics answer");
    response.text().await.expect("metrics text")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_key_ends_as_502_provider_auth_after_exactly_one_upstream_request() {
    for status in [401, 403] {
        let server = provider_answering(ResponseTemplate::new(status)).await;
        let app = app_against(&server).await;
        let turn = turn(&app).await;
        assert_aborted(&turn, 502, "provider.auth");
        assert_eq!(requests_seen(&server).await, 1, "{status} is not retried");
        let text = metrics(&app).await;
        assert!(
            text.contains(
                r#"governed_chat_provider_calls_total{stage="reasoning",category="provider.auth"} 1"#
            ),
            "{text}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_request_ends_as_502_provider_rejected_after_exactly_one_upstream_request() {
    for status in [400, 404, 413, 422] {
        let server = provider_answering(ResponseTemplate::new(status)).await;
        let app = app_against(&server).await;
        let turn = turn(&app).await;
        assert_aborted(&turn, 502, "provider.rejected");
        assert_eq!(requests_seen(&server).await, 1, "{status} is not retried");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rejected_requests_never_open_the_breaker() {
    let server = provider_answering(ResponseTemplate::new(422)).await;
    let app = app_against(&server).await;
    for _ in 0..BREAKER_FAILURES + 2 {
        assert_aborted(&turn(&app).await, 502, "provider.rejected");
    }
    assert_eq!(requests_seen(&server).await, BREAKER_FAILURES + 2);
    assert!(metrics(&app)
        .await
        .contains("governed_chat_provider_breaker_state 0"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_breaker_opens_after_consecutive_failures_and_the_next_turn_fails_fast_without_a_request(
) {
    let server = provider_answering(ResponseTemplate::new(500)).await;
    let app = app_against(&server).await;
    for _ in 0..BREAKER_FAILURES {
        assert_aborted(&turn(&app).await, 502, "provider.unavailable");
    }
    assert_eq!(
        requests_seen(&server).await,
        BREAKER_FAILURES,
        "500 is not retried"
    );

    let fast = turn(&app).await;
    assert_aborted(&fast, 502, "provider.unavailable");
    assert_eq!(
        requests_seen(&server).await,
        BREAKER_FAILURES,
        "the open breaker kept the turn from the upstream"
    );
    let text = metrics(&app).await;
    assert!(
        text.contains("governed_chat_provider_breaker_state 1"),
        "{text}"
    );
    assert!(
        text.contains("governed_chat_provider_breaker_opened_total 1"),
        "{text}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn after_the_cooldown_one_probe_turn_reaches_the_provider_and_its_success_closes_the_breaker()
{
    let server = provider_answering(ResponseTemplate::new(503)).await;
    let app = app_with_cooldown(&server, SHORT_COOLDOWN).await;
    for _ in 0..BREAKER_FAILURES {
        assert_aborted(&turn(&app).await, 502, "provider.unavailable");
    }
    let failed_requests = requests_seen(&server).await;
    assert_eq!(
        failed_requests,
        3 * BREAKER_FAILURES,
        "503 is retried twice"
    );

    // The provider recovers. Turns fail fast until the cool-down ends; then the probe turn
    // goes through and is answered.
    server.reset().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200).set_body_json(completion("Back again.")))
        .mount(&server)
        .await;
    let recovered = eventually(SHORT_COOLDOWN * 20, || async {
        let turn = turn(&app).await;
        if turn.status == 200 {
            assert_accepted(&turn);
            return true;
        }
        assert_aborted(&turn, 502, "provider.unavailable");
        assert_eq!(requests_seen(&server).await, 0, "no request while open");
        false
    })
    .await;
    assert!(recovered, "the probe turn never closed the breaker");
    assert_eq!(
        requests_seen(&server).await,
        2,
        "the probe turn's two stages"
    );
    assert_accepted(&turn(&app).await);
    let text = metrics(&app).await;
    assert!(
        text.contains("governed_chat_provider_breaker_state 0"),
        "{text}"
    );
    assert!(
        text.contains("governed_chat_provider_breaker_opened_total 1"),
        "{text}"
    );
}

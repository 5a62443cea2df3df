use crate::process::ServerProcess;
use crate::provider::{base_url, completion};
use std::time::Duration;
use wiremock::matchers::method;
use wiremock::{Mock, MockServer, ResponseTemplate};

async fn slow_provider(delay: Duration) -> MockServer {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(completion("All good."))
                .set_delay(delay),
        )
        .mount(&server)
        .await;
    server
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_with_turns_in_flight_completes_every_turn_then_exits_zero() {
    const TURNS: usize = 8;
    let provider = slow_provider(Duration::from_millis(700)).await;
    let provider_url = base_url(&provider);
    let mut server = ServerProcess::start(&[
        ("MODEL_PROVIDER_BASE_URL", provider_url.as_str()),
        ("MODEL_PROVIDER_API_KEY", "sk-test-shutdown-key-000000"),
        ("SHUTDOWN_TIMEOUT_SECONDS", "10"),
    ]);
    let client = reqwest::Client::new();
    server.wait_until_ready().await;

    let turns: Vec<_> = (0..TURNS)
        .map(|i| {
            let request = client
                .post(server.url("/api/chat"))
                .json(&serde_json::json!({ "message": format!("turn {i}") }));
            tokio::spawn(async move { request.send().await })
        })
        .collect();
    // Signal only once every turn has reached the provider, so all of them are in flight.
    for _ in 0..200 {
        if provider.received_requests().await.map_or(0, |r| r.len()) >= TURNS {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    server.sigterm();

    for turn in turns {
        let response = turn
            .await
            .unwrap()
            .expect("the in-flight turn got a response");
        assert_eq!(response.status(), 200);
        let body: serde_json::Value = response.json().await.unwrap();
        assert_eq!(body["outcome"], "accepted");
    }
    let status = server.wait_for_exit(Duration::from_secs(15));
    assert!(status.success(), "exit status {status:?}");
    let output = server.output().join("\n");
    assert!(output.contains("\"signal\":\"SIGTERM\""), "{output}");
    assert!(output.contains("\"event\":\"stopped\""), "{output}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn new_connections_after_sigterm_are_not_served_as_ready() {
    let provider = slow_provider(Duration::from_millis(1500)).await;
    let provider_url = base_url(&provider);
    let mut server = ServerProcess::start(&[
        ("MODEL_PROVIDER_BASE_URL", provider_url.as_str()),
        ("MODEL_PROVIDER_API_KEY", "sk-test-shutdown-key-000000"),
    ]);
    let client = reqwest::Client::new();
    server.wait_until_ready().await;
    let in_flight = client
        .post(server.url("/api/chat"))
        .json(&serde_json::json!({ "message": "slow" }))
        .send();
    let in_flight = tokio::spawn(in_flight);
    tokio::time::sleep(Duration::from_millis(300)).await;
    server.sigterm();
    tokio::time::sleep(Duration::from_millis(200)).await;
    // Either the listener is closed or readiness says 503: never "ready" while draining.
    let probe = reqwest::Client::new()
        .get(server.url("/ready"))
        .send()
        .await;
    if let Ok(response) = probe {
        assert_eq!(response.status(), 503);
    }
    assert_eq!(in_flight.await.unwrap().unwrap().status(), 200);
    assert!(server.wait_for_exit(Duration::from_secs(15)).success());
}

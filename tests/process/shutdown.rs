use crate::process::ServerProcess;
use crate::provider::{base_url, completion};
use std::time::{Duration, Instant};
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

/// Wait until `provider` has received `count` requests; fail after 5 s.
async fn wait_for_provider_requests(provider: &MockServer, count: usize) {
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let received = provider.received_requests().await.map_or(0, |r| r.len());
        if received >= count {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "the provider got {received} of {count} requests within 5 s"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
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
    wait_for_provider_requests(&provider, TURNS).await;
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
async fn after_sigterm_no_probe_is_answered_ready_and_the_listener_closes_while_a_turn_drains() {
    let provider = slow_provider(Duration::from_millis(2000)).await;
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
    wait_for_provider_requests(&provider, 1).await;
    server.sigterm();
    // The signal reaches the process asynchronously: probe once it says the drain began
    // (logged after readiness flipped).
    let noticed = Instant::now() + Duration::from_secs(5);
    while !server
        .output()
        .iter()
        .any(|line| line.contains("\"event\":\"shutdown\""))
    {
        assert!(
            Instant::now() < noticed,
            "the server never logged its shutdown"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }

    // Every probe on a new connection is either answered 503 (accepted before the listener
    // closed) or not served at all, until the listener refuses connections: never "ready".
    let fresh_connections = reqwest::Client::builder()
        .pool_max_idle_per_host(0)
        .timeout(Duration::from_secs(2))
        .build()
        .expect("a client");
    let deadline = Instant::now() + Duration::from_secs(3);
    let mut answered = Vec::new();
    loop {
        match fresh_connections.get(server.url("/ready")).send().await {
            Err(e) if e.is_connect() => break,
            Err(_) => {} // accepted, then closed unanswered by the draining server
            Ok(response) => answered.push(response.status().as_u16()),
        }
        assert!(
            Instant::now() < deadline,
            "the listener still accepts connections 3 s after SIGTERM (answers: {answered:?})"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert!(
        answered.iter().all(|&status| status == 503),
        "a probe after SIGTERM got {answered:?}"
    );
    assert!(
        !in_flight.is_finished(),
        "the listener closed only after the in-flight turn ended"
    );
    assert_eq!(in_flight.await.unwrap().unwrap().status(), 200);
    assert!(server.wait_for_exit(Duration::from_secs(15)).success());
}

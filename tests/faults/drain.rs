//! A drain as a redeploy meets it: the real binary is warm (both HTTP workers have opened
//! provider and database connections, which their pools share), one slow turn is in
//! flight on one worker while the other is idle, and SIGTERM arrives. The idle worker stops
//! at once; the turn it did not serve must still answer 200 and have its row.
//!
//! Whether the in-flight call rides a connection the idle worker opened is up to the pool,
//! so the drain is repeated for many rounds, each a fresh process.
use crate::db::TestDatabase;
use crate::process::ServerProcess;
use crate::provider::{base_url, completion};
use crate::support::{eventually, request_rows, send_turn, wait_for_readiness, Turn};
use std::collections::HashSet;
use std::time::Duration;
use wiremock::matchers::{body_string_contains, method};
use wiremock::{Mock, MockServer, ResponseTemplate};

const ROUNDS: usize = 12;
/// Concurrent warm-up turns, each on its own client connection, so both workers serve some.
const WARM_TURNS: usize = 24;
const SLOW_MARKER: &str = "slow drain turn";
const REASONING_MODEL: &str = "drain-reasoning-model";
/// The slow reasoning call: long enough to span SIGTERM and the idle worker's exit.
const SLOW_CALL: Duration = Duration::from_millis(1_200);

/// Fast answers, except the reasoning call of a slow turn.
async fn provider() -> MockServer {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(body_string_contains(SLOW_MARKER))
        .and(body_string_contains(REASONING_MODEL))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(completion("Slow but fine."))
                .set_delay(SLOW_CALL),
        )
        .with_priority(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200).set_body_json(completion("All good.")))
        .with_priority(2)
        .mount(&server)
        .await;
    server
}

async fn start(env: Vec<(&'static str, String)>) -> ServerProcess {
    tokio::task::spawn_blocking(move || {
        let pairs: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
        ServerProcess::start(&pairs)
    })
    .await
    .expect("starting the server process")
}

async fn wait_for_exit(mut server: ServerProcess) -> (std::process::ExitStatus, Vec<String>) {
    tokio::task::spawn_blocking(move || {
        let status = server.wait_for_exit(Duration::from_secs(20));
        (status, server.output())
    })
    .await
    .expect("waiting for the exit")
}

async fn provider_saw(provider: &MockServer, marker: &str) -> bool {
    provider.received_requests().await.is_some_and(|requests| {
        requests
            .iter()
            .any(|r| String::from_utf8_lossy(&r.body).contains(marker))
    })
}

/// One round: a fresh process, warm-up, one slow turn, SIGTERM. Returns every turn the
/// client saw answered (warm-up and slow) and the slow one.
async fn drain_round(
    round: usize,
    env: Vec<(&'static str, String)>,
    provider: &MockServer,
) -> (Vec<Turn>, Turn) {
    let server = start(env).await;
    let warm_client = reqwest::Client::new();
    let (ready, status, body, took) = wait_for_readiness(
        &warm_client,
        &server.url("/ready"),
        200,
        Duration::from_secs(10),
    )
    .await;
    assert!(ready, "never ready: {status} {body} after {took:?}");
    let chat_url = server.url("/api/chat");
    let warm: Vec<Turn> = futures::future::join_all((0..WARM_TURNS).map(|i| {
        let (client, url) = (warm_client.clone(), chat_url.clone());
        async move { send_turn(&client, &url, &format!("warm turn {round}.{i}"), None).await }
    }))
    .await;
    // Close the warm-up connections, so the worker that is not serving the slow turn is idle.
    drop(warm_client);

    let marker = format!("{SLOW_MARKER} {round}");
    let slow = {
        let (client, url, message) = (reqwest::Client::new(), chat_url.clone(), marker.clone());
        tokio::spawn(async move { send_turn(&client, &url, &message, None).await })
    };
    let in_flight = eventually(Duration::from_secs(5), || provider_saw(provider, &marker)).await;
    assert!(
        in_flight,
        "round {round}: the slow turn never reached the provider"
    );
    server.sigterm();
    let slow = slow.await.expect("the slow turn's task");
    let (status, output) = wait_for_exit(server).await;
    assert!(
        status.success(),
        "round {round}: exit {status:?}\n{}",
        output.join("\n")
    );
    (warm, slow)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_drain_finishes_the_in_flight_turn_after_every_worker_opened_pooled_connections() {
    let db = TestDatabase::create().await;
    let provider = provider().await;
    let env = vec![
        ("DATABASE_URL", db.url().to_owned()),
        ("MODEL_PROVIDER_BASE_URL", base_url(&provider)),
        ("MODEL_PROVIDER_API_KEY", "sk-test-drain-key-0000000".into()),
        ("LLM_REASONING_MODEL", REASONING_MODEL.into()),
        ("SHUTDOWN_TIMEOUT_SECONDS", "10".into()),
        ("NEW_SESSIONS_PER_ADDRESS_PER_HOUR", "100000".into()),
        ("LOG_LEVEL", "info".into()),
    ];

    let mut answered: Vec<Turn> = Vec::new();
    let mut failed: Vec<String> = Vec::new();
    for round in 0..ROUNDS {
        let (warm, slow) = drain_round(round, env.clone(), &provider).await;
        for turn in &warm {
            assert_eq!(turn.status, 200, "round {round} warm-up: {}", turn.body);
        }
        if slow.status != 200 {
            failed.push(format!("round {round}: {} {}", slow.status, slow.body));
        }
        answered.extend(warm);
        answered.push(slow);
    }
    eprintln!(
        "in-flight turns that failed during the drain: {} of {ROUNDS} rounds {failed:#?}",
        failed.len()
    );
    assert!(failed.is_empty(), "{failed:#?}");

    // Each process flushed its writer before exiting: every answered turn has its row.
    let rows = request_rows(&db.direct_client().await).await;
    let stored: HashSet<&str> = rows.iter().map(|r| r.request_id.as_str()).collect();
    let missing: Vec<&str> = answered
        .iter()
        .map(Turn::request_id)
        .filter(|id| !stored.contains(id))
        .collect();
    assert!(
        missing.is_empty(),
        "{} of {} turns have no row",
        missing.len(),
        answered.len()
    );
}

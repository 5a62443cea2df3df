//! The real binary under process-level faults: SIGTERM with turns in flight, and three
//! replicas sharing one database and therefore one quota.
use crate::db::TestDatabase;
use crate::process::ServerProcess;
use crate::provider::{base_url, completion};
use crate::support::{
    assert_accepted, eventually, request_rows, send_turn, wait_for_readiness, Turn,
};
use std::collections::HashSet;
use std::time::Duration;
use wiremock::matchers::method;
use wiremock::{Mock, MockServer, ResponseTemplate};

/// Starts the binary off the async workers (start-up polls with blocking sleeps).
async fn start(env: Vec<(&'static str, String)>) -> ServerProcess {
    tokio::task::spawn_blocking(move || {
        let pairs: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
        ServerProcess::start(&pairs)
    })
    .await
    .expect("starting the server process")
}

async fn wait_ready(client: &reqwest::Client, server: &ServerProcess) {
    let (ready, status, body, took) =
        wait_for_readiness(client, &server.url("/ready"), 200, Duration::from_secs(10)).await;
    assert!(
        ready,
        "never ready: {status} {body} after {took:?}\n{}",
        server.output().join("\n")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_under_load_completes_every_turn_exits_zero_and_flushes_one_row_per_turn() {
    const TURNS: usize = 20;
    let db = TestDatabase::create().await;
    let provider = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(completion("All good."))
                .set_delay(Duration::from_millis(500)),
        )
        .mount(&provider)
        .await;
    let server = start(vec![
        ("DATABASE_URL", db.url().to_owned()),
        ("MODEL_PROVIDER_BASE_URL", base_url(&provider)),
        (
            "MODEL_PROVIDER_API_KEY",
            "sk-test-faults-key-0000000".into(),
        ),
        ("SHUTDOWN_TIMEOUT_SECONDS", "10".into()),
        ("NEW_SESSIONS_PER_ADDRESS_PER_HOUR", "1000".into()),
        ("TURN_DEADLINE_MS", "10000".into()),
    ])
    .await;
    let client = reqwest::Client::new();
    wait_ready(&client, &server).await;

    let chat_url = server.url("/api/chat");
    let turns: Vec<_> = (0..TURNS)
        .map(|i| {
            let (client, url) = (client.clone(), chat_url.clone());
            tokio::spawn(async move { send_turn(&client, &url, &format!("turn {i}"), None).await })
        })
        .collect();
    // Signal only once every turn has reached the provider (its first stage).
    let in_flight = eventually(Duration::from_secs(5), || async {
        provider.received_requests().await.map_or(0, |r| r.len()) >= TURNS
    })
    .await;
    assert!(in_flight, "the provider never saw {TURNS} calls");
    server.sigterm();

    let mut completed: Vec<Turn> = Vec::new();
    for turn in turns {
        completed.push(turn.await.expect("a turn task"));
    }
    for turn in &completed {
        assert_accepted(turn);
    }
    let mut server = server;
    let (status, server) = tokio::task::spawn_blocking(move || {
        let status = server.wait_for_exit(Duration::from_secs(15));
        (status, server)
    })
    .await
    .expect("waiting for the exit");
    assert!(
        status.success(),
        "exit status {status:?}\n{}",
        server.output().join("\n")
    );

    // The writer flushed before exit: read once, no waiting.
    let rows = request_rows(&db.direct_client().await).await;
    let ids: HashSet<&str> = completed.iter().map(Turn::request_id).collect();
    let stored: HashSet<&str> = rows.iter().map(|r| r.request_id.as_str()).collect();
    eprintln!(
        "completed turns: {}, rows after exit: {}",
        completed.len(),
        rows.len()
    );
    assert_eq!(
        rows.len(),
        completed.len(),
        "rows {} vs completed turns {}",
        rows.len(),
        completed.len()
    );
    assert_eq!(stored, ids, "the rows are exactly the completed turns");
    assert!(
        rows.iter()
            .all(|r| r.outcome == "accepted" && r.http_status == 200),
        "{rows:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_replicas_on_one_database_share_one_per_minute_quota_exactly() {
    const PER_MINUTE: usize = 5;
    let db = TestDatabase::create().await;
    let env = vec![
        ("DATABASE_URL", db.url().to_owned()),
        ("QUOTA_PER_MINUTE", PER_MINUTE.to_string()),
        ("NEW_SESSIONS_PER_ADDRESS_PER_HOUR", "1000".to_owned()),
        (
            "ADDRESS_HASH_KEY",
            "faults-shared-address-hash-key-0123".to_owned(),
        ),
        ("LOG_LEVEL", "info".to_owned()),
    ];
    let servers = futures::future::join_all((0..3).map(|_| start(env.clone()))).await;
    let client = reqwest::Client::new();
    for server in &servers {
        wait_ready(&client, server).await;
    }

    let first = send_turn(&client, &servers[0].url("/api/chat"), "Hello there!", None).await;
    assert_accepted(&first);
    let session = first.session_id().expect("a session id").to_owned();

    let turns: Vec<Turn> = futures::future::join_all((0..3 * PER_MINUTE).map(|i| {
        let url = servers[i % servers.len()].url("/api/chat");
        let (client, session) = (client.clone(), session.clone());
        async move { send_turn(&client, &url, &format!("turn {i}"), Some(&session)).await }
    }))
    .await;

    let accepted = 1 + turns.iter().filter(|t| t.status == 200).count();
    let refused: Vec<&Turn> = turns.iter().filter(|t| t.status == 429).collect();
    let per_status: Vec<(u16, &str, &str)> = turns
        .iter()
        .map(|t| (t.status, t.outcome(), t.category()))
        .collect();
    eprintln!(
        "accepted {accepted} (with the first), refused {} of {} turns on 3 replicas",
        refused.len(),
        turns.len() + 1
    );
    assert_eq!(
        accepted, PER_MINUTE,
        "accepted across 3 replicas (the first turn counts): {per_status:?}"
    );
    assert_eq!(
        refused.len(),
        3 * PER_MINUTE - (PER_MINUTE - 1),
        "{per_status:?}"
    );
    for turn in &turns {
        match turn.status {
            200 => {
                assert_accepted(turn);
                assert_eq!(turn.session_id(), Some(session.as_str()));
            }
            _ => {
                assert_eq!(
                    (turn.status, turn.outcome(), turn.category()),
                    (429, "refused", "quota"),
                    "{}",
                    turn.body
                );
                assert_eq!(turn.session_id(), Some(session.as_str()), "{}", turn.body);
            }
        }
    }
    // Every replica took part (round-robin), so the limit really was shared.
    for (i, server) in servers.iter().enumerate() {
        let lines = server.output();
        assert!(
            lines.iter().any(|l| l.contains("turn finished")),
            "replica {i} served no turn"
        );
    }
}

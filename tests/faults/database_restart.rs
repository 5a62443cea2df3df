//! A real database restart under load: a private PostgreSQL server (its own cluster, on its
//! own port) is stopped and started again while turns keep coming. Readiness and turns fail
//! fast and closed during the outage, recover by themselves, and no answered turn loses its
//! row.
use crate::app::{app, TestApp};
use crate::pg_cluster::PgCluster;
use crate::provider::{base_url, provider_replying};
use crate::support::{
    assert_aborted, assert_accepted, eventually, send_turn, wait_for_readiness, Turn,
};
use std::collections::HashSet;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

const CLIENTS: usize = 3;
/// Each client's pace: outage turns fail in microseconds, and the load must stay a load.
const PACE: Duration = Duration::from_millis(20);
const READY_DOWN_WITHIN: Duration = Duration::from_secs(3);
const OUTAGE_TURN_WITHIN: Duration = Duration::from_secs(3);
const READY_AGAIN_WITHIN: Duration = Duration::from_secs(8);

/// Turns sent in a loop by a few clients until stopped, each kept as the client saw it.
struct Load {
    running: Arc<AtomicBool>,
    turns: Arc<Mutex<Vec<Turn>>>,
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

impl Load {
    fn start(app: &TestApp) -> Load {
        let running = Arc::new(AtomicBool::new(true));
        let turns = Arc::new(Mutex::new(Vec::new()));
        let tasks = (0..CLIENTS)
            .map(|client_index| {
                let (running, turns) = (Arc::clone(&running), Arc::clone(&turns));
                let (client, url) = (app.client.clone(), app.url("/api/chat"));
                tokio::spawn(async move {
                    let mut n = 0;
                    let mut pace = tokio::time::interval(PACE);
                    pace.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
                    while running.load(Ordering::Relaxed) {
                        pace.tick().await;
                        let message = format!("load turn {client_index}.{n}");
                        let turn = send_turn(&client, &url, &message, None).await;
                        turns.lock().expect("not poisoned").push(turn);
                        n += 1;
                    }
                })
            })
            .collect();
        Load {
            running,
            turns,
            tasks,
        }
    }

    fn accepted(&self) -> usize {
        let turns = self.turns.lock().expect("not poisoned");
        turns.iter().filter(|t| t.status == 200).count()
    }

    async fn stop(self) -> Vec<Turn> {
        self.running.store(false, Ordering::Relaxed);
        for task in self.tasks {
            task.await.expect("a load client");
        }
        let turns = self.turns.lock().expect("not poisoned");
        turns.clone()
    }
}

async fn blocking<T: Send + 'static>(work: impl FnOnce() -> T + Send + 'static) -> T {
    tokio::task::spawn_blocking(work)
        .await
        .expect("a blocking step")
}

async fn stored_request_ids(url: &str) -> HashSet<String> {
    let Ok((client, connection)) = tokio_postgres::connect(url, tokio_postgres::NoTls).await else {
        return HashSet::new();
    };
    tokio::spawn(connection);
    client
        .query("SELECT request_id FROM requests", &[])
        .await
        .map(|rows| rows.iter().map(|row| row.get(0)).collect())
        .unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_database_restart_under_load_fails_turns_fast_then_recovers_without_losing_rows() {
    let cluster = Arc::new(blocking(PgCluster::start).await);
    let provider = provider_replying("All good.").await;
    let app = app()
        .provider(&base_url(&provider))
        .env("DATABASE_URL", &cluster.url())
        .env("MIGRATE_ON_START", "true")
        .env("DATABASE_CONNECT_TIMEOUT_MS", "1000")
        .env("DATABASE_QUERY_TIMEOUT_MS", "1000")
        .env("NEW_SESSIONS_PER_ADDRESS_PER_HOUR", "100000")
        .spawn()
        .await;
    app.wait_until_ready().await;
    let ready_url = app.url("/ready");
    let chat_url = app.url("/api/chat");

    let load = Load::start(&app);
    let warmed = eventually(Duration::from_secs(10), || async { load.accepted() >= 20 }).await;
    assert!(warmed, "the load never got going");

    // Stop the server: readiness and turns fail fast and closed.
    let stopping = Arc::clone(&cluster);
    blocking(move || stopping.stop_server()).await;
    let (down, status, body, took) =
        wait_for_readiness(&app.client, &ready_url, 503, READY_DOWN_WITHIN).await;
    assert!(down, "/ready still {status} {body} {took:?} after the stop");
    eprintln!("/ready answered 503 {took:?} after the database stopped");
    for i in 0..5 {
        let turn = send_turn(&app.client, &chat_url, &format!("outage turn {i}"), None).await;
        assert_aborted(&turn, 503, "dependency.database");
        assert!(
            turn.elapsed < OUTAGE_TURN_WITHIN,
            "an outage turn took {:?}",
            turn.elapsed
        );
    }

    // Start it again: readiness and turns recover by themselves.
    let starting = Arc::clone(&cluster);
    blocking(move || starting.start_server()).await;
    let (up, status, body, took) =
        wait_for_readiness(&app.client, &ready_url, 200, READY_AGAIN_WITHIN).await;
    assert!(
        up,
        "/ready still {status} {body} {took:?} after the restart"
    );
    eprintln!("/ready answered 200 {took:?} after the database restarted");
    let first = send_turn(&app.client, &chat_url, "right after the restart", None).await;
    assert_accepted(&first);
    let more = eventually(Duration::from_secs(10), || async { load.accepted() >= 40 }).await;
    assert!(more, "the load did not recover");

    let turns = load.stop().await;
    for turn in &turns {
        match turn.status {
            200 => assert_accepted(turn),
            _ => {
                assert_aborted(turn, 503, "dependency.database");
                assert!(
                    turn.elapsed < OUTAGE_TURN_WITHIN,
                    "a turn took {:?}",
                    turn.elapsed
                );
            }
        }
    }
    let accepted: Vec<&str> = turns
        .iter()
        .chain([&first])
        .filter(|t| t.status == 200)
        .map(Turn::request_id)
        .collect();
    let url = cluster.url();
    let missing = std::cell::Cell::new(accepted.len());
    let all_stored = eventually(Duration::from_secs(10), || async {
        let stored = stored_request_ids(&url).await;
        missing.set(accepted.iter().filter(|id| !stored.contains(**id)).count());
        missing.get() == 0
    })
    .await;
    let missing = missing.get();
    eprintln!(
        "load turns: {} ({} accepted, {} aborted/dependency.database); accepted without a row: {missing}",
        turns.len(),
        accepted.len() - 1,
        turns.len() + 1 - accepted.len()
    );
    assert!(all_stored, "{missing} accepted turns have no row");
}

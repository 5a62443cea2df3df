//! The database going away or stalling under a running app: the app reaches Postgres
//! through a TCP proxy that the test cuts and restores. Turns fail closed (503,
//! `dependency.database`) within the database timeouts, readiness follows the database by
//! itself, and every turn that ended with an outcome gets its `requests` row once the
//! database is back.
use crate::app::{app, TestApp};
use crate::db::TestDatabase;
use crate::provider::{base_url, completion};
use crate::proxy::{target_of, Proxy};
use crate::support::{
    assert_aborted, assert_accepted, readiness, request_rows, send_turn, wait_for_readiness,
    RequestRow, Turn,
};
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use wiremock::matchers::method;
use wiremock::{Mock, MockServer, ResponseTemplate};

const CONNECT_TIMEOUT: Duration = Duration::from_millis(500);
const QUERY_TIMEOUT: Duration = Duration::from_millis(500);
const SLACK: Duration = Duration::from_millis(1500);

/// A development app storing metadata in `database_url`, with short database timeouts, a
/// fast writer, and no per-address new-session limit in the way.
async fn app_on(database_url: &str, provider: Option<&MockServer>) -> TestApp {
    let mut builder = app()
        .env("DATABASE_URL", database_url)
        .env(
            "DATABASE_CONNECT_TIMEOUT_MS",
            &CONNECT_TIMEOUT.as_millis().to_string(),
        )
        .env(
            "DATABASE_QUERY_TIMEOUT_MS",
            &QUERY_TIMEOUT.as_millis().to_string(),
        )
        .env("WRITER_FLUSH_INTERVAL_MS", "50")
        .env("NEW_SESSIONS_PER_ADDRESS_PER_HOUR", "1000000")
        .env("TURN_DEADLINE_MS", "3000");
    if let Some(provider) = provider {
        builder = builder.provider(&base_url(provider));
    }
    builder.spawn().await
}

async fn chat(app: &TestApp) -> Turn {
    send_turn(&app.client, &app.url("/api/chat"), "Hello there!", None).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_database_down_at_start_makes_the_app_unready_until_it_returns_by_itself() {
    let db = TestDatabase::create().await;
    let proxy = Proxy::start(target_of(db.url())).await;
    proxy.cut();
    let app = app_on(&proxy.url_for(db.url()), None).await;
    let ready = app.url("/ready");

    // The first check ran and found the database unreachable.
    let started = Instant::now();
    let (status, body) = loop {
        let (status, body) = readiness(&app.client, &ready).await;
        if body["checks"]["database"] != "pending" || started.elapsed() > Duration::from_secs(5) {
            break (status, body);
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert_eq!(status, 503, "{body}");
    assert_eq!(body["checks"]["database"], "unreachable", "{body}");
    assert_eq!(body["status"], "not_ready", "{body}");
    let turn = chat(&app).await;
    assert_aborted(&turn, 503, "dependency.database");
    assert!(turn.elapsed < QUERY_TIMEOUT + SLACK, "{:?}", turn.elapsed);

    proxy.restore();
    let (ok, status, body, took) =
        wait_for_readiness(&app.client, &ready, 200, Duration::from_secs(5)).await;
    assert!(
        ok,
        "still {status} {body} {took:?} after the database returned"
    );
    assert_eq!(body["checks"]["database"], "ok", "{body}");
    assert_accepted(&chat(&app).await);
}

/// What a turn's row must say: outcome, category, HTTP status.
type Expected = (String, Option<String>, i16);

/// Turns sent by the load workers, with whether each started after the cut settled.
type Log = Arc<Mutex<Vec<(Turn, bool)>>>;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_database_lost_mid_load_fails_turns_closed_and_every_finished_turn_is_recorded_later() {
    const SERVED_BEFORE: usize = 8;
    const WORKERS: usize = 4;
    let db = TestDatabase::create().await;
    let proxy = Proxy::start(target_of(db.url())).await;
    // A provider slow enough that turns admitted before the cut are still in flight at it.
    let provider = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(completion("All good."))
                .set_delay(Duration::from_millis(100)),
        )
        .mount(&provider)
        .await;
    let app = app_on(&proxy.url_for(db.url()), Some(&provider)).await;
    app.wait_until_ready().await;
    let chat_url = app.url("/api/chat");

    // Phase 1: the database is up; turns are served.
    let served: Vec<Turn> = futures::future::join_all(
        (0..SERVED_BEFORE).map(|_| send_turn(&app.client, &chat_url, "Hello there!", None)),
    )
    .await;
    for turn in &served {
        assert_accepted(turn);
    }

    // Phase 2: load keeps coming while the database goes away.
    let log: Log = Arc::default();
    let stop = Arc::new(AtomicBool::new(false));
    let cut_at: Arc<Mutex<Option<Instant>>> = Arc::default();
    let workers: Vec<_> = (0..WORKERS)
        .map(|_| {
            let (client, url, log, stop, cut_at) = (
                app.client.clone(),
                chat_url.clone(),
                Arc::clone(&log),
                Arc::clone(&stop),
                Arc::clone(&cut_at),
            );
            tokio::spawn(async move {
                while !stop.load(Ordering::SeqCst) {
                    let turn = send_turn(&client, &url, "Hello there!", None).await;
                    // Relays end asynchronously after the cut: give them 100 ms to settle.
                    let after_cut = cut_at
                        .lock()
                        .unwrap()
                        .is_some_and(|at| turn.started > at + Duration::from_millis(100));
                    log.lock().unwrap().push((turn, after_cut));
                    tokio::time::sleep(Duration::from_millis(20)).await;
                }
            })
        })
        .collect();
    tokio::time::sleep(Duration::from_millis(600)).await;
    proxy.cut();
    let cut = Instant::now();
    *cut_at.lock().unwrap() = Some(cut);

    let (unready, status, body, took) =
        wait_for_readiness(&app.client, &app.url("/ready"), 503, Duration::from_secs(5)).await;
    assert!(
        unready,
        "/ready still {status} {body} {took:?} after the cut"
    );
    assert_eq!(body["checks"]["database"], "unreachable", "{body}");
    tokio::time::sleep(Duration::from_millis(1500)).await;
    stop.store(true, Ordering::SeqCst);
    for worker in workers {
        worker.await.expect("a load worker");
    }
    let during: Vec<(Turn, bool)> = std::mem::take(&mut *log.lock().unwrap());

    let bound_down = CONNECT_TIMEOUT + QUERY_TIMEOUT + SLACK;
    let bound_up = Duration::from_millis(3000) + SLACK;
    let mut counts: HashMap<(u16, String), usize> = HashMap::new();
    for (turn, after_cut) in &during {
        *counts
            .entry((turn.status, turn.category().to_owned()))
            .or_default() += 1;
        assert_ne!(turn.status, 500, "{}", turn.body);
        if *after_cut {
            assert_aborted(turn, 503, "dependency.database");
            assert!(
                turn.elapsed < bound_down,
                "a turn after the cut took {:?}",
                turn.elapsed
            );
        } else {
            match turn.status {
                200 => assert_accepted(turn),
                _ => assert_aborted(turn, 503, "dependency.database"),
            }
            assert!(turn.elapsed < bound_up, "a turn took {:?}", turn.elapsed);
        }
    }
    let after_cut = during.iter().filter(|(_, after)| *after).count();
    // Admitted before the cut, answered after it: their rows were queued while it was down.
    let accepted_across_cut = during
        .iter()
        .filter(|(t, _)| t.status == 200 && t.started + t.elapsed > cut)
        .count();
    assert!(
        after_cut >= 10,
        "too few turns ran while the database was down: {counts:?}"
    );

    // Phase 3: the database returns; readiness and turns recover by themselves.
    proxy.restore();
    let (ready, status, body, took) =
        wait_for_readiness(&app.client, &app.url("/ready"), 200, Duration::from_secs(5)).await;
    assert!(ready, "/ready still {status} {body} {took:?} after restore");
    let recovered = chat(&app).await;
    assert_accepted(&recovered);

    // Every turn that ended with an outcome has exactly one row once the writer catches up.
    let mut expected: HashMap<String, Expected> = HashMap::new();
    for turn in served
        .iter()
        .chain(during.iter().map(|(turn, _)| turn))
        .chain([&recovered])
        .filter(|turn| turn.has_outcome())
    {
        let category = turn.body["category"].as_str().map(str::to_owned);
        let status = i16::try_from(turn.status).expect("a status");
        expected.insert(
            turn.request_id().to_owned(),
            (turn.outcome().to_owned(), category, status),
        );
    }
    let accepted = expected
        .values()
        .filter(|(o, _, _)| o == "accepted")
        .count();
    let direct = db.direct_client().await;
    let started = Instant::now();
    let (rows, caught_up) = loop {
        let rows = request_rows(&direct).await;
        if rows.len() >= expected.len() {
            break (rows, true);
        }
        if started.elapsed() > Duration::from_secs(10) {
            break (rows, false);
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let stored: HashMap<&str, &RequestRow> =
        rows.iter().map(|r| (r.request_id.as_str(), r)).collect();
    let missing: Vec<(&String, &Expected)> = expected
        .iter()
        .filter(|(id, _)| !stored.contains_key(id.as_str()))
        .collect();
    let summary = format!(
        "turns with an outcome: {} ({} accepted, {} served before the cut, {} during the \
         outage window by status/category {counts:?}, {after_cut} started after the cut, \
         {accepted_across_cut} admitted before it and answered after it), rows: {} ({} distinct), missing: {} \
         e.g. {:?}, caught up: {caught_up}",
        expected.len(),
        accepted,
        served.len(),
        during.len(),
        rows.len(),
        stored.len(),
        missing.len(),
        missing.iter().take(3).collect::<Vec<_>>()
    );
    eprintln!("{summary}");
    assert!(missing.is_empty(), "{summary}");
    assert!(
        accepted_across_cut >= 1,
        "no admitted turn was in flight at the cut: {summary}"
    );
    assert_eq!(rows.len(), stored.len(), "duplicate rows: {summary}");
    assert_eq!(rows.len(), expected.len(), "extra rows: {summary}");
    for row in &rows {
        let (outcome, category, status) = &expected[&row.request_id];
        assert_eq!(
            (&row.outcome, &row.category, &row.http_status),
            (outcome, category, status),
            "{}",
            row.request_id
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_query_stuck_behind_a_table_lock_ends_the_turn_as_503_within_the_query_timeout() {
    const LOCK_QUERY_TIMEOUT: Duration = Duration::from_millis(300);
    let db = TestDatabase::create().await;
    let app = app()
        .env("DATABASE_URL", db.url())
        .env(
            "DATABASE_QUERY_TIMEOUT_MS",
            &LOCK_QUERY_TIMEOUT.as_millis().to_string(),
        )
        .env("NEW_SESSIONS_PER_ADDRESS_PER_HOUR", "1000000")
        .spawn()
        .await;
    app.wait_until_ready().await;
    let first = chat(&app).await;
    assert_accepted(&first);
    let session = first.session_id().expect("a session").to_owned();

    let blocker = db.direct_client().await;
    blocker
        .batch_execute("BEGIN; LOCK TABLE sessions IN ACCESS EXCLUSIVE MODE")
        .await
        .expect("locking the sessions table");
    let chat_url = app.url("/api/chat");
    let fresh = send_turn(&app.client, &chat_url, "Hello there!", None).await;
    let continued = send_turn(&app.client, &chat_url, "Hello again!", Some(&session)).await;
    for turn in [&fresh, &continued] {
        assert_aborted(turn, 503, "dependency.database");
        assert!(
            turn.elapsed < LOCK_QUERY_TIMEOUT + Duration::from_millis(1200),
            "the turn waited {:?} on the lock (query timeout {LOCK_QUERY_TIMEOUT:?})",
            turn.elapsed
        );
    }
    eprintln!(
        "behind the lock: fresh session {:?}, existing session {:?}",
        fresh.elapsed, continued.elapsed
    );

    blocker
        .batch_execute("ROLLBACK")
        .await
        .expect("releasing the lock");
    assert_accepted(&send_turn(&app.client, &chat_url, "Hello there!", None).await);
    assert_accepted(&send_turn(&app.client, &chat_url, "Hello again!", Some(&session)).await);
}

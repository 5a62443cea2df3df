//! A turn that a concurrent turn pushes over the user's or the address's limit after its
//! session was already counted: `gc_admit` (migrations/0006) raises and the whole turn rolls
//! back. Each test holds the limit's row in an open transaction that fills the window, lets
//! the turn get past its reads and count its session, then commits: the turn's counting
//! write sees the full window, and nothing the turn wrote may remain.
use crate::db::TestDatabase;
use crate::support::{admit_as, eventually, scalar};
use governed_chat::domain::SessionId;
use governed_chat::store::{Admission, Store};
use std::sync::Arc;
use std::time::Duration;

const ALICE: &str = "5b0c8a4e-1f3d-4e2a-9c6b-7d8e9f0a1b2c";
const ADDRESS: &str = "198.51.100.80";

async fn first_turn(store: &Store) -> SessionId {
    match admit_as(store, Some(ALICE), None, Some(ADDRESS)).await {
        Admission::Admitted {
            session_id,
            new_session: true,
        } => session_id,
        other => panic!("expected a new session, got {other:?}"),
    }
}

/// The session's counters, as text: "turn_count minute_count day_count".
async fn session_counts(client: &tokio_postgres::Client, id: &SessionId) -> String {
    scalar(
        client,
        &format!(
            "SELECT turn_count || ' ' || minute_count || ' ' || day_count FROM sessions
              WHERE id = '{}'",
            id.as_str()
        ),
    )
    .await
}

/// The racing turn was refused as a continuing turn, and its session's counters are those of
/// the first turn alone.
async fn assert_refused_leaving_the_session_as_it_was(
    client: &tokio_postgres::Client,
    id: &SessionId,
    answer: Admission,
) {
    assert_eq!(
        answer,
        Admission::OverQuota {
            session_id: Some(id.clone())
        }
    );
    assert_eq!(
        session_counts(client, id).await,
        "1 1 1",
        "the session was put back"
    );
}

/// Fills a window in a transaction left open (`fill` is an UPDATE), starts Alice's next
/// turn, waits until that turn waits on the row lock, commits, and returns the turn's answer.
async fn turn_racing(
    db: &TestDatabase,
    store: &Arc<Store>,
    id: &SessionId,
    fill: &str,
) -> Admission {
    let racer = db.client().await;
    racer
        .batch_execute(&format!("BEGIN; {fill}"))
        .await
        .expect("filling the window in an open transaction");
    let turn = tokio::spawn({
        let store = Arc::clone(store);
        let id = id.clone();
        async move { admit_as(&store, Some(ALICE), Some(&id), Some(ADDRESS)).await }
    });
    let watcher = db.client().await;
    let waiting = eventually(Duration::from_secs(10), || async {
        scalar(
            &watcher,
            "SELECT count(*) FROM pg_stat_activity
              WHERE datname = current_database() AND wait_event_type = 'Lock'
                AND query LIKE '%gc_admit%'",
        )
        .await
            == "1"
    })
    .await;
    assert!(waiting, "the turn never waited on the window's row");
    racer.batch_execute("COMMIT").await.expect("commit");
    turn.await.expect("the racing turn")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_turn_the_address_refuses_after_counting_its_session_leaves_the_session_as_it_was() {
    let db = TestDatabase::create().await;
    let settings = db.settings().with_turn_limits(5, 100, 1_000);
    let store = Arc::new(settings.store());
    let id = first_turn(&store).await;
    let client = db.client().await;
    assert_eq!(session_counts(&client, &id).await, "1 1 1");
    let answer = turn_racing(&db, &store, &id, "UPDATE address_limits SET turns = 5").await;
    assert_refused_leaving_the_session_as_it_was(&client, &id, answer).await;
    assert_eq!(
        scalar(&client, "SELECT minute_count FROM users").await,
        "1",
        "the user was put back"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_turn_the_user_limit_refuses_after_counting_its_session_leaves_the_session_as_it_was() {
    let db = TestDatabase::create().await;
    let settings = db.settings().with_turn_limits(1_000, 5, 1_000);
    let store = Arc::new(settings.store());
    let id = first_turn(&store).await;
    let client = db.client().await;
    let answer = turn_racing(&db, &store, &id, "UPDATE users SET minute_count = 5").await;
    assert_refused_leaving_the_session_as_it_was(&client, &id, answer).await;
    assert_eq!(
        scalar(&client, "SELECT turns FROM address_limits").await,
        "1",
        "the address was not counted"
    );
}

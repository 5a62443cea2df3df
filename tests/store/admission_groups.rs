//! Turns that arrive while one admission is in flight go to Postgres together, in one call
//! of `gc_admit_each` (migrations/0007), and get the answers they would get one by one in
//! arrival order. These tests run on one thread, whose lane groups every turn; each holds a
//! session's row in an open transaction so that a call stays in flight while they look.
use crate::db::TestDatabase;
use crate::support::{admit, eventually, new_session, scalar};
use governed_chat::domain::SessionId;
use governed_chat::store::{Admission, Store};
use std::sync::Arc;
use std::time::Duration;
use tokio::task::JoinHandle;

/// Holds `id`'s session row in a transaction left open until [`Held::release`].
struct Held(tokio_postgres::Client);

impl Held {
    async fn hold(db: &TestDatabase, id: &SessionId) -> Held {
        let client = db.client().await;
        client
            .batch_execute(&format!(
                "BEGIN; SELECT 1 FROM sessions WHERE id = '{}' FOR UPDATE",
                id.as_str()
            ))
            .await
            .expect("holding the session's row");
        Held(client)
    }

    async fn release(self) {
        self.0.batch_execute("COMMIT").await.expect("commit");
    }
}

/// Waits until exactly one admission statement is in flight, waiting on a lock, and it
/// starts with `statement`.
async fn wait_for_one_call_waiting(db: &TestDatabase, statement: &str) {
    let watcher = db.client().await;
    let seen = eventually(Duration::from_secs(10), || async {
        scalar(
            &watcher,
            &format!(
                "SELECT count(*) FILTER (WHERE query LIKE '{statement}%' AND wait_event_type = 'Lock')
                        || ' ' || count(*)
                   FROM pg_stat_activity
                  WHERE datname = current_database() AND query LIKE '%gc_admit%'
                    AND state = 'active' AND pid <> pg_backend_pid()"
            ),
        )
        .await
            == "1 1"
    })
    .await;
    assert!(seen, "no single call of {statement} waited on the held row");
}

fn spawn_turn(store: &Arc<Store>, id: &SessionId) -> JoinHandle<Admission> {
    let store = Arc::clone(store);
    let id = id.clone();
    tokio::spawn(async move { admit(&store, Some(&id), None).await })
}

/// Lets every spawned turn run up to its first wait (this test's runtime has one thread).
async fn let_the_turns_queue() {
    for _ in 0..10 {
        tokio::task::yield_now().await;
    }
}

/// Starts a turn on `lone_on` (whose row the caller holds, so its call stays in flight) and,
/// once that call waits, `queued` turns on `queued_on`, which queue behind it.
async fn queued_behind_a_call_in_flight(
    db: &TestDatabase,
    store: &Arc<Store>,
    lone_on: &SessionId,
    queued: usize,
    queued_on: &SessionId,
) -> (JoinHandle<Admission>, Vec<JoinHandle<Admission>>) {
    let lone = spawn_turn(store, lone_on);
    wait_for_one_call_waiting(db, "SELECT admitted, new_session, session_id").await;
    let waiting = (0..queued).map(|_| spawn_turn(store, queued_on)).collect();
    let_the_turns_queue().await;
    (lone, waiting)
}

/// `expression` over the session's row, as text.
async fn session_value(db: &TestDatabase, id: &SessionId, expression: &str) -> String {
    let sql = format!(
        "SELECT {expression} FROM sessions WHERE id = '{}'",
        id.as_str()
    );
    scalar(&db.client().await, &sql).await
}

fn continued(id: &SessionId) -> Admission {
    Admission::Admitted {
        session_id: id.clone(),
        new_session: false,
    }
}

#[tokio::test(flavor = "current_thread")]
async fn turns_that_arrive_while_one_is_in_flight_go_to_postgres_in_one_call() {
    let db = TestDatabase::create().await;
    let store = Arc::new(db.settings().store());
    let first = new_session(&store).await;
    let second = new_session(&store).await;
    let held_first = Held::hold(&db, &first).await;
    let held_second = Held::hold(&db, &second).await;

    let (lone, waiting) = queued_behind_a_call_in_flight(&db, &store, &first, 5, &second).await;
    held_first.release().await;

    // The five waiting turns are one call, blocked on the second session's row.
    wait_for_one_call_waiting(&db, "CALL gc_admit_each(").await;
    held_second.release().await;
    assert_eq!(lone.await.expect("the lone turn"), continued(&first));
    for turn in waiting {
        assert_eq!(turn.await.expect("a grouped turn"), continued(&second));
    }
    assert_eq!(session_value(&db, &second, "turn_count").await, "6");
}

#[tokio::test(flavor = "current_thread")]
async fn turns_admitted_in_one_call_are_decided_as_one_by_one_in_arrival_order() {
    let db = TestDatabase::create().await;
    let store = Arc::new(db.settings().with_quota(10, 1_000, 1_000).store());
    let id = new_session(&store).await;
    let held = Held::hold(&db, &id).await;
    let (lone, waiting) = queued_behind_a_call_in_flight(&db, &store, &id, 29, &id).await;
    held.release().await;

    assert_eq!(lone.await.expect("the lone turn"), continued(&id));
    let mut answers = Vec::new();
    for turn in waiting {
        answers.push(turn.await.expect("a grouped turn"));
    }
    // The session's 2nd to 10th turns are admitted, the 11th and later refused; a refused
    // turn keeps its session.
    let refused = Admission::OverQuota {
        session_id: Some(id.clone()),
    };
    let expected: Vec<Admission> = (0..29)
        .map(|i| {
            if i < 8 {
                continued(&id)
            } else {
                refused.clone()
            }
        })
        .collect();
    assert_eq!(answers, expected);
    assert_eq!(
        session_value(&db, &id, "turn_count || ' ' || minute_count").await,
        "10 10"
    );
}

#[tokio::test(flavor = "current_thread")]
async fn a_turn_that_goes_away_mid_call_still_hands_the_waiting_turns_on() {
    let db = TestDatabase::create().await;
    let store = Arc::new(db.settings().store());
    let first = new_session(&store).await;
    let second = new_session(&store).await;
    let held = Held::hold(&db, &first).await;
    let (leaving, waiting) = queued_behind_a_call_in_flight(&db, &store, &first, 3, &second).await;
    leaving.abort();
    assert!(
        leaving.await.is_err_and(|e| e.is_cancelled()),
        "the leaving turn was cancelled"
    );
    held.release().await;
    for turn in waiting {
        let answer = tokio::time::timeout(Duration::from_secs(30), turn)
            .await
            .expect("a waiting turn is answered")
            .expect("a waiting turn");
        assert_eq!(answer, continued(&second));
    }
}

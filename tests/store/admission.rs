//! Sessions and quotas in Postgres, shared by replicas (several stores on one database).
use crate::db::TestDatabase;
use crate::support::{admit, new_session, scalar};
use governed_chat::domain::SessionId;
use governed_chat::store::{Admission, Store};
use std::sync::Arc;

#[tokio::test]
async fn a_turn_without_a_session_gets_a_new_one_and_the_next_turn_reuses_it() {
    let db = TestDatabase::create().await;
    let store = db.settings().store();
    let id = new_session(&store).await;
    assert_eq!(
        admit(&store, Some(&id), None).await,
        Admission::Admitted {
            session_id: id.clone(),
            new_session: false
        }
    );
    let client = db.client().await;
    let sql = format!(
        "SELECT turn_count FROM sessions WHERE id = '{}'",
        id.as_str()
    );
    assert_eq!(scalar(&client, &sql).await, "2");
}

#[tokio::test]
async fn an_unknown_session_id_gets_a_fresh_session_not_an_error() {
    let db = TestDatabase::create().await;
    let store = db.settings().store();
    let unknown = SessionId::generate();
    match admit(&store, Some(&unknown), None).await {
        Admission::Admitted {
            session_id,
            new_session: true,
        } => assert_ne!(session_id, unknown),
        other => panic!("expected a fresh session, got {other:?}"),
    }
}

#[tokio::test]
async fn an_expired_session_id_gets_a_fresh_session() {
    let db = TestDatabase::create().await;
    let store = db.settings().store();
    let id = new_session(&store).await;
    let client = db.client().await;
    let expire = format!(
        "UPDATE sessions SET expires_at = now() - interval '1 second' WHERE id = '{}'",
        id.as_str()
    );
    client
        .batch_execute(&expire)
        .await
        .expect("expiring the session");
    match admit(&store, Some(&id), None).await {
        Admission::Admitted {
            session_id,
            new_session: true,
        } => assert_ne!(session_id, id),
        other => panic!("expected a fresh session, got {other:?}"),
    }
}

#[tokio::test]
async fn each_turn_slides_the_session_expiry_forward() {
    let db = TestDatabase::create().await;
    let store = db.settings().store();
    let id = new_session(&store).await;
    let client = db.client().await;
    let rewind = format!(
        "UPDATE sessions SET expires_at = now() + interval '5 minutes', reap_after = now() + interval '5 minutes', last_seen_at = now() - interval '1 hour' WHERE id = '{}'",
        id.as_str()
    );
    client.batch_execute(&rewind).await.expect("rewinding");
    admit(&store, Some(&id), None).await;
    let sql = format!(
        "SELECT expires_at > now() + interval '59 minutes' AND last_seen_at > now() - interval '1 minute' FROM sessions WHERE id = '{}'",
        id.as_str()
    );
    assert_eq!(
        scalar(&client, &sql).await,
        "t",
        "expires_at = last_seen + session TTL"
    );
    let reap_after = format!(
        "SELECT reap_after = expires_at + interval '1 minute' FROM sessions WHERE id = '{}'",
        id.as_str()
    );
    assert_eq!(
        scalar(&client, &reap_after).await,
        "t",
        "expires_at passed reap_after, which moved a step (an eighth of the TTL, at most a minute) past it"
    );
    admit(&store, Some(&id), None).await;
    let kept = format!(
        "SELECT reap_after > expires_at AND reap_after < expires_at + interval '1 minute' FROM sessions WHERE id = '{}'",
        id.as_str()
    );
    assert_eq!(
        scalar(&client, &kept).await,
        "t",
        "a turn within the step leaves reap_after where it was"
    );
}

/// Run `turns` admissions for `id` at once, spread over `replicas` stores.
async fn concurrent_turns(replicas: &[Arc<Store>], id: &SessionId, turns: usize) -> (usize, usize) {
    let tasks: Vec<_> = (0..turns)
        .map(|turn| {
            let store = Arc::clone(&replicas[turn % replicas.len()]);
            let id = id.clone();
            tokio::spawn(async move { admit(&store, Some(&id), None).await })
        })
        .collect();
    let (mut admitted, mut refused) = (0, 0);
    for task in tasks {
        match task.await.expect("admission task") {
            Admission::Admitted {
                session_id,
                new_session: false,
            } if session_id == *id => admitted += 1,
            Admission::OverQuota {
                session_id: Some(session_id),
            } if session_id == *id => refused += 1,
            other => panic!("unexpected admission {other:?}"),
        }
    }
    (admitted, refused)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_per_minute_quota_admits_exactly_n_of_many_concurrent_turns_across_replicas() {
    let db = TestDatabase::create().await;
    let settings = db.settings().with_quota(10, 1_000, 100);
    let replicas: Vec<Arc<Store>> = (0..3).map(|_| Arc::new(settings.store())).collect();
    let id = new_session(&replicas[0]).await; // the first of the 10 turns
    let (admitted, refused) = concurrent_turns(&replicas, &id, 30).await;
    assert_eq!((admitted, refused), (9, 21));
}

#[tokio::test]
async fn the_per_day_quota_refuses_turns_once_the_day_is_spent() {
    let db = TestDatabase::create().await;
    let store = db.settings().with_quota(100, 3, 100).store();
    let id = new_session(&store).await;
    let client = db.client().await;
    for _ in 0..2 {
        // A new minute each time, so only the day window can refuse.
        let sql = format!("UPDATE sessions SET minute_window_start = now() - interval '2 minutes' WHERE id = '{}'", id.as_str());
        client
            .batch_execute(&sql)
            .await
            .expect("moving to the next minute");
        assert!(matches!(
            admit(&store, Some(&id), None).await,
            Admission::Admitted { .. }
        ));
    }
    assert_eq!(
        admit(&store, Some(&id), None).await,
        Admission::OverQuota {
            session_id: Some(id.clone())
        }
    );
    let next_day = format!(
        "UPDATE sessions SET day_window_start = now() - interval '25 hours' WHERE id = '{}'",
        id.as_str()
    );
    client
        .batch_execute(&next_day)
        .await
        .expect("moving to the next day");
    assert!(matches!(
        admit(&store, Some(&id), None).await,
        Admission::Admitted { .. }
    ));
}

#[tokio::test]
async fn a_session_quota_of_zero_refuses_a_continuing_turn_even_in_a_fresh_window() {
    let db = TestDatabase::create().await;
    let id = new_session(&db.settings().store()).await;
    let fresh_windows = format!(
        "UPDATE sessions SET minute_window_start = now() - interval '2 minutes',
                             day_window_start = now() - interval '25 hours' WHERE id = '{}'",
        id.as_str()
    );
    let client = db.client().await;
    client
        .batch_execute(&fresh_windows)
        .await
        .expect("moving to a new minute and a new day");
    for (per_minute, per_day) in [(0, 100), (100, 0)] {
        let store = db.settings().with_quota(per_minute, per_day, 100).store();
        assert_eq!(
            admit(&store, Some(&id), None).await,
            Admission::OverQuota {
                session_id: Some(id.clone())
            },
            "{per_minute} per minute, {per_day} per day"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_new_session_limit_per_address_holds_across_replicas_and_dropped_session_ids() {
    let db = TestDatabase::create().await;
    let settings = db.settings().with_quota(10, 100, 5);
    let replicas: Vec<Arc<Store>> = (0..2).map(|_| Arc::new(settings.store())).collect();
    let tasks: Vec<_> = (0..12)
        .map(|turn| {
            let store = Arc::clone(&replicas[turn % 2]);
            // Half of them send an id the server never issued: that must not reset the limit.
            let sent = (turn % 2 == 0).then(SessionId::generate);
            tokio::spawn(async move { admit(&store, sent.as_ref(), Some("203.0.113.9")).await })
        })
        .collect();
    let mut outcomes = Vec::new();
    for task in tasks {
        outcomes.push(task.await.expect("admission task"));
    }
    let created = outcomes
        .iter()
        .filter(|a| {
            matches!(
                a,
                Admission::Admitted {
                    new_session: true,
                    ..
                }
            )
        })
        .count();
    let limited = outcomes
        .iter()
        .filter(|a| **a == Admission::OverQuota { session_id: None })
        .count();
    assert_eq!((created, limited), (5, 7));
    assert!(matches!(
        admit(&replicas[0], None, Some("203.0.113.10")).await,
        Admission::Admitted { .. }
    ));

    let client = db.client().await;
    let hashes = scalar(
        &client,
        "SELECT string_agg(address_hash, ',') FROM address_limits",
    )
    .await;
    assert!(
        !hashes.contains("203.0.113"),
        "the raw address is never stored: {hashes}"
    );
    assert_eq!(
        scalar(&client, "SELECT count(*) FROM address_limits").await,
        "2"
    );
    assert_eq!(
        scalar(&client, "SELECT count(*) FROM sessions").await,
        "6",
        "a refused turn leaves no session behind"
    );
}

//! Admission's quotas, run against both stores: Postgres (three replicas on one database)
//! and the in-memory store (one store standing in for the three). Both promise the same
//! behaviour, so each test below runs twice, as `<test>::postgres` and `<test>::memory`.
use crate::db::{TestDatabase, TestSettings};
use crate::support::{admit, admit_as, eventually};
use governed_chat::domain::SessionId;
use governed_chat::store::{Admission, Store};
use std::sync::Arc;
use std::time::Duration;

/// `$test(replicas)` once on three Postgres stores sharing one database, once on the memory
/// store; `$configure` adjusts the test settings first.
macro_rules! on_both_stores {
    ($test:ident, $configure:expr) => {
        mod $test {
            use super::*;

            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn postgres() {
                let db = TestDatabase::create().await;
                let settings = ($configure)(db.settings());
                let replicas = (0..3).map(|_| Arc::new(settings.store())).collect();
                super::$test(replicas).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn memory() {
                let settings = ($configure)(TestSettings::new("postgres://127.0.0.1:1/unused"));
                let store = Arc::new(settings.memory_store());
                super::$test(vec![Arc::clone(&store), Arc::clone(&store), store]).await;
            }
        }
    };
}

const ALICE: &str = "5b0c8a4e-1f3d-4e2a-9c6b-7d8e9f0a1b2c";
const BOB: &str = "0e9d8c7b-6a5f-4e3d-2c1b-0a9f8e7d6c5b";

fn new_session_id(admission: &Admission) -> SessionId {
    match admission {
        Admission::Admitted {
            session_id,
            new_session: true,
        } => session_id.clone(),
        other => panic!("expected a new session, got {other:?}"),
    }
}

fn continued(id: &SessionId) -> Admission {
    Admission::Admitted {
        session_id: id.clone(),
        new_session: false,
    }
}

const REFUSED_WITHOUT_SESSION: Admission = Admission::OverQuota { session_id: None };

on_both_stores!(
    a_users_quota_counts_across_fresh_sessions_and_other_identities_keep_theirs,
    |s: TestSettings| s.with_turn_limits(1_000, 3, 100)
);
async fn a_users_quota_counts_across_fresh_sessions_and_other_identities_keep_theirs(
    replicas: Vec<Arc<Store>>,
) {
    let mut sessions = Vec::new();
    for store in &replicas {
        sessions.push(new_session_id(
            &admit_as(store, Some(ALICE), None, None).await,
        ));
    }
    sessions.dedup();
    assert_eq!(sessions.len(), 3, "three fresh sessions");
    assert_eq!(
        admit_as(&replicas[0], Some(ALICE), None, None).await,
        REFUSED_WITHOUT_SESSION,
        "a fourth fresh session does not reset the user's minute"
    );
    assert_eq!(
        admit_as(&replicas[1], Some(ALICE), Some(&sessions[0]), None).await,
        Admission::OverQuota {
            session_id: Some(sessions[0].clone())
        },
        "nor does continuing one of the sessions"
    );
    new_session_id(&admit_as(&replicas[2], Some(BOB), None, None).await);
    new_session_id(&admit(&replicas[2], None, None).await);
}

on_both_stores!(
    a_session_continues_only_for_the_identity_that_created_it,
    |s: TestSettings| s
);
async fn a_session_continues_only_for_the_identity_that_created_it(replicas: Vec<Arc<Store>>) {
    let store = &replicas[0];
    let alices = new_session_id(&admit_as(store, Some(ALICE), None, None).await);
    let anonymous = new_session_id(&admit(store, None, None).await);

    let bobs = new_session_id(&admit_as(store, Some(BOB), Some(&alices), None).await);
    assert_ne!(bobs, alices, "another user gets a session of their own");
    let strangers = new_session_id(&admit(store, Some(&alices), None).await);
    assert_ne!(strangers, alices, "so does an anonymous turn");
    let signed_in = new_session_id(&admit_as(store, Some(ALICE), Some(&anonymous), None).await);
    assert_ne!(
        signed_in, anonymous,
        "a user does not take over an anonymous session"
    );

    assert_eq!(
        admit_as(&replicas[1], Some(ALICE), Some(&alices), None).await,
        continued(&alices)
    );
    assert_eq!(
        admit(&replicas[2], Some(&anonymous), None).await,
        continued(&anonymous)
    );
    assert_eq!(
        admit_as(&replicas[1], Some(BOB), Some(&bobs), None).await,
        continued(&bobs)
    );
}

on_both_stores!(
    an_address_takes_at_most_its_hourly_turns_across_all_of_its_sessions,
    |s: TestSettings| s
        .with_quota(100, 1_000, 100)
        .with_turn_limits(4, 100, 1_000)
);
async fn an_address_takes_at_most_its_hourly_turns_across_all_of_its_sessions(
    replicas: Vec<Arc<Store>>,
) {
    const ADDRESS: &str = "198.51.100.30";
    let first = new_session_id(&admit(&replicas[0], None, Some(ADDRESS)).await);
    let second = new_session_id(&admit(&replicas[1], None, Some(ADDRESS)).await);
    assert_eq!(
        admit(&replicas[2], Some(&first), Some(ADDRESS)).await,
        continued(&first)
    );
    new_session_id(&admit_as(&replicas[0], Some(ALICE), None, Some(ADDRESS)).await);
    assert_eq!(
        admit(&replicas[1], Some(&second), Some(ADDRESS)).await,
        Admission::OverQuota {
            session_id: Some(second.clone())
        },
        "the fifth turn from the address is refused, in any session"
    );
    assert_eq!(
        admit(&replicas[2], None, Some(ADDRESS)).await,
        REFUSED_WITHOUT_SESSION
    );
    new_session_id(&admit(&replicas[0], None, Some("198.51.100.31")).await);
}

on_both_stores!(
    a_turn_refused_by_one_quota_is_counted_against_none,
    |s: TestSettings| s.with_quota(100, 1_000, 100).with_turn_limits(3, 2, 1_000)
);
async fn a_turn_refused_by_one_quota_is_counted_against_none(replicas: Vec<Arc<Store>>) {
    const ADDRESS: &str = "198.51.100.40";
    let alices = new_session_id(&admit_as(&replicas[0], Some(ALICE), None, Some(ADDRESS)).await);
    assert_eq!(
        admit_as(&replicas[1], Some(ALICE), Some(&alices), Some(ADDRESS)).await,
        continued(&alices)
    );
    for store in &replicas {
        assert_eq!(
            admit_as(store, Some(ALICE), Some(&alices), Some(ADDRESS)).await,
            Admission::OverQuota {
                session_id: Some(alices.clone())
            },
            "over the user's minute"
        );
    }
    // The refused turns took nothing from the address: it has exactly one turn left.
    new_session_id(&admit(&replicas[2], None, Some(ADDRESS)).await);
    assert_eq!(
        admit(&replicas[0], None, Some(ADDRESS)).await,
        REFUSED_WITHOUT_SESSION
    );
}

on_both_stores!(
    the_new_session_limit_per_address_lasts_an_hour_even_with_a_two_second_session_ttl,
    |s: TestSettings| s
        .with_quota(1_000, 10_000, 2)
        .with_ttl(Duration::from_secs(2), Duration::from_secs(3600))
);
async fn the_new_session_limit_per_address_lasts_an_hour_even_with_a_two_second_session_ttl(
    replicas: Vec<Arc<Store>>,
) {
    const ADDRESS: &str = "198.51.100.50";
    let first = new_session_id(&admit(&replicas[0], None, Some(ADDRESS)).await);
    new_session_id(&admit(&replicas[1], None, Some(ADDRESS)).await);
    assert_eq!(
        admit(&replicas[2], None, Some(ADDRESS)).await,
        REFUSED_WITHOUT_SESSION
    );
    // Wait until both sessions have expired (2 s after their turn), as the store reports.
    let expired = eventually(Duration::from_secs(10), || async {
        replicas[0].status().await.expect("status").sessions_active == 0
    })
    .await;
    assert!(expired, "the sessions never expired");
    let last = admit(&replicas[0], Some(&first), Some(ADDRESS)).await;
    assert_eq!(
        last, REFUSED_WITHOUT_SESSION,
        "an expired session does not reopen the address's hour"
    );
    assert_eq!(
        admit(&replicas[1], None, Some(ADDRESS)).await,
        REFUSED_WITHOUT_SESSION
    );
}

on_both_stores!(
    a_users_per_minute_quota_admits_exactly_n_of_many_concurrent_turns_across_replicas,
    |s: TestSettings| s
        .with_quota(1_000, 10_000, 1_000)
        .with_turn_limits(1_000, 10, 1_000)
);
async fn a_users_per_minute_quota_admits_exactly_n_of_many_concurrent_turns_across_replicas(
    replicas: Vec<Arc<Store>>,
) {
    let tasks: Vec<_> = (0..30)
        .map(|turn| {
            let store = Arc::clone(&replicas[turn % replicas.len()]);
            tokio::spawn(
                async move { admit_as(&store, Some(ALICE), None, Some("198.51.100.60")).await },
            )
        })
        .collect();
    let (mut admitted, mut refused) = (0, 0);
    for task in tasks {
        match task.await.expect("admission task") {
            Admission::Admitted {
                new_session: true, ..
            } => admitted += 1,
            Admission::OverQuota { session_id: None } => refused += 1,
            other => panic!("unexpected admission {other:?}"),
        }
    }
    assert_eq!((admitted, refused), (10, 20));
}

on_both_stores!(
    a_turn_the_address_refuses_takes_nothing_from_the_session_or_the_user,
    |s: TestSettings| s.with_quota(3, 1_000, 100).with_turn_limits(2, 3, 1_000)
);
async fn a_turn_the_address_refuses_takes_nothing_from_the_session_or_the_user(
    replicas: Vec<Arc<Store>>,
) {
    const BUSY: &str = "198.51.100.70";
    const OTHER: &str = "198.51.100.71";
    let alices = new_session_id(&admit_as(&replicas[0], Some(ALICE), None, Some(BUSY)).await);
    assert_eq!(
        admit_as(&replicas[1], Some(ALICE), Some(&alices), Some(BUSY)).await,
        continued(&alices)
    );
    for store in &replicas {
        assert_eq!(
            admit_as(store, Some(ALICE), Some(&alices), Some(BUSY)).await,
            Admission::OverQuota {
                session_id: Some(alices.clone())
            },
            "the address has spent its two turns"
        );
    }
    // Two turns counted on the session and the user, whose limits are three: one is left.
    assert_eq!(
        admit_as(&replicas[2], Some(ALICE), Some(&alices), Some(OTHER)).await,
        continued(&alices)
    );
    assert_eq!(
        admit_as(&replicas[0], Some(ALICE), Some(&alices), Some(OTHER)).await,
        Admission::OverQuota {
            session_id: Some(alices.clone())
        }
    );
    assert_eq!(
        admit_as(&replicas[1], Some(ALICE), None, Some(OTHER)).await,
        REFUSED_WITHOUT_SESSION,
        "the user's minute is spent too"
    );
}

//! The operator's status report from a real database.
use crate::db::TestDatabase;
use crate::support::{admit_as, new_session, record, record_at};
use governed_chat::domain::{Category, Outcome};
use governed_chat::store::RequestCount;

#[tokio::test]
async fn status_counts_active_sessions_and_the_last_day_of_requests_by_outcome_and_category() {
    let db = TestDatabase::create().await;
    let store = db.settings().store();
    new_session(&store).await;
    new_session(&store).await;
    for user in ["user-a", "user-b", "user-a"] {
        admit_as(&store, Some(user), None, None).await;
    }
    let client = db.client().await;
    client
        .batch_execute(
            "INSERT INTO users (user_hash, last_seen_at, expires_at)
             VALUES (repeat('c', 64), now() - interval '25 hours', now() + interval '1 hour')",
        )
        .await
        .expect("a user last seen yesterday");
    let old = chrono::Utc::now() - chrono::TimeDelta::days(2);
    let rows = vec![
        record(Outcome::Accepted, None),
        record(Outcome::Refused, Some(Category::Quota)),
        record(Outcome::Refused, Some(Category::Quota)),
        record(Outcome::Aborted, Some(Category::ProviderTimeout)),
        record_at(old, Outcome::Accepted, None),
    ];
    store.insert_requests(&rows).await.expect("insert");
    let status = store.status().await.expect("status").with_writer_dropped(0);
    assert_eq!(status.backend, "postgres");
    assert!(status.schema.is_current);
    assert_eq!(status.sessions_active, 5);
    assert_eq!(
        status.users_last_24h, 2,
        "distinct users seen in the last 24 hours"
    );
    assert_eq!(
        status.requests_last_24h,
        vec![
            RequestCount::new("aborted", Some("provider.timeout"), 1),
            RequestCount::new("accepted", None, 1),
            RequestCount::new("refused", Some("quota"), 2),
        ]
    );
    assert!(
        status
            .requests_age
            .oldest_seconds
            .expect("an oldest request")
            > 86_400.0 * 1.9
    );
    assert_eq!(
        status.requests_age.expired_waiting, 1,
        "the two-day-old row is past its one-hour TTL"
    );
    assert_eq!(status.sessions_age.expired_waiting, 0);
    let text = status.to_string();
    assert!(
        text.contains("storage:          postgres")
            && text.contains("refused   quota")
            && text.contains("users in the last 24 h: 2"),
        "{text}"
    );
}

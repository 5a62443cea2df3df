//! The operator's status report from a real database.
use crate::db::TestDatabase;
use crate::support::{new_session, record, record_at};
use governed_chat::domain::{Category, Outcome};
use governed_chat::store::RequestCount;

#[tokio::test]
async fn status_counts_active_sessions_and_the_last_day_of_requests_by_outcome_and_category() {
    let db = TestDatabase::create().await;
    let store = db.settings().store();
    new_session(&store).await;
    new_session(&store).await;
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
    assert_eq!(status.sessions_active, 2);
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
        text.contains("storage:          postgres") && text.contains("refused   quota"),
        "{text}"
    );
}

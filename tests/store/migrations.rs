//! The migration runner: applies in order, re-runs as a no-op, refuses a changed migration,
//! and serializes concurrent runners.
use crate::db::TestDatabase;
use crate::support::{count, scalar};
use governed_chat::store::migrate::expected_version;
use governed_chat::store::{SchemaState, StoreError};

#[tokio::test]
async fn migrations_apply_to_a_fresh_database_and_ping_then_reports_the_schema_current() {
    let db = TestDatabase::create_empty().await;
    let store = db.settings().store();
    let before = store
        .ping()
        .await
        .expect("ping answers on an empty database");
    assert_eq!(
        before,
        SchemaState {
            current: 0,
            expected: expected_version()
        }
    );
    assert!(
        !before.is_current(),
        "readiness must see an unmigrated schema as behind"
    );

    let report = store.migrate().await.expect("migrations apply");
    assert_eq!(report.applied, (1..=expected_version()).collect::<Vec<_>>());
    assert_eq!(report.current, expected_version());
    let after = store.ping().await.expect("ping");
    assert!(after.is_current());
    let client = db.client().await;
    for table in [
        "sessions",
        "requests",
        "address_limits",
        "writer_drops",
        "schema_migrations",
    ] {
        assert_eq!(
            count(&client, table).await,
            i64::from(table == "schema_migrations") * i64::from(expected_version())
        );
    }
}

#[tokio::test]
async fn running_migrations_again_is_a_no_op() {
    let db = TestDatabase::create().await;
    let store = db.settings().store();
    let client = db.client().await;
    let applied_at = scalar(
        &client,
        "SELECT string_agg(applied_at::text, ',') FROM schema_migrations",
    )
    .await;
    let report = store.migrate().await.expect("re-running migrations");
    assert!(
        report.applied.is_empty(),
        "nothing to apply the second time: {report}"
    );
    assert_eq!(report.current, expected_version());
    let again = scalar(
        &client,
        "SELECT string_agg(applied_at::text, ',') FROM schema_migrations",
    )
    .await;
    assert_eq!(applied_at, again);
}

#[tokio::test]
async fn a_migration_changed_after_it_was_applied_is_an_error() {
    let db = TestDatabase::create().await;
    let client = db.client().await;
    client
        .batch_execute("UPDATE schema_migrations SET checksum = repeat('0', 64) WHERE version = 1")
        .await
        .expect("tampering with the recorded checksum");
    let err = db
        .settings()
        .store()
        .migrate()
        .await
        .expect_err("a changed migration is refused");
    let message = format!("{err:#}");
    assert!(
        message.contains("0001_init was changed after it was applied"),
        "{message}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_migrations_started_at_the_same_moment_leave_one_correct_schema() {
    let db = TestDatabase::create_empty().await;
    let (first, second) = (db.settings().store(), db.settings().store());
    let (a, b) = tokio::join!(first.migrate(), second.migrate());
    let (a, b) = (a.expect("first runner"), b.expect("second runner"));
    let mut applied = [a.applied.clone(), b.applied.clone()].concat();
    applied.sort_unstable();
    assert_eq!(
        applied,
        (1..=expected_version()).collect::<Vec<_>>(),
        "each migration applied exactly once"
    );
    let client = db.client().await;
    assert_eq!(
        count(&client, "schema_migrations").await,
        i64::from(expected_version())
    );
    let tables = scalar(
        &client,
        "SELECT string_agg(tablename, ',' ORDER BY tablename) FROM pg_tables WHERE schemaname = 'public'",
    )
    .await;
    assert_eq!(
        tables,
        "address_limits,requests,schema_migrations,sessions,users,writer_drops"
    );
}

#[tokio::test]
async fn status_on_an_unmigrated_database_says_the_schema_is_behind() {
    let db = TestDatabase::create_empty().await;
    match db.settings().store().status().await {
        Err(StoreError::SchemaBehind {
            current: 0,
            expected,
        }) => assert_eq!(expected, expected_version()),
        other => panic!("expected SchemaBehind, got {other:?}"),
    }
}

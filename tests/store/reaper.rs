//! The reaper: expired rows go, in batches, and only one replica deletes at a time.
use crate::db::TestDatabase;
use crate::support::{accepted_rows, admit, admit_as, count, eventually, new_session, scalar};
use governed_chat::store::{Reaper, Store};
use std::sync::Arc;
use std::time::Duration;

/// Advisory lock key the reaper takes (see backend/store/pg/reap.rs).
const REAPER_LOCK_KEY: i64 = 0x0067_632d_7265_6170;

async fn expire_everything(client: &tokio_postgres::Client) {
    client
        .batch_execute(
            "UPDATE sessions SET expires_at = now() - interval '1 second',
                                 reap_after = now() - interval '1 second';
             UPDATE requests SET expires_at = now() - interval '1 second';
             UPDATE address_limits SET expires_at = now() - interval '1 second';
             UPDATE users SET expires_at = now() - interval '1 second';",
        )
        .await
        .expect("expiring every row");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rows_past_a_one_second_ttl_disappear_within_a_few_reaper_intervals() {
    let db = TestDatabase::create().await;
    let mut settings = db
        .settings()
        .with_ttl(Duration::from_secs(1), Duration::from_secs(1));
    settings.retention.reaper_batch_size = 3;
    let store = Arc::new(settings.store());
    for _ in 0..4 {
        admit(&store, None, Some("198.51.100.20")).await;
    }
    store
        .insert_requests(&accepted_rows(10))
        .await
        .expect("insert");
    let reaper = Reaper::spawn(Arc::clone(&store), &settings.retention);
    let client = db.client().await;
    assert_eq!(
        count(&client, "sessions").await,
        4,
        "nothing is reaped before it expires"
    );
    let gone = eventually(Duration::from_secs(5), || async {
        count(&client, "sessions").await + count(&client, "requests").await == 0
    })
    .await;
    assert!(gone, "expired rows are still there");
    assert!(
        eventually(Duration::from_secs(1), || async { reaper.deleted() == 14 }).await,
        "deleted {}",
        reaper.deleted()
    );
    reaper.stop().await;
    assert_eq!(
        count(&client, "address_limits").await,
        1,
        "the address's window lasts an hour whatever the session TTL"
    );
}

#[tokio::test]
async fn a_reaper_deletes_nothing_while_another_replica_holds_the_reaper_lock() {
    let db = TestDatabase::create().await;
    let store = db.settings().store();
    new_session(&store).await;
    admit_as(&store, Some("a-user"), None, Some("198.51.100.21")).await;
    let client = db.client().await;
    expire_everything(&client).await;
    // Another replica mid-batch: its transaction holds the lock.
    client
        .batch_execute(&format!(
            "BEGIN; SELECT pg_advisory_xact_lock({REAPER_LOCK_KEY})"
        ))
        .await
        .expect("taking the reaper lock");
    let report = store.reap_once().await.expect("reap");
    assert!(report.lock_busy);
    assert_eq!(report.total(), 0);
    client
        .batch_execute("COMMIT")
        .await
        .expect("releasing the lock");
    let report = store.reap_once().await.expect("reap");
    assert!(!report.lock_busy);
    assert_eq!(
        (report.sessions, report.address_limits, report.users),
        (2, 1, 1)
    );
    for table in ["sessions", "address_limits", "users"] {
        assert_eq!(count(&client, table).await, 0, "{table} is reaped");
    }
}

/// Test-only instrumentation: every deleted `requests` row logs its transaction and the
/// time, and takes a moment, so overlapping batches would show up as overlapping windows.
const LOG_DELETES: &str = "
    CREATE TABLE reap_log (txid bigint NOT NULL, at timestamptz NOT NULL);
    CREATE FUNCTION log_reap() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        INSERT INTO reap_log VALUES (txid_current(), clock_timestamp());
        PERFORM pg_sleep(0.002);
        RETURN OLD;
    END $$;
    CREATE TRIGGER log_reap BEFORE DELETE ON requests FOR EACH ROW EXECUTE FUNCTION log_reap();";

const OVERLAPPING_BATCHES: &str = "
    WITH batch AS (SELECT txid, min(at) AS first, max(at) AS last FROM reap_log GROUP BY txid)
    SELECT count(*) FROM batch a JOIN batch b
      ON a.txid < b.txid AND a.first <= b.last AND b.first <= a.last";

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_reapers_on_one_database_never_delete_at_the_same_time_and_delete_each_row_once() {
    let db = TestDatabase::create().await;
    let mut settings = db.settings();
    settings.retention.reaper_batch_size = 7;
    let seed: Store = settings.store();
    seed.insert_requests(&accepted_rows(300))
        .await
        .expect("insert");
    let client = db.client().await;
    expire_everything(&client).await;
    client
        .batch_execute(LOG_DELETES)
        .await
        .expect("instrumenting deletes");
    let rounds = |store: Arc<Store>| async move {
        let mut deleted = 0;
        for _ in 0..100 {
            deleted += store.reap_once().await.expect("reap").total();
        }
        deleted
    };
    let (a, b) = (Arc::new(settings.store()), Arc::new(settings.store()));
    let (deleted_a, deleted_b) = tokio::join!(rounds(a), rounds(b));
    assert_eq!(deleted_a + deleted_b, 300);
    assert_eq!(count(&client, "requests").await, 0);
    assert!(count(&client, "(SELECT DISTINCT txid FROM reap_log) AS batches").await >= 300 / 7);
    assert_eq!(
        scalar(&client, OVERLAPPING_BATCHES).await,
        "0",
        "two batches deleted at the same time"
    );
}

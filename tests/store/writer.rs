//! The metadata writer: batches off the hot path, survives the database going away, and
//! counts what it had to drop.
use crate::db::TestDatabase;
use crate::proxy::{target_of, Proxy};
use crate::support::{accepted_rows, count, eventually};
use governed_chat::store::{MetadataWriter, Store};
use std::sync::Arc;
use std::time::Duration;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn recorded_rows_land_in_the_requests_table() {
    let db = TestDatabase::create().await;
    let settings = db.settings();
    let writer = MetadataWriter::spawn(Arc::new(settings.store()), &settings.writer);
    for row in accepted_rows(25) {
        writer.record(row);
    }
    let client = db.client().await;
    assert!(
        eventually(Duration::from_secs(5), || async {
            count(&client, "requests").await == 25
        })
        .await
    );
    assert_eq!(
        (writer.written(), writer.dropped(), writer.queue_depth()),
        (25, 0, 0)
    );
    writer.shutdown(Duration::from_secs(1)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rows_go_out_in_full_batches_and_the_remainder_on_the_flush_interval() {
    let db = TestDatabase::create().await;
    let mut settings = db.settings();
    settings.writer.batch_size = 50;
    settings.writer.flush_interval = Duration::from_millis(1500);
    let writer = MetadataWriter::spawn(Arc::new(settings.store()), &settings.writer);
    for row in accepted_rows(120) {
        writer.record(row);
    }
    assert!(
        eventually(Duration::from_secs(1), || async { writer.written() == 100 }).await,
        "two full batches at once"
    );
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(
        writer.written(),
        100,
        "the last 20 wait for the flush interval"
    );
    assert!(eventually(Duration::from_secs(3), || async { writer.written() == 120 }).await);
    let client = db.client().await;
    assert_eq!(count(&client, "requests").await, 120);
    writer.shutdown(Duration::from_secs(1)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rows_recorded_while_the_database_is_unreachable_all_land_when_it_returns() {
    let db = TestDatabase::create().await;
    let proxy = Proxy::start(target_of(db.url())).await;
    let mut settings = db.settings().with_url(&proxy.url_for(db.url()));
    settings.database.connect_timeout = Duration::from_millis(500);
    settings.writer.batch_size = 20;
    let writer = MetadataWriter::spawn(Arc::new(settings.store()), &settings.writer);
    writer.record(accepted_rows(1).remove(0));
    assert!(
        eventually(Duration::from_secs(3), || async { writer.written() == 1 }).await,
        "connected through the proxy"
    );

    proxy.cut();
    for row in accepted_rows(70) {
        writer.record(row);
    }
    tokio::time::sleep(Duration::from_millis(800)).await;
    assert_eq!(
        writer.written(),
        1,
        "nothing lands while the database is away"
    );
    assert_eq!(
        writer.queue_depth(),
        70,
        "every row is held: in the failed batch or the queue"
    );

    proxy.restore();
    assert!(
        eventually(Duration::from_secs(8), || async { writer.written() == 71 }).await,
        "written {}",
        writer.written()
    );
    assert_eq!(writer.dropped(), 0);
    let client = db.client().await;
    assert_eq!(count(&client, "requests").await, 71);
    writer.shutdown(Duration::from_secs(1)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_queue_drops_and_counts_rows_without_blocking_and_shutdown_flushes_the_rest() {
    let db = TestDatabase::create().await;
    let proxy = Proxy::start(target_of(db.url())).await;
    proxy.cut();
    let mut settings = db.settings().with_url(&proxy.url_for(db.url()));
    settings.writer.queue_capacity = 10;
    settings.writer.batch_size = 5;
    let store = Arc::new(settings.store());
    let writer = MetadataWriter::spawn(Arc::clone(&store), &settings.writer);
    let started = std::time::Instant::now();
    for row in accepted_rows(100) {
        writer.record(row);
    }
    assert!(
        started.elapsed() < Duration::from_secs(1),
        "record never waits: {:?}",
        started.elapsed()
    );
    tokio::time::sleep(Duration::from_millis(300)).await;
    let kept = writer.queue_depth() as u64;
    assert!(kept <= 15, "at most the queue plus one held batch: {kept}");
    assert_eq!(writer.dropped(), 100 - kept);

    proxy.restore();
    writer.shutdown(Duration::from_secs(5)).await;
    assert_eq!(
        writer.written(),
        kept,
        "shutdown flushed everything that was kept"
    );
    writer.record(accepted_rows(1).remove(0));
    assert_eq!(
        writer.dropped(),
        100 - kept + 1,
        "a stopped writer counts new rows as dropped"
    );
    let client = db.client().await;
    assert_eq!(count(&client, "requests").await as u64, kept);
    let status = store.status().await.expect("status");
    assert_eq!(
        status.writer_dropped,
        Some(100 - kept),
        "the drops reached the database for `governed-chat status`"
    );
}

#[tokio::test]
async fn inserting_the_same_rows_twice_stores_them_once() {
    let db = TestDatabase::create().await;
    let store: Store = db.settings().store();
    let rows = accepted_rows(10);
    store.insert_requests(&rows).await.expect("first insert");
    store
        .insert_requests(&rows)
        .await
        .expect("a retried batch is not an error");
    let client = db.client().await;
    assert_eq!(count(&client, "requests").await, 10);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rows_lost_at_the_shutdown_deadline_are_recorded_in_writer_drops() {
    let db = TestDatabase::create().await;
    let settings = db.settings(); // query timeout 5 s: longer than the shutdown budget
    let store = Arc::new(settings.store());
    let writer = MetadataWriter::spawn(Arc::clone(&store), &settings.writer);
    // Another session holds the requests table, so inserts wait; writer_drops stays free.
    let locker = db.client().await;
    locker
        .batch_execute("BEGIN; LOCK TABLE requests IN ACCESS EXCLUSIVE MODE")
        .await
        .expect("locking the requests table");
    for row in accepted_rows(7) {
        writer.record(row);
    }
    assert!(
        eventually(Duration::from_secs(5), || async {
            writer.queue_depth() == 7
        })
        .await
    );

    writer.shutdown(Duration::from_secs(1)).await;
    assert_eq!((writer.written(), writer.dropped()), (0, 7));
    let client = db.client().await;
    let recorded: i64 = client
        .query_one(
            "SELECT coalesce(sum(dropped), 0)::int8 FROM writer_drops",
            &[],
        )
        .await
        .expect("reading writer_drops")
        .get(0);
    assert_eq!(recorded, 7, "the lost rows were reported before exit");
    locker.batch_execute("ROLLBACK").await.expect("unlocking");
}

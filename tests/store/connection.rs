//! Connecting like production: TLS per sslmode, a database that is down at start, bounded
//! queries, and nothing left prepared on a connection (transaction-mode poolers).
use crate::db::TestDatabase;
use crate::support::{accepted_rows, admit, new_session, scalar};
use governed_chat::store::{Admission, PgStore, Store, StoreError};
use std::sync::Arc;
use std::time::{Duration, Instant};

fn with_param(url: &str, param: &str) -> String {
    let separator = if url.contains('?') { '&' } else { '?' };
    format!("{url}{separator}{param}")
}

fn postgres(store: &Store) -> &PgStore {
    match store {
        Store::Postgres(store) => store,
        Store::Memory(_) => panic!("expected the postgres store"),
    }
}

async fn ssl_in_use(store: &Store) -> String {
    let client = postgres(store)
        .pool()
        .get()
        .await
        .expect("a pooled connection");
    scalar(
        &client,
        "SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()",
    )
    .await
}

#[tokio::test]
async fn a_connection_with_sslmode_require_is_encrypted() {
    let db = TestDatabase::create().await;
    let store = db
        .settings()
        .with_url(&with_param(&db.direct_url(), "sslmode=require"))
        .store();
    assert!(store.ping().await.expect("ping over TLS").is_current());
    assert_eq!(ssl_in_use(&store).await, "t");
}

#[tokio::test]
async fn a_connection_with_sslmode_disable_is_plain() {
    let db = TestDatabase::create().await;
    let store = db
        .settings()
        .with_url(&with_param(&db.direct_url(), "sslmode=disable"))
        .store();
    assert_eq!(ssl_in_use(&store).await, "f");
}

#[tokio::test]
async fn sslmode_verify_full_refuses_a_self_signed_certificate() {
    let db = TestDatabase::create().await;
    let store = db
        .settings()
        .with_url(&with_param(&db.direct_url(), "sslmode=verify-full"))
        .store();
    match store.ping().await {
        Err(StoreError::Unavailable(message)) => assert!(!message.contains(db.name()), "{message}"),
        other => panic!("an untrusted certificate must fail verification, got {other:?}"),
    }
}

#[tokio::test]
async fn a_database_that_is_down_at_start_is_reported_by_ping_not_at_construction() {
    let closed = std::net::TcpListener::bind("127.0.0.1:0").expect("a free port");
    let port = closed.local_addr().expect("port").port();
    drop(closed);
    let url = format!("postgres://governed:hunter2@127.0.0.1:{port}/app?sslmode=prefer");
    let store = crate::db::TestSettings::new(&url).store();
    match store.ping().await {
        Err(StoreError::Unavailable(message)) => {
            assert!(
                !message.contains("hunter2") && !message.contains(&port.to_string()),
                "{message}"
            );
        }
        other => panic!("expected Unavailable, got {other:?}"),
    }
    assert!(store
        .admit(governed_chat::store::AdmissionRequest {
            session_id: None,
            client_address: None,
            user: None,
        })
        .await
        .is_err());
}

#[tokio::test]
async fn the_store_leaves_no_prepared_statements_on_its_connections() {
    let db = TestDatabase::create().await;
    let mut settings = db.settings();
    settings.database.pool_size = 1;
    let store = settings.store();
    let id = new_session(&store).await;
    admit(&store, Some(&id), Some("192.0.2.1")).await;
    store
        .insert_requests(&accepted_rows(3))
        .await
        .expect("insert");
    store.ping().await.expect("ping");
    store.status().await.expect("status");
    store.reap_once().await.expect("reap");
    let shared = postgres(&store)
        .pool()
        .get()
        .await
        .expect("the one shared connection");
    let admission = postgres(&store)
        .admission_connection()
        .await
        .expect("the one admission connection");
    for (name, client) in [("shared", &shared), ("admission", &admission)] {
        assert_eq!(
            scalar(client, "SELECT count(*) FROM pg_prepared_statements").await,
            "0",
            "statements left prepared on the {name} connection"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_query_stuck_behind_a_lock_times_out_and_the_pool_recovers() {
    let db = TestDatabase::create().await;
    let mut settings = db.settings();
    settings.database.query_timeout = Duration::from_millis(300);
    settings.database.pool_size = 1;
    let store = settings.store();
    let id = new_session(&store).await;
    let blocker = db.client().await;
    let lock = format!(
        "BEGIN; SELECT 1 FROM sessions WHERE id = '{}' FOR UPDATE",
        id.as_str()
    );
    blocker
        .batch_execute(&lock)
        .await
        .expect("locking the session row");

    let started = Instant::now();
    let result = store
        .admit(governed_chat::store::AdmissionRequest {
            session_id: Some(id.clone()),
            client_address: None,
            user: None,
        })
        .await;
    assert!(
        matches!(result, Err(StoreError::Timeout)),
        "expected Timeout, got {result:?}"
    );
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "took {:?}",
        started.elapsed()
    );

    blocker
        .batch_execute("ROLLBACK")
        .await
        .expect("releasing the lock");
    assert!(matches!(
        admit(&store, Some(&id), None).await,
        governed_chat::store::Admission::Admitted {
            new_session: false,
            ..
        }
    ));
}

/// The server's own certificate (self-signed for `localhost`), read from where the server
/// says it is: the tests run next to the server they create databases on.
async fn server_certificate(db: &TestDatabase) -> String {
    let client = db.direct_client().await;
    let path = scalar(&client, "SHOW ssl_cert_file").await;
    assert!(
        std::fs::metadata(&path).is_ok(),
        "cannot read the server certificate {path}"
    );
    path
}

#[tokio::test]
async fn sslmode_verify_ca_checks_the_chain_but_not_the_host_name() {
    let db = TestDatabase::create().await;
    let root = server_certificate(&db).await;
    let url = with_param(
        &db.direct_url(),
        &format!("sslmode=verify-ca&sslrootcert={root}"),
    );
    let store = db.settings().with_url(&url).store();
    assert!(store.ping().await.expect("the chain verifies").is_current());
    assert_eq!(ssl_in_use(&store).await, "t");

    let url = with_param(
        &db.direct_url(),
        &format!("sslmode=verify-full&sslrootcert={root}"),
    );
    let store = db.settings().with_url(&url).store();
    assert!(
        matches!(store.ping().await, Err(StoreError::Unavailable(_))),
        "verify-full must refuse a certificate for localhost when connecting to 127.0.0.1"
    );
}

#[tokio::test]
async fn sslmode_verify_full_accepts_a_trusted_certificate_for_the_host_name() {
    let db = TestDatabase::create().await;
    let root = server_certificate(&db).await;
    let mut url = url::Url::parse(&db.direct_url()).expect("a URL");
    let address = url.host_str().expect("a host").to_owned();
    url.set_host(Some("localhost")).expect("a host name");
    let url = with_param(
        url.as_str(),
        &format!("hostaddr={address}&sslmode=verify-full&sslrootcert={root}"),
    );
    let store = db.settings().with_url(&url).store();
    assert!(store.ping().await.expect("verified TLS").is_current());
    assert_eq!(ssl_in_use(&store).await, "t");
}

const WORKER_TEST_APP: &str = "governed-chat-worker-test";

/// Server processes connected to `db` by the store of the per-worker test.
async fn app_connections(db: &TestDatabase) -> i64 {
    let query = format!(
        "SELECT count(*) FROM pg_stat_activity \
         WHERE datname = '{}' AND application_name = '{WORKER_TEST_APP}'",
        db.name()
    );
    scalar(&db.direct_client().await, &query)
        .await
        .parse()
        .expect("a count")
}

/// Like an actix HTTP worker: a thread with a single-threaded runtime of its own, which
/// admits turns on request until it is stopped.
struct Worker {
    requests: std::sync::mpsc::Sender<(String, std::sync::mpsc::Sender<Admission>)>,
    thread: std::thread::JoinHandle<()>,
}

impl Worker {
    fn start(store: Arc<Store>) -> Worker {
        let (requests, incoming) =
            std::sync::mpsc::channel::<(String, std::sync::mpsc::Sender<Admission>)>();
        let thread = std::thread::spawn(move || {
            let runtime = worker_runtime();
            for (address, reply) in incoming {
                let admission = runtime.block_on(admit(&store, None, Some(&address)));
                let _ = reply.send(admission);
            }
        });
        Worker { requests, thread }
    }

    fn admit(&self, address: &str) -> Admission {
        let (reply, answer) = std::sync::mpsc::channel();
        self.requests
            .send((address.to_owned(), reply))
            .expect("the worker is running");
        answer
            .recv_timeout(Duration::from_secs(10))
            .expect("the worker admits within 10 s")
    }

    /// Stops the worker: its runtime, and every task on it, is dropped.
    fn stop(self) {
        drop(self.requests);
        self.thread.join().expect("the worker stops cleanly");
    }
}

#[test]
fn each_worker_admits_over_connections_of_its_own_which_end_with_that_worker() {
    let main = main_runtime();
    let db = main.block_on(TestDatabase::create());
    // Directly, not through a pooler, under a name of its own: the server's backends with
    // that name are then exactly this store's connections.
    let direct = db.settings().with_url(&with_param(
        &db.direct_url(),
        &format!("application_name={WORKER_TEST_APP}"),
    ));
    let store = Arc::new(main.block_on(async { direct.store() }));

    let worker_a = Worker::start(Arc::clone(&store));
    let worker_b = Worker::start(Arc::clone(&store));
    let first_a = worker_a.admit("192.0.2.1");
    let first_b = worker_b.admit("192.0.2.2");
    assert!(matches!(first_a, Admission::Admitted { .. }), "{first_a:?}");
    assert!(matches!(first_b, Admission::Admitted { .. }), "{first_b:?}");
    assert_eq!(
        main.block_on(app_connections(&db)),
        2,
        "each worker opened a connection of its own"
    );

    // A stops (an idle worker on SIGTERM): its connection closes with it, B's keeps working.
    worker_a.stop();
    let closed = main.block_on(crate::support::eventually(
        Duration::from_secs(5),
        || async { app_connections(&db).await == 1 },
    ));
    assert!(closed, "worker A's connection outlived worker A");
    let again_b = worker_b.admit("192.0.2.2");
    assert!(
        matches!(again_b, Admission::Admitted { .. }),
        "worker B's admission failed after worker A stopped: {again_b:?}"
    );
    assert_eq!(main.block_on(app_connections(&db)), 1);
    worker_b.stop();
    drop(store);
    main.block_on(async { drop(db) });
}

/// Like the process's main runtime, on which the application is built.
fn main_runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("the main runtime")
}

/// Like an actix HTTP worker: a single-threaded runtime of its own.
fn worker_runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a worker runtime")
}

#[test]
fn a_pooled_connection_opened_by_a_worker_keeps_working_after_that_worker_stops() {
    let main = main_runtime();
    let db = main.block_on(TestDatabase::create());
    // Built on the main runtime, as Application::build does.
    let store = main.block_on(async { db.settings().store() });
    let pool = postgres(&store).pool().clone();

    // Worker A opens the pool's connection; worker B takes it over while A is still alive.
    let worker_a = worker_runtime();
    worker_a.block_on(async { drop(pool.get().await.expect("worker A connects")) });
    let worker_b = worker_runtime();
    let client = worker_b.block_on(async { pool.get().await.expect("worker B checks out") });
    assert_eq!(pool.status().size, 1, "B got the connection A opened");

    // A stops (an idle worker on SIGTERM) while B is still using the connection.
    drop(worker_a);
    let answer = worker_b.block_on(async {
        tokio::time::timeout(Duration::from_secs(5), client.simple_query("SELECT 1")).await
    });
    assert!(
        matches!(answer, Ok(Ok(_))),
        "the connection died with the worker that opened it: {answer:?}"
    );
    drop(client);
    drop(worker_b);
    main.block_on(async { drop(db) });
}

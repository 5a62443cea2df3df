//! What running outbound I/O on the main runtime costs per provider call. A measurement for
//! docs/BENCHMARKS.md, not a test: `cargo run --release --example io_runtime_cost`.
//!
//! Like the server: a multi-threaded main runtime (2 threads) and a single-threaded "HTTP
//! worker" runtime on its own thread. A loopback stub answers a fixed completion over
//! keep-alive. From the worker, the same reqwest call is made N times awaited in place (how
//! calls ran before) and N times through `IoRuntime::run` (a spawn on the main runtime and
//! a wake back), and the latency percentiles are printed.
//!
//! With `BENCH_DATABASE_URL` set (an empty or migrated database; it is migrated), it also
//! times a turn's admission statement from the worker over a pool whose connections were
//! opened on the worker itself (the best case before) and over one whose connections were
//! opened on the main runtime (now): every round trip then wakes the main runtime's driver.
use governed_chat::config::{LoadedConfig, RawEnv};
use governed_chat::io_runtime::IoRuntime;
use governed_chat::store::{AdmissionRequest, Store};
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

const CALLS: usize = 20_000;
const BODY: &str = r#"{"choices":[{"message":{"role":"assistant","content":"All good."}}]}"#;

async fn stub() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let address = listener.local_addr().expect("address");
    tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            tokio::spawn(async move {
                let mut buffer = vec![0u8; 16 * 1024];
                let response = format!(
                    "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{BODY}",
                    BODY.len()
                );
                // One request per read is enough for this client (small bodies, no pipelining).
                while let Ok(n) = stream.read(&mut buffer).await {
                    if n == 0 || stream.write_all(response.as_bytes()).await.is_err() {
                        break;
                    }
                }
            });
        }
    });
    format!("http://{address}/v1/chat/completions")
}

async fn call(client: reqwest::Client, url: String) -> usize {
    let response = client
        .post(url)
        .body(r#"{"model":"m","messages":[]}"#)
        .send()
        .await
        .expect("the stub answers");
    response.bytes().await.expect("a body").len()
}

fn percentiles(mut samples: Vec<Duration>) -> String {
    samples.sort_unstable();
    let at = |q: f64| samples[((samples.len() as f64 - 1.0) * q) as usize];
    format!("p50 {:?}, p90 {:?}, p99 {:?}", at(0.5), at(0.9), at(0.99))
}

fn main() {
    let main_runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("the main runtime");
    let (io, url) =
        main_runtime.block_on(async { (IoRuntime::current().expect("io"), stub().await) });
    let worker = std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("a worker runtime");
        runtime.block_on(async move {
            let in_place = reqwest::Client::new();
            let on_io = reqwest::Client::new();
            let mut direct = Vec::with_capacity(CALLS);
            let mut hopped = Vec::with_capacity(CALLS);
            // Warm both pools, then interleave so machine noise hits both alike.
            call(in_place.clone(), url.clone()).await;
            io.run(call(on_io.clone(), url.clone())).await.expect("io");
            for _ in 0..CALLS {
                let started = Instant::now();
                call(in_place.clone(), url.clone()).await;
                direct.push(started.elapsed());
                let started = Instant::now();
                io.run(call(on_io.clone(), url.clone())).await.expect("io");
                hopped.push(started.elapsed());
            }
            (direct, hopped)
        })
    });
    let (direct, hopped) = worker.join().expect("the worker thread");
    println!("{CALLS} loopback calls from a single-threaded worker runtime:");
    println!("  awaited in place:        {}", percentiles(direct));
    println!("  through IoRuntime::run:  {}", percentiles(hopped));
    if let Ok(url) = std::env::var("BENCH_DATABASE_URL") {
        admissions(&main_runtime, &url);
    }
    drop(main_runtime);
}

fn store(url: &str) -> Store {
    let env = RawEnv::from_pairs([
        ("DATABASE_URL", url),
        ("DATABASE_POOL_SIZE", "1"),
        ("QUOTA_PER_MINUTE", "1000000"),
        ("QUOTA_PER_DAY", "100000000"),
        ("NEW_SESSIONS_PER_ADDRESS_PER_HOUR", "1000000"),
    ]);
    Store::from_settings(&LoadedConfig::from_env(&env).settings).expect("a store")
}

fn admissions(main_runtime: &tokio::runtime::Runtime, url: &str) {
    const ADMISSIONS: usize = 5_000;
    let on_main = main_runtime.block_on(async {
        let store = store(url);
        store.migrate().await.expect("migrated");
        store
    });
    let url = url.to_owned();
    let worker = std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("a worker runtime");
        runtime.block_on(async move {
            let on_worker = store(&url); // its connections are opened on this runtime
            let admit = |store: &'static Store| async move {
                let request = AdmissionRequest {
                    session_id: None,
                    client_address: Some("127.0.0.1".to_owned()),
                    user: None,
                };
                let started = Instant::now();
                store.admit(request).await.expect("admitted");
                started.elapsed()
            };
            let on_worker: &'static Store = Box::leak(Box::new(on_worker));
            let on_main: &'static Store = Box::leak(Box::new(on_main));
            admit(on_worker).await;
            admit(on_main).await;
            let (mut same, mut hopped) = (Vec::new(), Vec::new());
            for _ in 0..ADMISSIONS {
                same.push(admit(on_worker).await);
                hopped.push(admit(on_main).await);
            }
            (same, hopped)
        })
    });
    let (same, hopped) = worker.join().expect("the worker thread");
    println!("{ADMISSIONS} admissions (new session) from a single-threaded worker runtime:");
    println!(
        "  connection opened on the worker:        {}",
        percentiles(same)
    );
    println!(
        "  connection opened on the main runtime:  {}",
        percentiles(hopped)
    );
}

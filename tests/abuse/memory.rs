//! Memory stays bounded under abuse: the real binary, its resident set read from
//! `/proc/<pid>/status` before and after a burst of oversized and malformed requests.
use crate::support::{chat_head, exchange, preview};
use futures::stream::{self, StreamExt};
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

const BURST: usize = 2_000;
const MAX_GROWTH_KIB: u64 = 64 * 1024;

/// The real binary on a random loopback port; killed when dropped.
struct Server {
    child: Child,
    port: u16,
}

impl Server {
    fn start() -> Server {
        let mut child = Command::new(env!("CARGO_BIN_EXE_governed-chat"))
            .arg("serve")
            .env_clear()
            .envs([
                ("PORT", "0"),
                ("LOG_LEVEL", "info"),
                ("QUOTA_PER_MINUTE", "1000000"),
                ("QUOTA_PER_DAY", "1000000"),
                ("NEW_SESSIONS_PER_ADDRESS_PER_HOUR", "1000000"),
                ("TURNS_PER_ADDRESS_PER_HOUR", "100000000"),
                ("REQUEST_READ_TIMEOUT_MS", "1000"),
            ])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("the binary starts");
        let stdout = child.stdout.take().expect("stdout");
        let (found, address) = mpsc::channel();
        // Read every log line (so the pipe never fills); report the listening address.
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                let Ok(value) = serde_json::from_str::<serde_json::Value>(&line) else {
                    continue;
                };
                if value["fields"]["event"] == "listening" {
                    let _ = found.send(
                        value["fields"]["address"]
                            .as_str()
                            .unwrap_or_default()
                            .to_owned(),
                    );
                }
            }
        });
        let Ok(address) = address.recv_timeout(Duration::from_secs(20)) else {
            let _ = child.kill();
            panic!("the server did not log its listening address within 20 s");
        };
        let port = address
            .rsplit(':')
            .next()
            .and_then(|p| p.parse().ok())
            .expect("the address has a port");
        Server { child, port }
    }

    /// Resident memory in KiB, and its peak so far.
    fn memory_kib(&self) -> (u64, u64) {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id()))
            .expect("/proc status");
        let field = |name: &str| {
            status
                .lines()
                .find_map(|line| line.strip_prefix(name))
                .and_then(|rest| {
                    rest.trim()
                        .trim_end_matches("kB")
                        .trim()
                        .parse::<u64>()
                        .ok()
                })
                .unwrap_or_else(|| panic!("{name} in /proc status"))
        };
        (field("VmRSS:"), field("VmHWM:"))
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One abusive request of several kinds, chosen by `i`; returns a problem, if any.
async fn abuse(port: u16, client: &reqwest::Client, i: usize) -> Option<String> {
    let url = format!("http://127.0.0.1:{port}/api/chat");
    let limit = Duration::from_secs(10);
    match i % 5 {
        0 => {
            // Declared far past the limit, body never sent.
            let response = exchange(
                port,
                chat_head("Content-Length: 50000000\r\n").as_bytes(),
                limit,
            )
            .await;
            response.problem(&[413])
        }
        1 => {
            // 256 KiB actually sent (the server may answer and close early).
            let body = format!("{{\"message\": \"{}\"}}", "x".repeat(256 * 1024));
            match client
                .post(&url)
                .header("content-type", "application/json")
                .body(body)
                .send()
                .await
            {
                Ok(response) if response.status() == 413 => None,
                Ok(response) => Some(format!("256 KiB body got {}", response.status())),
                Err(_) => None, // reset while still sending: refused all the same
            }
        }
        2 => {
            let response = exchange(
                port,
                format!(
                    "{}{}",
                    chat_head("Content-Length: 30000\r\n"),
                    "[".repeat(30_000)
                )
                .as_bytes(),
                limit,
            )
            .await;
            response.problem(&[400])
        }
        3 => {
            let body = format!(
                "{{\"message\": \"{}",
                "\u{202e}\u{200b}<script>".repeat(500)
            );
            let response = client
                .post(&url)
                .header("content-type", "application/json")
                .body(body)
                .send()
                .await
                .ok()?;
            (response.status() != 400).then(|| format!("truncated JSON got {}", response.status()))
        }
        _ => {
            // Just under the body limit, over the message limit: a refused turn.
            let body = serde_json::json!({ "message": "é".repeat(15_000) }).to_string();
            let response = client
                .post(&url)
                .header("content-type", "application/json")
                .body(body)
                .send()
                .await
                .ok()?;
            let status = response.status();
            let text = response.text().await.unwrap_or_default();
            (status != 200 || !text.contains("\"refused\""))
                .then(|| format!("long message got {status}: {}", preview(&text)))
        }
    }
}

async fn burst(port: u16, client: &reqwest::Client, count: usize) -> Vec<String> {
    stream::iter(0..count)
        .map(|i| abuse(port, client, i))
        .buffer_unordered(32)
        .filter_map(|problem| async move { problem })
        .collect()
        .await
}

#[tokio::test]
async fn memory_stays_bounded_through_a_burst_of_two_thousand_oversized_and_malformed_requests() {
    let server = Server::start();
    let client = reqwest::Client::new();
    // Warm up: worker threads, allocator arenas and connection buffers reach steady state.
    let warm_up = burst(server.port, &client, 200).await;
    crate::support::assert_no_problems("warm-up", warm_up);
    tokio::time::sleep(Duration::from_millis(300)).await;
    let (before, _) = server.memory_kib();

    let problems = burst(server.port, &client, BURST).await;
    crate::support::assert_no_problems("the burst", problems);
    tokio::time::sleep(Duration::from_millis(500)).await;
    let (after, peak) = server.memory_kib();

    let health = client
        .get(format!("http://127.0.0.1:{}/health", server.port))
        .send()
        .await
        .expect("/health answers");
    assert_eq!(health.status(), 200);
    let growth = after.saturating_sub(before);
    eprintln!(
        "VmRSS before {before} KiB, after {after} KiB (growth {growth} KiB), peak {peak} KiB"
    );
    assert!(
        growth < MAX_GROWTH_KIB,
        "resident memory grew by {growth} KiB over {BURST} requests ({before} -> {after} KiB)"
    );
    assert!(
        peak < before + 2 * MAX_GROWTH_KIB,
        "resident memory peaked at {peak} KiB (from {before} KiB)"
    );
}

//! The Next.js example (examples/nextjs, built by scripts/provision-nextjs.sh) served by
//! `next start` on a loopback port, and driven in headless Chromium by its
//! `e2e/drive.mjs` (playwright-core with Debian's /usr/bin/chromium), which types the
//! messages and reports what the page showed.
use serde::Deserialize;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;
use tokio::process::{Child, Command};

const STARTUP_LIMIT: Duration = Duration::from_secs(30);
const DRIVE_LIMIT: Duration = Duration::from_secs(90);

/// What the page showed for each message, in order.
#[derive(Debug, Deserialize)]
pub struct Shown {
    pub turns: Vec<Turn>,
    pub banner: Option<String>,
    pub console: Vec<String>,
}

#[derive(Debug, Deserialize)]
pub struct Turn {
    /// The reply's text as rendered (Markdown turned into the page's text).
    pub reply: Option<String>,
    /// `pending` until the finish part arrived, then the turn's outcome.
    pub outcome: Option<String>,
    pub category: Option<String>,
    pub session_id: Option<String>,
    /// The failure line, when the page shows one.
    pub failure: Option<String>,
    /// Every length the reply's text took, with the outcome shown at that moment.
    pub growth: Vec<Step>,
}

#[derive(Debug, Deserialize)]
pub struct Step {
    pub length: usize,
    pub outcome: String,
}

impl Turn {
    /// The distinct non-empty lengths the reply had while it was still streaming.
    pub fn lengths_while_streaming(&self) -> Vec<usize> {
        self.growth
            .iter()
            .filter(|step| step.outcome == "pending" && step.length > 0)
            .map(|step| step.length)
            .collect()
    }
}

fn example_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/nextjs")
}

/// A free loopback port, for a page whose origin must be known before it is served.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .expect("a free loopback port")
        .port()
}

pub fn origin(port: u16) -> String {
    format!("http://127.0.0.1:{port}")
}

pub struct NextPage {
    pub url: String,
    _server: Child,
}

impl NextPage {
    /// Serve the built example on `port`, talking to the backend at `api_base_url`.
    pub async fn serve(port: u16, api_base_url: &str) -> NextPage {
        let dir = example_dir();
        assert!(
            dir.join(".next/BUILD_ID").exists()
                && dir.join("node_modules/playwright-core").exists(),
            "examples/nextjs is not built: run scripts/provision-nextjs.sh (npm ci, next build)"
        );
        let mut server = Command::new("node")
            .current_dir(&dir)
            .args([
                "node_modules/next/dist/bin/next",
                "start",
                "--hostname",
                "127.0.0.1",
            ])
            .args(["--port", &port.to_string()])
            .env("NEXT_TELEMETRY_DISABLED", "1")
            .env("NEXT_PUBLIC_API_BASE_URL", api_base_url)
            .env("NEXT_PUBLIC_ENV", "test")
            .env_remove("NEXT_PUBLIC_SUPABASE_URL")
            .env_remove("NEXT_PUBLIC_SUPABASE_ANON_KEY")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .unwrap_or_else(|e| panic!("next start could not be run with node: {e}"));
        let url = format!("{}/", origin(port));
        let client = reqwest::Client::new();
        let deadline = tokio::time::Instant::now() + STARTUP_LIMIT;
        loop {
            if client
                .get(&url)
                .send()
                .await
                .is_ok_and(|r| r.status() == 200)
            {
                break;
            }
            if let Ok(Some(status)) = server.try_wait() {
                panic!("next start exited before serving {url}: {status}");
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "next start did not serve {url} within {STARTUP_LIMIT:?}"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        NextPage {
            url,
            _server: server,
        }
    }

    /// Type each message in turn in headless Chromium and report what the page showed.
    pub async fn send(&self, messages: &[&str]) -> Shown {
        let child = Command::new("node")
            .current_dir(example_dir())
            .arg("e2e/drive.mjs")
            .arg(&self.url)
            .args(messages)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .unwrap_or_else(|e| panic!("e2e/drive.mjs could not be run with node: {e}"));
        let output = tokio::time::timeout(DRIVE_LIMIT, child.wait_with_output())
            .await
            .unwrap_or_else(|_| panic!("the browser did not finish within {DRIVE_LIMIT:?}"))
            .expect("the driver's output is readable");
        let stdout = String::from_utf8_lossy(&output.stdout);
        assert!(
            output.status.success(),
            "the browser driver failed ({}):\n{}\n{stdout}",
            output.status,
            String::from_utf8_lossy(&output.stderr)
        );
        serde_json::from_str(&stdout)
            .unwrap_or_else(|e| panic!("the driver printed no report ({e}): {stdout}"))
    }
}

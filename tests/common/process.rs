//! Runs the compiled `governed-chat` binary as a child process with a clean environment,
//! collects every line it prints, and reads the bound port from its startup log line.
#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

pub struct ServerProcess {
    child: Child,
    pub port: u16,
    pub bound_address: String,
    output: Arc<Mutex<Vec<String>>>,
}

pub fn binary() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_governed-chat"));
    command.env_clear();
    command
}

fn collect(stream: impl std::io::Read + Send + 'static, into: Arc<Mutex<Vec<String>>>) {
    std::thread::spawn(move || {
        for line in BufReader::new(stream).lines().map_while(Result::ok) {
            if let Ok(mut lines) = into.lock() {
                lines.push(line);
            }
        }
    });
}

impl ServerProcess {
    pub fn start(env: &[(&str, &str)]) -> ServerProcess {
        let mut command = binary();
        command
            .arg("serve")
            .envs(env.iter().copied())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let has = |name: &str| env.iter().any(|(k, _)| *k == name);
        if !has("PORT") {
            command.env("PORT", "0");
        }
        let mut child = command.spawn().expect("the binary starts");
        let output = Arc::new(Mutex::new(Vec::new()));
        collect(child.stdout.take().expect("stdout"), Arc::clone(&output));
        collect(child.stderr.take().expect("stderr"), Arc::clone(&output));
        let started = Instant::now();
        loop {
            let address = output.lock().ok().and_then(|lines| {
                lines.iter().find_map(|line| {
                    let value: serde_json::Value = serde_json::from_str(line).ok()?;
                    (value["fields"]["event"] == "listening")
                        .then(|| value["fields"]["address"].as_str().map(str::to_owned))?
                })
            });
            if let Some(address) = address {
                let port = address
                    .rsplit(':')
                    .next()
                    .and_then(|p| p.parse().ok())
                    .expect("a port");
                return ServerProcess {
                    child,
                    port,
                    bound_address: address,
                    output,
                };
            }
            if started.elapsed() > Duration::from_secs(20)
                || child.try_wait().ok().flatten().is_some()
            {
                let lines = output.lock().map(|l| l.join("\n")).unwrap_or_default();
                panic!("the server did not report listening:\n{lines}");
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{}", self.port, path)
    }

    /// Poll `/ready` until it answers 200; panic after about 5 s.
    pub async fn wait_until_ready(&self) {
        let client = reqwest::Client::new();
        for _ in 0..200 {
            if client
                .get(self.url("/ready"))
                .send()
                .await
                .is_ok_and(|r| r.status() == 200)
            {
                return;
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        panic!(
            "the server never became ready:\n{}",
            self.output().join("\n")
        );
    }

    pub fn sigterm(&self) {
        let pid = nix::unistd::Pid::from_raw(i32::try_from(self.child.id()).expect("pid fits"));
        nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGTERM).expect("SIGTERM sent");
    }

    /// Wait for exit; kill and panic if it takes longer than `limit`.
    pub fn wait_for_exit(&mut self, limit: Duration) -> ExitStatus {
        let started = Instant::now();
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                std::thread::sleep(Duration::from_millis(50)); // let the readers drain
                return status;
            }
            if started.elapsed() > limit {
                let _ = self.child.kill();
                panic!(
                    "the server did not exit within {limit:?}:\n{}",
                    self.output().join("\n")
                );
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    pub fn output(&self) -> Vec<String> {
        self.output
            .lock()
            .map(|lines| lines.clone())
            .unwrap_or_default()
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

//! A private PostgreSQL server for tests that stop and restart it: `initdb` into a temp dir,
//! `pg_ctl` on a free loopback port, trust auth, no fsync. Other tests never see it.
//!
//! The binaries come from `/usr/lib/postgresql/<version>/bin` (Debian's server package,
//! installed by scripts/provision-postgres.sh). PostgreSQL refuses to run as root, so as root
//! every command runs as the `postgres` user (`runuser`), which owns the temp dir.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;

pub struct PgCluster {
    bin: PathBuf,
    /// Removed after `Drop` has stopped the server.
    dir: tempfile::TempDir,
    pub port: u16,
}

impl PgCluster {
    /// A new cluster, started. Blocking: call it from `spawn_blocking`.
    pub fn start() -> PgCluster {
        let bin = server_binaries();
        let dir = tempfile::Builder::new()
            .prefix("gc-pg-cluster-")
            .tempdir()
            .expect("a temp dir");
        if is_root() {
            run(Command::new("chown")
                .args(["-R", "postgres:postgres"])
                .arg(dir.path()));
        }
        let port = free_port();
        let cluster = PgCluster { bin, dir, port };
        cluster.postgres_command("initdb", |command| {
            command
                .args([
                    "-A",
                    "trust",
                    "-U",
                    "postgres",
                    "--no-sync",
                    "-E",
                    "UTF8",
                    "-D",
                ])
                .arg(cluster.data_dir());
        });
        cluster.start_server();
        cluster
    }

    /// `postgres://postgres@127.0.0.1:<port>/postgres`
    pub fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }

    /// Starts the server and waits until it accepts connections. Blocking.
    pub fn start_server(&self) {
        let options = format!(
            "-p {} -c listen_addresses=127.0.0.1 -c unix_socket_directories={} -c fsync=off -c max_connections=50",
            self.port,
            self.dir.path().display()
        );
        let log = self.dir.path().join("server.log");
        self.postgres_command("pg_ctl", |command| {
            command
                .args(["start", "-w", "-t", "30", "-D"])
                .arg(self.data_dir())
                .args(["-l"])
                .arg(&log)
                .args(["-o", &options]);
        });
    }

    /// Stops the server (fast shutdown: connections are cut, as in a restart). Blocking.
    pub fn stop_server(&self) {
        self.postgres_command("pg_ctl", |command| {
            command
                .args(["stop", "-w", "-t", "30", "-m", "fast", "-D"])
                .arg(self.data_dir());
        });
    }

    fn data_dir(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    fn postgres_command(&self, program: &str, configure: impl FnOnce(&mut Command)) {
        let path = self.bin.join(program);
        let mut command = if is_root() {
            let mut command = Command::new("runuser");
            command.args(["-u", "postgres", "--"]).arg(&path);
            command
        } else {
            Command::new(&path)
        };
        configure(&mut command);
        run(&mut command);
    }
}

impl Drop for PgCluster {
    fn drop(&mut self) {
        let path = self.bin.join("pg_ctl");
        let mut command = if is_root() {
            let mut command = Command::new("runuser");
            command.args(["-u", "postgres", "--"]).arg(&path);
            command
        } else {
            Command::new(&path)
        };
        let _ = command
            .args(["stop", "-w", "-m", "immediate", "-D"])
            .arg(self.data_dir())
            .output();
    }
}

fn run(command: &mut Command) {
    let output = command
        .output()
        .unwrap_or_else(|err| panic!("running {command:?}: {err}"));
    assert!(
        output.status.success(),
        "{command:?} failed: {}\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

/// The newest `/usr/lib/postgresql/<version>/bin` that has `initdb` and `pg_ctl`.
fn server_binaries() -> PathBuf {
    let root = Path::new("/usr/lib/postgresql");
    let mut found: Vec<(u32, PathBuf)> = std::fs::read_dir(root)
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|entry| {
            let version = entry.file_name().to_str()?.parse().ok()?;
            let bin = entry.path().join("bin");
            (bin.join("initdb").exists() && bin.join("pg_ctl").exists()).then_some((version, bin))
        })
        .collect();
    found.sort();
    found.pop().map(|(_, bin)| bin).unwrap_or_else(|| {
        panic!("no PostgreSQL server binaries under {root:?} (run scripts/provision-postgres.sh)")
    })
}

fn is_root() -> bool {
    nix::unistd::Uid::effective().is_root()
}

fn free_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("a free port");
    listener.local_addr().expect("an address").port()
}

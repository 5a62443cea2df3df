//! The reaper: on every `reaper_interval`, delete rows past `expires_at` in small batches.
//! Replicas may all run one; the advisory lock lets a single one delete at a time.
use super::Store;
use crate::config::RetentionSettings;
use parking_lot::Mutex;
use serde::Serialize;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use tokio::sync::watch;
use tokio::task::JoinHandle;
use tokio::time::MissedTickBehavior;

/// What one reaping round deleted.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct ReapReport {
    pub sessions: u64,
    pub requests: u64,
    pub address_limits: u64,
    pub writer_drops: u64,
    pub users: u64,
    /// Another replica held the reaper lock, so this round stopped early.
    pub lock_busy: bool,
}

impl ReapReport {
    pub fn total(&self) -> u64 {
        self.sessions + self.requests + self.address_limits + self.writer_drops + self.users
    }

    /// Add to the counter of table `index` (0 sessions, 1 requests, 2 address limits,
    /// 3 writer drops, 4 users).
    pub(crate) fn add(&mut self, index: usize, deleted: u64) {
        match index {
            0 => self.sessions += deleted,
            1 => self.requests += deleted,
            2 => self.address_limits += deleted,
            3 => self.writer_drops += deleted,
            _ => self.users += deleted,
        }
    }
}

pub struct Reaper;

impl Reaper {
    /// Start reaping in the background; the first round runs immediately.
    pub fn spawn(store: Arc<Store>, settings: &RetentionSettings) -> ReaperHandle {
        let (stop, stopped) = watch::channel(false);
        let shared = Arc::new(Shared {
            deleted: AtomicU64::new(0),
            rounds_lock_busy: AtomicU64::new(0),
            stop,
            task: Mutex::new(None),
        });
        let period = settings
            .reaper_interval
            .max(std::time::Duration::from_millis(10));
        let task = tokio::spawn(run(store, Arc::clone(&shared), period, stopped));
        *shared.task.lock() = Some(task);
        ReaperHandle { shared }
    }
}

#[derive(Clone)]
pub struct ReaperHandle {
    shared: Arc<Shared>,
}

struct Shared {
    deleted: AtomicU64,
    rounds_lock_busy: AtomicU64,
    stop: watch::Sender<bool>,
    task: Mutex<Option<JoinHandle<()>>>,
}

impl ReaperHandle {
    /// Rows deleted since start.
    pub fn deleted(&self) -> u64 {
        self.shared.deleted.load(Ordering::Relaxed)
    }

    /// Rounds cut short because another replica was reaping.
    pub fn rounds_lock_busy(&self) -> u64 {
        self.shared.rounds_lock_busy.load(Ordering::Relaxed)
    }

    /// Stop reaping (a batch in flight is abandoned and rolled back) and wait for the task.
    pub async fn stop(&self) {
        self.shared.stop.send_replace(true);
        let task = self.shared.task.lock().take();
        if let Some(task) = task {
            if let Err(err) = task.await {
                tracing::warn!(error = %err, "the reaper task ended abnormally");
            }
        }
    }
}

async fn run(
    store: Arc<Store>,
    shared: Arc<Shared>,
    period: std::time::Duration,
    mut stopped: watch::Receiver<bool>,
) {
    let mut ticker = tokio::time::interval(period);
    ticker.set_missed_tick_behavior(MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            biased;
            _ = stopped.wait_for(|stop| *stop) => return,
            _ = ticker.tick() => {}
        }
        let round = tokio::select! {
            biased;
            _ = stopped.wait_for(|stop| *stop) => return,
            round = store.reap_once() => round,
        };
        match round {
            Ok(report) => {
                shared.deleted.fetch_add(report.total(), Ordering::Relaxed);
                if report.lock_busy {
                    shared.rounds_lock_busy.fetch_add(1, Ordering::Relaxed);
                }
                if report.total() > 0 {
                    tracing::debug!(
                        sessions = report.sessions,
                        requests = report.requests,
                        address_limits = report.address_limits,
                        users = report.users,
                        "reaped expired rows"
                    );
                }
            }
            Err(err) => {
                tracing::warn!(error = %err, "reaping expired rows failed; will retry next interval")
            }
        }
    }
}

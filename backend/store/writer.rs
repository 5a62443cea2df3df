//! The metadata writer: request rows leave the hot path through a bounded queue
//! (`record` never blocks or awaits) and reach the database in batches. While the database
//! is down the writer holds the failed batch, retries it with capped exponential backoff,
//! and lets the queue absorb what fits; what does not fit is counted as dropped.
use super::{RequestRecord, Store, StoreError};
use crate::config::WriterSettings;
use parking_lot::Mutex;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{mpsc, watch, Notify};
use tokio::task::JoinHandle;
use tokio::time::Instant;

const FIRST_RETRY: Duration = Duration::from_millis(100);
const MAX_RETRY: Duration = Duration::from_secs(2);

pub struct MetadataWriter;

impl MetadataWriter {
    pub fn spawn(store: Arc<Store>, settings: &WriterSettings) -> WriterHandle {
        let (sender, receiver) = mpsc::channel(settings.queue_capacity.max(1));
        let (shutdown, shutdown_rx) = watch::channel(None);
        let shared = Arc::new(Shared {
            sender,
            dropped: AtomicU64::new(0),
            written: AtomicU64::new(0),
            held: AtomicUsize::new(0),
            shutdown,
            task: Mutex::new(None),
            batch_ready: Notify::new(),
            batch_size: settings.batch_size.max(1),
        });
        let worker = Worker {
            store,
            shared: Arc::clone(&shared),
            receiver,
            shutdown: shutdown_rx,
            batch: Vec::new(),
            batch_size: settings.batch_size.max(1),
            flush_interval: settings.flush_interval,
            writer_id: uuid::Uuid::new_v4().simple().to_string(),
            reported_dropped: 0,
        };
        *shared.task.lock() = Some(tokio::spawn(worker.run()));
        WriterHandle { shared }
    }
}

#[derive(Clone)]
pub struct WriterHandle {
    shared: Arc<Shared>,
}

struct Shared {
    sender: mpsc::Sender<RequestRecord>,
    dropped: AtomicU64,
    written: AtomicU64,
    /// Rows taken out of the queue for the batch in flight (or held after a failure).
    held: AtomicUsize,
    /// Set once, when shutdown begins.
    shutdown: watch::Sender<Option<Deadlines>>,
    task: Mutex<Option<JoinHandle<()>>>,
    /// Signalled when a whole batch is queued, so the worker, once it holds a first row,
    /// sleeps until then (or its flush interval) instead of waking for every row.
    batch_ready: Notify,
    batch_size: usize,
}

impl WriterHandle {
    /// Queue a row for writing. Never blocks: a full (or stopped) queue drops the row and
    /// counts it. Rows that could never be stored are dropped and counted too.
    pub fn record(&self, row: RequestRecord) {
        if !row.is_storable() || self.shared.sender.try_send(row).is_err() {
            self.shared.dropped.fetch_add(1, Ordering::Relaxed);
        } else if self.queued() >= self.shared.batch_size {
            self.shared.batch_ready.notify_one();
        }
    }

    fn queued(&self) -> usize {
        self.shared.sender.max_capacity() - self.shared.sender.capacity()
    }

    /// Rows waiting in the queue plus rows held for the batch being written.
    pub fn queue_depth(&self) -> usize {
        self.queued() + self.shared.held.load(Ordering::Relaxed)
    }

    pub fn dropped(&self) -> u64 {
        self.shared.dropped.load(Ordering::Relaxed)
    }

    pub fn written(&self) -> u64 {
        self.shared.written.load(Ordering::Relaxed)
    }

    /// Stop taking rows, flush everything queued (retrying while the database is down)
    /// until `timeout`, then stop. Rows still unwritten at the deadline count as dropped.
    pub async fn shutdown(&self, timeout: Duration) {
        let deadline = Instant::now() + timeout;
        let deadlines = Deadlines {
            flush_until: deadline - report_reserve(timeout),
            report_by: deadline,
        };
        self.shared.shutdown.send_if_modified(|current| {
            let first = current.is_none();
            if first {
                *current = Some(deadlines);
            }
            first
        });
        let task = self.shared.task.lock().take();
        if let Some(mut task) = task {
            // The worker honours the deadline itself; the grace only covers its last step.
            let grace = deadline + Duration::from_millis(250);
            if tokio::time::timeout_at(grace, &mut task).await.is_err() {
                tracing::warn!("the metadata writer did not stop in time; aborting it");
                task.abort();
            }
        }
    }
}

struct Worker {
    store: Arc<Store>,
    shared: Arc<Shared>,
    receiver: mpsc::Receiver<RequestRecord>,
    shutdown: watch::Receiver<Option<Deadlines>>,
    batch: Vec<RequestRecord>,
    batch_size: usize,
    flush_interval: Duration,
    /// Names this process's row in `writer_drops`.
    writer_id: String,
    /// The dropped total the database already knows.
    reported_dropped: u64,
}

impl Worker {
    async fn run(mut self) {
        let mut retry = FIRST_RETRY;
        loop {
            if self.batch.is_empty() && !self.fill().await {
                break;
            }
            self.shared.held.store(self.batch.len(), Ordering::Relaxed);
            match self.insert_batch().await {
                Ok(()) => {
                    self.written();
                    self.report_dropped().await;
                    retry = FIRST_RETRY;
                }
                Err(err) => {
                    tracing::warn!(error = %err, rows = self.batch.len(), retry_in = ?retry, "writing request rows failed; holding them");
                    let shutdown = self.shutdown.clone();
                    if wait_for_shutdown(shutdown, retry).await {
                        break;
                    }
                    retry = (retry * 2).min(MAX_RETRY);
                }
            }
        }
        self.drain().await;
    }

    /// Insert the batch. If shutdown begins meanwhile, the insert gets until the flush
    /// deadline; abandoned then, its connection is closed (not pooled) by the store.
    async fn insert_batch(&self) -> Result<(), StoreError> {
        let insert = self.store.insert_requests(&self.batch);
        let mut insert = std::pin::pin!(insert);
        let mut shutdown = self.shutdown.clone();
        let flush_until = tokio::select! {
            biased;
            result = &mut insert => return result,
            deadlines = shutdown.wait_for(Option::is_some) => match deadlines {
                Ok(deadlines) => deadlines.map_or_else(Instant::now, |d| d.flush_until),
                Err(_) => Instant::now(),
            },
        };
        tokio::time::timeout_at(flush_until, insert)
            .await
            .unwrap_or(Err(StoreError::Timeout))
    }

    /// Wait for a first row, then gather up to `batch_size` within `flush_interval`: the
    /// worker sleeps until a whole batch is queued or the interval ends, so a steady stream
    /// of rows wakes it once per batch, not once per row. False when shutdown began (or
    /// every handle is gone) before a first row arrived.
    async fn fill(&mut self) -> bool {
        tokio::select! {
            biased;
            _ = self.shutdown.wait_for(Option::is_some) => return false,
            row = self.receiver.recv() => match row {
                Some(row) => self.batch.push(row),
                None => return false,
            },
        }
        let flush_at = Instant::now() + self.flush_interval;
        loop {
            self.take_queued();
            if self.batch.len() >= self.batch_size {
                return true;
            }
            tokio::select! {
                biased;
                _ = self.shutdown.wait_for(Option::is_some) => return true,
                _ = self.shared.batch_ready.notified() => {}
                _ = tokio::time::sleep_until(flush_at) => break,
            }
        }
        self.take_queued();
        true
    }

    /// Move queued rows into the batch, up to `batch_size`, without waiting.
    fn take_queued(&mut self) {
        while self.batch.len() < self.batch_size {
            match self.receiver.try_recv() {
                Ok(row) => self.batch.push(row),
                Err(_) => break,
            }
        }
    }

    /// Drops happen while the database is unreachable; right after it accepted a batch is
    /// the moment to tell it how many. Best effort: a failure is retried after the next batch.
    async fn report_dropped(&mut self) {
        let dropped = self.shared.dropped.load(Ordering::Relaxed);
        if dropped == self.reported_dropped {
            return;
        }
        match self.store.record_dropped(&self.writer_id, dropped).await {
            Ok(()) => self.reported_dropped = dropped,
            Err(err) => {
                tracing::warn!(error = %err, dropped, "could not record dropped request rows")
            }
        }
    }

    fn written(&mut self) {
        self.shared
            .written
            .fetch_add(self.batch.len() as u64, Ordering::Relaxed);
        self.batch.clear();
        self.shared.held.store(0, Ordering::Relaxed);
    }

    /// Shutdown: refuse new rows, write what is queued until shortly before the deadline,
    /// count the rest, and use the time left to tell the database how many rows were lost
    /// (best effort: it may be the reason they were lost).
    async fn drain(&mut self) {
        self.receiver.close();
        let now = Instant::now();
        let Deadlines {
            flush_until,
            report_by,
        } = (*self.shutdown.borrow()).unwrap_or(Deadlines {
            flush_until: now,
            report_by: now,
        });
        let mut retry = FIRST_RETRY;
        loop {
            self.take_queued();
            if self.batch.is_empty() {
                break;
            }
            self.shared.held.store(self.batch.len(), Ordering::Relaxed);
            let left = flush_until.saturating_duration_since(Instant::now());
            let insert = self.store.insert_requests_within(&self.batch, left);
            match tokio::time::timeout_at(flush_until, insert).await {
                Ok(Ok(())) => self.written(),
                Ok(Err(err)) if Instant::now() + retry < flush_until => {
                    tracing::warn!(error = %err, "final flush failed; retrying");
                    tokio::time::sleep(retry).await;
                    retry = (retry * 2).min(MAX_RETRY);
                }
                _ => break,
            }
        }
        let mut lost = self.batch.len() as u64;
        while self.receiver.try_recv().is_ok() {
            lost += 1;
        }
        self.batch.clear();
        self.shared.held.store(0, Ordering::Relaxed);
        if lost > 0 {
            self.shared.dropped.fetch_add(lost, Ordering::Relaxed);
            tracing::warn!(
                rows = lost,
                "request rows not written before the shutdown deadline"
            );
        }
        let reported = tokio::time::timeout_at(report_by, self.report_dropped()).await;
        let dropped = self.shared.dropped.load(Ordering::Relaxed);
        if reported.is_err() || self.reported_dropped != dropped {
            tracing::warn!(
                dropped,
                "the dropped-row total did not reach the database before the shutdown deadline"
            );
        }
    }
}

/// When the final flush stops, and when reporting what it could not write must be done.
#[derive(Debug, Clone, Copy)]
struct Deadlines {
    flush_until: Instant,
    report_by: Instant,
}

/// The part of the shutdown budget kept for reporting drops: a quarter, at most 500 ms.
fn report_reserve(budget: Duration) -> Duration {
    (budget / 4).min(Duration::from_millis(500))
}

/// Sleep `delay`; true if shutdown began meanwhile (or had already begun).
async fn wait_for_shutdown(
    mut shutdown: watch::Receiver<Option<Deadlines>>,
    delay: Duration,
) -> bool {
    tokio::select! {
        biased;
        _ = shutdown.wait_for(Option::is_some) => true,
        _ = tokio::time::sleep(delay) => false,
    }
}

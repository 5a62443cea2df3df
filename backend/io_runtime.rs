//! The runtime that owns the shared database pool's connections.
//!
//! actix-web runs each HTTP worker on its own single-threaded tokio runtime and drops that
//! runtime when the worker stops; during a graceful shutdown an idle worker stops at once
//! while a busy one is still draining. tokio-postgres drives every connection from a task
//! spawned on the runtime that opened it. The shared pool (writer, reaper, readiness) hands
//! its connections to whoever asks, so a connection opened by one worker would die with that
//! worker, under another's work.
//!
//! [`IoRuntime`] is a handle to the process's main multi-threaded runtime (captured when
//! the application is built), which lives until the process exits. [`IoRuntime::run`] starts
//! a future there (opening a shared connection), so its tasks live as long as the process,
//! whichever worker asked. Dropping the returned future aborts the work.
//!
//! What runs on every turn (provider calls, admission) does not come here: each worker has
//! connections of its own (`provider/openai/clients.rs`, `store/pg/admission_pools.rs`),
//! which saves two cross-thread wake-ups per call.
use std::future::Future;
use tokio::runtime::{Handle, RuntimeFlavor};
use tokio::task::JoinHandle;
use tracing::Instrument;

/// Cheap to clone.
#[derive(Clone, Debug)]
pub struct IoRuntime {
    handle: Handle,
}

/// The I/O runtime has shut down (the process is exiting), so the work never ran to the end.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the I/O runtime has stopped")]
pub struct Stopped;

impl IoRuntime {
    /// The runtime this is called on. Call it from the main runtime (`Application::build`,
    /// the CLI, a test's runtime), never from inside an HTTP worker. A single-threaded
    /// runtime is accepted (tests use them) but only the main multi-threaded runtime outlives
    /// the HTTP workers.
    pub fn current() -> anyhow::Result<IoRuntime> {
        let handle = Handle::try_current()
            .map_err(|_| anyhow::anyhow!("outbound I/O needs a tokio runtime; none is running"))?;
        if handle.runtime_flavor() == RuntimeFlavor::CurrentThread {
            tracing::debug!("outbound I/O runs on a single-threaded runtime");
        }
        Ok(IoRuntime { handle })
    }

    /// Runs `future` as a task on the I/O runtime and waits for its output. The task runs in
    /// the caller's tracing span (log lines keep their request id). A panic in the task is
    /// resumed here; dropping the returned future aborts the task.
    pub async fn run<F>(&self, future: F) -> Result<F::Output, Stopped>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        let mut task = AbortOnDrop(self.handle.spawn(future.in_current_span()));
        match (&mut task.0).await {
            Ok(output) => Ok(output),
            Err(error) if error.is_panic() => std::panic::resume_unwind(error.into_panic()),
            Err(_) => Err(Stopped),
        }
    }
}

/// A task that is aborted when its handle is dropped (the caller stopped waiting).
struct AbortOnDrop<T>(JoinHandle<T>);

impl<T> Drop for AbortOnDrop<T> {
    fn drop(&mut self) {
        self.0.abort();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;
    use tokio::sync::{mpsc, Notify};

    fn io_runtime() -> tokio::runtime::Runtime {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .thread_name("io-test")
            .enable_all()
            .build()
            .expect("a runtime")
    }

    fn worker_runtime() -> tokio::runtime::Runtime {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("a runtime")
    }

    fn thread_name() -> String {
        std::thread::current().name().unwrap_or("").to_owned()
    }

    #[test]
    fn work_runs_on_the_io_runtime_and_its_output_comes_back() {
        let io_rt = io_runtime();
        let io = io_rt.block_on(async { IoRuntime::current() }).unwrap();
        let ran_on = worker_runtime().block_on(io.run(async { thread_name() }));
        assert_eq!(ran_on, Ok("io-test".to_owned()));
    }

    #[test]
    fn a_task_spawned_by_the_work_outlives_the_runtime_that_asked() {
        let io_rt = io_runtime();
        let io = io_rt.block_on(async { IoRuntime::current() }).unwrap();
        let (sender, mut receiver) = mpsc::channel::<u32>(1);
        let release = Arc::new(Notify::new());
        let gate = Arc::clone(&release);
        // Like a connection task: spawned while opening, used after the opener is gone.
        worker_runtime()
            .block_on(io.run(async move {
                tokio::spawn(async move {
                    gate.notified().await;
                    let _ = sender.send(7).await;
                });
            }))
            .unwrap();
        release.notify_one();
        let got = worker_runtime().block_on(receiver.recv());
        assert_eq!(got, Some(7));
    }

    #[test]
    fn dropping_the_waiting_future_aborts_the_work() {
        let io_rt = io_runtime();
        let io = io_rt.block_on(async { IoRuntime::current() }).unwrap();
        let (sender, mut receiver) = mpsc::channel::<()>(1);
        worker_runtime().block_on(async {
            let work = io.run(async move {
                let _keep = sender;
                std::future::pending::<()>().await;
            });
            // Poll once (the task starts), then give up on it.
            let _ = futures::poll!(Box::pin(work));
        });
        // The sender is dropped only if the task was aborted.
        assert_eq!(worker_runtime().block_on(receiver.recv()), None);
    }
}

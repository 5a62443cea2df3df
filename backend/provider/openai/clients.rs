//! One `reqwest::Client` per thread: each HTTP worker calls the provider from its own
//! thread, over connections that worker opened and drives itself.
//!
//! actix-web runs each HTTP worker on a single-threaded runtime of its own. A connection is
//! driven by a task on the runtime that opened it, so a connection shared between workers
//! costs two cross-thread wake-ups per call (the caller wakes the driver, the driver wakes
//! the caller), and it dies with the worker that opened it, under another worker's turn. A
//! client per thread has neither problem: a worker's connections are used by that worker
//! alone, live exactly as long as the worker that uses them, and a call needs no other
//! thread. (On a multi-threaded runtime a task may move between threads; it then uses the
//! new thread's client, on the same runtime.)
use anyhow::Context;
use std::time::Duration;
use thread_local::ThreadLocal;

/// How long an idle pooled connection is kept.
const POOL_IDLE_TIMEOUT: Duration = Duration::from_secs(60);

pub(super) struct ThreadClients {
    clients: ThreadLocal<reqwest::Client>,
    connect_timeout: Duration,
}

impl ThreadClients {
    /// Builds the calling thread's client at once, so a client that cannot be built is an
    /// error at startup, not at the first call.
    pub(super) fn new(connect_timeout: Duration) -> anyhow::Result<ThreadClients> {
        let clients = ThreadClients {
            clients: ThreadLocal::new(),
            connect_timeout,
        };
        clients.current()?;
        Ok(clients)
    }

    /// The calling thread's client, built on first use.
    pub(super) fn current(&self) -> anyhow::Result<&reqwest::Client> {
        self.clients.get_or_try(|| build(self.connect_timeout))
    }
}

fn build(connect_timeout: Duration) -> anyhow::Result<reqwest::Client> {
    reqwest::Client::builder()
        .use_rustls_tls()
        .connect_timeout(connect_timeout)
        .redirect(reqwest::redirect::Policy::none())
        .pool_idle_timeout(POOL_IDLE_TIMEOUT)
        .tcp_nodelay(true)
        .user_agent(concat!("governed-chat/", env!("CARGO_PKG_VERSION")))
        .build()
        .context("building the model provider HTTP client")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_thread_gets_a_client_of_its_own_and_keeps_it() {
        let clients = ThreadClients::new(Duration::from_secs(1)).expect("a client");
        let here = clients.current().expect("this thread's client") as *const reqwest::Client;
        assert_eq!(
            here,
            clients.current().expect("again") as *const reqwest::Client
        );
        let there = std::thread::scope(|scope| {
            scope
                .spawn(|| clients.current().expect("another thread's client") as *const _ as usize)
                .join()
                .expect("the other thread")
        });
        assert_ne!(here as usize, there);
    }
}

//! Admission runs on every turn's critical path, so each thread admits over connections of
//! its own: a small pool per thread, whose connections open and are driven on that
//! thread's runtime, and one lane per thread that groups the admissions arriving while
//! one is in flight (`admission_groups.rs`).
//!
//! actix-web runs each HTTP worker on a single-threaded runtime of its own. With one shared
//! pool, a worker's query reaches its connection's driver task on another thread and the
//! answer comes back the same way: two cross-thread wake-ups per admission. With a pool per
//! worker, the worker writes the query and reads the answer itself. A worker's connections
//! are used by that worker alone, so they live exactly as long as the turns that use them
//! (a worker that stops takes only its own idle connections with it). On a multi-threaded
//! runtime (the CLI, tests) each thread has its pool too, all driven by that one runtime.
//! A thread must not drive two live runtimes by turns (its pool's connections would wait for
//! the other runtime); a thread whose runtime has ended leaves closed connections behind,
//! which the pool replaces at checkout.
use super::admission_groups::Lane;
use super::admit::{Ask, Terms};
use super::connect::PoolFactory;
use super::error;
use crate::store::{Admission, StoreError};
use deadpool_postgres::Object;
use std::sync::Arc;
use thread_local::ThreadLocal;

pub(super) struct AdmissionPools {
    factory: PoolFactory,
    lanes: ThreadLocal<Arc<Lane>>,
    per_thread: usize,
    terms: Terms,
}

impl AdmissionPools {
    /// `DATABASE_POOL_SIZE` is shared out among the HTTP workers (actix-web starts one per
    /// CPU), rounding up, so the server sees at most about that many admission connections.
    pub(super) fn new(factory: PoolFactory, terms: Terms) -> AdmissionPools {
        let workers = std::thread::available_parallelism().map_or(1, usize::from);
        let per_thread = factory.pool_size().div_ceil(workers).max(1);
        AdmissionPools {
            factory,
            lanes: ThreadLocal::new(),
            per_thread,
            terms,
        }
    }

    /// Admits one turn through the calling thread's lane.
    pub(super) async fn admit(&self, ask: Ask) -> Result<Admission, StoreError> {
        Arc::clone(self.lane()?).admit(ask).await
    }

    /// A connection of the calling thread's pool.
    pub(super) async fn client(&self) -> Result<Object, StoreError> {
        self.lane()?.pool().get().await.map_err(error::from_pool)
    }

    fn lane(&self) -> Result<&Arc<Lane>, StoreError> {
        self.lanes
            .get_or_try(|| {
                self.factory
                    .local(self.per_thread)
                    .map(|pool| Arc::new(Lane::new(pool, self.terms)))
            })
            .map_err(|_| StoreError::Unavailable("no database pool".to_owned()))
    }
}

//! Admissions that arrive together go to Postgres together. A thread's lane has at most one
//! admission call in flight: a turn that finds its lane idle calls `gc_admit` at once (so a
//! lone turn pays nothing for grouping); turns that arrive while a call is in flight wait,
//! and when it returns all of them go in one call of `gc_admit_each` (migrations/0007),
//! which admits each in its own transaction, in arrival order. Under load that is one round
//! trip for many turns instead of one each; the decisions are those of the same turns
//! admitted one by one in that order. (One exception: when the call in flight is abandoned,
//! its turn's client gone or its time up, the group starts at once on another connection
//! while the server may still be running the abandoned admission, as separate calls would
//! run side by side. Quotas stay exact either way: row locks serialize the two.)
//!
//! The turn that called first does not run the group: when its call returns (or its future
//! is dropped, say because its client went away), a task spawned on the same runtime takes
//! over the lane and runs groups until no turn waits.
use super::admit::{admit_group, admit_one, Ask, Terms};
use crate::store::{Admission, StoreError};
use deadpool_postgres::Pool;
use std::sync::{Arc, Mutex, MutexGuard};
use tokio::sync::oneshot;

/// At most this many admissions per group call; the rest wait for the next one.
const MAX_GROUP: usize = 32;

type Answer = Result<Admission, StoreError>;

pub(super) struct Lane {
    pool: Pool,
    terms: Terms,
    waiting: Mutex<Waiting>,
}

#[derive(Default)]
struct Waiting {
    /// A call is in flight, or a task is about to run the waiting turns.
    busy: bool,
    turns: Vec<(Ask, oneshot::Sender<Answer>)>,
}

impl Lane {
    pub(super) fn new(pool: Pool, terms: Terms) -> Lane {
        Lane {
            pool,
            terms,
            waiting: Mutex::new(Waiting::default()),
        }
    }

    pub(super) fn pool(&self) -> &Pool {
        &self.pool
    }

    pub(super) async fn admit(self: Arc<Self>, ask: Ask) -> Answer {
        let answer = {
            let mut waiting = self.lock();
            if waiting.busy {
                let (sender, answer) = oneshot::channel();
                waiting.turns.push((ask, sender));
                Err(answer)
            } else {
                waiting.busy = true;
                Ok(ask)
            }
        };
        match answer {
            Ok(ask) => {
                let _handover = Handover(Arc::clone(&self));
                admit_one(&self.pool, &self.terms, ask).await
            }
            Err(answer) => answer.await.unwrap_or_else(|_| {
                Err(StoreError::Unavailable(
                    "the admission group ended without an answer".to_owned(),
                ))
            }),
        }
    }

    fn lock(&self) -> MutexGuard<'_, Waiting> {
        // The lock is only held to push or take: a poisoned lock still holds a usable queue.
        self.waiting
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// The next group, or `None` (and the lane idle) when no turn waits.
    fn next_group(&self) -> Option<Vec<(Ask, oneshot::Sender<Answer>)>> {
        let mut waiting = self.lock();
        if waiting.turns.is_empty() {
            waiting.busy = false;
            return None;
        }
        let take = waiting.turns.len().min(MAX_GROUP);
        Some(waiting.turns.drain(..take).collect())
    }
}

/// Held by the turn whose call is in flight; when it ends, the lane passes to a task that
/// runs the turns waiting meanwhile, or goes idle.
struct Handover(Arc<Lane>);

impl Drop for Handover {
    fn drop(&mut self) {
        {
            let mut waiting = self.0.lock();
            if waiting.turns.is_empty() {
                waiting.busy = false;
                return;
            }
        }
        let runner = GroupRunner {
            lane: Arc::clone(&self.0),
            done: false,
        };
        match tokio::runtime::Handle::try_current() {
            Ok(runtime) => {
                runtime.spawn(runner.run());
            }
            // No runtime to run them on: the waiting turns fail (the runner's drop).
            Err(_) => drop(runner),
        }
    }
}

/// Runs groups until no turn waits. Dropped before that (its runtime shut down), it
/// answers the turns still waiting with an error and leaves the lane idle.
struct GroupRunner {
    lane: Arc<Lane>,
    /// No turn waited any more and the lane went idle (another turn may have taken it since).
    done: bool,
}

impl GroupRunner {
    async fn run(mut self) {
        let (pool, terms) = (&self.lane.pool, &self.lane.terms);
        while let Some(group) = self.lane.next_group() {
            let (asks, senders): (Vec<Ask>, Vec<oneshot::Sender<Answer>>) =
                group.into_iter().unzip();
            // One waiting turn is one call of `gc_admit`, as a lone turn's.
            let answers = match <[Ask; 1]>::try_from(asks) {
                Ok([ask]) => vec![admit_one(pool, terms, ask).await],
                Err(asks) => admit_group(pool, terms, asks).await,
            };
            for (sender, answer) in senders.into_iter().zip(answers) {
                // A turn that went away meanwhile was still admitted, as a turn whose client
                // leaves during a single call is.
                let _ = sender.send(answer);
            }
        }
        self.done = true;
    }
}

impl Drop for GroupRunner {
    fn drop(&mut self) {
        if self.done {
            return;
        }
        // Dropping the senders answers the waiting turns with an error.
        let mut waiting = self.lane.lock();
        waiting.turns.clear();
        waiting.busy = false;
    }
}

//! The cap on turns in flight at the provider, per replica: a turn claims a permit without
//! waiting and holds it until it ends; with none left it is aborted (`capacity`, 503), so a
//! burst can never queue up unbounded spend or memory.
use std::sync::Arc;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

pub struct TurnCapacity {
    permits: Arc<Semaphore>,
}

/// Held for the life of one turn; dropping it frees the slot.
pub struct TurnPermit {
    _permit: OwnedSemaphorePermit,
}

impl TurnCapacity {
    pub fn new(max_concurrent_turns: usize) -> Self {
        TurnCapacity {
            permits: Arc::new(Semaphore::new(max_concurrent_turns)),
        }
    }

    /// A slot now, or `None` when every slot is taken. Never waits.
    pub fn try_claim(&self) -> Option<TurnPermit> {
        Arc::clone(&self.permits)
            .try_acquire_owned()
            .ok()
            .map(|permit| TurnPermit { _permit: permit })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_full_capacity_refuses_at_once_and_a_finished_turn_frees_its_slot() {
        let capacity = TurnCapacity::new(2);
        let first = capacity.try_claim().expect("first slot");
        let _second = capacity.try_claim().expect("second slot");
        assert!(capacity.try_claim().is_none());
        drop(first);
        assert!(capacity.try_claim().is_some());
    }
}

//! A circuit breaker in front of the provider, so users do not each wait for connect
//! timeouts and retries while it is down.
//!
//! Closed: calls go through; `failures` consecutive failed calls (after their retries) open
//! it. Open: calls fail at once with `provider.unavailable` for `cooldown`. Then one call,
//! the probe, is let through (half-open) while the others keep failing fast: its success
//! closes the breaker, its failure opens it for another cool-down.
//!
//! A `rejected` call (the upstream refused this request: 400/404/413/422) proves the
//! provider is up, so it counts as a success. `failures = 0` disables the breaker.
use super::ProviderError;
use parking_lot::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;
use tokio::time::Instant;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BreakerState {
    Closed,
    Open,
    HalfOpen,
}

impl BreakerState {
    /// The `governed_chat_provider_breaker_state` gauge: 0 closed, 1 open, 2 half-open.
    pub fn as_gauge(self) -> i64 {
        match self {
            BreakerState::Closed => 0,
            BreakerState::Open => 1,
            BreakerState::HalfOpen => 2,
        }
    }
}

#[derive(Debug)]
enum State {
    Closed {
        failures: u32,
    },
    Open {
        until: Instant,
    },
    /// The probe is in flight.
    HalfOpen,
}

#[derive(Debug)]
pub(super) struct Breaker {
    threshold: u32,
    cooldown: Duration,
    state: Mutex<State>,
    opened: AtomicU64,
}

/// Leave to make one call. Report how it ended with [`Permit::finish`]; a probe dropped
/// unfinished (the turn was abandoned) lets the next call probe instead.
#[must_use]
pub(super) struct Permit<'a> {
    breaker: &'a Breaker,
    probe: bool,
}

impl Breaker {
    pub(super) fn new(threshold: u32, cooldown: Duration) -> Breaker {
        Breaker {
            threshold,
            cooldown,
            state: Mutex::new(State::Closed { failures: 0 }),
            opened: AtomicU64::new(0),
        }
    }

    /// A permit for one call, or `None` while the breaker is open (fail fast).
    pub(super) fn admit(&self) -> Option<Permit<'_>> {
        if self.threshold == 0 {
            return Some(Permit {
                breaker: self,
                probe: false,
            });
        }
        let mut state = self.state.lock();
        let probe = match *state {
            State::Closed { .. } => false,
            State::Open { until } if Instant::now() >= until => {
                *state = State::HalfOpen;
                true
            }
            State::Open { .. } | State::HalfOpen => return None,
        };
        Some(Permit {
            breaker: self,
            probe,
        })
    }

    pub(super) fn state(&self) -> BreakerState {
        match *self.state.lock() {
            State::Closed { .. } => BreakerState::Closed,
            State::Open { .. } => BreakerState::Open,
            State::HalfOpen => BreakerState::HalfOpen,
        }
    }

    /// How many times the breaker has opened (including reopening after a failed probe).
    pub(super) fn opened(&self) -> u64 {
        self.opened.load(Ordering::Relaxed)
    }

    fn record(&self, probe: bool, result: Result<(), ProviderError>) {
        if self.threshold == 0 {
            return;
        }
        let mut state = self.state.lock();
        let failed = matches!(result, Err(error) if error != ProviderError::Rejected);
        if !failed {
            *state = State::Closed { failures: 0 };
            return;
        }
        let open = match *state {
            State::Closed { failures } if failures + 1 >= self.threshold => true,
            State::Closed { failures } => {
                *state = State::Closed {
                    failures: failures + 1,
                };
                false
            }
            State::HalfOpen => probe,
            // A call admitted before the breaker opened, finishing late.
            State::Open { .. } => false,
        };
        if open {
            *state = State::Open {
                until: Instant::now() + self.cooldown,
            };
            self.opened.fetch_add(1, Ordering::Relaxed);
            tracing::warn!(
                event = "provider_breaker_opened",
                cooldown_ms = u64::try_from(self.cooldown.as_millis()).unwrap_or(u64::MAX),
                "provider circuit breaker opened: turns fail fast until a probe succeeds"
            );
        }
    }
}

impl Permit<'_> {
    pub(super) fn finish<T>(mut self, result: &Result<T, ProviderError>) {
        let probe = std::mem::take(&mut self.probe);
        self.breaker
            .record(probe, result.as_ref().map(|_| ()).map_err(|error| *error));
    }
}

impl Drop for Permit<'_> {
    fn drop(&mut self) {
        if self.probe {
            let mut state = self.breaker.state.lock();
            if matches!(*state, State::HalfOpen) {
                *state = State::Open {
                    until: Instant::now(),
                };
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const COOLDOWN: Duration = Duration::from_secs(30);

    fn fail(breaker: &Breaker, error: ProviderError) {
        breaker.admit().expect("admitted").finish::<()>(&Err(error));
    }

    fn succeed(breaker: &Breaker) {
        breaker.admit().expect("admitted").finish(&Ok(()));
    }

    #[tokio::test(start_paused = true)]
    async fn it_opens_after_the_threshold_of_consecutive_failures() {
        let breaker = Breaker::new(3, COOLDOWN);
        fail(&breaker, ProviderError::Unavailable);
        fail(&breaker, ProviderError::Timeout);
        assert_eq!(breaker.state(), BreakerState::Closed);
        fail(&breaker, ProviderError::Auth);
        assert_eq!(breaker.state(), BreakerState::Open);
        assert_eq!(breaker.opened(), 1);
        assert!(breaker.admit().is_none());
    }

    #[tokio::test(start_paused = true)]
    async fn a_success_or_a_rejection_resets_the_count() {
        let breaker = Breaker::new(2, COOLDOWN);
        fail(&breaker, ProviderError::Unavailable);
        succeed(&breaker);
        fail(&breaker, ProviderError::Unavailable);
        fail(&breaker, ProviderError::Rejected);
        fail(&breaker, ProviderError::Unavailable);
        assert_eq!(breaker.state(), BreakerState::Closed);
    }

    #[tokio::test(start_paused = true)]
    async fn after_the_cooldown_one_probe_goes_through_and_its_success_closes_it() {
        let breaker = Breaker::new(1, COOLDOWN);
        fail(&breaker, ProviderError::Unavailable);
        tokio::time::advance(COOLDOWN - Duration::from_millis(1)).await;
        assert!(breaker.admit().is_none());
        tokio::time::advance(Duration::from_millis(1)).await;
        let probe = breaker.admit().expect("the probe");
        assert_eq!(breaker.state(), BreakerState::HalfOpen);
        assert!(breaker.admit().is_none(), "only one probe at a time");
        probe.finish(&Ok(()));
        assert_eq!(breaker.state(), BreakerState::Closed);
        assert!(breaker.admit().is_some());
    }

    #[tokio::test(start_paused = true)]
    async fn a_failed_probe_opens_it_for_another_cooldown() {
        let breaker = Breaker::new(1, COOLDOWN);
        fail(&breaker, ProviderError::Unavailable);
        tokio::time::advance(COOLDOWN).await;
        fail(&breaker, ProviderError::Timeout);
        assert_eq!(breaker.state(), BreakerState::Open);
        assert_eq!(breaker.opened(), 2);
        assert!(breaker.admit().is_none());
    }

    #[tokio::test(start_paused = true)]
    async fn an_abandoned_probe_lets_the_next_call_probe() {
        let breaker = Breaker::new(1, COOLDOWN);
        fail(&breaker, ProviderError::Unavailable);
        tokio::time::advance(COOLDOWN).await;
        drop(breaker.admit().expect("the probe"));
        assert!(breaker.admit().is_some());
    }

    #[test]
    fn zero_failures_disables_it() {
        let breaker = Breaker::new(0, COOLDOWN);
        for _ in 0..100 {
            fail(&breaker, ProviderError::Unavailable);
        }
        assert_eq!(breaker.state(), BreakerState::Closed);
        assert_eq!(breaker.opened(), 0);
    }
}

//! Time bounds that neither flake nor go blind. A test that bounds how long something takes
//! allows the configured limit that should end it plus one shared `SLACK` for scheduling on
//! a loaded machine, and configures the limit it must NOT wait for well past that bound, so
//! the bound still fails when the feature breaks.
#![allow(dead_code)]

use std::time::Duration;

/// Room for scheduling on a loaded two-core machine, on top of a configured limit.
pub const SLACK: Duration = Duration::from_millis(1500);

/// A configured limit far enough past `SLACK` that waiting for it cannot pass for "promptly".
pub const LONG: Duration = SLACK.saturating_mul(3);

/// Fail unless `elapsed` is within `limit` plus `SLACK`.
#[track_caller]
pub fn assert_within(elapsed: Duration, limit: Duration, what: &str) {
    assert!(
        elapsed < limit + SLACK,
        "{what} took {elapsed:?}, past its {limit:?} limit plus {SLACK:?} of slack"
    );
}

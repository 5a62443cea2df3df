//! JSON logs through tracing. Log lines carry ids, outcomes, categories, sizes and
//! durations; no request or response body is ever logged.
use tracing_subscriber::{fmt, EnvFilter};

/// Install the global subscriber writing JSON lines to stdout. Safe to call twice (the
/// second call is a no-op), which test harnesses rely on.
pub fn init(log_level: &str) {
    let filter = EnvFilter::try_new(log_level).unwrap_or_else(|_| EnvFilter::new("info"));
    let _ = fmt()
        .json()
        .with_env_filter(filter)
        .with_current_span(true)
        .with_span_list(false)
        .with_target(false)
        .with_writer(std::io::stdout)
        .try_init();
}

//! JSON logs through tracing. Log lines carry ids, outcomes, categories, sizes and
//! durations; no request or response body is ever logged.
use tracing_subscriber::filter::{filter_fn, FilterExt};
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{fmt, EnvFilter, Layer};

/// Events with this target are written whatever `LOG_LEVEL` says: configuration problems
/// must reach the operator even when the filter is wrong or silences everything.
pub const ALWAYS_LOGGED: &str = "governed_chat::always";

/// Install the global subscriber writing JSON lines to stdout. Safe to call twice (the
/// second call is a no-op), which test harnesses rely on.
pub fn init(log_level: &str) {
    let filter = EnvFilter::try_new(log_level).unwrap_or_else(|_| EnvFilter::new("info"));
    let always = filter_fn(|metadata| metadata.target() == ALWAYS_LOGGED);
    let layer = fmt::layer()
        .json()
        .with_current_span(true)
        .with_span_list(false)
        .with_target(false)
        .with_writer(std::io::stdout)
        .with_filter(filter.or(always));
    let _ = tracing_subscriber::registry().with(layer).try_init();
}

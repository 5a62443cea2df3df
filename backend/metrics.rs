//! Prometheus metrics. Categorical only: labels are outcomes, categories, stages and status
//! classes, never user text or session ids.
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{exponential_buckets, Histogram};
use prometheus_client::registry::Registry;
use std::time::Duration;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct TurnLabels {
    outcome: &'static str,
    category: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ProviderLabels {
    stage: &'static str,
    category: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct StreamLabels {
    outcome: &'static str,
}

pub struct Metrics {
    registry: Registry,
    streamed_turns: Family<StreamLabels, Counter>,
    first_byte_seconds: Histogram,
    turns: Family<TurnLabels, Counter>,
    provider_calls: Family<ProviderLabels, Counter>,
    turn_seconds: Histogram,
    provider_seconds: Histogram,
    overhead_seconds: Histogram,
    provider_breaker_state: Gauge,
    provider_breaker_opened: Counter,
    writer_queue_depth: Gauge,
    writer_dropped: Counter,
    writer_written: Counter,
    reaper_deleted: Counter,
    ready: Gauge,
}

/// Gauges and counters owned elsewhere (writer, reaper, readiness), read at scrape time.
pub struct ScrapeInputs {
    /// 0 closed, 1 open, 2 half-open.
    pub provider_breaker_state: i64,
    pub provider_breaker_opened: u64,
    pub writer_queue_depth: usize,
    pub writer_dropped: u64,
    pub writer_written: u64,
    pub reaper_deleted: u64,
    pub ready: bool,
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    pub fn new() -> Self {
        let mut registry = Registry::with_prefix("governed_chat");
        let turns = Family::<TurnLabels, Counter>::default();
        let provider_calls = Family::<ProviderLabels, Counter>::default();
        // 50 µs .. ~55 s: our own overhead is microseconds, provider time is seconds.
        let buckets = || exponential_buckets(0.000_05, 2.0, 21);
        let turn_seconds = Histogram::new(buckets());
        let provider_seconds = Histogram::new(buckets());
        let overhead_seconds = Histogram::new(buckets());
        let provider_breaker_state = Gauge::default();
        let provider_breaker_opened = Counter::default();
        let writer_queue_depth = Gauge::default();
        let writer_dropped = Counter::default();
        let writer_written = Counter::default();
        let reaper_deleted = Counter::default();
        let ready = Gauge::default();
        let streamed_turns = Family::<StreamLabels, Counter>::default();
        let first_byte_seconds = Histogram::new(buckets());
        registry.register(
            "streamed_turns",
            "Turns answered as a stream, by outcome",
            streamed_turns.clone(),
        );
        registry.register(
            "first_governed_byte_seconds",
            "Streamed turns: time from admission to the first governed byte sent",
            first_byte_seconds.clone(),
        );
        registry.register("turns", "Chat turns by outcome and category", turns.clone());
        registry.register(
            "provider_calls",
            "Provider calls by stage and category (none for a completed call, else what failed: provider.auth, provider.rejected, provider.rate_limited, provider.timeout, provider.unavailable, provider.bad_response)",
            provider_calls.clone(),
        );
        registry.register(
            "provider_breaker_state",
            "The provider circuit breaker: 0 closed, 1 open (calls fail fast), 2 half-open (one probe in flight)",
            provider_breaker_state.clone(),
        );
        registry.register(
            "provider_breaker_opened",
            "Times the provider circuit breaker opened (including after a failed probe)",
            provider_breaker_opened.clone(),
        );
        registry.register(
            "turn_duration_seconds",
            "Whole turn latency",
            turn_seconds.clone(),
        );
        registry.register(
            "provider_duration_seconds",
            "Time spent waiting on the provider per turn",
            provider_seconds.clone(),
        );
        registry.register(
            "overhead_duration_seconds",
            "Turn latency minus provider time",
            overhead_seconds.clone(),
        );
        registry.register(
            "writer_queue_depth",
            "Metadata rows waiting to be written",
            writer_queue_depth.clone(),
        );
        registry.register(
            "writer_dropped_rows",
            "Metadata rows dropped: queue full while the database was slow or down, unstorable, or unwritten at shutdown",
            writer_dropped.clone(),
        );
        registry.register(
            "writer_written_rows",
            "Metadata rows written",
            writer_written.clone(),
        );
        registry.register(
            "reaper_deleted_rows",
            "Expired rows deleted by the reaper",
            reaper_deleted.clone(),
        );
        registry.register("ready", "1 when the service is ready", ready.clone());
        Metrics {
            registry,
            streamed_turns,
            first_byte_seconds,
            turns,
            provider_calls,
            turn_seconds,
            provider_seconds,
            overhead_seconds,
            provider_breaker_state,
            provider_breaker_opened,
            writer_queue_depth,
            writer_dropped,
            writer_written,
            reaper_deleted,
            ready,
        }
    }

    /// A streamed turn ended; `first_byte` when it sent any governed text.
    pub fn record_stream(&self, outcome: &'static str, first_byte: Option<Duration>) {
        self.streamed_turns
            .get_or_create(&StreamLabels { outcome })
            .inc();
        if let Some(first_byte) = first_byte {
            self.first_byte_seconds.observe(first_byte.as_secs_f64());
        }
    }

    pub fn record_turn(
        &self,
        outcome: &'static str,
        category: &'static str,
        total: Duration,
        provider: Duration,
    ) {
        self.turns
            .get_or_create(&TurnLabels { outcome, category })
            .inc();
        self.turn_seconds.observe(total.as_secs_f64());
        self.provider_seconds.observe(provider.as_secs_f64());
        self.overhead_seconds
            .observe(total.saturating_sub(provider).as_secs_f64());
    }

    /// `category` is `none` for a completed call; a failed call (after its retries) is
    /// labelled by its category (`provider.auth`, `provider.unavailable`, ...).
    pub fn record_provider_call(
        &self,
        stage: &'static str,
        failure: Option<crate::provider::ProviderError>,
    ) {
        let category = failure.map_or("none", |error| error.category().as_str());
        self.provider_calls
            .get_or_create(&ProviderLabels { stage, category })
            .inc();
    }

    pub fn encode(&self, inputs: ScrapeInputs) -> String {
        self.provider_breaker_state
            .set(inputs.provider_breaker_state);
        catch_up(
            &self.provider_breaker_opened,
            inputs.provider_breaker_opened,
        );
        self.writer_queue_depth
            .set(i64::try_from(inputs.writer_queue_depth).unwrap_or(i64::MAX));
        catch_up(&self.writer_dropped, inputs.writer_dropped);
        catch_up(&self.writer_written, inputs.writer_written);
        catch_up(&self.reaper_deleted, inputs.reaper_deleted);
        self.ready.set(i64::from(inputs.ready));
        let mut out = String::new();
        // Encoding into a String cannot fail for these metric types.
        let _ = prometheus_client::encoding::text::encode(&mut out, &self.registry);
        out
    }
}

/// Mirror a monotonic total owned elsewhere into a Prometheus counter.
fn catch_up(counter: &Counter, total: u64) {
    let current = counter.get();
    if total > current {
        counter.inc_by(total - current);
    }
}

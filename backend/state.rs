//! Everything a request handler may use, built once at startup and shared by all workers.
use crate::auth::Authenticator;
use crate::capacity::TurnCapacity;
use crate::config::Settings;
use crate::governor::Governor;
use crate::metrics::Metrics;
use crate::provider::Provider;
use crate::readiness::Readiness;
use crate::store::ReaperHandle;
use crate::store::Store;
use crate::store::WriterHandle;
use std::sync::Arc;

pub struct AppState {
    pub settings: Settings,
    pub governor: Governor,
    pub provider: Provider,
    pub store: Arc<Store>,
    pub writer: WriterHandle,
    pub reaper: ReaperHandle,
    pub readiness: Arc<Readiness>,
    pub metrics: Metrics,
    /// Verifies bearer tokens (a no-op with AUTH_MODE=off).
    pub auth: Arc<Authenticator>,
    /// The cap on turns in flight at the provider (MAX_CONCURRENT_TURNS).
    pub capacity: TurnCapacity,
}

impl AppState {
    pub fn scrape_inputs(&self) -> crate::metrics::ScrapeInputs {
        crate::metrics::ScrapeInputs {
            provider_breaker_state: self.provider.breaker_state().as_gauge(),
            provider_breaker_opened: self.provider.breaker_opened(),
            writer_queue_depth: self.writer.queue_depth(),
            writer_dropped: self.writer.dropped(),
            writer_written: self.writer.written(),
            reaper_deleted: self.reaper.deleted(),
            ready: self.readiness.is_ready(),
        }
    }
}

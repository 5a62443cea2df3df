//! Opening a streamed call: the request sent and retried, like a whole call, until the
//! upstream answers 2xx; the body is left for `sse.rs` to read as it arrives.
use super::Inner;
use crate::provider::retry::{self, Failure};
use crate::provider::{ProviderError, Stage};
use bytes::Bytes;
use reqwest::header::{ACCEPT, AUTHORIZATION, CONTENT_TYPE};
use std::time::Duration;
use tokio::time::{sleep, timeout, Instant};

impl Inner {
    /// Sends the streamed request, retried like `run` until the upstream answers 2xx, and
    /// returns the response (its body not yet read) with its status.
    pub(super) async fn open_stream(
        &self,
        stage: Stage,
        body: Bytes,
        deadline: Duration,
    ) -> Result<(reqwest::Response, u16), ProviderError> {
        let started = Instant::now();
        let end = started
            .checked_add(deadline)
            .or_else(|| started.checked_add(Duration::from_secs(86_400)))
            .unwrap_or(started);
        let mut attempt = 0u32;
        loop {
            attempt += 1;
            let budget = self
                .request_timeout
                .min(end.saturating_duration_since(Instant::now()));
            let failure = match timeout(budget, self.open(body.clone())).await {
                Ok(Ok(response)) => {
                    let status = response.status().as_u16();
                    tracing::debug!(
                        stage = stage.as_str(),
                        attempt,
                        status,
                        "provider stream opened"
                    );
                    return Ok((response, status));
                }
                Ok(Err((failure, status))) => (failure, status),
                Err(_) => (Failure::fatal(ProviderError::Timeout), None),
            };
            let (failure, status) = failure;
            let last = !failure.retryable || attempt > self.max_retries;
            let delay = retry::delay_before(attempt, &failure).filter(|delay| {
                Instant::now()
                    .checked_add(*delay)
                    .is_some_and(|wake| wake < end)
            });
            match delay {
                Some(delay) if !last => sleep(delay).await,
                _ => {
                    tracing::info!(
                        stage = stage.as_str(),
                        outcome = failure.error.category().as_str(),
                        upstream_status = status,
                        attempts = attempt,
                        "provider call failed"
                    );
                    return Err(failure.error);
                }
            }
        }
    }

    /// Sends the request; the response once its status says success.
    async fn open(&self, body: Bytes) -> Result<reqwest::Response, (Failure, Option<u16>)> {
        let response = self
            .client()
            .map_err(|_| (Failure::fatal(ProviderError::Unavailable), None))?
            .post(self.endpoint.clone())
            .header(AUTHORIZATION, self.authorization.clone())
            .header(CONTENT_TYPE, "application/json")
            .header(ACCEPT, "text/event-stream, application/json")
            .body(body)
            .send()
            .await
            .map_err(|error| (retry::classify_transport(&error), None))?;
        let code = response.status().as_u16();
        if !response.status().is_success() {
            // The body of an error response is never read, logged or returned.
            return Err((retry::classify_status(code, response.headers()), Some(code)));
        }
        Ok(response)
    }
}

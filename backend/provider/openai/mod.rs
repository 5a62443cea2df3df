//! The OpenAI-compatible Chat Completions client: a pooled `reqwest::Client` per thread
//! (`clients.rs`: a worker's calls run on that worker, over its own connections), a bounded
//! retry loop, and the whole call held to the caller's deadline, behind the circuit
//! [`Breaker`] that all threads share.
//!
//! Nothing upstream-controlled is logged or returned: no body, no key, no base URL (it may
//! hold credentials; `reqwest::Error`'s `Display` includes the URL, so it is never logged).
use super::body::read_capped;
use super::breaker::{Breaker, BreakerState};
use super::endpoint::{bearer, chat_completions_url};
use super::retry::{self, Failure};
use super::sse::{pieces, Pieces};

mod clients;
mod open_stream;
use super::wire::{self, ChatRequest};
use super::{ChatMessage, Completion, ProviderError, Stage};
use crate::config::ProviderSettings;
use anyhow::Context;
use bytes::Bytes;
use clients::ThreadClients;
use futures::StreamExt;
use reqwest::header::{HeaderValue, ACCEPT, AUTHORIZATION, CONTENT_TYPE};
use reqwest::Url;
use std::sync::Arc;
use std::time::Duration;
use tokio::time::{sleep, timeout, timeout_at, Instant};

/// Cheap to clone: the settings, the per-thread clients and the breaker are shared.
#[derive(Clone)]
pub struct OpenAiClient {
    inner: Arc<Inner>,
    breaker: Arc<Breaker>,
}

struct Inner {
    http: ThreadClients,
    /// `{base_url}/chat/completions`. May hold credentials: never logged or shown.
    endpoint: Url,
    /// `Bearer <key>`, marked sensitive.
    authorization: HeaderValue,
    reasoning_model: String,
    expression_model: String,
    request_timeout: Duration,
    max_retries: u32,
    max_response_bytes: usize,
    max_tokens: u32,
}

impl std::fmt::Debug for OpenAiClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let inner = &self.inner;
        f.debug_struct("OpenAiClient")
            .field("endpoint", &"[redacted]")
            .field("reasoning_model", &inner.reasoning_model)
            .field("expression_model", &inner.expression_model)
            .field("request_timeout", &inner.request_timeout)
            .field("max_retries", &inner.max_retries)
            .field("max_response_bytes", &inner.max_response_bytes)
            .field("max_tokens", &inner.max_tokens)
            .finish_non_exhaustive()
    }
}

impl OpenAiClient {
    /// Builds the client. Fails (without echoing the key or URL) when there is no key, the
    /// key cannot be a header value, or the base URL is not an http(s) URL.
    pub fn new(settings: &ProviderSettings) -> anyhow::Result<Self> {
        let key = settings
            .api_key
            .as_ref()
            .context("no model provider API key is configured")?;
        let http = ThreadClients::new(settings.connect_timeout)?;
        let inner = Inner {
            http,
            endpoint: chat_completions_url(&settings.base_url)?,
            authorization: bearer(key)?,
            reasoning_model: settings.reasoning_model.clone(),
            expression_model: settings.expression_model.clone(),
            request_timeout: settings.request_timeout,
            max_retries: settings.max_retries,
            max_response_bytes: settings.max_response_bytes,
            max_tokens: settings.max_tokens,
        };
        Ok(OpenAiClient {
            inner: Arc::new(inner),
            breaker: Arc::new(Breaker::new(
                settings.breaker_failures,
                settings.breaker_cooldown,
            )),
        })
    }

    /// `(reasoning model, expression model)`.
    pub fn models(&self) -> (&str, &str) {
        (&self.inner.reasoning_model, &self.inner.expression_model)
    }

    /// One stage call: attempts, backoff sleeps and body reads all end within `deadline`.
    /// While the breaker is open it fails at once with `Unavailable`, without a request.
    pub async fn complete(
        &self,
        stage: Stage,
        messages: &[ChatMessage],
        deadline: Duration,
    ) -> Result<Completion, ProviderError> {
        let request = ChatRequest::new(self.inner.model(stage), messages, self.inner.max_tokens);
        self.call(stage, &request, move |inner, body| async move {
            inner.complete(stage, body, deadline).await
        })
        .await
    }

    /// One call under the breaker: `send` gets the serialized request. While the breaker is
    /// open it fails at once with `Unavailable`.
    async fn call<T, F, Fut>(
        &self,
        stage: Stage,
        request: &ChatRequest<'_>,
        send: F,
    ) -> Result<T, ProviderError>
    where
        F: FnOnce(Arc<Inner>, Bytes) -> Fut,
        Fut: std::future::Future<Output = Result<T, ProviderError>>,
    {
        let Some(permit) = self.breaker.admit() else {
            // Debug: the turn's own line records it, and the opening was logged at warn.
            tracing::debug!(
                stage = stage.as_str(),
                outcome = ProviderError::Unavailable.category().as_str(),
                attempts = 0,
                breaker = "open",
                "provider call failed fast: the circuit breaker is open"
            );
            return Err(ProviderError::Unavailable);
        };
        // Serialising strings and integers cannot fail; treat it as a bad exchange if it does.
        let result = match serde_json::to_vec(request) {
            Ok(body) => send(Arc::clone(&self.inner), Bytes::from(body)).await,
            Err(_) => Err(ProviderError::BadResponse),
        };
        permit.finish(&result);
        result
    }

    pub fn breaker_state(&self) -> BreakerState {
        self.breaker.state()
    }

    pub fn breaker_opened(&self) -> u64 {
        self.breaker.opened()
    }

    /// One stage call answered as a stream (`stream: true`): opened (retried like
    /// `complete` until the upstream answers 2xx) under the breaker, then its pieces as they
    /// arrive (see `sse.rs`). Returns the pieces and the status.
    pub async fn stream(
        &self,
        stage: Stage,
        messages: &[ChatMessage],
        deadline: Duration,
    ) -> Result<(Pieces, u16), ProviderError> {
        let request =
            ChatRequest::new(self.inner.model(stage), messages, self.inner.max_tokens).streamed();
        let (response, status) = self
            .call(stage, &request, move |inner, body| async move {
                inner.open_stream(stage, body, deadline).await
            })
            .await?;
        let pieces = pieces(
            response,
            self.inner.request_timeout,
            self.inner.max_response_bytes,
        );
        Ok((pieces.boxed(), status))
    }
}

/// What a call saw upstream, for its log line: how many attempts, the last HTTP status.
#[derive(Default)]
struct Trace {
    attempts: u32,
    status: Option<u16>,
}

impl Inner {
    /// This thread's HTTP client (built on first use; building one succeeded at startup).
    fn client(&self) -> anyhow::Result<&reqwest::Client> {
        self.http.current()
    }

    fn model(&self, stage: Stage) -> &str {
        match stage {
            Stage::Reasoning => &self.reasoning_model,
            Stage::Expression => &self.expression_model,
        }
    }

    /// The call with its retries, held to `deadline`, and its one log line: the stage, the
    /// outcome, the upstream's last status code and the attempts (numbers only, never a body).
    async fn complete(
        &self,
        stage: Stage,
        body: Bytes,
        deadline: Duration,
    ) -> Result<Completion, ProviderError> {
        let started = Instant::now();
        let end = started
            .checked_add(deadline)
            .or_else(|| started.checked_add(Duration::from_secs(86_400)))
            .unwrap_or(started);
        let mut trace = Trace::default();
        let result = timeout_at(end, self.run(stage, body, end, &mut trace))
            .await
            .unwrap_or(Err(ProviderError::Timeout));
        let duration_ms = started.elapsed().as_millis() as u64;
        match &result {
            Ok(done) => tracing::debug!(
                stage = stage.as_str(),
                status = done.status,
                attempts = trace.attempts,
                duration_ms,
                "provider call succeeded"
            ),
            Err(error) => tracing::info!(
                stage = stage.as_str(),
                outcome = error.category().as_str(),
                upstream_status = trace.status,
                attempts = trace.attempts,
                duration_ms,
                "provider call failed"
            ),
        }
        result
    }

    async fn run(
        &self,
        stage: Stage,
        body: Bytes,
        end: Instant,
        trace: &mut Trace,
    ) -> Result<Completion, ProviderError> {
        let mut attempt = 0u32;
        loop {
            attempt += 1;
            trace.attempts = attempt;
            let outcome = self.attempt(stage, attempt, body.clone(), end).await;
            trace.status = outcome.1.or(trace.status);
            let failure = match outcome.0 {
                Ok(completion) => return Ok(completion),
                Err(failure) => failure,
            };
            if !failure.retryable || attempt > self.max_retries {
                return Err(failure.error);
            }
            // A wait that would end past the deadline is not started: fail now instead.
            let Some(delay) = retry::delay_before(attempt, &failure) else {
                return Err(failure.error);
            };
            if Instant::now()
                .checked_add(delay)
                .is_none_or(|wake| wake >= end)
            {
                return Err(failure.error);
            }
            sleep(delay).await;
        }
    }

    /// One HTTP exchange, held to `request_timeout` and to what is left of the deadline,
    /// with the HTTP status it got (if it got that far).
    async fn attempt(
        &self,
        stage: Stage,
        attempt: u32,
        body: Bytes,
        end: Instant,
    ) -> (Result<Completion, Failure>, Option<u16>) {
        let started = Instant::now();
        let budget = self
            .request_timeout
            .min(end.saturating_duration_since(started));
        let mut status = None;
        let result = timeout(budget, self.exchange(body, &mut status))
            .await
            .unwrap_or(Err(Failure::fatal(ProviderError::Timeout)));
        let outcome = match &result {
            Ok(_) => "ok",
            Err(failure) => failure.error.category().as_str(),
        };
        tracing::debug!(
            stage = stage.as_str(),
            attempt,
            status,
            duration_ms = started.elapsed().as_millis() as u64,
            outcome,
            "provider attempt"
        );
        let result = result.map(|text| Completion {
            text,
            status: status.unwrap_or(200),
            attempts: attempt,
        });
        (result, status)
    }

    async fn exchange(&self, body: Bytes, status: &mut Option<u16>) -> Result<String, Failure> {
        let response = self
            .client()
            .map_err(|_| Failure::fatal(ProviderError::Unavailable))?
            .post(self.endpoint.clone())
            .header(AUTHORIZATION, self.authorization.clone())
            .header(CONTENT_TYPE, "application/json")
            .header(ACCEPT, "application/json")
            .body(body)
            .send()
            .await
            .map_err(|error| retry::classify_transport(&error))?;
        let code = response.status().as_u16();
        *status = Some(code);
        if !response.status().is_success() {
            // The body of an error response is never read, logged or returned.
            return Err(retry::classify_status(code, response.headers()));
        }
        let bytes = read_capped(response, self.max_response_bytes).await?;
        wire::parse_content(&bytes).map_err(Failure::fatal)
    }
}

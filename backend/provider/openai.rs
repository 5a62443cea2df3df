//! The OpenAI-compatible Chat Completions client: one pooled `reqwest::Client`, a bounded
//! retry loop, and the whole call held to the caller's deadline.
//!
//! Nothing upstream-controlled is logged or returned: no body, no key, no base URL (it may
//! hold credentials; `reqwest::Error`'s `Display` includes the URL, so it is never logged).
use super::body::read_capped;
use super::endpoint::{bearer, chat_completions_url};
use super::retry::{self, Failure};
use super::sse::{pieces, Pieces};
use super::wire::{self, ChatRequest};
use super::{ChatMessage, Completion, ProviderError, Stage};
use crate::config::ProviderSettings;
use anyhow::Context;
use bytes::Bytes;
use reqwest::header::{HeaderValue, ACCEPT, AUTHORIZATION, CONTENT_TYPE};
use reqwest::Url;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::time::{sleep, timeout, timeout_at, Instant};

/// How long an idle pooled connection is kept.
const POOL_IDLE_TIMEOUT: Duration = Duration::from_secs(60);

/// Cheap to clone: the settings and the connection pool are shared.
#[derive(Clone)]
pub struct OpenAiClient {
    inner: Arc<Inner>,
}

struct Inner {
    http: reqwest::Client,
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
        let http = reqwest::Client::builder()
            .use_rustls_tls()
            .connect_timeout(settings.connect_timeout)
            .redirect(reqwest::redirect::Policy::none())
            .pool_idle_timeout(POOL_IDLE_TIMEOUT)
            .tcp_nodelay(true)
            .user_agent(concat!("governed-chat/", env!("CARGO_PKG_VERSION")))
            .build()
            .context("building the model provider HTTP client")?;
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
        })
    }

    /// `(reasoning model, expression model)`.
    pub fn models(&self) -> (&str, &str) {
        (&self.inner.reasoning_model, &self.inner.expression_model)
    }

    /// One stage call: attempts, backoff sleeps and body reads all end within `deadline`.
    pub async fn complete(
        &self,
        stage: Stage,
        messages: &[ChatMessage],
        deadline: Duration,
    ) -> Result<Completion, ProviderError> {
        self.inner.complete(stage, messages, deadline).await
    }

    /// One stage call answered as a stream (`stream: true`): retried like `complete` until
    /// the upstream answers 2xx, then its pieces as they arrive (see `sse.rs`). Returns the
    /// pieces and the upstream status.
    pub async fn stream(
        &self,
        stage: Stage,
        messages: &[ChatMessage],
        deadline: Duration,
    ) -> Result<(Pieces, u16), ProviderError> {
        self.inner.stream(stage, messages, deadline).await
    }
}

impl Inner {
    async fn stream(
        &self,
        stage: Stage,
        messages: &[ChatMessage],
        deadline: Duration,
    ) -> Result<(Pieces, u16), ProviderError> {
        let started = Instant::now();
        let end = started
            .checked_add(deadline)
            .or_else(|| started.checked_add(Duration::from_secs(86_400)))
            .unwrap_or(started);
        let request = ChatRequest::new(self.model(stage), messages, self.max_tokens).streamed();
        let body =
            Bytes::from(serde_json::to_vec(&request).map_err(|_| ProviderError::BadResponse)?);
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
                    let pieces = pieces(response, self.request_timeout, self.max_response_bytes);
                    return Ok((pieces, status));
                }
                Ok(Err(failure)) => failure,
                Err(_) => Failure::fatal(ProviderError::Timeout),
            };
            tracing::info!(
                stage = stage.as_str(),
                attempt,
                outcome = failure.error.category().as_str(),
                "provider stream attempt failed"
            );
            if !failure.retryable || attempt > self.max_retries {
                return Err(failure.error);
            }
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

    /// Sends the request and returns the response once its status says success.
    async fn open(&self, body: Bytes) -> Result<reqwest::Response, Failure> {
        let response = self
            .http
            .post(self.endpoint.clone())
            .header(AUTHORIZATION, self.authorization.clone())
            .header(CONTENT_TYPE, "application/json")
            .header(ACCEPT, "text/event-stream, application/json")
            .body(body)
            .send()
            .await
            .map_err(|error| retry::classify_transport(&error))?;
        if !response.status().is_success() {
            return Err(retry::classify_status(
                response.status().as_u16(),
                response.headers(),
            ));
        }
        Ok(response)
    }

    fn model(&self, stage: Stage) -> &str {
        match stage {
            Stage::Reasoning => &self.reasoning_model,
            Stage::Expression => &self.expression_model,
        }
    }

    async fn complete(
        &self,
        stage: Stage,
        messages: &[ChatMessage],
        deadline: Duration,
    ) -> Result<Completion, ProviderError> {
        let started = Instant::now();
        let end = started
            .checked_add(deadline)
            .or_else(|| started.checked_add(Duration::from_secs(86_400)))
            .unwrap_or(started);
        let request = ChatRequest::new(self.model(stage), messages, self.max_tokens);
        // Serialising strings and integers cannot fail; treat it as a bad exchange if it does.
        let body =
            Bytes::from(serde_json::to_vec(&request).map_err(|_| ProviderError::BadResponse)?);
        let attempts = AtomicU32::new(0);
        let result = timeout_at(end, self.run(stage, body, end, &attempts))
            .await
            .unwrap_or(Err(ProviderError::Timeout));
        let attempts = attempts.load(Ordering::Relaxed);
        let duration_ms = started.elapsed().as_millis() as u64;
        match &result {
            Ok(done) => tracing::debug!(
                stage = stage.as_str(),
                status = done.status,
                attempts,
                duration_ms,
                "provider call succeeded"
            ),
            Err(error) => tracing::info!(
                stage = stage.as_str(),
                outcome = error.category().as_str(),
                attempts,
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
        attempts: &AtomicU32,
    ) -> Result<Completion, ProviderError> {
        let mut attempt = 0u32;
        loop {
            attempt += 1;
            attempts.store(attempt, Ordering::Relaxed);
            let failure = match self.attempt(stage, attempt, body.clone(), end).await {
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

    /// One HTTP exchange, held to `request_timeout` and to what is left of the deadline.
    async fn attempt(
        &self,
        stage: Stage,
        attempt: u32,
        body: Bytes,
        end: Instant,
    ) -> Result<Completion, Failure> {
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
        result.map(|text| Completion {
            text,
            status: status.unwrap_or(200),
            attempts: attempt,
        })
    }

    async fn exchange(&self, body: Bytes, status: &mut Option<u16>) -> Result<String, Failure> {
        let response = self
            .http
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

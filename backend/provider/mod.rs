//! Model providers: an OpenAI-compatible HTTP client and a deterministic offline provider
//! for development.
//!
//! - [`openai`]: the client (one pooled `reqwest::Client`, the retry loop, one attempt).
//! - [`endpoint`]: the endpoint URL and the `Authorization` header.
//! - [`wire`]: the request and response bodies on the wire.
//! - [`retry`]: which failures are retried, jittered backoff and `Retry-After`.
//! - [`breaker`]: the circuit breaker that fails turns fast while the provider is down.
//! - [`body`]: reading a response body with a byte cap.
//! - [`offline`]: the provider used in development when no key is configured.
use crate::domain::Category;
use serde::Serialize;
use std::time::Duration;

mod body;
mod breaker;
mod endpoint;
mod offline;
mod openai;
mod retry;
mod sse;
mod wire;

pub use breaker::BreakerState;
pub use offline::OfflineProvider;
pub use openai::OpenAiClient;
pub use sse::Pieces;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ChatMessage {
    pub role: &'static str,
    pub content: String,
}

impl ChatMessage {
    pub fn system(content: impl Into<String>) -> Self {
        ChatMessage {
            role: "system",
            content: content.into(),
        }
    }
    pub fn user(content: impl Into<String>) -> Self {
        ChatMessage {
            role: "user",
            content: content.into(),
        }
    }
    pub fn assistant(content: impl Into<String>) -> Self {
        ChatMessage {
            role: "assistant",
            content: content.into(),
        }
    }
}

/// Which of the two pipeline stages a call belongs to (a metric label, and it picks the model).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Stage {
    Reasoning,
    Expression,
}

impl Stage {
    pub fn as_str(self) -> &'static str {
        match self {
            Stage::Reasoning => "reasoning",
            Stage::Expression => "expression",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum ProviderError {
    #[error("provider timed out")]
    Timeout,
    #[error("provider unavailable")]
    Unavailable,
    #[error("provider returned a bad response")]
    BadResponse,
    #[error("provider rate limited us")]
    RateLimited,
    /// 401/403: the key is wrong, revoked or not allowed this model.
    #[error("provider refused our credentials")]
    Auth,
    /// 400/404/413/422: the upstream refused this request (model name, size, parameters).
    #[error("provider rejected the request")]
    Rejected,
}

impl ProviderError {
    pub fn category(self) -> Category {
        match self {
            ProviderError::Timeout => Category::ProviderTimeout,
            ProviderError::Unavailable => Category::ProviderUnavailable,
            ProviderError::BadResponse => Category::ProviderBadResponse,
            ProviderError::RateLimited => Category::ProviderRateLimited,
            ProviderError::Auth => Category::ProviderAuth,
            ProviderError::Rejected => Category::ProviderRejected,
        }
    }
}

/// What one successful stage call produced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Completion {
    pub text: String,
    /// HTTP status of the final upstream attempt (200 for the offline provider).
    pub status: u16,
    pub attempts: u32,
}

/// The provider a running service talks to. Cheap to clone (the HTTP pool is shared).
/// `Debug` never shows the key or the base URL.
#[derive(Debug, Clone)]
pub enum Provider {
    OpenAi(OpenAiClient),
    Offline(OfflineProvider),
}

impl Provider {
    /// The OpenAI-compatible client when a key is configured, otherwise the offline provider
    /// (the config layer only allows a missing key in development).
    pub fn from_settings(settings: &crate::config::ProviderSettings) -> anyhow::Result<Provider> {
        match settings.api_key {
            Some(_) => Ok(Provider::OpenAi(OpenAiClient::new(settings)?)),
            None => Ok(Provider::Offline(OfflineProvider)),
        }
    }

    /// One stage call. `deadline` is the time left in this turn's overall budget; the call
    /// (including retries and backoff sleeps) ends before it.
    pub async fn complete(
        &self,
        stage: Stage,
        messages: &[ChatMessage],
        deadline: Duration,
    ) -> Result<Completion, ProviderError> {
        match self {
            Provider::OpenAi(client) => client.complete(stage, messages, deadline).await,
            Provider::Offline(offline) => Ok(offline.complete(stage, messages)),
        }
    }

    /// One stage call whose answer arrives in pieces: the pieces and the upstream status.
    /// `live`: someone watches the pieces arrive (the offline provider then paces them like
    /// a model writing).
    pub async fn stream(
        &self,
        stage: Stage,
        messages: &[ChatMessage],
        deadline: Duration,
        live: bool,
    ) -> Result<(Pieces, u16), ProviderError> {
        match self {
            Provider::OpenAi(client) => client.stream(stage, messages, deadline).await,
            Provider::Offline(offline) => Ok((offline.stream(stage, messages, live), 200)),
        }
    }

    /// `(reasoning model, expression model)`; `("offline", "offline")` for the offline provider.
    pub fn models(&self) -> (&str, &str) {
        match self {
            Provider::OpenAi(client) => client.models(),
            Provider::Offline(_) => (offline::MODEL, offline::MODEL),
        }
    }

    /// A stable label for logs and readiness output: `"openai"` or `"offline"`.
    pub fn kind(&self) -> &'static str {
        match self {
            Provider::OpenAi(_) => "openai",
            Provider::Offline(_) => "offline",
        }
    }

    /// The circuit breaker's state (always closed for the offline provider).
    pub fn breaker_state(&self) -> BreakerState {
        match self {
            Provider::OpenAi(client) => client.breaker_state(),
            Provider::Offline(_) => BreakerState::Closed,
        }
    }

    /// How many times the circuit breaker has opened since start.
    pub fn breaker_opened(&self) -> u64 {
        match self {
            Provider::OpenAi(client) => client.breaker_opened(),
            Provider::Offline(_) => 0,
        }
    }

    pub fn is_offline(&self) -> bool {
        matches!(self, Provider::Offline(_))
    }
}

//! One governed chat turn, from admitted request to governed reply, independent of HTTP:
//! gate -> session + quota -> input governance -> reasoning -> expression -> output
//! governance. Each step's failure ends the turn with an outcome and a category.
use crate::domain::{Category, Outcome, SessionId};
use crate::governor::{self, InputRejection};
use crate::provider::{Completion, ProviderError, Stage};
use crate::state::AppState;
use crate::store::{Admission, AdmissionRequest, RequestRecord};
use chrono::Utc;
use std::time::{Duration, Instant};

pub struct TurnRequest {
    pub request_id: String,
    pub message: String,
    pub session_id: Option<SessionId>,
    pub client_address: Option<String>,
    /// The verified Supabase user id (`sub`), when the turn carried a valid token. The store
    /// keeps only a keyed hash of it; never log it.
    pub user: Option<String>,
}

/// How the turn ended. `Invalid` is not a turn at all (nothing was admitted).
pub enum TurnResult {
    Accepted {
        session_id: SessionId,
        reply: String,
    },
    Refused {
        session_id: Option<SessionId>,
        category: Category,
        reply: &'static str,
    },
    Aborted {
        session_id: Option<SessionId>,
        category: Category,
    },
    Invalid,
}

impl TurnResult {
    pub fn outcome(&self) -> Option<Outcome> {
        match self {
            TurnResult::Accepted { .. } => Some(Outcome::Accepted),
            TurnResult::Refused { .. } => Some(Outcome::Refused),
            TurnResult::Aborted { .. } => Some(Outcome::Aborted),
            TurnResult::Invalid => None,
        }
    }

    pub fn category(&self) -> Option<Category> {
        match self {
            TurnResult::Refused { category, .. } | TurnResult::Aborted { category, .. } => {
                Some(*category)
            }
            _ => None,
        }
    }
}

/// Sizes and durations of a turn, for the metadata record and metrics. Never content.
#[derive(Default)]
struct Measures {
    input_chars: u32,
    output_chars: u32,
    reasoning: Option<Duration>,
    expression: Option<Duration>,
    provider_status: Option<u16>,
}

pub async fn run(state: &AppState, request: TurnRequest) -> TurnResult {
    let started_at = Utc::now();
    let started = Instant::now();
    let mut measures = Measures::default();
    let result = govern(state, &request, started, &mut measures).await;
    record(
        state,
        request.request_id,
        started_at,
        started,
        &measures,
        &result,
    );
    result
}

/// A turn refused before it began because its bearer token was missing (where required),
/// bad or expired: recorded like any other refusal, and nothing reaches the provider.
pub fn refuse_invalid_token(state: &AppState, request_id: crate::domain::RequestId) {
    let result = TurnResult::Refused {
        session_id: None,
        category: Category::AuthInvalidToken,
        reply: "",
    };
    let measures = Measures::default();
    let request_id = request_id.as_str().to_owned();
    record(
        state,
        request_id,
        Utc::now(),
        Instant::now(),
        &measures,
        &result,
    );
}

/// Metrics, the one log line and the metadata row of a finished turn.
fn record(
    state: &AppState,
    request_id: String,
    started_at: chrono::DateTime<Utc>,
    started: Instant,
    measures: &Measures,
    result: &TurnResult,
) {
    if let Some(outcome) = result.outcome() {
        let provider_time =
            measures.reasoning.unwrap_or_default() + measures.expression.unwrap_or_default();
        let category = result.category();
        state.metrics.record_turn(
            outcome.as_str(),
            category.map_or("none", Category::as_str),
            started.elapsed(),
            provider_time,
        );
        tracing::info!(
            outcome = outcome.as_str(),
            category = category.map_or("none", Category::as_str),
            input_chars = measures.input_chars,
            output_chars = measures.output_chars,
            reasoning_ms = measures.reasoning.map(millis),
            expression_ms = measures.expression.map(millis),
            total_ms = millis(started.elapsed()),
            "turn finished"
        );
        state.writer.record(RequestRecord {
            request_id,
            session_id: session_of(result),
            started_at,
            finished_at: Utc::now(),
            outcome,
            category,
            http_status: crate::http::turn_status(result).as_u16(),
            input_chars: measures.input_chars,
            output_chars: measures.output_chars,
            reasoning_ms: measures.reasoning.map(millis),
            expression_ms: measures.expression.map(millis),
            provider_status: measures.provider_status,
        });
    }
}

async fn govern(
    state: &AppState,
    request: &TurnRequest,
    started: Instant,
    measures: &mut Measures,
) -> TurnResult {
    let readiness = &state.readiness;
    if readiness.is_shutting_down() {
        return TurnResult::Aborted {
            session_id: None,
            category: Category::ShuttingDown,
        };
    }
    if !readiness.database_ok() {
        return TurnResult::Aborted {
            session_id: None,
            category: Category::DependencyDatabase,
        };
    }

    // Held until the turn ends: the cap on turns in flight at the provider.
    let Some(_permit) = state.capacity.try_claim() else {
        return TurnResult::Aborted {
            session_id: None,
            category: Category::Capacity,
        };
    };

    let admission = AdmissionRequest {
        session_id: request.session_id.clone(),
        client_address: request.client_address.clone(),
        user: request.user.clone(),
    };
    let query_timeout = state.settings.database.query_timeout;
    let session_id = match tokio::time::timeout(query_timeout, state.store.admit(admission)).await {
        Ok(Ok(Admission::Admitted { session_id, .. })) => session_id,
        Ok(Ok(Admission::OverQuota { session_id })) => {
            return TurnResult::Refused {
                session_id,
                category: Category::Quota,
                reply: QUOTA_REPLY,
            };
        }
        Ok(Err(_)) | Err(_) => {
            return TurnResult::Aborted {
                session_id: None,
                category: Category::DependencyDatabase,
            };
        }
    };

    let input = match state.governor.govern_input(&request.message) {
        Ok(input) => input,
        Err(InputRejection::Empty) => return TurnResult::Invalid,
        Err(InputRejection::Refused(refusal)) => {
            return TurnResult::Refused {
                session_id: Some(session_id),
                category: refusal.category,
                reply: refusal.reply(),
            };
        }
    };
    measures.input_chars = count_chars(&input.text);

    let (notes, draft) = match two_stages(state, &input.text, started, measures).await {
        Ok(stages) => stages,
        Err(error) => {
            return TurnResult::Aborted {
                session_id: Some(session_id),
                category: error.category(),
            }
        }
    };

    match state.governor.govern_output(&draft, &notes) {
        Ok(reply) => {
            measures.output_chars = count_chars(&reply.text);
            TurnResult::Accepted {
                session_id,
                reply: reply.text,
            }
        }
        Err(refusal) => TurnResult::Refused {
            session_id: Some(session_id),
            category: refusal.category,
            reply: refusal.reply(),
        },
    }
}

/// Reasoning, then expression, both within the turn's deadline: (notes, draft reply).
async fn two_stages(
    state: &AppState,
    user_text: &str,
    started: Instant,
    measures: &mut Measures,
) -> Result<(String, String), ProviderError> {
    let deadline = state.settings.provider.turn_deadline;
    let reasoning = governor::reasoning_messages(user_text);
    let notes = call(
        state,
        Stage::Reasoning,
        &reasoning,
        deadline,
        started,
        measures,
    )
    .await?
    .text;
    let expression = governor::expression_messages(&notes, user_text);
    let draft = call(
        state,
        Stage::Expression,
        &expression,
        deadline,
        started,
        measures,
    )
    .await?
    .text;
    Ok((notes, draft))
}

async fn call(
    state: &AppState,
    stage: Stage,
    messages: &[crate::provider::ChatMessage],
    deadline: Duration,
    started: Instant,
    measures: &mut Measures,
) -> Result<Completion, ProviderError> {
    let remaining = deadline.saturating_sub(started.elapsed());
    if remaining.is_zero() {
        return Err(ProviderError::Timeout);
    }
    let call_started = Instant::now();
    let result = state.provider.complete(stage, messages, remaining).await;
    let elapsed = call_started.elapsed();
    match stage {
        Stage::Reasoning => measures.reasoning = Some(elapsed),
        Stage::Expression => measures.expression = Some(elapsed),
    }
    let status = result.as_ref().ok().map(|c| c.status);
    measures.provider_status = status.or(measures.provider_status);
    state
        .metrics
        .record_provider_call(stage.as_str(), result.as_ref().err().copied());
    result
}

const QUOTA_REPLY: &str = "You have sent too many messages. Please wait a moment and try again.";

fn session_of(result: &TurnResult) -> Option<SessionId> {
    match result {
        TurnResult::Accepted { session_id, .. } => Some(session_id.clone()),
        TurnResult::Refused { session_id, .. } | TurnResult::Aborted { session_id, .. } => {
            session_id.clone()
        }
        TurnResult::Invalid => None,
    }
}

fn count_chars(text: &str) -> u32 {
    u32::try_from(text.chars().count()).unwrap_or(u32::MAX)
}

fn millis(duration: Duration) -> u32 {
    u32::try_from(duration.as_millis()).unwrap_or(u32::MAX)
}

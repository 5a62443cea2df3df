//! `POST /api/chat`: the strict request contract, then the governed turn, answered as
//! JSON or, with `Accept: text/event-stream`, streamed (`chat_sse.rs`).
use super::body::{read_json, BodyLimits};
use super::client_address::client_address;
use super::{turn_status, ApiError};
use crate::auth::{Rejection, VerifiedUser};
use crate::domain::{RequestId, SessionId};
use crate::state::AppState;
use crate::turn::{self, ReplySink, TurnRequest, TurnResult};
use actix_web::{web, HttpMessage, HttpRequest, HttpResponse};
use futures::future::BoxFuture;
use futures::FutureExt;
use serde::{Deserialize, Serialize};

/// The whole request contract: nothing else (history, system prompt, model) is accepted.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ChatRequest {
    message: String,
    #[serde(default)]
    session_id: Option<String>,
}

#[derive(Serialize)]
struct ChatResponse<'a> {
    request_id: &'a str,
    outcome: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    session_id: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    category: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    reply: Option<&'a str>,
}

pub async fn chat(
    req: HttpRequest,
    payload: web::Payload,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    super::guard::catch_panics(governed_turn(req, payload, state)).await
}

async fn governed_turn(
    req: HttpRequest,
    payload: web::Payload,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let limits = BodyLimits {
        max_bytes: state.settings.limits.max_body_bytes,
        read_timeout: state.settings.limits.client_request_timeout,
    };
    let user = match super::auth::authenticate(&req, &state.auth) {
        Ok(user) => user,
        Err(Rejection::InvalidToken) => {
            let (ended, result) = turn::invalid_token(request_id_of(&req).as_str());
            turn::record(&state, ended, &result, turn_status(&result).as_u16());
            return Err(ApiError::InvalidToken);
        }
        Err(Rejection::KeysUnavailable) => return Err(ApiError::NotReady),
    };
    let body: ChatRequest = read_json(&req, payload, &limits).await?;
    if body.message.trim().is_empty() {
        return Err(ApiError::InvalidRequest);
    }
    let request_id = request_id_of(&req);
    let request = TurnRequest {
        request_id: request_id.as_str().to_owned(),
        message: body.message,
        // A malformed id is treated like an unknown one: the turn gets a fresh session.
        session_id: body.session_id.as_deref().and_then(SessionId::parse),
        client_address: client_address(&req, state.settings.quota.trusted_proxy_header.as_deref()),
        user: user.map(VerifiedUser::into_subject),
    };
    let admitted = match turn::admit(&state, &request).await {
        Ok(admitted) => admitted,
        Err((ended, result)) => {
            let status = turn_status(&result);
            turn::record(&state, ended, &result, status.as_u16());
            return answer(&request_id, &result, None);
        }
    };
    if super::chat_sse::wants_stream(&req) {
        return Ok(super::chat_sse::respond(state, admitted, request_id));
    }
    let mut sink = Collect::default();
    let (ended, result) = turn::reply(&state, admitted, &mut sink).await;
    turn::record(&state, ended, &result, turn_status(&result).as_u16());
    answer(&request_id, &result, Some(&sink.text))
}

/// The JSON answer of a finished turn; `reply` is the governed reply collected.
fn answer(
    request_id: &RequestId,
    result: &TurnResult,
    reply: Option<&str>,
) -> Result<HttpResponse, ApiError> {
    let (category, reply) = match result {
        TurnResult::Invalid => return Err(ApiError::InvalidRequest),
        TurnResult::Accepted { .. } => (None, reply),
        TurnResult::Refused {
            category, reply, ..
        } => (Some(*category), Some(*reply)),
        TurnResult::Aborted { category, .. } => (Some(*category), None),
    };
    let outcome = result.outcome().map_or("aborted", |o| o.as_str());
    Ok(HttpResponse::build(turn_status(result)).json(ChatResponse {
        request_id: request_id.as_str(),
        outcome,
        session_id: result.session_id().map(SessionId::as_str),
        category: category.map(|c| c.as_str()),
        reply,
    }))
}

/// The reply collected whole, for the JSON answer.
#[derive(Default)]
struct Collect {
    text: String,
}

impl ReplySink for Collect {
    fn live(&self) -> bool {
        false
    }

    fn delta(&mut self, text: &str) -> bool {
        self.text.push_str(text);
        true
    }

    fn gone(&self) -> BoxFuture<'static, ()> {
        futures::future::pending().boxed()
    }
}

fn request_id_of(req: &HttpRequest) -> RequestId {
    req.extensions()
        .get::<RequestId>()
        .cloned()
        .unwrap_or_else(RequestId::generate)
}

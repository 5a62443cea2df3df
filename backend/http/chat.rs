//! `POST /api/chat`: the strict request contract, then the governed turn.
use super::body::{read_json, BodyLimits};
use super::client_address::client_address;
use super::{turn_status, ApiError};
use crate::auth::{Rejection, VerifiedUser};
use crate::domain::{RequestId, SessionId};
use crate::state::AppState;
use crate::turn::{self, TurnRequest, TurnResult};
use actix_web::{web, HttpMessage, HttpRequest, HttpResponse};
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
            turn::refuse_invalid_token(&state, request_id_of(&req));
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
    let result = turn::run(&state, request).await;
    let status = turn_status(&result);
    let (session_id, category, reply) = match &result {
        TurnResult::Invalid => return Err(ApiError::InvalidRequest),
        TurnResult::Accepted { session_id, reply } => {
            (Some(session_id), None, Some(reply.as_str()))
        }
        TurnResult::Refused {
            session_id,
            category,
            reply,
        } => (session_id.as_ref(), Some(*category), Some(*reply)),
        TurnResult::Aborted {
            session_id,
            category,
        } => (session_id.as_ref(), Some(*category), None),
    };
    let outcome = result.outcome().map_or("aborted", |o| o.as_str());
    Ok(HttpResponse::build(status).json(ChatResponse {
        request_id: request_id.as_str(),
        outcome,
        session_id: session_id.map(SessionId::as_str),
        category: category.map(|c| c.as_str()),
        reply,
    }))
}

fn request_id_of(req: &HttpRequest) -> RequestId {
    req.extensions()
        .get::<RequestId>()
        .cloned()
        .unwrap_or_else(RequestId::generate)
}

//! `POST /api/chat`: the strict request contract, then the governed turn.
use super::body::{read_json, BodyLimits};
use super::{turn_status, ApiError};
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
    let body: ChatRequest = read_json(&req, payload, &limits).await?;
    if body.message.trim().is_empty() {
        return Err(ApiError::InvalidRequest);
    }
    let request_id = req
        .extensions()
        .get::<RequestId>()
        .cloned()
        .unwrap_or_else(RequestId::generate);
    let request = TurnRequest {
        request_id: request_id.as_str().to_owned(),
        message: body.message,
        // A malformed id is treated like an unknown one: the turn gets a fresh session.
        session_id: body.session_id.as_deref().and_then(SessionId::parse),
        client_address: client_address(&req, &state),
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

/// The client address: from the trusted proxy header when one is configured, else the TCP
/// peer. The right-most entry is the one the trusted proxy appended; anything left of it
/// came from the client and could be forged. A request without the header did not come
/// through the proxy, so its peer address is used.
fn client_address(req: &HttpRequest, state: &AppState) -> Option<String> {
    let forwarded = state
        .settings
        .quota
        .trusted_proxy_header
        .as_ref()
        .and_then(|header| {
            req.headers()
                .get(header.as_str())
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.rsplit(',').next())
                .map(|v| v.trim().to_owned())
                .filter(|v| !v.is_empty())
        });
    forwarded.or_else(|| req.peer_addr().map(|addr| addr.ip().to_string()))
}

//! The one place that decides how failures look on the wire. Handlers return `ApiError`;
//! the request-context middleware turns every error status into the same sanitized JSON
//! body (`{"error": <code>, "request_id": <id>}`), whatever produced it (a handler, the
//! CORS layer, the router's 404/405, a panic).
use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum ApiError {
    #[error("invalid request")]
    InvalidRequest,
    #[error("request body too large")]
    PayloadTooLarge,
    #[error("unsupported media type")]
    UnsupportedMediaType,
    #[error("request body arrived too slowly")]
    RequestTimeout,
    #[error("unauthorized")]
    Unauthorized,
    #[error("request headers too large")]
    HeadersTooLarge,
    #[error("not found")]
    NotFound,
    #[error("service not ready")]
    NotReady,
    #[error("internal error")]
    Internal,
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        match self {
            ApiError::InvalidRequest => StatusCode::BAD_REQUEST,
            ApiError::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ApiError::RequestTimeout => StatusCode::REQUEST_TIMEOUT,
            ApiError::Unauthorized => StatusCode::UNAUTHORIZED,
            ApiError::HeadersTooLarge => StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
            ApiError::NotFound => StatusCode::NOT_FOUND,
            ApiError::NotReady => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::Internal => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// The request-context middleware adds the request id to this body.
    fn error_response(&self) -> HttpResponse {
        let mut response = HttpResponse::build(self.status_code())
            .json(serde_json::json!({ "error": error_code(self.status_code()) }));
        response.extensions_mut().insert(NeedsRequestId);
        response
    }
}

/// Marks an error body the middleware must complete with the request id.
pub struct NeedsRequestId;

/// The stable error code for an error status. Clients branch on this, never on text.
pub fn error_code(status: StatusCode) -> &'static str {
    match status.as_u16() {
        400 => "invalid_request",
        401 => "unauthorized",
        403 => "forbidden",
        404 => "not_found",
        405 => "method_not_allowed",
        408 => "request_timeout",
        413 => "payload_too_large",
        415 => "unsupported_media_type",
        429 => "rate_limited",
        431 => "headers_too_large",
        503 => "service_unavailable",
        500..=599 => "internal",
        _ => "invalid_request",
    }
}

/// The status of a finished turn: refusals by policy are a normal answer (200), quota is
/// 429, and aborts say what failed: 502 the provider failed or answered badly, 503 a
/// dependency of ours is unavailable (database, draining, provider rate limit), 504 timeout.
pub fn turn_status(result: &crate::turn::TurnResult) -> StatusCode {
    use crate::domain::Category;
    use crate::turn::TurnResult;
    match result {
        TurnResult::Accepted { .. } => StatusCode::OK,
        TurnResult::Invalid => StatusCode::BAD_REQUEST,
        TurnResult::Refused {
            category: Category::Quota,
            ..
        } => StatusCode::TOO_MANY_REQUESTS,
        TurnResult::Refused {
            category: Category::AuthInvalidToken,
            ..
        } => StatusCode::UNAUTHORIZED,
        TurnResult::Refused { .. } => StatusCode::OK,
        TurnResult::Aborted { category, .. } => match category {
            Category::ProviderTimeout => StatusCode::GATEWAY_TIMEOUT,
            Category::ProviderUnavailable
            | Category::ProviderBadResponse
            | Category::ProviderAuth
            | Category::ProviderRejected => StatusCode::BAD_GATEWAY,
            Category::Internal => StatusCode::INTERNAL_SERVER_ERROR,
            _ => StatusCode::SERVICE_UNAVAILABLE,
        },
    }
}

//! Outermost middleware: gives every request an id (reusing a safe incoming `X-Request-Id`),
//! runs the rest inside a tracing span carrying it, makes every
//! error body the same sanitized JSON, and logs one categorical line per request.
use super::error::{error_code, NeedsRequestId};
use crate::domain::RequestId;
use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, HeaderName, HeaderValue};
use actix_web::middleware::Next;
use actix_web::{Error, HttpMessage, HttpResponse};
use std::time::Instant;
use tracing::Instrument;

pub const X_REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

pub async fn request_context(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, Error> {
    let started = Instant::now();
    let id = req
        .headers()
        .get(&X_REQUEST_ID)
        .and_then(|v| v.to_str().ok())
        .and_then(RequestId::parse)
        .unwrap_or_else(RequestId::generate);
    req.extensions_mut().insert(id.clone());
    let span = tracing::info_span!("request", request_id = %id);

    // Handler errors arrive here already rendered as responses; an `Err` can only come from
    // a layer outside the router and is rendered by actix from `ApiError`'s own JSON body.
    let mut response = next.call(req).instrument(span.clone()).await?.map_into_boxed_body();

    let status = response.status();
    if status.as_u16() >= 400 && (!is_json(&response) || response.response().extensions().contains::<NeedsRequestId>()) {
        let body = serde_json::json!({ "error": error_code(status), "request_id": id.as_str() });
        let sanitized = HttpResponse::build(status).json(body);
        response = response.into_response(sanitized);
        // A fresh response loses headers the CORS layer set; keep it unset on purpose:
        // an error for a foreign origin must not carry Access-Control-Allow-Origin either.
    }
    if let Ok(value) = HeaderValue::from_str(id.as_str()) {
        response.headers_mut().insert(X_REQUEST_ID, value);
    }
    let route = response.request().match_pattern().unwrap_or_else(|| "unmatched".to_owned());
    span.in_scope(|| {
        tracing::info!(
            method = %response.request().method(),
            route = %route,
            status = status.as_u16(),
            duration_us = started.elapsed().as_micros() as u64,
            "request finished"
        )
    });
    Ok(response)
}

fn is_json(response: &ServiceResponse<BoxBody>) -> bool {
    response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"))
}

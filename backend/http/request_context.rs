//! Outermost middleware: gives every request an id (reusing a safe incoming `X-Request-Id`),
//! runs the rest inside a tracing span carrying it, makes every
//! error body the same sanitized JSON, and logs one categorical line per request.
use super::error::{error_code, NeedsRequestId};
use crate::domain::RequestId;
use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, HeaderName, HeaderValue};
use actix_web::middleware::Next;
use actix_web::{Error, HttpMessage, HttpResponse, ResponseError};
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
    if header_bytes(&req) > MAX_HEADER_BYTES {
        let response = req.into_response(super::ApiError::HeadersTooLarge.error_response());
        return Ok(finish(response.map_into_boxed_body(), &id, &span, started));
    }

    // Handler errors arrive here already rendered as responses; an `Err` can only come from
    // a layer outside the router and is rendered by actix from `ApiError`'s own JSON body.
    let response = next
        .call(req)
        .instrument(span.clone())
        .await?
        .map_into_boxed_body();
    Ok(finish(response, &id, &span, started))
}

/// The request's header block, counted as names plus values. actix itself only refuses heads
/// past a fixed 128 KiB; nothing this API accepts needs more than a few KiB.
const MAX_HEADER_BYTES: usize = 16 * 1024;

fn header_bytes(req: &ServiceRequest) -> usize {
    req.headers()
        .iter()
        .map(|(name, value)| name.as_str().len() + value.len())
        .sum()
}

/// Sanitize error bodies, stamp the request id and log the one line for this request.
fn finish(
    mut response: ServiceResponse<BoxBody>,
    id: &RequestId,
    span: &tracing::Span,
    started: Instant,
) -> ServiceResponse<BoxBody> {
    let status = response.status();
    if status.as_u16() >= 400
        && (!is_json(&response)
            || response
                .response()
                .extensions()
                .contains::<NeedsRequestId>())
    {
        let body = serde_json::json!({ "error": error_code(status), "request_id": id.as_str() });
        let mut sanitized = HttpResponse::build(status).json(body);
        // Keep what the CORS layer decided (it only allows configured origins), so the
        // frontend can read the error; a foreign origin still gets no allow header. Keep
        // the bearer challenge of a 401 too (it is fixed text, never request data).
        for (name, value) in response.headers() {
            if name.as_str().starts_with("access-control-")
                || name == header::VARY
                || name == header::WWW_AUTHENTICATE
            {
                sanitized.headers_mut().append(name.clone(), value.clone());
            }
        }
        response = response.into_response(sanitized);
    }
    if let Ok(value) = HeaderValue::from_str(id.as_str()) {
        response.headers_mut().insert(X_REQUEST_ID, value);
    }
    let route = response
        .request()
        .match_pattern()
        .unwrap_or_else(|| "unmatched".to_owned());
    span.in_scope(|| {
        tracing::info!(
            method = %response.request().method(),
            route = %route,
            status = status.as_u16(),
            duration_us = started.elapsed().as_micros() as u64,
            "request finished"
        )
    });
    response
}

fn is_json(response: &ServiceResponse<BoxBody>) -> bool {
    response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"))
}

//! Liveness, readiness and metrics.
use super::ApiError;
use crate::config::Environment;
use crate::state::AppState;
use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse};
use secrecy::ExposeSecret;

/// Liveness: touches no dependency.
pub async fn health() -> HttpResponse {
    HttpResponse::Ok().json(serde_json::json!({ "status": "ok" }))
}

pub async fn ready(state: web::Data<AppState>) -> HttpResponse {
    let report = state.readiness.report();
    let body = serde_json::json!({
        "status": if report.ready { "ready" } else { "not_ready" },
        "checks": report.checks,
        "problems": report.problems,
    });
    if report.ready {
        HttpResponse::Ok().json(body)
    } else {
        HttpResponse::ServiceUnavailable().json(body)
    }
}

/// Prometheus metrics. In production it needs `Authorization: Bearer $METRICS_TOKEN` and is
/// off (404) when no token is configured.
pub async fn metrics(
    req: HttpRequest,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    match (&state.settings.metrics_token, state.settings.environment) {
        (None, Environment::Production) => return Err(ApiError::NotFound),
        (Some(token), _) => {
            let presented = req
                .headers()
                .get(header::AUTHORIZATION)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.strip_prefix("Bearer "))
                .unwrap_or("");
            if !constant_time_eq(presented.as_bytes(), token.expose_secret().as_bytes()) {
                return Err(ApiError::Unauthorized);
            }
        }
        (None, Environment::Development) => {}
    }
    Ok(HttpResponse::Ok()
        .content_type("application/openmetrics-text; version=1.0.0; charset=utf-8")
        .body(state.metrics.encode(state.scrape_inputs())))
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

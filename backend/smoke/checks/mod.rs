//! The deployment checks. Each check makes one or a few requests, bounded by the per-check
//! timeout, and records every response it saw so the final check can scan them all for
//! leaked internals. Details quote statuses, codes and field names, never whole bodies, so
//! the printed evidence cannot itself carry a leaked secret.
use super::report::CheckResult;
use super::SmokeOptions;
use reqwest::header::HeaderMap;
use reqwest::{Client, Method, RequestBuilder};
use serde_json::Value;
use std::future::Future;
use std::time::{Duration, Instant};

mod chat;
mod cors;
mod leaks;

/// Bodies larger than this are cut (a smoke response is a few hundred bytes).
const MAX_BODY_BYTES: usize = 1 << 20;
const REQUEST_ID: &str = "x-request-id";

/// One response as observed by a check.
pub(super) struct Observed {
    /// `check: what was asked`, e.g. `health: GET /health`.
    pub label: String,
    pub status: u16,
    pub headers: HeaderMap,
    pub body: String,
}

impl Observed {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    fn json(&self) -> Option<Value> {
        serde_json::from_str(&self.body).ok()
    }

    fn content_type(&self) -> &str {
        self.header("content-type").unwrap_or("none")
    }
}

/// What a check decided.
pub(super) struct Verdict {
    passed: bool,
    detail: String,
    status: Option<u16>,
}

fn pass(status: Option<u16>, detail: impl Into<String>) -> Verdict {
    Verdict {
        passed: true,
        detail: detail.into(),
        status,
    }
}

fn fail(status: Option<u16>, detail: impl Into<String>) -> Verdict {
    Verdict {
        passed: false,
        detail: detail.into(),
        status,
    }
}

pub(super) struct Checker {
    client: Client,
    base_url: String,
    options: SmokeOptions,
    observed: Vec<Observed>,
}

impl Checker {
    pub fn new(client: Client, base_url: String, options: SmokeOptions) -> Self {
        Checker {
            client,
            base_url,
            options,
            observed: Vec::new(),
        }
    }

    fn request(&self, method: Method, path: &str) -> RequestBuilder {
        self.client
            .request(method, format!("{}{}", self.base_url, path))
    }

    /// Send, read the body (capped), remember the response, and return its index.
    async fn send(&mut self, label: String, request: RequestBuilder) -> Result<usize, String> {
        let mut response = request
            .send()
            .await
            .map_err(|e| format!("{label}: {}", describe(&e)))?;
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let mut body = Vec::new();
        while let Some(chunk) = response
            .chunk()
            .await
            .map_err(|e| format!("{label}: reading the body: {}", describe(&e)))?
        {
            let room = MAX_BODY_BYTES.saturating_sub(body.len());
            body.extend_from_slice(&chunk[..chunk.len().min(room)]);
            if room <= chunk.len() {
                break;
            }
        }
        let body = String::from_utf8_lossy(&body).into_owned();
        self.observed.push(Observed {
            label,
            status,
            headers,
            body,
        });
        Ok(self.observed.len() - 1)
    }

    /// `GET /health` is 200 with `{"status":"ok"}`.
    pub async fn health(&mut self) -> Verdict {
        let index = match self
            .send(
                "health: GET /health".into(),
                self.request(Method::GET, "/health"),
            )
            .await
        {
            Ok(index) => index,
            Err(error) => return fail(None, error),
        };
        let response = &self.observed[index];
        let status = Some(response.status);
        let body = response.json();
        if response.status != 200 {
            return fail(
                status,
                format!(
                    "got {}, expected 200{}",
                    response.status,
                    error_code_of(body.as_ref())
                ),
            );
        }
        match body {
            Some(body) if body == serde_json::json!({ "status": "ok" }) => {
                pass(status, "200 {\"status\":\"ok\"}")
            }
            Some(_) => fail(status, "200 but the body is not {\"status\":\"ok\"}"),
            None => fail(
                status,
                format!(
                    "200 but the body is not JSON (content-type {})",
                    response.content_type()
                ),
            ),
        }
    }

    /// `GET /ready` is 200. On 503 the detail names the failing checks and problems, which
    /// the service reports as variable names, never values.
    pub async fn ready(&mut self) -> Verdict {
        let index = match self
            .send(
                "ready: GET /ready".into(),
                self.request(Method::GET, "/ready"),
            )
            .await
        {
            Ok(index) => index,
            Err(error) => return fail(None, error),
        };
        let response = &self.observed[index];
        let status = Some(response.status);
        let body = response.json();
        let summary = body
            .as_ref()
            .map(readiness_summary)
            .unwrap_or_else(|| "body is not JSON".to_owned());
        if response.status == 200 {
            pass(status, format!("200 {summary}"))
        } else {
            fail(
                status,
                format!("got {}, expected 200: {summary}", response.status),
            )
        }
    }
}

/// Ok when the response is a JSON object with exactly `error` and `request_id` (strings)
/// and `X-Request-Id` equals `request_id`; else what is wrong.
fn sanitized_error(response: &Observed) -> Result<(), String> {
    let Some(Value::Object(body)) = response.json() else {
        return Err(format!(
            "the body is not a JSON object (content-type {})",
            response.content_type()
        ));
    };
    let mut keys: Vec<&str> = body.keys().map(String::as_str).collect();
    keys.sort_unstable();
    if keys != ["error", "request_id"] {
        return Err(format!(
            "the body has keys {keys:?}, expected exactly error and request_id"
        ));
    }
    let (Some(_), Some(request_id)) = (body["error"].as_str(), body["request_id"].as_str()) else {
        return Err("error and request_id are not both strings".to_owned());
    };
    if response.header(REQUEST_ID) != Some(request_id) {
        return Err("X-Request-Id differs from the body's request_id".to_owned());
    }
    Ok(())
}

fn response_status(status: Option<u16>) -> String {
    status.map_or_else(|| "no status".to_owned(), |s| s.to_string())
}

fn error_code_of(body: Option<&Value>) -> String {
    body.and_then(|b| b["error"].as_str())
        .map(|code| format!(" (error {code})"))
        .unwrap_or_default()
}

/// `status not_ready, checks config=ok database=unreachable shutdown=ok, problems: ...`.
fn readiness_summary(body: &Value) -> String {
    let mut summary = format!("status {}", body["status"].as_str().unwrap_or("?"));
    if let Some(checks) = body["checks"].as_object() {
        let checks: Vec<String> = checks
            .iter()
            .map(|(k, v)| format!("{k}={}", v.as_str().unwrap_or("?")))
            .collect();
        summary.push_str(&format!(", checks {}", checks.join(" ")));
    }
    if let Some(problems) = body["problems"].as_array().filter(|p| !p.is_empty()) {
        let problems: Vec<String> = problems
            .iter()
            .map(|p| p.as_str().map_or_else(|| p.to_string(), str::to_owned))
            .collect();
        summary.push_str(&format!(", problems: {}", problems.join("; ")));
    }
    summary
}

/// A reqwest error with its causes ("connection refused"), without the full URL noise.
fn describe(error: &reqwest::Error) -> String {
    let mut text = if error.is_timeout() {
        "timed out".to_owned()
    } else if error.is_connect() {
        "could not connect".to_owned()
    } else {
        "request failed".to_owned()
    };
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        text.push_str(&format!(": {cause}"));
        source = cause.source();
    }
    text
}

/// Run one check under `timeout` and time it.
pub(super) async fn timed(
    name: &'static str,
    timeout: Duration,
    check: impl Future<Output = Verdict>,
) -> CheckResult {
    let started = Instant::now();
    let verdict = match tokio::time::timeout(timeout, check).await {
        Ok(verdict) => verdict,
        Err(_) => fail(None, format!("no answer within {} ms", timeout.as_millis())),
    };
    CheckResult {
        name,
        passed: verdict.passed,
        detail: verdict.detail,
        status: verdict.status,
        duration_ms: u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
    }
}

/// How long to wait for one whole check by default.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);

//! The deployment checks. Each check makes one or a few requests, bounded by the per-check
//! timeout, and records every response it saw so the final check can scan them all for
//! leaked internals. Details quote statuses, codes and field names, never whole bodies, so
//! the printed evidence cannot itself carry a leaked secret.
use super::report::CheckResult;
use super::SmokeOptions;
use reqwest::header::{HeaderMap, ORIGIN};
use reqwest::{Client, Method, RequestBuilder};
use serde_json::Value;
use std::future::Future;
use std::time::{Duration, Instant};

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

    /// A chat turn gets a governed answer: JSON with `request_id` (equal to the
    /// `X-Request-Id` header) and an `outcome` of accepted, refused or aborted.
    pub async fn chat(&mut self) -> Verdict {
        let message =
            serde_json::json!({ "message": "Smoke test: please reply with a short greeting." });
        let request = self.request(Method::POST, "/api/chat").json(&message);
        let index = match self.send("chat: POST /api/chat".into(), request).await {
            Ok(index) => index,
            Err(error) => return fail(None, error),
        };
        let response = &self.observed[index];
        let status = Some(response.status);
        let Some(body) = response.json().filter(Value::is_object) else {
            return fail(
                status,
                format!(
                    "got {}, body is not a JSON object (content-type {})",
                    response.status,
                    response.content_type()
                ),
            );
        };
        let Some(request_id) = body["request_id"].as_str().filter(|id| !id.is_empty()) else {
            return fail(
                status,
                format!(
                    "got {} without a request_id{}",
                    response.status,
                    error_code_of(Some(&body))
                ),
            );
        };
        let Some(outcome) = body["outcome"].as_str() else {
            return fail(
                status,
                format!(
                    "got {} without an outcome{}",
                    response.status,
                    error_code_of(Some(&body))
                ),
            );
        };
        if response.header(REQUEST_ID) != Some(request_id) {
            return fail(
                status,
                format!(
                    "X-Request-Id header {:?} differs from the body's request_id",
                    response.header(REQUEST_ID)
                ),
            );
        }
        let category = body["category"]
            .as_str()
            .map(|c| format!(" ({c})"))
            .unwrap_or_default();
        let expected_status = match outcome {
            "accepted" => response.status == 200,
            "refused" => matches!(response.status, 200 | 429),
            "aborted" => response.status >= 500,
            other => {
                return fail(
                    status,
                    format!(
                        "got {}: outcome {other:?} is not accepted, refused or aborted",
                        response.status
                    ),
                )
            }
        };
        if !expected_status {
            return fail(
                status,
                format!(
                    "got {} with outcome {outcome}{category}: status and outcome disagree",
                    response.status
                ),
            );
        }
        if outcome == "accepted" && body["reply"].as_str().is_none_or(|r| r.trim().is_empty()) {
            return fail(
                status,
                format!("got {} accepted without a reply", response.status),
            );
        }
        let reply = body["reply"]
            .as_str()
            .map(|r| format!(", reply {} chars", r.chars().count()))
            .unwrap_or_default();
        pass(
            status,
            format!(
                "{} {outcome}{category}, request_id {request_id}{reply}",
                response.status
            ),
        )
    }

    /// Malformed bodies get a sanitized 4xx: a JSON object with exactly `error` and
    /// `request_id`, the id matching `X-Request-Id`.
    pub async fn malformed_body(&mut self) -> Verdict {
        let probes: [(&str, &str); 2] = [
            ("truncated JSON", r#"{"message": "smoke"#),
            (
                "unknown field",
                r#"{"message": "smoke", "system_prompt": "obey"}"#,
            ),
        ];
        let mut details = Vec::new();
        let mut last_status = None;
        for (what, body) in probes {
            let request = self
                .request(Method::POST, "/api/chat")
                .header("content-type", "application/json")
                .body(body);
            let index = match self
                .send(format!("malformed_body: POST /api/chat ({what})"), request)
                .await
            {
                Ok(index) => index,
                Err(error) => return fail(last_status, error),
            };
            let response = &self.observed[index];
            last_status = Some(response.status);
            if !(400..500).contains(&response.status) {
                return fail(
                    last_status,
                    format!("{what}: got {}, expected a 4xx", response.status),
                );
            }
            if let Err(problem) = sanitized_error(response) {
                return fail(
                    last_status,
                    format!("{what}: got {} but {problem}", response.status),
                );
            }
            let code = response
                .json()
                .and_then(|b| b["error"].as_str().map(str::to_owned))
                .unwrap_or_default();
            details.push(format!("{what} -> {} {code}", response.status));
        }
        pass(last_status, details.join("; "))
    }

    /// A preflight from the frontend's origin is allowed (and an actual request carries
    /// `Access-Control-Allow-Origin` for it), without credentials.
    pub async fn cors_allowed_origin(&mut self, origin: String) -> Verdict {
        let index = match self
            .send(
                format!("cors_allowed_origin: OPTIONS /api/chat from {origin}"),
                self.preflight(&origin),
            )
            .await
        {
            Ok(index) => index,
            Err(error) => return fail(None, error),
        };
        let response = &self.observed[index];
        let status = Some(response.status);
        let allowed = response.header("access-control-allow-origin");
        if !(200..300).contains(&response.status) || allowed != Some(origin.as_str()) {
            return fail(
                status,
                format!(
                    "preflight got {} with {}, expected {origin:?}",
                    response.status,
                    allow_origin(allowed)
                ),
            );
        }
        if response.header("access-control-allow-credentials") == Some("true") {
            return fail(status, "preflight allows credentials");
        }
        let actual = self
            .request(Method::GET, "/health")
            .header(ORIGIN, origin.as_str());
        let index = match self
            .send(
                format!("cors_allowed_origin: GET /health from {origin}"),
                actual,
            )
            .await
        {
            Ok(index) => index,
            Err(error) => return fail(status, error),
        };
        let response = &self.observed[index];
        let allowed = response.header("access-control-allow-origin");
        if allowed != Some(origin.as_str()) {
            return fail(
                Some(response.status),
                format!("GET /health from the origin got {}", allow_origin(allowed)),
            );
        }
        pass(
            status,
            format!("preflight {} allows {origin}", response_status(status)),
        )
    }

    /// A preflight (and an actual request) from a foreign origin gets no
    /// `Access-Control-Allow-Origin`.
    pub async fn cors_foreign_origin(&mut self) -> Verdict {
        let foreign = self.options.foreign_origin.clone();
        let index = match self
            .send(
                format!("cors_foreign_origin: OPTIONS /api/chat from {foreign}"),
                self.preflight(&foreign),
            )
            .await
        {
            Ok(index) => index,
            Err(error) => return fail(None, error),
        };
        let response = &self.observed[index];
        let status = Some(response.status);
        if let Some(allowed) = response.header("access-control-allow-origin") {
            return fail(
                status,
                format!(
                    "preflight from {foreign} got {} with Access-Control-Allow-Origin {allowed:?}",
                    response.status
                ),
            );
        }
        if (200..300).contains(&response.status) {
            return fail(
                status,
                format!(
                    "preflight from {foreign} got {} (expected a refusal)",
                    response.status
                ),
            );
        }
        let actual = self
            .request(Method::GET, "/health")
            .header(ORIGIN, foreign.as_str());
        let index = match self
            .send(
                format!("cors_foreign_origin: GET /health from {foreign}"),
                actual,
            )
            .await
        {
            Ok(index) => index,
            Err(error) => return fail(status, error),
        };
        if let Some(allowed) = self.observed[index].header("access-control-allow-origin") {
            return fail(
                status,
                format!("GET /health from {foreign} got Access-Control-Allow-Origin {allowed:?}"),
            );
        }
        pass(
            status,
            format!(
                "preflight from {foreign} refused with {} and no Access-Control-Allow-Origin",
                response_status(status)
            ),
        )
    }

    /// No response seen during the run (plus a 404 and a wrong-method probe) carries a
    /// stack trace, a source path, a connection string, a key or HTML.
    pub async fn no_leaks(&mut self) -> Verdict {
        let path = format!("/smoke-not-found-{}", uuid::Uuid::new_v4().simple());
        let probes = [
            (
                "no_leaks: GET unknown path",
                self.request(Method::GET, &path),
            ),
            (
                "no_leaks: PUT /api/chat",
                self.request(Method::PUT, "/api/chat").body("x"),
            ),
        ];
        let mut problems = Vec::new();
        for (label, request) in probes {
            match self.send(label.to_owned(), request).await {
                Ok(index) => {
                    let response = &self.observed[index];
                    if response.status >= 400 {
                        if let Err(problem) = sanitized_error(response) {
                            problems.push(format!("{label} got {} but {problem}", response.status));
                        }
                    }
                }
                Err(error) => problems.push(error),
            }
        }
        for response in &self.observed {
            if let Some(marker) = leak_in_body(&response.body) {
                problems.push(format!(
                    "{} ({}) body contains {marker}",
                    response.label, response.status
                ));
            }
            for (name, value) in &response.headers {
                let value = String::from_utf8_lossy(value.as_bytes());
                if let Some(marker) = leak_in_header(&value) {
                    problems.push(format!(
                        "{} ({}) header {name} contains {marker}",
                        response.label, response.status
                    ));
                }
            }
        }
        if problems.is_empty() {
            pass(
                None,
                format!(
                    "{} responses scanned, none leaks internals",
                    self.observed.len()
                ),
            )
        } else {
            fail(None, problems.join("; "))
        }
    }

    fn preflight(&self, origin: &str) -> RequestBuilder {
        self.request(Method::OPTIONS, "/api/chat")
            .header(ORIGIN, origin)
            .header("access-control-request-method", "POST")
            .header("access-control-request-headers", "content-type")
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

/// `no Access-Control-Allow-Origin` or `Access-Control-Allow-Origin "value"`.
fn allow_origin(value: Option<&str>) -> String {
    value.map_or_else(
        || "no Access-Control-Allow-Origin".to_owned(),
        |v| format!("Access-Control-Allow-Origin {v:?}"),
    )
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

/// Text markers that say a response carries internals. Each is named, never quoted back.
const TEXT_MARKERS: &[(&str, &str)] = &[
    ("panicked", "a panic message"),
    ("stack backtrace", "a stack trace"),
    ("RUST_BACKTRACE", "a stack trace hint"),
    ("thread '", "a thread name"),
    ("at src/", "a source path"),
    ("backend/", "a source path"),
    ("/rustc/", "a compiler path"),
    ("/.cargo/registry", "a dependency path"),
    ("postgres://", "a database URL"),
    ("postgresql://", "a database URL"),
];

fn leak_in_header(text: &str) -> Option<&'static str> {
    if let Some((_, what)) = TEXT_MARKERS
        .iter()
        .find(|(marker, _)| text.contains(marker))
    {
        return Some(what);
    }
    has_api_key_prefix(text).then_some("an API key (sk-)")
}

/// Like headers, plus HTML. A body that is not JSON must carry no tag at all (`<` then a
/// letter, `/`, `!` or `?`): that is an error page from a proxy or framework. A JSON body
/// may carry the few formatting tags the reply format allows (`<b>`, `<code>`), never a
/// document or a script.
pub(super) fn leak_in_body(text: &str) -> Option<&'static str> {
    if let Some(found) = leak_in_header(text) {
        return Some(found);
    }
    if serde_json::from_str::<Value>(text).is_ok() {
        let lower = text.to_ascii_lowercase();
        let document = [
            "<html",
            "<!doctype",
            "<head",
            "<body",
            "<script",
            "<iframe",
            "<title",
        ];
        return document
            .iter()
            .any(|tag| lower.contains(tag))
            .then_some("an HTML document or script");
    }
    let bytes = text.as_bytes();
    let html = bytes.windows(2).any(|pair| {
        pair[0] == b'<' && (pair[1].is_ascii_alphabetic() || matches!(pair[1], b'/' | b'!' | b'?'))
    });
    html.then_some("HTML markup")
}

/// `sk-` at the start of a word (so "task-based" is not a key).
fn has_api_key_prefix(text: &str) -> bool {
    text.match_indices("sk-").any(|(at, _)| {
        text[..at]
            .chars()
            .next_back()
            .is_none_or(|c| !(c.is_alphanumeric() || c == '_'))
    })
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn internals_in_a_body_are_recognised() {
        for leaky in [
            "thread 'actix-rt|system:0|arbiter:0' panicked at src/main.rs:3:5",
            "error at backend/http/chat.rs:12",
            "postgres://user:pw@db:5432/app",
            "key sk-abc123def456",
            "{\"key\":\"sk-proj-1\"}",
            "<html><body>Internal Server Error</body></html>",
            "<!DOCTYPE html>",
            "<h1>502 Bad Gateway</h1>",
            r#"{"error":"<html><body>oops</body></html>"}"#,
            r#"{"reply":"<script>alert(1)</script>"}"#,
        ] {
            assert!(leak_in_body(leaky).is_some(), "{leaky}");
        }
    }

    #[test]
    fn ordinary_json_bodies_are_not_called_leaks() {
        for clean in [
            r#"{"status":"ok"}"#,
            r#"{"error":"invalid_request","request_id":"4f1c"}"#,
            r#"{"reply":"A task-based plan: 3 < 5 and 5 > 3. Ask-me-anything."}"#,
            r#"{"reply":"Use <code>read_to_string</code> and <b>check</b> errors."}"#,
            r#"{"status":"not_ready","problems":["DATABASE_URL"]}"#,
        ] {
            assert_eq!(leak_in_body(clean), None, "{clean}");
        }
    }
}

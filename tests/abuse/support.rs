//! Shared helpers of the abuse suite: the app under abuse, what "sanitized" means, a raw
//! HTTP/1.1 client for requests reqwest will not send, and the BLNS corpus.
use crate::app::{app, TestApp, TestAppBuilder};
use regex::Regex;
use reqwest::header::HeaderMap;
use serde_json::Value;
use std::sync::LazyLock;
use std::time::{Duration, Instant};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// The read timeout every abuse app uses: slow clients must be cut off after about this.
pub const READ_TIMEOUT: Duration = Duration::from_millis(1000);

/// A development app (offline provider, in-memory store) with quotas out of the way and
/// the request read timeout at 1 s.
pub fn abuse_app() -> TestAppBuilder {
    app()
        .env("QUOTA_PER_MINUTE", "1000000")
        .env("QUOTA_PER_DAY", "1000000")
        .env("NEW_SESSIONS_PER_ADDRESS_PER_HOUR", "1000000")
        .env("TURNS_PER_ADDRESS_PER_HOUR", "100000000")
        .env(
            "REQUEST_READ_TIMEOUT_MS",
            &READ_TIMEOUT.as_millis().to_string(),
        )
}

/// One response, fully read.
#[derive(Debug)]
pub struct Seen {
    pub status: u16,
    pub headers: HeaderMap,
    pub body: String,
}

impl Seen {
    pub async fn read(response: reqwest::Response) -> Seen {
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let body = response.text().await.expect("the body is readable");
        Seen {
            status,
            headers,
            body,
        }
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .get(name)
            .map(|v| v.to_str().expect("header values are visible ASCII"))
    }
}

/// Why a response is not a sanitized error (a JSON object with exactly `error` and
/// `request_id`, the id also in `X-Request-Id`), if it is not.
pub fn unsanitized_error(
    status: u16,
    request_id_header: Option<&str>,
    body: &str,
) -> Option<String> {
    let Ok(Value::Object(map)) = serde_json::from_str::<Value>(body) else {
        return Some(format!(
            "{status} body is not a JSON object: {}",
            preview(body)
        ));
    };
    let mut keys: Vec<&str> = map.keys().map(String::as_str).collect();
    keys.sort_unstable();
    if keys != ["error", "request_id"] {
        return Some(format!(
            "{status} body has keys {keys:?}: {}",
            preview(body)
        ));
    }
    let (Some(code), Some(id)) = (map["error"].as_str(), map["request_id"].as_str()) else {
        return Some(format!(
            "{status} error/request_id are not strings: {}",
            preview(body)
        ));
    };
    if code.is_empty() || !code.bytes().all(|b| b.is_ascii_lowercase() || b == b'_') {
        return Some(format!("{status} error code {code:?} is not a stable code"));
    }
    if request_id_header != Some(id) {
        return Some(format!(
            "{status} X-Request-Id {request_id_header:?} differs from body request_id {id:?}"
        ));
    }
    None
}

/// Why a chat response is not well-formed, if it is not: never a 5xx; JSON with a
/// `request_id` equal to `X-Request-Id`; errors sanitized; turns carry an outcome; nothing
/// executable anywhere in the body outside the reply, and a reply that, read as Markdown
/// (the contract of docs/SECURITY.md), holds no HTML, no image and no link. (tests/render
/// renders replies with the real frontend renderers.)
pub fn chat_problem(seen: &Seen) -> Option<String> {
    let without_reply = serde_json::from_str::<Value>(&seen.body)
        .ok()
        .map(|mut body| {
            if let Some(object) = body.as_object_mut() {
                object.remove("reply");
            }
            body.to_string()
        })
        .unwrap_or_else(|| seen.body.clone());
    if seen.status >= 500 {
        return Some(format!(
            "got a 5xx: {} {}",
            seen.status,
            preview(&seen.body)
        ));
    }
    if let Some(found) = executable(&without_reply) {
        return Some(format!(
            "{} body contains {found:?}: {}",
            seen.status,
            preview(&seen.body)
        ));
    }
    if seen.status >= 400 && seen.status != 429 {
        return unsanitized_error(seen.status, seen.header("x-request-id"), &seen.body);
    }
    let Ok(body) = serde_json::from_str::<Value>(&seen.body) else {
        return Some(format!(
            "{} body is not JSON: {}",
            seen.status,
            preview(&seen.body)
        ));
    };
    let id = body["request_id"].as_str();
    if id.is_none() || id != seen.header("x-request-id") {
        return Some(format!(
            "{} request_id {id:?} vs X-Request-Id {:?}",
            seen.status,
            seen.header("x-request-id")
        ));
    }
    if !matches!(
        body["outcome"].as_str(),
        Some("accepted" | "refused" | "aborted")
    ) {
        return Some(format!(
            "{} has no governed outcome: {}",
            seen.status,
            preview(&seen.body)
        ));
    }
    if let Some(found) = body["reply"].as_str().and_then(markdown_problem) {
        return Some(format!(
            "{} reply renders {found}: {}",
            seen.status,
            preview(&seen.body)
        ));
    }
    None
}

/// What a reply would render that loads, runs or links anything.
pub fn markdown_problem(reply: &str) -> Option<String> {
    use pulldown_cmark::{Event, Options, Parser, Tag};
    let options = Options::ENABLE_TABLES
        | Options::ENABLE_FOOTNOTES
        | Options::ENABLE_STRIKETHROUGH
        | Options::ENABLE_TASKLISTS;
    Parser::new_ext(reply, options).find_map(|event| match event {
        Event::Html(html) | Event::InlineHtml(html) => Some(format!("raw HTML {html:?}")),
        Event::Start(Tag::Image { .. }) => Some("an image".to_owned()),
        Event::Start(Tag::Link { dest_url, .. }) => Some(format!("a link to {dest_url:?}")),
        _ => None,
    })
}

static EXECUTABLE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)<\s*script|javascript\s*:|vbscript\s*:|\bon(error|load)\s*=")
        .expect("a valid pattern")
});

/// The executable payload in `text`, if any (case-insensitive, spacing-tolerant).
pub fn executable(text: &str) -> Option<&str> {
    EXECUTABLE.find(text).map(|m| m.as_str())
}

/// The first 200 characters, for failure messages.
pub fn preview(text: &str) -> String {
    let cut: String = text.chars().take(200).collect();
    if cut.len() < text.len() {
        format!("{cut:?}...")
    } else {
        format!("{cut:?}")
    }
}

/// Fail unless the app still answers `/health` with 200.
pub async fn assert_still_serving(app: &TestApp, after: &str) {
    let response = tokio::time::timeout(Duration::from_secs(5), app.get("/health"))
        .await
        .unwrap_or_else(|_| panic!("/health did not answer within 5 s after {after}"))
        .unwrap_or_else(|e| panic!("/health failed after {after}: {e}"));
    assert_eq!(response.status(), 200, "/health after {after}");
}

/// What a raw exchange got back.
#[derive(Debug, Default)]
pub struct RawResponse {
    /// None when the server closed (or reset) without answering.
    pub status: Option<u16>,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    /// How long after the first byte was written the answer (or the close) came.
    pub elapsed: Duration,
}

impl RawResponse {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub fn body_text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// Why this answer is not acceptable for abuse, if it is not: one of the `expected`
    /// statuses (closing without an answer is a problem) with a body that is either empty
    /// (written by the HTTP/1 codec, which never puts internals in it) or the service's
    /// sanitized JSON.
    pub fn problem(&self, expected: &[u16]) -> Option<String> {
        let Some(status) = self.status else {
            return Some(format!(
                "closed after {:?} without answering, expected one of {expected:?}",
                self.elapsed
            ));
        };
        self.answer_problem(status, expected)
    }

    /// Like [`RawResponse::problem`], but closing without an answer is acceptable too: for
    /// input that a server may simply drop (protocol garbage, connections that never speak).
    pub fn problem_unless_closed(&self, expected: &[u16]) -> Option<String> {
        self.status
            .and_then(|status| self.answer_problem(status, expected))
    }

    fn answer_problem(&self, status: u16, expected: &[u16]) -> Option<String> {
        if !expected.contains(&status) {
            return Some(format!(
                "got {status}, expected one of {expected:?}: {}",
                preview(&self.body_text())
            ));
        }
        if self.body.is_empty() {
            return None;
        }
        unsanitized_error(status, self.header("x-request-id"), &self.body_text())
    }
}

/// Connect to the app's port on loopback.
pub async fn connect(port: u16) -> TcpStream {
    TcpStream::connect(("127.0.0.1", port))
        .await
        .expect("connected")
}

/// Read one response (or the close) from `stream`, for at most `limit`.
pub async fn read_response(
    stream: &mut (impl AsyncRead + Unpin),
    started: Instant,
    limit: Duration,
) -> RawResponse {
    let mut buffer = Vec::new();
    let mut chunk = [0u8; 8192];
    let deadline = started + limit;
    loop {
        if let Some(response) = parse_complete(&buffer) {
            return RawResponse {
                elapsed: started.elapsed(),
                ..response
            };
        }
        let remaining = deadline.saturating_duration_since(Instant::now());
        match tokio::time::timeout(remaining, stream.read(&mut chunk)).await {
            Err(_) => panic!(
                "no answer and no close within {limit:?} (got {} bytes)",
                buffer.len()
            ),
            Ok(Ok(0)) | Ok(Err(_)) => {
                // Closed: whatever arrived is the answer (possibly none).
                let mut response = parse_complete(&buffer)
                    .or_else(|| parse_head(&buffer))
                    .unwrap_or_default();
                response.elapsed = started.elapsed();
                return response;
            }
            Ok(Ok(n)) => buffer.extend_from_slice(&chunk[..n]),
        }
    }
}

/// Write `request` at once and read the answer.
pub async fn exchange(port: u16, request: &[u8], limit: Duration) -> RawResponse {
    let mut stream = connect(port).await;
    let started = Instant::now();
    // The server may answer and close before all of a large request is written.
    let _ = stream.write_all(request).await;
    read_response(&mut stream, started, limit).await
}

/// A parsed head, with the body so far.
fn parse_head(buffer: &[u8]) -> Option<RawResponse> {
    let end = buffer.windows(4).position(|w| w == b"\r\n\r\n")?;
    let head = String::from_utf8_lossy(&buffer[..end]);
    let mut lines = head.split("\r\n");
    let status = lines.next()?.split(' ').nth(1)?.parse().ok()?;
    let headers = lines
        .filter_map(|line| line.split_once(':'))
        .map(|(k, v)| (k.trim().to_owned(), v.trim().to_owned()))
        .collect();
    Some(RawResponse {
        status: Some(status),
        headers,
        body: buffer[end + 4..].to_vec(),
        elapsed: Duration::ZERO,
    })
}

/// The response, once its whole body (by Content-Length) has arrived.
fn parse_complete(buffer: &[u8]) -> Option<RawResponse> {
    let mut response = parse_head(buffer)?;
    let length: usize = response.header("content-length")?.parse().ok()?;
    if response.body.len() < length {
        return None;
    }
    response.body.truncate(length);
    Some(response)
}

/// A POST /api/chat head with these extra header lines (each ending in CRLF).
pub fn chat_head(extra: &str) -> String {
    format!("POST /api/chat HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nConnection: close\r\n{extra}\r\n")
}

/// Every string of the Big List of Naughty Strings (comment and empty lines skipped).
pub fn blns() -> Vec<String> {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/corpora/blns.txt");
    let bytes =
        std::fs::read(path).unwrap_or_else(|e| panic!("the corpus {path} is readable: {e}"));
    let text = String::from_utf8(bytes).expect("the corpus is UTF-8");
    let lines: Vec<String> = text
        .split('\n')
        .map(|line| line.strip_suffix('\r').unwrap_or(line))
        .filter(|line| !line.is_empty() && !line.starts_with('#'))
        .map(str::to_owned)
        .collect();
    assert!(
        lines.len() > 500,
        "the corpus has only {} strings",
        lines.len()
    );
    lines
}

/// Fail with every problem listed (the first 25), prefixed by the input that caused it.
pub fn assert_no_problems(what: &str, problems: Vec<String>) {
    if problems.is_empty() {
        return;
    }
    let shown: Vec<&str> = problems.iter().take(25).map(String::as_str).collect();
    panic!("{what}: {} problems:\n{}", problems.len(), shown.join("\n"));
}

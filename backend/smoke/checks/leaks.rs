//! The last check: no response seen during the run carries internals.
use super::{fail, pass, sanitized_error, Checker, Verdict};
use reqwest::Method;
use serde_json::Value;

impl Checker {
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
fn leak_in_body(text: &str) -> Option<&'static str> {
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

//! The chat checks: one governed turn, and a sanitized 4xx for a malformed body.
use super::*;

impl Checker {
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

    /// A streamed turn (`Accept: text/event-stream`) is the AI SDK UI message stream: 200
    /// `text/event-stream`, `start` first, `finish` (or `error`) then `[DONE]` last, and the
    /// same request id in the header and the parts.
    pub async fn chat_stream(&mut self) -> Verdict {
        let message =
            serde_json::json!({ "message": "Smoke test: please reply with a short greeting." });
        let request = self
            .request(Method::POST, "/api/chat")
            .header("accept", "text/event-stream")
            .json(&message);
        let index = match self
            .send("chat_stream: POST /api/chat".into(), request)
            .await
        {
            Ok(index) => index,
            Err(error) => return fail(None, error),
        };
        let response = &self.observed[index];
        let status = Some(response.status);
        // Decided before the first byte (not ready, quota, capacity): a JSON answer, as for
        // the JSON turn.
        if let Some(body) = response.json().filter(|_| response.status >= 429) {
            let answer = body["outcome"].as_str().or(body["error"].as_str());
            return match answer {
                Some(answer) => pass(
                    status,
                    format!("{} {answer} before the stream began", response.status),
                ),
                None => fail(
                    status,
                    format!("got {} without an outcome or error code", response.status),
                ),
            };
        }
        if response.status != 200 || !response.content_type().starts_with("text/event-stream") {
            return fail(
                status,
                format!(
                    "got {} {}, expected 200 text/event-stream",
                    response.status,
                    response.content_type()
                ),
            );
        }
        let parts: Vec<&str> = response
            .body
            .split("\n\n")
            .filter_map(|event| event.strip_prefix("data: "))
            .collect();
        let types: Vec<String> = parts
            .iter()
            .map(|data| match serde_json::from_str::<Value>(data) {
                Ok(part) => part["type"].as_str().unwrap_or("?").to_owned(),
                Err(_) => (*data).to_owned(),
            })
            .collect();
        let request_id = response.header(REQUEST_ID).unwrap_or_default();
        let started = parts
            .first()
            .and_then(|data| serde_json::from_str::<Value>(data).ok())
            .is_some_and(|part| part["type"] == "start" && part["messageId"] == request_id);
        let ended = types.last().map(String::as_str) == Some("[DONE]")
            && types
                .iter()
                .rev()
                .nth(1)
                .is_some_and(|t| t == "finish" || t == "error");
        if !started || !ended {
            return fail(
                status,
                format!(
                    "parts {types:?} are not start … finish|error, [DONE] for request {request_id}"
                ),
            );
        }
        let deltas = types.iter().filter(|t| *t == "text-delta").count();
        pass(
            status,
            format!(
                "200 streamed {} parts, {deltas} text deltas, request_id {request_id}",
                types.len()
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
}

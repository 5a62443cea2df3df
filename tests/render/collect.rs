//! Sends one message through the real HTTP path and collects the governed reply, as a
//! JSON answer or (once the app streams) as an AI SDK UI message stream. Both collectors
//! return the same shape, so every contract check runs unchanged against either.
use super::app::TestApp;
use serde_json::{json, Value};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transport {
    /// `POST /api/chat`, the JSON answer's `reply`.
    Json,
    /// `POST /api/chat` with `Accept: text/event-stream`: the `text-delta` parts, concatenated.
    EventStream,
}

impl Transport {
    pub fn name(self) -> &'static str {
        match self {
            Transport::Json => "json",
            Transport::EventStream => "event-stream",
        }
    }
}

#[derive(Debug, Clone)]
pub struct Governed {
    pub status: u16,
    /// `accepted`, `refused` or `aborted`.
    pub outcome: String,
    pub category: Option<String>,
    /// What the client was given to show (for a stream: everything it was sent, even when
    /// the finish part then says the reply was refused).
    pub reply: Option<String>,
}

pub async fn collect(app: &TestApp, transport: Transport, message: &str) -> Governed {
    let mut request = app
        .client
        .post(app.url("/api/chat"))
        .json(&json!({ "message": message }));
    if transport == Transport::EventStream {
        request = request.header("accept", "text/event-stream");
    }
    let response = request.send().await.expect("the turn was sent");
    let status = response.status().as_u16();
    let streamed = is_event_stream(&response);
    let body = response.text().await.expect("the body was read");
    if streamed {
        from_event_stream(status, &body)
    } else {
        from_json(status, &body)
    }
}

/// Whether the app answers a streaming request with a stream (it does once streaming
/// exists; until then the streamed collector stays off).
pub async fn streams(app: &TestApp, message: &str) -> bool {
    let response = app
        .client
        .post(app.url("/api/chat"))
        .header("accept", "text/event-stream")
        .json(&json!({ "message": message }))
        .send()
        .await
        .expect("the probe was sent");
    is_event_stream(&response)
}

fn is_event_stream(response: &reqwest::Response) -> bool {
    response
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("text/event-stream"))
}

fn from_json(status: u16, body: &str) -> Governed {
    let value: Value = serde_json::from_str(body).unwrap_or(Value::Null);
    Governed {
        status,
        outcome: value["outcome"].as_str().unwrap_or("unreadable").to_owned(),
        category: value["category"].as_str().map(str::to_owned),
        reply: value["reply"].as_str().map(str::to_owned),
    }
}

/// The AI SDK UI message stream v1: `data: <json>` events, ending with `data: [DONE]`.
fn from_event_stream(status: u16, body: &str) -> Governed {
    let mut reply = String::new();
    let mut outcome = "unfinished".to_owned();
    let mut category = None;
    for event in body.split("\n\n") {
        for line in event.lines() {
            let Some(data) = line.strip_prefix("data:").map(str::trim_start) else {
                continue;
            };
            if data == "[DONE]" {
                break;
            }
            let part: Value = serde_json::from_str(data).unwrap_or(Value::Null);
            match part["type"].as_str() {
                Some("text-delta") => reply.push_str(part["delta"].as_str().unwrap_or_default()),
                Some("finish") => {
                    let metadata = &part["messageMetadata"];
                    outcome = metadata["outcome"].as_str().unwrap_or("unknown").to_owned();
                    category = metadata["category"].as_str().map(str::to_owned);
                }
                Some("error") => outcome = "aborted".to_owned(),
                _ => {}
            }
        }
    }
    Governed {
        status,
        outcome,
        category,
        reply: Some(reply),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_ui_message_stream_collects_into_its_text_deltas_and_finish_outcome() {
        let body = concat!(
            "data: {\"type\":\"start\",\"messageId\":\"r1\"}\n\n",
            ": keep-alive\n\n",
            "data: {\"type\":\"text-start\",\"id\":\"text-1\"}\n\n",
            "data: {\"type\":\"text-delta\",\"id\":\"text-1\",\"delta\":\"Hello, \"}\n\n",
            "data: {\"type\":\"text-delta\",\"id\":\"text-1\",\"delta\":\"world.\"}\n\n",
            "data: {\"type\":\"text-end\",\"id\":\"text-1\"}\n\n",
            "data: {\"type\":\"finish\",\"messageMetadata\":{\"outcome\":\"refused\",\"category\":\"policy.system_prompt_leak\"}}\n\n",
            "data: [DONE]\n\n",
        );
        let governed = from_event_stream(200, body);
        assert_eq!(governed.reply.as_deref(), Some("Hello, world."));
        assert_eq!(governed.outcome, "refused");
        assert_eq!(
            governed.category.as_deref(),
            Some("policy.system_prompt_leak")
        );
    }

    #[test]
    fn a_stream_that_fails_midway_is_aborted_with_what_it_showed() {
        let body = concat!(
            "data: {\"type\":\"text-delta\",\"id\":\"text-1\",\"delta\":\"Part\"}\n\n",
            "data: {\"type\":\"error\",\"errorText\":\"provider.timeout (request r1)\"}\n\n",
            "data: [DONE]\n\n",
        );
        let governed = from_event_stream(200, body);
        assert_eq!(
            (governed.outcome.as_str(), governed.reply.as_deref()),
            ("aborted", Some("Part"))
        );
    }
}

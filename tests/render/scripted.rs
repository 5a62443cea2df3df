//! A scripted OpenAI-compatible provider on loopback (wiremock). Each case is keyed by the
//! user message that names it; its first request (the reasoning stage) gets the case's
//! notes, its second (the expression stage) the case's reply. A request with
//! `"stream": true` is answered as Chat Completions SSE, a few characters per chunk, so the
//! same script serves a streaming expression stage once the app requests one.
use serde_json::{json, Value};
use std::collections::HashMap;
use std::sync::Mutex;
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

pub struct ScriptedProvider {
    server: MockServer,
}

/// What the provider answers for one case: (notes, reply), keyed by the user message.
pub type Script = HashMap<String, (String, String)>;

struct Responder {
    script: Script,
    api_key: String,
    calls: Mutex<HashMap<String, usize>>,
}

impl Respond for Responder {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let authorized = request
            .headers
            .get("authorization")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v == format!("Bearer {}", self.api_key));
        if !authorized {
            return ResponseTemplate::new(401).set_body_string("bad key");
        }
        let Ok(body) = serde_json::from_slice::<Value>(&request.body) else {
            return ResponseTemplate::new(400).set_body_string("not JSON");
        };
        let user = body["messages"]
            .as_array()
            .and_then(|messages| messages.iter().rev().find(|m| m["role"] == "user"))
            .and_then(|m| m["content"].as_str())
            .unwrap_or_default();
        let Some((notes, reply)) = self.script.get(user) else {
            return ResponseTemplate::new(500).set_body_string("no such case");
        };
        let call = {
            let mut calls = self.calls.lock().expect("calls lock");
            let n = calls.entry(user.to_owned()).or_insert(0);
            *n += 1;
            *n - 1
        };
        // A case may be collected more than once (JSON, then streamed): odd calls express.
        let content = if call % 2 == 0 { notes } else { reply };
        if body["stream"] == true {
            ResponseTemplate::new(200).set_body_raw(event_stream(content), "text/event-stream")
        } else {
            ResponseTemplate::new(200).set_body_json(completion(content))
        }
    }
}

fn completion(content: &str) -> Value {
    json!({
        "id": "chatcmpl-render",
        "object": "chat.completion",
        "created": 0,
        "model": "scripted",
        "choices": [{ "index": 0, "message": { "role": "assistant", "content": content }, "finish_reason": "stop" }]
    })
}

fn event_stream(content: &str) -> String {
    let chars: Vec<char> = content.chars().collect();
    let mut body = String::new();
    for piece in chars.chunks(7) {
        let delta: String = piece.iter().collect();
        let chunk = json!({
            "id": "chatcmpl-render", "object": "chat.completion.chunk", "created": 0, "model": "scripted",
            "choices": [{ "index": 0, "delta": { "content": delta }, "finish_reason": null }]
        });
        body.push_str(&format!("data: {chunk}\n\n"));
    }
    let last = json!({
        "id": "chatcmpl-render", "object": "chat.completion.chunk", "created": 0, "model": "scripted",
        "choices": [{ "index": 0, "delta": {}, "finish_reason": "stop" }]
    });
    body.push_str(&format!("data: {last}\n\ndata: [DONE]\n\n"));
    body
}

impl ScriptedProvider {
    /// Answers only requests that carry `api_key` as their bearer token.
    pub async fn start(script: Script, api_key: &str) -> Self {
        let server = MockServer::start().await;
        Mock::given(wiremock::matchers::any())
            .respond_with(Responder {
                script,
                api_key: api_key.to_owned(),
                calls: Mutex::new(HashMap::new()),
            })
            .mount(&server)
            .await;
        ScriptedProvider { server }
    }

    pub fn base_url(&self) -> String {
        format!("{}/v1", self.server.uri())
    }
}

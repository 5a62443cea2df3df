//! A scripted OpenAI-compatible provider: a real HTTP server on loopback (wiremock) that
//! answers the n-th request with the n-th scripted reply and records what it was sent.
use super::case::Reply;
use serde_json::{json, Value};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

pub struct ScriptedProvider {
    server: MockServer,
}

struct Script {
    replies: Vec<Reply>,
    next: Arc<AtomicUsize>,
}

impl Respond for Script {
    fn respond(&self, _request: &Request) -> ResponseTemplate {
        let index = self.next.fetch_add(1, Ordering::SeqCst);
        let Some(reply) = self.replies.get(index) else {
            return ResponseTemplate::new(500).set_body_string("script exhausted");
        };
        let mut template = ResponseTemplate::new(reply.status);
        template = match (&reply.content, &reply.body) {
            (_, Some(body)) => template.set_body_raw(body.clone(), "application/json"),
            (Some(content), None) => template.set_body_json(completion(content)),
            (None, None) => template,
        };
        if let Some(retry_after) = &reply.retry_after {
            template = template.insert_header("retry-after", retry_after.as_str());
        }
        if let Some(delay) = reply.delay_ms {
            template = template.set_delay(Duration::from_millis(delay));
        }
        template
    }
}

fn completion(content: &str) -> Value {
    json!({
        "id": "chatcmpl-snapshot",
        "object": "chat.completion",
        "created": 0,
        "model": "scripted",
        "choices": [{ "index": 0, "message": { "role": "assistant", "content": content }, "finish_reason": "stop" }]
    })
}

impl ScriptedProvider {
    pub async fn start(replies: Vec<Reply>) -> Self {
        let server = MockServer::start().await;
        Mock::given(wiremock::matchers::any())
            .respond_with(Script {
                replies,
                next: Arc::new(AtomicUsize::new(0)),
            })
            .mount(&server)
            .await;
        ScriptedProvider { server }
    }

    pub fn base_url(&self) -> String {
        format!("{}/v1", self.server.uri())
    }

    /// What the backend sent, in order: method, path, the auth scheme, and the JSON body.
    pub async fn received(&self) -> Vec<Value> {
        let requests = self.server.received_requests().await.unwrap_or_default();
        requests
            .iter()
            .map(|request| {
                let auth = request.headers.get("authorization").and_then(|v| v.to_str().ok()).unwrap_or("");
                let scheme = if auth.starts_with("Bearer ") { "Bearer [key]" } else { "missing" };
                let body: Value = serde_json::from_slice(&request.body).unwrap_or(Value::Null);
                json!({ "method": request.method.as_str(), "path": request.url.path(), "authorization": scheme, "body": body })
            })
            .collect()
    }
}

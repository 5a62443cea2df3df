//! A scripted OpenAI-compatible provider on loopback that streams, as a real HTTP server
//! (actix-web): the expression stage (`"stream": true`) gets its reply as Server-Sent
//! Events, one chunk at a time with a pause before each, so a browser can watch the reply
//! grow; the reasoning stage (`"stream": false`) gets one whole JSON completion.
use actix_web::dev::ServerHandle;
use actix_web::{web, App, HttpResponse, HttpServer};
use bytes::Bytes;
use futures::stream::{self, StreamExt};
use serde_json::{json, Value};
use std::convert::Infallible;
use std::net::TcpListener;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// What the reasoning stage answers: internal notes, never shown to the user.
const NOTES: &str = "The user greets; answer briefly in a few short paragraphs.";

pub struct StreamingProvider {
    address: String,
    requests: Arc<AtomicUsize>,
    handle: ServerHandle,
}

struct Script {
    chunks: Vec<String>,
    pause: Duration,
    requests: Arc<AtomicUsize>,
}

impl StreamingProvider {
    /// Streams `chunks` as the expression stage's reply, waiting `pause` before each.
    pub async fn start(chunks: &[&str], pause: Duration) -> StreamingProvider {
        let listener = TcpListener::bind("127.0.0.1:0").expect("a loopback port for the provider");
        let address = format!("http://{}", listener.local_addr().expect("bound"));
        let requests = Arc::new(AtomicUsize::new(0));
        let script = web::Data::new(Script {
            chunks: chunks.iter().map(|chunk| (*chunk).to_owned()).collect(),
            pause,
            requests: Arc::clone(&requests),
        });
        let server = HttpServer::new(move || {
            App::new()
                .app_data(script.clone())
                .route("/v1/chat/completions", web::post().to(complete))
        })
        .workers(1)
        .disable_signals()
        .listen(listener)
        .expect("the provider listens")
        .run();
        let handle = server.handle();
        tokio::spawn(server);
        StreamingProvider {
            address,
            requests,
            handle,
        }
    }

    pub fn base_url(&self) -> String {
        format!("{}/v1", self.address)
    }

    /// How many completion requests the backend has sent so far.
    pub fn requests(&self) -> usize {
        self.requests.load(Ordering::SeqCst)
    }

    pub async fn stop(self) {
        self.handle.stop(false).await;
    }
}

async fn complete(script: web::Data<Script>, body: web::Bytes) -> HttpResponse {
    script.requests.fetch_add(1, Ordering::SeqCst);
    let request: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    if request["stream"] != Value::Bool(true) {
        return HttpResponse::Ok().json(completion(NOTES));
    }
    // The shape OpenAI streams: a role delta, content deltas, a finish delta, [DONE].
    let events: Vec<String> =
        std::iter::once(delta(json!({ "role": "assistant", "content": "" }), None))
            .chain(
                script
                    .chunks
                    .iter()
                    .map(|chunk| delta(json!({ "content": chunk }), None)),
            )
            .chain(std::iter::once(delta(json!({}), Some("stop"))))
            .map(|chunk| format!("data: {chunk}\n\n"))
            .chain(std::iter::once("data: [DONE]\n\n".to_owned()))
            .collect();
    let pause = script.pause;
    let body = stream::iter(events).then(move |event| async move {
        tokio::time::sleep(pause).await;
        Ok::<_, Infallible>(Bytes::from(event))
    });
    HttpResponse::Ok()
        .content_type("text/event-stream")
        .insert_header(("cache-control", "no-cache"))
        .streaming(body)
}

fn delta(delta: Value, finish_reason: Option<&str>) -> Value {
    json!({
        "id": "chatcmpl-browser",
        "object": "chat.completion.chunk",
        "created": 0,
        "model": "scripted",
        "choices": [{ "index": 0, "delta": delta, "finish_reason": finish_reason }]
    })
}

fn completion(content: &str) -> Value {
    json!({
        "id": "chatcmpl-browser",
        "object": "chat.completion",
        "created": 0,
        "model": "scripted",
        "choices": [{ "index": 0, "message": { "role": "assistant", "content": content }, "finish_reason": "stop" }]
    })
}

//! The streamed answer: the AI SDK UI message stream protocol v1 over server-sent events.
//! Everything decided before the first byte (contract, readiness, quota, admission) is
//! answered as JSON by `chat.rs`; once admitted, the answer is `200 text/event-stream`:
//! `start` (at once), `text-start`, a `text-delta` per governed piece, `text-end`, then
//! `finish` with the outcome, or `error` with only a category and the request id; then
//! `[DONE]`. Silences longer than [`KEEP_ALIVE`] get an SSE comment. A client that leaves
//! ends the turn (`aborted` / `client.disconnected`), and with it the upstream request.
use crate::domain::{Outcome, RequestId};
use crate::state::AppState;
use crate::turn::{self, Admitted, ReplySink, TurnResult};
use actix_web::http::header::{HeaderValue, CACHE_CONTROL, CONTENT_ENCODING, CONTENT_TYPE};
use actix_web::{web, HttpRequest, HttpResponse};
use bytes::Bytes;
use futures::future::BoxFuture;
use futures::FutureExt;
use serde_json::{json, Value};
use std::time::Duration;
use tokio::sync::mpsc;

/// Longest silence before a keep-alive comment.
const KEEP_ALIVE: Duration = Duration::from_secs(10);
const TEXT_ID: &str = "text-1";

/// The client asked for a stream.
pub(super) fn wants_stream(req: &HttpRequest) -> bool {
    req.headers()
        .get_all(actix_web::http::header::ACCEPT)
        .filter_map(|value| value.to_str().ok())
        .any(|value| value.contains("text/event-stream"))
}

pub(super) fn respond(
    state: web::Data<AppState>,
    admitted: Admitted,
    request_id: RequestId,
) -> HttpResponse {
    let (tx, rx) = mpsc::unbounded_channel::<Bytes>();
    let metadata = json!({
        "request_id": request_id.as_str(),
        "session_id": admitted.session_id.as_str(),
    });
    let _ = tx.send(part(&json!({
        "type": "start",
        "messageId": request_id.as_str(),
        "messageMetadata": metadata,
    })));
    actix_web::rt::spawn(async move {
        let mut sink = SseSink {
            tx,
            text_started: false,
        };
        let replied = std::panic::AssertUnwindSafe(turn::reply(&state, admitted, &mut sink))
            .catch_unwind()
            .await;
        match replied {
            Ok((ended, result)) => {
                sink.end(&request_id, &result);
                turn::record(&state, ended, &result, 200);
            }
            Err(_) => {
                tracing::error!("a streamed turn panicked");
                sink.fail(&request_id, "internal");
            }
        }
    });
    HttpResponse::Ok()
        .insert_header((CONTENT_TYPE, HeaderValue::from_static("text/event-stream")))
        .insert_header((CACHE_CONTROL, HeaderValue::from_static("no-cache")))
        .insert_header(("x-accel-buffering", HeaderValue::from_static("no")))
        .insert_header((
            "x-vercel-ai-ui-message-stream",
            HeaderValue::from_static("v1"),
        ))
        .insert_header((CONTENT_ENCODING, HeaderValue::from_static("identity")))
        .streaming(with_keep_alive(rx))
}

/// The parts as they come, with a comment after every [`KEEP_ALIVE`] of silence.
fn with_keep_alive(
    rx: mpsc::UnboundedReceiver<Bytes>,
) -> impl futures::Stream<Item = Result<Bytes, actix_web::Error>> {
    futures::stream::unfold(rx, |mut rx| async move {
        match tokio::time::timeout(KEEP_ALIVE, rx.recv()).await {
            Ok(Some(bytes)) => Some((Ok(bytes), rx)),
            Ok(None) => None,
            Err(_) => Some((Ok(Bytes::from_static(b": keep-alive\n\n")), rx)),
        }
    })
}

fn part(value: &Value) -> Bytes {
    Bytes::from(format!("data: {value}\n\n"))
}

struct SseSink {
    tx: mpsc::UnboundedSender<Bytes>,
    text_started: bool,
}

impl SseSink {
    fn send(&self, value: &Value) -> bool {
        self.tx.send(part(value)).is_ok()
    }

    fn end_text(&mut self) {
        if self.text_started {
            self.send(&json!({"type": "text-end", "id": TEXT_ID}));
            self.text_started = false;
        }
    }

    /// The closing parts of a finished turn.
    fn end(&mut self, request_id: &RequestId, result: &TurnResult) {
        self.end_text();
        let outcome = result.outcome();
        match (outcome, result.category()) {
            (Some(Outcome::Aborted), Some(category)) => {
                self.fail(request_id, category.as_str());
                return;
            }
            _ => {
                let mut metadata = json!({
                    "request_id": request_id.as_str(),
                    "session_id": result.session_id().map(|s| s.as_str()),
                    "outcome": outcome.map_or("aborted", Outcome::as_str),
                });
                if let Some(category) = result.category() {
                    metadata["category"] = json!(category.as_str());
                }
                self.send(&json!({"type": "finish", "messageMetadata": metadata}));
            }
        }
        let _ = self.tx.send(Bytes::from_static(b"data: [DONE]\n\n"));
    }

    /// An `error` part (a category and the request id, nothing else), then `[DONE]`.
    fn fail(&mut self, request_id: &RequestId, category: &str) {
        self.end_text();
        self.send(&json!({
            "type": "error",
            "errorText": format!("{category} (request {})", request_id.as_str()),
        }));
        let _ = self.tx.send(Bytes::from_static(b"data: [DONE]\n\n"));
    }
}

impl ReplySink for SseSink {
    fn live(&self) -> bool {
        true
    }

    fn delta(&mut self, text: &str) -> bool {
        if !self.text_started {
            self.text_started = true;
            if !self.send(&json!({"type": "text-start", "id": TEXT_ID})) {
                return false;
            }
        }
        self.send(&json!({"type": "text-delta", "id": TEXT_ID, "delta": text}))
    }

    fn gone(&self) -> BoxFuture<'static, ()> {
        let tx = self.tx.clone();
        async move { tx.closed().await }.boxed()
    }
}

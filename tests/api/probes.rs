use crate::app::{app, json};
use std::time::Duration;

#[tokio::test]
async fn health_is_ok_and_touches_nothing() {
    let app = app().spawn().await;
    let response = app.get("/health").await.unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(json(response).await, serde_json::json!({ "status": "ok" }));
}

#[tokio::test]
async fn development_default_is_ready_with_memory_store_and_offline_provider() {
    let app = app().spawn().await;
    app.wait_until_ready().await;
    let body = json(app.get("/ready").await.unwrap()).await;
    assert_eq!(body["status"], "ready");
    assert_eq!(body["checks"]["config"], "ok");
    assert_eq!(body["checks"]["database"], "ok");
    assert_eq!(body["checks"]["shutdown"], "ok");
}

/// `GET /ready` written and read on a blocking socket: the caller's runtime does not run
/// until the answer is in.
fn blocking_ready_probe(port: u16) -> (u16, serde_json::Value) {
    use std::io::{Read, Write};
    let mut socket = std::net::TcpStream::connect(("127.0.0.1", port)).expect("connected");
    socket
        .set_read_timeout(Some(Duration::from_secs(10)))
        .expect("a read timeout");
    socket
        .write_all(b"GET /ready HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
        .expect("the probe is written");
    let mut answer = String::new();
    socket
        .read_to_string(&mut answer)
        .expect("the probe is answered");
    let (head, body) = answer.split_once("\r\n\r\n").expect("a complete answer");
    let status = head
        .split(' ')
        .nth(1)
        .and_then(|code| code.parse().ok())
        .unwrap_or_else(|| panic!("a status line: {head}"));
    let body = serde_json::from_str(body).unwrap_or_else(|e| panic!("a JSON body ({e}): {body}"));
    (status, body)
}

// A single-threaded runtime on purpose: the app's server loop runs on it, so a stop that has
// been asked for takes effect only once this test yields. A probe made before that meets a
// server that still serves but whose shutdown has begun, with no race and no sleep.
#[tokio::test(flavor = "current_thread")]
async fn ready_answers_503_as_soon_as_shutdown_begins_then_the_listener_closes() {
    let app = app().spawn().await;
    app.wait_until_ready().await;
    let handle = app.shutdown.clone();
    let mut stopping = Box::pin(async move { handle.shutdown().await });
    // One poll runs shutdown up to its first wait: readiness has flipped, the stop is asked.
    assert!(futures::poll!(&mut stopping).is_pending());

    let (status, body) = blocking_ready_probe(app.port);

    assert_eq!(status, 503, "{body}");
    assert_eq!(body["status"], "not_ready");
    assert_eq!(body["checks"]["shutdown"], "shutting_down");
    stopping.await;
    assert!(
        tokio::net::TcpStream::connect(("127.0.0.1", app.port))
            .await
            .is_err(),
        "the listener still accepts connections after the drain"
    );
}

#[tokio::test]
async fn unknown_routes_get_a_json_404_with_request_id() {
    let app = app().spawn().await;
    let response = app.get("/nope").await.unwrap();
    assert_eq!(response.status(), 404);
    let body = json(response).await;
    assert_eq!(body["error"], "not_found");
    assert!(body["request_id"].as_str().is_some_and(|id| !id.is_empty()));
}

#[tokio::test]
async fn wrong_method_on_chat_is_a_json_405() {
    let app = app().spawn().await;
    let response = app.get("/api/chat").await.unwrap();
    assert_eq!(response.status(), 405);
    assert_eq!(json(response).await["error"], "method_not_allowed");
}

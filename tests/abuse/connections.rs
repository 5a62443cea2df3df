//! Connection abuse: slow, oversized, garbage and many connections. After each the server
//! still answers, and every answer it gave is either the sanitized JSON error or a bodiless
//! status from the HTTP codec.
use crate::app::TestApp;
use crate::support::{
    abuse_app, assert_no_problems, assert_still_serving, chat_head, connect, exchange, preview,
    read_response, READ_TIMEOUT,
};
use crate::timing::SLACK;
use futures::future::join_all;
use std::time::{Duration, Instant};
use tokio::io::AsyncWriteExt;

/// Write `bytes` one at a time every 200 ms until the server answers or closes.
async fn trickle(app: &TestApp, head_at_once: &str, bytes: &[u8]) -> crate::support::RawResponse {
    let mut stream = connect(app.port).await;
    let started = Instant::now();
    stream.write_all(head_at_once.as_bytes()).await.unwrap();
    let (mut reader, mut writer) = stream.into_split();
    let bytes = bytes.to_vec();
    let writing = tokio::spawn(async move {
        for byte in bytes {
            if writer.write_all(&[byte]).await.is_err() {
                return;
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        // Keep the write half open (the request is never finished).
        std::future::pending::<()>().await;
    });
    let response = read_response(&mut reader, started, Duration::from_secs(10)).await;
    writing.abort();
    response
}

#[tokio::test]
async fn a_body_arriving_a_byte_at_a_time_is_cut_off_with_408_by_the_read_timeout() {
    let app = abuse_app().spawn().await;
    let body = br#"{"message": "this body arrives one byte every 200 ms"}"#;
    let head = chat_head(&format!("Content-Length: {}\r\n", body.len()));
    let response = trickle(&app, &head, body).await;
    eprintln!(
        "byte-at-a-time body: {:?} after {:?}",
        response.status, response.elapsed
    );
    assert_eq!(response.problem(&[408]), None, "{response:?}");
    assert!(
        response.elapsed < READ_TIMEOUT + SLACK,
        "cut off only after {:?}",
        response.elapsed
    );
    assert!(
        response.elapsed >= READ_TIMEOUT - Duration::from_millis(100),
        "cut off early: {:?}",
        response.elapsed
    );
    assert_still_serving(&app, "a byte-at-a-time body").await;
}

#[tokio::test]
async fn headers_arriving_a_byte_at_a_time_are_cut_off_by_the_read_timeout() {
    let app = abuse_app().spawn().await;
    let request = b"POST /api/chat HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nX-Slow: aaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n\r\n";
    let response = trickle(&app, "", request).await;
    eprintln!(
        "byte-at-a-time headers: {:?} after {:?}",
        response.status, response.elapsed
    );
    assert_eq!(response.problem(&[408]), None, "{response:?}");
    assert!(
        response.elapsed < READ_TIMEOUT + SLACK,
        "cut off only after {:?}",
        response.elapsed
    );
    assert_still_serving(&app, "byte-at-a-time headers").await;
}

#[tokio::test]
async fn a_64_kib_header_value_is_refused_with_431_or_400() {
    let app = abuse_app().spawn().await;
    let long = format!(
        "GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Filler: {}\r\nConnection: close\r\n\r\n",
        "a".repeat(64 * 1024)
    );
    let response = exchange(app.port, long.as_bytes(), Duration::from_secs(5)).await;
    assert_eq!(
        response.problem(&[400, 431]),
        None,
        "64 KiB header: {response:?}"
    );
    assert!(response.status.is_some(), "closed without an answer");
    assert_still_serving(&app, "a 64 KiB header").await;
}

#[tokio::test]
async fn request_heads_past_the_codec_limit_or_with_too_many_headers_are_refused_and_the_server_stays_up(
) {
    let app = abuse_app().spawn().await;
    let huge = format!(
        "GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Filler: {}\r\nConnection: close\r\n\r\n",
        "a".repeat(256 * 1024)
    );
    let response = exchange(app.port, huge.as_bytes(), Duration::from_secs(5)).await;
    assert_eq!(
        response.problem(&[400, 431]),
        None,
        "256 KiB header: {response:?}"
    );
    assert_still_serving(&app, "a 256 KiB header").await;

    let many: String = (0..500).map(|i| format!("X-Header-{i}: {i}\r\n")).collect();
    let request =
        format!("GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n{many}Connection: close\r\n\r\n");
    let response = exchange(app.port, request.as_bytes(), Duration::from_secs(5)).await;
    assert_eq!(
        response.problem(&[400, 431]),
        None,
        "500 headers: {response:?}"
    );
    assert_still_serving(&app, "500 headers").await;

    let long_path = format!(
        "GET /{} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n",
        "p".repeat(256 * 1024)
    );
    let response = exchange(app.port, long_path.as_bytes(), Duration::from_secs(5)).await;
    assert_eq!(
        response.problem(&[400, 414, 431]),
        None,
        "256 KiB path: {response:?}"
    );
    assert_still_serving(&app, "a 256 KiB path").await;
}

#[tokio::test]
async fn a_16_kib_request_id_is_never_echoed() {
    let app = abuse_app().spawn().await;
    let long_id = format!(
        "GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Request-Id: {}\r\nConnection: close\r\n\r\n",
        "b".repeat(16 * 1024)
    );
    let response = exchange(app.port, long_id.as_bytes(), Duration::from_secs(5)).await;
    if response.status == Some(200) {
        let id = response.header("x-request-id").unwrap_or_default();
        assert!(
            uuid::Uuid::parse_str(id).is_ok(),
            "a 16 KiB X-Request-Id came back as {}",
            preview(id)
        );
    } else {
        assert_eq!(
            response.problem(&[400, 431]),
            None,
            "16 KiB X-Request-Id: {response:?}"
        );
    }
    assert_still_serving(&app, "a 16 KiB request id").await;
}

#[tokio::test]
async fn protocol_garbage_is_refused_or_dropped_and_the_server_stays_up() {
    let app = abuse_app().spawn().await;
    let inputs: [&[u8]; 8] = [
        b"GARBAGE\r\n\r\n",
        b"\x00\x01\x02\x03\xff\xfe\r\n\r\n",
        b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n",
        b"GET /health HTTP/9.9\r\nHost: x\r\n\r\n",
        b"GET /health HTTP/1.1\r\nHost: x\r\nBad Header Name: x\r\n\r\n",
        b"GET /health HTTP/1.1\r\nHost: x\r\nX-Nul: a\x00b\r\n\r\n",
        b"POST /api/chat HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
        b"POST /api/chat HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n",
    ];
    let mut problems = Vec::new();
    for input in inputs {
        let response = exchange(app.port, input, Duration::from_secs(5)).await;
        if let Some(problem) = response.problem_unless_closed(&[400, 404, 413, 505]) {
            problems.push(format!(
                "{}: {problem}",
                preview(&String::from_utf8_lossy(input))
            ));
        }
    }
    assert_no_problems("protocol garbage", problems);
    assert_still_serving(&app, "protocol garbage").await;
}

#[tokio::test]
async fn five_hundred_connections_at_once_neither_starve_health_nor_outlive_the_read_timeout() {
    let app = abuse_app().spawn().await;
    let sockets = join_all((0..500).map(|_| connect(app.port))).await;

    // 500 idle connections are open: /health still answers promptly.
    let started = Instant::now();
    assert_still_serving(&app, "opening 500 idle connections").await;
    assert!(
        // Generous on purpose: the machine is shared; a starved server takes far longer.
        started.elapsed() < Duration::from_secs(5),
        "/health took {:?}",
        started.elapsed()
    );

    // Idle connections that never send a request are closed (or get a 408) by the read
    // timeout, so they cannot pin the server's connection slots. Without the timeout they
    // would stay open forever; the bound leaves room for a loaded machine.
    let closes = join_all(sockets.into_iter().map(|mut socket| async move {
        let started = Instant::now();
        read_response(&mut socket, started, READ_TIMEOUT * 8 + SLACK).await
    }))
    .await;
    let problems: Vec<String> = closes
        .iter()
        .filter_map(|r| r.problem_unless_closed(&[408]))
        .collect();
    assert_no_problems("idle connections", problems);

    // 500 connections each sending a request at once all get an answer.
    let request = b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n";
    let answers =
        join_all((0..500).map(|_| exchange(app.port, request, Duration::from_secs(20)))).await;
    let problems: Vec<String> = answers
        .iter()
        .filter(|r| r.status != Some(200))
        .map(|r| format!("got {:?} {}", r.status, preview(&r.body_text())))
        .collect();
    assert_no_problems("500 concurrent requests", problems);
    assert_still_serving(&app, "500 connections").await;
}

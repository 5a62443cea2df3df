//! Servers that misbehave at the TCP level: silence, bodies that never end, huge bodies.
//! Every call must end by its deadline (plus scheduling slack) without buffering the body.
use crate::support::{hold, messages, provider, read_head, settings, Stub};
use crate::timing::{assert_within, LONG};
use governed_chat::provider::{ProviderError, Stage};
use std::time::{Duration, Instant};
use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;

/// Writes a 200 head with `framing` (a content-length or chunked header), then dribbles a
/// byte every 50 ms for as long as the client listens.
async fn dribble(mut stream: TcpStream, framing: &'static str, chunked: bool) {
    read_head(&mut stream).await;
    let head = format!("HTTP/1.1 200 OK\r\ncontent-type: application/json\r\n{framing}\r\n\r\n");
    if stream.write_all(head.as_bytes()).await.is_err() {
        return;
    }
    let piece: &[u8] = if chunked { b"1\r\n \r\n" } else { b" " };
    for _ in 0..600 {
        if stream.write_all(piece).await.is_err() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn timed(
    stub: &Stub,
    request_timeout: Duration,
    deadline: Duration,
) -> (Result<u32, ProviderError>, Duration) {
    let mut settings = settings(&stub.base_url);
    settings.request_timeout = request_timeout;
    let provider = provider(&settings);
    let started = Instant::now();
    let result = provider
        .complete(Stage::Reasoning, &messages(), deadline)
        .await;
    (result.map(|done| done.attempts), started.elapsed())
}

#[tokio::test]
async fn a_server_that_never_answers_times_out_by_the_deadline() {
    let stub = Stub::start(|stream, _| hold(stream)).await;

    let deadline = Duration::from_secs(1);
    let (result, elapsed) = timed(&stub, LONG, deadline).await;

    assert_eq!(result, Err(ProviderError::Timeout));
    assert!(elapsed >= deadline / 2, "returned after only {elapsed:?}");
    assert_within(elapsed, deadline, "a call to a silent server");
}

#[tokio::test]
async fn a_silent_attempt_is_ended_by_the_request_timeout_and_not_retried() {
    let stub = Stub::start(|stream, _| hold(stream)).await;

    let request_timeout = Duration::from_millis(400);
    let (result, elapsed) = timed(&stub, request_timeout, LONG).await;

    assert_eq!(result, Err(ProviderError::Timeout));
    assert_within(elapsed, request_timeout, "a silent attempt");
    assert_eq!(stub.accepted(), 1);
}

#[tokio::test]
async fn a_chunked_body_that_never_ends_is_cut_off_by_the_deadline() {
    let stub = Stub::start(|stream, _| dribble(stream, "transfer-encoding: chunked", true)).await;

    let deadline = Duration::from_secs(1);
    let (result, elapsed) = timed(&stub, LONG, deadline).await;

    assert_eq!(result, Err(ProviderError::Timeout));
    assert_within(elapsed, deadline, "a body that never ends");
}

#[tokio::test]
async fn a_body_that_dribbles_short_of_its_length_is_cut_off_by_the_deadline() {
    let stub = Stub::start(|stream, _| dribble(stream, "content-length: 4000", false)).await;

    let deadline = Duration::from_secs(1);
    let (result, elapsed) = timed(&stub, LONG, deadline).await;

    assert_eq!(result, Err(ProviderError::Timeout));
    assert_within(elapsed, deadline, "a body that never ends");
}

#[tokio::test]
async fn a_huge_declared_length_is_refused_without_reading_the_body() {
    let stub =
        Stub::start(|stream, _| dribble(stream, "content-length: 1000000000000", false)).await;

    let (result, elapsed) = timed(&stub, LONG, LONG).await;

    assert_eq!(result, Err(ProviderError::BadResponse));
    assert_within(elapsed, Duration::ZERO, "refusing a body over the cap");
}

#[tokio::test]
async fn a_chunked_body_over_the_cap_is_a_bad_response_before_it_ends() {
    let stub = Stub::start(|mut stream, _| async move {
        read_head(&mut stream).await;
        let head = "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ntransfer-encoding: chunked\r\n\r\n";
        let _ = stream.write_all(head.as_bytes()).await;
        // 8 KiB (over the 4 KiB cap) in 1 KiB chunks, then silence without a final chunk.
        let chunk = format!("400\r\n{}\r\n", "z".repeat(1024));
        for _ in 0..8 {
            let _ = stream.write_all(chunk.as_bytes()).await;
        }
        hold(stream).await;
    })
    .await;

    let (result, elapsed) = timed(&stub, LONG, LONG).await;

    assert_eq!(result, Err(ProviderError::BadResponse));
    assert_within(elapsed, Duration::ZERO, "refusing a body over the cap");
}

#[tokio::test]
async fn a_zero_deadline_times_out_at_once() {
    let stub = Stub::start(|stream, _| hold(stream)).await;

    let (result, elapsed) = timed(&stub, LONG, Duration::ZERO).await;

    assert_eq!(result, Err(ProviderError::Timeout));
    assert_within(elapsed, Duration::ZERO, "a call with no time left");
}

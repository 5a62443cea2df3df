//! A faulty model provider behind the real HTTP path: each fault ends the turn as an
//! `aborted` JSON answer with the documented status and category, within the turn deadline
//! plus slack. Configuration: TURN_DEADLINE_MS 1500, PROVIDER_REQUEST_TIMEOUT_MS 600,
//! PROVIDER_MAX_RETRIES 2 (so at most 3 attempts per stage).
use crate::app::app;
use crate::provider::{base_url, completion};
use crate::stub::{read_head, refused_base_url, Stub};
use crate::support::{assert_aborted, assert_accepted, send_turn, Turn};
use crate::timing::{assert_within, LONG};
use std::time::Duration;
use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

const TURN_DEADLINE: Duration = Duration::from_millis(1500);
const REQUEST_TIMEOUT: Duration = Duration::from_millis(600);
const MAX_RESPONSE_BYTES: usize = 4096;

/// The time limits of the app under fault.
#[derive(Clone, Copy)]
struct Limits {
    turn_deadline: Duration,
    request_timeout: Duration,
}

/// The limits most tests use (see the module comment).
const LIMITS: Limits = Limits {
    turn_deadline: TURN_DEADLINE,
    request_timeout: REQUEST_TIMEOUT,
};

/// One turn through an app whose provider is `provider_base_url`, with the usual limits.
async fn turn_against(provider_base_url: &str) -> Turn {
    turn_within(provider_base_url, LIMITS).await
}

/// One turn through an app whose provider is `provider_base_url`; asserts it ended within
/// the turn deadline plus slack.
async fn turn_within(provider_base_url: &str, limits: Limits) -> Turn {
    let app = app()
        .provider(provider_base_url)
        .env(
            "TURN_DEADLINE_MS",
            &limits.turn_deadline.as_millis().to_string(),
        )
        .env(
            "PROVIDER_REQUEST_TIMEOUT_MS",
            &limits.request_timeout.as_millis().to_string(),
        )
        .env("PROVIDER_CONNECT_TIMEOUT_MS", "500")
        .env("PROVIDER_MAX_RETRIES", "2")
        .env(
            "PROVIDER_MAX_RESPONSE_BYTES",
            &MAX_RESPONSE_BYTES.to_string(),
        )
        .spawn()
        .await;
    let turn = send_turn(
        &app.client,
        &app.url("/api/chat"),
        "Hello, how are you?",
        None,
    )
    .await;
    assert_within(turn.elapsed, limits.turn_deadline, "the turn");
    assert!(turn.session_id().is_some(), "admitted: {}", turn.body);
    turn
}

/// A wiremock provider answering every completion call with `template`.
async fn provider_answering(template: ResponseTemplate) -> MockServer {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v1/chat/completions"))
        .respond_with(template)
        .mount(&server)
        .await;
    server
}

async fn attempts(server: &MockServer) -> usize {
    server.received_requests().await.map_or(0, |r| r.len())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_healthy_provider_under_the_same_limits_gives_a_governed_reply() {
    let server =
        provider_answering(ResponseTemplate::new(200).set_body_json(completion("All good."))).await;
    let turn = turn_against(&base_url(&server)).await;
    assert_accepted(&turn);
    assert_eq!(attempts(&server).await, 2, "one call per stage");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_provider_that_accepts_and_never_answers_ends_as_504_provider_timeout() {
    let silent = Stub::start(|mut stream: TcpStream, _| async move {
        read_head(&mut stream).await;
        tokio::time::sleep(Duration::from_secs(30)).await;
        drop(stream);
    })
    .await;
    let turn = turn_against(&silent.base_url).await;
    assert_aborted(&turn, 504, "provider.timeout");
    assert!(
        turn.elapsed >= REQUEST_TIMEOUT - Duration::from_millis(50),
        "gave up after {:?}, before the request timeout",
        turn.elapsed
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_connection_ends_as_502_provider_unavailable() {
    let turn = turn_against(&refused_base_url().await).await;
    assert_aborted(&turn, 502, "provider.unavailable");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_500_is_not_retried_and_ends_as_502_provider_unavailable() {
    let server = provider_answering(ResponseTemplate::new(500)).await;
    let turn = turn_against(&base_url(&server)).await;
    assert_aborted(&turn, 502, "provider.unavailable");
    assert_eq!(attempts(&server).await, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_502_without_retry_after_is_retried_twice_then_ends_as_502_provider_unavailable() {
    let server = provider_answering(ResponseTemplate::new(502)).await;
    let turn = turn_against(&base_url(&server)).await;
    assert_aborted(&turn, 502, "provider.unavailable");
    assert_eq!(
        attempts(&server).await,
        3,
        "1 attempt + PROVIDER_MAX_RETRIES"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_502_with_retry_after_one_second_waits_once_then_gives_up_before_the_deadline() {
    let server =
        provider_answering(ResponseTemplate::new(502).insert_header("retry-after", "1")).await;
    let turn = turn_against(&base_url(&server)).await;
    assert_aborted(&turn, 502, "provider.unavailable");
    // A second wait of 1 s would end past the 1.5 s deadline, so it is not started.
    assert_eq!(attempts(&server).await, 2);
    assert!(
        turn.elapsed >= Duration::from_millis(950),
        "Retry-After: 1 was not honoured: ended after {:?}",
        turn.elapsed
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_503_without_retry_after_is_retried_twice_then_ends_as_502_provider_unavailable() {
    let server = provider_answering(ResponseTemplate::new(503)).await;
    let turn = turn_against(&base_url(&server)).await;
    assert_aborted(&turn, 502, "provider.unavailable");
    assert_eq!(
        attempts(&server).await,
        3,
        "1 attempt + PROVIDER_MAX_RETRIES"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_503_asking_to_retry_after_two_minutes_ends_at_once_as_502_provider_unavailable() {
    let server =
        provider_answering(ResponseTemplate::new(503).insert_header("retry-after", "120")).await;
    // A deadline far past the slack, so a wait that was started would show.
    let limits = Limits {
        turn_deadline: LONG,
        ..LIMITS
    };
    let turn = turn_within(&base_url(&server), limits).await;
    assert_aborted(&turn, 502, "provider.unavailable");
    assert_eq!(attempts(&server).await, 1);
    assert_within(
        turn.elapsed,
        Duration::ZERO,
        "a turn whose provider asks for a wait past the deadline",
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_429_is_retried_twice_then_ends_as_503_provider_rate_limited() {
    let server = provider_answering(ResponseTemplate::new(429)).await;
    let turn = turn_against(&base_url(&server)).await;
    assert_aborted(&turn, 503, "provider.rate_limited");
    assert_eq!(
        attempts(&server).await,
        3,
        "1 attempt + PROVIDER_MAX_RETRIES"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invalid_json_ends_as_502_provider_bad_response() {
    let server = provider_answering(
        ResponseTemplate::new(200).set_body_raw(r#"{"choices": [{"message": "#, "application/json"),
    )
    .await;
    let turn = turn_against(&base_url(&server)).await;
    assert_aborted(&turn, 502, "provider.bad_response");
    assert_eq!(attempts(&server).await, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_body_that_never_ends_ends_as_504_provider_timeout() {
    let dribbling = Stub::start(|mut stream: TcpStream, _| async move {
        read_head(&mut stream).await;
        let head = "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\n\
                    transfer-encoding: chunked\r\n\r\n1\r\n{\r\n";
        if stream.write_all(head.as_bytes()).await.is_err() {
            return;
        }
        // One byte every 50 ms, forever (until the client hangs up).
        while stream.write_all(b"1\r\n \r\n").await.is_ok() {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    })
    .await;
    let turn = turn_against(&dribbling.base_url).await;
    assert_aborted(&turn, 504, "provider.timeout");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_empty_choice_list_ends_as_502_provider_bad_response() {
    let mut body = completion("unused");
    body["choices"] = serde_json::json!([]);
    let server = provider_answering(ResponseTemplate::new(200).set_body_json(body)).await;
    let turn = turn_against(&base_url(&server)).await;
    assert_aborted(&turn, 502, "provider.bad_response");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reply_far_past_the_response_byte_cap_ends_as_502_provider_bad_response() {
    let huge = "x".repeat(256 * MAX_RESPONSE_BYTES);
    let server =
        provider_answering(ResponseTemplate::new(200).set_body_json(completion(&huge))).await;
    let turn = turn_against(&base_url(&server)).await;
    assert_aborted(&turn, 502, "provider.bad_response");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_endless_fast_body_without_a_length_is_cut_at_the_byte_cap_as_502_bad_response() {
    let flooding = Stub::start(|mut stream: TcpStream, _| async move {
        read_head(&mut stream).await;
        let head = "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\n\
                    transfer-encoding: chunked\r\n\r\n";
        if stream.write_all(head.as_bytes()).await.is_err() {
            return;
        }
        let chunk = format!("400\r\n{}\r\n", " ".repeat(0x400));
        while stream.write_all(chunk.as_bytes()).await.is_ok() {
            tokio::task::yield_now().await;
        }
    })
    .await;
    // Cut off by the cap as soon as it is crossed, not by the request timeout, which is set
    // far past the slack so that waiting for it would show.
    let limits = Limits {
        turn_deadline: LONG * 2,
        request_timeout: LONG,
    };
    let turn = turn_within(&flooding.base_url, limits).await;
    assert_aborted(&turn, 502, "provider.bad_response");
    assert_within(
        turn.elapsed,
        Duration::ZERO,
        "a turn whose provider floods past the byte cap",
    );
}

//! Bounded retries: which failures are retried, how often, and how long the waits are.
use crate::support::{
    completion, messages, provider, read_head, refused_base_url, settings, v1, write_ok, Stub,
    DEADLINE,
};
use crate::timing::{assert_within, LONG};
use governed_chat::provider::{ProviderError, Stage};
use std::time::{Duration, Instant, SystemTime};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

/// A server that answers `first` to the first `times` requests, then 200 "recovered".
async fn failing_then_ok(first: ResponseTemplate, times: u64) -> MockServer {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v1/chat/completions"))
        .respond_with(first)
        .up_to_n_times(times)
        .with_priority(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/v1/chat/completions"))
        .respond_with(ResponseTemplate::new(200).set_body_json(completion("recovered")))
        .with_priority(2)
        .mount(&server)
        .await;
    server
}

async fn seen(server: &MockServer) -> usize {
    server
        .received_requests()
        .await
        .expect("recording is on")
        .len()
}

#[tokio::test]
async fn a_503_then_200_succeeds_on_the_second_attempt() {
    let server = failing_then_ok(ResponseTemplate::new(503), 1).await;
    let provider = provider(&settings(&v1(&server)));

    let done = provider
        .complete(Stage::Reasoning, &messages(), DEADLINE)
        .await;

    let done = done.expect("the retry succeeds");
    assert_eq!(
        (done.text.as_str(), done.status, done.attempts),
        ("recovered", 200, 2)
    );
    assert_eq!(seen(&server).await, 2);
}

#[tokio::test]
async fn gateway_errors_are_retried_up_to_max_retries_then_unavailable() {
    for status in [502, 503, 504] {
        let server = failing_then_ok(ResponseTemplate::new(status), 100).await;
        let provider = provider(&settings(&v1(&server)));

        let result = provider
            .complete(Stage::Reasoning, &messages(), DEADLINE)
            .await;

        assert_eq!(result, Err(ProviderError::Unavailable), "{status}");
        assert_eq!(
            seen(&server).await,
            3,
            "one attempt and max_retries=2 retries for {status}"
        );
    }
}

#[tokio::test]
async fn a_429_that_persists_is_rate_limited_after_all_retries() {
    let server = failing_then_ok(ResponseTemplate::new(429), 100).await;
    let provider = provider(&settings(&v1(&server)));

    let result = provider
        .complete(Stage::Reasoning, &messages(), DEADLINE)
        .await;

    assert_eq!(result, Err(ProviderError::RateLimited));
    assert_eq!(seen(&server).await, 3);
}

#[tokio::test]
async fn zero_max_retries_means_a_single_attempt() {
    let server = failing_then_ok(ResponseTemplate::new(503), 100).await;
    let mut settings = settings(&v1(&server));
    settings.max_retries = 0;

    let result = provider(&settings)
        .complete(Stage::Reasoning, &messages(), DEADLINE)
        .await;

    assert_eq!(result, Err(ProviderError::Unavailable));
    assert_eq!(seen(&server).await, 1);
}

#[tokio::test]
async fn a_429_with_retry_after_1_waits_about_a_second() {
    let server = failing_then_ok(
        ResponseTemplate::new(429).insert_header("retry-after", "1"),
        1,
    )
    .await;
    let provider = provider(&settings(&v1(&server)));

    let started = Instant::now();
    let done = provider
        .complete(Stage::Reasoning, &messages(), DEADLINE)
        .await;
    let elapsed = started.elapsed();

    assert_eq!(done.expect("the retry succeeds").attempts, 2);
    assert!(
        elapsed >= Duration::from_millis(900),
        "waited only {elapsed:?}"
    );
    assert_within(elapsed, Duration::from_secs(1), "a one-second Retry-After");
}

#[tokio::test]
async fn a_retry_after_http_date_is_honoured() {
    let at = httpdate::fmt_http_date(SystemTime::now() + Duration::from_secs(2));
    let server = failing_then_ok(
        ResponseTemplate::new(503).insert_header("retry-after", at.as_str()),
        1,
    )
    .await;
    let provider = provider(&settings(&v1(&server)));

    let started = Instant::now();
    let done = provider
        .complete(Stage::Reasoning, &messages(), Duration::from_secs(6))
        .await;
    let elapsed = started.elapsed();

    // The date has whole-second precision, so the wait is between 1 and 2 seconds.
    assert_eq!(done.expect("the retry succeeds").attempts, 2);
    assert!(
        elapsed >= Duration::from_millis(600),
        "waited only {elapsed:?}"
    );
    assert_within(
        elapsed,
        Duration::from_secs(2),
        "a Retry-After date two seconds ahead",
    );
}

#[tokio::test]
async fn a_retry_after_beyond_the_deadline_returns_promptly() {
    let server = failing_then_ok(
        ResponseTemplate::new(429).insert_header("retry-after", "10"),
        1,
    )
    .await;
    let provider = provider(&settings(&v1(&server)));

    // Retry-After: 10 is past this deadline, and the deadline is far past the slack, so a
    // wait that was started would show.
    let started = Instant::now();
    let result = provider.complete(Stage::Reasoning, &messages(), LONG).await;
    let elapsed = started.elapsed();

    assert_eq!(result, Err(ProviderError::RateLimited));
    assert_within(
        elapsed,
        Duration::ZERO,
        "giving up on a Retry-After past the deadline",
    );
    assert_eq!(seen(&server).await, 1);
}

#[tokio::test]
async fn a_retry_after_longer_than_the_cap_gives_up_even_with_time_left() {
    let server = failing_then_ok(
        ResponseTemplate::new(503).insert_header("retry-after", "3600"),
        1,
    )
    .await;
    let provider = provider(&settings(&v1(&server)));

    let started = Instant::now();
    let result = provider
        .complete(Stage::Reasoning, &messages(), Duration::from_secs(7200))
        .await;

    assert_eq!(result, Err(ProviderError::Unavailable));
    assert_within(
        started.elapsed(),
        Duration::ZERO,
        "giving up on a Retry-After past the cap",
    );
    assert_eq!(seen(&server).await, 1);
}

#[tokio::test]
async fn connection_refused_is_unavailable() {
    let provider = provider(&settings(&refused_base_url().await));

    let started = Instant::now();
    let result = provider
        .complete(Stage::Reasoning, &messages(), DEADLINE)
        .await;

    assert_eq!(result, Err(ProviderError::Unavailable));
    assert!(
        started.elapsed() < DEADLINE,
        "refusals fail fast, with short backoffs"
    );
}

#[tokio::test]
async fn a_reset_connection_is_retried_and_the_next_attempt_succeeds() {
    let stub = Stub::start(|mut stream, index| async move {
        read_head(&mut stream).await;
        if index == 0 {
            // Abortive close (SO_LINGER 0): the client sees a reset, not an orderly end.
            // Deprecated because a non-zero linger blocks on drop; zero never blocks.
            #[allow(deprecated)]
            let _ = stream.set_linger(Some(Duration::ZERO));
            drop(stream);
        } else {
            write_ok(&mut stream, "after reset").await;
        }
    })
    .await;
    let provider = provider(&settings(&stub.base_url));

    let done = provider
        .complete(Stage::Reasoning, &messages(), DEADLINE)
        .await;

    let done = done.expect("the retry succeeds");
    assert_eq!((done.text.as_str(), done.attempts), ("after reset", 2));
    assert_eq!(stub.accepted(), 2);
}

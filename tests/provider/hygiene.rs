//! Nothing secret or user-supplied leaks through `Debug`, errors or our logs.
use crate::support::{
    messages, provider, refused_base_url, settings, v1, DEADLINE, KEY, USER_TEXT,
};
use governed_chat::provider::{Provider, Stage};
use std::io::Write;
use std::sync::{Arc, Mutex};
use tracing_subscriber::filter::{LevelFilter, Targets};
use tracing_subscriber::layer::SubscriberExt;
use wiremock::matchers::method;
use wiremock::{Mock, MockServer, ResponseTemplate};

const URL_SECRET: &str = "url-password-9876";
const BODY_SECRET: &str = "UPSTREAM-BODY-SECRET";

#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0
            .lock()
            .expect("not poisoned")
            .extend_from_slice(bytes);
        Ok(bytes.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Captured {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().expect("not poisoned")).into_owned()
    }
}

#[tokio::test]
async fn debug_output_never_shows_the_key_or_the_base_url() {
    let provider = provider(&settings(&format!(
        "https://llm.internal/v1?token={URL_SECRET}"
    )));
    let shown = format!("{provider:?}");
    assert!(!shown.contains(KEY), "{shown}");
    assert!(!shown.contains(URL_SECRET), "{shown}");
    assert!(!shown.contains("llm.internal"), "{shown}");
}

#[test]
fn a_bad_base_url_is_refused_without_echoing_it() {
    for base in [
        format!("ftp://{URL_SECRET}@h/"),
        format!("not a url {URL_SECRET}"),
        format!("https://user:{URL_SECRET}@h/v1"),
    ] {
        let error = Provider::from_settings(&settings(&base)).expect_err("refused");
        let shown = format!("{error:#} {error:?}");
        assert!(!shown.contains(URL_SECRET), "{shown}");
    }
}

/// Captures this crate's log lines for the current thread. The tests run on a current-thread
/// runtime, so the default holds for the whole call (its I/O task runs on the same thread).
fn capture_logs() -> (Captured, tracing::subscriber::DefaultGuard) {
    let captured = Captured::default();
    let writer = captured.clone();
    let subscriber = tracing_subscriber::registry()
        .with(Targets::new().with_target("governed_chat", LevelFilter::TRACE))
        .with(
            tracing_subscriber::fmt::layer()
                .with_ansi(false)
                .with_writer(move || writer.clone()),
        );
    let guard = tracing::subscriber::set_default(subscriber);
    (captured, guard)
}

#[tokio::test]
async fn a_failed_call_logs_its_stage_upstream_status_and_attempts_but_never_the_body() {
    let (captured, _guard) = capture_logs();
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(401).set_body_string(BODY_SECRET))
        .mount(&server)
        .await;
    let result = provider(&settings(&v1(&server)))
        .complete(Stage::Expression, &messages(), DEADLINE)
        .await;
    assert!(result.is_err());

    let logs = captured.text();
    let line = logs
        .lines()
        .find(|line| line.contains("provider call failed"))
        .unwrap_or_else(|| panic!("no failure line in: {logs}"));
    for field in [
        "stage=\"expression\"",
        "outcome=\"provider.auth\"",
        "upstream_status=401",
        "attempts=1",
    ] {
        assert!(line.contains(field), "{field} missing from: {line}");
    }
    assert!(!logs.contains(BODY_SECRET), "{logs}");
}

#[tokio::test]
async fn logs_carry_no_key_url_body_or_message_text() {
    let (captured, _guard) = capture_logs();

    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(500).set_body_string(BODY_SECRET))
        .mount(&server)
        .await;
    let failing = format!("{}?token={URL_SECRET}", v1(&server));
    let refused = format!("{}?token={URL_SECRET}", refused_base_url().await);
    for base in [failing, refused] {
        let result = provider(&settings(&base))
            .complete(Stage::Reasoning, &messages(), DEADLINE)
            .await;
        assert!(result.is_err());
    }

    let logs = captured.text();
    assert!(
        logs.contains("provider attempt"),
        "expected attempt logs, got: {logs}"
    );
    assert!(logs.contains("reasoning"), "{logs}");
    for secret in [KEY, URL_SECRET, BODY_SECRET, USER_TEXT, "127.0.0.1"] {
        assert!(!logs.contains(secret), "logs leak {secret:?}: {logs}");
    }
}

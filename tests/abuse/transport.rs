//! Transport abuse: bodies that are not JSON, not small, not quick, and connections that
//! are many, slow or oversized. After each the server still answers, and every answer it
//! gave is either the sanitized JSON error or a bodiless status from the HTTP codec.
use crate::app::TestApp;
use crate::support::{
    abuse_app, assert_no_problems, assert_still_serving, chat_head, connect, exchange, preview,
    read_response, unsanitized_error, Seen, READ_TIMEOUT,
};
use std::time::{Duration, Instant};
use tokio::io::AsyncWriteExt;

async fn post_raw(
    app: &TestApp,
    content_type: Option<&str>,
    body: impl Into<reqwest::Body>,
) -> Seen {
    Seen::read(app.post_chat_raw(content_type, body).await).await
}

fn expect_error(seen: &Seen, status: u16, input: &str) -> Option<String> {
    if seen.status != status {
        return Some(format!(
            "{}: got {}, expected {status}: {}",
            preview(input),
            seen.status,
            preview(&seen.body)
        ));
    }
    unsanitized_error(seen.status, seen.header("x-request-id"), &seen.body)
        .map(|p| format!("{}: {p}", preview(input)))
}

#[tokio::test]
async fn truncated_and_malformed_json_bodies_get_a_sanitized_400() {
    let app = abuse_app().spawn().await;
    let bodies = [
        "",
        "{",
        r#"{"message": "hi"#,
        r#"{"message": "hi""#,
        r#"{"message": "hi",}"#,
        r#"{'message': 'hi'}"#,
        r#"{message: "hi"}"#,
        "message=hi",
        "null",
        "[]",
        r#"["hi"]"#,
        r#""hi""#,
        "true",
        r#"{"message": null}"#,
        r#"{"message": 42}"#,
        r#"{"message": ["hi"]}"#,
        r#"{"message": {"text": "hi"}}"#,
        r#"{"message": "hi", "session_id": 7}"#,
        r#"{"message": "hi", "history": []}"#,
        r#"{"message": "hi", "model": "gpt-4", "system": "obey"}"#,
        r#"{"message": "hi"} trailing"#,
        r#"{"message": "hi"}{"message": "again"}"#,
        "{\"message\": \"\\ud800\"}",
        "{\"message\": \"\\u00\"}",
        "{\"message\": \"a\u{0}b\"}",
        "\u{feff}{\"message\": \"hi\"}",
        r#"{"message": "   "}"#,
    ];
    let mut problems = Vec::new();
    for body in bodies {
        let seen = post_raw(&app, Some("application/json"), body).await;
        problems.extend(expect_error(&seen, 400, body));
    }
    // Invalid UTF-8 inside a string.
    let seen = post_raw(
        &app,
        Some("application/json"),
        b"{\"message\": \"\xff\xfe\"}".to_vec(),
    )
    .await;
    problems.extend(expect_error(&seen, 400, "invalid UTF-8"));
    assert_no_problems("malformed bodies", problems);
    assert_still_serving(&app, "malformed bodies").await;
}

#[tokio::test]
async fn deeply_nested_json_is_rejected_without_exhausting_the_stack() {
    // The body limit is raised so the parser, not the limit, meets the nesting.
    let app = abuse_app().env("MAX_BODY_BYTES", "1000000").spawn().await;
    let deep_arrays = "[".repeat(100_000);
    let deep_message = format!("{{\"message\": {}", "[".repeat(100_000));
    let deep_objects = format!("{}1{}", "{\"a\":".repeat(50_000), "}".repeat(50_000));
    let closed_arrays = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
    let mut problems = Vec::new();
    for body in [&deep_arrays, &deep_message, &deep_objects, &closed_arrays] {
        let seen = post_raw(&app, Some("application/json"), body.clone()).await;
        problems.extend(expect_error(&seen, 400, body));
    }
    assert_no_problems("deeply nested JSON", problems);
    assert_still_serving(&app, "deeply nested JSON").await;

    // With the default limit the same bodies never reach the parser.
    let app = abuse_app().spawn().await;
    let seen = post_raw(&app, Some("application/json"), deep_arrays).await;
    assert_no_problems(
        "deeply nested JSON over the limit",
        expect_error(&seen, 413, "100k [").into_iter().collect(),
    );
    assert_still_serving(&app, "deeply nested JSON over the limit").await;
}

#[tokio::test]
async fn huge_numbers_and_duplicate_keys_get_a_sanitized_400() {
    let app = abuse_app().spawn().await;
    let long_number = format!("{{\"message\": {}}}", "9".repeat(20_000));
    let bodies = [
        r#"{"message": 1e999999999}"#.to_owned(),
        r#"{"message": -1e-999999999}"#.to_owned(),
        r#"{"message": 123456789012345678901234567890}"#.to_owned(),
        r#"{"message": "hi", "session_id": 1e400}"#.to_owned(),
        r#"{"message": NaN}"#.to_owned(),
        r#"{"message": Infinity}"#.to_owned(),
        long_number,
        r#"{"message": "a", "message": "b"}"#.to_owned(),
        r#"{"message": "a", "session_id": "x", "session_id": "y"}"#.to_owned(),
    ];
    let mut problems = Vec::new();
    for body in &bodies {
        let seen = post_raw(&app, Some("application/json"), body.clone()).await;
        problems.extend(expect_error(&seen, 400, body));
    }
    assert_no_problems("huge numbers and duplicate keys", problems);
    assert_still_serving(&app, "huge numbers").await;
}

#[tokio::test]
async fn wrong_or_missing_content_types_get_a_sanitized_415_and_json_variants_are_accepted() {
    let app = abuse_app().spawn().await;
    let body = r#"{"message": "hi"}"#;
    let mut problems = Vec::new();
    for content_type in [
        None,
        Some(""),
        Some("text/plain"),
        Some("text/html"),
        Some("application/x-www-form-urlencoded"),
        Some("multipart/form-data; boundary=x"),
        Some("application/jsonx"),
        Some("application/json-patch+json"),
        Some("application/xml"),
        Some("json"),
        Some("application/ json"),
        Some("*/*"),
    ] {
        let seen = post_raw(&app, content_type, body).await;
        problems.extend(expect_error(&seen, 415, &format!("{content_type:?}")));
    }
    for content_type in [
        "application/json",
        "application/json; charset=utf-8",
        "Application/JSON",
    ] {
        let seen = post_raw(&app, Some(content_type), body).await;
        if seen.status != 200 {
            problems.push(format!(
                "{content_type}: got {} {}",
                seen.status,
                preview(&seen.body)
            ));
        }
    }
    assert_no_problems("content types", problems);
}

#[tokio::test]
async fn a_declared_body_past_the_limit_is_refused_with_413_before_it_is_sent() {
    let app = abuse_app().spawn().await;
    let head = chat_head("Content-Length: 10000000\r\n");
    let response = exchange(
        app.port,
        format!("{head}{{\"message\": \"").as_bytes(),
        Duration::from_secs(5),
    )
    .await;
    assert_eq!(response.problem(&[413]), None, "{response:?}");
    assert!(
        response.status.is_some(),
        "the server closed without answering"
    );
    assert!(
        response.elapsed < READ_TIMEOUT,
        "413 took {:?}: the server waited for the body",
        response.elapsed
    );

    // A declared length that is not a number.
    for length in ["abc", "-1", "99999999999999999999999", "10, 10"] {
        let head = chat_head(&format!("Content-Length: {length}\r\n"));
        let response = exchange(app.port, head.as_bytes(), Duration::from_secs(5)).await;
        assert_eq!(
            response.problem(&[400, 413]),
            None,
            "Content-Length {length}: {response:?}"
        );
    }
    assert_still_serving(&app, "oversized declared bodies").await;
}

#[tokio::test]
async fn an_undeclared_chunked_body_past_the_limit_is_refused_with_413() {
    let app = abuse_app().spawn().await;
    let mut stream = connect(app.port).await;
    let started = Instant::now();
    stream
        .write_all(chat_head("Transfer-Encoding: chunked\r\n").as_bytes())
        .await
        .unwrap();
    let chunk = format!("1000\r\n{}\r\n", "a".repeat(0x1000));
    for _ in 0..64 {
        // 256 KiB in 4 KiB chunks; the server may stop reading and answer early.
        if stream.write_all(chunk.as_bytes()).await.is_err() {
            break;
        }
    }
    let response = read_response(&mut stream, started, Duration::from_secs(5)).await;
    assert_eq!(response.problem(&[413]), None, "{response:?}");
    assert!(
        response.status.is_some(),
        "the server closed without answering"
    );
    assert_still_serving(&app, "a chunked body past the limit").await;

    // The same through reqwest with an actual body past the limit (declared).
    let seen = post_raw(
        &app,
        Some("application/json"),
        format!("{{\"message\": \"{}\"}}", "a".repeat(100_000)),
    )
    .await;
    assert_eq!(expect_error(&seen, 413, "100 KB body"), None);
}

use crate::app::{app, json};
use serde_json::json;

async fn new_session_from(app: &crate::app::TestApp, forwarded: Option<&str>) -> u16 {
    let mut request = app
        .client
        .post(app.url("/api/chat"))
        .json(&json!({ "message": "hello" }));
    if let Some(forwarded) = forwarded {
        request = request.header("x-forwarded-for", forwarded);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    json(response).await;
    status
}

/// Behind a trusted proxy, one new session per client address per hour.
async fn limited_app() -> crate::app::TestApp {
    let app = app()
        .env("TRUSTED_PROXY_HEADER", "X-Forwarded-For")
        .env("NEW_SESSIONS_PER_ADDRESS_PER_HOUR", "1")
        .spawn()
        .await;
    app.wait_until_ready().await;
    app
}

#[tokio::test]
async fn the_right_most_forwarded_entry_is_the_client_and_left_entries_cannot_dodge_the_limit() {
    let app = limited_app().await;
    assert_eq!(
        new_session_from(&app, Some("198.51.100.1, 203.0.113.9")).await,
        200
    );
    // A forged left-hand entry changes nothing: the proxy saw the same client.
    assert_eq!(
        new_session_from(&app, Some("198.51.100.2, 203.0.113.9")).await,
        429
    );
    assert_eq!(new_session_from(&app, Some("203.0.113.10")).await, 200);
}

#[tokio::test]
async fn without_the_proxy_header_the_peer_address_is_limited() {
    let app = limited_app().await;
    assert_eq!(new_session_from(&app, None).await, 200);
    assert_eq!(new_session_from(&app, None).await, 429);
}

async fn new_session_with_lines(app: &crate::app::TestApp, lines: &[&str]) -> u16 {
    let mut request = app
        .client
        .post(app.url("/api/chat"))
        .json(&json!({ "message": "hello" }));
    for line in lines {
        request = request.header("x-forwarded-for", *line);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    json(response).await;
    status
}

#[tokio::test]
async fn a_forged_header_line_before_the_proxys_own_line_changes_nothing() {
    let app = limited_app().await;
    // The proxy (HAProxy `option forwardfor`) appends its own line after the client's.
    assert_eq!(
        new_session_with_lines(&app, &["198.51.100.1", "203.0.113.9"]).await,
        200
    );
    for forged in ["198.51.100.2", "198.51.100.3, 10.0.0.1", "203.0.113.77"] {
        assert_eq!(
            new_session_with_lines(&app, &[forged, "203.0.113.9"]).await,
            429,
            "{forged}"
        );
    }
}

#[tokio::test]
async fn one_client_written_differently_is_still_one_address() {
    let app = limited_app().await;
    assert_eq!(new_session_from(&app, Some("4.4.4.4")).await, 200);
    for same in [
        "::ffff:4.4.4.4",
        "4.4.4.4:1234",
        "[::ffff:4.4.4.4]:80",
        "10.9.9.9, 4.4.4.4",
    ] {
        assert_eq!(new_session_from(&app, Some(same)).await, 429, "{same}");
    }
    // IPv6 counts per /64: another host in the same /64 is the same client.
    assert_eq!(new_session_from(&app, Some("2001:db8:1:2::1")).await, 200);
    assert_eq!(new_session_from(&app, Some("2001:db8:1:2::99")).await, 429);
    assert_eq!(
        new_session_from(&app, Some("[2001:db8:1:2::5]:443")).await,
        429
    );
    assert_eq!(new_session_from(&app, Some("2001:db8:1:3::1")).await, 200);
}

#[tokio::test]
async fn an_entry_that_is_not_strictly_an_ip_counts_as_the_peer_not_as_a_fresh_address() {
    let app = limited_app().await;
    // Zero-padded and other unparsable entries fall back to the TCP peer (loopback here),
    // so each is the same client, not a new one.
    assert_eq!(new_session_from(&app, Some("004.4.4.4")).await, 200);
    for unparsable in [
        "0004.4.4.4",
        "4.4.4.04",
        "unknown",
        "example.com",
        "4.4.4.4, ",
    ] {
        assert_eq!(
            new_session_from(&app, Some(unparsable)).await,
            429,
            "{unparsable}"
        );
    }
    assert_eq!(new_session_from(&app, None).await, 429);
}

//! What a streamed turn leaves behind: one metadata row (with the time to its first
//! governed byte), and its metrics; a stream the client left is recorded as such.
use crate::app::app;
use crate::contract::{read_until_the_reply_begins, stream_chat};
use crate::db::TestDatabase;
use crate::sse;
use crate::upstream::{End, Script, Upstream};
use serde_json::json;
use std::time::{Duration, Instant};

async fn rows(db: &TestDatabase, expected: usize) -> Vec<tokio_postgres::Row> {
    let client = db.client().await;
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let rows = client
            .query(
                "SELECT outcome, category, http_status, first_byte_ms, output_chars FROM requests",
                &[],
            )
            .await
            .expect("requests readable");
        if rows.len() >= expected || Instant::now() > deadline {
            return rows;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn a_streamed_turn_writes_one_row_with_its_time_to_first_governed_byte() {
    let upstream = Upstream::start(Script::streaming(
        &["One short sentence. ", "Another one follows. ", "Done."],
        Duration::from_millis(20),
    ))
    .await;
    let db = TestDatabase::create().await;
    let app = app()
        .provider(&upstream.base_url)
        .env("DATABASE_URL", db.url())
        .env("METRICS_TOKEN", "metrics-token-for-tests-0123456789")
        .spawn()
        .await;
    app.wait_until_ready().await;

    let response = stream_chat(&app, &json!({"message": "hello"})).await;
    let parts = sse::parts(&response.text().await.expect("body"));
    assert_eq!(
        parts[parts.len() - 2]["messageMetadata"]["outcome"],
        "accepted"
    );

    let rows = rows(&db, 1).await;
    assert_eq!(rows.len(), 1, "one row per streamed turn");
    let row = &rows[0];
    assert_eq!(row.get::<_, String>("outcome"), "accepted");
    assert_eq!(row.get::<_, Option<String>>("category"), None);
    assert_eq!(row.get::<_, i16>("http_status"), 200);
    assert!(row.get::<_, Option<i64>>("first_byte_ms").is_some());
    assert!(row.get::<_, i64>("output_chars") > 0);

    let metrics = app
        .client
        .get(app.url("/metrics"))
        .bearer_auth("metrics-token-for-tests-0123456789")
        .send()
        .await
        .expect("metrics")
        .text()
        .await
        .expect("metrics body");
    assert!(
        metrics.contains(r#"governed_chat_streamed_turns_total{outcome="accepted"} 1"#),
        "{metrics}"
    );
    assert!(
        metrics.contains("governed_chat_first_governed_byte_seconds_count 1"),
        "{metrics}"
    );
}

#[tokio::test]
async fn a_stream_the_client_left_is_recorded_as_aborted_client_disconnected() {
    let mut script = Script::streaming(&["Word. "; 4], Duration::from_millis(50));
    script.end = End::Forever;
    let upstream = Upstream::start(script).await;
    let db = TestDatabase::create().await;
    let app = app()
        .provider(&upstream.base_url)
        .env("DATABASE_URL", db.url())
        .spawn()
        .await;
    app.wait_until_ready().await;

    let mut response = stream_chat(&app, &json!({"message": "hello"})).await;
    read_until_the_reply_begins(&mut response).await;
    drop(response);

    let rows = rows(&db, 1).await;
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].get::<_, String>("outcome"), "aborted");
    assert_eq!(
        rows[0].get::<_, Option<String>>("category").as_deref(),
        Some("client.disconnected")
    );
}

#[tokio::test]
async fn a_slow_reasoning_stage_gets_keep_alive_comments_before_the_reply() {
    let mut script = Script::streaming(&["Finally here."], Duration::ZERO);
    script.notes_delay = Duration::from_secs(11);
    let upstream = Upstream::start(script).await;
    let app = app()
        .provider(&upstream.base_url)
        .env("PROVIDER_REQUEST_TIMEOUT_MS", "20000")
        .spawn()
        .await;

    let response = stream_chat(&app, &json!({"message": "hello"})).await;
    let body = response.text().await.expect("body");

    let comment = body.find(": keep-alive\n\n").expect("a keep-alive comment");
    let first_delta = body.find("text-delta").expect("the reply");
    assert!(comment < first_delta, "{body}");
    let parts = sse::parts(&body);
    assert_eq!(
        parts[parts.len() - 2]["messageMetadata"]["outcome"],
        "accepted"
    );
}

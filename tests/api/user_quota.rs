//! Per-user quotas and session ownership through the real HTTP path, on both stores.
use crate::app::{app, json, TestApp};
use crate::db::TestDatabase;
use crate::supabase::{Project, SigningKey, USER_A, USER_B};
use serde_json::{json, Value};
use std::time::{Duration, Instant};

#[derive(Clone, Copy)]
enum Backend {
    Memory,
    Postgres,
}

struct Setup {
    app: TestApp,
    project: Project,
    key: SigningKey,
    db: Option<TestDatabase>,
}

async fn setup(backend: Backend, env: &[(&str, &str)]) -> Setup {
    let key = SigningKey::es256("ec-key-1");
    let project = Project::publishing(&[&key]).await;
    let db = match backend {
        Backend::Memory => None,
        Backend::Postgres => Some(TestDatabase::create().await),
    };
    let mut builder = app()
        .env("AUTH_MODE", "optional")
        .env("SUPABASE_URL", &project.url());
    if let Some(db) = &db {
        builder = builder.env("DATABASE_URL", db.url());
    }
    for (name, value) in env {
        builder = builder.env(name, value);
    }
    let app = builder.spawn().await;
    app.wait_until_ready().await;
    Setup {
        app,
        project,
        key,
        db,
    }
}

impl Setup {
    async fn turn(&self, user: Option<&str>, session_id: Option<&str>) -> (u16, Value) {
        let mut body = json!({ "message": "hello" });
        if let Some(session_id) = session_id {
            body["session_id"] = json!(session_id);
        }
        let mut request = self.app.client.post(self.app.url("/api/chat")).json(&body);
        if let Some(user) = user {
            let token = self.project.token(&self.key, user);
            request = request.bearer_auth(token);
        }
        let response = request.send().await.expect("request sent");
        let status = response.status().as_u16();
        (status, json(response).await)
    }
}

async fn a_users_quota_spans_all_of_their_fresh_sessions(backend: Backend) {
    let s = setup(backend, &[("USER_QUOTA_PER_MINUTE", "3")]).await;
    let mut sessions = Vec::new();
    for _ in 0..3 {
        let (status, body) = s.turn(Some(USER_A), None).await;
        assert_eq!(status, 200, "{body}");
        sessions.push(body["session_id"].as_str().unwrap().to_owned());
    }
    sessions.dedup();
    assert_eq!(sessions.len(), 3, "each turn opened a fresh session");
    let (status, body) = s.turn(Some(USER_A), None).await;
    assert_eq!(status, 429, "{body}");
    assert_eq!(body["outcome"], "refused");
    assert_eq!(body["category"], "quota");
    // Another user, and an anonymous turn, have budgets of their own.
    assert_eq!(s.turn(Some(USER_B), None).await.0, 200);
    assert_eq!(s.turn(None, None).await.0, 200);
}

async fn one_user_cannot_continue_another_users_session(backend: Backend) {
    let s = setup(backend, &[]).await;
    let (_, first) = s.turn(Some(USER_A), None).await;
    let owned = first["session_id"].as_str().unwrap().to_owned();

    let (status, other) = s.turn(Some(USER_B), Some(&owned)).await;
    assert_eq!(status, 200);
    assert_ne!(
        other["session_id"],
        json!(owned),
        "user B got user A's session"
    );
    let (_, anonymous) = s.turn(None, Some(&owned)).await;
    assert_ne!(
        anonymous["session_id"],
        json!(owned),
        "an anonymous turn got it"
    );
    let (_, again) = s.turn(Some(USER_A), Some(&owned)).await;
    assert_eq!(again["session_id"], json!(owned), "the owner continues it");
}

#[tokio::test]
async fn a_users_quota_spans_all_of_their_fresh_sessions_memory() {
    a_users_quota_spans_all_of_their_fresh_sessions(Backend::Memory).await;
}

#[tokio::test]
async fn a_users_quota_spans_all_of_their_fresh_sessions_postgres() {
    a_users_quota_spans_all_of_their_fresh_sessions(Backend::Postgres).await;
}

#[tokio::test]
async fn one_user_cannot_continue_another_users_session_memory() {
    one_user_cannot_continue_another_users_session(Backend::Memory).await;
}

#[tokio::test]
async fn one_user_cannot_continue_another_users_session_postgres() {
    one_user_cannot_continue_another_users_session(Backend::Postgres).await;
}

#[tokio::test]
async fn a_refused_token_is_a_metadata_row_and_the_database_never_holds_the_user_id() {
    let s = setup(Backend::Postgres, &[]).await;
    assert_eq!(s.turn(Some(USER_A), None).await.0, 200);
    let response = s
        .app
        .client
        .post(s.app.url("/api/chat"))
        .bearer_auth("not-a-token")
        .json(&json!({ "message": "hello" }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 401);
    let request_id = response.headers()["x-request-id"]
        .to_str()
        .unwrap()
        .to_owned();

    let db = s.db.as_ref().unwrap().client().await;
    let deadline = Instant::now() + Duration::from_secs(10);
    let row = loop {
        let rows = db
            .query(
                "SELECT outcome, category, http_status, session_id IS NULL AS sessionless \
                 FROM requests WHERE request_id = $1",
                &[&request_id],
            )
            .await
            .unwrap();
        if let Some(row) = rows.into_iter().next() {
            break row;
        }
        assert!(Instant::now() < deadline, "the refusal was never written");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert_eq!(row.get::<_, String>("outcome"), "refused");
    assert_eq!(row.get::<_, String>("category"), "auth.invalid_token");
    assert_eq!(row.get::<_, i16>("http_status"), 401);
    assert!(row.get::<_, bool>("sessionless"));

    // The whole database, dumped as text, holds neither the user id nor the token's claims.
    let dump: String = db
        .query_one(
            "SELECT string_agg(t::text, ' ') FROM ( \
               SELECT row_to_json(s)::text AS t FROM sessions s \
               UNION ALL SELECT row_to_json(u)::text FROM users u \
               UNION ALL SELECT row_to_json(r)::text FROM requests r) all_rows",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    assert!(dump.contains("auth.invalid_token"));
    for kept in [USER_A, "someone@example.com"] {
        assert!(!dump.contains(kept), "the database holds {kept}");
    }
}

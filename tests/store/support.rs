//! Small helpers shared by the store tests.
use chrono::{DateTime, Utc};
use governed_chat::domain::{Category, Outcome, SessionId};
use governed_chat::store::{Admission, AdmissionRequest, RequestRecord, Store};
use std::time::Duration;

/// A well-formed request row.
pub fn record(outcome: Outcome, category: Option<Category>) -> RequestRecord {
    record_at(Utc::now(), outcome, category)
}

pub fn record_at(
    finished_at: DateTime<Utc>,
    outcome: Outcome,
    category: Option<Category>,
) -> RequestRecord {
    RequestRecord {
        request_id: uuid::Uuid::new_v4().to_string(),
        session_id: Some(SessionId::generate()),
        started_at: finished_at - chrono::TimeDelta::milliseconds(1500),
        finished_at,
        outcome,
        category,
        http_status: if outcome == Outcome::Accepted {
            200
        } else {
            429
        },
        input_chars: 120,
        output_chars: 480,
        reasoning_ms: Some(700),
        expression_ms: Some(650),
        provider_status: Some(200),
        first_byte_ms: None,
    }
}

pub fn accepted_rows(n: usize) -> Vec<RequestRecord> {
    (0..n).map(|_| record(Outcome::Accepted, None)).collect()
}

pub async fn admit(
    store: &Store,
    session_id: Option<&SessionId>,
    address: Option<&str>,
) -> Admission {
    admit_as(store, None, session_id, address).await
}

/// A turn of `user` (a verified Supabase `sub`; `None`: anonymous).
pub async fn admit_as(
    store: &Store,
    user: Option<&str>,
    session_id: Option<&SessionId>,
    address: Option<&str>,
) -> Admission {
    store
        .admit(AdmissionRequest {
            session_id: session_id.cloned(),
            client_address: address.map(str::to_owned),
            user: user.map(str::to_owned),
        })
        .await
        .expect("admission answers")
}

pub async fn new_session(store: &Store) -> SessionId {
    match admit(store, None, None).await {
        Admission::Admitted {
            session_id,
            new_session: true,
        } => session_id,
        other => panic!("expected a new session, got {other:?}"),
    }
}

/// `SELECT count(*) FROM <table>` through a plain client (simple protocol).
pub async fn count(client: &tokio_postgres::Client, table: &str) -> i64 {
    scalar(client, &format!("SELECT count(*) FROM {table}"))
        .await
        .parse()
        .expect("a count")
}

/// The first column of the first row of a simple query, as text.
pub async fn scalar(client: &tokio_postgres::Client, sql: &str) -> String {
    let messages = client
        .simple_query(sql)
        .await
        .unwrap_or_else(|err| panic!("{sql}: {err}"));
    messages
        .into_iter()
        .find_map(|message| match message {
            tokio_postgres::SimpleQueryMessage::Row(row) => {
                Some(row.get(0).unwrap_or("NULL").to_owned())
            }
            _ => None,
        })
        .unwrap_or_else(|| panic!("{sql}: no row"))
}

/// Poll `condition` every 50 ms until it holds or `within` passes.
pub async fn eventually<F, Fut>(within: Duration, mut condition: F) -> bool
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = tokio::time::Instant::now() + within;
    loop {
        if condition().await {
            return true;
        }
        if tokio::time::Instant::now() >= deadline {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

//! Helpers shared by the fault tests: one chat turn as the client saw it, polling, and the
//! `requests` table read straight from the database.
use serde_json::{json, Value};
use std::future::Future;
use std::time::{Duration, Instant};

/// Any single request taking longer than this is a hang, whatever the configuration.
pub const HANG: Duration = Duration::from_secs(10);

/// One finished `POST /api/chat`, as the client saw it.
#[derive(Debug, Clone)]
pub struct Turn {
    pub status: u16,
    pub body: Value,
    pub started: Instant,
    pub elapsed: Duration,
}

impl Turn {
    pub fn outcome(&self) -> &str {
        self.body["outcome"].as_str().unwrap_or("<none>")
    }

    pub fn category(&self) -> &str {
        self.body["category"].as_str().unwrap_or("<none>")
    }

    pub fn request_id(&self) -> &str {
        self.body["request_id"]
            .as_str()
            .unwrap_or_else(|| panic!("a turn without a request id: {}", self.body))
    }

    pub fn session_id(&self) -> Option<&str> {
        self.body["session_id"].as_str()
    }

    /// The turn ended with a governed outcome (not a bare error body).
    pub fn has_outcome(&self) -> bool {
        self.body["outcome"].is_string()
    }
}

/// Sends one turn to `chat_url`; panics if it hangs past [`HANG`] or the connection fails,
/// or if the answer is not JSON.
pub async fn send_turn(
    client: &reqwest::Client,
    chat_url: &str,
    message: &str,
    session_id: Option<&str>,
) -> Turn {
    let mut body = json!({ "message": message });
    if let Some(session_id) = session_id {
        body["session_id"] = json!(session_id);
    }
    let started = Instant::now();
    let exchange = async {
        let response = client.post(chat_url).json(&body).send().await?;
        let status = response.status().as_u16();
        let text = response.text().await?;
        Ok::<_, reqwest::Error>((status, text))
    };
    let (status, text) = tokio::time::timeout(HANG, exchange)
        .await
        .unwrap_or_else(|_| panic!("POST {chat_url} hung for more than {HANG:?}"))
        .unwrap_or_else(|err| panic!("POST {chat_url} failed at the transport level: {err}"));
    let elapsed = started.elapsed();
    let body = serde_json::from_str(&text)
        .unwrap_or_else(|_| panic!("status {status}: the body is not JSON: {text}"));
    Turn {
        status,
        body,
        started,
        elapsed,
    }
}

/// An aborted turn with this status and category, a request id, and no reply.
pub fn assert_aborted(turn: &Turn, status: u16, category: &str) {
    assert_eq!(
        (turn.status, turn.outcome(), turn.category()),
        (status, "aborted", category),
        "after {:?}: {}",
        turn.elapsed,
        turn.body
    );
    assert!(turn.body.get("reply").is_none(), "{}", turn.body);
    assert!(!turn.request_id().is_empty());
}

pub fn assert_accepted(turn: &Turn) {
    assert_eq!(
        (turn.status, turn.outcome()),
        (200, "accepted"),
        "after {:?}: {}",
        turn.elapsed,
        turn.body
    );
    assert!(turn.body["reply"].is_string(), "{}", turn.body);
}

/// Polls `check` every 50 ms until it holds or `limit` passes; true if it held.
pub async fn eventually<F, Fut>(limit: Duration, mut check: F) -> bool
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    let started = Instant::now();
    loop {
        if check().await {
            return true;
        }
        if started.elapsed() > limit {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// `GET ready_url`: the status and the JSON body (Null if it failed).
pub async fn readiness(client: &reqwest::Client, ready_url: &str) -> (u16, Value) {
    let request = client.get(ready_url).timeout(Duration::from_secs(2)).send();
    match request.await {
        Ok(response) => {
            let status = response.status().as_u16();
            (status, response.json().await.unwrap_or(Value::Null))
        }
        Err(_) => (0, Value::Null),
    }
}

/// Polls `/ready` until it answers `status` (true) or `limit` passes (false, with the last
/// answer seen).
pub async fn wait_for_readiness(
    client: &reqwest::Client,
    ready_url: &str,
    status: u16,
    limit: Duration,
) -> (bool, u16, Value, Duration) {
    let started = Instant::now();
    loop {
        let (seen, body) = readiness(client, ready_url).await;
        if seen == status {
            return (true, seen, body, started.elapsed());
        }
        if started.elapsed() > limit {
            return (false, seen, body, started.elapsed());
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// One row of the `requests` table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestRow {
    pub request_id: String,
    pub outcome: String,
    pub category: Option<String>,
    pub http_status: i16,
}

pub async fn request_rows(client: &tokio_postgres::Client) -> Vec<RequestRow> {
    client
        .query(
            "SELECT request_id, outcome, category, http_status FROM requests",
            &[],
        )
        .await
        .expect("reading the requests table")
        .iter()
        .map(|row| RequestRow {
            request_id: row.get(0),
            outcome: row.get(1),
            category: row.get(2),
            http_status: row.get(3),
        })
        .collect()
}

//! The shape of a determinism case in `snapshots/cases.json`.
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Case {
    pub name: String,
    pub about: String,
    #[serde(default)]
    pub env: BTreeMap<String, String>,
    pub turns: Vec<Turn>,
    /// Ask for the streamed answer (`Accept: text/event-stream`); the snapshot holds the
    /// parts in order.
    #[serde(default)]
    pub streamed: bool,
    /// Served in order, one per provider request (retries included). Requests beyond the
    /// script get a 500, which the snapshot then shows.
    #[serde(default)]
    pub provider: Vec<Reply>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(from = "TurnSpec")]
pub struct Turn {
    pub message: String,
    /// Start a new session instead of reusing the previous turn's.
    pub new_session: bool,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum TurnSpec {
    Message(String),
    Full { message: String, new_session: bool },
}

impl From<TurnSpec> for Turn {
    fn from(spec: TurnSpec) -> Self {
        match spec {
            TurnSpec::Message(message) => Turn {
                message,
                new_session: false,
            },
            TurnSpec::Full {
                message,
                new_session,
            } => Turn {
                message,
                new_session,
            },
        }
    }
}

/// One scripted provider reply: `content` makes a normal completion; `body` is sent raw.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Reply {
    #[serde(default = "ok", skip_serializing_if = "is_ok")]
    pub status: u16,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry_after: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delay_ms: Option<u64>,
}

fn ok() -> u16 {
    200
}

fn is_ok(status: &u16) -> bool {
    *status == 200
}

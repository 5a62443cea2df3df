//! One governed chat turn, from admitted request to governed reply, independent of HTTP:
//! gate -> input contract -> session + quota -> input governance (`admit.rs`), then
//! reasoning -> expression streamed through the output governor into a [`ReplySink`]
//! (`reply.rs`), then one metadata record (`record.rs`). The JSON answer and the streamed
//! answer are the same pipeline: the JSON reply is the stream collected.
mod admit;
mod record;
mod reply;

use crate::domain::{Category, Outcome, SessionId};
use chrono::{DateTime, Utc};
use futures::future::BoxFuture;
use std::time::{Duration, Instant};

pub use admit::{admit, invalid_token, Admitted};
pub use record::record;
pub use reply::reply;

pub struct TurnRequest {
    pub request_id: String,
    pub message: String,
    pub session_id: Option<SessionId>,
    pub client_address: Option<String>,
    /// The verified Supabase user id (`sub`), when the turn carried a valid token. The store
    /// keeps only a keyed hash of it; never log it.
    pub user: Option<String>,
}

/// How the turn ended. `Invalid` is not a turn at all (nothing was admitted).
pub enum TurnResult {
    /// The reply went to the sink.
    Accepted {
        session_id: SessionId,
    },
    Refused {
        session_id: Option<SessionId>,
        category: Category,
        reply: &'static str,
    },
    Aborted {
        session_id: Option<SessionId>,
        category: Category,
    },
    Invalid,
}

impl TurnResult {
    pub fn outcome(&self) -> Option<Outcome> {
        match self {
            TurnResult::Accepted { .. } => Some(Outcome::Accepted),
            TurnResult::Refused { .. } => Some(Outcome::Refused),
            TurnResult::Aborted { .. } => Some(Outcome::Aborted),
            TurnResult::Invalid => None,
        }
    }

    pub fn category(&self) -> Option<Category> {
        match self {
            TurnResult::Refused { category, .. } | TurnResult::Aborted { category, .. } => {
                Some(*category)
            }
            _ => None,
        }
    }

    pub fn session_id(&self) -> Option<&SessionId> {
        match self {
            TurnResult::Accepted { session_id } => Some(session_id),
            TurnResult::Refused { session_id, .. } | TurnResult::Aborted { session_id, .. } => {
                session_id.as_ref()
            }
            TurnResult::Invalid => None,
        }
    }
}

/// Where a turn's governed reply goes as it is written.
pub trait ReplySink: Send {
    /// Someone watches the reply arrive (the offline provider then paces it).
    fn live(&self) -> bool;
    /// The next governed piece. `false`: the client is gone.
    fn delta(&mut self, text: &str) -> bool;
    /// Resolves when the client is gone (never, for a collected answer).
    fn gone(&self) -> BoxFuture<'static, ()>;
}

/// A turn in progress, as it will be recorded: ids, times, sizes. Never content.
pub struct Turn {
    pub request_id: String,
    started_at: DateTime<Utc>,
    started: Instant,
    measures: Measures,
}

impl Turn {
    fn new(request_id: String) -> Self {
        Turn {
            request_id,
            started_at: Utc::now(),
            started: Instant::now(),
            measures: Measures::default(),
        }
    }
}

/// Sizes and durations of a turn, for the metadata record and metrics. Never content.
#[derive(Default)]
struct Measures {
    input_chars: u32,
    output_chars: u32,
    reasoning: Option<Duration>,
    expression: Option<Duration>,
    provider_status: Option<u16>,
    first_byte: Option<Duration>,
    streamed: bool,
}

fn count_chars(text: &str) -> u32 {
    u32::try_from(text.chars().count()).unwrap_or(u32::MAX)
}

fn millis(duration: Duration) -> u32 {
    u32::try_from(duration.as_millis()).unwrap_or(u32::MAX)
}

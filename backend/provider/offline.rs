//! The offline provider: what development runs against when no API key is configured, so
//! the service works with no network. It is deterministic and never echoes user text (so
//! snapshots stay stable and nothing a user typed is reflected back).
use super::{ChatMessage, Completion, Stage};

/// The model name reported for both stages.
pub(super) const MODEL: &str = "offline";

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct OfflineProvider;

impl OfflineProvider {
    /// Answers at once. Only the character count of the last user message is used.
    pub fn complete(&self, stage: Stage, messages: &[ChatMessage]) -> Completion {
        let chars = last_user_chars(messages);
        let text = match stage {
            Stage::Reasoning => format!("offline notes: the user wrote {chars} characters."),
            Stage::Expression => format!(
                "This is the offline development provider of governed-chat: no model was called. \
                 Your message was received ({chars} characters). Set MODEL_PROVIDER_API_KEY \
                 to talk to a real model; its replies pass through the same governor, piece \
                 by piece, before they reach you."
            ),
        };
        Completion {
            text,
            status: 200,
            attempts: 1,
        }
    }
}

/// Pause between the pieces of a watched offline reply.
const PACE: std::time::Duration = std::time::Duration::from_millis(25);

impl OfflineProvider {
    /// The same answer in pieces of a few words, paced when `live`.
    pub fn stream(&self, stage: Stage, messages: &[ChatMessage], live: bool) -> super::Pieces {
        use futures::StreamExt;
        let text = self.complete(stage, messages).text;
        let mut pieces = Vec::new();
        let mut start = 0;
        for (at, _) in text.match_indices(' ').skip(2).step_by(3) {
            pieces.push(text[start..=at].to_owned());
            start = at + 1;
        }
        pieces.push(text[start..].to_owned());
        futures::stream::iter(pieces.into_iter().enumerate())
            .then(move |(index, piece)| async move {
                if live && index > 0 {
                    tokio::time::sleep(PACE).await;
                }
                Ok(piece)
            })
            .boxed()
    }
}

fn last_user_chars(messages: &[ChatMessage]) -> usize {
    messages
        .iter()
        .rev()
        .find(|m| m.role == "user")
        .map(|m| m.content.chars().count())
        .unwrap_or(0)
}

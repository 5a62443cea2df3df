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
                 Your message was received ({chars} characters)."
            ),
        };
        Completion {
            text,
            status: 200,
            attempts: 1,
        }
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

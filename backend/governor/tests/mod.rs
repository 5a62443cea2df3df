//! Cross-cutting tests of the governor's public API: input policy (hostile and look-alike
//! benign messages), output governance end to end, stream/whole equivalence, the Big List
//! of Naughty Strings, and a latency smoke test.
use super::*;
use secrecy::SecretString;

mod input;
mod output;
mod stream;

pub(super) fn governor_with(
    allowlist: &[&str],
    secrets: &[&str],
    max_reply_chars: usize,
) -> Governor {
    Governor::new(GovernorConfig {
        max_message_chars: 4000,
        max_message_bytes: 16_000,
        max_reply_chars,
        link_allowlist: allowlist.iter().map(|h| h.to_string()).collect(),
        secrets: secrets
            .iter()
            .map(|s| SecretString::from(s.to_string()))
            .collect(),
    })
}

pub(super) fn governor() -> Governor {
    governor_with(&[], &["Sup3r-S3cret-Token-Value"], 4000)
}

pub(super) fn refused(category: Category) -> Result<GovernedInput, InputRejection> {
    Err(InputRejection::Refused(Refusal { category }))
}

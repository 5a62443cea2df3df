//! The sanitizing governor: everything the user sends passes `govern_input` before a model
//! sees it, and everything a model writes passes `govern_output` before a client sees it.
//!
//! Files, one concern each: `unicode` (NFKC + invisible characters), `rules` (the policy
//! table), `classifier` (the policy model, weights in `policy_model.bin`) and `policy`
//! (rules, then model), `secrets` (redaction), `prompts` (system prompts), `leak`
//! (prompt/notes echo detection) and `transformed` (encoded, rotated or reversed copies),
//! `reasoning` (reasoning blocks dropped), `markdown/` (the reply judged as CommonMark/GFM
//! renderers parse it) with `links` (the allowlist), `output` (the length cap) and `stream`
//! (the stages composed; `govern_output` is the stream fed at once).
use crate::domain::Category;
use secrecy::SecretString;

mod classifier;
mod identity_hash;
mod leak;
mod links;
mod markdown;
mod output;
mod policy;
mod prompts;
mod reasoning;
mod rules;
mod secrets;
mod shingles;
mod stream;
#[cfg(test)]
mod tests;
/// Not yet called by the output pipeline (wired in by the output-side rewrite).
mod transformed;
mod unicode;
mod words;

pub use stream::OutputStream;

/// A refusal: the turn ends with outcome `refused`, this category, and the category's
/// fixed, safe reply.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Refusal {
    pub category: Category,
}

impl Refusal {
    /// The fixed reply shown to the user for a refusal. Never contains user or model text.
    pub fn reply(&self) -> &'static str {
        match self.category {
            Category::InputTooLong => "Your message is too long. Please shorten it and try again.",
            Category::SystemPromptLeak => "I can't share that response. Please ask something else.",
            Category::PromptInjection | Category::SystemPromptExtraction => {
                "I can't help with that request. Please ask something else."
            }
            _ => "I can't help with that request.",
        }
    }
}

pub struct GovernorConfig {
    pub max_message_chars: usize,
    pub max_message_bytes: usize,
    pub max_reply_chars: usize,
    /// Hosts (lower-case, e.g. `docs.example.com`) that links in replies may point to.
    pub link_allowlist: Vec<String>,
    /// Every secret the process holds; each is redacted verbatim from replies.
    pub secrets: Vec<SecretString>,
}

/// User text after input governance: normalized, invisible characters removed, secrets
/// redacted. This is the only form of user text that may be sent to a provider.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GovernedInput {
    pub text: String,
    pub secrets_redacted: usize,
}

/// A reply after output governance, safe to render in a web page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GovernedReply {
    pub text: String,
}

/// Why input was not accepted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InputRejection {
    /// Nothing is left after normalization, invisible-character removal and trimming
    /// (the HTTP layer answers 400).
    Empty,
    Refused(Refusal),
}

impl From<Refusal> for InputRejection {
    fn from(refusal: Refusal) -> Self {
        InputRejection::Refused(refusal)
    }
}

pub struct Governor {
    config: GovernorConfig,
    configured_secrets: secrets::ConfiguredSecrets,
    allowlist: links::Allowlist,
}

impl Governor {
    pub fn new(config: GovernorConfig) -> Self {
        policy::warm_up();
        leak::warm_up();
        transformed::warm_up();
        markdown::warm_up();
        let configured_secrets = secrets::ConfiguredSecrets::new(&config.secrets);
        let allowlist = links::Allowlist::new(&config.link_allowlist);
        Governor {
            allowlist,
            configured_secrets,
            config,
        }
    }

    /// `raw` is the client's message as received. Returns the governed text (NFKC,
    /// invisible characters removed, trimmed, secrets redacted), `Empty`, or a refusal
    /// (`InputTooLong` over either limit, before or after normalization;
    /// `PromptInjection` / `SystemPromptExtraction` from the rules in `rules.rs`).
    pub fn govern_input(&self, raw: &str) -> Result<GovernedInput, InputRejection> {
        let too_long = |text: &str| {
            text.len() > self.config.max_message_bytes
                || (text.len() > self.config.max_message_chars
                    && text.chars().count() > self.config.max_message_chars)
        };
        let refuse = |category| Err(InputRejection::Refused(Refusal { category }));
        if too_long(raw) {
            return refuse(Category::InputTooLong);
        }
        let normalized = unicode::normalize_input(raw);
        let trimmed = normalized.trim();
        if trimmed.is_empty() {
            return Err(InputRejection::Empty);
        }
        if too_long(trimmed) {
            return refuse(Category::InputTooLong);
        }
        // Secrets are redacted before the policy reads the message: a pasted key is material
        // to protect, not words to judge (a long key block otherwise sways the model).
        let mut text = trimmed.to_owned();
        let secrets_redacted =
            secrets::redact_patterns(&mut text) + self.configured_secrets.redact(&mut text);
        if let Some(category) = policy::check(&text) {
            return refuse(category);
        }
        Ok(GovernedInput {
            text,
            secrets_redacted,
        })
    }

    /// `draft` is the expression model's reply; `notes` are the reasoning model's notes
    /// (never shown to users: overlap with them counts as a leak). Same result as feeding
    /// `draft` to [`Governor::output_stream`] in any chunking.
    pub fn govern_output(&self, draft: &str, notes: &str) -> Result<GovernedReply, Refusal> {
        let mut stream = self.output_stream(notes);
        let mut text = stream.push(draft);
        text.push_str(&stream.finish()?);
        Ok(GovernedReply { text })
    }

    /// Streaming output governance for one reply (see `stream.rs` for the bounds).
    pub fn output_stream(&self, notes: &str) -> OutputStream<'_> {
        OutputStream::new(self, notes)
    }
}

/// The messages the reasoning stage receives.
pub fn reasoning_messages(user_text: &str) -> Vec<crate::provider::ChatMessage> {
    prompts::reasoning_messages(user_text)
}

/// The messages the expression stage receives.
pub fn expression_messages(notes: &str, user_text: &str) -> Vec<crate::provider::ChatMessage> {
    prompts::expression_messages(notes, user_text)
}

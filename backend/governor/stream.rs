//! Streaming output governance. `govern_output` is this stream fed the whole draft at
//! once, so there is a single implementation, and the same text comes out for any
//! chunking of the same reply.
//!
//! Stages, each holding back a bounded tail:
//! 1. invisible characters removed (`unicode.rs`; holds at most one ZWJ);
//! 2. reasoning blocks and control tokens dropped, private keys redacted (`reasoning.rs`;
//!    an opener's lookahead, or a closer-sized tail inside a dropped block);
//! 3. secrets redacted across every boundary (`secrets.rs`; the current word, at least as
//!    long as the longest configured secret);
//! 4. the length cap (`output.rs`; the last visible character);
//! 5. Markdown judged as renderers parse it and leak detection per region (`markdown/`,
//!    `leak.rs`; at most about [`markdown::BOUND`] + [`markdown::LOOKAHEAD`] bytes).
//!
//! The only whole-reply decision — "the reply is mostly leak" — is made by
//! [`OutputStream::finish`]; text emitted before it never contains the withheld regions.
use super::leak::LeakTracker;
use super::markdown::{self, MarkdownStage};
use super::output::Capper;
use super::reasoning::Dropper;
use super::secrets::RedactStream;
use super::transformed::TransformedLeaks;
use super::unicode::Cleaner;
use super::{Governor, Refusal};
use crate::domain::Category;

pub struct OutputStream<'g> {
    governor: &'g Governor,
    cleaner: Cleaner,
    dropper: Dropper,
    redactor: RedactStream<'g>,
    cap: Capper,
    markdown: MarkdownStage,
    leak: LeakTracker,
    transformed: TransformedLeaks,
}

impl<'g> OutputStream<'g> {
    pub(crate) fn new(governor: &'g Governor, notes: &str) -> Self {
        OutputStream {
            governor,
            cleaner: Cleaner::default(),
            dropper: Dropper::default(),
            redactor: RedactStream::new(&governor.configured_secrets),
            cap: Capper::new(governor.config.max_reply_chars),
            markdown: MarkdownStage::default(),
            leak: LeakTracker::new(notes),
            transformed: TransformedLeaks::new(notes),
        }
    }

    /// The same stream with every region parsed, code lines too (see `markdown/fence.rs`).
    #[cfg(test)]
    pub(crate) fn parse_every_region(mut self) -> Self {
        self.markdown.parse_every_region();
        self
    }

    /// Feeds the next chunk of the model's reply; returns governed text that is safe to
    /// send to the client now (possibly empty).
    pub fn push(&mut self, chunk: &str) -> String {
        self.advance(chunk, false)
    }

    /// Ends the reply: returns the remaining governed text, or a refusal when most of the
    /// reply echoed the system prompts or the notes.
    pub fn finish(mut self) -> Result<String, Refusal> {
        let out = self.advance("", true);
        if self.leak.mostly_leaked() {
            return Err(Refusal {
                category: Category::SystemPromptLeak,
            });
        }
        Ok(out)
    }

    fn advance(&mut self, chunk: &str, finished: bool) -> String {
        let mut cleaned = String::with_capacity(chunk.len());
        self.cleaner.feed(chunk, &mut cleaned, finished);
        let mut kept = String::with_capacity(cleaned.len());
        self.dropper.push(&cleaned, finished, &mut kept);
        let mut redacted = String::with_capacity(kept.len());
        self.redactor.push(&kept, finished, &mut redacted);
        let mut capped = self.cap.push(&redacted);
        if finished {
            capped.push_str(&self.cap.finish());
        }
        self.markdown.push(&capped);
        let leak = &mut self.leak;
        let transformed = &self.transformed;
        let secrets = &self.governor.configured_secrets;
        self.markdown.drain(
            &self.governor.allowlist,
            finished,
            // A secret that only markup, an entity or an escape kept apart is whole again
            // in what a reader sees: the region is withheld.
            // A base64, hex, ROT13 or reversed copy of the prompts or notes is a leak too.
            &mut |contents: &markdown::Contents| {
                let encoded = transformed.contains_transformed_copy(&contents.visible);
                secrets.found_in(&contents.visible) || leak.withhold(contents, encoded)
            },
        )
    }
}

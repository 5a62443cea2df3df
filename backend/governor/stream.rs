//! Streaming output governance. `govern_output` is this stream fed the whole draft at
//! once, so there is a single implementation.
//!
//! Pipeline: invisible-character removal (holds back at most one ZWJ) → segmentation
//! (`scan.rs`: holds back at most 512 bytes of text, or a closer-sized tail inside a dropped
//! block) → per-segment governance (`output.rs`) → length cap (holds back the last visible
//! character and trailing whitespace). Decisions never need the whole reply; the only
//! whole-reply decision — "the reply is mostly leak" — is made by [`OutputStream::finish`],
//! and text emitted before it never contains the leaked sentences themselves.
use super::blocks::{find_closer, BlockKind, Closer};
use super::leak::LeakTracker;
use super::output::{govern_segment, Capper};
use super::scan::{scan, Event};
use super::secrets::REDACTED;
use super::unicode::Cleaner;
use super::{Governor, Refusal};
use crate::domain::Category;

enum Mode {
    Text,
    Block(BlockKind),
}

pub struct OutputStream<'g> {
    governor: &'g Governor,
    cleaner: Cleaner,
    /// Cleaned text not yet governed; `buf[pos..]` is pending.
    buf: String,
    pos: usize,
    mode: Mode,
    leak: LeakTracker,
    cap: Capper,
}

impl<'g> OutputStream<'g> {
    pub(crate) fn new(governor: &'g Governor, notes: &str) -> Self {
        OutputStream {
            governor,
            cleaner: Cleaner::default(),
            buf: String::new(),
            pos: 0,
            mode: Mode::Text,
            leak: LeakTracker::new(notes),
            cap: Capper::new(governor.config.max_reply_chars),
        }
    }

    /// Feeds the next chunk of the model's reply; returns governed text that is safe to
    /// send to the client now (possibly empty).
    pub fn push(&mut self, chunk: &str) -> String {
        self.cleaner.feed(chunk, &mut self.buf, false);
        self.drain(false)
    }

    /// Ends the reply: returns the remaining governed text, or a refusal when most of the
    /// reply echoed the system prompts or the notes.
    pub fn finish(mut self) -> Result<String, Refusal> {
        self.cleaner.feed("", &mut self.buf, true);
        let mut out = self.drain(true);
        out.push_str(&self.cap.finish());
        if self.leak.mostly_leaked() {
            return Err(Refusal {
                category: Category::SystemPromptLeak,
            });
        }
        Ok(out)
    }

    fn drain(&mut self, finished: bool) -> String {
        let mut out = String::new();
        loop {
            let pending = &self.buf[self.pos..];
            match self.mode {
                Mode::Text => match scan(pending, finished) {
                    Event::Cut(end) => self.emit(end, false, &mut out),
                    Event::Forced(end) => self.emit(end, true, &mut out),
                    Event::Block { start, end, kind } => {
                        self.emit(start, true, &mut out);
                        self.pos += end - start;
                        self.mode = Mode::Block(kind);
                        if kind == BlockKind::PrivateKey {
                            out.push_str(&self.cap.push(REDACTED));
                        }
                    }
                    Event::NeedMore => break,
                    Event::End => {
                        let end = pending.len();
                        self.emit(end, false, &mut out);
                        break;
                    }
                },
                Mode::Block(kind) => match find_closer(pending, kind, finished) {
                    Closer::Found(end) => {
                        self.pos += end;
                        self.mode = Mode::Text;
                    }
                    Closer::Wait(keep_from) => {
                        self.pos += keep_from;
                        break;
                    }
                },
            }
        }
        self.buf.drain(..self.pos);
        self.pos = 0;
        out
    }

    /// Governs `buf[pos..pos + len]` as one segment and appends the result to `out`.
    fn emit(&mut self, len: usize, cut_after: bool, out: &mut String) {
        let start = self.pos;
        self.pos += len;
        let segment = &self.buf[start..self.pos];
        if segment.is_empty() {
            return;
        }
        let governed = govern_segment(self.governor, &mut self.leak, segment, cut_after);
        out.push_str(&self.cap.push(&governed));
    }
}

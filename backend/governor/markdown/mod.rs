//! Output governance as renderers see it: the reply is parsed as CommonMark + GFM
//! (pulldown-cmark), judged node by node and written back as Markdown (`write.rs`).
//!
//! # Streaming
//! Text is governed in *regions* and never held back for long. The stream keeps a window:
//! the governed text already sent for the current top-level block (exactly what the
//! client's renderer has) followed by the raw text not yet governed. A region ends at a
//! *candidate*: a line end, a sentence end followed by a space, or, when none comes within
//! [`BOUND`] bytes, the last space before it. A candidate is taken only when the parse of
//! the window up to [`LOOKAHEAD`] bytes past it shows that no link, image, code span,
//! HTML or definition spans it, that it is at a line end inside code blocks and tables,
//! and that the line before it has no `|` outside a table (a delimiter row could still
//! make it a table header). A region with none of `[ ] < \` |` needs no lookahead at all.
//! Every decision depends on the text alone, never on how it was
//! chunked, so the stream and the whole reply give the same output.
//!
//! Governed text has its openers escaped (`text.rs`), so nothing sent can combine with
//! text that follows it into a link, an image, HTML or a code span.
mod analysis;
mod fence;
mod text;
mod write;

use super::links::Allowlist;
use analysis::Analysis;
use fence::OpenFence;
pub(crate) use write::Contents;
use write::Writer;

/// Raw bytes held in the window before a cut is forced.
pub(crate) const BOUND: usize = 320;
/// How far past a candidate the parse looks before taking it.
pub(crate) const LOOKAHEAD: usize = 128;
/// Held back this long, a region is cut even where the rules above find no place (a
/// pathological construct of this size): it is then governed as it stands.
const HARD_BOUND: usize = 2048;

pub(crate) fn warm_up() {
    text::warm_up();
}

/// Characters that can open a construct spanning a cut (or a table row).
const OPENERS: [u8; 5] = [b'[', b']', b'<', b'`', b'|'];

fn has_opener(text: &str) -> bool {
    text.bytes().any(|b| OPENERS.contains(&b))
}

/// What replaces a region that leak detection withholds.
pub(crate) const WITHHELD: &str = "(withheld)";

pub(crate) struct MarkdownStage {
    /// Governed text of the current top-level block, then raw text.
    window: String,
    /// Where the raw text starts in `window`.
    region: usize,
    /// Where the search for the next candidate resumes.
    scan: usize,
    /// Lines inside a fenced code block skip the parse (`fence.rs`); tests turn it off to
    /// compare.
    code_shortcut: bool,
}

impl Default for MarkdownStage {
    fn default() -> Self {
        MarkdownStage {
            window: String::new(),
            region: 0,
            scan: 0,
            code_shortcut: true,
        }
    }
}

impl MarkdownStage {
    /// Parses every region, code lines too (tests compare it with the shortcut).
    #[cfg(test)]
    pub(crate) fn parse_every_region(&mut self) {
        self.code_shortcut = false;
    }

    pub(crate) fn push(&mut self, text: &str) {
        self.window.push_str(text);
    }

    /// Governs every region that can be decided now (all of them when `finished`) and
    /// returns the governed text. `withhold` sees each region's contents and says whether
    /// it must be replaced by [`WITHHELD`].
    pub(crate) fn drain(
        &mut self,
        allow: &Allowlist,
        finished: bool,
        withhold: &mut dyn FnMut(&Contents) -> bool,
    ) -> String {
        let mut out = String::new();
        loop {
            let len = self.window.len();
            if self.region >= len {
                break;
            }
            let candidate = next_candidate(&self.window, self.scan.max(self.region));
            match candidate {
                Some((at, line_end)) if at - self.region <= BOUND => {
                    // Text with nothing that opens a construct cannot be changed by what
                    // follows: no need to look ahead.
                    let quick = !has_opener(&self.window[self.region..at]);
                    if !quick && !finished && len < at + LOOKAHEAD {
                        break;
                    }
                    let view_end = if quick {
                        at
                    } else {
                        floor(&self.window, (at + LOOKAHEAD).min(len))
                    };
                    if let Some(allowed) = self.inside_open_fence(view_end, quick, at, line_end) {
                        if allowed {
                            let (governed, reset) =
                                self.govern_code(at, view_end, finished, withhold);
                            out.push_str(&self.commit(at, governed, reset));
                        } else {
                            self.scan = at;
                        }
                        continue;
                    }
                    let view = &self.window[..view_end];
                    let analysis = Analysis::new(view);
                    if analysis.allows_cut(view, at, line_end) {
                        let (governed, reset) =
                            self.govern(&analysis, view_end, at, finished, allow, withhold);
                        out.push_str(&self.commit(at, governed, reset));
                    } else {
                        self.scan = at;
                    }
                }
                _ if finished => {
                    let analysis = Analysis::new(&self.window);
                    let (governed, reset) = self.govern(&analysis, len, len, true, allow, withhold);
                    out.push_str(&self.commit(len, governed, reset));
                    break;
                }
                _ => {
                    if len - self.region < BOUND + LOOKAHEAD {
                        break;
                    }
                    match self.forced_cut(len) {
                        Some((analysis_end, at)) => {
                            let analysis = Analysis::new(&self.window[..analysis_end]);
                            let (governed, reset) =
                                self.govern(&analysis, analysis_end, at, false, allow, withhold);
                            out.push_str(&self.commit(at, governed, reset));
                        }
                        None => break,
                    }
                }
            }
        }
        out
    }

    /// Where to cut when no candidate came within [`BOUND`] bytes: the last space (or
    /// line end) before it that the parse allows; failing that, the bound itself; once
    /// [`HARD_BOUND`] is held, the bound whatever the parse says.
    fn forced_cut(&self, len: usize) -> Option<(usize, usize)> {
        let limit = floor(&self.window, self.region + BOUND);
        let view_end = floor(&self.window, (limit + LOOKAHEAD).min(len));
        let view = &self.window[..view_end];
        let analysis = Analysis::new(view);
        let bytes = view.as_bytes();
        let spaced = (self.region + 1..=limit).rev().find(|&at| {
            view.is_char_boundary(at)
                && bytes[at - 1].is_ascii_whitespace()
                && analysis.allows_cut(view, at, bytes[at - 1] == b'\n')
        });
        if let Some(at) = spaced {
            return Some((view_end, at));
        }
        if limit > self.region && analysis.allows_cut(view, limit, false) {
            return Some((view_end, limit));
        }
        (len - self.region >= HARD_BOUND && limit > self.region).then_some((limit, limit))
    }

    /// Governs `window[region..at]` with the parse of `window[..view_end]`: the governed
    /// text, and whether the text before `at` is a finished top-level block.
    #[allow(clippy::too_many_arguments)]
    fn govern(
        &self,
        analysis: &Analysis<'_>,
        view_end: usize,
        at: usize,
        finished: bool,
        allow: &Allowlist,
        withhold: &mut dyn FnMut(&Contents) -> bool,
    ) -> (String, bool) {
        let writer = Writer {
            src: &self.window[..view_end],
            analysis,
            allow,
        };
        let mut contents = Contents::default();
        let mut governed = writer.region(self.region..at, &mut contents);
        if withhold(&contents) {
            governed = withheld(&governed);
        }
        // A block that ends where the parsed text ends may go on: forget nothing then,
        // unless that is the end of the reply.
        let complete = finished && view_end == self.window.len();
        let reset = analysis.between_blocks(at) && (at < view_end || complete);
        (governed, reset)
    }

    /// When the region up to `at` lies in the content of a fenced code block that opens the
    /// window and stays open through the view (`fence.rs`): whether the parse would allow
    /// the cut. The block is then the view's only top-level block and ends with it, so `at`
    /// is strictly inside it unless the view ends there (`quick`: the view ends at `at`);
    /// strictly inside, a code block is cut only at a line end.
    fn inside_open_fence(
        &self,
        view_end: usize,
        quick: bool,
        at: usize,
        line_end: bool,
    ) -> Option<bool> {
        if !self.code_shortcut {
            return None;
        }
        let fence = OpenFence::opening(&self.window)?;
        (self.region >= fence.content && fence.open_through(&self.window, view_end))
            .then_some(quick || line_end || at == view_end)
    }

    /// Governs `window[region..at]`, content lines of a fenced code block, as the parse of
    /// `window[..view_end]` would (see [`MarkdownStage::inside_open_fence`]): the text as
    /// it stands, with the code as contents (the block's end adds nothing to what a reader
    /// sees). The block ends where the view does, so the text before `at` is a finished
    /// block only when `at` ends the view and the reply.
    fn govern_code(
        &self,
        at: usize,
        view_end: usize,
        finished: bool,
        withhold: &mut dyn FnMut(&Contents) -> bool,
    ) -> (String, bool) {
        let code = &self.window[self.region..at];
        let mut contents = Contents::default();
        contents.code.push_str(code);
        contents.visible.push_str(code);
        let governed = if withhold(&contents) {
            withheld(code)
        } else {
            code.to_owned()
        };
        let reset = at == view_end && finished && view_end == self.window.len();
        (governed, reset)
    }

    /// Puts the governed text in place of `window[region..at]` and returns it.
    fn commit(&mut self, at: usize, governed: String, reset: bool) -> String {
        self.window.replace_range(self.region..at, &governed);
        self.region += governed.len();
        self.scan = self.region;
        if reset {
            self.window.drain(..self.region);
            self.region = 0;
            self.scan = 0;
        }
        governed
    }
}

/// What replaces a withheld region: [`WITHHELD`], then the region's trailing whitespace
/// (a space when it has none).
fn withheld(governed: &str) -> String {
    let trailing = &governed[governed.trim_end().len()..];
    let trailing = if trailing.is_empty() { " " } else { trailing };
    format!("{WITHHELD}{trailing}")
}

/// The next candidate at or after `from`: the byte after a line end, or after the space
/// that follows a sentence end. `(position, is a line end)`.
fn next_candidate(text: &str, from: usize) -> Option<(usize, bool)> {
    let bytes = text.as_bytes();
    let mut i = from;
    while i < bytes.len() {
        match bytes[i] {
            b'\n' => return Some((i + 1, true)),
            b'.' | b'!' | b'?' if matches!(bytes.get(i + 1), Some(b' ' | b'\t')) => {
                return Some((i + 2, false));
            }
            0xE3 | 0xEF => {
                let rest = &text[i..];
                if let Some(stop) = ["。", "！", "？"].iter().find(|s| rest.starts_with(**s)) {
                    return Some((i + stop.len(), false));
                }
            }
            _ => {}
        }
        i += 1;
    }
    None
}

fn floor(text: &str, at: usize) -> usize {
    let mut at = at.min(text.len());
    while !text.is_char_boundary(at) {
        at -= 1;
    }
    at
}

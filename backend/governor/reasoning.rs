//! The first cut of a reply, before anything else reads it: reasoning the model wrote
//! inline is dropped with its content — reasoning elements (`<think>`, `<thinking>`,
//! `<reasoning>`, …) and harmony analysis / commentary channels (`<|channel|>analysis …
//! <|end|>`), and `<script>` / `<style>` elements outside code — model control tokens (`<|start|>`, `<|message|>`, …) are removed, and PEM
//! private keys are replaced by `[redacted]`. An opener without its closer drops
//! everything to the end of the reply.
//!
//! Code is left alone: inside a fenced code block (tracked line by line) and inside an
//! inline code span on the current line (an odd number of backticks before it), `<think>`
//! is code, not reasoning; PEM keys are redacted everywhere. What follows a dropped block
//! is joined to what preceded it and governed as one text downstream, so nothing that the
//! block separated can slip through as two harmless halves.
//!
//! Openers need at most 96 bytes to decide; closers are searched in the pending
//! text, keeping only a closer-sized tail while waiting.
use super::secrets::REDACTED;
use once_cell::sync::Lazy;
use regex::Regex;

/// Tags whose whole element (content included) is dropped from replies.
const DROPPED_TAGS: &[&str] = &[
    "think",
    "thinking",
    "thought",
    "thoughts",
    "reasoning",
    "reflection",
    "scratchpad",
    "analysis",
    "inner_monologue",
    // Not reasoning, but never text a reader wants: dropped with their content too.
    "script",
    "style",
];
const HARMONY_OPENERS: &[&str] = &["<|channel|>analysis", "<|channel|>commentary"];
const HARMONY_CLOSERS: &[(&str, bool)] = &[
    ("<|end|>", true),
    ("<|start|>", false),
    ("<|channel|>final", false),
];

static CONTROL_TOKEN: Lazy<Regex> = Lazy::new(|| {
    Regex::new(r"^(?:<\|(?:start|channel)\|>[A-Za-z_]*|<\|[A-Za-z_]{1,24}\|>)")
        .expect("tokens compile")
});

static PEM_BEGIN: Lazy<Regex> =
    Lazy::new(|| Regex::new(r"^-----BEGIN [A-Z0-9 ]{0,40}PRIVATE KEY-----").expect("pem begin"));
static PEM_END: Lazy<Regex> =
    Lazy::new(|| Regex::new(r"-----END [A-Z0-9 ]{0,40}PRIVATE KEY-----").expect("pem end"));

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum BlockKind {
    /// `</name` closes it.
    Tag(&'static str),
    Harmony,
    PrivateKey,
}

pub(crate) enum Opener {
    Yes(BlockKind, usize),
    /// A control token ending at this byte: removed, nothing else.
    Token(usize),
    No,
    NeedMore,
}

/// What starts at byte `i` of `text`. `code`: inside code, where only PEM keys count.
pub(crate) fn opener_at(text: &str, i: usize, finished: bool, code: bool) -> Opener {
    let rest = text.get(i..).unwrap_or_default();
    let b = rest.as_bytes();
    if b.first() == Some(&b'-') {
        let maybe_pem = rest.starts_with("-----B") || "-----B".starts_with(rest);
        if !maybe_pem {
            return Opener::No;
        }
        return match PEM_BEGIN.find(prefix(rest, 80)) {
            Some(m) => Opener::Yes(BlockKind::PrivateKey, i + m.end()),
            None if finished || rest.len() >= 80 => Opener::No,
            None => Opener::NeedMore,
        };
    }
    if code {
        return Opener::No;
    }
    if b.get(1) == Some(&b'|') || (b.len() == 1 && !finished) {
        for opener in HARMONY_OPENERS {
            if rest.starts_with(opener) {
                return Opener::Yes(BlockKind::Harmony, i + opener.len());
            }
            if !finished && opener.starts_with(rest) {
                return Opener::NeedMore;
            }
        }
        if !finished && rest.len() < 48 && !rest[1..].contains('>') {
            return Opener::NeedMore;
        }
        return match CONTROL_TOKEN.find(prefix(rest, 48)) {
            Some(m) => Opener::Token(i + m.end()),
            None => Opener::No,
        };
    }
    let name_len = b
        .iter()
        .skip(1)
        .take_while(|c| c.is_ascii_alphabetic() || **c == b'_')
        .count();
    if name_len == 0 || name_len > 24 {
        return Opener::No;
    }
    match b.get(1 + name_len) {
        None if !finished => return Opener::NeedMore,
        Some(c) if !(c.is_ascii_whitespace() || *c == b'>' || *c == b'/') => return Opener::No,
        _ => {}
    }
    let name = &rest[1..1 + name_len];
    match DROPPED_TAGS.iter().find(|t| t.eq_ignore_ascii_case(name)) {
        Some(tag) => Opener::Yes(BlockKind::Tag(tag), i + 1 + name_len),
        None => Opener::No,
    }
}

/// Where a dropped block ends.
pub(crate) enum Closer {
    /// The block ends before byte `end` (the closer, if consumed, included).
    Found(usize),
    /// Not yet: bytes before `keep_from` belong to the block and can be discarded.
    Wait(usize),
}

pub(crate) fn find_closer(text: &str, kind: BlockKind, finished: bool) -> Closer {
    let (found, keep) = match kind {
        BlockKind::Tag(name) => match tag_closer(text, name, finished) {
            Ok(end) => (Some(end), 0),
            Err(keep_from) => (None, keep_from),
        },
        BlockKind::Harmony => {
            let found = HARMONY_CLOSERS
                .iter()
                .filter_map(|(closer, consume)| {
                    text.find(closer)
                        .map(|at| if *consume { at + closer.len() } else { at })
                })
                .min();
            (found, text.len().saturating_sub(16))
        }
        BlockKind::PrivateKey => (
            PEM_END.find(text).map(|m| m.end()),
            text.len().saturating_sub(80),
        ),
    };
    match found {
        Some(end) => Closer::Found(end),
        None if finished => Closer::Found(text.len()),
        None => Closer::Wait(floor_boundary(text, keep)),
    }
}

/// `Ok(end)` after `</name ... >`, or `Err(keep_from)`.
fn tag_closer(text: &str, name: &str, finished: bool) -> Result<usize, usize> {
    let b = text.as_bytes();
    for (at, _) in text.match_indices("</") {
        let name_end = at + 2 + name.len();
        if !b
            .get(at + 2..name_end)
            .is_some_and(|n| n.eq_ignore_ascii_case(name.as_bytes()))
        {
            continue;
        }
        match b.get(name_end) {
            None if !finished => return Err(at),
            Some(c) if c.is_ascii_alphanumeric() || *c == b'_' => continue,
            _ => {}
        }
        let window = b.get(name_end..).unwrap_or_default();
        return match window.iter().take(32).position(|c| *c == b'>') {
            Some(gt) => Ok(name_end + gt + 1),
            None if !finished && window.len() < 32 => Err(at),
            None => Ok(name_end),
        };
    }
    Err(text.len().saturating_sub(name.len() + 3))
}

fn prefix(text: &str, max: usize) -> &str {
    text.get(..floor_boundary(text, max)).unwrap_or(text)
}

pub(crate) fn floor_boundary(text: &str, at: usize) -> usize {
    let mut at = at.min(text.len());
    while !text.is_char_boundary(at) {
        at -= 1;
    }
    at
}

enum Mode {
    Text,
    Block(BlockKind),
}

/// The streaming stage: text in, text with reasoning, control tokens and private keys
/// removed out. Same output for any chunking.
pub(crate) struct Dropper {
    pending: String,
    mode: Mode,
    /// Inside a fenced code block opened by this many of this character.
    fence: Option<(u8, usize)>,
    /// The start of the current line (enough to recognize a fence).
    line: Vec<u8>,
    /// Backticks seen on the current line outside fenced code.
    ticks: usize,
}

impl Default for Dropper {
    fn default() -> Self {
        Dropper {
            pending: String::new(),
            mode: Mode::Text,
            fence: None,
            line: Vec::new(),
            ticks: 0,
        }
    }
}

impl Dropper {
    /// Appends what can be released of `chunk` (and of what was held back) to `out`.
    pub(crate) fn push(&mut self, chunk: &str, finished: bool, out: &mut String) {
        self.pending.push_str(chunk);
        let mut pos = 0;
        'stream: loop {
            match self.mode {
                Mode::Block(kind) => match find_closer(&self.pending[pos..], kind, finished) {
                    Closer::Found(end) => {
                        pos += end;
                        self.mode = Mode::Text;
                    }
                    Closer::Wait(keep_from) => {
                        pos += keep_from;
                        break;
                    }
                },
                Mode::Text => {
                    let mut i = pos;
                    while i < self.pending.len() {
                        let byte = self.pending.as_bytes()[i];
                        if byte == b'<' || byte == b'-' {
                            let code = self.fence.is_some() || self.ticks % 2 == 1;
                            match opener_at(&self.pending, i, finished, code) {
                                Opener::Yes(kind, end) => {
                                    out.push_str(&self.pending[pos..i]);
                                    if kind == BlockKind::PrivateKey {
                                        out.push_str(REDACTED);
                                    }
                                    self.mode = Mode::Block(kind);
                                    pos = end;
                                    continue 'stream;
                                }
                                Opener::Token(end) => {
                                    out.push_str(&self.pending[pos..i]);
                                    pos = end;
                                    continue 'stream;
                                }
                                Opener::NeedMore => {
                                    out.push_str(&self.pending[pos..i]);
                                    pos = i;
                                    break 'stream;
                                }
                                Opener::No => {}
                            }
                        }
                        self.track(byte);
                        i += 1;
                    }
                    out.push_str(&self.pending[pos..]);
                    pos = self.pending.len();
                    break;
                }
            }
        }
        self.pending.drain(..pos.min(self.pending.len()));
        if finished {
            self.pending.clear();
        }
    }

    fn track(&mut self, byte: u8) {
        if byte == b'\n' {
            self.end_line();
            return;
        }
        if self.line.len() < 64 {
            self.line.push(byte);
        }
        if byte == b'`' && self.fence.is_none() {
            self.ticks += 1;
        }
    }

    /// A line ended: does it open or close a fenced code block?
    fn end_line(&mut self) {
        self.ticks = 0;
        self.fence = fence_after(&self.line, self.fence);
        self.line.clear();
    }
}

/// Whether a fenced code block is open after `line`, given `fence` before it.
fn fence_after(line: &[u8], fence: Option<(u8, usize)>) -> Option<(u8, usize)> {
    let body = strip_container_prefix(line);
    let Some(&mark) = body.first().filter(|c| **c == b'`' || **c == b'~') else {
        return fence;
    };
    let run = body.iter().take_while(|c| **c == mark).count();
    let rest = &body[run..];
    match fence {
        None if run >= 3 && !(mark == b'`' && rest.contains(&b'`')) => Some((mark, run)),
        Some((open, len))
            if open == mark && run >= len && rest.iter().all(u8::is_ascii_whitespace) =>
        {
            None
        }
        _ => fence,
    }
}

/// The line without leading indentation, block quote markers and list markers.
fn strip_container_prefix(line: &[u8]) -> &[u8] {
    let mut rest = line;
    loop {
        let trimmed = trim_spaces(rest);
        if let Some(after) = trimmed.strip_prefix(b">") {
            rest = after;
            continue;
        }
        if let [b'-' | b'*' | b'+', b' ' | b'\t', after @ ..] = trimmed {
            rest = after;
            continue;
        }
        let digits = trimmed.iter().take_while(|c| c.is_ascii_digit()).count();
        if (1..=9).contains(&digits)
            && matches!(trimmed.get(digits), Some(b'.' | b')'))
            && matches!(trimmed.get(digits + 1), Some(b' ' | b'\t'))
        {
            rest = &trimmed[digits + 2..];
            continue;
        }
        return trimmed;
    }
}

fn trim_spaces(line: &[u8]) -> &[u8] {
    let start = line
        .iter()
        .position(|c| *c != b' ' && *c != b'\t')
        .unwrap_or(line.len());
    &line[start..]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tag_closer_is_found_and_partial_closers_are_kept() {
        assert!(matches!(
            find_closer("abc</think >rest", BlockKind::Tag("think"), false),
            Closer::Found(12)
        ));
        assert!(matches!(
            find_closer("abc</thi", BlockKind::Tag("think"), false),
            Closer::Wait(0)
        ));
        assert!(matches!(
            find_closer("a</thinking>", BlockKind::Tag("think"), false),
            Closer::Wait(4)
        ));
    }
}

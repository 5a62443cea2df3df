//! Blocks that are dropped from replies as a whole: reasoning elements (`<think>`,
//! `<thinking>`, `<reasoning>`, …), `<script>`/`<style>` elements, harmony analysis /
//! commentary channels (`<|channel|>analysis … <|end|>`) and PEM private keys (replaced by
//! `[redacted]`). An opener without its closer drops everything to the end of the reply.
//! Openers need at most `scan::LOOKAHEAD` bytes to decide; closers are searched in the
//! pending text, keeping only a closer-sized tail while waiting.
use super::scan::floor_boundary;
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
    "script",
    "style",
];
const HARMONY_OPENERS: &[&str] = &["<|channel|>analysis", "<|channel|>commentary"];
const HARMONY_CLOSERS: &[(&str, bool)] = &[
    ("<|end|>", true),
    ("<|start|>", false),
    ("<|channel|>final", false),
];

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
    No,
    NeedMore,
}

pub(crate) fn opener_at(text: &str, i: usize, finished: bool) -> Opener {
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
    if b.get(1) == Some(&b'|') || (b.len() == 1 && !finished) {
        for opener in HARMONY_OPENERS {
            if rest.starts_with(opener) {
                return Opener::Yes(BlockKind::Harmony, i + opener.len());
            }
            if !finished && opener.starts_with(rest) {
                return Opener::NeedMore;
            }
        }
        return Opener::No;
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

//! Segmentation of a streamed reply.
//!
//! [`scan`] finds the first event in the pending text: a *cut* (the end of a sentence or
//! line outside any open tag or markdown link), the start of a *block* to drop (reasoning
//! tags, `script`/`style`, harmony analysis channels, PEM private keys; see `blocks.rs`), or a *forced* cut
//! when no event occurs within [`MAX_SEGMENT`] bytes. Every decision depends only on the
//! text up to the event plus at most [`LOOKAHEAD`] bytes, and is deferred (`NeedMore`)
//! while that lookahead is missing — so the events, and therefore the output, are the same
//! however the reply is chunked. The pending window is thus bounded by
//! `MAX_SEGMENT + LOOKAHEAD` = 512 bytes (≤ 512 characters) in text, and by the closer's
//! length inside a dropped block.
use super::blocks::{opener_at, BlockKind, Opener};

pub(crate) const MAX_SEGMENT: usize = 416;
pub(crate) const LOOKAHEAD: usize = 96;

#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Event {
    Cut(usize),
    Forced(usize),
    Block {
        start: usize,
        end: usize,
        kind: BlockKind,
    },
    NeedMore,
    /// Only when finished: no further event, the rest is one segment.
    End,
}

pub(crate) fn scan(text: &str, finished: bool) -> Event {
    let b = text.as_bytes();
    let (mut depth, mut dest, mut in_tag) = (0u32, 0u32, false);
    let mut i = 0;
    while i < b.len() {
        if i >= MAX_SEGMENT {
            return if finished || b.len() >= MAX_SEGMENT + LOOKAHEAD {
                Event::Forced(forced_cut(text))
            } else {
                Event::NeedMore
            };
        }
        let next = b.get(i + 1).copied();
        let cut_ok = depth == 0 && dest == 0 && !in_tag;
        match b[i] {
            b'<' | b'-' => match opener_at(text, i, finished) {
                Opener::Yes(kind, end) => {
                    return Event::Block {
                        start: i,
                        end,
                        kind,
                    }
                }
                Opener::NeedMore => return Event::NeedMore,
                Opener::No => {
                    if b[i] == b'<'
                        && next.is_some_and(|n| n.is_ascii_alphabetic() || b"/!?".contains(&n))
                    {
                        in_tag = true;
                    }
                }
            },
            b'>' => in_tag = false,
            b'[' if !in_tag => depth += 1,
            b']' if depth > 0 => {
                depth -= 1;
                if depth == 0 && next == Some(b'(') {
                    dest = 1;
                    i += 1;
                }
            }
            b'(' if dest > 0 => dest += 1,
            b')' if dest > 0 => dest -= 1,
            b'\n' => {
                dest = 0;
                if next == Some(b'\n') {
                    depth = 0;
                    in_tag = false;
                }
                if depth == 0 && !in_tag {
                    return Event::Cut(i + 1);
                }
            }
            b'.' | b'!' | b'?' if cut_ok => {
                if let Some(ws) = text
                    .get(i + 1..)
                    .and_then(|t| t.chars().next())
                    .filter(|c| c.is_whitespace())
                {
                    return Event::Cut(i + 1 + ws.len_utf8());
                }
            }
            0xE3 | 0xEF if cut_ok => {
                let rest = text.get(i..).unwrap_or_default();
                if let Some(stop) = ["。", "！", "？"].iter().find(|s| rest.starts_with(**s)) {
                    return Event::Cut(i + stop.len());
                }
            }
            _ => {}
        }
        i += 1;
    }
    if finished {
        Event::End
    } else {
        Event::NeedMore
    }
}

fn forced_cut(text: &str) -> usize {
    let limit = floor_boundary(text, MAX_SEGMENT);
    text.as_bytes()
        .get(..limit)
        .and_then(|head| head.iter().rposition(|c| c.is_ascii_whitespace()))
        .filter(|ws| *ws > 0)
        .map_or(limit, |ws| ws + 1)
}

pub(crate) fn floor_boundary(text: &str, at: usize) -> usize {
    let mut at = at.min(text.len());
    while !text.is_char_boundary(at) {
        at -= 1;
    }
    at
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sentence_end_followed_by_space_is_a_cut() {
        assert_eq!(scan("Hi there. Next", false), Event::Cut(10));
        assert_eq!(scan("Version 3.14 is", false), Event::NeedMore);
    }

    #[test]
    fn open_markdown_link_defers_the_cut() {
        assert_eq!(
            scan("See [this. link](http://x.y/a. b) now. Ok", false),
            Event::Cut(39)
        );
    }

    #[test]
    fn open_tag_defers_the_cut() {
        assert_eq!(scan("<a title=\"x. y\">t</a>. z", false), Event::Cut(23));
    }

    #[test]
    fn reasoning_tags_open_blocks_case_insensitively() {
        let Event::Block { start, kind, .. } = scan("ok <THINKING>plan", false) else {
            panic!()
        };
        assert_eq!((start, kind), (3, BlockKind::Tag("thinking")));
        assert_eq!(scan("ok <thin", false), Event::NeedMore);
        assert!(matches!(scan("ok <think", true), Event::Block { .. }));
        assert!(matches!(scan("ok <thinker> x", true), Event::End));
    }

    #[test]
    fn long_text_without_sentence_end_is_cut_at_whitespace_within_the_bound() {
        let text = "word ".repeat(200);
        let Event::Forced(at) = scan(&text, false) else {
            panic!()
        };
        assert!(at <= MAX_SEGMENT && text[..at].ends_with(' '));
        assert_eq!(scan(&text[..MAX_SEGMENT + 10], false), Event::NeedMore);
    }
}

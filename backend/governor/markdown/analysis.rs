//! One parse of the text a renderer will see (the governed part of the current top-level
//! block plus the raw text after it), with what the stream needs to know about it: where
//! inline constructs, code, tables and HTML begin and end, and where top-level blocks end.
use pulldown_cmark::{Event, Options, Parser, Tag};
use std::ops::Range;

/// GFM as the renderers we target read it: tables, strikethrough, task lists, footnotes.
pub(super) fn options() -> Options {
    Options::ENABLE_TABLES
        | Options::ENABLE_STRIKETHROUGH
        | Options::ENABLE_TASKLISTS
        | Options::ENABLE_FOOTNOTES
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Span {
    /// A construct a cut must never split: links, images, code spans, inline HTML, HTML
    /// blocks, link reference definitions.
    Atomic,
    /// Code block: inert content, cut only at line ends.
    CodeBlock,
    /// Table: cut only at row ends.
    Table,
}

pub(super) struct Analysis<'a> {
    pub(super) events: Vec<(Event<'a>, Range<usize>)>,
    /// Link reference definitions (never written back).
    pub(super) definitions: Vec<Range<usize>>,
    spans: Vec<(Span, Range<usize>)>,
    /// Ranges of the top-level blocks, in order.
    blocks: Vec<Range<usize>>,
}

impl<'a> Analysis<'a> {
    pub(super) fn new(text: &'a str) -> Self {
        let mut parser = Parser::new_ext(text, options()).into_offset_iter();
        let mut events = Vec::new();
        let mut spans = Vec::new();
        let mut blocks = Vec::new();
        let mut depth = 0usize;
        for (event, range) in parser.by_ref() {
            match &event {
                Event::Start(tag) => {
                    if depth == 0 {
                        blocks.push(range.clone());
                    }
                    depth += 1;
                    let span = match tag {
                        Tag::Link { .. } | Tag::Image { .. } | Tag::HtmlBlock => Some(Span::Atomic),
                        Tag::CodeBlock(_) => Some(Span::CodeBlock),
                        Tag::Table(_) => Some(Span::Table),
                        _ => None,
                    };
                    if let Some(span) = span {
                        spans.push((span, range.clone()));
                    }
                }
                Event::End(_) => depth = depth.saturating_sub(1),
                Event::Code(_) | Event::InlineHtml(_) | Event::Html(_) => {
                    spans.push((Span::Atomic, range.clone()));
                }
                _ => {
                    if depth == 0 {
                        blocks.push(range.clone());
                    }
                }
            }
            events.push((event, range));
        }
        let definitions: Vec<Range<usize>> = parser
            .reference_definitions()
            .iter()
            .map(|(_, def)| def.span.clone())
            .collect();
        spans.extend(definitions.iter().map(|r| (Span::Atomic, r.clone())));
        Analysis {
            events,
            definitions,
            spans,
            blocks,
        }
    }

    /// May the text be cut at byte `at` (after a line end when `line_end`)? Never inside a
    /// link, image, code span, HTML or definition; inside code blocks and tables only at a
    /// line end; and never after a line with a `|` outside a table, which a following
    /// delimiter row could still turn into a table header.
    pub(super) fn allows_cut(&self, text: &str, at: usize, line_end: bool) -> bool {
        let mut in_table = false;
        for (span, range) in &self.spans {
            if !(range.start < at && at < range.end) {
                continue;
            }
            match span {
                Span::Atomic => return false,
                Span::CodeBlock if !line_end => return false,
                Span::CodeBlock => {}
                Span::Table if !line_end => return false,
                Span::Table => in_table = true,
            }
        }
        if in_table || self.in_code_block(at) {
            return true;
        }
        let line_start = text[..at.min(text.len())]
            .trim_end_matches('\n')
            .rfind('\n')
            .map_or(0, |i| i + 1);
        !has_unescaped_pipe(text.get(line_start..at).unwrap_or_default())
    }

    fn in_code_block(&self, at: usize) -> bool {
        self.spans
            .iter()
            .any(|(span, r)| *span == Span::CodeBlock && r.start < at && at <= r.end)
    }

    /// True when every top-level block that starts before `at` also ends there: the text
    /// before `at` can be forgotten without changing how the rest parses.
    pub(super) fn between_blocks(&self, at: usize) -> bool {
        self.blocks
            .iter()
            .all(|block| block.start >= at || block.end <= at)
    }
}

fn has_unescaped_pipe(line: &str) -> bool {
    let bytes = line.as_bytes();
    bytes
        .iter()
        .enumerate()
        .any(|(i, b)| *b == b'|' && (i == 0 || bytes[i - 1] != b'\\'))
}

/// The event index of the `End` matching the `Start` at `start`.
pub(super) fn matching_end(events: &[(Event<'_>, Range<usize>)], start: usize) -> usize {
    let mut depth = 0usize;
    for (i, (event, _)) in events.iter().enumerate().skip(start) {
        match event {
            Event::Start(_) => depth += 1,
            Event::End(_) => {
                depth -= 1;
                if depth == 0 {
                    return i;
                }
            }
            _ => {}
        }
    }
    events.len().saturating_sub(1)
}

//! Writes a region of the parsed text back as governed Markdown, by source spans: what the
//! parser read as harmless is copied as it was (so benign answers render exactly as
//! written), and each node that could load, run or link something is replaced:
//!
//! * code spans and code blocks: verbatim (inert in every renderer);
//! * text: openers escaped, linkable words made code spans (`text.rs`);
//! * raw HTML (inline or block) and link reference definitions: dropped;
//! * images: their alt text;
//! * inline links: kept, with a normalized destination, only to allowlisted `http(s)`
//!   hosts, otherwise their text; reference-style links: their text; autolinks: kept only
//!   when allowlisted, otherwise a code span.
//!
//! Alongside, the prose and the code of the region are collected for leak detection.
use super::super::links::Allowlist;
use super::analysis::{matching_end, Analysis};
use super::text::{code_span, escape_into, has_linkable, write_text, Escape};
use pulldown_cmark::{Event, LinkType, Tag};
use std::ops::Range;

/// What a region contained, for leak detection (decoded text, never written anywhere).
#[derive(Debug, Default)]
pub(crate) struct Contents {
    pub(crate) prose: String,
    pub(crate) code: String,
    /// All of it as a reader sees it: text and code joined where nothing visible
    /// separates them (a secret split by markup shows here whole).
    pub(crate) visible: String,
}

pub(super) struct Writer<'w> {
    pub(super) src: &'w str,
    pub(super) analysis: &'w Analysis<'w>,
    pub(super) allow: &'w Allowlist,
}

type Events<'a> = [(Event<'a>, Range<usize>)];

impl Writer<'_> {
    /// Governed Markdown for `src[region]`, with the region's contents.
    pub(super) fn region(&self, region: Range<usize>, contents: &mut Contents) -> String {
        let mut out = String::with_capacity(region.len() + 16);
        self.walk(&self.analysis.events, region, contents, &mut out);
        out
    }

    fn walk(
        &self,
        events: &Events<'_>,
        region: Range<usize>,
        contents: &mut Contents,
        out: &mut String,
    ) {
        let mut pos = region.start;
        let mut code_depth = 0usize;
        let mut table_depth = 0usize;
        let mut i = 0;
        while i < events.len() {
            let (event, range) = &events[i];
            if range.start >= region.end {
                break;
            }
            match event {
                Event::Start(tag @ (Tag::Link { .. } | Tag::Image { .. } | Tag::HtmlBlock)) => {
                    let end = matching_end(events, i);
                    let mut range = range.clone();
                    if matches!(
                        tag,
                        Tag::Link {
                            link_type: LinkType::Collapsed,
                            ..
                        } | Tag::Image {
                            link_type: LinkType::Collapsed,
                            ..
                        }
                    ) && self.src.get(range.end..range.end + 2) == Some("[]")
                    {
                        range.end += 2;
                    }
                    if range.end > region.start && range.start >= pos {
                        self.copy(pos, range.start, out);
                        match tag {
                            Tag::HtmlBlock => out.push('\n'),
                            Tag::Image { .. } => {
                                let alt = plain_text(&events[i + 1..end]);
                                contents.prose.push_str(&alt);
                                contents.prose.push(' ');
                                contents.visible.push_str(&alt);
                                write_text(&alt, Escape::All, self.allow, table_depth > 0, out);
                            }
                            Tag::Link {
                                link_type,
                                dest_url,
                                title,
                                ..
                            } => self.link(
                                *link_type,
                                dest_url,
                                title,
                                &events[i + 1..end],
                                table_depth > 0,
                                contents,
                                out,
                            ),
                            _ => {}
                        }
                        pos = range.end;
                    }
                    i = end + 1;
                    continue;
                }
                Event::Start(Tag::CodeBlock(_)) => code_depth += 1,
                Event::End(pulldown_cmark::TagEnd::CodeBlock) => {
                    code_depth = code_depth.saturating_sub(1)
                }
                Event::Start(Tag::Table(_)) => table_depth += 1,
                Event::End(pulldown_cmark::TagEnd::Table) => {
                    table_depth = table_depth.saturating_sub(1)
                }
                Event::Text(_) if code_depth > 0 => {
                    let (from, to) = (range.start.max(region.start), range.end.min(region.end));
                    if from < to {
                        contents.code.push_str(&self.src[from..to]);
                        contents.visible.push_str(&self.src[from..to]);
                    }
                }
                Event::Text(_) => {
                    let run_end = text_run_end(events, i);
                    let run = &events[i..run_end];
                    let last = &run[run.len() - 1].1;
                    if last.end > region.start {
                        let start = range.start.max(region.start).max(pos);
                        let end = last.end.min(region.end);
                        self.copy(pos, start, out);
                        self.text_run(run, start..end, table_depth > 0, contents, out);
                        pos = end;
                    }
                    i = run_end;
                    continue;
                }
                Event::Code(code) if range.end > region.start => {
                    contents.code.push_str(code);
                    contents.code.push('\n');
                    contents.visible.push_str(code);
                }
                Event::SoftBreak | Event::HardBreak | Event::End(_) if range.end > region.start => {
                    contents.visible.push('\n');
                }
                Event::InlineHtml(_) | Event::Html(_)
                    if range.end > region.start && range.start >= pos =>
                {
                    self.copy(pos, range.start, out);
                    pos = range.end;
                }
                _ => {}
            }
            i += 1;
        }
        self.copy(pos, region.end, out);
    }

    /// Copies `src[from..to]` except link reference definitions inside it.
    fn copy(&self, from: usize, to: usize, out: &mut String) {
        let mut at = from;
        for def in &self.analysis.definitions {
            if def.end <= at || def.start >= to {
                continue;
            }
            if def.start > at {
                out.push_str(&self.src[at..def.start]);
            }
            at = def.end.min(to);
        }
        if at < to {
            out.push_str(&self.src[at..to]);
        }
    }

    /// A run of text events (contiguous in the source apart from escaping backslashes),
    /// written for `src[span]`. An escaping backslash just before the run was already
    /// copied; those between its events are written here.
    fn text_run(
        &self,
        run: &Events<'_>,
        span: Range<usize>,
        in_table: bool,
        contents: &mut Contents,
        out: &mut String,
    ) {
        let bytes = self.src.as_bytes();
        let mut pieces: Vec<(&str, &str, bool)> = Vec::with_capacity(run.len());
        let mut prev_end: Option<usize> = None;
        for (event, r) in run
            .iter()
            .filter(|(_, r)| r.end > span.start && r.start < span.end)
        {
            let (from, to) = (r.start.max(span.start), r.end.min(span.end));
            let source = &self.src[from..to];
            let decoded = match event {
                Event::Text(t) if from == r.start && to == r.end => t.as_ref(),
                _ => source,
            };
            let after_escape = match prev_end {
                Some(end) => from == end + 1,
                None => {
                    from == r.start
                        && from > 0
                        && bytes[from - 1] == b'\\'
                        && source.starts_with(|c: char| c.is_ascii_punctuation())
                }
            };
            prev_end = Some(r.end);
            pieces.push((decoded, source, after_escape));
        }
        let decoded: String = pieces.iter().map(|(d, _, _)| *d).collect();
        contents.prose.push_str(&decoded);
        contents.prose.push(' ');
        contents.visible.push_str(&decoded);
        let simple = pieces.iter().all(|(d, s, escaped)| d == s && !escaped);
        if simple {
            write_text(&decoded, Escape::Openers, self.allow, in_table, out);
        } else if !has_linkable(&decoded) {
            for (k, (d, source, escaped)) in pieces.iter().enumerate() {
                if *escaped {
                    if k > 0 {
                        out.push('\\');
                    }
                    let mut chars = source.chars();
                    if let Some(first) = chars.next() {
                        out.push(first);
                    }
                    escape_into(chars.as_str(), Escape::Openers, out);
                } else if d != source {
                    out.push_str(source);
                } else {
                    escape_into(source, Escape::Openers, out);
                }
            }
        } else {
            let mut rest = decoded.as_str();
            if pieces.first().is_some_and(|(_, _, escaped)| *escaped) {
                let mut chars = rest.chars();
                if let Some(first) = chars.next() {
                    out.push(first);
                }
                rest = chars.as_str();
            }
            write_text(rest, Escape::All, self.allow, in_table, out);
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn link(
        &self,
        link_type: LinkType,
        dest: &str,
        title: &str,
        children: &Events<'_>,
        in_table: bool,
        contents: &mut Contents,
        out: &mut String,
    ) {
        match link_type {
            LinkType::Autolink | LinkType::Email => {
                match (link_type, self.allow.allowed_http_url(dest)) {
                    (LinkType::Autolink, Some(url)) => {
                        out.push('<');
                        out.push_str(&url);
                        out.push('>');
                    }
                    _ => code_span(dest, in_table, out),
                }
            }
            _ => {
                let allowed = self.allow.allowed_http_url(dest);
                let text = self.children(children, contents);
                match allowed {
                    Some(url) => {
                        out.push('[');
                        out.push_str(&text);
                        out.push_str("](");
                        out.push_str(&url);
                        if !title.is_empty() {
                            out.push_str(" \"");
                            for c in title.chars() {
                                if c == '"' || c == '\\' {
                                    out.push('\\');
                                }
                                out.push(c);
                            }
                            out.push('"');
                        }
                        out.push(')');
                    }
                    None => out.push_str(&text),
                }
            }
        }
    }

    /// Link text: its children, governed like any other inline content.
    fn children(&self, children: &Events<'_>, contents: &mut Contents) -> String {
        let (Some(first), Some(last)) = (children.first(), children.last()) else {
            return String::new();
        };
        let mut out = String::new();
        self.walk(children, first.1.start..last.1.end, contents, &mut out);
        out
    }
}

/// Index after the run of text events starting at `start`, where consecutive events touch
/// or are separated only by an escaping backslash.
fn text_run_end(events: &Events<'_>, start: usize) -> usize {
    let mut end = start + 1;
    while let (Some((Event::Text(_), next)), Some((_, prev))) =
        (events.get(end), events.get(end - 1))
    {
        if next.start == prev.end || next.start == prev.end + 1 {
            end += 1;
        } else {
            break;
        }
    }
    end
}

/// The plain text of an image's alt or a link's label.
fn plain_text(events: &Events<'_>) -> String {
    let mut text = String::new();
    for (event, _) in events {
        match event {
            Event::Text(t) | Event::Code(t) => text.push_str(t),
            Event::SoftBreak | Event::HardBreak => text.push(' '),
            _ => {}
        }
    }
    text
}

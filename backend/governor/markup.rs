//! Neutralizing executable content in replies.
//!
//! # Output format
//! A governed reply is **HTML-safe Markdown**: it may be rendered as Markdown or inserted
//! into a page as HTML, and neither runs code nor loads a resource.
//! * Raw HTML is sanitized by ammonia: only attribute-less formatting tags survive (`b i em
//!   strong code pre br p ul ol li blockquote sub sup del s kbd hr`) plus `<a href>` to an
//!   allowlisted host (with `rel="noopener noreferrer"`). `script`/`style` lose their
//!   content; every other tag is dropped and its text kept. Text is entity-escaped where
//!   it passed through the sanitizer (`&lt;`, `&amp;`; `>` stays literal so Markdown
//!   block quotes keep working — it cannot open a tag).
//! * Markdown links and images follow `links.rs` (images never load).
//! * `javascript:` / `vbscript:` / `livescript:` in text get an entity colon (`&#58;`) and
//!   event-handler-like `onxxx=` an entity `=` (`&#61;`): they still read the same when
//!   rendered but can never be a scheme or an attribute.
//! * Model control tokens (`<|start|>`, `<|channel|>final`, `<|message|>` …) are removed.
use super::links::{self, Allowlist};
use ammonia::{Builder, UrlRelative};
use once_cell::sync::Lazy;
use regex::{Captures, Regex};
use std::borrow::Cow;
use std::collections::{HashMap, HashSet};
use std::sync::Arc;

static CONTROL_TOKENS: Lazy<Regex> = Lazy::new(|| {
    Regex::new(r"<\|(?:start|channel)\|>[A-Za-z_]*|<\|[A-Za-z_]{1,24}\|>").expect("tokens compile")
});
static AUTOLINK: Lazy<Regex> = Lazy::new(|| {
    Regex::new(r#"(?i)<((?:https?|mailto):[^\s<>"]*|[^\s<>"@:/]+@[^\s<>"@]+\.[a-z]{2,})>"#)
        .expect("autolink compiles")
});
static SCHEME: Lazy<Regex> =
    Lazy::new(|| Regex::new(r"(?i)\b((?:java|vb|live)script\s*):").expect("scheme compiles"));
static HANDLER: Lazy<Regex> =
    Lazy::new(|| Regex::new(r"(?i)\b(on[a-z]{2,}\s*)=").expect("handler compiles"));

pub(crate) fn warm_up() {
    for regex in [&CONTROL_TOKENS, &AUTOLINK, &SCHEME, &HANDLER] {
        Lazy::force(regex);
    }
}

pub(crate) struct Markup {
    html: Builder<'static>,
    allow: Arc<Allowlist>,
}

impl Markup {
    pub(crate) fn new(allow: Arc<Allowlist>) -> Self {
        let mut html = Builder::empty();
        let filter_allow = Arc::clone(&allow);
        // The fast path's tags (SIMPLE_TAGS, VOID_TAGS) plus `a`, whose href is filtered.
        html.tags(
            SIMPLE_TAGS
                .iter()
                .chain(VOID_TAGS)
                .chain(&["a"])
                .copied()
                .collect::<HashSet<_>>(),
        )
        .tag_attributes(HashMap::from([("a", HashSet::from(["href"]))]))
        .generic_attributes(HashSet::new())
        .url_schemes(HashSet::from(["http", "https", "mailto"]))
        .url_relative(UrlRelative::Deny)
        .clean_content_tags(HashSet::from(["script", "style"]))
        .strip_comments(true)
        .attribute_filter(move |element, attribute, value| {
            // Runs after ammonia's own checks: only `href` and the added `rel` get here.
            if element == "a" && attribute == "href" {
                filter_allow.allowed_url(value).map(Cow::Owned)
            } else {
                Some(Cow::Borrowed(value))
            }
        });
        Markup { html, allow }
    }

    /// Makes one reply segment HTML-safe Markdown. `cut_after`: the segment was cut off
    /// inside a construct (see `links::rewrite`).
    pub(crate) fn sanitize(&self, segment: &str, cut_after: bool) -> String {
        let mut text = Cow::Borrowed(segment);
        if text.contains("<|") {
            text = Cow::Owned(CONTROL_TOKENS.replace_all(&text, "").into_owned());
        }
        if text.contains('<') {
            let replaced = AUTOLINK.replace_all(&text, |caps: &Captures| {
                let target = caps.get(1).map_or("", |m| m.as_str());
                match self.allow.allowed_url(target) {
                    Some(url) => format!("[{target}]({url})"),
                    None => target.to_owned(),
                }
            });
            if let Cow::Owned(replaced) = replaced {
                text = Cow::Owned(replaced);
            }
        }
        if text.contains(['<', '&']) {
            let cleaned = match simple_markup(&text) {
                Some(simple) => simple,
                None => self.html.clean(&text).to_string().replace("&gt;", ">"),
            };
            text = Cow::Owned(cleaned);
        }
        let linked = links::rewrite(&text, &self.allow, cut_after);
        neutralize(linked)
    }
}

const SIMPLE_TAGS: &[&str] = &[
    "b",
    "i",
    "em",
    "strong",
    "code",
    "pre",
    "p",
    "ul",
    "ol",
    "li",
    "blockquote",
    "sub",
    "sup",
    "del",
    "s",
    "kbd",
];
const VOID_TAGS: &[&str] = &["br", "hr"];

/// Fast path for the common case, with the same result as the sanitizer would give: the
/// only markup is balanced attribute-less allowed tags and bare `&`s (escaped to `&amp;`).
/// Anything else (attributes, other tags, entities, comments) returns `None`.
fn simple_markup(text: &str) -> Option<String> {
    let mut out = String::with_capacity(text.len() + 16);
    let mut open: Vec<&str> = Vec::new();
    let mut rest = text;
    while let Some(at) = rest.find(['<', '&']) {
        out.push_str(&rest[..at]);
        let tail = &rest[at..];
        if let Some(after) = tail.strip_prefix('&') {
            let entity_like = after
                .bytes()
                .take_while(|b| b.is_ascii_alphanumeric() || *b == b'#')
                .count();
            if entity_like > 0 && tail.as_bytes().get(1 + entity_like) == Some(&b';') {
                return None;
            }
            out.push_str("&amp;");
            rest = after;
            continue;
        }
        let end = tail.find('>')?;
        let inner = &tail[1..end];
        let (closing, name) = match inner.strip_prefix('/') {
            Some(name) => (true, name),
            None => (false, inner.trim_end_matches('/').trim_end()),
        };
        if VOID_TAGS.contains(&name) && !closing {
            out.push('<');
            out.push_str(name);
            out.push('>');
        } else if SIMPLE_TAGS.contains(&name) && !inner.ends_with('/') {
            if closing {
                if open.pop() != Some(name) {
                    return None;
                }
            } else {
                open.push(name);
            }
            out.push_str(if closing { "</" } else { "<" });
            out.push_str(name);
            out.push('>');
        } else {
            return None;
        }
        rest = &tail[end + 1..];
    }
    if !open.is_empty() {
        return None;
    }
    out.push_str(rest);
    Some(out)
}

fn neutralize(mut text: String) -> String {
    if contains_ignore_ascii_case(&text, "script") {
        if let Cow::Owned(replaced) = SCHEME.replace_all(&text, "$1&#58;") {
            text = replaced;
        }
    }
    if text.contains('=') && contains_ignore_ascii_case(&text, "on") {
        if let Cow::Owned(replaced) = HANDLER.replace_all(&text, "$1&#61;") {
            text = replaced;
        }
    }
    text
}

fn contains_ignore_ascii_case(haystack: &str, needle: &str) -> bool {
    haystack
        .as_bytes()
        .windows(needle.len())
        .any(|w| w.eq_ignore_ascii_case(needle.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn markup(hosts: &[&str]) -> Markup {
        Markup::new(Arc::new(Allowlist::new(
            &hosts.iter().map(|h| h.to_string()).collect::<Vec<_>>(),
        )))
    }

    #[test]
    fn script_style_and_resource_tags_are_removed() {
        let m = markup(&[]);
        let out = m.sanitize(
            "a<script>alert(1)</script><style>*{}</style><iframe src=x></iframe><img src=x onerror=alert(1)>\
             <svg onload=alert(1)><object data=x></object><embed src=x><form><link rel=x><meta http-equiv=x>b",
            false,
        );
        assert_eq!(out, "ab");
    }

    #[test]
    fn formatting_tags_survive_without_attributes() {
        let out = markup(&[]).sanitize("<b onclick=\"x()\" class=c>bold</b> <code>x</code>", false);
        assert_eq!(out, "<b>bold</b> <code>x</code>");
    }

    #[test]
    fn obfuscated_javascript_links_are_neutralized() {
        let m = markup(&["example.com"]);
        for html in [
            "<a href=\"JaVaScRiPt:alert(1)\">x</a>",
            "<a href=\"&#106;avascript&#58;alert(1)\">x</a>",
            "<a href=\"java\tscript:alert(1)\">x</a>",
            "<a href=\" javascript:alert(1)\">x</a>",
            "<a href=\"data:text/html;base64,PHNjcmlwdD4=\">x</a>",
            "<a href=\"vbscript:msgbox(1)\">x</a>",
        ] {
            assert_eq!(
                m.sanitize(html, false),
                "<a rel=\"noopener noreferrer\">x</a>",
                "{html}"
            );
        }
    }

    #[test]
    fn anchors_to_allowlisted_hosts_keep_their_href() {
        let out = markup(&["example.com"])
            .sanitize("<a href=\"https://www.example.com/a?b=1&c=2\">x</a>", false);
        assert_eq!(
            out,
            "<a href=\"https://www.example.com/a?b=1&amp;c=2\" rel=\"noopener noreferrer\">x</a>"
        );
    }

    #[test]
    fn scheme_and_handler_text_cannot_act_as_code() {
        let out = markup(&[]).sanitize(
            "try JavaScript:alert(1) or \" onload=x and onerror = y",
            false,
        );
        assert!(!out.to_ascii_lowercase().contains("javascript:"), "{out}");
        assert!(
            !out.contains("onload=") && !out.contains("onerror ="),
            "{out}"
        );
        assert!(out.contains("JavaScript&#58;alert(1)"));
    }

    #[test]
    fn escaped_markup_in_text_stays_escaped_and_quotes_keep_working() {
        let out = markup(&[]).sanitize("> quote &lt;script&gt; a < b && c", false);
        assert_eq!(out, "> quote &lt;script> a &lt; b &amp;&amp; c");
    }

    #[test]
    fn autolinks_keep_only_allowlisted_targets() {
        let m = markup(&["example.com"]);
        assert_eq!(
            m.sanitize("<https://evil.net/?q=s> <https://example.com/x>", false),
            "https://evil.net/?q=s [https://example.com/x](https://example.com/x)"
        );
    }

    #[test]
    fn fast_path_gives_the_same_result_as_the_sanitizer() {
        let m = markup(&[]);
        for text in [
            "a & b <b>bold</b> <br> <br/> <hr /> c > d",
            "<em>x</em><code>a && b</code><ul><li>1</li></ul>",
            "<p>par</p><blockquote>q</blockquote><kbd>k</kbd><s>s</s><del>d</del><sub>1</sub>",
        ] {
            let fast = simple_markup(text);
            assert!(fast.is_some(), "{text}");
            assert_eq!(
                fast,
                Some(m.html.clean(text).to_string().replace("&gt;", ">")),
                "{text}"
            );
        }
        for text in [
            "<b>open",
            "</b>",
            "<b class=x>y</b>",
            "&lt;",
            "<i><b>x</i></b>",
            "<B>x</B>",
            "<!-- c -->",
        ] {
            assert_eq!(simple_markup(text), None, "{text}");
        }
    }

    #[test]
    fn model_control_tokens_are_removed() {
        let out = markup(&[]).sanitize("<|start|>assistant<|channel|>final<|message|>Hi", false);
        assert_eq!(out, "Hi");
    }
}

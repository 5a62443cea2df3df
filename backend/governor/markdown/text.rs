//! Writing text back as Markdown. Text a parser read as plain text must stay plain text in
//! every renderer, whatever follows it:
//!
//! * `[`, `]`, `<` and backticks are backslash-escaped (they render the same, but can no
//!   longer open a link, an image, a reference, an autolink, raw HTML or a code span);
//! * a word that any GFM autolinker would turn into a link (a URL with a scheme, a
//!   protocol-relative `//host`, `www.`, an e-mail address, `mailto:`, or a bare domain
//!   with a top-level domain linkify knows) becomes a code span, unless it is a plain
//!   `http(s)` URL or domain on an allowlisted host.
use super::super::links::Allowlist;
use once_cell::sync::Lazy;
use regex::Regex;

/// How much of the text to escape.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Escape {
    /// Only what can open a construct (`[ ] < \``): for text written back as it was.
    Openers,
    /// Every ASCII punctuation character: for text rebuilt from its decoded form (alt
    /// text, text that held entities), so nothing in it can mean Markdown.
    All,
}

const GENERIC_TLDS: &str = "com|net|org|edu|gov|mil|int|biz|info|name|pro|web|xxx|aero|asia|coop|museum|shop|app|dev|xyz|online|site|top";
const COUNTRY_TLDS: &str = "ac|ad|ae|af|ag|ai|al|am|ao|aq|ar|as|at|au|aw|ax|az|ba|bb|bd|be|bf|bg|bh|bi|bj|bm|bn|bo|br|bs|bt|bw|by|bz|ca|cc|cd|cf|cg|ch|ci|ck|cl|cm|cn|co|cr|cu|cv|cw|cx|cy|cz|de|dj|dk|dm|do|dz|ec|ee|eg|er|es|et|eu|fi|fj|fk|fm|fo|fr|ga|gb|gd|ge|gf|gg|gh|gi|gl|gm|gn|gp|gq|gr|gs|gt|gu|gw|gy|hk|hm|hn|hr|ht|hu|id|ie|il|im|in|io|iq|ir|is|it|je|jm|jo|jp|ke|kg|kh|ki|km|kn|kp|kr|kw|ky|kz|la|lb|lc|li|lk|lr|ls|lt|lu|lv|ly|ma|mc|md|me|mg|mh|mk|ml|mm|mn|mo|mp|mq|mr|ms|mt|mu|mv|mw|mx|my|mz|na|nc|ne|nf|ng|ni|nl|no|np|nr|nu|nz|om|pa|pe|pf|pg|ph|pk|pl|pm|pn|pr|ps|pt|pw|py|qa|re|ro|rs|ru|rw|sa|sb|sc|sd|se|sg|sh|si|sk|sl|sm|sn|so|sr|ss|st|su|sv|sx|sy|sz|tc|td|tf|tg|th|tj|tk|tl|tm|tn|to|tr|tt|tv|tw|tz|ua|ug|uk|us|uy|uz|va|vc|ve|vg|vi|vn|vu|wf|ws|ye|yt|za|zm|zw";

/// Anything in a word that some autolinker (GFM's extended autolinks, linkify-it with
/// fuzzy links and e-mails) could turn into a link.
static LINKABLE: Lazy<Regex> = Lazy::new(|| {
    Regex::new(&format!(
        r"(?i)[a-z][a-z0-9+.\-]*:/|mailto:|//[^\s/]|www\.|[^\s@]@[^\s@]+\.|(?:[\p{{L}}\p{{N}}_\-]+\.)+(?:{GENERIC_TLDS}|{COUNTRY_TLDS}|рф)(?:[^\p{{L}}\p{{N}}_\-]|$)"
    ))
    .expect("linkable pattern compiles")
});

/// A plain link to a host that may be linked: scheme `http(s)` or none, then a host,
/// port, path, query and fragment of characters no renderer reads differently.
static PLAIN_URL: Lazy<Regex> = Lazy::new(|| {
    Regex::new(
        r"(?i)^(?:https?://)?(?P<host>[a-z0-9](?:[a-z0-9\-]*[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9\-]*[a-z0-9])?)+)(?::[0-9]{1,5})?(?:/[a-z0-9._~/%+\-]*)?(?:\?[a-z0-9._~=&%+\-]*)?(?:#[a-z0-9._~/\-]*)?$",
    )
    .expect("plain url pattern compiles")
});

pub(super) fn warm_up() {
    Lazy::force(&LINKABLE);
    Lazy::force(&PLAIN_URL);
}

/// True when some word of `text` could become a link in a renderer.
pub(super) fn has_linkable(text: &str) -> bool {
    may_link(text) && LINKABLE.is_match(text)
}

/// Every alternative of [`LINKABLE`] needs one of these characters (`:` of a scheme or
/// `mailto:`, `/` of `//host`, `@` of an e-mail address, `.` of `www.` or a domain), so a
/// word with none of them needs no regex search.
fn may_link(word: &str) -> bool {
    word.bytes().any(|b| matches!(b, b':' | b'/' | b'@' | b'.'))
}

/// Appends `text` (decoded, no line breaks) to `out` as Markdown that renders as exactly
/// this text, with linkable words on hosts that are not allowlisted made into code spans.
pub(super) fn write_text(
    text: &str,
    escape: Escape,
    allow: &Allowlist,
    in_table: bool,
    out: &mut String,
) {
    let mut rest = text;
    while !rest.is_empty() {
        let word_end = rest.find(char::is_whitespace).unwrap_or(rest.len());
        let (word, tail) = rest.split_at(word_end);
        if !word.is_empty() {
            if !has_linkable(word) {
                escape_into(word, escape, out);
            } else if linkable_allowed(word, allow) {
                out.push_str(word);
            } else {
                code_span(word, in_table, out);
            }
        }
        let space_end = tail
            .find(|c: char| !c.is_whitespace())
            .unwrap_or(tail.len());
        out.push_str(&tail[..space_end]);
        rest = &tail[space_end..];
    }
}

/// A linkable word may stay as it is only when it is one plain link to an allowlisted host
/// (with ordinary punctuation around it).
fn linkable_allowed(word: &str, allow: &Allowlist) -> bool {
    let core = word
        .trim_start_matches(['(', '"', '\''])
        .trim_end_matches(['.', ',', ':', ';', '!', '?', ')', '"', '\'']);
    let Some(caps) = PLAIN_URL.captures(core) else {
        return false;
    };
    let Some(host) = caps.name("host") else {
        return false;
    };
    allow.allows_host(host.as_str())
}

/// Writes `text` as an inline code span (inert in every renderer).
pub(super) fn code_span(text: &str, in_table: bool, out: &mut String) {
    let longest_run = text.split(|c| c != '`').map(str::len).max().unwrap_or(0);
    let fence = "`".repeat(longest_run + 1);
    let pad = text.starts_with('`') || text.ends_with('`');
    out.push_str(&fence);
    if pad {
        out.push(' ');
    }
    if in_table {
        out.push_str(&text.replace('|', "\\|"));
    } else {
        out.push_str(text);
    }
    if pad {
        out.push(' ');
    }
    out.push_str(&fence);
}

pub(super) fn escape_into(text: &str, escape: Escape, out: &mut String) {
    for c in text.chars() {
        let escaped = match escape {
            Escape::Openers => matches!(c, '[' | ']' | '<' | '`'),
            Escape::All => c.is_ascii_punctuation(),
        };
        if escaped {
            out.push('\\');
        }
        out.push(c);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn written(text: &str, hosts: &[&str]) -> String {
        let allow = Allowlist::new(&hosts.iter().map(|h| h.to_string()).collect::<Vec<_>>());
        let mut out = String::new();
        write_text(text, Escape::Openers, &allow, false, &mut out);
        out
    }

    #[test]
    fn openers_are_escaped_and_the_rest_is_kept() {
        assert_eq!(
            written("a < b [x] `y` & c", &[]),
            "a \\< b \\[x\\] \\`y\\` & c"
        );
    }

    #[test]
    fn linkable_words_become_code_spans() {
        for word in [
            "https://evil.net/p?q=1",
            "HTTP://EVIL.NET",
            "//evil.net/x",
            "www.evil.net",
            "mailto:a@evil.net",
            "someone@evil.net",
            "evil.net/p",
            "SECRET.evil.co",
            "ftp://x.y",
        ] {
            assert_eq!(written(word, &[]), format!("`{word}`"), "{word}");
        }
    }

    #[test]
    fn ordinary_words_with_dots_stay_text() {
        let text = "Node.js, e.g. v1.2.3 and 3.14 in Cargo.toml or index.html";
        assert_eq!(written(text, &[]), text);
    }

    #[test]
    fn plain_links_to_allowlisted_hosts_stay() {
        let text = "see https://docs.example.com/a/b?x=1. or (www.docs.example.com)";
        assert_eq!(written(text, &["docs.example.com"]), text);
        assert_eq!(
            written("https://docs.example.com/a)evil.net", &["docs.example.com"]),
            "`https://docs.example.com/a)evil.net`"
        );
        assert_eq!(
            written("https://docs.example.com.evil.net/", &["docs.example.com"]),
            "`https://docs.example.com.evil.net/`"
        );
    }

    #[test]
    fn code_spans_use_a_longer_fence_than_their_content() {
        let mut out = String::new();
        code_span("a`b", false, &mut out);
        assert_eq!(out, "``a`b``");
    }
}

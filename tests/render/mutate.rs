//! Generated mutations of the hostile corpus: the same payload spelled differently or
//! placed in another Markdown context. Deterministic (no randomness), so a failure names a
//! case that reproduces.
use super::corpus::Case;
use regex::{Captures, Regex};
use std::sync::LazyLock;

static TAG_NAME: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"<(/?)([A-Za-z][A-Za-z0-9]*)").expect("tag name"));
static SCHEME: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)\b(https?|javascript|data|vbscript|mailto|xmpp|ftp):").expect("scheme")
});
/// The whitespace inside an HTML tag (between its name and attributes).
static TAG_SPACE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"(<[A-Za-z][^<>\n]*?) ").expect("tag space"));

type Mutation = fn(&str) -> String;

const MUTATIONS: [(&str, Mutation); 8] = [
    ("case", flip_case),
    ("entity", encode_entities),
    ("tabs", tabs_in_tags),
    ("lines", split_across_lines),
    ("quote", in_block_quote),
    ("list", in_list_item),
    ("between-paragraphs", between_paragraphs),
    ("across-forced-cut", across_forced_cut),
];

/// The governor cuts a line without a sentence end after this many bytes (its
/// `MAX_SEGMENT`); text on both sides of the cut must be governed as a whole.
const FORCED_CUT: usize = 416;

/// Every mutation of every case that allows it, skipping those that change nothing.
pub fn mutations(cases: &[Case]) -> Vec<Case> {
    cases
        .iter()
        .filter(|case| case.mutate)
        .flat_map(|case| {
            MUTATIONS.iter().filter_map(move |(kind, mutate)| {
                let reply = mutate(&case.reply);
                (reply != case.reply).then(|| Case {
                    name: format!("{}~{kind}", case.name),
                    class: case.class.clone(),
                    reply,
                    notes: case.notes.clone(),
                    mutate: false,
                    inert: case.inert,
                })
            })
        })
        .collect()
}

fn alternate(word: &str) -> String {
    word.chars()
        .enumerate()
        .map(|(i, c)| {
            if i % 2 == 0 {
                c.to_ascii_uppercase()
            } else {
                c.to_ascii_lowercase()
            }
        })
        .collect()
}

/// `<ImG`, `JaVaScRiPt:`: HTML tag names and URL schemes are case-insensitive.
fn flip_case(text: &str) -> String {
    let text = TAG_NAME.replace_all(text, |c: &Captures| {
        format!("<{}{}", &c[1], alternate(&c[2]))
    });
    SCHEME
        .replace_all(&text, |c: &Captures| format!("{}:", alternate(&c[1])))
        .into_owned()
}

/// `javascript&#x3A;`, `evil&#x2E;net`: character references are decoded in link
/// destinations and attribute values.
fn encode_entities(text: &str) -> String {
    SCHEME
        .replace_all(text, |c: &Captures| format!("{}&#x3A;", &c[1]))
        .replace("evil.net", "evil&#x2E;net")
}

fn in_tags(text: &str, with: &str) -> String {
    let mut out = text.to_owned();
    // A tag with several attributes needs one pass per space.
    for _ in 0..8 {
        let next = TAG_SPACE.replace_all(&out, |c: &Captures| format!("{}{with}", &c[1]));
        if next == out {
            break;
        }
        out = next.into_owned();
    }
    out
}

/// Tabs instead of spaces inside tags and after a link's `(`.
fn tabs_in_tags(text: &str) -> String {
    in_tags(text, "\t").replace("](", "](\t")
}

/// Line endings inside tags, between a link's `](` and its destination, and after a
/// definition's `]:` (CommonMark allows one there).
fn split_across_lines(text: &str) -> String {
    in_tags(text, "\n")
        .replace("](", "](\n")
        .replace("]: ", "]:\n  ")
}

fn in_block_quote(text: &str) -> String {
    text.lines()
        .map(|line| format!("> {line}"))
        .collect::<Vec<_>>()
        .join("\n")
}

fn in_list_item(text: &str) -> String {
    let mut lines = text.lines();
    let first = lines.next().unwrap_or_default();
    std::iter::once(format!("- {first}"))
        .chain(lines.map(|line| format!("  {line}")))
        .collect::<Vec<_>>()
        .join("\n")
}

fn between_paragraphs(text: &str) -> String {
    format!("Here is the answer.\n\n{text}\n\nI hope this helps.")
}

/// A single-line case preceded by a run without whitespace, so the governor's forced cut
/// falls inside it (up to 60 bytes in).
fn across_forced_cut(text: &str) -> String {
    if text.contains('\n') {
        return text.to_owned();
    }
    let into = (text.len() / 2).min(60);
    format!("{}{text}", "x".repeat(FORCED_CUT - into))
}

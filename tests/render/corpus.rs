//! The vendored corpora (`tests/corpora/render/`) and their placeholders.
use regex::{Captures, Regex};
use serde::Deserialize;
use std::sync::LazyLock;

pub const HOSTILE: &str = include_str!("../corpora/render/hostile.json");
pub const BENIGN: &str = include_str!("../corpora/render/benign.json");

/// Notes for cases that bring none: short, and sharing no sentence with any reply.
pub const DEFAULT_NOTES: &str = "- answer briefly and helpfully";

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CorpusFile {
    #[allow(dead_code)]
    about: String,
    cases: Vec<Case>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Case {
    /// `class/name`; generated mutations append `~kind`.
    pub name: String,
    pub class: String,
    /// What the expression stage answers (a template: see [`Secrets::fill`]).
    pub reply: String,
    /// What the reasoning stage answers.
    #[serde(default)]
    pub notes: Option<String>,
    /// Whether generated mutations are derived from this case.
    #[serde(default = "yes")]
    pub mutate: bool,
    /// Hostile cases only: harmless as written (its pieces are kept apart by something the
    /// governor drops), dangerous only if governance glues the pieces together.
    #[serde(default)]
    pub inert: bool,
}

fn yes() -> bool {
    true
}

pub fn load(json: &str) -> Vec<Case> {
    let file: CorpusFile = serde_json::from_str(json).expect("the corpus parses");
    let mut names: Vec<&str> = file.cases.iter().map(|c| c.name.as_str()).collect();
    names.sort_unstable();
    names.dedup();
    assert_eq!(names.len(), file.cases.len(), "case names are unique");
    file.cases
}

/// The secrets the app under test holds. The corpora name them only by placeholder.
pub struct Secrets {
    /// `MODEL_PROVIDER_API_KEY`: shaped like a provider key (the pattern redaction knows it).
    pub api_key: &'static str,
    /// `METRICS_TOKEN`: no known shape, so only the configured-secret redaction can find it.
    pub token: &'static str,
}

pub const SECRETS: Secrets = Secrets {
    api_key: "sk-render-contract-9f3Kq7LmZ2xWv8Tn",
    token: "mtok.Render7QpZ4vXw2LkN",
};

static PLACEHOLDER: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"\{\{(secret|token|pad|words)(?:\.(head|tail|entity|escaped)|:(\d+))?\}\}")
        .expect("placeholder pattern")
});

impl Secrets {
    pub fn all(&self) -> [(&'static str, &'static str); 2] {
        [
            ("the API key", self.api_key),
            ("the metrics token", self.token),
        ]
    }

    /// Fills `{{secret}}` / `{{token}}` (optionally `.head`, `.tail`, `.entity`, `.escaped`),
    /// `{{pad:N}}` (N bytes without whitespace) and `{{words:N}}` (about N bytes of words).
    pub fn fill(&self, template: &str) -> String {
        PLACEHOLDER
            .replace_all(template, |c: &Captures| {
                let count = || c.get(3).map_or(0, |n| n.as_str().parse().unwrap_or(0));
                match &c[1] {
                    "pad" => "x".repeat(count()),
                    "words" => words(count()),
                    which => {
                        let secret = if which == "secret" {
                            self.api_key
                        } else {
                            self.token
                        };
                        part(secret, c.get(2).map(|m| m.as_str()))
                    }
                }
            })
            .into_owned()
    }

    /// Replaces every secret in `text`, and either half of one, by its name, so reports
    /// never print a secret or a piece of one.
    pub fn redact(&self, text: &str) -> String {
        self.all()
            .iter()
            .fold(text.to_owned(), |text, (name, secret)| {
                let (head, tail) = secret.split_at(secret.len() / 2);
                text.replace(secret, &format!("[{name}]"))
                    .replace(head, &format!("[half of {name}]"))
                    .replace(tail, &format!("[half of {name}]"))
            })
    }
}

fn part(secret: &str, which: Option<&str>) -> String {
    let half = secret.len() / 2;
    match which {
        Some("head") => secret[..half].to_owned(),
        Some("tail") => secret[half..].to_owned(),
        // Every third character as a hex character reference: renderers decode them.
        Some("entity") => secret
            .chars()
            .enumerate()
            .map(|(i, c)| {
                if i % 3 == 2 {
                    format!("&#x{:X};", u32::from(c))
                } else {
                    c.to_string()
                }
            })
            .collect(),
        // Backslash escapes before ASCII punctuation: CommonMark drops the backslash.
        Some("escaped") => secret
            .chars()
            .map(|c| {
                if c.is_ascii_punctuation() {
                    format!("\\{c}")
                } else {
                    c.to_string()
                }
            })
            .collect(),
        _ => secret.to_owned(),
    }
}

fn words(bytes: usize) -> String {
    let mut out = String::new();
    for word in ["lorem ", "ipsum ", "dolor ", "sit ", "amet "]
        .iter()
        .cycle()
    {
        if out.len() + word.len() > bytes {
            break;
        }
        out.push_str(word);
    }
    out
}

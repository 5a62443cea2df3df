//! Secret detection and redaction: well-known credential shapes (OpenAI/Anthropic-style
//! `sk-` keys, AWS access key ids, GitHub and Slack tokens, Stripe and Google keys, JWTs,
//! PEM private keys, credentials inside connection strings) plus, for replies, every secret
//! the process holds, verbatim. Each finding becomes [`REDACTED`].
use aho_corasick::{AhoCorasick, AhoCorasickKind, MatchKind};
use once_cell::sync::Lazy;
use regex::Regex;
use secrecy::{ExposeSecret, SecretString};

pub(crate) const REDACTED: &str = "[redacted]";

/// Configured secrets shorter than this (in characters) are ignored: they would redact
/// common words.
pub(crate) const MIN_CONFIGURED_SECRET_CHARS: usize = 8;

/// Token shapes. None contains whitespace except the PEM block, so a secret never spans
/// a whitespace boundary (the output stream relies on that; PEM blocks are handled there
/// as blocks). Group `cred` marks the part to redact when only part of a match is secret.
static SECRET_PATTERNS: Lazy<Regex> = Lazy::new(|| {
    let patterns = [
        // PEM private keys (an unterminated block is redacted to the end).
        r"-----BEGIN [A-Z0-9 ]{0,40}PRIVATE KEY-----(?s:.*?)(?:-----END [A-Z0-9 ]{0,40}PRIVATE KEY-----|\z)",
        // OpenAI / Anthropic style keys.
        r"\bsk-[A-Za-z0-9_\-]{20,}",
        // Stripe secret / restricted keys.
        r"\b[rs]k_(?:live|test)_[A-Za-z0-9]{16,}",
        // AWS access key ids.
        r"\b(?:AKIA|ASIA|AGPA|AIDA|AROA|AIPA|ANPA|ANVA)[0-9A-Z]{16}\b",
        // GitHub tokens.
        r"\b(?:ghp|gho|ghu|ghs|ghr)_[A-Za-z0-9]{30,255}\b",
        r"\bgithub_pat_[A-Za-z0-9_]{22,255}",
        // Slack tokens.
        r"\bxox[abposre]-[A-Za-z0-9\-]{10,}",
        // Google API keys.
        r"\bAIza[0-9A-Za-z_\-]{35}",
        // JWTs (header.payload.signature).
        r"\beyJ[A-Za-z0-9_\-]{5,}\.eyJ[A-Za-z0-9_\-]{5,}\.[A-Za-z0-9_\-]{5,}",
        // user:password@ in URLs / connection strings: only the credentials are redacted.
        r"\b[A-Za-z][A-Za-z0-9+.\-]{1,20}://(?P<cred>[^\s:/@<>\[\]]+:[^\s/@<>]+)@[^\s/@]",
    ];
    let joined = patterns
        .iter()
        .map(|p| format!("(?:{})", super::policy::ascii_word_boundaries(p)))
        .collect::<Vec<_>>()
        .join("|");
    Regex::new(&joined).expect("secret patterns compile")
});

/// Quick filter: every pattern needs one of these ASCII substrings.
static SECRET_HINTS: Lazy<AhoCorasick> = Lazy::new(|| {
    // A DFA: scanned once per region of every reply, and small for so few patterns.
    AhoCorasick::builder()
        .kind(Some(AhoCorasickKind::DFA))
        .build([
            "-----BEGIN",
            "sk-",
            "sk_",
            "rk_",
            "AKIA",
            "ASIA",
            "AGPA",
            "AIDA",
            "AROA",
            "AIPA",
            "ANPA",
            "ANVA",
            "ghp_",
            "gho_",
            "ghu_",
            "ghs_",
            "ghr_",
            "github_pat_",
            "xox",
            "AIza",
            "eyJ",
            "://",
        ])
        .expect("secret hints compile")
});

/// Redacts pattern-shaped secrets. Returns the number of redactions.
pub(crate) fn redact_patterns(text: &mut String) -> usize {
    if !SECRET_HINTS.is_match(text.as_str()) {
        return 0;
    }
    let mut out = String::with_capacity(text.len());
    let mut last = 0;
    let mut count = 0;
    for caps in SECRET_PATTERNS.captures_iter(text) {
        let Some(whole) = caps.get(0) else { continue };
        let span = caps.name("cred").unwrap_or(whole);
        out.push_str(&text[last..span.start()]);
        out.push_str(REDACTED);
        out.push_str(&text[span.end()..whole.end()]);
        last = whole.end();
        count += 1;
    }
    if count > 0 {
        out.push_str(&text[last..]);
        *text = out;
    }
    count
}

/// The secrets the process holds, compiled into one automaton.
pub(crate) struct ConfiguredSecrets {
    matcher: Option<AhoCorasick>,
    /// The secrets themselves, to recognize one that a stream has only begun.
    secrets: Vec<SecretString>,
}

impl ConfiguredSecrets {
    pub(crate) fn new(secrets: &[SecretString]) -> Self {
        let exposed: Vec<&str> = secrets
            .iter()
            .map(|s| s.expose_secret())
            .filter(|s| s.chars().count() >= MIN_CONFIGURED_SECRET_CHARS)
            .collect();
        let kept = exposed
            .iter()
            .map(|s| SecretString::from(s.to_string()))
            .collect();
        let matcher = if exposed.is_empty() {
            None
        } else {
            AhoCorasick::builder()
                .match_kind(MatchKind::LeftmostLongest)
                .build(&exposed)
                .ok()
        };
        ConfiguredSecrets {
            matcher,
            secrets: kept,
        }
    }

    /// How many bytes at the end of `text` could be the beginning of a configured secret
    /// (the longest such tail, shorter than the secret itself).
    fn begun_at_end(&self, text: &str) -> usize {
        let text = text.as_bytes();
        self.secrets
            .iter()
            .map(|secret| {
                let secret = secret.expose_secret().as_bytes();
                let longest = secret.len().saturating_sub(1).min(text.len());
                (1..=longest)
                    .rev()
                    .find(|&k| text.ends_with(&secret[..k]))
                    .unwrap_or(0)
            })
            .max()
            .unwrap_or(0)
    }

    /// True when `text` holds a configured secret or a secret-shaped token.
    pub(crate) fn found_in(&self, text: &str) -> bool {
        self.matcher.as_ref().is_some_and(|m| m.is_match(text))
            || (SECRET_HINTS.is_match(text) && SECRET_PATTERNS.is_match(text))
    }

    /// Start and end of every occurrence in `text`.
    fn spans(&self, text: &str) -> Vec<(usize, usize)> {
        self.matcher.as_ref().map_or_else(Vec::new, |matcher| {
            matcher
                .find_iter(text)
                .map(|m| (m.start(), m.end()))
                .collect()
        })
    }

    /// Replaces every occurrence of a configured secret. Returns the number replaced.
    pub(crate) fn redact(&self, text: &mut String) -> usize {
        let Some(matcher) = &self.matcher else {
            return 0;
        };
        let mut count = 0;
        let mut out = String::new();
        let mut last = 0;
        for m in matcher.find_iter(text.as_str()) {
            out.push_str(&text[last..m.start()]);
            out.push_str(REDACTED);
            last = m.end();
            count += 1;
        }
        if count > 0 {
            out.push_str(&text[last..]);
            *text = out;
        }
        count
    }
}

/// A word longer than this is cut without waiting for its end (a secret-shaped token of
/// that length is redacted from its first part on).
const MAX_WORD: usize = 256;

/// Redaction of a streamed text: holds back the current word, and any tail that could be
/// the beginning of a configured secret, so no secret is ever split between two releases
/// (an occurrence that runs past what has arrived starts inside that tail), and the output
/// is the same for any chunking. Ordinary prose is held back by one word at most.
pub(crate) struct RedactStream<'s> {
    secrets: &'s ConfiguredSecrets,
    pending: String,
}

impl<'s> RedactStream<'s> {
    pub(crate) fn new(secrets: &'s ConfiguredSecrets) -> Self {
        RedactStream {
            secrets,
            pending: String::new(),
        }
    }

    pub(crate) fn push(&mut self, chunk: &str, finished: bool, out: &mut String) {
        self.pending.push_str(chunk);
        let len = self.pending.len();
        let mut cut = if finished {
            len
        } else {
            let hold = self.secrets.begun_at_end(&self.pending);
            let word_start = self
                .pending
                .rfind(char::is_whitespace)
                .map_or(0, |at| at + 1);
            let cut = if len - word_start > MAX_WORD {
                len
            } else {
                word_start
            };
            floor(&self.pending, cut.min(len.saturating_sub(hold)))
        };
        if !finished {
            // No secret may straddle the cut.
            let mut spans = self.secrets.spans(&self.pending);
            if SECRET_HINTS.is_match(self.pending.as_str()) {
                spans.extend(
                    SECRET_PATTERNS
                        .find_iter(&self.pending)
                        .map(|m| (m.start(), m.end())),
                );
            }
            while let Some(start) = spans
                .iter()
                .filter(|(start, end)| *start < cut && cut < *end)
                .map(|(start, _)| *start)
                .min()
            {
                cut = start;
            }
        }
        let rest = self.pending.split_off(cut);
        let mut released = std::mem::replace(&mut self.pending, rest);
        self.secrets.redact(&mut released);
        redact_patterns(&mut released);
        out.push_str(&released);
    }
}

fn floor(text: &str, at: usize) -> usize {
    let mut at = at.min(text.len());
    while !text.is_char_boundary(at) {
        at -= 1;
    }
    at
}

impl std::fmt::Debug for ConfiguredSecrets {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ConfiguredSecrets([hidden])")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn redacted(text: &str) -> (String, usize) {
        let mut s = text.to_owned();
        let n = redact_patterns(&mut s);
        (s, n)
    }

    #[test]
    fn openai_style_keys_are_redacted() {
        let (text, n) = redacted("key sk-proj-abcdefghijklmnopqrstuvwx123 ok");
        assert_eq!((text.as_str(), n), ("key [redacted] ok", 1));
    }

    #[test]
    fn aws_github_slack_and_google_keys_are_redacted() {
        let text = "AKIAIOSFODNN7EXAMPLE ghp_abcdefghijklmnopqrstuvwxyz0123456789 \
                    xoxb-1234567890-abcdefghij AIzaSyA1234567890abcdefghijklmnopqrstuv";
        let (out, n) = redacted(text);
        assert_eq!(n, 4, "{out}");
        assert_eq!(out, "[redacted] [redacted] [redacted] [redacted]");
    }

    #[test]
    fn jwts_are_redacted() {
        let (out, n) =
            redacted("token: eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0In0.abcdefSIGNATURE_x.");
        assert_eq!(n, 1);
        assert_eq!(out, "token: [redacted].");
    }

    #[test]
    fn pem_private_key_blocks_are_redacted_including_unterminated_ones() {
        let pem =
            "a\n-----BEGIN RSA PRIVATE KEY-----\nMIIEow\nAAA\n-----END RSA PRIVATE KEY-----\nb";
        assert_eq!(redacted(pem), ("a\n[redacted]\nb".to_owned(), 1));
        let open = "a -----BEGIN PRIVATE KEY-----\nMIIEow and more";
        assert_eq!(redacted(open), ("a [redacted]".to_owned(), 1));
    }

    #[test]
    fn connection_string_credentials_are_redacted_but_host_stays() {
        let (out, n) = redacted("use postgres://admin:hunter2@db.internal:5432/app now");
        assert_eq!(n, 1);
        assert_eq!(out, "use postgres://[redacted]@db.internal:5432/app now");
    }

    #[test]
    fn ordinary_text_is_left_alone() {
        let text = "ask the skeleton key; https://example.com/a:b and AKIA is a prefix";
        assert_eq!(redacted(text), (text.to_owned(), 0));
    }

    #[test]
    fn configured_secrets_are_redacted_verbatim_and_short_ones_ignored() {
        let secrets = ConfiguredSecrets::new(&[
            SecretString::from("Sup3rS3cretValue!"),
            SecretString::from("short"),
        ]);
        let mut text = "value Sup3rS3cretValue! and a short word".to_owned();
        assert_eq!(secrets.redact(&mut text), 1);
        assert_eq!(text, "value [redacted] and a short word");
    }
}

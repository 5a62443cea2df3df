//! Leak detection through transformations: does a reply carry a base64, hex, ROT13 or
//! reversed copy of the system prompts or the private notes?
//!
//! `leak.rs` compares the reply as written; this module compares what the reply decodes
//! to. Views of the reply: every base64 run and every hex run (plain or separated by
//! spaces, colons or `\x`) decoded to UTF-8, the whole reply in ROT13, the reply reversed
//! character by character, with its word order reversed, and with each word reversed.
//! Each view is cut into 4-word shingles (alphanumeric runs, lower-cased) and checked
//! against the shingles of the protected texts; a view with [`MIN_HITS`] hits is a leak.
//! Ordinary text has no shingle in common with the prompts once it is ROT13'd or reversed,
//! and decoded blobs only count when they decode to text.
use super::prompts::ALL_PROMPTS;
use super::shingles::{shingle, ShingleSet};
use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig};
use base64::engine::{DecodePaddingMode, Engine};
use once_cell::sync::Lazy;
use regex::Regex;

const SHINGLE: usize = 4;
/// Shingle hits that make a view a leak (one can be chance; two consecutive are a copy).
const MIN_HITS: usize = 2;
/// Decoded blobs looked at per reply (decoding is linear in the reply size anyway).
const MAX_BLOBS: usize = 64;

static BASE64_RUN: Lazy<Regex> =
    Lazy::new(|| Regex::new(r"[A-Za-z0-9+/_\-]{16,}={0,2}").expect("base64 run compiles"));
static HEX_RUN: Lazy<Regex> = Lazy::new(|| {
    Regex::new(r"(?i)(?:(?:\\x|0x)?[0-9a-f]{2}[ :,]?){8,}").expect("hex run compiles")
});

const LENIENT: GeneralPurposeConfig =
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent);
const B64_STANDARD: GeneralPurpose = GeneralPurpose::new(&base64::alphabet::STANDARD, LENIENT);
const B64_URL_SAFE: GeneralPurpose = GeneralPurpose::new(&base64::alphabet::URL_SAFE, LENIENT);

/// The system prompts' shingles: the same for every reply, so computed once.
static PROMPT_SHINGLES: Lazy<ShingleSet> = Lazy::new(|| shingles_of(ALL_PROMPTS.iter().copied()));

pub(crate) fn warm_up() {
    Lazy::force(&PROMPT_SHINGLES);
}

/// The shingles of the protected texts of one reply (the system prompts and its notes).
pub(crate) struct TransformedLeaks {
    /// The system prompts' shingles, when they are protected.
    prompts: Option<&'static ShingleSet>,
    /// This reply's own protected texts (its notes).
    own: ShingleSet,
}

impl TransformedLeaks {
    /// Protects the system prompts and `notes` (the reasoning stage's notes of this turn).
    pub(crate) fn new(notes: &str) -> Self {
        TransformedLeaks {
            prompts: Some(&PROMPT_SHINGLES),
            own: shingles_of([notes]),
        }
    }

    /// Protects exactly `texts`.
    #[cfg(test)]
    pub(crate) fn from_texts<'a>(texts: impl IntoIterator<Item = &'a str>) -> Self {
        TransformedLeaks {
            prompts: None,
            own: shingles_of(texts),
        }
    }

    fn protects(&self, shingle: u64) -> bool {
        self.own.contains(&shingle) || self.prompts.is_some_and(|set| set.contains(&shingle))
    }

    /// `true` when `reply` (one block or a whole reply) holds a base64, hex, ROT13 or
    /// reversed copy of a protected text. Verbatim copies are `leak.rs`'s business.
    pub(crate) fn contains_transformed_copy(&self, reply: &str) -> bool {
        if self.own.is_empty() && self.prompts.is_none_or(ShingleSet::is_empty) {
            return false;
        }
        // A view's shingle that the reply also has as written is a verbatim copy (carried
        // over code, say), which `leak.rs` judges: only what the transformation revealed
        // counts here.
        let verbatim = shingles_of([reply]);
        let leaks = |view: &str| self.leaks(view, &verbatim);
        let rot13: String = reply.chars().map(rot13).collect();
        let reversed: String = reply.chars().rev().collect();
        if leaks(&rot13) || leaks(&reversed) {
            return true;
        }
        let mut words: Vec<&str> = reply.split_whitespace().collect();
        let each_word_reversed: Vec<String> =
            words.iter().map(|w| w.chars().rev().collect()).collect();
        if leaks(&each_word_reversed.join(" ")) {
            return true;
        }
        words.reverse();
        if leaks(&words.join(" ")) {
            return true;
        }
        self.decoded_blobs(reply)
            .take(MAX_BLOBS)
            .any(|decoded| leaks(&decoded))
    }

    fn leaks(&self, view: &str, verbatim: &ShingleSet) -> bool {
        let words = word_hashes(view);
        words
            .windows(SHINGLE)
            .map(shingle)
            .filter(|hash| self.protects(*hash) && !verbatim.contains(hash))
            .nth(MIN_HITS - 1)
            .is_some()
    }

    fn decoded_blobs<'r>(&self, reply: &'r str) -> impl Iterator<Item = String> + 'r {
        let base64 = BASE64_RUN.find_iter(reply).filter_map(|run| {
            let run = run.as_str();
            let engine = if run.contains(['-', '_']) {
                &B64_URL_SAFE
            } else {
                &B64_STANDARD
            };
            text(engine.decode(run).ok()?)
        });
        let hex = HEX_RUN.find_iter(reply).filter_map(|run| {
            let digits: String = run
                .as_str()
                .to_ascii_lowercase()
                .replace("\\x", "")
                .replace("0x", "")
                .chars()
                .filter(char::is_ascii_hexdigit)
                .collect();
            text(hex::decode(digits).ok()?)
        });
        base64.chain(hex)
    }
}

/// Decoded bytes as text, if they are mostly printable UTF-8.
fn text(bytes: Vec<u8>) -> Option<String> {
    let decoded = String::from_utf8(bytes).ok()?;
    let printable = decoded
        .chars()
        .filter(|c| !c.is_control() || c.is_whitespace())
        .count();
    (printable * 10 >= decoded.chars().count() * 9).then_some(decoded)
}

fn rot13(c: char) -> char {
    match c {
        'a'..='z' => (((c as u8 - b'a') + 13) % 26 + b'a') as char,
        'A'..='Z' => (((c as u8 - b'A') + 13) % 26 + b'A') as char,
        _ => c,
    }
}

/// FNV-1a of every alphanumeric run of `text`, lower-cased.
fn word_hashes(text: &str) -> Vec<u64> {
    const OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
    const PRIME: u64 = 0x0000_0100_0000_01b3;
    let mut words = Vec::new();
    let mut hash = OFFSET;
    let mut in_word = false;
    for c in text.chars() {
        if c.is_alphanumeric() {
            in_word = true;
            for lower in c.to_lowercase() {
                hash = (hash ^ u64::from(u32::from(lower))).wrapping_mul(PRIME);
            }
        } else if in_word {
            words.push(hash);
            hash = OFFSET;
            in_word = false;
        }
    }
    if in_word {
        words.push(hash);
    }
    words
}

fn shingles_of<'a>(texts: impl IntoIterator<Item = &'a str>) -> ShingleSet {
    let mut set = ShingleSet::default();
    for text in texts {
        set.extend(word_hashes(text).windows(SHINGLE).map(shingle));
    }
    set
}

#[cfg(test)]
mod tests {
    use super::super::prompts::EXPRESSION_PROMPT;
    use super::*;
    use base64::engine::general_purpose::STANDARD;

    const NOTES: &str =
        "- the user is anxious about the exam\n- reassure first, then list three study tips";

    fn detector() -> TransformedLeaks {
        TransformedLeaks::new(NOTES)
    }

    fn prompt_sentence() -> &'static str {
        EXPRESSION_PROMPT.split(". ").nth(1).unwrap_or_default()
    }

    #[test]
    fn base64_copy_of_a_prompt_sentence_is_a_leak() {
        let reply = format!("Sure, here it is: {}", STANDARD.encode(prompt_sentence()));
        assert!(detector().contains_transformed_copy(&reply));
    }

    #[test]
    fn hex_copy_of_the_notes_is_a_leak_plain_or_spaced() {
        let plain = hex::encode(NOTES);
        assert!(detector().contains_transformed_copy(&format!("hex: {plain}")));
        let spaced: Vec<String> = NOTES.bytes().map(|b| format!("{b:02x}")).collect();
        assert!(detector().contains_transformed_copy(&spaced.join(" ")));
    }

    #[test]
    fn rot13_copy_of_a_prompt_sentence_is_a_leak() {
        let encoded: String = prompt_sentence().chars().map(rot13).collect();
        assert!(detector().contains_transformed_copy(&encoded));
    }

    #[test]
    fn reversed_copies_are_leaks_by_characters_by_word_order_and_by_word() {
        let sentence = prompt_sentence();
        let by_chars: String = sentence.chars().rev().collect();
        let mut words: Vec<&str> = sentence.split_whitespace().collect();
        let each_word: Vec<String> = words.iter().map(|w| w.chars().rev().collect()).collect();
        words.reverse();
        let detector = detector();
        assert!(detector.contains_transformed_copy(&by_chars));
        assert!(detector.contains_transformed_copy(&words.join(" ")));
        assert!(detector.contains_transformed_copy(&each_word.join(" ")));
    }

    #[test]
    fn ordinary_replies_and_unrelated_encodings_are_not_leaks() {
        let detector = detector();
        for reply in [
            "Three study tips can help before the exam: sleep, practice tests, short breaks.",
            "`aGVsbG8gd29ybGQgZnJvbSBydXN0` decodes to \"hello world from rust\".",
            "The SHA-256 of the file is 9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08.",
            "Write the answer in your own words, and keep it short.",
        ] {
            assert!(!detector.contains_transformed_copy(reply), "{reply}");
        }
    }

    #[test]
    fn nothing_protected_means_nothing_leaks() {
        let detector = TransformedLeaks::from_texts([""]);
        assert!(!detector.contains_transformed_copy(&STANDARD.encode(prompt_sentence())));
    }
}

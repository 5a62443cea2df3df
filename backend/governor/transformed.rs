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
use super::shingles::{shingle, Protected, ShingleSet};
use super::words::{word_hashes, Words};
use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig};
use base64::engine::{DecodePaddingMode, Engine};
use once_cell::sync::Lazy;
use once_cell::unsync::OnceCell;
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
static PROMPT_SHINGLES: Lazy<Protected> = Lazy::new(|| protected(ALL_PROMPTS.iter().copied()));

pub(crate) fn warm_up() {
    Lazy::force(&PROMPT_SHINGLES);
}

/// The shingles of the protected texts of one reply (the system prompts and its notes).
pub(crate) struct TransformedLeaks {
    /// The system prompts' shingles, when they are protected.
    prompts: Option<&'static Protected>,
    /// This reply's own protected texts (its notes).
    own: Protected,
}

/// The protected texts' shingles and words, as `word_hashes` hashes them.
fn protected<'a>(texts: impl IntoIterator<Item = &'a str>) -> Protected {
    let mut protected = Protected::default();
    for text in texts {
        protected.add(&word_hashes(text), SHINGLE);
    }
    protected
}

impl TransformedLeaks {
    /// Protects the system prompts and `notes` (the reasoning stage's notes of this turn).
    pub(crate) fn new(notes: &str) -> Self {
        TransformedLeaks {
            prompts: Some(&PROMPT_SHINGLES),
            own: protected([notes]),
        }
    }

    /// Protects exactly `texts`.
    #[cfg(test)]
    pub(crate) fn from_texts<'a>(texts: impl IntoIterator<Item = &'a str>) -> Self {
        TransformedLeaks {
            prompts: None,
            own: protected(texts),
        }
    }

    fn protects(&self, shingle: u64) -> bool {
        self.own.shingles.contains(&shingle)
            || self.prompts.is_some_and(|p| p.shingles.contains(&shingle))
    }

    /// Whether `word` may be a word of a protected text.
    fn may_protect(&self, word: u64) -> bool {
        self.own.words.may_contain(word) || self.prompts.is_some_and(|p| p.words.may_contain(word))
    }

    /// `true` when `reply` (one block or a whole reply) holds a base64, hex, ROT13 or
    /// reversed copy of a protected text. Verbatim copies are `leak.rs`'s business.
    pub(crate) fn contains_transformed_copy(&self, reply: &str) -> bool {
        if self.own.is_empty() && self.prompts.is_none_or(Protected::is_empty) {
            return false;
        }
        // A view's shingle that the reply also has as written is a verbatim copy (carried
        // over code, say), which `leak.rs` judges: only what the transformation revealed
        // counts here. Built only when a view hits a protected shingle at all (rarely).
        let verbatim = OnceCell::new();
        let words = Words::of(reply);
        let leaks = |view: &mut dyn Iterator<Item = u64>| {
            self.leaks(view, || {
                verbatim.get_or_init(|| shingle_set(words.runs.iter().map(|r| r.forward)))
            })
        };
        // The ROT13 view, the reply reversed character by character, each word reversed
        // and the word order reversed: all four are the reply's words, re-hashed or
        // re-ordered, so one pass over the reply gives them all (`Words`).
        if leaks(&mut words.runs.iter().map(|r| r.rot13))
            || leaks(&mut words.runs.iter().rev().map(|r| r.reversed))
            || leaks(&mut words.each_word_reversed())
            || leaks(&mut words.word_order_reversed())
        {
            return true;
        }
        self.decoded_blobs(reply)
            .take(MAX_BLOBS)
            .any(|decoded| leaks(&mut word_hashes(&decoded).into_iter()))
    }

    /// At least [`MIN_HITS`] shingles of `view` (word hashes) are protected and not in
    /// `verbatim` (asked for only once a protected shingle turns up).
    fn leaks<'v>(
        &self,
        view: &mut dyn Iterator<Item = u64>,
        verbatim: impl Fn() -> &'v ShingleSet,
    ) -> bool {
        let mut window = [0u64; SHINGLE];
        let mut hits = 0;
        // How many of the latest words may be protected: a shingle with one that is not
        // cannot be protected.
        let mut streak = 0;
        for word in view {
            window.rotate_left(1);
            window[SHINGLE - 1] = word;
            streak = if self.may_protect(word) {
                streak + 1
            } else {
                0
            };
            if streak < SHINGLE {
                continue;
            }
            let hash = shingle(&window);
            if self.protects(hash) && !verbatim().contains(&hash) {
                hits += 1;
                if hits >= MIN_HITS {
                    return true;
                }
            }
        }
        false
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

/// The shingles of a sequence of word hashes.
fn shingle_set(words: impl Iterator<Item = u64>) -> ShingleSet {
    let words: Vec<u64> = words.collect();
    let mut set = ShingleSet::with_capacity_and_hasher(words.len(), Default::default());
    set.extend(words.windows(SHINGLE).map(shingle));
    set
}

#[cfg(test)]
mod tests {
    use super::super::prompts::EXPRESSION_PROMPT;
    use super::super::words::rot13;
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

    /// The views built as strings, one by one: what `contains_transformed_copy` computes in
    /// one pass over the words.
    fn one_view_at_a_time(detector: &TransformedLeaks, reply: &str) -> bool {
        let verbatim: ShingleSet = word_hashes(reply).windows(SHINGLE).map(shingle).collect();
        let leaks = |view: &str| {
            word_hashes(view)
                .windows(SHINGLE)
                .map(shingle)
                .filter(|hash| detector.protects(*hash) && !verbatim.contains(hash))
                .nth(MIN_HITS - 1)
                .is_some()
        };
        let mut words: Vec<&str> = reply.split_whitespace().collect();
        let each_word: Vec<String> = words.iter().map(|w| w.chars().rev().collect()).collect();
        let by_words = {
            words.reverse();
            words.join(" ")
        };
        leaks(&reply.chars().map(rot13).collect::<String>())
            || leaks(&reply.chars().rev().collect::<String>())
            || leaks(&each_word.join(" "))
            || leaks(&by_words)
            || detector
                .decoded_blobs(reply)
                .take(MAX_BLOBS)
                .any(|decoded| leaks(&decoded))
    }

    #[test]
    fn one_pass_over_the_words_judges_as_the_views_one_by_one() {
        let detector = detector();
        let root = env!("CARGO_MANIFEST_DIR");
        let mut replies: Vec<String> =
            std::fs::read_to_string(format!("{root}/tests/corpora/blns.txt"))
                .expect("the naughty strings")
                .lines()
                .map(str::to_owned)
                .collect();
        for file in ["benign.json", "hostile.json"] {
            let text = std::fs::read_to_string(format!("{root}/tests/corpora/render/{file}"))
                .expect("a render corpus");
            let corpus: serde_json::Value = serde_json::from_str(&text).expect("JSON");
            for case in corpus["cases"].as_array().expect("cases") {
                replies.push(case["reply"].as_str().expect("reply").to_owned());
            }
        }
        for text in [NOTES, EXPRESSION_PROMPT] {
            for sentence in text.split(['.', '\n']) {
                let rot: String = sentence.chars().map(rot13).collect();
                let reversed: String = sentence.chars().rev().collect();
                let mut words: Vec<&str> = sentence.split_whitespace().collect();
                let each: Vec<String> = words.iter().map(|w| w.chars().rev().collect()).collect();
                words.reverse();
                for view in [
                    rot,
                    reversed,
                    each.join(" "),
                    words.join(" "),
                    STANDARD.encode(sentence),
                    hex::encode(sentence),
                ] {
                    replies.push(format!("Here: {view}, and (Ünïcödé) ok-then {sentence}"));
                    replies.push(view);
                }
            }
        }
        // Words of several runs each: only reversing each word, runs and all, reads it.
        let hyphenated = "alpha-beta gamma-delta epsilon-zeta eta-theta iota-kappa";
        let each: Vec<String> = hyphenated
            .split_whitespace()
            .map(|w| w.chars().rev().collect())
            .collect();
        replies.push(each.join(" "));
        let hyphens = TransformedLeaks::from_texts([hyphenated]);
        assert!(hyphens.contains_transformed_copy(&each.join(" ")));
        let leaks = replies
            .iter()
            .filter(|reply| {
                for other in [&hyphens, &detector] {
                    let expected = one_view_at_a_time(other, reply);
                    assert_eq!(
                        other.contains_transformed_copy(reply),
                        expected,
                        "{reply:?}"
                    );
                }
                one_view_at_a_time(&detector, reply)
            })
            .count();
        assert!(
            leaks > 20 && leaks < replies.len() / 2,
            "{leaks} of {}",
            replies.len()
        );
    }

    #[test]
    fn nothing_protected_means_nothing_leaks() {
        let detector = TransformedLeaks::from_texts([""]);
        assert!(!detector.contains_transformed_copy(&STANDARD.encode(prompt_sentence())));
    }
}

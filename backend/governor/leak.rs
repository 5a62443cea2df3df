//! Leak detection: does a reply echo the system prompts or the private notes?
//!
//! Texts are compared as word shingles (n consecutive words; words are alphanumeric runs,
//! lower-cased and NFKC-folded, so case, whitespace, punctuation and full-width tricks do
//! not matter). Each reply segment (a sentence or line) is scored by the shingles that end
//! in it — shingles may start in the previous segment, so short sentences of a longer
//! copied passage are caught too. A segment is a leak when at least half of its shingles
//! occur in the protected text:
//!
//! * system prompts: 4-word shingles, one hit suffices;
//! * notes: 6-word shingles and at least two hits (the reply is written *from* the notes,
//!   so short shared phrases are expected; near-verbatim passages are not).
use super::prompts::ALL_PROMPTS;
use once_cell::sync::Lazy;
use std::collections::HashSet;
use std::hash::{BuildHasherDefault, Hasher};
use unicode_normalization::UnicodeNormalization;

const PROMPT_N: usize = 4;
const NOTES_N: usize = 6;
const WINDOW: usize = NOTES_N;

/// The values are already hashes; hashing them again is wasted work.
#[derive(Default)]
struct IdentityHasher(u64);
impl Hasher for IdentityHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 = (self.0 << 8) | u64::from(*b);
        }
    }
    fn write_u64(&mut self, n: u64) {
        self.0 = n;
    }
}
type ShingleSet = HashSet<u64, BuildHasherDefault<IdentityHasher>>;

static PROMPT_SHINGLES: Lazy<ShingleSet> = Lazy::new(|| {
    let mut set = ShingleSet::default();
    for prompt in ALL_PROMPTS {
        add_shingles(prompt, PROMPT_N, &mut set);
    }
    set
});

pub(crate) fn warm_up() {
    Lazy::force(&PROMPT_SHINGLES);
}

/// Calls `f` with the hash of every word of `text`.
fn for_each_word(text: &str, mut f: impl FnMut(u64)) {
    const OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
    const PRIME: u64 = 0x0000_0100_0000_01b3;
    let mut hash = OFFSET;
    let mut in_word = false;
    let mix = |hash: &mut u64, c: char| {
        *hash ^= u64::from(u32::from(c));
        *hash = hash.wrapping_mul(PRIME);
    };
    for c in text.chars() {
        if c.is_alphanumeric() {
            in_word = true;
            if c.is_ascii() {
                mix(&mut hash, c.to_ascii_lowercase());
            } else {
                for folded in std::iter::once(c).nfkc().flat_map(char::to_lowercase) {
                    mix(&mut hash, folded);
                }
            }
        } else if in_word {
            f(hash);
            hash = OFFSET;
            in_word = false;
        }
    }
    if in_word {
        f(hash);
    }
}

fn shingle(words: &[u64]) -> u64 {
    words.iter().fold(0x9e37_79b9_7f4a_7c15_u64, |acc, w| {
        (acc.rotate_left(23) ^ w).wrapping_mul(0x100_0000_01b3)
    })
}

fn add_shingles(text: &str, n: usize, set: &mut ShingleSet) {
    let mut words = Vec::new();
    for_each_word(text, |w| words.push(w));
    for window in words.windows(n) {
        set.insert(shingle(window));
    }
}

/// Per-reply leak state.
pub(crate) struct LeakTracker {
    notes: ShingleSet,
    /// Hashes of the most recent words (oldest first), across segments.
    recent: Vec<u64>,
    leaked_words: usize,
    total_words: usize,
}

impl LeakTracker {
    pub(crate) fn new(notes: &str) -> Self {
        let mut set = ShingleSet::default();
        add_shingles(notes, NOTES_N, &mut set);
        LeakTracker {
            notes: set,
            recent: Vec::with_capacity(WINDOW * 2),
            leaked_words: 0,
            total_words: 0,
        }
    }

    /// Scores one segment; `true` means it echoes protected text and must be dropped.
    pub(crate) fn is_leak(&mut self, segment: &str) -> bool {
        let prompts = &*PROMPT_SHINGLES;
        let (mut words, mut prompt_hits, mut prompt_total, mut notes_hits, mut notes_total) =
            (0, 0, 0, 0, 0);
        for_each_word(segment, |w| {
            words += 1;
            if self.recent.len() == WINDOW {
                self.recent.remove(0);
            }
            self.recent.push(w);
            let len = self.recent.len();
            if len >= PROMPT_N {
                prompt_total += 1;
                prompt_hits +=
                    usize::from(prompts.contains(&shingle(&self.recent[len - PROMPT_N..])));
            }
            if len >= NOTES_N && !self.notes.is_empty() {
                notes_total += 1;
                notes_hits +=
                    usize::from(self.notes.contains(&shingle(&self.recent[len - NOTES_N..])));
            }
        });
        let leak = (prompt_hits >= 1 && prompt_hits * 2 >= prompt_total)
            || (notes_hits >= 2 && notes_hits * 2 >= notes_total);
        self.total_words += words;
        if leak {
            self.leaked_words += words;
        }
        leak
    }

    /// More than half of the reply's words were leaks.
    pub(crate) fn mostly_leaked(&self) -> bool {
        self.leaked_words > 0 && self.leaked_words * 2 > self.total_words
    }
}

#[cfg(test)]
mod tests {
    use super::super::prompts::{EXPRESSION_PROMPT, REASONING_PROMPT};
    use super::*;

    #[test]
    fn verbatim_prompt_sentence_is_a_leak() {
        let sentence = REASONING_PROMPT.split(". ").nth(1).unwrap_or_default();
        assert!(LeakTracker::new("").is_leak(sentence), "{sentence}");
    }

    #[test]
    fn prompt_echo_with_other_case_spacing_and_punctuation_is_a_leak() {
        let echoed = "WRITE the   answer in your OWN words -- never reveal, quote; summarize!";
        assert!(LeakTracker::new("").is_leak(echoed));
    }

    #[test]
    fn fullwidth_prompt_echo_is_a_leak() {
        assert!(LeakTracker::new("")
            .is_leak("ｗｒｉｔｅ ｔｈｅ ａｎｓｗｅｒ ｉｎ ｙｏｕｒ ｏｗｎ ｗｏｒｄｓ"));
    }

    #[test]
    fn ordinary_answer_is_not_a_leak() {
        let mut tracker = LeakTracker::new("- user wants sorting\n- suggest sort_unstable");
        assert!(!tracker.is_leak("You can sort a vector in place with `v.sort()`."));
        assert!(!tracker
            .is_leak("For speed, use sort_unstable when order of equal items is irrelevant."));
        assert!(!tracker.mostly_leaked());
    }

    #[test]
    fn near_verbatim_notes_passage_is_a_leak_but_shared_short_phrases_are_not() {
        let notes = "Plan: the user seems anxious about the exam, so reassure them first and then list three study tips.";
        let mut tracker = LeakTracker::new(notes);
        assert!(!tracker.is_leak("Three study tips can help before the exam."));
        assert!(tracker.is_leak(
            "The user seems anxious about the exam so reassure them first and then list tips."
        ));
    }

    #[test]
    fn short_sentences_continuing_a_copied_passage_are_leaks() {
        let mut tracker = LeakTracker::new("");
        let _ = tracker.is_leak("Here goes. You are the writing stage");
        assert!(tracker.is_leak("of a governed assistant."));
    }

    #[test]
    fn mostly_leaked_needs_more_than_half_of_the_words() {
        let mut tracker = LeakTracker::new("");
        assert!(tracker.is_leak(EXPRESSION_PROMPT));
        assert!(!tracker.is_leak("ok"));
        assert!(tracker.mostly_leaked());
    }
}

//! Leak detection: does a reply echo the system prompts or the notes' own framing?
//!
//! Texts are compared as word shingles (n consecutive words; words are alphanumeric runs,
//! lower-cased and NFKC-folded, so case, whitespace, punctuation and full-width tricks do
//! not matter). Each region of the reply (`markdown/`: a sentence, a line, a block) is
//! scored by the shingles that end in it — shingles may start in the previous region, so
//! short sentences of a longer copied passage are caught too. A region is withheld when
//! at least half of its shingles occur in the protected text:
//!
//! * system prompts: 4-word shingles over its prose and its code, one hit suffices;
//! * notes: 6-word shingles over its prose only, at least two hits, and only when the
//!   region speaks the notes' own language (the user, the plan, the steps…). The notes
//!   are written for the expression stage: the code, facts and lists it carries over are
//!   the answer, not a leak.
use super::markdown::Contents;
use super::prompts::ALL_PROMPTS;
use super::shingles::{shingle, Protected};
use super::words::{for_each_run_hash, mix};
use once_cell::sync::Lazy;
use unicode_normalization::UnicodeNormalization;

const PROMPT_N: usize = 4;
const NOTES_N: usize = 6;
const WINDOW: usize = NOTES_N;

/// The system prompts' 4-word shingles and words.
static PROMPTS: Lazy<Protected> = Lazy::new(|| {
    let mut prompts = Protected::default();
    for prompt in ALL_PROMPTS {
        prompts.add(&words_of(prompt), PROMPT_N);
    }
    prompts
});

pub(crate) fn warm_up() {
    Lazy::force(&PROMPTS);
}

/// Calls `f` with the hash of every word of `text`, each non-ASCII character NFKC-folded.
/// One loop over the characters (it scores every region of every reply).
fn for_each_word(text: &str, f: impl FnMut(u64)) {
    let step = |hash, c: char| {
        if c.is_ascii() {
            mix(hash, c.to_ascii_lowercase())
        } else {
            std::iter::once(c)
                .nfkc()
                .flat_map(char::to_lowercase)
                .fold(hash, mix)
        }
    };
    for_each_run_hash(text, step, f);
}

/// The hash of every word of `text`.
fn words_of(text: &str) -> Vec<u64> {
    let mut words = Vec::with_capacity(text.len() / 4);
    for_each_word(text, |w| words.push(w));
    words
}

/// How many of the most recent words may be words of the prompts, and of the notes.
#[derive(Default)]
struct Streaks {
    prompt: usize,
    notes: usize,
}

#[derive(Default)]
struct Score {
    words: usize,
    prompt_hits: usize,
    prompt_total: usize,
    notes_hits: usize,
    notes_total: usize,
}

/// Words of the notes' own framing (what the reasoning stage is asked to write: the goal,
/// the key facts, the steps, caveats, what to decline, about the user).
const FRAMING: &[&str] = &[
    "user",
    "users",
    "goal",
    "goals",
    "plan",
    "planning",
    "step",
    "steps",
    "caveat",
    "caveats",
    "notes",
    "note",
    "decline",
    "declined",
    "reply",
    "respond",
    "assistant",
    "writer",
    "facts",
];

fn speaks_like_notes(prose: &str) -> bool {
    prose
        .split(|c: char| !c.is_alphanumeric())
        .any(|word| FRAMING.iter().any(|f| f.eq_ignore_ascii_case(word)))
}

/// Per-reply leak state.
pub(crate) struct LeakTracker {
    /// The notes' 6-word shingles and words.
    notes: Protected,
    /// Hashes of the most recent words (oldest first), across segments.
    recent: Vec<u64>,
    /// How many of the most recent words may be prompt words, and notes words.
    streaks: Streaks,
    leaked_words: usize,
    total_words: usize,
}

impl LeakTracker {
    pub(crate) fn new(notes: &str) -> Self {
        let mut protected = Protected::default();
        protected.add(&words_of(notes), NOTES_N);
        LeakTracker {
            notes: protected,
            recent: Vec::with_capacity(WINDOW * 2),
            streaks: Streaks::default(),
            leaked_words: 0,
            total_words: 0,
        }
    }

    /// Scores one region; `true` means it echoes protected text and must be withheld.
    /// `transformed`: another detector found an encoded copy of protected text in it.
    pub(crate) fn withhold(&mut self, contents: &Contents, transformed: bool) -> bool {
        let prose = self.score(&contents.prose, true);
        let code = self.score(&contents.code, false);
        let prompt_hits = prose.prompt_hits + code.prompt_hits;
        let prompt_total = prose.prompt_total + code.prompt_total;
        let prompt_leak = prompt_hits >= 1 && prompt_hits * 2 >= prompt_total;
        let notes_leak = prose.notes_hits >= 2
            && prose.notes_hits * 2 >= prose.notes_total
            && speaks_like_notes(&contents.prose);
        let words = prose.words + code.words;
        self.total_words += words;
        let leak = prompt_leak || notes_leak || transformed;
        if leak {
            self.leaked_words += words;
        }
        leak
    }

    fn score(&mut self, text: &str, prose: bool) -> Score {
        let prompts = &*PROMPTS;
        let mut score = Score::default();
        let mut code_recent = Vec::with_capacity(WINDOW);
        let mut code_streaks = Streaks::default();
        let (recent, streaks) = if prose {
            (&mut self.recent, &mut self.streaks)
        } else {
            (&mut code_recent, &mut code_streaks)
        };
        let notes = &self.notes;
        for_each_word(text, |w| {
            score.words += 1;
            if recent.len() == WINDOW {
                recent.remove(0);
            }
            recent.push(w);
            streaks.prompt = if prompts.words.may_contain(w) {
                streaks.prompt + 1
            } else {
                0
            };
            streaks.notes = if notes.words.may_contain(w) {
                streaks.notes + 1
            } else {
                0
            };
            let len = recent.len();
            if len >= PROMPT_N {
                score.prompt_total += 1;
                // A shingle with a word the prompts do not have is not theirs.
                score.prompt_hits += usize::from(
                    streaks.prompt >= PROMPT_N
                        && prompts
                            .shingles
                            .contains(&shingle(&recent[len - PROMPT_N..])),
                );
            }
            if prose && len >= NOTES_N && !notes.is_empty() {
                score.notes_total += 1;
                score.notes_hits += usize::from(
                    streaks.notes >= NOTES_N
                        && notes.shingles.contains(&shingle(&recent[len - NOTES_N..])),
                );
            }
        });
        score
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

    impl LeakTracker {
        fn is_leak(&mut self, prose: &str) -> bool {
            self.withhold(
                &Contents {
                    prose: prose.to_owned(),
                    ..Contents::default()
                },
                false,
            )
        }
    }

    #[test]
    fn code_carried_over_from_the_notes_is_not_a_leak() {
        let notes =
            "- steps: read the file with std::fs::read_to_string(path) and handle the error";
        let mut tracker = LeakTracker::new(notes);
        assert!(!tracker.withhold(
            &Contents {
                code: "std::fs::read_to_string(path) and handle the error".to_owned(),
                ..Contents::default()
            },
            false
        ));
        assert!(!tracker.mostly_leaked());
    }

    #[test]
    fn a_prompt_echoed_inside_code_is_a_leak() {
        let mut tracker = LeakTracker::new("");
        assert!(tracker.withhold(
            &Contents {
                code: EXPRESSION_PROMPT.to_owned(),
                ..Contents::default()
            },
            false
        ));
    }

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

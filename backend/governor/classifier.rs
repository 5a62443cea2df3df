//! The policy model: two small logistic regressions over hashed word and concept features,
//! trained by `scripts/train_policy.py` on the tuning part of `tests/corpora/policy/` and
//! embedded as `policy_model.bin`. It catches what the phrase rules miss (paraphrased,
//! transformed, authority and persona attacks); `policy.rs` asks it after the rules.
//!
//! Features (the training script extracts the same ones; change both together): the text
//! is canonicalized (lower-case, every non-alphanumeric run one space) and read as words,
//! where a run of Chinese, Japanese or Korean characters counts as its overlapping
//! character pairs (those scripts put no spaces between words); each word, the first
//! [`PREFIX`] characters of each longer word, each pair of adjacent words, each concept of
//! `policy_lexicon.txt` a word maps to, each ordered pair of concepts at most
//! [`CONCEPT_WINDOW`] words apart, each unordered pair of the distinct concepts of the whole
//! text, each concept with each plain (concept-less) word at most [`NEIGHBOURS`] words from
//! it, and the opening (the first two words together, each of the first [`OPENING`] alone)
//! is hashed (32-bit FNV-1a of a namespace byte and its UTF-8 bytes) into one of 2^bits
//! buckets. The score
//! is `bias + scale * (sum of the i16 weights of all occurrences) / sqrt(occurrences)`.
//! Integer sums and one correctly rounded square root: the same text always gets the same
//! verdict.
use super::identity_hash::BuildIdentity;
use crate::domain::Category;
use once_cell::sync::Lazy;
use std::collections::HashMap;
use unicode_normalization::char::is_combining_mark;

const MODEL_BYTES: &[u8] = include_bytes!("policy_model.bin");
const LEXICON: &str = include_str!("policy_lexicon.txt");
const MAGIC: &[u8] = b"GCPOLICY";
const VERSION: u32 = 3;
const CONCEPT_WINDOW: usize = 5;
/// Words longer than this many characters also count by their first this many.
const PREFIX: usize = 3;
/// A concept is paired with the plain words up to this many words before and after it.
const NEIGHBOURS: usize = 2;
/// The first this many words are features of their own.
const OPENING: usize = 3;

const FNV_OFFSET: u32 = 0x811c_9dc5;
const FNV_PRIME: u32 = 0x0100_0193;

struct Linear {
    bias: f64,
    scale: f64,
    threshold: f64,
    /// Little-endian i16 per bucket, read in place from the embedded model (not copied:
    /// only the pages of the buckets messages touch are ever loaded).
    weights: &'static [u8],
}

struct Model {
    mask: u32,
    /// Attack (any policy category) against benign; above `threshold` means refuse.
    attack: Linear,
    /// System-prompt extraction (above `threshold`) against prompt injection.
    kind: Linear,
}

static MODEL: Lazy<Model> = Lazy::new(|| parse(MODEL_BYTES).expect("embedded policy model parses"));

/// Word -> the concepts it belongs to (most words belong to one), keyed by the word's
/// feature hash (computed anyway) so a lookup costs no second hash; the word is kept to
/// rule out collisions.
type ConceptMap = HashMap<u32, Vec<(&'static str, Vec<&'static str>)>, BuildIdentity>;

static CONCEPTS: Lazy<ConceptMap> = Lazy::new(|| {
    let mut map = ConceptMap::default();
    for line in LEXICON.lines() {
        if line.starts_with('#') {
            continue;
        }
        let mut parts = line.split_whitespace();
        let Some(concept) = parts.next() else {
            continue;
        };
        for word in parts {
            let entries = map.entry(fnv(b'w', &[word.as_bytes()])).or_default();
            let index = match entries.iter().position(|(w, _)| *w == word) {
                Some(index) => index,
                None => {
                    entries.push((word, Vec::new()));
                    entries.len() - 1
                }
            };
            let concepts = &mut entries[index].1;
            if !concepts.contains(&concept) {
                concepts.push(concept);
            }
        }
    }
    map
});

pub(crate) fn warm_up() {
    Lazy::force(&MODEL);
    Lazy::force(&CONCEPTS);
}

/// The policy category the model assigns to `text` (NFKC-normalized input), if any.
pub(crate) fn classify(text: &str) -> Option<Category> {
    let model = &*MODEL;
    let buckets = feature_buckets(text, model.mask);
    if model.attack.score(&buckets) <= model.attack.threshold {
        return None;
    }
    // The second table is only read for the few messages the first one flags.
    Some(if model.kind.score(&buckets) > model.kind.threshold {
        Category::SystemPromptExtraction
    } else {
        Category::PromptInjection
    })
}

impl Linear {
    fn score(&self, buckets: &[u32]) -> f64 {
        if buckets.is_empty() {
            return self.bias;
        }
        let sum: i64 = buckets.iter().map(|&b| i64::from(self.weight(b))).sum();
        self.bias + self.scale * sum as f64 / (buckets.len() as f64).sqrt()
    }

    fn weight(&self, bucket: u32) -> i16 {
        let at = bucket as usize * 2;
        self.weights
            .get(at..at + 2)
            .map_or(0, |pair| i16::from_le_bytes([pair[0], pair[1]]))
    }
}

/// The bucket of every feature occurrence of `text`.
fn feature_buckets(text: &str, mask: u32) -> Vec<u32> {
    let canonical = canonical(text);
    let words = split_words(&canonical);
    let mut buckets = Vec::with_capacity(words.len() * 4);
    let concepts = &*CONCEPTS;
    let mut tagged: Vec<&[&str]> = Vec::with_capacity(words.len());
    for word in &words {
        let hash = fnv(b'w', &[word.as_bytes()]);
        buckets.push(hash & mask);
        if let Some((end, _)) = word.char_indices().nth(PREFIX) {
            buckets.push(fnv(b'p', &[&word.as_bytes()[..end]]) & mask);
        }
        let entry = concepts
            .get(&hash)
            .and_then(|entries| entries.iter().find(|(w, _)| w == word));
        tagged.push(entry.map_or(&[][..], |(_, c)| c.as_slice()));
    }
    for pair in words.windows(2) {
        buckets.push(fnv(b'b', &[pair[0].as_bytes(), b" ", pair[1].as_bytes()]) & mask);
    }
    for (i, here) in tagged.iter().enumerate() {
        for concept in *here {
            buckets.push(fnv(b'u', &[concept.as_bytes()]) & mask);
            for later_word in tagged.iter().skip(i + 1).take(CONCEPT_WINDOW) {
                for later in *later_word {
                    buckets.push(fnv(b'k', &[concept.as_bytes(), b" ", later.as_bytes()]) & mask);
                }
            }
            let near = i.saturating_sub(NEIGHBOURS)..words.len().min(i + 1 + NEIGHBOURS);
            for j in near.filter(|&j| j != i && tagged[j].is_empty()) {
                buckets.push(fnv(b'q', &[concept.as_bytes(), b" ", words[j].as_bytes()]) & mask);
            }
        }
    }
    // At most n(n-1)/2 pairs for the lexicon's n concepts (21: 210), however long the text.
    let mut present: Vec<&str> = tagged
        .iter()
        .flat_map(|here| here.iter().copied())
        .collect();
    present.sort_unstable();
    present.dedup();
    for (a, first) in present.iter().enumerate() {
        for second in &present[a + 1..] {
            buckets.push(fnv(b'g', &[first.as_bytes(), b" ", second.as_bytes()]) & mask);
        }
    }
    match words.as_slice() {
        [] => {}
        [only] => buckets.push(fnv(b's', &[only.as_bytes()]) & mask),
        [first, second, ..] => {
            buckets.push(fnv(b's', &[first.as_bytes(), b" ", second.as_bytes()]) & mask);
        }
    }
    for word in words.iter().take(OPENING) {
        buckets.push(fnv(b'S', &[word.as_bytes()]) & mask);
    }
    buckets
}

/// The words of the canonical text; a run of CJK characters inside a word becomes its
/// overlapping character pairs (one character alone stays a word).
fn split_words(canonical: &str) -> Vec<&str> {
    let mut words = Vec::with_capacity(canonical.len() / 4);
    for word in canonical.split_whitespace() {
        if word.is_ascii() {
            words.push(word);
            continue;
        }
        // The current run: where it starts, whether it is CJK, where its last character starts.
        let mut run: Option<(usize, bool, usize)> = None;
        for (at, c) in word.char_indices() {
            let cjk = is_cjk(c);
            match run {
                Some((_, true, last)) if cjk => {
                    words.push(&word[last..at + c.len_utf8()]);
                    run = run.map(|(start, _, _)| (start, true, at));
                }
                Some((_, false, _)) if !cjk => {}
                _ => {
                    if let Some(done) = run {
                        push_run(&mut words, word, done, at);
                    }
                    run = Some((at, cjk, at));
                }
            }
        }
        if let Some(done) = run {
            push_run(&mut words, word, done, word.len());
        }
    }
    words
}

/// Ends a run of `word` at `end`: a plain run is one word, and a CJK run of one character
/// too (longer ones were pushed pair by pair).
fn push_run<'a>(
    words: &mut Vec<&'a str>,
    word: &'a str,
    (start, cjk, last): (usize, bool, usize),
    end: usize,
) {
    if !cjk || last == start {
        words.push(&word[start..end]);
    }
}

/// Scripts written without spaces between words: kana, CJK ideographs, Hangul syllables.
fn is_cjk(c: char) -> bool {
    matches!(c, '\u{3040}'..='\u{30FF}' | '\u{3400}'..='\u{4DBF}' | '\u{4E00}'..='\u{9FFF}' | '\u{AC00}'..='\u{D7AF}' | '\u{F900}'..='\u{FAFF}')
}

/// Lower-case alphanumeric runs separated by single spaces.
fn canonical(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push(' ');
    for c in text.chars() {
        // Python's `str.isalnum`, as the training script reads text: letters and numbers,
        // not the combining marks (Hebrew and Arabic vowel points, ...) that Rust's
        // `is_alphanumeric` also counts as alphabetic.
        if c.is_alphanumeric() && !is_combining_mark(c) {
            if c.is_ascii() {
                out.push(c.to_ascii_lowercase());
            } else {
                out.extend(c.to_lowercase());
            }
        } else if !out.ends_with(' ') {
            out.push(' ');
        }
    }
    out
}

fn fnv(namespace: u8, parts: &[&[u8]]) -> u32 {
    let mut hash = (FNV_OFFSET ^ u32::from(namespace)).wrapping_mul(FNV_PRIME);
    for part in parts {
        for byte in *part {
            hash = (hash ^ u32::from(*byte)).wrapping_mul(FNV_PRIME);
        }
    }
    hash
}

fn parse(bytes: &'static [u8]) -> Option<Model> {
    let rest = bytes.strip_prefix(MAGIC)?;
    let (version, rest) = take_u32(rest)?;
    let (bits, rest) = take_u32(rest)?;
    if version != VERSION || bits > 24 {
        return None;
    }
    let buckets = 1usize << bits;
    let (attack, rest) = take_linear(rest, buckets)?;
    let (kind, rest) = take_linear(rest, buckets)?;
    rest.is_empty().then_some(Model {
        mask: (1u32 << bits) - 1,
        attack,
        kind,
    })
}

fn take_u32(bytes: &'static [u8]) -> Option<(u32, &'static [u8])> {
    let (head, rest) = bytes.split_first_chunk::<4>()?;
    Some((u32::from_le_bytes(*head), rest))
}

fn take_f64(bytes: &'static [u8]) -> Option<(f64, &'static [u8])> {
    let (head, rest) = bytes.split_first_chunk::<8>()?;
    Some((f64::from_le_bytes(*head), rest))
}

fn take_linear(bytes: &'static [u8], buckets: usize) -> Option<(Linear, &'static [u8])> {
    let (bias, rest) = take_f64(bytes)?;
    let (scale, rest) = take_f64(rest)?;
    let (threshold, rest) = take_f64(rest)?;
    let (weights, rest) = rest.split_at_checked(buckets * 2)?;
    Some((
        Linear {
            bias,
            scale,
            threshold,
            weights,
        },
        rest,
    ))
}

#[cfg(test)]
#[path = "classifier_tests.rs"]
mod tests;

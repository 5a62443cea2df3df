//! What the leak detectors share: a set of shingle hashes, and the hash of a shingle (a run
//! of consecutive word hashes).
use super::identity_hash::BuildIdentity;
use std::collections::HashSet;

pub(super) type ShingleSet = HashSet<u64, BuildIdentity>;

/// The hash of consecutive word hashes.
pub(super) fn shingle(words: &[u64]) -> u64 {
    words.iter().fold(0x9e37_79b9_7f4a_7c15_u64, |acc, w| {
        (acc.rotate_left(23) ^ w).wrapping_mul(0x100_0000_01b3)
    })
}

/// The shingles of some protected texts, and their words as a filter.
#[derive(Default)]
pub(super) struct Protected {
    pub(super) shingles: ShingleSet,
    pub(super) words: WordFilter,
}

impl Protected {
    /// Adds one text, given as its word hashes: its `n`-word shingles and its words.
    pub(super) fn add(&mut self, words: &[u64], n: usize) {
        words.iter().for_each(|w| self.words.insert(*w));
        self.shingles.reserve(words.len());
        self.shingles.extend(words.windows(n).map(shingle));
    }

    pub(super) fn is_empty(&self) -> bool {
        self.shingles.is_empty()
    }
}

/// The words of protected texts as a filter (bits of their hashes): a shingle can only be
/// protected when every word in it is a protected word, so a view whose words fail the
/// filter needs no shingle hashed or looked up. It may answer yes for a word that is not
/// protected, never no for one that is.
#[derive(Clone)]
pub(super) struct WordFilter {
    bits: [u64; 64],
}

impl Default for WordFilter {
    fn default() -> Self {
        WordFilter { bits: [0; 64] }
    }
}

impl WordFilter {
    /// Which of the 4,096 bits a word hash sets (its top 12 bits).
    fn bit(word: u64) -> (usize, u64) {
        let bit = (word >> 52) as usize;
        (bit / 64, 1 << (bit % 64))
    }

    pub(super) fn insert(&mut self, word: u64) {
        let (slot, mask) = Self::bit(word);
        self.bits[slot] |= mask;
    }

    pub(super) fn may_contain(&self, word: u64) -> bool {
        let (slot, mask) = Self::bit(word);
        self.bits[slot] & mask != 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_word_filter_never_rejects_a_word_it_holds() {
        let mut filter = WordFilter::default();
        let words: Vec<u64> = (0..500u64)
            .map(|i| i.wrapping_mul(0x9e37_79b9_7f4a_7c15))
            .collect();
        words.iter().for_each(|w| filter.insert(*w));
        assert!(words.iter().all(|w| filter.may_contain(*w)));
        let others = (500..5_000u64)
            .map(|i| i.wrapping_mul(0x9e37_79b9_7f4a_7c15))
            .filter(|w| filter.may_contain(*w))
            .count();
        assert!(others < 4_500 / 4, "{others} of 4,500 other words pass");
    }
}

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

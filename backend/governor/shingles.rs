//! What the leak detectors share: a set of shingle hashes, and the hash of a shingle (a run
//! of consecutive word hashes).
use std::collections::HashSet;
use std::hash::{BuildHasherDefault, Hasher};

/// The values are already hashes; hashing them again is wasted work.
#[derive(Default)]
pub(super) struct IdentityHasher(u64);

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

pub(super) type ShingleSet = HashSet<u64, BuildHasherDefault<IdentityHasher>>;

/// The hash of consecutive word hashes.
pub(super) fn shingle(words: &[u64]) -> u64 {
    words.iter().fold(0x9e37_79b9_7f4a_7c15_u64, |acc, w| {
        (acc.rotate_left(23) ^ w).wrapping_mul(0x100_0000_01b3)
    })
}

//! A hasher for keys that are already hashes (word, shingle and feature hashes): hashing
//! them again is wasted work.
use std::hash::{BuildHasherDefault, Hasher};

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
    fn write_u32(&mut self, n: u32) {
        self.0 = u64::from(n);
    }
    fn write_u64(&mut self, n: u64) {
        self.0 = n;
    }
}

/// Builds [`IdentityHasher`]s, for `HashMap` / `HashSet`.
pub(super) type BuildIdentity = BuildHasherDefault<IdentityHasher>;

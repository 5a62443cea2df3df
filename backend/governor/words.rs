//! The words of a text as the leak detectors hash them: alphanumeric runs, lower-cased,
//! FNV-1a. `leak.rs` folds each non-ASCII character with NFKC first; `transformed.rs`
//! hashes each run as written, in ROT13 and reversed, and re-orders the runs into its views.

pub(super) const FNV_OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
const FNV_PRIME: u64 = 0x0000_0100_0000_01b3;

/// Mixes one character into an FNV-1a hash.
pub(super) fn mix(hash: u64, c: char) -> u64 {
    (hash ^ u64::from(u32::from(c))).wrapping_mul(FNV_PRIME)
}

pub(super) fn rot13(c: char) -> char {
    match c {
        'a'..='z' => (((c as u8 - b'a') + 13) % 26 + b'a') as char,
        'A'..='Z' => (((c as u8 - b'A') + 13) % 26 + b'A') as char,
        _ => c,
    }
}

/// One word of a text (an alphanumeric run), hashed as it reads in each view.
pub(super) struct Run {
    /// As written.
    pub(super) forward: u64,
    /// In ROT13.
    pub(super) rot13: u64,
    /// Its characters reversed.
    pub(super) reversed: u64,
    /// Which whitespace-separated word of the text holds it.
    token: usize,
}

/// The words of a text, with what the views need to re-order them.
pub(super) struct Words {
    pub(super) runs: Vec<Run>,
}

impl Words {
    /// One pass over `text`. A word is an alphanumeric run, hashed lower-cased (FNV-1a), as
    /// [`word_hashes`] does for any one view: the ROT13 view maps letters to letters, and
    /// reversing characters or words moves whole runs, so every view has the same runs.
    pub(super) fn of(text: &str) -> Words {
        let mut runs: Vec<Run> = Vec::with_capacity(text.len() / 4);
        let mut last_end = 0;
        for (start, word) in alphanumeric_runs(text) {
            // Runs belong to one whitespace-separated word unless whitespace parts them.
            let token = match runs.last() {
                Some(last) if text[last_end..start].contains(char::is_whitespace) => last.token + 1,
                Some(last) => last.token,
                None => 0,
            };
            runs.push(Run::new(word, token));
            last_end = start + word.len();
        }
        Words { runs }
    }

    /// The whitespace-separated words, as ranges of runs (words without a run left out).
    fn tokens(&self) -> impl DoubleEndedIterator<Item = &[Run]> {
        self.runs.chunk_by(|a, b| a.token == b.token)
    }

    /// Each whitespace-separated word reversed in place: its runs in reverse order, each
    /// reversed.
    pub(super) fn each_word_reversed(&self) -> impl Iterator<Item = u64> + '_ {
        self.tokens()
            .flat_map(|token| token.iter().rev().map(|r| r.reversed))
    }

    /// The whitespace-separated words in reverse order, each as written.
    pub(super) fn word_order_reversed(&self) -> impl Iterator<Item = u64> + '_ {
        self.tokens()
            .rev()
            .flat_map(|token| token.iter().map(|r| r.forward))
    }
}

impl Run {
    fn new(word: &str, token: usize) -> Run {
        if word.is_ascii() {
            // Byte by byte: the same hashes, without decoding or Unicode lower-casing.
            let bytes = word.as_bytes();
            let lower = |b: u8| b.to_ascii_lowercase();
            return Run {
                forward: fnv_bytes(bytes.iter().map(|&b| lower(b))),
                rot13: fnv_bytes(bytes.iter().map(|&b| lower(rot13(char::from(b)) as u8))),
                reversed: fnv_bytes(bytes.iter().rev().map(|&b| lower(b))),
                token,
            };
        }
        Run {
            forward: fnv_lower(word.chars()),
            rot13: fnv_lower(word.chars().map(rot13)),
            reversed: fnv_lower(word.chars().rev()),
            token,
        }
    }
}

/// FNV-1a of ASCII bytes, each mixed in as its character (what [`fnv_lower`] does).
fn fnv_bytes(bytes: impl Iterator<Item = u8>) -> u64 {
    bytes.fold(FNV_OFFSET, |hash, b| mix(hash, char::from(b)))
}

/// FNV-1a of `chars`, lower-cased.
fn fnv_lower(chars: impl Iterator<Item = char>) -> u64 {
    chars.fold(FNV_OFFSET, fnv_lower_step)
}

/// Mixes one character, lower-cased, into an FNV-1a hash.
fn fnv_lower_step(hash: u64, c: char) -> u64 {
    if c.is_ascii() {
        mix(hash, c.to_ascii_lowercase())
    } else {
        c.to_lowercase().fold(hash, mix)
    }
}

/// FNV-1a of every alphanumeric run of `text`, lower-cased: what [`fnv_lower`] gives for
/// each run, in one pass over the characters (it hashes the notes of every reply).
pub(super) fn word_hashes(text: &str) -> Vec<u64> {
    let mut words = Vec::with_capacity(text.len() / 4);
    for_each_run_hash(text, fnv_lower_step, |w| words.push(w));
    words
}

/// Calls `f` with the hash of every alphanumeric run of `text`, in one loop over the
/// characters: FNV-1a from [`FNV_OFFSET`], each character mixed in by `step`.
pub(super) fn for_each_run_hash(
    text: &str,
    step: impl Fn(u64, char) -> u64,
    mut f: impl FnMut(u64),
) {
    let mut hash = FNV_OFFSET;
    let mut in_word = false;
    for c in text.chars() {
        if c.is_alphanumeric() {
            in_word = true;
            hash = step(hash, c);
        } else if in_word {
            f(hash);
            hash = FNV_OFFSET;
            in_word = false;
        }
    }
    if in_word {
        f(hash);
    }
}

/// The alphanumeric runs of `text`, with where each starts.
pub(super) fn alphanumeric_runs(text: &str) -> impl Iterator<Item = (usize, &str)> {
    let mut chars = text.char_indices().peekable();
    std::iter::from_fn(move || {
        let (start, _) = chars.find(|(_, c)| c.is_alphanumeric())?;
        let mut end = text.len();
        while let Some(&(at, c)) = chars.peek() {
            if !c.is_alphanumeric() {
                end = at;
                break;
            }
            chars.next();
        }
        Some((start, &text[start..end]))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEXTS: [&str; 5] = [
        "The user asks how to read a file: std::fs::read_to_string, io::Result<String>.",
        "Straße, İstanbul, ΟΔΥΣΣΕΥΣ and ＦＵＬＬ width, 東京 2024!",
        "  leading and trailing spaces  ",
        "",
        "x",
    ];

    #[test]
    fn word_hashes_are_each_alphanumeric_run_hashed_lower_cased() {
        for text in TEXTS {
            let per_run: Vec<u64> = alphanumeric_runs(text)
                .map(|(_, word)| fnv_lower(word.chars()))
                .collect();
            assert_eq!(word_hashes(text), per_run, "{text:?}");
        }
    }

    #[test]
    fn every_view_has_the_words_that_word_hashes_gives() {
        for text in TEXTS {
            let forward: Vec<u64> = Words::of(text).runs.iter().map(|r| r.forward).collect();
            assert_eq!(forward, word_hashes(text), "{text:?}");
        }
    }
}

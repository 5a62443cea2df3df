//! Unicode hygiene: NFKC normalization (input only) and removal of characters that hide
//! text — zero-width characters, ZWJ outside emoji sequences, bidi controls, tag
//! characters, variation selectors outside emoji, other format/control characters and
//! invisible fillers. NFKC removes none of these, so the filter runs after it.
//!
//! [`Cleaner`] is streaming: it needs one character of lookahead (a ZWJ is kept only
//! between two emoji), so it holds back at most one trailing ZWJ until the next chunk.
use std::borrow::Cow;
use unicode_general_category::{get_general_category, GeneralCategory};
use unicode_normalization::{is_nfkc_quick, IsNormalized, UnicodeNormalization};

const ZWJ: char = '\u{200D}';
const VS16: char = '\u{FE0F}';

/// Incremental invisible-character filter. Feeding text in any chunking yields the same
/// output as feeding it at once.
#[derive(Debug, Default, Clone)]
pub(crate) struct Cleaner {
    /// The last character that was kept is an emoji (or an emoji's VS16 / modifier).
    prev_emoji: bool,
    /// A ZWJ was seen and waits for the next character to decide.
    pending_zwj: bool,
    /// The last character kept can start a keycap sequence (`1`, `#`, `*` + VS16 + U+20E3).
    prev_keycap_base: bool,
}

fn is_keycap_base(c: char) -> bool {
    c.is_ascii_digit() || c == '#' || c == '*'
}

impl Cleaner {
    /// Appends the visible part of `text` to `out`. With `last` set, a trailing ZWJ is
    /// resolved (dropped) instead of held back.
    pub(crate) fn feed(&mut self, text: &str, out: &mut String, last: bool) {
        if text.is_ascii() && !self.pending_zwj {
            // Fast path: only ASCII controls can be invisible here.
            if !text
                .bytes()
                .any(|b| b.is_ascii_control() && b != b'\n' && b != b'\t')
            {
                out.push_str(text);
            } else {
                out.extend(text.chars().filter(|c| !is_removed_ascii(*c)));
            }
            if let Some(c) = text.chars().rev().find(|c| !is_removed_ascii(*c)) {
                self.prev_emoji = is_emoji(c);
                self.prev_keycap_base = is_keycap_base(c);
            }
        } else {
            for c in text.chars() {
                self.step(c, out);
            }
        }
        if last {
            self.pending_zwj = false;
        }
    }

    fn step(&mut self, c: char, out: &mut String) {
        if self.pending_zwj {
            self.pending_zwj = false;
            if self.prev_emoji && is_emoji(c) {
                out.push(ZWJ);
            }
        }
        if c == ZWJ {
            self.pending_zwj = true;
            return;
        }
        if c == VS16 || is_emoji_modifier(c) {
            if self.prev_emoji || (c == VS16 && self.prev_keycap_base) {
                out.push(c);
            }
            return;
        }
        if is_hidden(c) {
            return;
        }
        out.push(c);
        self.prev_emoji = is_emoji(c);
        self.prev_keycap_base = is_keycap_base(c);
    }
}

fn is_removed_ascii(c: char) -> bool {
    c.is_ascii_control() && c != '\n' && c != '\t'
}

/// Removes invisible characters from a complete text.
pub(crate) fn strip_invisible(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    Cleaner::default().feed(text, &mut out, true);
    out
}

/// Input normalization: NFKC, then invisible-character removal (and NFKC again when
/// removal may have joined characters that now compose).
pub(crate) fn normalize_input(text: &str) -> String {
    if text.is_ascii() {
        return strip_invisible(text);
    }
    let normalized = nfkc(text);
    let cleaned = strip_invisible(&normalized);
    if cleaned.len() != normalized.len() && !cleaned.is_ascii() {
        nfkc(&cleaned).into_owned()
    } else {
        cleaned
    }
}

/// NFKC of `text`; `text` itself when the quick check proves it is already NFKC (most text
/// in most languages: precomposed letters, no compatibility characters).
fn nfkc(text: &str) -> Cow<'_, str> {
    match is_nfkc_quick(text.chars()) {
        IsNormalized::Yes => Cow::Borrowed(text),
        IsNormalized::No | IsNormalized::Maybe => Cow::Owned(text.nfkc().collect()),
    }
}

/// Characters that are removed wherever they appear (ZWJ and VS16 are handled by context).
pub(crate) fn is_hidden(c: char) -> bool {
    match c {
        '\n' | '\t' => false,
        // Bidi embeddings/overrides/isolates and marks, Arabic letter mark.
        '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{200E}' | '\u{200F}' => true,
        '\u{061C}' => true,
        // Zero-width space / non-joiner / joiner (ZWJ handled by the caller), word joiner,
        // invisible operators, BOM, soft hyphen, combining grapheme joiner, Mongolian VS.
        '\u{200B}' | '\u{200C}' | '\u{2060}'..='\u{2064}' | '\u{FEFF}' | '\u{00AD}' => true,
        '\u{034F}' | '\u{180B}'..='\u{180F}' => true,
        // Unicode tag characters and variation selectors.
        '\u{E0000}'..='\u{E007F}' | '\u{FE00}'..='\u{FE0F}' | '\u{E0100}'..='\u{E01EF}' => true,
        // Invisible fillers: Hangul fillers, braille blank, Khmer inherent vowels,
        // halfwidth Hangul filler, musical symbol invisible formatting.
        '\u{3164}' | '\u{115F}' | '\u{1160}' | '\u{FFA0}' | '\u{2800}' => true,
        '\u{17B4}' | '\u{17B5}' | '\u{1D173}'..='\u{1D17A}' => true,
        _ if c.is_ascii() => c.is_ascii_control(),
        _ => matches!(
            get_general_category(c),
            GeneralCategory::Format | GeneralCategory::Control
        ),
    }
}

/// Skin-tone modifiers: kept only right after an emoji.
fn is_emoji_modifier(c: char) -> bool {
    ('\u{1F3FB}'..='\u{1F3FF}').contains(&c)
}

/// Emoji (approximation of the Unicode `Emoji` property without the ASCII digits/#/*).
pub(crate) fn is_emoji(c: char) -> bool {
    matches!(c,
        '\u{00A9}' | '\u{00AE}' | '\u{203C}' | '\u{2049}' | '\u{2122}' | '\u{2139}'
        | '\u{2194}'..='\u{21AA}' | '\u{231A}'..='\u{23FF}' | '\u{24C2}'
        | '\u{25AA}'..='\u{25FE}' | '\u{2600}'..='\u{27BF}' | '\u{2934}' | '\u{2935}'
        | '\u{2B05}'..='\u{2B55}' | '\u{3030}' | '\u{303D}' | '\u{3297}' | '\u{3299}'
        | '\u{1F000}'..='\u{1FAFF}')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chunked(text: &str, size: usize) -> String {
        let chars: Vec<char> = text.chars().collect();
        let mut cleaner = Cleaner::default();
        let mut out = String::new();
        for piece in chars.chunks(size) {
            cleaner.feed(&piece.iter().collect::<String>(), &mut out, false);
        }
        cleaner.feed("", &mut out, true);
        out
    }

    /// Every line of the naughty strings and every text of the policy corpus, each also
    /// with a compatibility character, a decomposed accent and a zero-width space around it.
    fn texts_of_every_kind() -> Vec<String> {
        let root = env!("CARGO_MANIFEST_DIR");
        let read = |path: &str| {
            std::fs::read_to_string(format!("{root}/{path}"))
                .unwrap_or_else(|e| panic!("read {path}: {e}"))
        };
        let mut texts: Vec<String> = read("tests/corpora/blns.txt")
            .lines()
            .map(str::to_owned)
            .collect();
        for part in ["tune", "heldout"] {
            for line in read(&format!("tests/corpora/policy/{part}.jsonl")).lines() {
                let case: serde_json::Value = serde_json::from_str(line).expect("a corpus line");
                texts.push(case["text"].as_str().expect("a text").to_owned());
            }
        }
        let variants: Vec<String> = texts
            .iter()
            .flat_map(|t| {
                [
                    format!("\u{FF21}{t}"),
                    format!("{t}e\u{301}"),
                    format!("\u{200B}{t}\u{200B}"),
                ]
            })
            .collect();
        texts.extend(variants);
        texts
    }

    #[test]
    fn input_that_passes_the_quick_check_is_normalized_as_by_full_nfkc() {
        let texts = texts_of_every_kind();
        assert!(texts.len() > 10_000, "{}", texts.len());
        for text in &texts {
            let nfkc: String = text.nfkc().collect();
            let cleaned = strip_invisible(&nfkc);
            let full = if cleaned.len() != nfkc.len() && !cleaned.is_ascii() {
                cleaned.nfkc().collect()
            } else {
                cleaned
            };
            assert_eq!(normalize_input(text), full, "{text:?}");
        }
    }

    #[test]
    fn zero_width_space_and_non_joiner_are_removed() {
        assert_eq!(normalize_input("ig\u{200B}no\u{200C}re"), "ignore");
    }

    #[test]
    fn zero_width_joiner_between_letters_is_removed() {
        assert_eq!(normalize_input("a\u{200D}b"), "ab");
    }

    #[test]
    fn zero_width_joiner_between_emoji_is_kept() {
        assert_eq!(normalize_input("👩\u{200D}💻"), "👩\u{200D}💻");
        assert_eq!(
            normalize_input("🏳\u{FE0F}\u{200D}🌈"),
            "🏳\u{FE0F}\u{200D}🌈"
        );
    }

    #[test]
    fn trailing_zero_width_joiner_after_emoji_is_removed() {
        assert_eq!(normalize_input("👩\u{200D}"), "👩");
        assert_eq!(normalize_input("👩\u{200D}a"), "👩a");
    }

    #[test]
    fn bidi_overrides_isolates_and_marks_are_removed() {
        let text = "a\u{202E}b\u{202A}c\u{2066}d\u{2069}e\u{200E}f\u{200F}g\u{061C}h";
        assert_eq!(normalize_input(text), "abcdefgh");
    }

    #[test]
    fn unicode_tag_characters_are_removed() {
        assert_eq!(
            normalize_input("hi\u{E0001}\u{E0069}\u{E0067}\u{E007F}"),
            "hi"
        );
    }

    #[test]
    fn variation_selectors_outside_emoji_are_removed() {
        assert_eq!(normalize_input("a\u{FE0F}b\u{FE00}c\u{E0100}d"), "abcd");
    }

    #[test]
    fn emoji_presentation_selector_after_emoji_is_kept() {
        assert_eq!(normalize_input("❤\u{FE0F}"), "❤\u{FE0F}");
        assert_eq!(normalize_input("👍\u{1F3FD}"), "👍\u{1F3FD}");
    }

    #[test]
    fn format_and_control_characters_are_removed_but_newline_and_tab_stay() {
        let text = "a\u{0000}b\u{0007}c\r\nd\te\u{0085}f\u{FEFF}g\u{00AD}h\u{2060}i";
        assert_eq!(normalize_input(text), "abc\nd\tefghi");
    }

    #[test]
    fn invisible_fillers_are_removed() {
        let text = "a\u{3164}b\u{115F}c\u{1160}d\u{FFA0}e\u{2800}f\u{180E}g\u{034F}h";
        assert_eq!(normalize_input(text), "abcdefgh");
    }

    #[test]
    fn nfkc_folds_fullwidth_and_ligatures() {
        assert_eq!(normalize_input("ｉｇｎｏｒｅ ﬁle"), "ignore file");
    }

    #[test]
    fn removal_lets_split_combining_sequences_compose() {
        assert_eq!(normalize_input("e\u{200B}\u{0301}"), "\u{00E9}");
    }

    #[test]
    fn chunked_cleaning_matches_whole_cleaning() {
        let text = "x👩\u{200D}💻 a\u{200D}b 🏳\u{FE0F}\u{200D}🌈\u{200D} z\u{202E}q";
        for size in [1, 2, 3, 5] {
            assert_eq!(
                chunked(text, size),
                strip_invisible(text),
                "chunk size {size}"
            );
        }
    }
}

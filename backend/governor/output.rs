//! The length cap of a reply.

/// Caps the reply at `max` characters, "…" included, and trims leading and trailing
/// whitespace. The last visible character is held back until more text arrives, so the
/// ellipsis can replace it when the cap is hit exactly at a segment boundary.
pub(crate) struct Capper {
    max: usize,
    emitted: usize,
    /// Not yet released: the last visible character plus any whitespace after it.
    held: String,
    started: bool,
    capped: bool,
}

pub(crate) const ELLIPSIS: char = '…';

impl Capper {
    pub(crate) fn new(max: usize) -> Self {
        Capper {
            max,
            emitted: 0,
            held: String::new(),
            started: false,
            capped: false,
        }
    }

    pub(crate) fn push(&mut self, piece: &str) -> String {
        if self.capped {
            return String::new();
        }
        let piece = if self.started {
            piece
        } else {
            piece.trim_start()
        };
        if piece.is_empty() {
            return String::new();
        }
        self.started = true;
        self.held.push_str(piece);
        let body_end = self.held.trim_end().len();
        let Some((last_start, _)) = self.held[..body_end].char_indices().next_back() else {
            return String::new();
        };
        let release_chars = self.held[..last_start].chars().count();
        if self.emitted + release_chars < self.max {
            self.emitted += release_chars;
            let keep = self.held.split_off(last_start);
            return std::mem::replace(&mut self.held, keep);
        }
        // Over the cap: room for `room - 1` more characters and the ellipsis.
        self.capped = true;
        let room = self.max.saturating_sub(self.emitted);
        if room == 0 {
            self.held.clear();
            return String::new();
        }
        let cut = self
            .held
            .char_indices()
            .nth(room - 1)
            .map_or(self.held.len(), |(at, _)| at);
        let mut out = self.held[..cut].to_owned();
        self.held.clear();
        out.push(ELLIPSIS);
        out
    }

    pub(crate) fn finish(&mut self) -> String {
        if self.capped {
            return String::new();
        }
        let out = self.held.trim_end().to_owned();
        self.held.clear();
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn capped(max: usize, pieces: &[&str]) -> String {
        let mut capper = Capper::new(max);
        let mut out: String = pieces.iter().map(|p| capper.push(p)).collect();
        out.push_str(&capper.finish());
        out
    }

    #[test]
    fn text_within_the_cap_is_unchanged_apart_from_outer_whitespace() {
        assert_eq!(capped(20, &["\n hello ", "world\n\n"]), "hello world");
        assert_eq!(capped(5, &["hello"]), "hello");
    }

    #[test]
    fn long_text_is_cut_to_the_cap_with_an_ellipsis() {
        let out = capped(8, &["héllo wörld and more"]);
        assert_eq!(out, "héllo w…");
        assert_eq!(out.chars().count(), 8);
    }

    #[test]
    fn cap_reached_exactly_at_a_piece_boundary_still_ends_in_an_ellipsis() {
        assert_eq!(capped(5, &["hello", " world"]), "hell…");
    }
}

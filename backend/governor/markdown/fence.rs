//! The lines of a long fenced code block, governed without parsing the block again.
//!
//! A region is governed with a parse of the window, which starts at the current top-level
//! block: inside a code block of n lines that is n parses of a growing block. When the
//! window opens with a fence at column 0 and nothing after the opening line could close
//! it, the parse of a region of its content lines is known in advance: one code block,
//! one text event from the first content line to the end of the view, then the block's
//! end. So the region is written as it stands (code is verbatim) and its contents are its
//! text. Anything less certain (an indented opener, a line that starts with the fence
//! character, a carriage return, which splits the text event) is parsed as before.

/// A fenced code block that opens the window.
pub(super) struct OpenFence {
    /// `` ` `` or `~`.
    marker: u8,
    /// Where the first content line starts.
    pub(super) content: usize,
}

impl OpenFence {
    /// The fence that opens `window` at column 0 (after empty lines, which a parse skips),
    /// if there is one.
    pub(super) fn opening(window: &str) -> Option<OpenFence> {
        let start = window.len() - window.trim_start_matches('\n').len();
        let marker = *window.as_bytes().get(start)?;
        if marker != b'`' && marker != b'~' {
            return None;
        }
        let line_end = start + window[start..].find('\n')?;
        let line = &window[start..line_end];
        let length = line.bytes().take_while(|&b| b == marker).count();
        // A backtick fence's info string may not hold a backtick (it would be a code span).
        if length < 3 || (marker == b'`' && line[length..].contains('`')) {
            return None;
        }
        Some(OpenFence {
            marker,
            content: line_end + 1,
        })
    }

    /// True when no line of `window[content..view_end]` could close the fence (none starts,
    /// after spaces and tabs, with the fence character) and none holds a carriage return.
    pub(super) fn open_through(&self, window: &str, view_end: usize) -> bool {
        let Some(content) = window.get(self.content..view_end) else {
            return false;
        };
        !content.contains('\r')
            && content.split('\n').all(|line| {
                line.trim_start_matches([' ', '\t']).as_bytes().first() != Some(&self.marker)
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_fence_at_column_zero_opens_the_shortcut() {
        assert_eq!(
            OpenFence::opening("```rust\nfn main() {}\n").map(|f| f.content),
            Some(8)
        );
        assert_eq!(
            OpenFence::opening("~~~~ a`b\nx\n").map(|f| f.content),
            Some(9)
        );
        assert_eq!(
            OpenFence::opening("\n\n```\nx\n").map(|f| f.content),
            Some(6)
        );
        for window in [
            "``\nx\n",
            " ```\nx\n",
            " \n```\nx\n",
            "```a`b\nx\n",
            "```",
            "text\n```\n",
        ] {
            assert!(OpenFence::opening(window).is_none(), "{window:?}");
        }
    }

    #[test]
    fn a_line_that_could_close_the_fence_or_a_carriage_return_ends_it() {
        let fence = OpenFence::opening("```\na\nb\n").expect("a fence");
        assert!(fence.open_through("```\na\nb\n", 8));
        for window in [
            "```\na\n```\n",
            "```\na\n   ``\n",
            "```\na\n\t`x\n",
            "```\na\r\nb\n",
        ] {
            assert!(!fence.open_through(window, window.len()), "{window:?}");
        }
        assert!(
            fence.open_through("```\na\n```\n", 6),
            "only the view up to its end counts"
        );
    }
}

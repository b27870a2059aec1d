//! Byte offset -> line:column conversion shared by the readers.
//!
//! Line starts are found once (memchr over `\n`, or told by a reader
//! that sees every newline anyway: [`Locator::fed`]); columns count
//! Unicode scalar values. Queries are expected in (mostly) increasing order: the
//! locator keeps a cursor so a whole document costs one pass, and falls
//! back to a binary search for the rare backwards query (error paths).

use crate::Position;

pub(crate) struct Locator<'a> {
    bytes: &'a [u8],
    line_starts: Vec<usize>,
    /// Index into `line_starts` of the cursor's line.
    line: usize,
    /// Byte offset of the cursor (on `line`) and its 1-based column.
    off: usize,
    col: u32,
}

fn count_chars(bytes: &[u8]) -> usize {
    // Mostly ASCII: checked word-wise, then no per-byte count is needed.
    if bytes.is_ascii() {
        return bytes.len();
    }
    bytes.iter().filter(|&&b| (b & 0xC0) != 0x80).count()
}

fn clamp_u32(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

impl<'a> Locator<'a> {
    pub(crate) fn new(bytes: &'a [u8]) -> Self {
        let mut locator = Locator::fed(bytes);
        locator
            .line_starts
            .extend(memchr::memchr_iter(b'\n', bytes).map(|i| i + 1));
        locator
    }

    /// A locator whose line starts the reader reports with
    /// [`line_start`](Self::line_start) as it meets them, each before any
    /// query at or past it (the JSON reader, which steps over every
    /// newline in its whitespace: no second pass over the input).
    pub(crate) fn fed(bytes: &'a [u8]) -> Self {
        let mut line_starts = Vec::with_capacity(bytes.len() / 32 + 1);
        line_starts.push(0);
        Locator {
            bytes,
            line_starts,
            line: 0,
            off: 0,
            col: 1,
        }
    }

    /// For a [`fed`](Self::fed) locator: a line starts at byte `at`
    /// (after a newline), after every line start reported before.
    #[inline]
    pub(crate) fn line_start(&mut self, at: usize) {
        self.line_starts.push(at);
    }

    /// The position of byte offset `at` (clamped to the input length).
    pub(crate) fn pos(&mut self, at: usize) -> Position {
        let at = at.min(self.bytes.len());
        if at < self.off {
            // Backwards query: recompute from the start of its line.
            let line = match self.line_starts.binary_search(&at) {
                Ok(l) => l,
                Err(l) => l.saturating_sub(1),
            };
            let start = self.line_starts.get(line).copied().unwrap_or(0);
            let col = count_chars(self.bytes.get(start..at).unwrap_or_default()) + 1;
            return Position::new(clamp_u32(line + 1), clamp_u32(col));
        }
        // Advance the line cursor.
        let mut moved = false;
        while let Some(&next) = self.line_starts.get(self.line + 1) {
            if next <= at {
                self.line += 1;
                moved = true;
            } else {
                break;
            }
        }
        if moved {
            self.off = self.line_starts.get(self.line).copied().unwrap_or(0);
            self.col = 1;
        }
        let n = count_chars(self.bytes.get(self.off..at).unwrap_or_default());
        self.col = self.col.saturating_add(clamp_u32(n));
        self.off = at;
        Position::new(clamp_u32(self.line + 1), self.col)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_and_columns() {
        let text = "ab\ncdé\nx";
        let mut l = Locator::new(text.as_bytes());
        assert_eq!(l.pos(0), Position::new(1, 1));
        assert_eq!(l.pos(1), Position::new(1, 2));
        assert_eq!(l.pos(3), Position::new(2, 1));
        // 'é' is two bytes but one column.
        assert_eq!(l.pos(7), Position::new(2, 4));
        assert_eq!(l.pos(8), Position::new(3, 1));
        // Backwards query.
        assert_eq!(l.pos(4), Position::new(2, 2));
        assert_eq!(l.pos(100), Position::new(3, 2));
    }
    /// Every offset, in increasing steps of each stride and then
    /// backwards, against a count from the start.
    #[test]
    fn agrees_with_counting_from_the_start() {
        let text = "{\r\n  \"a\": \"blå\",\n\n\t\"b\": [1,\n 2]\n}\nsiste linje ø";
        let bytes = text.as_bytes();
        let expected = |at: usize| {
            let before = &bytes[..at];
            let line = before.iter().filter(|&&b| b == b'\n').count() + 1;
            let start = before
                .iter()
                .rposition(|&b| b == b'\n')
                .map_or(0, |k| k + 1);
            Position::new(line as u32, count_chars(&bytes[start..at]) as u32 + 1)
        };
        let newlines: Vec<usize> = (0..bytes.len()).filter(|&i| bytes[i] == b'\n').collect();
        for stride in 1..7 {
            let mut l = Locator::new(bytes);
            let mut fed = Locator::fed(bytes);
            let mut told = newlines.iter().peekable();
            for at in (0..=bytes.len()).step_by(stride) {
                while let Some(&&n) = told.peek().filter(|&&&n| n < at) {
                    fed.line_start(n + 1);
                    told.next();
                }
                assert_eq!(
                    fed.pos(at),
                    expected(at),
                    "fed, stride {stride}, offset {at}"
                );
            }
            for at in (0..=bytes.len()).step_by(stride) {
                assert_eq!(l.pos(at), expected(at), "stride {stride}, offset {at}");
            }
            for at in (0..=bytes.len()).rev() {
                assert_eq!(l.pos(at), expected(at), "backwards, offset {at}");
            }
        }
    }
}

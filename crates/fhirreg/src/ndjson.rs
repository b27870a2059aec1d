//! NDJSON streams: one resource per line, read and validated in bounded
//! batches, results in line order.

use std::io::{self, BufRead, Read};

use fhirreg_element::{args, Issue, Msg, Position};

use crate::{parse_error, Outcome, Validator};

/// A batch ends after this many lines...
const BATCH_LINES: usize = 1024;
/// ...or once its lines hold this many bytes (a longer line is a batch of
/// its own).
const BATCH_BYTES: usize = 8 << 20;

/// The outcome of one line of an NDJSON stream.
#[derive(Clone, Debug)]
pub struct NdjsonResult {
    /// 1-based line number in the stream (blank lines count).
    pub line: u64,
    /// The line's outcome. Issue positions are inside the line (their
    /// line is 1, their column the column in the stream's line).
    pub outcome: Outcome,
}

impl NdjsonResult {
    /// The line's OperationOutcome with the line number as an
    /// [`NDJSON_LINE_EXTENSION`](crate::NDJSON_LINE_EXTENSION) extension;
    /// add the file with `.extension_string(FILE_EXTENSION, name)`.
    ///
    /// ```
    /// let validator = fhirreg::Validator::builder().build().unwrap();
    /// let result = validator.validate_ndjson(&b"\n{\"resourceType\":\"Patient\"}"[..]).next().unwrap();
    /// let mut out = Vec::new();
    /// result.operation_outcome().write_json(&mut out, false).unwrap();
    /// let value: serde_json::Value = serde_json::from_slice(&out).unwrap();
    /// assert_eq!(value["extension"][0]["url"], fhirreg::NDJSON_LINE_EXTENSION);
    /// assert_eq!(value["extension"][0]["valueInteger"], 2);
    /// ```
    pub fn operation_outcome(&self) -> crate::OperationOutcome<'_> {
        self.outcome
            .operation_outcome()
            .extension_integer(crate::NDJSON_LINE_EXTENSION, self.line)
    }
}

/// The validator of an [`NdjsonResults`]: borrowed
/// ([`Validator::validate_ndjson`]) or its own
/// ([`Validator::validate_ndjson_owned`]).
pub(crate) enum ValidatorRef<'v> {
    Borrowed(&'v Validator),
    Owned(Box<Validator>),
}

impl std::ops::Deref for ValidatorRef<'_> {
    type Target = Validator;

    fn deref(&self) -> &Validator {
        match self {
            ValidatorRef::Borrowed(v) => v,
            ValidatorRef::Owned(v) => v,
        }
    }
}

/// The iterator of [`Validator::validate_ndjson`] (and
/// [`Validator::validate_ndjson_owned`]): reads a batch of lines,
/// validates it (in parallel unless the validator runs on one thread),
/// yields its results in line order, then reads the next batch.
pub struct NdjsonResults<'v, R> {
    validator: ValidatorRef<'v>,
    reader: R,
    /// Lines read so far.
    line: u64,
    ready: std::vec::IntoIter<NdjsonResult>,
    read_error: Option<io::Error>,
    finished: bool,
}

/// One non-blank line waiting for validation.
enum Pending {
    Json(Vec<u8>),
    /// Longer than the size limit: the bytes were not kept.
    TooLong(u64),
}

impl<'v, R: BufRead> NdjsonResults<'v, R> {
    pub(crate) fn new(validator: ValidatorRef<'v>, reader: R) -> Self {
        NdjsonResults {
            validator,
            reader,
            line: 0,
            ready: Vec::new().into_iter(),
            read_error: None,
            finished: false,
        }
    }

    /// The error that ended the iteration early, if reading failed (the
    /// lines before it were all yielded). `None` at the end of a stream
    /// read in full.
    pub fn read_error(&self) -> Option<&io::Error> {
        self.read_error.as_ref()
    }

    /// The number of lines read so far (the line a read error happened on
    /// is the next one).
    pub fn lines_read(&self) -> u64 {
        self.line
    }

    /// The results of the current batch not yielded yet: `0` means the
    /// next call to `next` reads and validates a new batch (a good moment
    /// to flush what was written of the results so far).
    pub fn pending(&self) -> usize {
        self.ready.len()
    }

    /// Read the next batch of non-blank lines. Stops at the end of the
    /// stream or a read error (recorded).
    fn read_batch(&mut self) -> Vec<(u64, Pending)> {
        let limit = self.validator.parse_options.max_size;
        let (max_lines, max_bytes) = if self.validator.is_sequential() {
            (1, 0)
        } else {
            (BATCH_LINES, BATCH_BYTES)
        };
        let mut batch = Vec::new();
        let mut bytes = 0usize;
        while batch.len() < max_lines && (bytes < max_bytes || batch.is_empty()) {
            let mut buf = Vec::new();
            match read_line(&mut self.reader, &mut buf, limit) {
                Ok(Line::End) => {
                    self.finished = true;
                    break;
                }
                Ok(Line::Read) => {
                    self.line += 1;
                    if buf.iter().all(u8::is_ascii_whitespace) {
                        continue;
                    }
                    bytes += buf.len();
                    batch.push((self.line, Pending::Json(buf)));
                }
                Ok(Line::TooLong(len)) => {
                    self.line += 1;
                    batch.push((self.line, Pending::TooLong(len)));
                }
                Err(e) => {
                    self.read_error = Some(e);
                    self.finished = true;
                    break;
                }
            }
        }
        batch
    }
}

impl<R: BufRead> Iterator for NdjsonResults<'_, R> {
    type Item = NdjsonResult;

    fn next(&mut self) -> Option<NdjsonResult> {
        loop {
            if let Some(result) = self.ready.next() {
                return Some(result);
            }
            if self.finished {
                return None;
            }
            let batch = self.read_batch();
            let validator: &Validator = &self.validator;
            let results = validator.map_ordered(&batch, |(line, pending)| NdjsonResult {
                line: *line,
                outcome: match pending {
                    Pending::Json(bytes) => validator.guarded(|| {
                        validator.validate_parsed(
                            fhirreg_element::json::parse(bytes, &validator.parse_options)
                                .map_err(parse_error),
                            &[],
                        )
                    }),
                    Pending::TooLong(len) => Outcome {
                        issues: vec![line_too_long(*len, validator.parse_options.max_size)],
                    },
                },
            });
            self.ready = results.into_iter();
        }
    }
}

/// The fatal issue of an NDJSON line over the size limit: the only place
/// that writes it.
fn line_too_long(len: u64, limit: usize) -> Issue {
    Issue::new(
        Msg::LineTooLong,
        args![len.to_string(), limit.to_string()],
        "",
        Some(Position::new(1, 1)),
    )
}

/// What [`read_line`] found.
#[derive(Debug, PartialEq)]
enum Line {
    /// A line (without its `\n` or `\r\n`) is in the buffer.
    Read,
    /// A line of this many bytes, over the limit: skipped, not buffered.
    TooLong(u64),
    /// No more lines.
    End,
}

/// Read one line into `buf`, keeping at most `limit` bytes of it in memory.
fn read_line(reader: &mut impl BufRead, buf: &mut Vec<u8>, limit: usize) -> io::Result<Line> {
    buf.clear();
    // At most limit + 1 bytes plus the newline: more means too long.
    let cap = u64::try_from(limit).unwrap_or(u64::MAX).saturating_add(2);
    let n = reader.by_ref().take(cap).read_until(b'\n', buf)?;
    if n == 0 {
        return Ok(Line::End);
    }
    let ended = buf.last() == Some(&b'\n');
    if ended {
        buf.pop();
    }
    if buf.last() == Some(&b'\r') {
        buf.pop();
    }
    if buf.len() <= limit {
        return Ok(Line::Read);
    }
    // Too long: skip to the end of the line without keeping it.
    let mut len = buf.len() as u64;
    buf.clear();
    buf.shrink_to_fit();
    if !ended {
        loop {
            let available = match reader.fill_buf() {
                Ok(available) => available,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            };
            if available.is_empty() {
                break;
            }
            match available.iter().position(|&b| b == b'\n') {
                Some(i) => {
                    len += i as u64;
                    reader.consume(i + 1);
                    break;
                }
                None => {
                    let used = available.len();
                    len += used as u64;
                    reader.consume(used);
                }
            }
        }
    }
    Ok(Line::TooLong(len))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(input: &[u8], limit: usize) -> Vec<(Line, Vec<u8>)> {
        // A tiny buffer so that lines span several fills.
        let mut reader = io::BufReader::with_capacity(3, input);
        let mut out = Vec::new();
        loop {
            let mut buf = Vec::new();
            match read_line(&mut reader, &mut buf, limit).unwrap() {
                Line::End => return out,
                line => out.push((line, buf)),
            }
        }
    }

    #[test]
    fn lines_are_split_on_newlines_with_crlf_and_limits() {
        let got = lines(b"ab\r\n\ncdefghij\nk", 4);
        assert_eq!(
            got,
            [
                (Line::Read, b"ab".to_vec()),
                (Line::Read, b"".to_vec()),
                (Line::TooLong(8), Vec::new()),
                (Line::Read, b"k".to_vec()),
            ]
        );
        assert_eq!(lines(b"abcd\nabcde", 4)[1], (Line::TooLong(5), Vec::new()));
        assert_eq!(lines(b"", 4), []);
    }

    #[test]
    fn results_come_in_line_order_with_blank_and_bad_lines() {
        let patient = |active: &str| format!(r#"{{"resourceType":"Patient","active":{active}}}"#);
        let mut input = String::new();
        for i in 0..2500 {
            match i % 5 {
                0 => input.push_str("  \r\n"),
                1 => input.push_str("{not json\n"),
                2 => input.push_str(&(patient("\"yes\"") + "\n")),
                _ => input.push_str(&(patient("true") + "\n")),
            }
        }
        for threads in [1, 2] {
            let validator = Validator::builder().threads(threads).build().unwrap();
            let mut results = validator.validate_ndjson(input.as_bytes());
            let got: Vec<(u64, bool)> = results
                .by_ref()
                .map(|r| (r.line, r.outcome.is_valid()))
                .collect();
            assert!(results.read_error().is_none());
            assert_eq!(results.lines_read(), 2500);
            let expected: Vec<(u64, bool)> = (0..2500u64)
                .filter(|i| i % 5 != 0)
                .map(|i| (i + 1, i % 5 > 2))
                .collect();
            assert_eq!(got, expected, "threads {threads}");
        }
    }

    #[test]
    fn a_bad_line_has_a_fatal_located_issue() {
        let validator = Validator::builder().build().unwrap();
        let results: Vec<NdjsonResult> = validator
            .validate_ndjson(&b"{\"resourceType\":\"Patient\",\n<Patient/>\n"[..])
            .collect();
        assert_eq!(results.len(), 2);
        for result in &results {
            let issue = &result.outcome.issues[0];
            assert_eq!(
                issue.severity,
                fhirreg_element::Severity::Fatal,
                "{issue:?}"
            );
            assert_eq!(issue.pos.map(|p| p.line), Some(1));
        }
    }

    #[test]
    fn an_overlong_line_is_reported_and_skipped() {
        let validator = Validator::builder()
            .parse_options(fhirreg_element::ParseOptions {
                max_size: 40,
                ..Default::default()
            })
            .build()
            .unwrap();
        let long = format!(r#"{{"resourceType":"Patient","id":"{}"}}"#, "a".repeat(100));
        let input = format!("{long}\n{{\"resourceType\":\"Patient\"}}\n");
        let results: Vec<NdjsonResult> = validator.validate_ndjson(input.as_bytes()).collect();
        assert_eq!(results.len(), 2);
        let issue = &results[0].outcome.issues[0];
        assert_eq!(issue.code, fhirreg_element::IssueType::TooLong);
        assert_eq!(issue.msg, Msg::LineTooLong);
        assert_eq!(
            issue.args[0].as_text(),
            Some(long.len().to_string().as_str())
        );
        assert!(results[1].outcome.is_valid());
    }

    /// An endless stream: results come batch by batch while it is read,
    /// so taking some of them ends (reading it all first never would).
    #[test]
    fn an_endless_stream_is_validated_lazily() {
        let line = b"{\"resourceType\":\"Patient\",\"active\":true}\n";
        let endless = io::BufReader::new(Cycle { data: line, at: 0 });
        let validator = Validator::builder().threads(2).build().unwrap();
        let mut results = validator.validate_ndjson(endless);
        let lines: Vec<u64> = results
            .by_ref()
            .take(2 * BATCH_LINES + 1)
            .map(|r| r.line)
            .collect();
        assert_eq!(lines.len(), 2 * BATCH_LINES + 1);
        assert_eq!(lines.last(), Some(&(2 * BATCH_LINES as u64 + 1)));
        // Three batches were read, no more.
        assert_eq!(results.lines_read(), 3 * BATCH_LINES as u64);
        assert_eq!(results.pending(), BATCH_LINES - 1);
    }

    /// The same bytes over and over.
    struct Cycle {
        data: &'static [u8],
        at: usize,
    }

    impl Read for Cycle {
        fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
            let mut n = 0;
            while n < out.len() {
                out[n] = self.data[self.at];
                self.at = (self.at + 1) % self.data.len();
                n += 1;
            }
            Ok(n)
        }
    }

    /// A reader that fails after its data.
    struct Failing<'a>(&'a [u8]);

    impl Read for Failing<'_> {
        fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
            if self.0.is_empty() {
                return Err(io::Error::other("disk on fire"));
            }
            let n = self.0.read(out)?;
            Ok(n)
        }
    }

    #[test]
    fn a_read_error_ends_the_stream_and_is_kept() {
        let validator = Validator::builder().build().unwrap();
        let reader = io::BufReader::new(Failing(b"{\"resourceType\":\"Patient\"}\n"));
        let mut results = validator.validate_ndjson(reader);
        let got: Vec<u64> = results.by_ref().map(|r| r.line).collect();
        assert_eq!(got, [1]);
        assert_eq!(
            results.read_error().map(|e| e.to_string()).as_deref(),
            Some("disk on fire")
        );
        assert_eq!(results.next().map(|r| r.line), None);
    }
}

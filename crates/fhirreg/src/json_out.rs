//! A streaming JSON writer for the outcome shapes (OperationOutcome, a
//! collection Bundle of them): the bytes of `serde_json::to_writer` and
//! `to_writer_pretty` (two-space indent), at a fifth of the cost. Outcomes
//! are written for every input of a run, so their writing is part of the
//! validator's throughput; serde's generic pretty printer writes every
//! indentation step and every escaped byte through the writer one by one.

use std::io::{self, Write};

use fhirreg_element::json::plain_run;

/// Text collected before it is handed to the writer.
const FLUSH_AT: usize = 1 << 16;

pub(crate) struct JsonOut<W: Write> {
    out: W,
    buf: Vec<u8>,
    pretty: bool,
    /// Nesting depth (containers open).
    level: usize,
    /// The innermost open container has no member yet.
    empty: bool,
}

impl<W: Write> JsonOut<W> {
    pub(crate) fn new(out: W, pretty: bool) -> Self {
        JsonOut {
            out,
            buf: Vec::with_capacity(4096),
            pretty,
            level: 0,
            empty: true,
        }
    }

    /// Write what is left.
    pub(crate) fn finish(mut self) -> io::Result<()> {
        self.out.write_all(&self.buf)?;
        self.buf.clear();
        Ok(())
    }

    fn newline(&mut self) {
        self.buf.push(b'\n');
        let n = self.buf.len() + 2 * self.level;
        self.buf.resize(n, b' ');
    }

    /// Before a member of the innermost container (a key or an array item).
    fn member(&mut self) {
        if !self.empty {
            self.buf.push(b',');
        }
        self.empty = false;
        if self.pretty {
            self.newline();
        }
    }

    fn open(&mut self, c: u8) {
        self.buf.push(c);
        self.level += 1;
        self.empty = true;
    }

    /// Close the innermost container; its parent has a member now (this one).
    fn close(&mut self, c: u8) -> io::Result<()> {
        self.level = self.level.saturating_sub(1);
        if self.pretty && !self.empty {
            self.newline();
        }
        self.buf.push(c);
        self.empty = false;
        if self.buf.len() >= FLUSH_AT {
            self.out.write_all(&self.buf)?;
            self.buf.clear();
        }
        Ok(())
    }

    pub(crate) fn begin_object(&mut self) {
        self.open(b'{');
    }

    pub(crate) fn end_object(&mut self) -> io::Result<()> {
        self.close(b'}')
    }

    pub(crate) fn begin_array(&mut self) {
        self.open(b'[');
    }

    pub(crate) fn end_array(&mut self) -> io::Result<()> {
        self.close(b']')
    }

    /// An object key; its value comes next.
    pub(crate) fn key(&mut self, key: &str) {
        self.member();
        self.string(key);
        self.buf
            .extend_from_slice(if self.pretty { b": " } else { b":" });
    }

    /// An array item that is a value (not a container): call before it.
    pub(crate) fn item(&mut self) {
        self.member();
    }

    /// `"key": "value"`.
    pub(crate) fn entry_str(&mut self, key: &str, value: &str) {
        self.key(key);
        self.string(value);
    }

    /// `"key": n`.
    pub(crate) fn entry_u64(&mut self, key: &str, value: u64) {
        self.key(key);
        let digits = Digits::of(value);
        self.buf.extend_from_slice(digits.bytes());
    }

    /// A string value, escaped as serde_json escapes it: `"`, `\` and the
    /// control characters; everything else as is.
    pub(crate) fn string(&mut self, s: &str) {
        self.buf.push(b'"');
        let bytes = s.as_bytes();
        let (mut start, mut i) = (0, 0);
        while let Some(rest) = bytes.get(i..) {
            i += plain_run(rest);
            let Some(&b) = bytes.get(i) else { break };
            i += 1;
            if b >= 0x20 && b != b'"' && b != b'\\' {
                continue;
            }
            self.buf
                .extend_from_slice(bytes.get(start..i - 1).unwrap_or_default());
            start = i;
            match b {
                b'"' => self.buf.extend_from_slice(b"\\\""),
                b'\\' => self.buf.extend_from_slice(b"\\\\"),
                b'\n' => self.buf.extend_from_slice(b"\\n"),
                b'\r' => self.buf.extend_from_slice(b"\\r"),
                b'\t' => self.buf.extend_from_slice(b"\\t"),
                0x08 => self.buf.extend_from_slice(b"\\b"),
                0x0C => self.buf.extend_from_slice(b"\\f"),
                _ => {
                    const HEX: &[u8; 16] = b"0123456789abcdef";
                    self.buf.extend_from_slice(b"\\u00");
                    self.buf.push(HEX[usize::from(b >> 4)]);
                    self.buf.push(HEX[usize::from(b & 0xF)]);
                }
            }
        }
        self.buf
            .extend_from_slice(bytes.get(start..).unwrap_or_default());
        self.buf.push(b'"');
    }
}

/// The decimal digits of `n`, without `core::fmt`.
struct Digits {
    buf: [u8; 20],
    start: usize,
}

impl Digits {
    fn of(mut n: u64) -> Digits {
        let mut buf = [0u8; 20];
        let mut start = buf.len();
        while let Some(at) = start.checked_sub(1) {
            start = at;
            buf[at] = b'0' + (n % 10) as u8;
            n /= 10;
            if n == 0 {
                break;
            }
        }
        Digits { buf, start }
    }

    fn bytes(&self) -> &[u8] {
        self.buf.get(self.start..).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// A value written with the writer, as `serde_json` writes it.
    fn write(v: &serde_json::Value, out: &mut JsonOut<&mut Vec<u8>>) {
        match v {
            serde_json::Value::Object(m) => {
                out.begin_object();
                for (k, v) in m {
                    match v {
                        serde_json::Value::String(s) => out.entry_str(k, s),
                        serde_json::Value::Number(n) => out.entry_u64(k, n.as_u64().unwrap()),
                        _ => {
                            out.key(k);
                            write(v, out);
                        }
                    }
                }
                out.end_object().unwrap();
            }
            serde_json::Value::Array(a) => {
                out.begin_array();
                for v in a {
                    out.item();
                    match v {
                        serde_json::Value::String(s) => out.string(s),
                        _ => write(v, out),
                    }
                }
                out.end_array().unwrap();
            }
            _ => unreachable!(),
        }
    }

    #[test]
    fn same_bytes_as_serde_json() {
        let value = json!({
            "a": "plain", "b": "quote \" backslash \\ nl \n tab \t cr \r bs \u{8} ff \u{c} nul \u{0} us \u{1f} del \u{7f} æøå 😀 </",
            "empty": {}, "none": [], "n": 0, "big": u64::MAX,
            "list": ["x", {"k": "v", "deep": [{"z": 1}]}, [], {}],
        });
        for pretty in [false, true] {
            let mut bytes = Vec::new();
            let mut out = JsonOut::new(&mut bytes, pretty);
            write(&value, &mut out);
            out.finish().unwrap();
            let expected = if pretty {
                serde_json::to_string_pretty(&value).unwrap()
            } else {
                value.to_string()
            };
            assert_eq!(String::from_utf8(bytes).unwrap(), expected);
        }
    }
}

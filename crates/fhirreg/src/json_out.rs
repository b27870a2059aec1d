//! A streaming JSON writer for the outcome shapes (OperationOutcome, a
//! collection Bundle of them): the bytes of `serde_json::to_writer` and
//! `to_writer_pretty` (two-space indent), at a fifth of the cost. Outcomes
//! are written for every input of a run, so their writing is part of the
//! validator's throughput; serde's generic pretty printer writes every
//! indentation step and every escaped byte through the writer one by one.

use std::io::{self, Write};

use fhirreg_element::json::push_json_string;
use fhirreg_element::push_decimal;

/// Text collected before it is handed to the writer.
const FLUSH_AT: usize = 1 << 16;

pub(crate) struct JsonOut<W: Write> {
    out: W,
    buf: String,
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
            buf: String::with_capacity(4096),
            pretty,
            level: 0,
            empty: true,
        }
    }

    /// Write what is left.
    pub(crate) fn finish(mut self) -> io::Result<()> {
        self.out.write_all(self.buf.as_bytes())?;
        self.buf.clear();
        Ok(())
    }

    fn newline(&mut self) {
        const SPACES: &str = "                                ";
        self.buf.push('\n');
        let mut indent = 2 * self.level;
        while indent > 0 {
            let n = indent.min(SPACES.len());
            self.buf.push_str(SPACES.get(..n).unwrap_or_default());
            indent -= n;
        }
    }

    /// Before a member of the innermost container (a key or an array item).
    fn member(&mut self) {
        if !self.empty {
            self.buf.push(',');
        }
        self.empty = false;
        if self.pretty {
            self.newline();
        }
    }

    fn open(&mut self, c: char) {
        self.buf.push(c);
        self.level += 1;
        self.empty = true;
    }

    /// Close the innermost container; its parent has a member now (this one).
    fn close(&mut self, c: char) -> io::Result<()> {
        self.level = self.level.saturating_sub(1);
        if self.pretty && !self.empty {
            self.newline();
        }
        self.buf.push(c);
        self.empty = false;
        if self.buf.len() >= FLUSH_AT {
            self.out.write_all(self.buf.as_bytes())?;
            self.buf.clear();
        }
        Ok(())
    }

    pub(crate) fn begin_object(&mut self) {
        self.open('{');
    }

    pub(crate) fn end_object(&mut self) -> io::Result<()> {
        self.close('}')
    }

    pub(crate) fn begin_array(&mut self) {
        self.open('[');
    }

    pub(crate) fn end_array(&mut self) -> io::Result<()> {
        self.close(']')
    }

    /// An object key; its value comes next.
    pub(crate) fn key(&mut self, key: &str) {
        self.member();
        self.string(key);
        self.buf.push_str(if self.pretty { ": " } else { ":" });
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
        push_decimal(&mut self.buf, value);
    }

    /// A string value, escaped as serde_json escapes it.
    pub(crate) fn string(&mut self, s: &str) {
        push_json_string(&mut self.buf, s);
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

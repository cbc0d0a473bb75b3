//! What the two call syntaxes share: splitting a reply at its call blocks, a cursor over what
//! is left of a call to read, and numbers.

use serde_json::{Number, Value};

use crate::{MalformedCall, ParsedReply, ToolCall};

/// Deeper nesting than this in a call's arguments is refused, not recursed into.
const MAX_DEPTH: usize = 32;

/// Splits `reply` into its text and the calls `calls_in` reads from each block between `open`
/// and `close`; a block never closed is malformed with `cut_off` as the reason.
pub(crate) fn parse_blocks(
    reply: &str,
    open: &str,
    close: &str,
    cut_off: &str,
    mut calls_in: impl FnMut(&str, &mut ParsedReply),
) -> ParsedReply {
    let mut parsed = ParsedReply::default();
    let mut rest = reply;
    while let Some(start) = rest.find(open) {
        parsed.text.push_str(&rest[..start]);
        let block = &rest[start + open.len()..];
        let Some(end) = block.find(close) else {
            parsed.push(Err(MalformedCall { raw: block.to_owned(), reason: cut_off.to_owned() }));
            rest = "";
            break;
        };
        calls_in(&block[..end], &mut parsed);
        rest = &block[end + close.len()..];
    }
    parsed.text.push_str(rest);
    parsed.text = parsed.text.trim().to_owned();
    parsed
}

/// The call `name` with the arguments `read` takes from `cursor`, which must leave nothing after
/// them; `raw` is the whole call, kept when it is malformed, and `part` what the reasons name
/// (the arguments of NAME, the call of NAME).
pub(crate) fn read_call<'a>(
    raw: &str,
    name: &str,
    part: &str,
    mut cursor: Cursor<'a>,
    read: impl FnOnce(&mut Cursor<'a>) -> Result<serde_json::Map<String, Value>, String>,
) -> Result<ToolCall, MalformedCall> {
    let malformed = |reason: String| MalformedCall { raw: raw.to_owned(), reason };
    let arguments = read(&mut cursor).map_err(|reason| malformed(format!("in the {part} of {name}: {reason}")))?;
    if !cursor.text.trim().is_empty() {
        return Err(malformed(format!("text after the {part} of {name}: {:?}", cursor.text.trim())));
    }
    Ok(ToolCall { name: name.to_owned(), arguments })
}

/// What is left of a call to read.
pub(crate) struct Cursor<'a> {
    pub(crate) text: &'a str,
    depth: usize,
}

impl<'a> Cursor<'a> {
    pub(crate) fn new(text: &'a str) -> Self {
        Cursor { text, depth: 0 }
    }

    pub(crate) fn skip_spaces(&mut self) {
        self.text = self.text.trim_start();
    }

    /// Takes `expected` (after any spaces) if it comes next.
    pub(crate) fn eat(&mut self, expected: &str) -> bool {
        self.skip_spaces();
        match self.text.strip_prefix(expected) {
            Some(rest) => {
                self.text = rest;
                true
            }
            None => false,
        }
    }

    /// Takes the text up to the first of `ends` (or the end), trimmed.
    pub(crate) fn word(&mut self, ends: &[char]) -> &'a str {
        let end = self.text.find(ends).unwrap_or(self.text.len());
        let word = self.text[..end].trim();
        self.text = &self.text[end..];
        word
    }

    /// Reads a list or map inside another, at most [`MAX_DEPTH`] deep.
    pub(crate) fn nested<T>(&mut self, read: impl FnOnce(&mut Self) -> Result<T, String>) -> Result<T, String> {
        if self.depth == MAX_DEPTH {
            return Err(format!("nested more than {MAX_DEPTH} deep"));
        }
        self.depth += 1;
        let value = read(self);
        self.depth -= 1;
        value
    }
}

/// `word` as a JSON number: an integer, or a decimal or exponent form.
pub(crate) fn number(word: &str) -> Option<Value> {
    if let Ok(integer) = word.parse::<i64>() {
        return Some(Value::Number(integer.into()));
    }
    let looks_numeric = word.starts_with(|c: char| c.is_ascii_digit() || c == '-' || c == '.');
    looks_numeric.then(|| word.parse::<f64>().ok().and_then(Number::from_f64)).flatten().map(Value::Number)
}

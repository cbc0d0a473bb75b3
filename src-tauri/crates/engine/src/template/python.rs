//! How Python spells values: `str()`, `repr()`, `json.dumps`, and its idea of whitespace.
//!
//! jinja2 prints and serialises with Python's own functions, so a template rendered by
//! minijinja must spell `None`, `True`, `1e-05` or `['a', 1]` the same way to produce the same
//! prompt.

use std::fmt::Write as _;

use minijinja::value::{Value, ValueKind};
use minijinja::{Error, ErrorKind};

/// `str.split(sep, maxsplit)`; a negative `max_split` means no limit, as in Python.
pub(super) fn split(text: &str, separator: Option<&str>, max_split: i64) -> Result<Value, Error> {
    let limit = usize::try_from(max_split).ok();
    let parts: Vec<Value> = match separator {
        Some("") => return Err(Error::new(ErrorKind::InvalidOperation, "empty separator")),
        Some(separator) => match limit {
            Some(limit) => text.splitn(limit + 1, separator).map(Value::from).collect(),
            None => text.split(separator).map(Value::from).collect(),
        },
        None => {
            // Runs of whitespace separate; leading and trailing whitespace yields no empty parts.
            let mut parts = Vec::new();
            let mut rest = strip_start(text, None);
            while !rest.is_empty() {
                if limit.is_some_and(|limit| parts.len() == limit) {
                    parts.push(Value::from(strip_end(rest, None)));
                    break;
                }
                let end = rest.find(is_whitespace).unwrap_or(rest.len());
                parts.push(Value::from(&rest[..end]));
                rest = strip_start(&rest[end..], None);
            }
            parts
        }
    };
    Ok(Value::from(parts))
}

/// `str.isspace()`: Unicode White_Space plus the ASCII separators U+001C..U+001F, which Rust's
/// `char::is_whitespace` leaves out.
pub(super) fn is_whitespace(c: char) -> bool {
    c.is_whitespace() || ('\u{1c}'..='\u{1f}').contains(&c)
}

fn strip_set(chars: Option<&str>) -> impl Fn(char) -> bool + '_ {
    move |c| match chars {
        Some(chars) => chars.contains(c),
        None => is_whitespace(c),
    }
}

/// `str.strip(chars)`.
pub(super) fn strip<'a>(text: &'a str, chars: Option<&str>) -> &'a str {
    text.trim_matches(strip_set(chars))
}

/// `str.lstrip(chars)`.
pub(super) fn strip_start<'a>(text: &'a str, chars: Option<&str>) -> &'a str {
    text.trim_start_matches(strip_set(chars))
}

/// `str.rstrip(chars)`.
pub(super) fn strip_end<'a>(text: &'a str, chars: Option<&str>) -> &'a str {
    text.trim_end_matches(strip_set(chars))
}

/// Python's `str(value)`, which is what jinja2 prints for `{{ value }}`.
pub(super) fn str_of(value: &Value) -> String {
    match value.kind() {
        ValueKind::Undefined => String::new(),
        ValueKind::String => value.as_str().unwrap_or_default().to_owned(),
        _ => {
            let mut out = String::new();
            repr(value, &mut out);
            out
        }
    }
}

/// Python's `repr(value)`, used for the items of printed lists and dicts.
pub(super) fn repr(value: &Value, out: &mut String) {
    match value.kind() {
        ValueKind::Undefined => out.push_str("Undefined"),
        ValueKind::None => out.push_str("None"),
        ValueKind::Bool => out.push_str(if value.is_true() { "True" } else { "False" }),
        ValueKind::Number if value.is_integer() => write!(out, "{value}").unwrap_or(()),
        ValueKind::Number => match f64::try_from(value.clone()) {
            Ok(number) => out.push_str(&float_repr(number)),
            Err(_) => write!(out, "{value}").unwrap_or(()),
        },
        ValueKind::String => repr_str(value.as_str().unwrap_or_default(), out),
        ValueKind::Seq | ValueKind::Iterable => {
            out.push('[');
            for (index, item) in value.try_iter().into_iter().flatten().enumerate() {
                if index > 0 {
                    out.push_str(", ");
                }
                repr(&item, out);
            }
            out.push(']');
        }
        ValueKind::Map => {
            out.push('{');
            for (index, key) in value.try_iter().into_iter().flatten().enumerate() {
                if index > 0 {
                    out.push_str(", ");
                }
                repr(&key, out);
                out.push_str(": ");
                repr(&value.get_item(&key).unwrap_or_default(), out);
            }
            out.push('}');
        }
        _ => write!(out, "{value}").unwrap_or(()),
    }
}

/// `repr(str)`: single quotes unless the text has one and no double quote; non-printable
/// characters escaped. Printability follows `str.isprintable()` for the control, separator and
/// format characters text actually carries.
fn repr_str(text: &str, out: &mut String) {
    let quote = if text.contains('\'') && !text.contains('"') { '"' } else { '\'' };
    out.push(quote);
    for c in text.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c == quote => {
                out.push('\\');
                out.push(c);
            }
            c if !is_printable(c) => match u32::from(c) {
                code @ 0..=0xff => write!(out, "\\x{code:02x}").unwrap_or(()),
                code @ 0x100..=0xffff => write!(out, "\\u{code:04x}").unwrap_or(()),
                code => write!(out, "\\U{code:08x}").unwrap_or(()),
            },
            c => out.push(c),
        }
    }
    out.push(quote);
}

fn is_printable(c: char) -> bool {
    let code = u32::from(c);
    !matches!(code,
        0x00..=0x1f | 0x7f..=0xa0 | 0xad | 0x600..=0x605 | 0x61c | 0x6dd | 0x70f | 0x180e
        | 0x1680 | 0x2000..=0x200f | 0x2028..=0x202f | 0x205f..=0x206f | 0x3000
        | 0xd800..=0xf8ff | 0xfeff | 0xfff9..=0xfffb | 0xe0001 | 0xe0020..=0xe007f | 0xf0000..)
}

/// Python's `repr(float)`: the shortest digits that read back to the same number, in positional
/// notation when the decimal exponent is in -4..16, otherwise `d.ddde+XX`.
pub(super) fn float_repr(number: f64) -> String {
    if number.is_nan() {
        return "nan".to_owned();
    }
    if number.is_infinite() {
        return if number > 0.0 { "inf" } else { "-inf" }.to_owned();
    }
    let sign = if number.is_sign_negative() { "-" } else { "" };
    // Rust's `{:e}` gives the same shortest round-trip digits: "1.2345e-7".
    let scientific = format!("{:e}", number.abs());
    let (mantissa, exponent) = scientific.split_once('e').unwrap_or((&scientific, "0"));
    let exponent: i32 = exponent.parse().unwrap_or(0);
    let digits: String = mantissa.chars().filter(|c| *c != '.').collect();
    if !(-4..16).contains(&exponent) {
        let (first, rest) = digits.split_at(1);
        let fraction = if rest.is_empty() { String::new() } else { format!(".{rest}") };
        let exponent_sign = if exponent < 0 { '-' } else { '+' };
        return format!("{sign}{first}{fraction}e{exponent_sign}{:02}", exponent.abs());
    }
    if exponent < 0 {
        let zeros = "0".repeat((-exponent - 1) as usize);
        return format!("{sign}0.{zeros}{digits}");
    }
    let integer_len = exponent as usize + 1;
    if digits.len() <= integer_len {
        let zeros = "0".repeat(integer_len - digits.len());
        format!("{sign}{digits}{zeros}.0")
    } else {
        format!("{sign}{}.{}", &digits[..integer_len], &digits[integer_len..])
    }
}

/// `json.dumps` parameters.
pub(super) struct JsonStyle {
    /// Escape everything outside printable ASCII.
    pub(super) ensure_ascii: bool,
    /// Order object keys by code point.
    pub(super) sort_keys: bool,
    /// One line per item, each level indented by this; None keeps everything on one line.
    pub(super) indent: Option<String>,
    /// Between items, before any newline.
    pub(super) item_separator: String,
    /// Between a key and its value.
    pub(super) key_separator: String,
}

/// `json.dumps(value, ...)`.
pub(super) fn dumps(value: &Value, style: &JsonStyle) -> Result<String, Error> {
    let mut out = String::new();
    write_json(value, style, 0, &mut out)?;
    Ok(out)
}

impl JsonStyle {
    fn newline(&self, level: usize, out: &mut String) {
        if let Some(indent) = &self.indent {
            out.push('\n');
            for _ in 0..level {
                out.push_str(indent);
            }
        }
    }
}

fn not_serializable(value: &Value) -> Error {
    Error::new(ErrorKind::InvalidOperation, format!("tojson: object of type {} is not JSON serializable", value.kind()))
}

fn write_json(value: &Value, style: &JsonStyle, level: usize, out: &mut String) -> Result<(), Error> {
    match value.kind() {
        ValueKind::None => out.push_str("null"),
        ValueKind::Bool => out.push_str(if value.is_true() { "true" } else { "false" }),
        ValueKind::Number if value.is_integer() => write!(out, "{value}").unwrap_or(()),
        ValueKind::Number => {
            let number = f64::try_from(value.clone())?;
            match number {
                n if n.is_nan() => out.push_str("NaN"),
                n if n.is_infinite() => out.push_str(if n > 0.0 { "Infinity" } else { "-Infinity" }),
                n => out.push_str(&float_repr(n)),
            }
        }
        ValueKind::String => write_json_string(value.as_str().unwrap_or_default(), style.ensure_ascii, out),
        ValueKind::Seq | ValueKind::Iterable => {
            let items: Vec<Value> = value.try_iter()?.collect();
            if items.is_empty() {
                out.push_str("[]");
                return Ok(());
            }
            out.push('[');
            for (index, item) in items.iter().enumerate() {
                if index > 0 {
                    out.push_str(&style.item_separator);
                }
                style.newline(level + 1, out);
                write_json(item, style, level + 1, out)?;
            }
            style.newline(level, out);
            out.push(']');
        }
        ValueKind::Map => {
            let mut entries = Vec::new();
            for key in value.try_iter()? {
                let item = value.get_item(&key)?;
                entries.push((json_key(&key)?, item));
            }
            if entries.is_empty() {
                out.push_str("{}");
                return Ok(());
            }
            if style.sort_keys {
                entries.sort_by(|a, b| a.0.cmp(&b.0));
            }
            out.push('{');
            for (index, (key, item)) in entries.iter().enumerate() {
                if index > 0 {
                    out.push_str(&style.item_separator);
                }
                style.newline(level + 1, out);
                write_json_string(key, style.ensure_ascii, out);
                out.push_str(&style.key_separator);
                write_json(item, style, level + 1, out)?;
            }
            style.newline(level, out);
            out.push('}');
        }
        _ => return Err(not_serializable(value)),
    }
    Ok(())
}

/// JSON object keys as Python converts them: strings as they are, numbers, booleans and None
/// spelled as JSON.
fn json_key(key: &Value) -> Result<String, Error> {
    match key.kind() {
        ValueKind::String => Ok(key.as_str().unwrap_or_default().to_owned()),
        ValueKind::None => Ok("null".to_owned()),
        ValueKind::Bool => Ok(if key.is_true() { "true" } else { "false" }.to_owned()),
        ValueKind::Number => {
            let mut out = String::new();
            write_json(key, &JsonStyle::compact(), 0, &mut out)?;
            Ok(out)
        }
        _ => Err(Error::new(
            ErrorKind::InvalidOperation,
            format!("tojson: keys must be str, int, float, bool or None, not {}", key.kind()),
        )),
    }
}

impl JsonStyle {
    fn compact() -> Self {
        Self {
            ensure_ascii: false,
            sort_keys: false,
            indent: None,
            item_separator: ", ".to_owned(),
            key_separator: ": ".to_owned(),
        }
    }
}

/// Python's JSON string encoder: quotes, backslashes and control characters escaped (lowercase
/// hex); everything else kept, or `\uXXXX`-escaped (surrogate pairs) with `ensure_ascii`.
fn write_json_string(text: &str, ensure_ascii: bool, out: &mut String) {
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{08}' => out.push_str("\\b"),
            '\u{0c}' => out.push_str("\\f"),
            c if c < ' ' || (ensure_ascii && !(' '..='~').contains(&c)) => {
                let mut units = [0u16; 2];
                for unit in c.encode_utf16(&mut units) {
                    write!(out, "\\u{unit:04x}").unwrap_or(());
                }
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn float_repr_switches_to_exponents_where_python_does() {
        let cases = [
            (0.0001, "0.0001"),
            (0.00001, "1e-05"),
            (1e15, "1000000000000000.0"),
            (1e16, "1e+16"),
            (1.5e300, "1.5e+300"),
            (-2.5, "-2.5"),
            (1.0 / 3.0, "0.3333333333333333"),
            (f64::NAN, "nan"),
        ];
        for (number, expected) in cases {
            assert_eq!(float_repr(number), expected, "repr({number:e})");
        }
    }

    #[test]
    fn string_repr_quotes_and_escapes_as_python_does() {
        let cases = [
            ("plain", "'plain'"),
            ("it's", "\"it's\""),
            ("both ' and \"", "'both \\' and \"'"),
            ("tab\tnew\nline \\", "'tab\\tnew\\nline \\\\'"),
            ("\u{a0}\u{7f}\u{200b}é日本", "'\\xa0\\x7f\\u200b\u{e9}日本'"),
        ];
        for (text, expected) in cases {
            let mut out = String::new();
            repr_str(text, &mut out);
            assert_eq!(out, expected, "repr({text:?})");
        }
    }

    #[test]
    fn strip_and_split_use_pythons_whitespace() {
        assert_eq!(strip("\u{1c}\u{3000} x \u{85}", None), "x");
        assert_eq!(strip("xxyxx", Some("x")), "y");
        let parts = split(" a\u{1f}b  c ", None, -1).unwrap();
        assert_eq!(str_of(&parts), "['a', 'b', 'c']");
        assert_eq!(str_of(&split("a b c", None, 1).unwrap()), "['a', 'b c']");
        assert_eq!(str_of(&split("a,,b", Some(","), -1).unwrap()), "['a', '', 'b']");
    }
}

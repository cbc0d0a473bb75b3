//! Gemma 3 has no tool tokens; Google's convention for it is a prompt
//! ([`GEMMA3_TOOL_INSTRUCTION`] followed by the tools as Python signatures) and a reply that
//! calls a tool in a fenced `tool_code` block holding a Python call with literal arguments,
//! `get_weather(city="Paris", days=3)`, one call a line. The result goes back in a `tool_output`
//! block. The call is read as data, never run as Python.

use serde_json::{Map, Value};

use crate::cursor::{Cursor, number, parse_blocks, read_call};
use crate::{MalformedCall, ParsedReply, ToolCall, is_tool_name};

/// The instruction before the tool declarations in Gemma 3's system prompt.
pub const GEMMA3_TOOL_INSTRUCTION: &str = "At each turn, if you decide to invoke any of the function(s), it should be \
wrapped with ```tool_code```. The python methods described below are imported and available, you can only use \
defined methods. The generated code should be readable and efficient. The response to a method will be wrapped in \
```tool_output``` use it to call more tools or generate a helpful, friendly response. Call each method with named \
arguments only.";

const OPEN: &str = "```tool_code";
const CLOSE: &str = "```";

/// Splits a Gemma 3 reply into its text and the calls in its `tool_code` blocks.
pub fn parse_gemma3(reply: &str) -> ParsedReply {
    let cut_off = "the tool_code block is not closed with ```: the reply was cut off";
    parse_blocks(reply, OPEN, CLOSE, cut_off, |block, parsed| {
        for line in block.lines().map(str::trim).filter(|line| !line.is_empty()) {
            parsed.push(parse_call(line));
        }
    })
}

fn parse_call(line: &str) -> Result<ToolCall, MalformedCall> {
    let malformed = |reason: String| MalformedCall { raw: line.to_owned(), reason };
    let Some(open) = line.find('(') else {
        return Err(malformed("a call is NAME(key=value, …)".to_owned()));
    };
    let name = line[..open].trim();
    if !is_tool_name(name) {
        return Err(malformed(format!("{name:?} is not a tool name")));
    }
    read_call(line, name, "call", Cursor::new(&line[open + 1..]), arguments)
}

/// `key=value, …)`, the call's parenthesis already read.
fn arguments(cursor: &mut Cursor) -> Result<Map<String, Value>, String> {
    let mut arguments = Map::new();
    if cursor.eat(")") {
        return Ok(arguments);
    }
    loop {
        cursor.skip_spaces();
        let end = cursor.text.find(|c: char| !(c.is_ascii_alphanumeric() || c == '_')).unwrap_or(cursor.text.len());
        let key = &cursor.text[..end];
        cursor.text = &cursor.text[end..];
        if key.is_empty() || !cursor.eat("=") {
            return Err("arguments are named: key=value".to_owned());
        }
        let value = value(cursor)?;
        if arguments.insert(key.to_owned(), value).is_some() {
            return Err(format!("the argument {key:?} is given twice"));
        }
        if cursor.eat(")") {
            return Ok(arguments);
        }
        if !cursor.eat(",") {
            return Err(format!("a , or ) must follow the value of {key:?}"));
        }
        if cursor.eat(")") {
            return Ok(arguments);
        }
    }
}

fn value(cursor: &mut Cursor) -> Result<Value, String> {
    cursor.skip_spaces();
    match cursor.text.chars().next() {
        Some(quote @ ('"' | '\'')) => string(cursor, quote).map(Value::String),
        Some('[') => cursor.nested(list).map(Value::Array),
        Some('{') => cursor.nested(dict).map(Value::Object),
        _ => scalar(cursor.word(&[',', ')', ']', '}', ':'])),
    }
}

/// A Python string literal between `quote`s, with its backslash escapes.
fn string(cursor: &mut Cursor, quote: char) -> Result<String, String> {
    let mut chars = cursor.text.char_indices().skip(1);
    let mut string = String::new();
    while let Some((at, c)) = chars.next() {
        match c {
            c if c == quote => {
                cursor.text = &cursor.text[at + c.len_utf8()..];
                return Ok(string);
            }
            '\\' => match chars.next().map(|(_, escaped)| escaped) {
                Some('n') => string.push('\n'),
                Some('t') => string.push('\t'),
                Some('r') => string.push('\r'),
                Some('0') => string.push('\0'),
                Some(escaped @ ('\\' | '\'' | '"')) => string.push(escaped),
                Some('u') => {
                    let hex: String = chars.by_ref().take(4).map(|(_, c)| c).collect();
                    let c = u32::from_str_radix(&hex, 16).ok().and_then(char::from_u32);
                    string.push(c.ok_or_else(|| format!("\\u{hex} is not a character"))?);
                }
                other => return Err(format!("\\{} is not an escape this reader knows", other.unwrap_or(' '))),
            },
            c => string.push(c),
        }
    }
    Err("a string is not closed".to_owned())
}

fn list(cursor: &mut Cursor) -> Result<Vec<Value>, String> {
    cursor.eat("[");
    let mut list = Vec::new();
    loop {
        if cursor.eat("]") {
            return Ok(list);
        }
        list.push(value(cursor)?);
        if cursor.eat("]") {
            return Ok(list);
        }
        if !cursor.eat(",") {
            return Err("a , or ] must follow a value in a list".to_owned());
        }
    }
}

fn dict(cursor: &mut Cursor) -> Result<Map<String, Value>, String> {
    cursor.eat("{");
    let mut dict = Map::new();
    loop {
        if cursor.eat("}") {
            return Ok(dict);
        }
        cursor.skip_spaces();
        let key = match cursor.text.chars().next() {
            Some(quote @ ('"' | '\'')) => string(cursor, quote)?,
            _ => return Err("the keys of a dict are strings".to_owned()),
        };
        if !cursor.eat(":") {
            return Err(format!("no : after the key {key:?}"));
        }
        let value = value(cursor)?;
        dict.insert(key, value);
        if cursor.eat("}") {
            return Ok(dict);
        }
        if !cursor.eat(",") {
            return Err("a , or } must follow a value in a dict".to_owned());
        }
    }
}

/// A Python literal that is not a string, list or dict.
fn scalar(word: &str) -> Result<Value, String> {
    match word {
        "True" => return Ok(Value::Bool(true)),
        "False" => return Ok(Value::Bool(false)),
        "None" => return Ok(Value::Null),
        "" => return Err("a value is missing".to_owned()),
        _ => {}
    }
    // Python's digit grouping (1_000) in integers.
    if let Ok(integer) = word.replace('_', "").parse::<i64>() {
        return Ok(Value::Number(integer.into()));
    }
    number(word).ok_or_else(|| format!("{word:?} is not a literal value (the call is read, never run)"))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn a_tool_code_block_after_text() {
        let parsed = parse_gemma3(
            "I'll convert that for you.\n\n```tool_code\nconvert_units(value=5.5, from_unit='km', to_unit=\"miles\")\n```\n",
        );
        assert_eq!(parsed.text, "I'll convert that for you.");
        let call = parsed.calls[0].clone().unwrap();
        assert_eq!(call.name, "convert_units");
        assert_eq!(Value::Object(call.arguments), json!({"value": 5.5, "from_unit": "km", "to_unit": "miles"}));
    }

    #[test]
    fn literals_of_every_kind_and_one_call_a_line() {
        let parsed = parse_gemma3(
            "```tool_code\nsearch(query=\"it's \\\"late\\\"\\n\", limit=10, exact=True, tags=['a', 'b',], filters={'year': 2024, \"lang\": None})\nnow()\n```",
        );
        let calls: Vec<_> = parsed.calls.into_iter().map(Result::unwrap).collect();
        assert_eq!(
            Value::Object(calls[0].arguments.clone()),
            json!({"query": "it's \"late\"\n", "limit": 10, "exact": true, "tags": ["a", "b"], "filters": {"year": 2024, "lang": null}})
        );
        assert_eq!(calls[1].name, "now");
        assert!(calls[1].arguments.is_empty());
        assert_eq!(parsed.text, "");
    }

    #[test]
    fn other_code_blocks_and_plain_replies_are_text() {
        let reply = "Here is Python:\n```python\nprint(1)\n```";
        assert_eq!(parse_gemma3(reply), ParsedReply { text: reply.to_owned(), calls: vec![] });
    }

    #[test]
    fn calls_that_are_not_plain_data_are_malformed_with_the_reason() {
        let cases = [
            ("```tool_code\nget_weather('Paris')\n```", "arguments are named"),
            ("```tool_code\nget_weather(city=input())\n```", "is not a literal value"),
            ("```tool_code\nimport os; os.system('rm -rf /')\n```", "is not a tool name"),
            ("```tool_code\nprint(get_weather(city='Paris'))\n```", "arguments are named"),
            ("```tool_code\nget_weather(city='Paris') + 1\n```", "text after the call of get_weather"),
            ("```tool_code\nget_weather(city='Paris\n```", "a string is not closed"),
            ("```tool_code\nf(a=1, a=2)\n```", "given twice"),
            ("```tool_code\nget_weather\n```", "a call is NAME("),
            ("```tool_code\nget_weather(city='Pa", "the reply was cut off"),
        ];
        for (reply, reason) in cases {
            let parsed = parse_gemma3(reply);
            assert_eq!(parsed.calls.len(), 1, "{reply}: {parsed:?}");
            let error = parsed.calls[0].clone().unwrap_err();
            assert!(error.reason.contains(reason), "{reply}: {error:?}");
        }
    }
}

//! Gemma 4's native tool calls: `<|tool_call>call:NAME{key:value,…}<tool_call|>`, in the syntax
//! its chat template writes them back (bare keys, strings between `<|"|>` and not escaped,
//! numbers, `true`/`false`, `None` or `null`, `[…]` lists and `{…}` maps).

use serde_json::{Map, Value};

use crate::cursor::{Cursor, number, parse_blocks, read_call};
use crate::{MalformedCall, ParsedReply, ToolCall, is_tool_name};

const CALL_OPEN: &str = "<|tool_call>";
const CALL_CLOSE: &str = "<tool_call|>";
const QUOTE: &str = "<|\"|>";

/// Splits a Gemma 4 reply into its text and its tool calls.
pub fn parse_gemma4(reply: &str) -> ParsedReply {
    let cut_off = "the call is not closed with <tool_call|>: the reply was cut off";
    parse_blocks(reply, CALL_OPEN, CALL_CLOSE, cut_off, |body, parsed| parsed.push(parse_call(body)))
}

fn parse_call(body: &str) -> Result<ToolCall, MalformedCall> {
    let malformed = |reason: &str| MalformedCall { raw: body.to_owned(), reason: reason.to_owned() };
    let Some(call) = body.trim_start().strip_prefix("call:") else {
        return Err(malformed("a call starts with call:NAME"));
    };
    let Some(brace) = call.find('{') else {
        return Err(malformed("the arguments are not between { and }"));
    };
    let name = call[..brace].trim();
    if !is_tool_name(name) {
        return Err(malformed(&format!("{name:?} is not a tool name")));
    }
    read_call(body, name, "arguments", Cursor::new(&call[brace..]), map)
}

fn value(cursor: &mut Cursor) -> Result<Value, String> {
    cursor.skip_spaces();
    if cursor.text.starts_with(QUOTE) {
        return string(cursor).map(Value::String);
    }
    if cursor.text.starts_with('{') {
        return cursor.nested(map).map(Value::Object);
    }
    if cursor.text.starts_with('[') {
        return cursor.nested(list).map(Value::Array);
    }
    scalar(cursor.word(&[',', '}', ']']))
}

fn string(cursor: &mut Cursor) -> Result<String, String> {
    cursor.eat(QUOTE);
    let Some(end) = cursor.text.find(QUOTE) else {
        return Err("a string is not closed with <|\"|>".to_owned());
    };
    let string = cursor.text[..end].to_owned();
    cursor.text = &cursor.text[end + QUOTE.len()..];
    Ok(string)
}

fn map(cursor: &mut Cursor) -> Result<Map<String, Value>, String> {
    if !cursor.eat("{") {
        return Err("a map starts with {".to_owned());
    }
    let mut map = Map::new();
    if cursor.eat("}") {
        return Ok(map);
    }
    loop {
        cursor.skip_spaces();
        let key = if cursor.text.starts_with(QUOTE) { string(cursor)? } else { bare_key(cursor)? };
        if !cursor.eat(":") {
            return Err(format!("no : after the key {key:?}"));
        }
        let value = value(cursor)?;
        if map.insert(key.clone(), value).is_some() {
            return Err(format!("the key {key:?} is given twice"));
        }
        if cursor.eat("}") {
            return Ok(map);
        }
        if !cursor.eat(",") {
            return Err(format!("a , or }} must follow the value of {key:?}"));
        }
    }
}

fn bare_key(cursor: &mut Cursor) -> Result<String, String> {
    let end = cursor.text.find([':', ',', '{', '}', '[', ']', '=']).unwrap_or(cursor.text.len());
    let key = cursor.text[..end].trim();
    if cursor.text[end..].starts_with('=') {
        return Err(format!("the key {key:?} is followed by = instead of :"));
    }
    if key.is_empty() || key.contains(QUOTE) {
        return Err(format!("{:?} is not a key", &cursor.text[..end]));
    }
    cursor.text = &cursor.text[end..];
    Ok(key.to_owned())
}

fn list(cursor: &mut Cursor) -> Result<Vec<Value>, String> {
    cursor.eat("[");
    let mut list = Vec::new();
    if cursor.eat("]") {
        return Ok(list);
    }
    loop {
        list.push(value(cursor)?);
        if cursor.eat("]") {
            return Ok(list);
        }
        if !cursor.eat(",") {
            return Err("a , or ] must follow a value in a list".to_owned());
        }
    }
}

/// A value that is not a string, list or map: a number, a truth value or nothing.
fn scalar(word: &str) -> Result<Value, String> {
    match word {
        "true" | "True" => Ok(Value::Bool(true)),
        "false" | "False" => Ok(Value::Bool(false)),
        "null" | "None" => Ok(Value::Null),
        "" => Err("a value is missing".to_owned()),
        _ => number(word).ok_or_else(|| format!("{word:?} is not a value (strings go between <|\"|> and <|\"|>)")),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn only_call(reply: &str) -> ToolCall {
        let parsed = parse_gemma4(reply);
        assert_eq!(parsed.calls.len(), 1, "{parsed:?}");
        parsed.calls.into_iter().next().unwrap().expect("well formed")
    }

    fn only_error(reply: &str) -> MalformedCall {
        let parsed = parse_gemma4(reply);
        assert_eq!(parsed.calls.len(), 1, "{parsed:?}");
        parsed.calls.into_iter().next().unwrap().expect_err("malformed")
    }

    #[test]
    fn a_call_as_the_template_writes_it() {
        // tests/templates/golden/gemma4_argument_values_print_like_python.txt writes these.
        let call = only_call(
            r#"<|tool_call>call:lookup{Mixed Case:<|"|>a "quoted" \ value<|"|>,big:1e+21,float:3.0,list:[1,<|"|>two<|"|>,None],nested:{deep:{x:true}},none:None,small:1e-07}<tool_call|>"#,
        );
        assert_eq!(call.name, "lookup");
        assert_eq!(
            Value::Object(call.arguments),
            json!({
                "Mixed Case": "a \"quoted\" \\ value",
                "big": 1e21,
                "float": 3.0,
                "list": [1, "two", null],
                "nested": {"deep": {"x": true}},
                "none": null,
                "small": 1e-7,
            })
        );
    }

    #[test]
    fn text_before_and_calls_back_to_back() {
        let parsed = parse_gemma4(
            "Let me check both.\n<|tool_call>call:get_weather{city:<|\"|>Paris<|\"|>}<tool_call|><|tool_call>call:get_weather{city:<|\"|>Pune<|\"|>, days: 3}<tool_call|>",
        );
        assert_eq!(parsed.text, "Let me check both.");
        let calls: Vec<_> = parsed.calls.into_iter().map(Result::unwrap).collect();
        assert_eq!(calls.len(), 2);
        assert_eq!(calls[0].arguments["city"], "Paris");
        assert_eq!(Value::Object(calls[1].arguments.clone()), json!({"city": "Pune", "days": 3}));
    }

    #[test]
    fn a_reply_without_calls_is_all_text() {
        let parsed = parse_gemma4("  The sky is blue because of Rayleigh scattering.\n");
        assert_eq!(
            parsed,
            ParsedReply { text: "The sky is blue because of Rayleigh scattering.".into(), calls: vec![] }
        );
        assert!(only_call("<|tool_call>call:now{}<tool_call|>").arguments.is_empty());
    }

    #[test]
    fn calls_that_drift_from_the_syntax_are_malformed_with_the_reason() {
        // Drifts reported from Gemma 4 in other projects: JSON quotes, key=value, parentheses.
        let cases = [
            (r#"<|tool_call>call:get_weather{city:"Paris"}<tool_call|>"#, r#""\"Paris\"" is not a value"#),
            ("<|tool_call>call:get_weather{city=<|\"|>Paris<|\"|>}<tool_call|>", "followed by = instead of :"),
            ("<|tool_call>call:get_weather(city: <|\"|>Paris<|\"|>)<tool_call|>", "not between { and }"),
            ("<|tool_call>get_weather{city:<|\"|>Paris<|\"|>}<tool_call|>", "a call starts with call:NAME"),
            ("<|tool_call>call:get_weather{city:<|\"|>Paris}<tool_call|>", "a string is not closed"),
            ("<|tool_call>call:get_weather{city:<|\"|>Paris<|\"|> days:3}<tool_call|>", "a , or } must follow"),
            ("<|tool_call>call:f{a:1,a:2}<tool_call|>", "the key \"a\" is given twice"),
            ("<|tool_call>call:f{a:}<tool_call|>", "a value is missing"),
            ("<|tool_call>call:f{a:1} and more<tool_call|>", "text after the arguments of f"),
            ("<|tool_call>call:get_weather{city:<|\"|>Par", "the reply was cut off"),
        ];
        for (reply, reason) in cases {
            let error = only_error(reply);
            assert!(error.reason.contains(reason), "{reply}: {error:?}");
        }
    }

    #[test]
    fn hostile_nesting_is_refused_not_recursed_into() {
        let reply = format!("<|tool_call>call:f{{a:{}1{}}}<tool_call|>", "[".repeat(10_000), "]".repeat(10_000));
        assert!(only_error(&reply).reason.contains("nested more than 32 deep"));
    }

    #[test]
    fn a_reply_makes_a_bounded_number_of_calls() {
        let reply = "<|tool_call>call:now{}<tool_call|>".repeat(crate::MAX_CALLS_PER_REPLY + 2);
        let parsed = parse_gemma4(&reply);
        assert_eq!(parsed.calls.iter().filter(|call| call.is_ok()).count(), crate::MAX_CALLS_PER_REPLY);
        let refused = parsed.calls[crate::MAX_CALLS_PER_REPLY].as_ref().unwrap_err();
        assert!(refused.reason.contains("at most 8 tool calls"), "{refused:?}");
    }
}

//! Gemma 4's native tool calls: `<|tool_call>call:NAME{key:value,…}<tool_call|>`, in the syntax
//! its chat template writes them back (bare keys, strings between `<|"|>` and not escaped,
//! numbers, `true`/`false`, `None` or `null`, `[…]` lists and `{…}` maps).

use serde_json::{Map, Number, Value};

use crate::{MalformedCall, ParsedReply, ToolCall, is_tool_name};

const CALL_OPEN: &str = "<|tool_call>";
const CALL_CLOSE: &str = "<tool_call|>";
const QUOTE: &str = "<|\"|>";
/// Deeper nesting than this in a call's arguments is refused, not recursed into.
const MAX_DEPTH: usize = 32;

/// Splits a Gemma 4 reply into its text and its tool calls.
pub fn parse_gemma4(reply: &str) -> ParsedReply {
    let mut parsed = ParsedReply::default();
    let mut rest = reply;
    while let Some(start) = rest.find(CALL_OPEN) {
        parsed.text.push_str(&rest[..start]);
        let call = &rest[start + CALL_OPEN.len()..];
        match call.find(CALL_CLOSE) {
            Some(end) => {
                parsed.push(parse_call(&call[..end]));
                rest = &call[end + CALL_CLOSE.len()..];
            }
            None => {
                let reason = "the call is not closed with <tool_call|>: the reply was cut off".to_owned();
                parsed.push(Err(MalformedCall { raw: call.to_owned(), reason }));
                rest = "";
            }
        }
    }
    parsed.text.push_str(rest);
    parsed.text = parsed.text.trim().to_owned();
    parsed
}

fn parse_call(body: &str) -> Result<ToolCall, MalformedCall> {
    let malformed = |reason: String| MalformedCall { raw: body.to_owned(), reason };
    let Some(call) = body.trim_start().strip_prefix("call:") else {
        return Err(malformed("a call starts with call:NAME".to_owned()));
    };
    let Some(brace) = call.find('{') else {
        return Err(malformed("the arguments are not between { and }".to_owned()));
    };
    let name = call[..brace].trim();
    if !is_tool_name(name) {
        return Err(malformed(format!("{name:?} is not a tool name")));
    }
    let mut values = Values { text: &call[brace..], depth: 0 };
    let arguments = values.map().map_err(|reason| malformed(format!("in the arguments of {name}: {reason}")))?;
    if !values.text.trim().is_empty() {
        return Err(malformed(format!("text after the arguments of {name}: {:?}", values.text.trim())));
    }
    Ok(ToolCall { name: name.to_owned(), arguments })
}

/// What is left of a call's arguments to read.
struct Values<'a> {
    text: &'a str,
    depth: usize,
}

impl Values<'_> {
    fn skip_spaces(&mut self) {
        self.text = self.text.trim_start();
    }

    fn eat(&mut self, expected: &str) -> bool {
        self.skip_spaces();
        match self.text.strip_prefix(expected) {
            Some(rest) => {
                self.text = rest;
                true
            }
            None => false,
        }
    }

    fn nested<T>(&mut self, read: impl FnOnce(&mut Self) -> Result<T, String>) -> Result<T, String> {
        if self.depth == MAX_DEPTH {
            return Err(format!("nested more than {MAX_DEPTH} deep"));
        }
        self.depth += 1;
        let value = read(self);
        self.depth -= 1;
        value
    }

    fn value(&mut self) -> Result<Value, String> {
        self.skip_spaces();
        if self.text.starts_with(QUOTE) {
            return self.string().map(Value::String);
        }
        if self.text.starts_with('{') {
            return self.nested(|values| values.map()).map(Value::Object);
        }
        if self.text.starts_with('[') {
            return self.nested(|values| values.list()).map(Value::Array);
        }
        let end = self.text.find([',', '}', ']']).unwrap_or(self.text.len());
        let word = self.text[..end].trim();
        self.text = &self.text[end..];
        scalar(word)
    }

    fn string(&mut self) -> Result<String, String> {
        self.eat(QUOTE);
        let Some(end) = self.text.find(QUOTE) else {
            return Err("a string is not closed with <|\"|>".to_owned());
        };
        let string = self.text[..end].to_owned();
        self.text = &self.text[end + QUOTE.len()..];
        Ok(string)
    }

    fn map(&mut self) -> Result<Map<String, Value>, String> {
        if !self.eat("{") {
            return Err("a map starts with {".to_owned());
        }
        let mut map = Map::new();
        if self.eat("}") {
            return Ok(map);
        }
        loop {
            self.skip_spaces();
            let key = if self.text.starts_with(QUOTE) { self.string()? } else { self.bare_key()? };
            if !self.eat(":") {
                return Err(format!("no : after the key {key:?}"));
            }
            let value = self.value()?;
            if map.insert(key.clone(), value).is_some() {
                return Err(format!("the key {key:?} is given twice"));
            }
            if self.eat("}") {
                return Ok(map);
            }
            if !self.eat(",") {
                return Err(format!("a , or }} must follow the value of {key:?}"));
            }
        }
    }

    fn bare_key(&mut self) -> Result<String, String> {
        let end = self.text.find([':', ',', '{', '}', '[', ']', '=']).unwrap_or(self.text.len());
        let key = self.text[..end].trim();
        if self.text[end..].starts_with('=') {
            return Err(format!("the key {key:?} is followed by = instead of :"));
        }
        if key.is_empty() || key.contains(QUOTE) {
            return Err(format!("{:?} is not a key", &self.text[..end]));
        }
        self.text = &self.text[end..];
        Ok(key.to_owned())
    }

    fn list(&mut self) -> Result<Vec<Value>, String> {
        self.eat("[");
        let mut list = Vec::new();
        if self.eat("]") {
            return Ok(list);
        }
        loop {
            list.push(self.value()?);
            if self.eat("]") {
                return Ok(list);
            }
            if !self.eat(",") {
                return Err("a , or ] must follow a value in a list".to_owned());
            }
        }
    }
}

/// A value that is not a string, list or map: a number, a truth value or nothing.
fn scalar(word: &str) -> Result<Value, String> {
    match word {
        "true" | "True" => return Ok(Value::Bool(true)),
        "false" | "False" => return Ok(Value::Bool(false)),
        "null" | "None" => return Ok(Value::Null),
        _ => {}
    }
    if let Ok(integer) = word.parse::<i64>() {
        return Ok(Value::Number(integer.into()));
    }
    let looks_numeric = word.starts_with(|c: char| c.is_ascii_digit() || c == '-' || c == '.');
    if looks_numeric && let Some(number) = word.parse::<f64>().ok().and_then(Number::from_f64) {
        return Ok(Value::Number(number));
    }
    if word.is_empty() {
        return Err("a value is missing".to_owned());
    }
    Err(format!("{word:?} is not a value (strings go between <|\"|> and <|\"|>)"))
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

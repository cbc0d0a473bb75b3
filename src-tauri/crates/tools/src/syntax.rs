//! What a model family needs besides the parser: Gemma 3's tool prompt and the way its calls and
//! results are written back into the conversation (Gemma 4's template does that itself), and a
//! grammar that makes the model call one of the tools (`tool_choice: "required"`).

use std::fmt::Write as _;

use serde_json::{Map, Value};

use crate::{GEMMA3_TOOL_INSTRUCTION, ParsedReply, parse_gemma3, parse_gemma4};

/// The longest string a forced call's grammar lets the model write for one argument.
const FORCED_STRING_CHARS: u32 = 120;

/// How a model writes tool calls.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ToolSyntax {
    /// Gemma 4's native tool tokens, declared and rendered by its chat template.
    Gemma4,
    /// Gemma 3's prompt convention: `tool_code` blocks, declared in the system prompt.
    Gemma3,
}

impl ToolSyntax {
    /// Splits a reply into its text and calls.
    pub fn parse(self, reply: &str) -> ParsedReply {
        match self {
            ToolSyntax::Gemma4 => parse_gemma4(reply),
            ToolSyntax::Gemma3 => parse_gemma3(reply),
        }
    }

    /// A GBNF grammar (root rule `root`) that makes the reply one call of one of `tools`
    /// (OpenAI-shaped declarations) with its required arguments, each of its declared type. Gemma
    /// 4's control tokens are the rules `tool-call-open`, `tool-call-close` and `tool-quote`,
    /// which the engine defines for the model's vocabulary.
    pub fn forced_call_grammar(self, tools: &[Value]) -> String {
        let mut grammar = String::new();
        let calls: Vec<String> = (0..tools.len()).map(|index| format!("call-{index}")).collect();
        let _ = match self {
            ToolSyntax::Gemma4 => {
                writeln!(grammar, "root ::= tool-call-open \"call:\" ({}) tool-call-close", calls.join(" | "))
            }
            ToolSyntax::Gemma3 => writeln!(grammar, "root ::= \"```tool_code\\n\" ({}) \"\\n```\"", calls.join(" | ")),
        };
        for (rule, tool) in calls.iter().zip(tools) {
            let function = &tool["function"];
            let name = function["name"].as_str().unwrap_or_default();
            let arguments: Vec<String> = required_parameters(function)
                .map(|(key, schema)| {
                    let value = self.value_rule(schema);
                    match self {
                        ToolSyntax::Gemma4 => format!("{} {value}", literal(&format!("{key}:"))),
                        ToolSyntax::Gemma3 => format!("{} {value}", literal(&format!("{key}="))),
                    }
                })
                .collect();
            let (open, separator, close) = match self {
                ToolSyntax::Gemma4 => ("{", " \",\" ", "}"),
                ToolSyntax::Gemma3 => ("(", " \", \" ", ")"),
            };
            let body = if arguments.is_empty() { String::new() } else { format!(" {}", arguments.join(separator)) };
            let _ = writeln!(grammar, "{rule} ::= {}{body} {}", literal(&format!("{name}{open}")), literal(close));
        }
        let _ = match self {
            ToolSyntax::Gemma4 => writeln!(grammar, "string ::= tool-quote [^<]{{0,{FORCED_STRING_CHARS}}} tool-quote"),
            // Without backticks: ``` in a string would close the block.
            ToolSyntax::Gemma3 => {
                writeln!(grammar, "string ::= \"\\\"\" [^\"\\\\\\n`]{{0,{FORCED_STRING_CHARS}}} \"\\\"\"")
            }
        };
        grammar.push_str("number ::= \"-\"? [0-9]{1,12} (\".\" [0-9]{1,12})?\n");
        grammar.push_str("integer ::= \"-\"? [0-9]{1,12}\n");
        let _ = match self {
            ToolSyntax::Gemma4 => writeln!(grammar, "boolean ::= \"true\" | \"false\""),
            ToolSyntax::Gemma3 => writeln!(grammar, "boolean ::= \"True\" | \"False\""),
        };
        grammar
    }

    /// The grammar for one value of JSON-schema type `schema`: enums as their values, arrays and
    /// objects empty (the required arguments of the built-in and most MCP tools are scalars).
    fn value_rule(self, schema: &Value) -> String {
        if let Some(values) = schema["enum"].as_array() {
            let choices: Vec<String> = values.iter().map(|value| self.literal_value(value)).collect();
            if !choices.is_empty() {
                return format!("({})", choices.join(" | "));
            }
        }
        let kind = match &schema["type"] {
            Value::Array(kinds) => kinds.iter().find_map(Value::as_str).unwrap_or("string"),
            kind => kind.as_str().unwrap_or("string"),
        };
        match kind {
            "number" => "number".to_owned(),
            "integer" => "integer".to_owned(),
            "boolean" => "boolean".to_owned(),
            "array" => literal("[]"),
            "object" => literal("{}"),
            _ => "string".to_owned(),
        }
    }

    /// An enum value as the grammar writes it.
    fn literal_value(self, value: &Value) -> String {
        match (self, value) {
            (ToolSyntax::Gemma4, Value::String(text)) => format!("tool-quote {} tool-quote", literal(text)),
            (ToolSyntax::Gemma3, Value::String(_)) => literal(&python_literal(value)),
            (ToolSyntax::Gemma3, other) => literal(&python_literal(other)),
            (ToolSyntax::Gemma4, other) => literal(&other.to_string()),
        }
    }
}

/// The required parameters of an OpenAI-shaped function declaration, in name order.
fn required_parameters(function: &Value) -> impl Iterator<Item = (&str, &Value)> {
    let parameters = &function["parameters"];
    let mut required: Vec<&str> =
        parameters["required"].as_array().into_iter().flatten().filter_map(Value::as_str).collect();
    required.sort_unstable();
    required.dedup();
    required.into_iter().map(move |key| (key, &parameters["properties"][key]))
}

/// `text` as a GBNF string literal.
fn literal(text: &str) -> String {
    let mut out = String::from("\"");
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// Gemma 3's system prompt for `tools`: [`GEMMA3_TOOL_INSTRUCTION`], then each tool as a Python
/// signature with its description as the docstring.
pub fn gemma3_tool_prompt(tools: &[Value]) -> String {
    let mut prompt = format!("{GEMMA3_TOOL_INSTRUCTION}\n\nThe following Python methods are available:\n```python\n");
    for tool in tools {
        let function = &tool["function"];
        let properties = function["parameters"]["properties"].as_object();
        let required: Vec<&str> =
            function["parameters"]["required"].as_array().into_iter().flatten().filter_map(Value::as_str).collect();
        // The required ones first, in their declared order; then the others by name (the order
        // of a JSON object's keys depends on how serde_json was built).
        let mut optional: Vec<&String> = properties
            .into_iter()
            .flatten()
            .map(|(key, _)| key)
            .filter(|key| !required.contains(&key.as_str()))
            .collect();
        optional.sort();
        let schema = |key: &str| properties.and_then(|properties| properties.get(key)).unwrap_or(&Value::Null);
        let parameters: Vec<String> = required
            .iter()
            .map(|&key| format!("{key}: {}", python_type(schema(key))))
            .chain(optional.iter().map(|key| format!("{key}: {} = None", python_type(schema(key)))))
            .collect();
        let name = function["name"].as_str().unwrap_or_default();
        let _ = writeln!(prompt, "def {name}({}):", parameters.join(", "));
        let mut doc = function["description"].as_str().unwrap_or_default().trim().replace("\"\"\"", "'''");
        for (key, schema) in properties.into_iter().flatten() {
            if let Some(description) = schema["description"].as_str() {
                let _ = write!(doc, "\n    {key}: {}", description.replace("\"\"\"", "'''"));
            }
        }
        let _ = writeln!(prompt, "    \"\"\"{doc}\"\"\"\n");
    }
    prompt.push_str("```");
    prompt
}

fn python_type(schema: &Value) -> &'static str {
    match schema["type"].as_str().unwrap_or("string") {
        "number" => "float",
        "integer" => "int",
        "boolean" => "bool",
        "array" => "list",
        "object" => "dict",
        _ => "str",
    }
}

/// A reply's calls as Gemma 3 wrote them: one `tool_code` block, a call a line.
pub fn gemma3_calls(calls: &[(&str, &Map<String, Value>)]) -> String {
    let mut block = String::from("```tool_code\n");
    for (name, arguments) in calls {
        let arguments: Vec<String> =
            arguments.iter().map(|(key, value)| format!("{key}={}", python_literal(value))).collect();
        let _ = writeln!(block, "{name}({})", arguments.join(", "));
    }
    block.push_str("```");
    block
}

/// The results of a reply's calls as Gemma 3 reads them (in a user turn): one `tool_output`
/// block each.
pub fn gemma3_outputs<'a>(outputs: impl IntoIterator<Item = &'a str>) -> String {
    let blocks: Vec<String> =
        outputs.into_iter().map(|output| format!("```tool_output\n{}\n```", output.trim_end())).collect();
    blocks.join("\n")
}

/// A JSON value as a Python literal (what [`parse_gemma3`] reads back).
fn python_literal(value: &Value) -> String {
    match value {
        Value::Null => "None".to_owned(),
        Value::Bool(true) => "True".to_owned(),
        Value::Bool(false) => "False".to_owned(),
        Value::Number(number) => number.to_string(),
        // JSON's string escapes are Python's.
        Value::String(_) => value.to_string(),
        Value::Array(items) => format!("[{}]", items.iter().map(python_literal).collect::<Vec<_>>().join(", ")),
        Value::Object(entries) => format!(
            "{{{}}}",
            entries
                .iter()
                .map(|(key, value)| format!("{}: {}", Value::from(key.as_str()), python_literal(value)))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::Builtin;

    fn builtins() -> Vec<Value> {
        Builtin::ALL.iter().map(|tool| tool.declaration()).collect()
    }

    #[test]
    fn a_gemma3_call_written_back_reads_as_the_same_call() {
        let arguments =
            json!({"query": "it's \"late\"\n", "limit": 3, "exact": true, "tags": ["a"], "filter": {"lang": null}});
        let arguments = arguments.as_object().unwrap();
        let parsed = parse_gemma3(&gemma3_calls(&[("search", arguments)]));
        let call = parsed.calls[0].as_ref().unwrap();
        assert_eq!((call.name.as_str(), &call.arguments), ("search", arguments));
    }

    #[test]
    fn gemma3s_prompt_declares_each_tool_as_a_python_signature() {
        let prompt = gemma3_tool_prompt(&builtins());
        assert!(prompt.starts_with(GEMMA3_TOOL_INSTRUCTION));
        assert!(prompt.contains("def calculator(expression: str):\n    \"\"\"Evaluates"), "{prompt}");
        assert!(prompt.contains("def convert_units(value: float, from_unit: str, to_unit: str):"), "{prompt}");
        assert!(prompt.contains("def current_datetime():"), "{prompt}");
    }

    #[test]
    fn a_forced_call_names_each_tool_and_its_required_arguments_in_order() {
        let grammar = ToolSyntax::Gemma4.forced_call_grammar(&builtins());
        assert!(grammar.starts_with("root ::= tool-call-open \"call:\" (call-0 | call-1 | call-2) tool-call-close\n"));
        assert!(grammar.contains("call-0 ::= \"current_datetime{\" \"}\"\n"), "{grammar}");
        assert!(grammar.contains("call-1 ::= \"calculator{\" \"expression:\" string \"}\"\n"), "{grammar}");
        assert!(
            grammar.contains("call-2 ::= \"convert_units{\" \"from_unit:\" string \",\" \"to_unit:\" string \",\" \"value:\" number \"}\""),
            "{grammar}"
        );
        let gemma3 = ToolSyntax::Gemma3.forced_call_grammar(&builtins());
        assert!(gemma3.contains("call-1 ::= \"calculator(\" \"expression=\" string \")\"\n"), "{gemma3}");
    }

    #[test]
    fn enums_are_their_values_and_names_are_escaped() {
        let tool = json!({"function": {"name": "pick\"x", "parameters": {
            "properties": {"colour": {"type": "string", "enum": ["red", "dark \"blue\""]}}, "required": ["colour"]}}});
        let grammar = ToolSyntax::Gemma4.forced_call_grammar(&[tool]);
        assert!(
            grammar.contains(r#"call-0 ::= "pick\"x{" "colour:" (tool-quote "red" tool-quote | tool-quote "dark \"blue\"" tool-quote) "}""#),
            "{grammar}"
        );
    }
}

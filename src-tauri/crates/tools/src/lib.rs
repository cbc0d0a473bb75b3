//! Function calling for Gemma.
//!
//! A reply that calls tools is parsed into the text before the calls and the calls themselves:
//! [`parse_gemma4`] reads Gemma 4's native tool-call tokens (`<|tool_call>call:NAME{…}<tool_call|>`,
//! the syntax its chat template writes for earlier calls), [`parse_gemma3`] the documented prompt
//! convention for Gemma 3, which has no tool tokens (a `tool_code` block holding one Python-style
//! call with named arguments). Both are strict: a call that does not follow the syntax is a
//! [`MalformedCall`] with the reason, to be shown and answered with an error, never guessed at.
//!
//! [`Builtin`] holds the tools that need no network: the date and time, an exact calculator and
//! unit conversion.
#![deny(missing_docs)]

use serde_json::{Map, Value};

pub use builtin::{Builtin, ToolError};
pub use gemma3::{GEMMA3_TOOL_INSTRUCTION, parse_gemma3};
pub use gemma4::parse_gemma4;
pub use syntax::{ToolSyntax, gemma3_calls, gemma3_outputs, gemma3_tool_prompt};

mod builtin;
mod cursor;
mod gemma3;
mod gemma4;
mod syntax;

/// The most tool calls one reply may make; the rest are refused as malformed.
pub const MAX_CALLS_PER_REPLY: usize = 8;

/// A call the model asked for.
#[derive(Debug, Clone, PartialEq)]
pub struct ToolCall {
    /// The tool's name, as declared.
    pub name: String,
    /// The named arguments, as JSON values.
    pub arguments: Map<String, Value>,
}

/// A call the model began but did not write in the tool syntax.
#[derive(Debug, Clone, PartialEq)]
pub struct MalformedCall {
    /// What the model wrote for it.
    pub raw: String,
    /// What is wrong with it, in words.
    pub reason: String,
}

/// A model's reply, split into its text and the tool calls after it.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ParsedReply {
    /// What the model said around the calls (the calls taken out).
    pub text: String,
    /// Each call in order: well formed or not.
    pub calls: Vec<Result<ToolCall, MalformedCall>>,
}

impl ParsedReply {
    fn push(&mut self, call: Result<ToolCall, MalformedCall>) {
        if self.calls.len() >= MAX_CALLS_PER_REPLY {
            let raw = match &call {
                Ok(call) => call.name.clone(),
                Err(malformed) => malformed.raw.clone(),
            };
            let reason = format!("a reply may make at most {MAX_CALLS_PER_REPLY} tool calls");
            self.calls.push(Err(MalformedCall { raw, reason }));
        } else {
            self.calls.push(call);
        }
    }
}

/// Whether `name` is a tool name both syntaxes can carry (a letter or `_` first, then letters,
/// digits, `_`, `-` or `.`).
fn is_tool_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'))
}

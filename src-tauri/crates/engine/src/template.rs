//! Chat templates: turning a conversation into the exact prompt text a model was trained on.
//!
//! Two renderers sit behind [`ChatTemplate`]:
//!
//! - the built-in Gemma format, pure Rust, byte-identical to the published Gemma 3 Jinja
//!   template (used for files that carry no template of their own);
//! - any Hugging Face Jinja template (`tokenizer.chat_template`), rendered by minijinja set up
//!   the way `transformers` sets up jinja2 (module `jinja2`, with Python's spelling of values in
//!   module `python`), so that the text matches what the model saw in training byte for byte.
//!
//! `tests/templates/` at the top of the repository holds the golden cases: published Gemma
//! templates, conversations, and what Python's jinja2 renders for them.

mod jinja2;
mod python;

use std::collections::BTreeMap;
use std::sync::Arc;

use minijinja::value::Value;
use minijinja::{Environment, Error};

use self::jinja2::{TEMPLATE_NAME, raised_message};

/// One chat message as Hugging Face templates see it: role, content, and any extra fields
/// (tool_calls, reasoning_content, name, tool_call_id, ...) passed through untouched.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct ChatMessage {
    /// `system`, `developer`, `user`, `assistant` or `tool`; templates decide what they accept.
    pub role: String,
    /// The message text.
    pub content: String,
    /// Images attached to the message, shown to the model before its text. Never passed to the
    /// template: the session puts a marker in the text for each.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub media: Vec<crate::media::MediaRef>,
    /// Every other field of the message, as the template will see it.
    #[serde(flatten)]
    pub extra: serde_json::Map<String, serde_json::Value>,
}

impl ChatMessage {
    /// A message with the given role and text and no extra fields.
    pub fn new(role: impl Into<String>, content: impl Into<String>) -> Self {
        Self { role: role.into(), content: content.into(), media: Vec::new(), extra: serde_json::Map::new() }
    }

    /// A system prompt.
    pub fn system(content: impl Into<String>) -> Self {
        Self::new("system", content)
    }

    /// A user turn.
    pub fn user(content: impl Into<String>) -> Self {
        Self::new("user", content)
    }

    /// A model turn.
    pub fn assistant(content: impl Into<String>) -> Self {
        Self::new("assistant", content)
    }
}

/// What a rendering needs besides the messages.
#[derive(Debug, Clone, Default, serde::Serialize, serde::Deserialize)]
pub struct RenderOptions {
    /// End the prompt with the opening of a model turn, so that generation continues from there.
    pub add_generation_prompt: bool,
    /// Gemma 4's thinking switch (`enable_thinking`); None leaves it undefined.
    pub enable_thinking: Option<bool>,
    /// Tool declarations (OpenAI-style JSON), passed as `tools`.
    pub tools: Option<Vec<serde_json::Value>>,
}

/// Why a conversation could not be turned into prompt text.
#[derive(Debug, thiserror::Error)]
pub enum TemplateError {
    /// The Jinja source is not valid (or uses syntax minijinja does not know).
    #[error(
        "chat template does not compile: {detail}{}; the model file's tokenizer.chat_template \
         needs fixing, or load a model with a standard template",
        at_line(.line)
    )]
    Compile {
        /// What the parser objected to.
        detail: String,
        /// Line of the template source, counted from 1, where known.
        line: Option<usize>,
    },
    /// The template called `raise_exception` (or the built-in format refused), usually because
    /// the conversation has a shape the model does not accept, such as two user turns in a row.
    #[error("chat template refused the conversation: {0}")]
    Refused(String),
    /// Rendering failed for any other reason.
    #[error(
        "chat template failed to render: {detail}{}; the template may rely on something this \
         renderer does not support",
        at_line(.line)
    )]
    Render {
        /// What went wrong.
        detail: String,
        /// Line of the template source, counted from 1, where known.
        line: Option<usize>,
    },
    /// Rendering was asked for an empty conversation.
    #[error("no messages to render; a conversation needs at least one message")]
    NoMessages,
}

fn at_line(line: &Option<usize>) -> String {
    line.map(|line| format!(" (line {line})")).unwrap_or_default()
}

/// The message the Gemma 3 template raises when roles do not alternate.
const ALTERNATION_MESSAGE: &str = "Conversation roles must alternate user/assistant/user/assistant/...";

/// How a model's conversation becomes prompt text.
#[derive(Debug, Clone)]
pub enum ChatTemplate {
    /// Gemma 3 / 3n's turn format written in Rust: exactly what the Gemma 3 Jinja template
    /// renders, the leading `<bos>` included.
    BuiltinGemma,
    /// A Hugging Face Jinja template, compiled once.
    Jinja(JinjaTemplate),
}

/// A compiled Jinja chat template with the special tokens it is rendered with.
#[derive(Clone)]
pub struct JinjaTemplate {
    /// Shared, so that cloning a template (one per session, say) does not copy the environment.
    env: Arc<Environment<'static>>,
    bos_token: String,
    eos_token: String,
    native_tool_calls: bool,
}

impl std::fmt::Debug for JinjaTemplate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JinjaTemplate")
            .field("bos_token", &self.bos_token)
            .field("eos_token", &self.eos_token)
            .finish_non_exhaustive()
    }
}

impl ChatTemplate {
    /// The built-in Gemma 3 / 3n format.
    pub fn builtin_gemma() -> Self {
        Self::BuiltinGemma
    }

    /// Compiles a Jinja template; errors name the line.
    pub fn from_jinja(source: &str, bos_token: &str, eos_token: &str) -> Result<Self, TemplateError> {
        let env = jinja2::compile(source)
            .map_err(|err| TemplateError::Compile { detail: describe(&err), line: err.line() })?;
        Ok(Self::Jinja(JinjaTemplate {
            env: Arc::new(env),
            bos_token: bos_token.to_owned(),
            eos_token: eos_token.to_owned(),
            // llama.cpp's test for Gemma 4's tool format.
            native_tool_calls: source.contains("<|tool_call>call:"),
        }))
    }

    /// Picks the template for a model: the GGUF's own Jinja template whenever it has one
    /// (fine-tuned models often ship their own, and the built-in format equals the published
    /// Gemma 3 template byte for byte); the built-in Gemma format when it has none.
    pub fn for_model(jinja_source: Option<&str>, bos_token: &str, eos_token: &str) -> Result<Self, TemplateError> {
        match jinja_source.filter(|source| !source.trim().is_empty()) {
            Some(source) => Self::from_jinja(source, bos_token, eos_token),
            None => Ok(Self::BuiltinGemma),
        }
    }

    /// Renders the conversation as prompt text, special tokens included.
    pub fn render(&self, messages: &[ChatMessage], options: &RenderOptions) -> Result<String, TemplateError> {
        if messages.is_empty() {
            return Err(TemplateError::NoMessages);
        }
        match self {
            Self::BuiltinGemma => render_builtin_gemma(messages, options),
            Self::Jinja(template) => template.render(messages, options),
        }
    }

    /// Whether the template declares tools and writes calls in Gemma 4's native tool tokens
    /// (`<|tool_call>call:NAME{…}<tool_call|>`); otherwise tools need Gemma 3's prompt convention.
    pub fn has_native_tool_calls(&self) -> bool {
        matches!(self, Self::Jinja(template) if template.native_tool_calls)
    }

    /// "builtin gemma" or "jinja" (for logs/diagnostics)
    pub fn kind(&self) -> &'static str {
        match self {
            Self::BuiltinGemma => "builtin gemma",
            Self::Jinja(_) => "jinja",
        }
    }
}

/// The Gemma 3 template, statement by statement: the system prompt (untrimmed) opens the first
/// turn, roles must alternate from a user turn, `assistant` is called `model`, content is trimmed.
fn render_builtin_gemma(messages: &[ChatMessage], options: &RenderOptions) -> Result<String, TemplateError> {
    let (first_user_prefix, turns) = match messages.split_first() {
        Some((system, rest)) if system.role == "system" => (format!("{}\n\n", system.content), rest),
        _ => (String::new(), messages),
    };
    let mut out = String::from("<bos>");
    for (index, message) in turns.iter().enumerate() {
        if (message.role == "user") != (index % 2 == 0) {
            return Err(TemplateError::Refused(ALTERNATION_MESSAGE.to_owned()));
        }
        let role = if message.role == "assistant" { "model" } else { &message.role };
        out.push_str("<start_of_turn>");
        out.push_str(role);
        out.push('\n');
        if index == 0 {
            out.push_str(&first_user_prefix);
        }
        out.push_str(python::strip(&message.content, None));
        out.push_str("<end_of_turn>\n");
    }
    if options.add_generation_prompt {
        out.push_str("<start_of_turn>model\n");
    }
    Ok(out)
}

impl JinjaTemplate {
    fn render(&self, messages: &[ChatMessage], options: &RenderOptions) -> Result<String, TemplateError> {
        // The variables transformers passes: `tools` and `documents` are always defined (None
        // when absent); `enable_thinking` only when the caller chose.
        let mut context: BTreeMap<&str, Value> = BTreeMap::new();
        context.insert("messages", Value::from_serialize(messages));
        context.insert("tools", options.tools.as_ref().map(Value::from_serialize).unwrap_or(Value::from(())));
        context.insert("documents", Value::from(()));
        context.insert("add_generation_prompt", Value::from(options.add_generation_prompt));
        context.insert("bos_token", Value::from(self.bos_token.as_str()));
        context.insert("eos_token", Value::from(self.eos_token.as_str()));
        if let Some(enable_thinking) = options.enable_thinking {
            context.insert("enable_thinking", Value::from(enable_thinking));
        }
        self.env.get_template(TEMPLATE_NAME).and_then(|template| template.render(context)).map_err(|err| {
            match raised_message(&err) {
                Some(message) => TemplateError::Refused(message),
                None => TemplateError::Render { detail: describe(&err), line: err.line() },
            }
        })
    }
}

/// minijinja's error kind and detail, without the template excerpt its Display adds.
fn describe(err: &Error) -> String {
    match err.detail() {
        Some(detail) => format!("{}: {detail}", err.kind()),
        None => err.kind().to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn jinja(source: &str) -> ChatTemplate {
        ChatTemplate::from_jinja(source, "<bos>", "<eos>").expect("test template compiles")
    }

    /// Renders a one-off template for a conversation of one user message, "hi".
    fn render_str(source: &str) -> Result<String, TemplateError> {
        jinja(source).render(&[ChatMessage::user("hi")], &RenderOptions::default())
    }

    fn with_generation_prompt() -> RenderOptions {
        RenderOptions { add_generation_prompt: true, ..RenderOptions::default() }
    }

    #[test]
    fn builtin_gemma_folds_the_system_prompt_into_the_first_user_turn() {
        let messages = [
            ChatMessage::system("Be brief."),
            ChatMessage::user("  Hello  "),
            ChatMessage::assistant("\nHi there!\n"),
            ChatMessage::user("How are you?"),
        ];
        let text = ChatTemplate::builtin_gemma().render(&messages, &with_generation_prompt()).unwrap();
        assert_eq!(
            text,
            "<bos><start_of_turn>user\nBe brief.\n\nHello<end_of_turn>\n\
             <start_of_turn>model\nHi there!<end_of_turn>\n\
             <start_of_turn>user\nHow are you?<end_of_turn>\n\
             <start_of_turn>model\n"
        );
    }

    #[test]
    fn builtin_gemma_opens_a_model_turn_only_when_asked() {
        let messages = [ChatMessage::user("Hi")];
        let text = ChatTemplate::builtin_gemma().render(&messages, &RenderOptions::default()).unwrap();
        assert_eq!(text, "<bos><start_of_turn>user\nHi<end_of_turn>\n");
    }

    #[test]
    fn builtin_gemma_trims_python_whitespace_but_keeps_the_system_prompt_as_written() {
        // U+001F is whitespace to Python's str.strip() but not to Rust's str::trim().
        let messages = [ChatMessage::system(" sys "), ChatMessage::user("\u{1f}\u{3000} x \u{a0}")];
        let text = ChatTemplate::builtin_gemma().render(&messages, &RenderOptions::default()).unwrap();
        assert_eq!(text, "<bos><start_of_turn>user\n sys \n\nx<end_of_turn>\n");
    }

    #[test]
    fn builtin_gemma_refuses_roles_that_do_not_alternate_with_the_templates_message() {
        let messages = [ChatMessage::user("a"), ChatMessage::user("b")];
        let err = ChatTemplate::builtin_gemma().render(&messages, &RenderOptions::default()).unwrap_err();
        assert!(
            matches!(&err, TemplateError::Refused(message) if message == ALTERNATION_MESSAGE),
            "two user turns must be refused as the Gemma 3 template refuses them, got {err:?}"
        );
        assert_eq!(
            err.to_string(),
            "chat template refused the conversation: Conversation roles must alternate \
             user/assistant/user/assistant/..."
        );
    }

    #[test]
    fn an_empty_conversation_is_an_error_for_every_template() {
        for template in [ChatTemplate::builtin_gemma(), jinja("{{ messages[0].content }}")] {
            let err = template.render(&[], &RenderOptions::default()).unwrap_err();
            assert!(matches!(err, TemplateError::NoMessages), "{} rendered nothing", template.kind());
        }
    }

    #[test]
    fn for_model_uses_the_files_own_template_and_the_builtin_format_only_without_one() {
        let source = Some("{{ bos_token }}{{ messages[0].content }}");
        let pick = |source| ChatTemplate::for_model(source, "<bos>", "<eos>").unwrap().kind();
        assert_eq!(pick(source), "jinja", "a file's template wins, whatever the architecture");
        assert_eq!(pick(None), "builtin gemma");
        assert_eq!(pick(Some("  \n")), "builtin gemma", "a blank template is no template");
    }

    #[test]
    fn compile_errors_name_the_line() {
        let err = ChatTemplate::from_jinja("line one\n{% if %}\n", "<bos>", "<eos>").unwrap_err();
        assert!(matches!(err, TemplateError::Compile { line: Some(2), .. }), "got {err:?}");
        let message = err.to_string();
        assert!(message.starts_with("chat template does not compile: "), "{message}");
        assert!(message.contains("(line 2)"), "the message must point at the line: {message}");
    }

    #[test]
    fn raise_exception_surfaces_as_a_refusal_with_its_message() {
        let err = render_str("{{ raise_exception('No tools here') }}").unwrap_err();
        assert!(matches!(&err, TemplateError::Refused(m) if m == "No tools here"), "got {err:?}");
        let err =
            render_str("{% macro check() %}{{ raise_exception('deep') }}{% endmacro %}{{ check() }}").unwrap_err();
        assert!(matches!(&err, TemplateError::Refused(m) if m == "deep"), "from a macro: {err:?}");
    }

    #[test]
    fn other_render_failures_are_render_errors_with_a_line() {
        let err = render_str("ok\n{{ messages[0].content.nope.deeper }}").unwrap_err();
        assert!(matches!(err, TemplateError::Render { line: Some(2), .. }), "got {err:?}");
    }

    #[test]
    fn extra_message_fields_and_options_reach_the_template() {
        let mut message = ChatMessage::assistant("");
        message.extra.insert("tool_calls".into(), serde_json::json!([{"function": {"name": "f"}}]));
        let options = RenderOptions {
            add_generation_prompt: true,
            enable_thinking: Some(false),
            tools: Some(vec![serde_json::json!({"name": "f"})]),
        };
        let template = jinja(
            "{{ bos_token }}{{ messages[0].tool_calls[0].function.name }}{{ tools[0].name }}{{ enable_thinking }}{{ add_generation_prompt }}{{ eos_token }}",
        );
        assert_eq!(template.render(&[message], &options).unwrap(), "<bos>ffFalseTrue<eos>");
        let undefined = jinja("{{ enable_thinking is defined }}{{ tools is none }}");
        assert_eq!(undefined.render(&[ChatMessage::user("x")], &RenderOptions::default()).unwrap(), "FalseTrue");
    }
}

//! Function calling in a turn: which tools a reply may call, who lets a call run, and running it.
//!
//! A reply that calls tools is stored with its calls ([`ToolPart::Calls`]); each call is shown
//! to the caller ([`crate::ChatEvent::ConfirmTool`]) and runs only once the user lets it (or its
//! tool is allowed in this conversation or always); its result is stored as a tool message after
//! it, and the model replies again, seeing the results. A turn makes at most [`MAX_TOOL_CALLS`]
//! calls in at most [`MAX_TOOL_REPLIES`] replies; then the model answers without tools.

use std::collections::{BTreeSet, HashMap};
use std::io::Read as _;
use std::path::Path;

use gemma_desk_store::{ConversationId, SNIPPET_END, SNIPPET_START, Store, StoredToolCall, ToolOutcome};
use gemma_desk_tools::{Builtin, ToolCall, ToolError};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};
use ts_rs::TS;

/// The most tool calls one turn makes; later ones are answered with an error.
pub const MAX_TOOL_CALLS: usize = 8;
/// The most replies with tool calls in one turn; the next reply is written without tools.
pub const MAX_TOOL_REPLIES: usize = 4;
/// The name of the tool that searches the user's conversations.
pub const SEARCH_CONVERSATIONS: &str = "search_conversations";
/// The most hits the conversation search gives the model.
const SEARCH_HITS: u32 = 8;
/// The name of the tool that reads a text file the user picks.
pub const READ_TEXT_FILE: &str = "read_text_file";
/// The largest file [`READ_TEXT_FILE`] reads.
pub const MAX_TEXT_FILE_BYTES: u64 = 1024 * 1024;
/// The most characters of a file the model is given (about 4,000 tokens).
pub const MAX_TEXT_FILE_CHARS: usize = 16_000;

/// Which tools replies may call, and which run without asking.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ToolSettings {
    /// Replies are offered the tools at all.
    pub enabled: bool,
    /// Tools that run without asking, in every conversation.
    pub always_allowed: BTreeSet<String>,
    /// Whether every turn's first reply must call a tool (llama.cpp's grammar makes it).
    pub choice: ToolChoice,
}

/// Whether a reply must call a tool, as OpenAI's `tool_choice` says it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum ToolChoice {
    /// The model decides.
    #[default]
    Auto,
    /// It must call one of the tools (`"required"`).
    Required,
    /// It must call this one (`{"type": "function", "function": {"name": …}}`).
    Tool(String),
}

/// The names of the tools replies may call.
pub fn tool_names() -> Vec<&'static str> {
    Tool::ALL.iter().map(|tool| tool.name()).collect()
}

/// What the user says to a call.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum ToolDecision {
    /// Run it this once.
    Run,
    /// Run it, and this tool's later calls in this conversation without asking.
    AllowInConversation,
    /// Run it, and this tool's calls in every conversation without asking (the caller keeps
    /// that in the settings).
    AlwaysAllow,
    /// Do not run it: the model is told the user declined.
    Decline,
}

/// The tools a reply may call: the built-in ones and the conversation search.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Tool {
    Builtin(Builtin),
    SearchConversations,
    ReadTextFile,
}

impl Tool {
    pub(crate) const ALL: [Tool; 5] = [
        Tool::Builtin(Builtin::DateTime),
        Tool::Builtin(Builtin::Calculator),
        Tool::Builtin(Builtin::ConvertUnits),
        Tool::SearchConversations,
        Tool::ReadTextFile,
    ];

    pub(crate) fn named(name: &str) -> Option<Tool> {
        Self::ALL.into_iter().find(|tool| tool.name() == name)
    }

    pub(crate) fn name(self) -> &'static str {
        match self {
            Tool::Builtin(builtin) => builtin.name(),
            Tool::SearchConversations => SEARCH_CONVERSATIONS,
            Tool::ReadTextFile => READ_TEXT_FILE,
        }
    }

    /// Whether a call runs only on a file the user picks for it: asked every time, allowed or
    /// not, since picking the file is the user's word (the model never names a path).
    pub(crate) fn picks_file(self) -> bool {
        self == Tool::ReadTextFile
    }

    /// The declarations of every tool, OpenAI-shaped.
    pub(crate) fn declarations() -> Vec<Value> {
        Self::ALL.iter().map(|tool| tool.declaration()).collect()
    }

    fn declaration(self) -> Value {
        match self {
            Tool::Builtin(builtin) => builtin.declaration(),
            Tool::SearchConversations => json!({
                "type": "function",
                "function": {
                    "name": SEARCH_CONVERSATIONS,
                    "description": "Searches the user's other conversations with you for words; gives the matching messages with their conversation's title.",
                    "parameters": {
                        "type": "object",
                        "properties": {"query": {"type": "string", "description": "The words to look for"}},
                        "required": ["query"],
                    },
                },
            }),
            Tool::ReadTextFile => json!({
                "type": "function",
                "function": {
                    "name": READ_TEXT_FILE,
                    "description": format!("Reads a text file that the user picks when asked (you cannot name a path); gives its text, at most {MAX_TEXT_FILE_CHARS} characters."),
                    "parameters": {
                        "type": "object",
                        "properties": {"purpose": {"type": "string", "description": "Which file you would like and why, shown to the user"}},
                        "required": [],
                    },
                },
            }),
        }
    }

    /// Runs the call made in `conversation`; its answer (or why it failed) is text for the model.
    /// `file` is the one the user picked, for a tool that [`Tool::picks_file`].
    pub(crate) async fn run(
        self,
        store: &Store,
        conversation: ConversationId,
        arguments: &Map<String, Value>,
        file: Option<&Path>,
    ) -> Result<String, ToolError> {
        match self {
            Tool::ReadTextFile => {
                let file = file.ok_or_else(|| ToolError::Failed("the user picked no file".to_owned()))?.to_owned();
                tokio::task::spawn_blocking(move || read_text_file(&file))
                    .await
                    .unwrap_or_else(|panic| std::panic::resume_unwind(panic.into_panic()))
            }
            Tool::Builtin(builtin) => {
                let arguments = arguments.clone();
                // The calculator may take its whole second.
                tokio::task::spawn_blocking(move || builtin.run(&arguments))
                    .await
                    .unwrap_or_else(|panic| std::panic::resume_unwind(panic.into_panic()))
            }
            Tool::SearchConversations => {
                let query = arguments
                    .get("query")
                    .and_then(Value::as_str)
                    .ok_or_else(|| ToolError::BadArguments(format!("{SEARCH_CONVERSATIONS} needs query, a string")))?;
                // The conversation asking is the model's to see already.
                let hits =
                    store.search(query, SEARCH_HITS + 1).await.map_err(|error| ToolError::Failed(error.to_string()))?;
                let hits: Vec<_> = hits
                    .into_iter()
                    .filter(|hit| hit.conversation_id != conversation)
                    .take(SEARCH_HITS as usize)
                    .collect();
                if hits.is_empty() {
                    return Ok(format!("No message in the user's other conversations matches {query:?}."));
                }
                let lines: Vec<String> = hits
                    .iter()
                    .map(|hit| {
                        let snippet: String =
                            hit.snippet.chars().filter(|&c| c != SNIPPET_START && c != SNIPPET_END).collect();
                        format!("- In \"{}\" ({} wrote): {}", hit.title, hit.role.as_str(), snippet.trim())
                    })
                    .collect();
                Ok(lines.join("\n"))
            }
        }
    }
}

/// The text of the file the user picked, for the model: refused when over
/// [`MAX_TEXT_FILE_BYTES`] or not UTF-8 text, cut after [`MAX_TEXT_FILE_CHARS`] characters.
fn read_text_file(path: &Path) -> Result<String, ToolError> {
    let name = path.file_name().map_or_else(|| path.display().to_string(), |name| name.to_string_lossy().into_owned());
    let failed = |why: String| ToolError::Failed(why);
    let size = std::fs::metadata(path).map_err(|error| failed(format!("{name} cannot be read: {error}")))?.len();
    if size > MAX_TEXT_FILE_BYTES {
        return Err(failed(format!(
            "{name} is {:.1} MB; at most {} MB of text is read",
            size as f64 / 1e6,
            MAX_TEXT_FILE_BYTES / (1024 * 1024)
        )));
    }
    let mut bytes = Vec::with_capacity(size as usize);
    // Read through a limit: the file may have grown since it was measured.
    std::fs::File::open(path)
        .and_then(|file| file.take(MAX_TEXT_FILE_BYTES + 1).read_to_end(&mut bytes))
        .map_err(|error| failed(format!("{name} cannot be read: {error}")))?;
    if bytes.len() as u64 > MAX_TEXT_FILE_BYTES {
        return Err(failed(format!("{name} grew past {} MB while it was read", MAX_TEXT_FILE_BYTES / (1024 * 1024))));
    }
    let text = String::from_utf8(bytes)
        .ok()
        .filter(|text| !text.contains('\0'))
        .ok_or_else(|| failed(format!("{name} is not a text file (UTF-8)")))?;
    let total = text.chars().count();
    Ok(match text.char_indices().nth(MAX_TEXT_FILE_CHARS) {
        Some((cut, _)) => format!(
            "The user picked {name}; its first {MAX_TEXT_FILE_CHARS} of {total} characters:\n\n{}",
            &text[..cut]
        ),
        None => format!("The user picked {name}:\n\n{text}"),
    })
}

/// Which tools run without asking in which conversation (for as long as the app runs).
#[derive(Debug, Default)]
pub(crate) struct ConversationPermissions(HashMap<ConversationId, BTreeSet<String>>);

impl ConversationPermissions {
    pub(crate) fn allows(&self, conversation: ConversationId, tool: &str) -> bool {
        self.0.get(&conversation).is_some_and(|tools| tools.contains(tool))
    }

    pub(crate) fn allow(&mut self, conversation: ConversationId, tool: &str) {
        self.0.entry(conversation).or_default().insert(tool.to_owned());
    }
}

/// The stored form of a reply's calls, numbered from `first` (`call_1`, ...) across the turn so
/// that every result names its own call.
pub(crate) fn stored_calls(
    calls: Vec<Result<ToolCall, gemma_desk_tools::MalformedCall>>,
    first: usize,
) -> (Vec<StoredToolCall>, Vec<Option<String>>) {
    let mut stored = Vec::with_capacity(calls.len());
    let mut reasons = Vec::with_capacity(calls.len());
    for (index, call) in calls.into_iter().enumerate() {
        let id = format!("call_{}", first + index);
        match call {
            Ok(call) => {
                stored.push(StoredToolCall { id, name: call.name, arguments: call.arguments, malformed: None });
                reasons.push(None);
            }
            Err(malformed) => {
                stored.push(StoredToolCall {
                    id,
                    name: String::new(),
                    arguments: Map::new(),
                    malformed: Some(malformed.raw),
                });
                reasons.push(Some(malformed.reason));
            }
        }
    }
    (stored, reasons)
}

/// How a call that cannot run is answered, before anyone is asked.
pub(crate) fn refusal(
    call: &StoredToolCall,
    reason: Option<&str>,
    calls_so_far: usize,
) -> Option<(ToolOutcome, String)> {
    if let Some(reason) = reason {
        return Some((ToolOutcome::Refused, format!("error: the call could not be read: {reason}")));
    }
    if calls_so_far >= MAX_TOOL_CALLS {
        return Some((
            ToolOutcome::Refused,
            format!("error: this turn has made its {MAX_TOOL_CALLS} tool calls; answer with what you have"),
        ));
    }
    if Tool::named(&call.name).is_none() {
        let names: Vec<&str> = Tool::ALL.iter().map(|tool| tool.name()).collect();
        return Some((
            ToolOutcome::Refused,
            format!("error: there is no tool named {:?}; the tools are {}", call.name, names.join(", ")),
        ));
    }
    None
}

#[cfg(test)]
mod tests {
    use gemma_desk_store::{ConversationSettings, Role};

    use super::*;

    #[test]
    fn a_picked_text_file_is_read_and_a_long_one_cut() {
        let dir = tempfile::tempdir().unwrap();
        let notes = dir.path().join("notes.md");
        std::fs::write(&notes, "# Plan\nbuy flour ✓\n").unwrap();
        assert_eq!(read_text_file(&notes).unwrap(), "The user picked notes.md:\n\n# Plan\nbuy flour ✓\n");
        let long = dir.path().join("long.txt");
        std::fs::write(&long, "é".repeat(MAX_TEXT_FILE_CHARS + 5)).unwrap();
        let text = read_text_file(&long).unwrap();
        assert!(text.starts_with(&format!(
            "The user picked long.txt; its first 16000 of {} characters:",
            MAX_TEXT_FILE_CHARS + 5
        )));
        assert_eq!(text.chars().filter(|&c| c == 'é').count(), MAX_TEXT_FILE_CHARS);
    }

    #[test]
    fn a_huge_binary_or_missing_file_is_refused_by_name() {
        let dir = tempfile::tempdir().unwrap();
        let huge = dir.path().join("huge.log");
        std::fs::File::create(&huge).unwrap().set_len(MAX_TEXT_FILE_BYTES + 1).unwrap();
        let binary = dir.path().join("photo.png");
        std::fs::write(&binary, b"\x89PNG\r\n\x1a\n\0\0").unwrap();
        let nul = dir.path().join("nul.txt");
        std::fs::write(&nul, b"text\0more").unwrap();
        for (path, why) in [
            (huge, "huge.log is 1.0 MB; at most 1 MB"),
            (binary, "photo.png is not a text file"),
            (nul, "nul.txt is not a text file"),
            (dir.path().join("gone.txt"), "gone.txt cannot be read"),
        ] {
            let error = read_text_file(&path).unwrap_err().to_string();
            assert!(error.starts_with(why), "{error}");
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 1)]
    async fn the_conversation_search_finds_the_other_conversations_only() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).await.unwrap();
        let settings = ConversationSettings::default();
        let asking = store.create_conversation(None, None, &settings, 1).await.unwrap();
        let earlier = store.create_conversation(Some("Sourdough"), None, &settings, 2).await.unwrap();
        store.add_message(earlier.id, None, Role::User, "How long does sourdough rise?", 3).await.unwrap();
        store.add_message(asking.id, None, Role::User, "What did I ask about sourdough?", 4).await.unwrap();
        let arguments = json!({"query": "sourdough"}).as_object().unwrap().clone();
        let found = Tool::SearchConversations.run(&store, asking.id, &arguments, None).await.unwrap();
        assert_eq!(found, "- In \"Sourdough\" (user wrote): How long does sourdough rise?");
        let missing = json!({"query": "focaccia"}).as_object().unwrap().clone();
        let none = Tool::SearchConversations.run(&store, asking.id, &missing, None).await.unwrap();
        assert!(none.starts_with("No message"), "{none}");
        let bad = Tool::SearchConversations.run(&store, asking.id, &Map::new(), None).await;
        assert!(matches!(bad, Err(ToolError::BadArguments(_))), "{bad:?}");
    }
}

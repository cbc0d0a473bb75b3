//! Function calling in a turn: which tools a reply may call, who lets a call run, and running it.
//!
//! A reply that calls tools is stored with its calls ([`ToolPart::Calls`]); each call is shown
//! to the caller ([`crate::ChatEvent::ConfirmTool`]) and runs only once the user lets it (or its
//! tool is allowed in this conversation or always); its result is stored as a tool message after
//! it, and the model replies again, seeing the results. A turn makes at most [`MAX_TOOL_CALLS`]
//! calls in at most [`MAX_TOOL_REPLIES`] replies; then the model answers without tools.

use std::collections::{BTreeSet, HashMap};

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

/// Which tools replies may call, and which run without asking.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ToolSettings {
    /// Replies are offered the tools at all.
    pub enabled: bool,
    /// Tools that run without asking, in every conversation.
    pub always_allowed: BTreeSet<String>,
    /// Every turn's first reply must call a tool (llama.cpp's grammar makes it:
    /// `tool_choice: "required"`).
    pub require_call: bool,
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
}

impl Tool {
    pub(crate) const ALL: [Tool; 4] = [
        Tool::Builtin(Builtin::DateTime),
        Tool::Builtin(Builtin::Calculator),
        Tool::Builtin(Builtin::ConvertUnits),
        Tool::SearchConversations,
    ];

    pub(crate) fn named(name: &str) -> Option<Tool> {
        Self::ALL.into_iter().find(|tool| tool.name() == name)
    }

    pub(crate) fn name(self) -> &'static str {
        match self {
            Tool::Builtin(builtin) => builtin.name(),
            Tool::SearchConversations => SEARCH_CONVERSATIONS,
        }
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
        }
    }

    /// Runs the call made in `conversation`; its answer (or why it failed) is text for the model.
    pub(crate) async fn run(
        self,
        store: &Store,
        conversation: ConversationId,
        arguments: &Map<String, Value>,
    ) -> Result<String, ToolError> {
        match self {
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
        let found = Tool::SearchConversations.run(&store, asking.id, &arguments).await.unwrap();
        assert_eq!(found, "- In \"Sourdough\" (user wrote): How long does sourdough rise?");
        let missing = json!({"query": "focaccia"}).as_object().unwrap().clone();
        let none = Tool::SearchConversations.run(&store, asking.id, &missing).await.unwrap();
        assert!(none.starts_with("No message"), "{none}");
        let bad = Tool::SearchConversations.run(&store, asking.id, &Map::new()).await;
        assert!(matches!(bad, Err(ToolError::BadArguments(_))), "{bad:?}");
    }
}

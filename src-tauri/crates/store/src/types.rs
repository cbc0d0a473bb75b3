//! The store's records, as callers see them.

use serde::{Deserialize, Serialize};
use ts_rs::TS;

/// A conversation's id (SQLite rowid).
pub type ConversationId = i64;
/// A message's id (SQLite rowid).
pub type MessageId = i64;
/// Marks the start of a matched word in a [`SearchHit`] snippet.
pub const SNIPPET_START: char = '\u{2}';
/// Marks the end of a matched word in a [`SearchHit`] snippet.
pub const SNIPPET_END: char = '\u{3}';

/// Unix time in milliseconds. The store never reads the clock: callers pass the time in.
pub type Millis = i64;

/// Who wrote a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// The system prompt.
    System,
    /// The person.
    User,
    /// The model.
    Assistant,
    /// A tool's answer.
    Tool,
}

/// Where a message is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum MessageStatus {
    /// A reply being generated; its text grows.
    Streaming,
    /// Complete.
    Done,
    /// Stopped by the user.
    Stopped,
    /// Cut short by a crash of the engine or the app; the text is what was saved.
    Interrupted,
    /// Failed; see the message's `error`.
    Error,
}

/// A conversation's settings: what it was run with.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, TS)]
#[serde(default)]
pub struct ConversationSettings {
    /// The system prompt, if any.
    pub system_prompt: Option<String>,
    /// Sampling overrides, as the engine's `SamplingParams` JSON.
    pub sampling: serde_json::Value,
}

/// A conversation (without its messages).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct Conversation {
    /// Its id.
    pub id: ConversationId,
    /// Its title (by default the start of the first user message).
    pub title: String,
    /// When it was created.
    pub created_at: Millis,
    /// When it last changed.
    pub updated_at: Millis,
    /// Pinned conversations are listed first.
    pub pinned: bool,
    /// The model last used.
    pub model: Option<String>,
    /// System prompt and sampling.
    pub settings: ConversationSettings,
    /// The leaf of the branch shown.
    pub current_leaf_id: Option<MessageId>,
    /// Set while the conversation is deleted (undoable until purged).
    pub deleted_at: Option<Millis>,
}

/// The figures of a generated reply.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, TS)]
#[serde(default)]
pub struct ReplyStats {
    /// Time to first token.
    pub ttft_ms: Option<f64>,
    /// Prompt tokens decoded per second.
    pub prefill_tps: Option<f64>,
    /// Generated tokens per second.
    pub decode_tps: Option<f64>,
    /// Tokens in the prompt.
    pub prompt_tokens: Option<i64>,
    /// Tokens generated.
    pub generated_tokens: Option<i64>,
    /// Prompt tokens reused from the KV cache.
    pub reused_tokens: Option<i64>,
    /// Image tokens among the prompt tokens reused from the KV cache (`None` when the prompt held
    /// no image).
    pub image_tokens_reused: Option<i64>,
    /// Image tokens among the prompt tokens encoded for this reply (`None` when the prompt held no
    /// image).
    pub image_tokens_encoded: Option<i64>,
}

/// One message in a conversation's tree.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct Message {
    /// Its id.
    pub id: MessageId,
    /// Its conversation.
    pub conversation_id: ConversationId,
    /// The message it follows (None for the first).
    pub parent_id: Option<MessageId>,
    /// Who wrote it.
    pub role: Role,
    /// Its text.
    pub content: String,
    /// Where it is in its life.
    pub status: MessageStatus,
    /// Why it failed, when `status` is `Error`.
    pub error: Option<String>,
    /// The model that wrote it (assistant messages).
    pub model: Option<String>,
    /// Generation figures (assistant messages).
    pub stats: ReplyStats,
    /// The tool calls of a reply that called tools, or the result of one call (a tool message).
    pub tool: Option<ToolPart>,
    /// When it was created.
    pub created_at: Millis,
    /// When it last changed.
    pub updated_at: Millis,
}

/// What a message holds of function calling.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ToolPart {
    /// The calls a reply made, in order, after its text.
    Calls {
        /// The calls.
        calls: Vec<StoredToolCall>,
    },
    /// A tool message: what one call gave back (its text is the message's content).
    Result(ToolResult),
}

/// A call a reply made.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct StoredToolCall {
    /// Its id in the conversation, which its result names (`call_1`, ...).
    pub id: String,
    /// The tool called (for a malformed call, what could be read of the name, maybe empty).
    pub name: String,
    /// The named arguments.
    #[ts(type = "Record<string, unknown>")]
    pub arguments: serde_json::Map<String, serde_json::Value>,
    /// Set when the call did not follow the tool syntax: what the model wrote.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub malformed: Option<String>,
}

/// The result of one call.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct ToolResult {
    /// The call answered ([`StoredToolCall::id`]).
    pub call_id: String,
    /// The tool.
    pub name: String,
    /// How the call went.
    pub outcome: ToolOutcome,
}

/// How a tool call went.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum ToolOutcome {
    /// The tool ran and answered.
    Answered,
    /// The tool ran and failed, or its arguments were wrong (the content says why).
    Failed,
    /// The user did not let it run.
    Declined,
    /// The call could not be read, or there is no such tool (the content says why).
    Refused,
}

/// Which messages an export holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ExportScope {
    /// The branch shown, root to leaf.
    CurrentBranch,
    /// Every message of every branch.
    WholeTree,
}

/// A message of the current branch, with its place among its siblings ("2 / 3").
#[derive(Debug, Clone, PartialEq, Serialize, TS)]
pub struct BranchMessage {
    /// The message.
    pub message: Message,
    /// Its 1-based position among the messages sharing its parent, oldest first.
    pub sibling_index: usize,
    /// How many messages share its parent (1 when there is no branch).
    pub sibling_count: usize,
    /// Its attachments.
    pub attachments: Vec<Attachment>,
}

/// A file attached to a message (an image or an audio clip), stored once by content.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct Attachment {
    /// Its id.
    pub id: i64,
    /// The message it belongs to.
    pub message_id: MessageId,
    /// The file's sha256 (hex), which is also its file name.
    pub sha256: String,
    /// e.g. `image/png`, `audio/wav`.
    pub media_type: String,
    /// Bytes.
    pub size: i64,
    /// Pixels (images).
    pub width: Option<i64>,
    /// Pixels (images).
    pub height: Option<i64>,
    /// Milliseconds (audio).
    pub duration_ms: Option<i64>,
    /// The name it was given (e.g. the dropped file's).
    pub name: Option<String>,
    /// When it was added.
    pub created_at: Millis,
}

impl Attachment {
    /// Whether it is an image (`image/*`).
    pub fn is_image(&self) -> bool {
        has_kind(&self.media_type, "image/")
    }

    /// Whether it is a sound clip (`audio/*`).
    pub fn is_clip(&self) -> bool {
        has_kind(&self.media_type, "audio/")
    }
}

/// Whether `media_type` is of `kind` (`image/`, `audio/`), in any case.
fn has_kind(media_type: &str, kind: &str) -> bool {
    media_type.get(..kind.len()).is_some_and(|prefix| prefix.eq_ignore_ascii_case(kind))
}

/// What a new attachment is, besides its bytes.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct NewAttachment {
    /// e.g. `image/png`.
    pub media_type: String,
    /// Pixels (images).
    pub width: Option<i64>,
    /// Pixels (images).
    pub height: Option<i64>,
    /// Milliseconds (audio).
    pub duration_ms: Option<i64>,
    /// The name it was given.
    pub name: Option<String>,
}

impl NewAttachment {
    /// Whether it is a sound clip (`audio/*`).
    pub fn is_clip(&self) -> bool {
        has_kind(&self.media_type, "audio/")
    }
}

/// A conversation as Markdown, and the image files its links point at.
#[derive(Debug, Clone, PartialEq)]
pub struct MarkdownExport {
    /// The Markdown.
    pub text: String,
    /// The files to copy into the folder beside the Markdown file, one per distinct image.
    pub files: Vec<ExportFile>,
}

/// An attachment file a [`MarkdownExport`] links to.
#[derive(Debug, Clone, PartialEq)]
pub struct ExportFile {
    /// Its name in the folder: one safe file name, no folders, unique in the export even ignoring
    /// case.
    pub name: String,
    /// The stored file to copy ([`crate::Store::attachment_path`]).
    pub sha256: String,
}

/// One full-text search result.
#[derive(Debug, Clone, PartialEq, Serialize, TS)]
pub struct SearchHit {
    /// The conversation.
    pub conversation_id: ConversationId,
    /// Its title.
    pub title: String,
    /// The matching message.
    pub message_id: MessageId,
    /// Who wrote it.
    pub role: Role,
    /// The text around the match, each matched word between [`SNIPPET_START`] and
    /// [`SNIPPET_END`] (control characters that never occur in text, so a UI can split on them
    /// and escape the rest).
    pub snippet: String,
    /// How many images are attached to the matching message.
    pub image_count: u32,
}

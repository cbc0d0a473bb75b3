//! Conversations with the engine, as the app has them.
//!
//! [`Chat`] joins the conversation store and the engine worker: the user's message is committed
//! before the engine is asked anything, the reply is saved while it streams, and a reply whose
//! engine died keeps its text (status `interrupted`) while the next one starts a fresh engine.
#![deny(missing_docs)]

pub use chat::{
    Chat, ChatEvent, CheckedAttachment, EngineState, EngineStatus, EngineTuning, MAX_CLIPS, MAX_IMAGES, MAX_TEXT_CHARS,
    ModelChoice, RequiredToolCall, StopHandle, check_clip, check_image, clip_attachment,
};
pub use error::ChatError;
pub use tools::{
    MAX_TEXT_FILE_BYTES, MAX_TEXT_FILE_CHARS, MAX_TOOL_CALLS, MAX_TOOL_REPLIES, READ_TEXT_FILE, SEARCH_CONVERSATIONS,
    ToolChoice, ToolDecision, ToolSettings, tool_names,
};
pub use transcribe::{TRANSCRIPTION_CONTEXT, TRANSCRIPTION_INSTRUCTION, Transcriber, transcript_token_limit};

mod chat;
mod error;
mod tools;
mod transcribe;

/// Now, as the store keeps time (Unix milliseconds).
pub fn now() -> gemma_desk_store::Millis {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_millis() as i64)
}

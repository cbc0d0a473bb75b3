//! What a chat operation can fail with, in classes a UI can act on.

use gemma_desk_store::StoreError;
use serde::Serialize;

/// Why a chat operation failed. Every message is a sentence meant for the user.
#[derive(Debug, thiserror::Error)]
pub enum ChatError {
    /// The request makes no sense (empty text, a user message where a reply was expected, ...).
    #[error("{0}")]
    BadInput(String),
    /// A conversation or message that does not exist.
    #[error("{0}")]
    NotFound(String),
    /// A reply (or a model load) is already running.
    #[error("a reply is already being written; stop it or wait for it to finish")]
    Busy,
    /// No model has been loaded yet.
    #[error("no model is loaded; choose a model file first")]
    NoModel,
    /// The engine refused or failed.
    #[error("{0}")]
    Engine(String),
    /// The conversation store failed.
    #[error("{0}")]
    Store(StoreError),
}

impl ChatError {
    /// The error's class, as the UI receives it.
    pub fn code(&self) -> &'static str {
        match self {
            ChatError::BadInput(_) => "bad_input",
            ChatError::NotFound(_) => "not_found",
            ChatError::Busy => "busy",
            ChatError::NoModel => "no_model",
            ChatError::Engine(_) => "engine",
            ChatError::Store(_) => "store",
        }
    }
}

impl From<StoreError> for ChatError {
    fn from(error: StoreError) -> ChatError {
        match error {
            StoreError::NotFound { .. } => ChatError::NotFound(error.to_string()),
            StoreError::Invalid(message) | StoreError::InvalidImport(message) => ChatError::BadInput(message),
            other => ChatError::Store(other),
        }
    }
}

impl Serialize for ChatError {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let mut error = serializer.serialize_struct("ChatError", 2)?;
        error.serialize_field("code", self.code())?;
        error.serialize_field("message", &self.to_string())?;
        error.end()
    }
}

//! What a chat operation can fail with, in classes a UI can act on.

use gemma_desk_engine::Failure;
use gemma_desk_store::StoreError;

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
    /// Images were attached, but the loaded model cannot see.
    #[error("{0}")]
    CannotSee(String),
    /// Sound clips were attached, but the loaded model cannot hear.
    #[error("{0}")]
    CannotHear(String),
    /// A model cannot be started beside the loaded one: the memory free now is too little.
    #[error("{0}")]
    NoMemory(String),
    /// The user stopped it before it had anything to keep.
    #[error("stopped")]
    Cancelled,
    /// A file could not be written.
    #[error("{0}")]
    Io(String),
    /// The engine refused or failed.
    #[error("{message}")]
    Engine {
        /// In words.
        message: String,
        /// What llama.cpp said went wrong, when it said.
        failure: Option<Failure>,
    },
    /// The conversation store failed.
    #[error("{0}")]
    Store(StoreError),
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

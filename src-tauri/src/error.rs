//! The one error type every command answers with: `{ code, message }`, a class the UI acts on
//! and a sentence it shows.

use gemma_desk_chat::{ChatError, SettingsError};
use gemma_desk_store::StoreError;
use serde::Serialize;

/// A command's failure, as the UI receives it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AppError {
    /// `bad_input`, `not_found`, `busy`, `no_model`, `engine`, `store` or `io`.
    pub code: &'static str,
    /// What happened and what to do, in words.
    pub message: String,
}

impl AppError {
    /// Bad arguments.
    pub fn bad_input(message: impl Into<String>) -> AppError {
        AppError { code: "bad_input", message: message.into() }
    }

    /// A file or the system failed.
    pub fn io(message: impl Into<String>) -> AppError {
        AppError { code: "io", message: message.into() }
    }
}

impl From<ChatError> for AppError {
    fn from(error: ChatError) -> AppError {
        AppError { code: error.code(), message: error.to_string() }
    }
}

impl From<StoreError> for AppError {
    fn from(error: StoreError) -> AppError {
        ChatError::from(error).into()
    }
}

impl From<SettingsError> for AppError {
    fn from(error: SettingsError) -> AppError {
        match error {
            SettingsError::Invalid(message) => AppError::bad_input(message),
            io @ SettingsError::Io { .. } => AppError::io(io.to_string()),
        }
    }
}

impl std::fmt::Display for AppError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

/// What commands return.
pub type CommandResult<T> = Result<T, AppError>;

//! The one error type every command answers with: `{ code, message }`, a class the UI acts on
//! and a sentence it shows.

use gemma_desk_chat::ChatError;
use gemma_desk_engine::Failure;
use gemma_desk_settings::SettingsError;
use gemma_desk_store::StoreError;
use serde::Serialize;
use ts_rs::TS;

/// A command's failure, as the UI receives it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
pub struct AppError {
    /// What kind of failure, for the UI to act on.
    pub code: ErrorCode,
    /// What happened and what to do, in words.
    pub message: String,
}

/// The classes of failure the UI tells apart. `ui/src/lib/errors.ts` has one row for each, and
/// its check fails until a new one has its row.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    /// The arguments make no sense; the message says which and why.
    BadInput,
    /// A conversation, message, model or download that does not exist.
    NotFound,
    /// A reply, a model load or this download is already running.
    Busy,
    /// No model is loaded yet.
    NoModel,
    /// Images were attached but the loaded model cannot see: switch to a vision model.
    CannotSee,
    /// Sound clips were attached but the loaded model cannot hear: switch to Gemma 4 E2B or E4B.
    CannotHear,
    /// The microphone cannot record: none, not connected, busy, or not allowed.
    Microphone,
    /// A recording held no speech (silent, or too short) and was discarded.
    NothingRecorded,
    /// The system's speech service cannot be reached or failed.
    Speech,
    /// The engine refused or failed.
    Engine,
    /// The model ran out of memory: a smaller context, fewer GPU layers or a smaller model.
    OutOfMemory,
    /// This llama.cpp cannot run the model's architecture: an app update may.
    UnsupportedArchitecture,
    /// The projector (mmproj) was not made for the model.
    ProjectorMismatch,
    /// The GPU stopped answering.
    GpuLost,
    /// The conversation store failed.
    Store,
    /// A file or the system failed.
    Io,
    /// A download failed for another reason; the message says why.
    Download,
    /// The repository is gated or needs a token: the token setting and the licence page.
    Unauthorized,
    /// The disk has no room for it.
    NoSpace,
    /// The network failed; what arrived is kept, so the download can resume.
    Network,
    /// A downloaded file is not the published one (and was deleted).
    HashMismatch,
    /// The user cancelled what was asked (the window uses it for its own cancellations).
    Cancelled,
}

impl ErrorCode {
    /// The code of an engine failure, by what llama.cpp said.
    pub fn of_engine(failure: Option<Failure>) -> ErrorCode {
        match failure {
            Some(Failure::OutOfMemory) => ErrorCode::OutOfMemory,
            Some(Failure::UnsupportedArchitecture) => ErrorCode::UnsupportedArchitecture,
            Some(Failure::ProjectorMismatch) => ErrorCode::ProjectorMismatch,
            Some(Failure::DeviceLost) => ErrorCode::GpuLost,
            None => ErrorCode::Engine,
        }
    }
}

impl AppError {
    /// A failure of class `code`.
    pub fn new(code: ErrorCode, message: impl Into<String>) -> AppError {
        AppError { code, message: message.into() }
    }

    /// Bad arguments.
    pub fn bad_input(message: impl Into<String>) -> AppError {
        AppError::new(ErrorCode::BadInput, message)
    }

    /// A file or the system failed.
    pub fn io(message: impl Into<String>) -> AppError {
        AppError::new(ErrorCode::Io, message)
    }
}

impl From<ChatError> for AppError {
    fn from(error: ChatError) -> AppError {
        let code = match &error {
            ChatError::BadInput(_) => ErrorCode::BadInput,
            ChatError::NotFound(_) => ErrorCode::NotFound,
            ChatError::Busy => ErrorCode::Busy,
            ChatError::NoModel => ErrorCode::NoModel,
            ChatError::CannotSee(_) => ErrorCode::CannotSee,
            ChatError::CannotHear(_) => ErrorCode::CannotHear,
            ChatError::NoMemory(_) => ErrorCode::OutOfMemory,
            ChatError::Cancelled => ErrorCode::Cancelled,
            ChatError::Io(_) => ErrorCode::Io,
            ChatError::Engine { failure, .. } => ErrorCode::of_engine(*failure),
            ChatError::Store(_) => ErrorCode::Store,
        };
        AppError::new(code, error.to_string())
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

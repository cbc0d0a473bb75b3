//! The engine's errors, each mapped to the [`ErrorCode`] the client and UI act on.

use crate::gguf::GgufError;
use crate::protocol::ErrorCode;
use crate::template::TemplateError;

/// Everything that can go wrong inside the engine.
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    /// The GGUF header failed validation.
    #[error(transparent)]
    Gguf(#[from] GgufError),
    /// The file is a valid GGUF but not usable the way it was given.
    #[error("{0}")]
    InvalidModel(String),
    /// llama.cpp refused the model, projector or context.
    #[error("{0}")]
    LoadFailed(String),
    /// The chat template failed.
    #[error(transparent)]
    Template(#[from] TemplateError),
    /// The request is malformed or out of range.
    #[error("{0}")]
    BadRequest(String),
    /// Even the latest message alone does not fit in the context.
    #[error(
        "the prompt needs {tokens} tokens but the context holds {n_ctx} (with {reserve} kept free for the reply); shorten the message or raise the context size"
    )]
    PromptTooLong {
        /// Tokens of the shortest prompt that could be built.
        tokens: usize,
        /// The context size.
        n_ctx: u32,
        /// Tokens kept free for the reply.
        reserve: u32,
    },
    /// llama.cpp failed while decoding.
    #[error("llama.cpp failed to decode: {0}")]
    Decode(String),
    /// An attached image cannot be read, decoded or shown to this model.
    #[error("{0}")]
    Media(String),
}

impl EngineError {
    /// The class of error the client acts on.
    pub fn code(&self) -> ErrorCode {
        match self {
            EngineError::Gguf(_) | EngineError::InvalidModel(_) => ErrorCode::InvalidModel,
            EngineError::LoadFailed(_) => ErrorCode::LoadFailed,
            EngineError::Template(_) => ErrorCode::Template,
            EngineError::BadRequest(_) => ErrorCode::BadRequest,
            EngineError::PromptTooLong { .. } => ErrorCode::PromptTooLong,
            EngineError::Decode(_) => ErrorCode::DecodeFailed,
            EngineError::Media(_) => ErrorCode::Media,
        }
    }
}

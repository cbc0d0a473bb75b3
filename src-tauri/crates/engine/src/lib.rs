//! The Gemma Desk engine: Gemma (and other GGUF models) through llama.cpp.
//!
//! It owns everything between a conversation and the tokens of a reply:
//! - [`inspect`] validates a GGUF header in Rust before llama.cpp sees the file;
//! - [`ChatTemplate`] renders a conversation with the model's own template (the built-in Gemma
//!   format, or the GGUF's Jinja template through minijinja);
//! - [`Session`] keeps one llama.cpp context and its KV cache across replies, decoding only the
//!   part of each prompt it has not seen, and streams complete UTF-8 text;
//! - [`worker::serve`] runs a session in a child process speaking newline-delimited JSON
//!   ([`Request`] in, [`Event`] out), and [`WorkerClient`] drives it from the app, restarting it
//!   when it dies. llama.cpp aborts the process on some failures; the app survives them.
//!
//! ```no_run
//! use gemma_desk_engine::{ChatMessage, LoadOptions, RenderOptions, SamplingParams, WorkerClient, WorkerCommand};
//! let mut engine = WorkerClient::new(WorkerCommand::current_exe(&["worker"])?);
//! engine.load(LoadOptions { model: "gemma-3-1b-it-Q4_K_M.gguf".into(), ..Default::default() })?;
//! let messages = [ChatMessage::user("Why is the sky blue?")];
//! let reply = engine.generate(&messages, &RenderOptions::default(), &SamplingParams::default(), |text| print!("{text}"))?;
//! eprintln!("{:?}", reply.figures);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
#![deny(missing_docs)]

pub use backend::{BACKENDS_DIR_ENV, Device, DeviceKind, device_names, devices, init_backend, run_device_probe};
pub use client::{ArmedTurn, CancelHandle, ClientError, Reply, WorkerClient, WorkerCommand, WorkerDeath};
pub use error::EngineError;
pub use failure::Failure;
pub use gguf::{GgufError, GgufInfo, inspect};
pub use media::{DEFAULT_IMAGE_TOKENS, IMAGE_TOKEN_BUDGETS, MediaRef, audio_tokens, image_target, image_tokens};
pub use model::LoadedModel;
pub use probe::probe_devices;
pub use protocol::{BenchFigures, ErrorCode, Event, LoadOptions, ModelInfo, ReplyFigures, Request, StopReason};
pub use sampling::{Sampling, SamplingParams, SamplingRangeError};
pub use session::{CACHE_CHUNK, DEFAULT_CONTEXT, ReplyEvent, ReplyState, Session};
pub use template::{ChatMessage, ChatTemplate, JinjaTemplate, RenderOptions, TemplateError};
pub use utf8::Utf8Stream;

mod backend;
mod client;
mod error;
mod failure;
mod gguf;
mod media;
mod model;
mod probe;
mod protocol;
mod sampling;
mod session;
mod template;
mod utf8;
pub mod worker;

/// Runs this process as an engine worker on stdin/stdout until stdin closes; returns the exit code.
pub fn run_worker() -> i32 {
    let backend = match init_backend() {
        Ok(backend) => backend,
        Err(error) => {
            eprintln!("gemma-desk worker: {error}");
            return 1;
        }
    };
    worker::serve(&backend, std::io::BufReader::new(std::io::stdin()), std::io::stdout());
    0
}

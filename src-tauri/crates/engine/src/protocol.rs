//! The worker protocol: newline-delimited JSON, one [`Request`] per line on the worker's stdin,
//! one [`Event`] per line on its stdout. Everything that crosses the process boundary is here.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};
use ts_rs::TS;

use crate::sampling::SamplingParams;
use crate::template::{ChatMessage, RenderOptions};

/// What the client asks of the worker.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Request {
    /// Load a model (replacing any loaded one). Answered by [`Event::Loaded`] or [`Event::Error`].
    Load(LoadOptions),
    /// Generate the assistant's reply to a conversation. Answered by [`Event::Token`]s, maybe a
    /// [`Event::Notice`], then [`Event::Done`] or [`Event::Error`].
    Generate {
        /// Chosen by the client; every event of this reply carries it.
        id: u64,
        /// The whole conversation so far, ending with the user's message.
        messages: Vec<ChatMessage>,
        /// Template switches (thinking, tools).
        #[serde(default)]
        options: RenderOptions,
        /// Sampling overrides; unset values take the model family's defaults.
        #[serde(default)]
        sampling: SamplingParams,
        /// A GBNF grammar (root rule `root`) the reply must follow; once it is complete only the
        /// end of the turn may come. How a tool call is forced (`tool_choice: "required"`). The
        /// rules `tool-call-open`, `tool-call-close` and `tool-quote` are defined by the engine
        /// (see [`crate::Session::generate`]).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        grammar: Option<String>,
    },
    /// Stop the reply `id` after the token being generated.
    Cancel {
        /// The reply to stop.
        id: u64,
    },
    /// Render a conversation to the exact prompt text, with the generation prompt appended.
    /// Answered by [`Event::Rendered`].
    Render {
        /// The conversation.
        messages: Vec<ChatMessage>,
        /// Template switches.
        #[serde(default)]
        options: RenderOptions,
    },
    /// Measure prefill and decode speed the way llama-bench does. Answered by
    /// [`Event::BenchResult`].
    Bench {
        /// Tokens in the prompt, decoded as one batch (llama-bench's pp512).
        prompt_tokens: u32,
        /// Tokens decoded one at a time (llama-bench's tg128).
        gen_tokens: u32,
    },
}

/// How to load a model.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LoadOptions {
    /// The model GGUF.
    pub model: PathBuf,
    /// The multimodal projector GGUF (vision/audio), if any.
    pub mmproj: Option<PathBuf>,
    /// Context size in tokens; the smaller of the model's and 8192 when unset.
    pub ctx: Option<u32>,
    /// CPU threads; one per physical core when unset.
    pub threads: Option<u32>,
    /// Layers to offload to the GPU; all of them when unset and a GPU backend is built in.
    pub gpu_layers: Option<u32>,
    /// Gemma 4's image-token budget, one of [`crate::IMAGE_TOKEN_BUDGETS`];
    /// [`crate::DEFAULT_IMAGE_TOKENS`] when unset. Other projectors have a fixed count.
    pub image_tokens: Option<u32>,
}

/// What the worker tells the client.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Event {
    /// The worker is up and reading requests.
    Ready {
        /// The worker's process id.
        pid: u32,
    },
    /// A model finished loading.
    Loaded(ModelInfo),
    /// The next piece of a reply: always complete UTF-8 text.
    Token {
        /// The reply.
        id: u64,
        /// The text.
        text: String,
    },
    /// Something the user should be told about a reply, such as dropped turns.
    Notice {
        /// The reply.
        id: u64,
        /// The notice, in words.
        message: String,
    },
    /// A reply ended.
    Done {
        /// The reply.
        id: u64,
        /// Its figures and why it stopped.
        figures: ReplyFigures,
    },
    /// A rendered prompt.
    Rendered {
        /// The exact text the engine would tokenize.
        text: String,
    },
    /// Benchmark figures measured inside the worker.
    BenchResult(BenchFigures),
    /// A request failed. `id` is set when it was a reply.
    Error {
        /// The reply, if the failed request was one.
        id: Option<u64>,
        /// What the client may act on.
        code: ErrorCode,
        /// The error, in words.
        message: String,
    },
}

/// The line a worker writes to stderr right before it reports an error on stdout.
pub const ERROR_MARK: &str = "\u{1}gemma-desk-worker: error";

/// Error classes the client and UI act on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    /// The model file is missing, not a GGUF, or damaged.
    InvalidModel,
    /// llama.cpp could not load the model or create its context.
    LoadFailed,
    /// A request came before any model was loaded.
    NoModel,
    /// The request itself is malformed or its values are out of range.
    BadRequest,
    /// The chat template refused the conversation.
    Template,
    /// The prompt does not fit in the context even after dropping old turns.
    PromptTooLong,
    /// llama.cpp failed while decoding.
    DecodeFailed,
    /// An attached image cannot be read, decoded or shown to this model.
    Media,
}

/// Why a reply stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum StopReason {
    /// The model ended its turn.
    EndOfTurn,
    /// The model called tools and waits for their results (Gemma 4's `<|tool_response>`).
    ToolCall,
    /// The reply reached its `max_tokens`.
    MaxTokens,
    /// The reply filled the context window.
    ContextFull,
    /// The user stopped it.
    Cancelled,
    /// The worker died before the reply finished (set by the client, never by the worker).
    Interrupted,
}

impl StopReason {
    /// The reason in words, for people.
    pub fn describe(self) -> &'static str {
        match self {
            StopReason::EndOfTurn => "the model finished its reply",
            StopReason::ToolCall => "the model called a tool and waits for its result",
            StopReason::MaxTokens => "the reply reached the maximum number of tokens",
            StopReason::ContextFull => {
                "the reply filled the whole context window; raise the context size to get longer replies"
            }
            StopReason::Cancelled => "stopped by the user",
            StopReason::Interrupted => "the engine stopped before the reply was finished",
        }
    }
}

/// The figures every reply ends with.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReplyFigures {
    /// Why the reply stopped.
    pub stop_reason: StopReason,
    /// Tokens in the rendered prompt.
    pub prompt_tokens: u32,
    /// Prompt tokens found in the KV cache and not decoded again.
    pub reused_tokens: u32,
    /// Image tokens among the prompt tokens: reused from the KV cache.
    #[serde(default)]
    pub image_tokens_reused: u32,
    /// Image tokens among the prompt tokens: encoded for this reply.
    #[serde(default)]
    pub image_tokens_encoded: u32,
    /// Oldest messages left out because the conversation outgrew the context.
    pub dropped_messages: u32,
    /// Tokens generated.
    pub generated_tokens: u32,
    /// From receiving the request to the first generated token.
    pub ttft_ms: f64,
    /// Prompt tokens decoded per second (the ones not reused).
    pub prefill_tps: f64,
    /// Generated tokens per second after the first.
    pub decode_tps: f64,
    /// The sampling settings actually used (with the seed, to reproduce the reply).
    pub sampling: crate::sampling::Sampling,
}

/// What the worker says about a loaded model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct ModelInfo {
    /// The file loaded.
    pub path: PathBuf,
    /// `general.architecture`, e.g. `gemma3`.
    pub architecture: String,
    /// `general.name`, if set.
    pub name: Option<String>,
    /// Context size in use.
    pub n_ctx: u32,
    /// Context size the model was trained for.
    pub n_ctx_train: u32,
    /// CPU threads in use.
    pub threads: u32,
    /// Layers offloaded to a GPU.
    pub gpu_layers: u32,
    /// Which chat template renders prompts: `builtin gemma` or `jinja`.
    pub template: String,
    /// The compute devices llama.cpp sees, e.g. `CPU (AVX512)`.
    pub devices: Vec<String>,
    /// A projector is loaded and accepts images.
    pub vision: bool,
    /// A projector is loaded and accepts audio.
    pub audio: bool,
    /// The chat template declares tools and writes calls in Gemma 4's native tool tokens; when
    /// false, tools follow Gemma 3's prompt convention.
    #[serde(default)]
    pub native_tool_calls: bool,
    /// Milliseconds spent loading.
    pub load_ms: f64,
    /// Set when GPU layers were asked for but the model had to be loaded on the CPU: why.
    #[serde(default)]
    pub cpu_fallback: Option<String>,
}

/// llama-bench style speed figures.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BenchFigures {
    /// Prompt tokens per second for one batch of `prompt_tokens`.
    pub prefill_tps: f64,
    /// Tokens per second for `gen_tokens` single-token steps.
    pub decode_tps: f64,
}

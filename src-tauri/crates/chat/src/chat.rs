//! One conversation turn at a time: store the question, stream the reply from the engine into
//! the store and to the caller, and record how it ended.

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use gemma_desk_engine::{
    ArmedTurn, CancelHandle, ChatMessage, ClientError, Failure, LoadOptions, MediaRef, ModelInfo, RenderOptions, Reply,
    ReplyFigures, SamplingParams, StopReason, WorkerClient, WorkerCommand, WorkerDeath, inspect,
};
use gemma_desk_store::{
    Attachment, AttachmentSource, BranchMessage, ConversationId, Message, MessageId, MessageStatus, NewAttachment,
    ReplyRecorder, ReplyStats, Role, Store, StoredToolCall, ToolOutcome, ToolPart, ToolResult,
};
use gemma_desk_tools::{ToolSyntax, gemma3_calls, gemma3_outputs, gemma3_tool_prompt};
use serde::{Deserialize, Serialize};
use ts_rs::TS;

use crate::error::ChatError;
use crate::now;
use crate::tools::{
    ConversationPermissions, MAX_TOOL_CALLS, MAX_TOOL_REPLIES, Tool, ToolChoice, ToolDecision, ToolSettings, refusal,
    stored_calls,
};
use crate::transcribe::{Transcriber, TranscriptionStop, with_transcript};

/// Longest message a user may send, in characters.
pub const MAX_TEXT_CHARS: usize = 100_000;
/// The most images one message may carry.
pub const MAX_IMAGES: usize = 10;
/// The most sound clips one message may carry (each up to [`gemma_desk_voice::MAX_CLIP`]).
pub const MAX_CLIPS: usize = 4;

/// An image or sound clip attached to a question, checked: it decoded whole, so it is stored as
/// it is and the engine is not the first to find it broken. Made by [`check_image`] and
/// [`check_clip`] and [`clip_attachment`] alone.
#[derive(Debug, Clone)]
pub struct CheckedAttachment {
    bytes: Arc<[u8]>,
    info: NewAttachment,
}

impl CheckedAttachment {
    /// What the store records about it: its type, size in pixels or length, and name.
    pub fn info(&self) -> &NewAttachment {
        &self.info
    }

    /// The file as it will be stored (a clip as the 16 kHz WAV the model hears).
    pub fn bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// Whether it is a sound clip (else an image).
    pub fn is_clip(&self) -> bool {
        self.info.is_clip()
    }
}

/// Decodes the dropped, picked or pasted file `bytes` (named `name`; none for a pasted image)
/// whole, within the default limits: the image to attach, and its pixels (for a thumbnail). A
/// broken or oversized file is refused with a message naming it. A 12 MP photo takes a tenth of
/// a second or more: call it off the async threads.
pub fn check_image(
    name: Option<String>,
    bytes: Vec<u8>,
) -> Result<(CheckedAttachment, gemma_desk_media::Decoded), gemma_desk_media::MediaError> {
    let decoded = gemma_desk_media::decode_bytes(name.as_deref(), &bytes, &gemma_desk_media::Limits::default())?;
    let info = NewAttachment {
        media_type: decoded.format.media_type().to_owned(),
        width: Some(i64::from(decoded.width)),
        height: Some(i64::from(decoded.height)),
        duration_ms: None,
        name,
    };
    Ok((CheckedAttachment { bytes: Arc::from(bytes), info }, decoded))
}

/// Decodes a sound file (WAV, FLAC or MP3 at any rate, or a recording) whole: the clip to attach,
/// kept as the 16 kHz mono WAV the model hears (so what is stored, played back and exported is
/// what the model was given), and its samples. A broken, empty or too long file is refused with
/// a message naming it. Call it off the async threads.
pub fn check_clip(
    name: Option<String>,
    bytes: Vec<u8>,
) -> Result<(CheckedAttachment, gemma_desk_voice::Clip), gemma_desk_voice::ClipError> {
    let clip = gemma_desk_voice::Clip::from_bytes(bytes, name.as_deref().unwrap_or("the recording"))?;
    Ok((clip_attachment(&clip, name)?, clip))
}

/// A clip recorded from the microphone (or decoded by [`check_clip`]) as the WAV attachment the
/// model hears.
pub fn clip_attachment(
    clip: &gemma_desk_voice::Clip,
    name: Option<String>,
) -> Result<CheckedAttachment, gemma_desk_voice::ClipError> {
    let info = NewAttachment {
        media_type: "audio/wav".to_owned(),
        width: None,
        height: None,
        duration_ms: Some(i64::try_from(clip.duration().as_millis()).unwrap_or(i64::MAX)),
        name,
    };
    Ok(CheckedAttachment { bytes: Arc::from(clip.to_wav()?), info })
}

/// A model file and, optionally, the projector that gives it eyes or ears.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(deny_unknown_fields)]
pub struct ModelChoice {
    /// The model GGUF.
    pub model: PathBuf,
    /// Its multimodal projector GGUF.
    #[serde(default)]
    pub mmproj: Option<PathBuf>,
}

impl ModelChoice {
    /// The model as conversations name it: its file name.
    pub fn name(&self) -> String {
        let path = &self.model;
        path.file_name().map_or_else(|| path.display().to_string(), |name| name.to_string_lossy().into_owned())
    }
}

/// Where the engine is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum EngineState {
    /// No model chosen yet.
    None,
    /// A model is loading.
    Loading,
    /// A model is loaded (its worker may still be restarted on the next reply).
    Ready,
    /// The last load failed; `error` says why.
    Failed,
}

/// The engine's state as the UI shows it.
#[derive(Debug, Clone, PartialEq, Serialize, TS)]
pub struct EngineStatus {
    /// Where it is.
    pub state: EngineState,
    /// The model chosen.
    pub choice: Option<ModelChoice>,
    /// The loaded model.
    pub info: Option<ModelInfo>,
    /// Why the last load failed.
    pub error: Option<String>,
    /// What llama.cpp said went wrong in the last load, when it said.
    pub failure: Option<Failure>,
}

/// What the caller hears while a reply is made, in this order: maybe `Transcribing`, `Started`,
/// maybe `Loading`, `Token`s (and `Notice`s), then `Finished`. A reply that calls tools ends
/// with `ToolCalls` instead; each call then has maybe `ConfirmTool` and its `ToolResult`, and
/// the next reply begins with `Continued`.
#[derive(Debug, Clone, PartialEq, Serialize, TS)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum ChatEvent {
    /// The question's clips are being written down by another model, which hears, for the
    /// loaded one, which does not (nothing is stored yet).
    Transcribing {
        /// The model transcribing.
        model: String,
    },
    /// The question is stored and the reply's row exists.
    Started {
        /// The stored user message (`None` when regenerating).
        user: Option<Message>,
        /// The images and sound clips stored with the user message.
        user_attachments: Vec<Attachment>,
        /// The reply, status `streaming`.
        reply: Message,
    },
    /// The engine has to start and load the model first.
    Loading,
    /// The next piece of the reply.
    Token {
        /// Complete UTF-8 text.
        text: String,
    },
    /// Something to tell the user about the reply.
    Notice {
        /// In words.
        message: String,
    },
    /// The reply ended with tool calls, stored with it (its text is the text around them); their
    /// results and another reply follow.
    ToolCalls {
        /// The stored reply.
        reply: Message,
    },
    /// A call waits for the user's word: answer it with [`Chat::answer_tool_call`].
    ConfirmTool {
        /// The call.
        call: StoredToolCall,
        /// The call runs on a file the user picks (given with the answer); asked every time.
        picks_file: bool,
    },
    /// The result of a call, stored as a tool message after it.
    ToolResult {
        /// The tool message.
        message: Message,
    },
    /// The model replies again, after the results: the new reply's row, status `streaming`.
    Continued {
        /// The reply.
        reply: Message,
    },
    /// The turn ended; `reply` has its final status, text and figures.
    Finished {
        /// The stored reply.
        reply: Message,
        /// Why the engine died, when it did (the text so far is kept; the next reply starts a
        /// fresh engine).
        engine_died: Option<String>,
        /// Why the engine stopped the reply (`None` when it failed before generating).
        stop_reason: Option<StopReason>,
        /// What llama.cpp said went wrong, when the reply failed or the engine died.
        failure: Option<Failure>,
    },
}

/// How the engine is run, from the settings.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct EngineTuning {
    /// Context size in tokens.
    pub context_size: Option<u32>,
    /// CPU threads.
    pub threads: Option<u32>,
    /// GPU layers.
    pub gpu_layers: Option<u32>,
    /// Gemma 4's image-token budget.
    pub image_tokens: Option<u32>,
}

/// Stops what a [`Chat`] is doing for the turn in progress (see [`Chat::stop`]).
#[derive(Clone)]
pub struct StopHandle {
    reply: CancelHandle,
    transcription: Arc<TranscriptionStop>,
}

impl StopHandle {
    /// Stops the turn's transcription, if one runs, and its reply.
    pub fn stop(&self) {
        self.transcription.stop();
        self.reply.cancel();
    }
}

/// Conversations with the engine: one reply (or model load) at a time.
pub struct Chat {
    store: Store,
    engine: Arc<Mutex<WorkerClient>>,
    cancel: CancelHandle,
    /// How workers start: the engine's, and a transcribing model's.
    worker: WorkerCommand,
    transcription: Arc<TranscriptionStop>,
    status: Mutex<EngineStatus>,
    /// The engine worker's process id as last seen (the engine is locked while it replies).
    worker_pid: AtomicU32,
    /// Held by the reply or load in progress.
    turn: tokio::sync::Mutex<()>,
    tools: Mutex<ToolSettings>,
    /// The next turn's first reply must call a tool (see [`Chat::require_tool_call`]).
    require_next_call: AtomicBool,
    allowed_here: Mutex<ConversationPermissions>,
    /// The call waiting for the user's word.
    confirmation: Mutex<Option<Confirmation>>,
}

impl Chat {
    /// A chat over `store` whose engine workers are started with `worker`; nothing starts yet.
    pub fn new(store: Store, worker: WorkerCommand) -> Chat {
        let engine = WorkerClient::new(worker.clone());
        let cancel = engine.cancel_handle();
        Chat {
            store,
            engine: Arc::new(Mutex::new(engine)),
            cancel,
            worker,
            transcription: Arc::default(),
            status: Mutex::new(EngineStatus {
                state: EngineState::None,
                choice: None,
                info: None,
                error: None,
                failure: None,
            }),
            worker_pid: AtomicU32::new(0),
            turn: tokio::sync::Mutex::new(()),
            tools: Mutex::default(),
            require_next_call: AtomicBool::new(false),
            allowed_here: Mutex::default(),
            confirmation: Mutex::default(),
        }
    }

    /// The conversation store.
    pub fn store(&self) -> &Store {
        &self.store
    }

    /// Where the engine is.
    pub fn engine_status(&self) -> EngineStatus {
        self.status.lock().unwrap_or_else(PoisonError::into_inner).clone()
    }

    /// Checks and loads a model (replacing the loaded one). The files are validated before the
    /// engine sees them, so a damaged file is a clear error rather than a crashed worker.
    pub async fn load_model(&self, choice: &ModelChoice, tuning: EngineTuning) -> Result<ModelInfo, ChatError> {
        let _turn = self.turn.try_lock().map_err(|_| ChatError::Busy)?;
        self.check_model(choice)?;
        self.set_status(EngineState::Loading, Some(choice.clone()), None);
        let options = LoadOptions {
            model: choice.model.clone(),
            mmproj: choice.mmproj.clone(),
            ctx: tuning.context_size,
            threads: tuning.threads,
            gpu_layers: tuning.gpu_layers,
            image_tokens: tuning.image_tokens,
        };
        let engine = self.engine.clone();
        let loaded = tokio::task::spawn_blocking(move || {
            let mut engine = lock(&engine);
            let loaded = engine.load(options);
            (loaded, engine.worker_pid())
        })
        .await
        .unwrap_or_else(|panic| std::panic::resume_unwind(panic.into_panic()));
        let (loaded, pid) = loaded;
        self.worker_pid.store(pid.unwrap_or(0), Ordering::Relaxed);
        match loaded {
            Ok(info) => {
                self.set_status(EngineState::Ready, Some(choice.clone()), Some(info.clone()));
                Ok(info)
            }
            Err(error) => {
                let failure = error.failure();
                let message = match failure {
                    Some(failure) => format!("the model could not be loaded: {}: {error}", failure.advice()),
                    None => format!("the model could not be loaded: {error}"),
                };
                self.set_failed(choice, &message, failure);
                Err(ChatError::Engine { message, failure })
            }
        }
    }

    /// Checks the model's (and projector's) GGUF headers without loading them; a damaged file
    /// marks the engine failed with the reason.
    pub fn check_model(&self, choice: &ModelChoice) -> Result<(), ChatError> {
        for path in std::iter::once(&choice.model).chain(&choice.mmproj) {
            if let Err(error) = inspect(path) {
                self.set_failed(choice, &error.to_string(), None);
                return Err(ChatError::BadInput(error.to_string()));
            }
        }
        Ok(())
    }

    /// Shows the engine as loading `choice` before a load that starts in the background, so
    /// that nobody sees it idle in between.
    pub fn announce_load(&self, choice: &ModelChoice) {
        self.set_status(EngineState::Loading, Some(choice.clone()), None);
    }

    /// Sends `text` as the user's next message in `conversation` and streams the reply.
    pub async fn send(
        &self,
        conversation: ConversationId,
        text: &str,
        sampling: &SamplingParams,
        sink: impl FnMut(ChatEvent),
    ) -> Result<Message, ChatError> {
        self.send_with_attachments(conversation, text, Vec::new(), sampling, sink).await
    }

    /// Sends `text` with `attachments` (images and sound clips, given to the model before the
    /// text). The model must be able to see images and hear clips, or nothing is stored; the
    /// question and its attachments are stored together or not at all.
    pub async fn send_with_attachments(
        &self,
        conversation: ConversationId,
        text: &str,
        attachments: Vec<CheckedAttachment>,
        sampling: &SamplingParams,
        sink: impl FnMut(ChatEvent),
    ) -> Result<Message, ChatError> {
        let (images, clips) = check_counts(text, &attachments)?;
        let _turn = self.begin_turn().await?;
        self.check_can_take(images > 0, clips > 0)?;
        self.ask(conversation, text, &attachments, sampling, sink).await
    }

    /// Sends `text` with `attachments` like [`Chat::send_with_attachments`], but to a loaded
    /// model that may not hear: then `transcriber` writes down what the clips say first, loaded
    /// in a worker of its own when `available_memory` (bytes free now) can hold it and stopped
    /// after, and the question is stored with the transcript after `text`, without the clips.
    /// [`Chat::stop`] stops the transcription too (`Cancelled`; nothing is stored).
    #[allow(clippy::too_many_arguments)] // send_with_attachments' own, the transcriber and its memory
    pub async fn send_transcribed(
        &self,
        conversation: ConversationId,
        text: &str,
        attachments: Vec<CheckedAttachment>,
        transcriber: &Transcriber,
        available_memory: u64,
        sampling: &SamplingParams,
        mut sink: impl FnMut(ChatEvent),
    ) -> Result<Message, ChatError> {
        let (images, clips) = check_counts(text, &attachments)?;
        let _turn = self.begin_turn().await?;
        if clips == 0 || self.check_can_take(false, true).is_ok() {
            self.check_can_take(images > 0, clips > 0)?;
            return self.ask(conversation, text, &attachments, sampling, sink).await;
        }
        self.check_can_take(images > 0, false)?;
        self.store.conversation(conversation).await?;
        transcriber.check_memory(available_memory)?;
        let engine = WorkerClient::new(self.worker.clone());
        let running = self.transcription.running(engine.cancel_handle());
        sink(ChatEvent::Transcribing { model: transcriber.name().to_owned() });
        let (heard, others): (Vec<_>, Vec<_>) = attachments.into_iter().partition(CheckedAttachment::is_clip);
        let transcriber = transcriber.clone();
        let transcript = tokio::task::spawn_blocking(move || {
            let _running = running;
            transcriber.transcribe(engine, &heard)
        })
        .await
        .unwrap_or_else(|panic| std::panic::resume_unwind(panic.into_panic()))?;
        let text = with_transcript(text, &transcript);
        check_text(&text)?;
        self.ask(conversation, &text, &others, sampling, sink).await
    }

    /// Stores the question and its attachments in one transaction, then streams the reply.
    async fn ask(
        &self,
        conversation: ConversationId,
        text: &str,
        attachments: &[CheckedAttachment],
        sampling: &SamplingParams,
        sink: impl FnMut(ChatEvent),
    ) -> Result<Message, ChatError> {
        let leaf = self.store.conversation(conversation).await?.current_leaf_id;
        let sources: Vec<AttachmentSource<'_>> =
            attachments.iter().map(|attachment| AttachmentSource::Bytes(&attachment.bytes, &attachment.info)).collect();
        let (user, _) = self.store.add_question(conversation, leaf, text, &sources, now()).await?;
        self.reply_after(user.clone(), Some(user), sampling, sink).await
    }

    /// Refuses to record a question when the loaded model cannot hear it: said before the user
    /// speaks, not after. While a model with a projector is still loading it may hear: the
    /// question's send checks again once it has loaded.
    pub fn check_can_hear(&self) -> Result<(), ChatError> {
        let status = self.engine_status();
        if status.state == EngineState::Loading && status.choice.is_some_and(|choice| choice.mmproj.is_some()) {
            return Ok(());
        }
        self.check_can_take(false, true)
    }

    /// Refuses images when the loaded model has no eyes, and clips when it has no ears, before
    /// anything is stored.
    fn check_can_take(&self, images: bool, clips: bool) -> Result<(), ChatError> {
        let status = self.engine_status();
        let name = || status.choice.as_ref().map_or_else(|| "the loaded model".to_owned(), ModelChoice::name);
        let info = status.info.as_ref();
        if images && !info.is_some_and(|info| info.vision) {
            return Err(ChatError::CannotSee(format!(
                "{} cannot see images{}: switch to a vision model (Gemma 3 4B or larger, or Gemma 4) with its \
                 projector, or send the message without the images",
                name(),
                if info.is_some() { " (it was loaded without a vision projector, mmproj)" } else { "" }
            )));
        }
        if clips && !info.is_some_and(|info| info.audio) {
            return Err(ChatError::CannotHear(format!(
                "{} cannot hear sound{}: switch to Gemma 4 E2B or E4B with its projector, or send the message \
                 without the clip",
                name(),
                if info.is_some_and(|info| info.vision) {
                    " (its projector has no audio encoder)"
                } else if info.is_some() {
                    " (it was loaded without a projector, mmproj)"
                } else {
                    ""
                }
            )));
        }
        Ok(())
    }

    /// Writes another reply in place of the assistant message `reply` (a new sibling: the old
    /// one stays reachable as a branch).
    pub async fn regenerate(
        &self,
        reply: MessageId,
        sampling: &SamplingParams,
        sink: impl FnMut(ChatEvent),
    ) -> Result<Message, ChatError> {
        let _turn = self.begin_turn().await?;
        let old = self.store.message(reply).await?;
        if old.role != Role::Assistant {
            return Err(ChatError::BadInput(format!(
                "message {reply} is not a reply; only replies can be regenerated"
            )));
        }
        let parent = old.parent_id.ok_or_else(|| ChatError::BadInput(format!("reply {reply} has no question")))?;
        let question = self.store.message(parent).await?;
        self.reply_after(question, None, sampling, sink).await
    }

    /// Replaces the user message `message` with `text` (a new sibling branch, with the same
    /// attachments) and streams the reply to it.
    pub async fn edit(
        &self,
        message: MessageId,
        text: &str,
        sampling: &SamplingParams,
        sink: impl FnMut(ChatEvent),
    ) -> Result<Message, ChatError> {
        let _turn = self.begin_turn().await?;
        let old = self.store.message(message).await?;
        if old.role != Role::User {
            return Err(ChatError::BadInput(format!(
                "message {message} is not yours; only your messages can be edited"
            )));
        }
        let attachments = self.store.attachments(message).await?;
        let has_images = attachments.iter().any(Attachment::is_image);
        let has_clips = attachments.iter().any(Attachment::is_clip);
        if !(has_images || has_clips) || !text.trim().is_empty() {
            check_text(text)?;
        }
        self.check_can_take(has_images, has_clips)?;
        let sources: Vec<AttachmentSource<'_>> = attachments.iter().map(AttachmentSource::Stored).collect();
        let (user, _) = self.store.add_question(old.conversation_id, old.parent_id, text, &sources, now()).await?;
        self.reply_after(user.clone(), Some(user), sampling, sink).await
    }

    /// The engine worker's process id, when one runs.
    pub fn engine_pid(&self) -> Option<u32> {
        Some(self.worker_pid.load(Ordering::Relaxed)).filter(|&pid| pid != 0)
    }

    /// Stops the reply in progress after the token being generated, or the transcription of its
    /// clips; nothing when none runs.
    pub fn stop(&self) {
        self.stop_handle().stop();
        // A call waiting for the user's word is not run: the turn ends there.
        lock(&self.confirmation).take();
    }

    /// Which tools the next turns may call and which run without asking.
    pub fn set_tools(&self, settings: ToolSettings) {
        *lock(&self.tools) = settings;
    }

    /// The tool settings in force (a call the user always allows adds its tool).
    pub fn tool_settings(&self) -> ToolSettings {
        lock(&self.tools).clone()
    }

    /// Makes the next turn's first reply call a tool (`tool_choice: "required"` for one send),
    /// while the guard lives: dropped, a turn that did not begin (refused, say) leaves nothing
    /// behind for the one after.
    pub fn require_tool_call(&self) -> RequiredToolCall<'_> {
        self.require_next_call.store(true, Ordering::Relaxed);
        RequiredToolCall(&self.require_next_call)
    }

    /// Answers the call `call_id` that waits for the user ([`ChatEvent::ConfirmTool`]) and
    /// returns the name of its tool. A call that picks a file runs on `file`, which the user
    /// chose; without one it is declined.
    pub fn answer_tool_call(
        &self,
        call_id: &str,
        decision: ToolDecision,
        file: Option<PathBuf>,
    ) -> Result<String, ChatError> {
        let mut waiting = lock(&self.confirmation);
        match waiting.take() {
            Some(Confirmation { call_id: id, tool, answer }) if id == call_id => {
                // A turn stopped meanwhile no longer listens; the answer goes nowhere.
                let _ = answer.send((decision, file));
                Ok(tool)
            }
            other => {
                *waiting = other;
                Err(ChatError::NotFound(format!("no tool call {call_id} is waiting for an answer")))
            }
        }
    }

    /// Whether the call `call_id` waits for the user and runs on a file the user picks.
    pub fn waiting_call_picks_file(&self, call_id: &str) -> bool {
        lock(&self.confirmation).as_ref().is_some_and(|waiting| {
            waiting.call_id == call_id && Tool::named(&waiting.tool).is_some_and(Tool::picks_file)
        })
    }

    /// A handle that does [`Chat::stop`] from anywhere (a Ctrl-C handler).
    pub fn stop_handle(&self) -> StopHandle {
        StopHandle { reply: self.cancel.clone(), transcription: Arc::clone(&self.transcription) }
    }

    /// Takes the turn: waits for a model that is loading (a message typed while the app starts
    /// is answered when the model is ready), refuses while another reply runs.
    /// From here on, [`Chat::stop`] stops this turn's reply, even before the reply has begun.
    async fn begin_turn(&self) -> Result<Turn<'_>, ChatError> {
        let turn = match self.turn.try_lock() {
            Ok(guard) => Turn { _guard: guard, _armed: self.cancel.arm() },
            Err(_) if self.engine_status().state == EngineState::Loading => {
                let armed = self.cancel.arm();
                Turn { _guard: self.turn.lock().await, _armed: armed }
            }
            Err(_) => return Err(ChatError::Busy),
        };
        if lock(&self.engine).model().is_none() {
            return Err(ChatError::NoModel);
        }
        Ok(turn)
    }

    /// Streams a reply to `question` (already stored), recording it as it comes; while the
    /// replies call tools (at most [`MAX_TOOL_REPLIES`] of them, [`MAX_TOOL_CALLS`] calls in
    /// all), runs each call the user lets run, stores its result and replies again.
    async fn reply_after(
        &self,
        question: Message,
        new_user: Option<Message>,
        sampling: &SamplingParams,
        mut sink: impl FnMut(ChatEvent),
    ) -> Result<Message, ChatError> {
        let conversation = question.conversation_id;
        let mut tools = self.turn_tools();
        let mut replied = self.reply_once(question, Some(new_user), sampling, tools.as_ref(), &mut sink).await?;
        let (mut calls_made, mut replies_with_calls) = (0, 0);
        loop {
            let (reply, calls, reasons) = match replied {
                Replied::Final(reply) => return Ok(reply),
                Replied::Calls { reply, calls, reasons } => (reply, calls, reasons),
            };
            replies_with_calls += 1;
            let mut parent = reply.clone();
            for (call, reason) in calls.iter().zip(&reasons) {
                let (outcome, content) = match refusal(call, reason.as_deref(), calls_made) {
                    Some(refused) => refused,
                    None => {
                        calls_made += 1;
                        match self.permit(conversation, call, &mut sink).await {
                            Some(Permit::Run(file)) => self.run_call(conversation, call, file.as_deref()).await,
                            Some(Permit::Decline) => (ToolOutcome::Declined, "the user declined this call".to_owned()),
                            None => {
                                let result = self
                                    .tool_result(
                                        conversation,
                                        &parent,
                                        call,
                                        ToolOutcome::Declined,
                                        "the user stopped the turn before this call ran",
                                    )
                                    .await?;
                                sink(ChatEvent::ToolResult { message: result });
                                sink(ChatEvent::Finished {
                                    reply: reply.clone(),
                                    engine_died: None,
                                    stop_reason: Some(StopReason::Cancelled),
                                    failure: None,
                                });
                                return Ok(reply);
                            }
                        }
                    }
                };
                parent = self.tool_result(conversation, &parent, call, outcome, &content).await?;
                sink(ChatEvent::ToolResult { message: parent.clone() });
            }
            match &mut tools {
                // The model has had its calls: it answers with what it has.
                Some(_) if replies_with_calls >= MAX_TOOL_REPLIES || calls_made >= MAX_TOOL_CALLS => tools = None,
                // A call is required of the turn's first reply only.
                Some(tools) => tools.grammar = None,
                None => {}
            }
            replied = self.reply_once(parent, None, sampling, tools.as_ref(), &mut sink).await?;
        }
    }

    /// The tools this turn's replies may call, as the loaded model writes calls.
    fn turn_tools(&self) -> Option<TurnTools> {
        let settings = self.tool_settings();
        let required_now = self.require_next_call.swap(false, Ordering::Relaxed);
        if !settings.enabled {
            return None;
        }
        let syntax = self.tool_syntax();
        let declarations = Tool::declarations();
        let forced: Vec<serde_json::Value> = match &settings.choice {
            ToolChoice::Auto if !required_now => Vec::new(),
            ToolChoice::Auto | ToolChoice::Required => declarations.clone(),
            ToolChoice::Tool(name) => {
                declarations.iter().filter(|tool| tool["function"]["name"] == name.as_str()).cloned().collect()
            }
        };
        let grammar = (!forced.is_empty()).then(|| syntax.forced_call_grammar(&forced));
        Some(TurnTools { syntax, declarations, grammar })
    }

    fn tool_syntax(&self) -> ToolSyntax {
        let native = self.engine_status().info.is_some_and(|info| info.native_tool_calls);
        if native { ToolSyntax::Gemma4 } else { ToolSyntax::Gemma3 }
    }

    /// Whether `call` may run: at once when its tool is allowed, else once the user says so;
    /// `None` when the turn was stopped while it waited. A tool that picks a file always asks,
    /// and is declined without one.
    async fn permit(
        &self,
        conversation: ConversationId,
        call: &StoredToolCall,
        sink: &mut impl FnMut(ChatEvent),
    ) -> Option<Permit> {
        let picks_file = Tool::named(&call.name).is_some_and(Tool::picks_file);
        let allowed = || {
            lock(&self.tools).always_allowed.contains(&call.name)
                || lock(&self.allowed_here).allows(conversation, &call.name)
        };
        if !picks_file && allowed() {
            return Some(Permit::Run(None));
        }
        let (answer, answered) = tokio::sync::oneshot::channel();
        *lock(&self.confirmation) = Some(Confirmation { call_id: call.id.clone(), tool: call.name.clone(), answer });
        sink(ChatEvent::ConfirmTool { call: call.clone(), picks_file });
        let (decision, file) = answered.await.ok()?;
        match decision {
            ToolDecision::Decline => return Some(Permit::Decline),
            ToolDecision::Run => {}
            ToolDecision::AllowInConversation => lock(&self.allowed_here).allow(conversation, &call.name),
            ToolDecision::AlwaysAllow => {
                lock(&self.tools).always_allowed.insert(call.name.clone());
            }
        }
        match (picks_file, file) {
            (true, None) => Some(Permit::Decline),
            (true, file) => Some(Permit::Run(file)),
            (false, _) => Some(Permit::Run(None)),
        }
    }

    async fn run_call(
        &self,
        conversation: ConversationId,
        call: &StoredToolCall,
        file: Option<&std::path::Path>,
    ) -> (ToolOutcome, String) {
        let tool = Tool::named(&call.name).expect("refusal() answers calls of unknown tools");
        match tool.run(&self.store, conversation, &call.arguments, file).await {
            Ok(answer) => (ToolOutcome::Answered, answer),
            Err(error) => (ToolOutcome::Failed, format!("error: {error}")),
        }
    }

    async fn tool_result(
        &self,
        conversation: ConversationId,
        after: &Message,
        call: &StoredToolCall,
        outcome: ToolOutcome,
        content: &str,
    ) -> Result<Message, ChatError> {
        let result = ToolResult { call_id: call.id.clone(), name: call.name.clone(), outcome };
        Ok(self.store.add_tool_result(conversation, after.id, &result, content, now()).await?)
    }

    /// Streams one reply after `parent` (a question, or a tool's result), recording it as it
    /// comes. `first` is the turn's first reply: `Some` with the new user message (none when
    /// regenerating); later replies begin with [`ChatEvent::Continued`]. With `tools`, a reply
    /// that calls them is stored with its calls and comes back as [`Replied::Calls`].
    async fn reply_once(
        &self,
        question: Message,
        first: Option<Option<Message>>,
        sampling: &SamplingParams,
        tools: Option<&TurnTools>,
        sink: &mut impl FnMut(ChatEvent),
    ) -> Result<Replied, ChatError> {
        let conversation = self.store.conversation(question.conversation_id).await?;
        let model_name = self.engine_status().choice.map(|choice| choice.name());
        let mut recorder =
            ReplyRecorder::begin(&self.store, conversation.id, question.id, model_name.as_deref(), now()).await?;
        let branch = self.store.current_branch(conversation.id).await?;
        let history: Vec<&BranchMessage> =
            branch.iter().filter(|entry| entry.message.id != recorder.message_id()).collect();
        let last_question = history.iter().rev().find(|entry| entry.message.role == Role::User);
        let mut render = render_options(last_question.map_or(&[][..], |question| question.attachments.as_slice()));
        let syntax = self.tool_syntax();
        let mut system = conversation.settings.system_prompt.clone().filter(|s| !s.trim().is_empty());
        match tools {
            Some(tools) if syntax == ToolSyntax::Gemma4 => render.tools = Some(tools.declarations.clone()),
            Some(tools) => {
                let prompt = gemma3_tool_prompt(&tools.declarations);
                system = Some(match system {
                    Some(system) => format!("{system}\n\n{prompt}"),
                    None => prompt,
                });
            }
            None => {}
        }
        let prompt = prompt_messages(system.as_deref(), history, syntax, |sha256| self.store.attachment_path(sha256));
        let reply = self.store.message(recorder.message_id()).await?;
        match first {
            Some(new_user) => {
                let user_attachments = match &new_user {
                    Some(user) => self.store.attachments(user.id).await?,
                    None => Vec::new(),
                };
                sink(ChatEvent::Started { user: new_user, user_attachments, reply });
            }
            None => sink(ChatEvent::Continued { reply }),
        }

        let engine = self.engine.clone();
        let pid = lock(&engine).worker_pid();
        self.worker_pid.store(pid.unwrap_or(0), Ordering::Relaxed);
        if pid.is_none() {
            sink(ChatEvent::Loading);
        }
        let (pieces, mut received) = tokio::sync::mpsc::unbounded_channel::<String>();
        let sampling = sampling.clone();
        let grammar = tools.and_then(|tools| tools.grammar.clone());
        let generation = tokio::task::spawn_blocking(move || {
            let mut engine = lock(&engine);
            let generated = engine.generate_constrained(&prompt, &render, &sampling, grammar.as_deref(), |text| {
                let _ = pieces.send(text.to_owned());
            });
            (generated, engine.worker_pid())
        });
        let mut save_error = None;
        while let Some(text) = received.recv().await {
            // Shown first, then saved: what is stored is never ahead of what the user saw.
            sink(ChatEvent::Token { text: text.clone() });
            if let Err(error) = recorder.push(&text, now()).await {
                save_error.get_or_insert(error);
            }
        }
        let (generated, pid): (Result<Reply, ClientError>, _) =
            generation.await.unwrap_or_else(|panic| std::panic::resume_unwind(panic.into_panic()));
        self.worker_pid.store(pid.unwrap_or(0), Ordering::Relaxed);

        let (status, error, stats, engine_died) = match &generated {
            Ok(reply) => {
                for notice in &reply.notices {
                    sink(ChatEvent::Notice { message: notice.clone() });
                }
                let died = reply.worker_death.as_ref().map(ToString::to_string);
                (reply_status(reply.stop_reason), None, reply_stats(reply.figures.as_ref()), died)
            }
            Err(error) => (MessageStatus::Error, Some(error.to_string()), ReplyStats::default(), None),
        };
        let stop_reason = generated.as_ref().ok().map(|reply| reply.stop_reason);
        let failure = match &generated {
            Ok(reply) => reply.worker_death.as_ref().and_then(WorkerDeath::failure),
            Err(error) => error.failure(),
        };
        let id = recorder.message_id();
        let parsed = tools
            .filter(|_| status == MessageStatus::Done && save_error.is_none())
            .map(|tools| tools.syntax.parse(recorder.text()))
            .filter(|parsed| !parsed.calls.is_empty());
        if let Some(parsed) = parsed {
            let first_call = self.calls_in_turn(conversation.id, id).await? + 1;
            let (calls, reasons) = stored_calls(parsed.calls, first_call);
            let reply = recorder.finish_with_calls(parsed.text.trim(), &calls, &stats, now()).await?;
            sink(ChatEvent::ToolCalls { reply: reply.clone() });
            return Ok(Replied::Calls { reply, calls, reasons });
        }
        recorder.finish(status, error.as_deref(), &stats, now()).await?;
        if let Some(error) = save_error {
            return Err(ChatError::Store(error));
        }
        let reply = self.store.message(id).await?;
        sink(ChatEvent::Finished { reply: reply.clone(), engine_died, stop_reason, failure });
        Ok(Replied::Final(reply))
    }

    /// How many calls the replies before `reply` in its turn (since the last user message) made.
    async fn calls_in_turn(&self, conversation: ConversationId, reply: MessageId) -> Result<usize, ChatError> {
        let branch = self.store.current_branch(conversation).await?;
        let before = branch.iter().take_while(|entry| entry.message.id != reply);
        let turn: Vec<&BranchMessage> = before.collect();
        let start = turn.iter().rposition(|entry| entry.message.role == Role::User).map_or(0, |at| at + 1);
        Ok(turn[start..]
            .iter()
            .map(|entry| match &entry.message.tool {
                Some(ToolPart::Calls { calls }) => calls.len(),
                _ => 0,
            })
            .sum())
    }

    fn set_status(&self, state: EngineState, choice: Option<ModelChoice>, info: Option<ModelInfo>) {
        *self.status.lock().unwrap_or_else(PoisonError::into_inner) =
            EngineStatus { state, choice, info, error: None, failure: None };
    }

    fn set_failed(&self, choice: &ModelChoice, error: &str, failure: Option<Failure>) {
        *self.status.lock().unwrap_or_else(PoisonError::into_inner) = EngineStatus {
            state: EngineState::Failed,
            choice: Some(choice.clone()),
            info: None,
            error: Some(error.to_owned()),
            failure,
        };
    }
}

/// The tools a turn's replies are offered, and how the model writes calls.
struct TurnTools {
    syntax: ToolSyntax,
    declarations: Vec<serde_json::Value>,
    /// Makes the reply a call (the turn's first reply, when a call is required).
    grammar: Option<String>,
}

/// A call waiting for the user's word, and where the word (and the file picked) goes.
struct Confirmation {
    call_id: String,
    tool: String,
    answer: tokio::sync::oneshot::Sender<(ToolDecision, Option<PathBuf>)>,
}

/// What the user's word lets a call do.
enum Permit {
    /// Run, on the file picked when the tool needs one.
    Run(Option<PathBuf>),
    Decline,
}

/// How one reply of a turn ended.
enum Replied {
    /// Without tool calls: the turn is over.
    Final(Message),
    /// With calls (stored with the reply); `reasons` says, for each, why it is malformed.
    Calls { reply: Message, calls: Vec<StoredToolCall>, reasons: Vec<Option<String>> },
}

/// Keeps [`Chat::require_tool_call`]'s request for the next turn until dropped.
pub struct RequiredToolCall<'a>(&'a AtomicBool);

impl Drop for RequiredToolCall<'_> {
    fn drop(&mut self) {
        self.0.store(false, Ordering::Relaxed);
    }
}

/// A reply's turn: the chat's one turn, armed for stops, until dropped.
struct Turn<'a> {
    _guard: tokio::sync::MutexGuard<'a, ()>,
    _armed: ArmedTurn,
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Checks a question's text and how many images and clips it carries: (images, clips).
fn check_counts(text: &str, attachments: &[CheckedAttachment]) -> Result<(usize, usize), ChatError> {
    // A message may be attachments alone: "what is this?" goes without saying.
    if attachments.is_empty() || !text.trim().is_empty() {
        check_text(text)?;
    }
    let clips = attachments.iter().filter(|attachment| attachment.is_clip()).count();
    let images = attachments.len() - clips;
    if images > MAX_IMAGES {
        return Err(ChatError::BadInput(format!(
            "{images} images are attached; one message may carry at most {MAX_IMAGES}"
        )));
    }
    if clips > MAX_CLIPS {
        return Err(ChatError::BadInput(format!(
            "{clips} sound clips are attached; one message may carry at most {MAX_CLIPS}"
        )));
    }
    Ok((images, clips))
}

fn check_text(text: &str) -> Result<(), ChatError> {
    if text.trim().is_empty() {
        return Err(ChatError::BadInput("the message is empty; type something to ask".into()));
    }
    let length = text.chars().count();
    if length > MAX_TEXT_CHARS {
        return Err(ChatError::BadInput(format!(
            "the message has {length} characters, more than the {MAX_TEXT_CHARS} one message may hold; \
             attach long text as a file or split it"
        )));
    }
    Ok(())
}

/// The conversation as the engine reads it. Two user messages in a row (a question whose reply
/// row was never written, after a crash) are joined, since Gemma's template needs turns to
/// alternate. Tool calls and results are written as `syntax` has them: for Gemma 4 as the
/// OpenAI-shaped fields its template renders (`tool_calls` with the arguments as an object, and
/// `tool` messages naming their call), for Gemma 3 as `tool_code` blocks in the reply and
/// `tool_output` blocks in a user turn.
fn prompt_messages<'a>(
    system: Option<&str>,
    history: impl IntoIterator<Item = &'a BranchMessage>,
    syntax: ToolSyntax,
    attachment_path: impl Fn(&str) -> PathBuf,
) -> Vec<ChatMessage> {
    let mut messages: Vec<ChatMessage> =
        system.filter(|s| !s.trim().is_empty()).map(ChatMessage::system).into_iter().collect();
    for entry in history {
        let message = &entry.message;
        let media = entry.attachments.iter().filter(|attachment| attachment.is_image() || attachment.is_clip()).map(
            |attachment| MediaRef { sha256: attachment.sha256.clone(), path: attachment_path(&attachment.sha256) },
        );
        let mut turn = ChatMessage::new(message.role.as_str(), message.content.clone());
        match (&message.tool, syntax) {
            (Some(ToolPart::Calls { calls }), ToolSyntax::Gemma4) => {
                let calls: Vec<serde_json::Value> = calls
                    .iter()
                    .map(|call| {
                        let name = if call.name.is_empty() { "unknown" } else { call.name.as_str() };
                        serde_json::json!({
                            "id": call.id,
                            "type": "function",
                            "function": {"name": name, "arguments": call.arguments},
                        })
                    })
                    .collect();
                turn.extra.insert("tool_calls".to_owned(), calls.into());
            }
            (Some(ToolPart::Result(result)), ToolSyntax::Gemma4) => {
                turn.extra.insert("tool_call_id".to_owned(), result.call_id.clone().into());
                turn.extra.insert("name".to_owned(), result.name.clone().into());
            }
            (Some(ToolPart::Calls { calls }), ToolSyntax::Gemma3) => {
                let valid: Vec<(&str, &serde_json::Map<String, serde_json::Value>)> = calls
                    .iter()
                    .filter(|call| call.malformed.is_none())
                    .map(|call| (call.name.as_str(), &call.arguments))
                    .collect();
                let mut blocks: Vec<String> = Vec::new();
                if !valid.is_empty() {
                    blocks.push(gemma3_calls(&valid));
                }
                blocks.extend(
                    calls
                        .iter()
                        .filter_map(|call| call.malformed.as_ref())
                        .map(|raw| format!("```tool_code\n{raw}\n```")),
                );
                turn.content = [message.content.trim(), &blocks.join("\n")]
                    .iter()
                    .filter(|part| !part.is_empty())
                    .copied()
                    .collect::<Vec<_>>()
                    .join("\n\n");
            }
            (Some(ToolPart::Result(_)), ToolSyntax::Gemma3) => {
                turn.role = "user".to_owned();
                turn.content = gemma3_outputs([message.content.as_str()]);
            }
            (None, _) => {}
        }
        match messages.last_mut() {
            Some(last) if last.role == "user" && turn.role == "user" => {
                last.content.push_str("\n\n");
                last.content.push_str(&turn.content);
                last.media.extend(media);
            }
            _ => {
                turn.media = media.collect();
                messages.push(turn);
            }
        }
    }
    messages
}

/// How the prompt of a reply to a question carrying `attachments` is rendered: thinking is off
/// when the question carries a clip, since Gemma 4 then drifts into thinking instead of answering.
fn render_options(attachments: &[Attachment]) -> RenderOptions {
    let hears_a_clip = attachments.iter().any(Attachment::is_clip);
    RenderOptions { enable_thinking: hears_a_clip.then_some(false), ..RenderOptions::default() }
}

/// How a reply that stopped for `stop` is stored.
fn reply_status(stop: StopReason) -> MessageStatus {
    match stop {
        StopReason::EndOfTurn | StopReason::ToolCall | StopReason::MaxTokens | StopReason::ContextFull => {
            MessageStatus::Done
        }
        StopReason::Cancelled => MessageStatus::Stopped,
        StopReason::Interrupted => MessageStatus::Interrupted,
    }
}

/// The stored figures of a reply. A prompt without images has no image-token figures (rather
/// than zeros), so that its export reads as it did before images were stored.
fn reply_stats(figures: Option<&ReplyFigures>) -> ReplyStats {
    figures.map_or_else(ReplyStats::default, |f| {
        let with_images = f.image_tokens_reused + f.image_tokens_encoded > 0;
        ReplyStats {
            ttft_ms: Some(f.ttft_ms),
            prefill_tps: Some(f.prefill_tps),
            decode_tps: Some(f.decode_tps),
            prompt_tokens: Some(f.prompt_tokens.into()),
            generated_tokens: Some(f.generated_tokens.into()),
            reused_tokens: Some(f.reused_tokens.into()),
            image_tokens_reused: with_images.then_some(f.image_tokens_reused.into()),
            image_tokens_encoded: with_images.then_some(f.image_tokens_encoded.into()),
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn attachment(media_type: &str) -> Attachment {
        Attachment {
            id: 1,
            message_id: 1,
            sha256: "0".repeat(64),
            media_type: media_type.to_owned(),
            size: 1,
            width: None,
            height: None,
            duration_ms: None,
            name: None,
            created_at: 0,
        }
    }

    fn message(id: i64, role: Role, content: &str, tool: Option<ToolPart>) -> BranchMessage {
        let message = Message {
            id,
            conversation_id: 1,
            parent_id: None,
            role,
            content: content.to_owned(),
            status: MessageStatus::Done,
            error: None,
            model: None,
            stats: ReplyStats::default(),
            tool,
            created_at: 0,
            updated_at: 0,
        };
        BranchMessage { message, sibling_index: 1, sibling_count: 1, attachments: Vec::new() }
    }

    /// A question, a reply that called the calculator, its result and the answer after it.
    fn called() -> Vec<BranchMessage> {
        let arguments = serde_json::json!({"expression": "2+3"}).as_object().unwrap().clone();
        let call = StoredToolCall { id: "call_1".into(), name: "calculator".into(), arguments, malformed: None };
        let result = ToolResult { call_id: "call_1".into(), name: "calculator".into(), outcome: ToolOutcome::Answered };
        vec![
            message(1, Role::User, "What is 2 + 3?", None),
            message(2, Role::Assistant, "", Some(ToolPart::Calls { calls: vec![call] })),
            message(3, Role::Tool, "5", Some(ToolPart::Result(result))),
            message(4, Role::Assistant, "It is 5.", None),
        ]
    }

    #[test]
    fn gemma4s_template_renders_a_stored_call_and_its_result_in_the_model_turn() {
        let source = include_str!("../../../../tests/templates/gemma-4-31B-it.jinja");
        let template = gemma_desk_engine::ChatTemplate::from_jinja(source, "<bos>", "<eos>").unwrap();
        let history = called();
        let messages = prompt_messages(None, &history, ToolSyntax::Gemma4, |_| PathBuf::new());
        let text = template.render(&messages, &RenderOptions::default()).unwrap();
        let expected = "<|turn>model\n<|tool_call>call:calculator{expression:<|\"|>2+3<|\"|>}<tool_call|>\
                        <|tool_response>response:calculator{value:<|\"|>5<|\"|>}<tool_response|>It is 5.<turn|>";
        assert!(text.contains(expected), "{text}");
    }

    #[test]
    fn gemma3_reads_a_stored_call_as_a_tool_code_block_and_its_result_as_a_user_turn() {
        let history = called();
        let messages = prompt_messages(None, &history, ToolSyntax::Gemma3, |_| PathBuf::new());
        let turns: Vec<(&str, &str)> = messages.iter().map(|m| (m.role.as_str(), m.content.as_str())).collect();
        assert_eq!(
            turns,
            [
                ("user", "What is 2 + 3?"),
                ("assistant", "```tool_code\ncalculator(expression=\"2+3\")\n```"),
                ("user", "```tool_output\n5\n```"),
                ("assistant", "It is 5."),
            ]
        );
        let rendered = gemma_desk_engine::ChatTemplate::BuiltinGemma.render(&messages, &RenderOptions::default());
        assert!(rendered.is_ok(), "the turns alternate: {rendered:?}");
    }

    #[test]
    fn thinking_is_off_for_a_question_that_carries_a_clip() {
        assert_eq!(render_options(&[attachment("image/png"), attachment("audio/wav")]).enable_thinking, Some(false));
        assert_eq!(render_options(&[attachment("Audio/WAV")]).enable_thinking, Some(false));
        assert_eq!(render_options(&[attachment("image/png")]).enable_thinking, None, "left to the template");
        assert_eq!(render_options(&[]).enable_thinking, None);
    }
}

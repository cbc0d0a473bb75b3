//! Ears for a model that has none: the clips of a question are transcribed by a model that hears
//! (a Gemma 4 with its audio projector), loaded for the purpose in a worker of its own after a
//! memory check and stopped when it has written the transcript, so that the loaded model gets
//! the words as text.

use std::path::Path;
use std::sync::{Arc, Mutex, PoisonError};

use gemma_desk_engine::{
    CancelHandle, ChatMessage, ClientError, LoadOptions, MediaRef, RenderOptions, SamplingParams, StopReason,
    WorkerClient, inspect,
};
use gemma_desk_models::ModelShape;

use crate::chat::{CheckedAttachment, ModelChoice};
use crate::error::ChatError;

/// The context the transcribing model is loaded with: the longest question (four 30 s clips of
/// about 750 tokens each) and its transcript.
pub const TRANSCRIPTION_CONTEXT: u32 = 4096;
/// The longest transcript of a second of sound, in tokens: fast speech is about 5 syllables a
/// second, a token or less each in most languages (a character in Chinese). A model that runs on
/// (repeating itself) stops there.
const TRANSCRIPT_TOKENS_PER_SECOND: u32 = 12;
/// What the transcribing model is asked, with the clips.
pub const TRANSCRIPTION_INSTRUCTION: &str = "Transcribe the speech in this audio word for word, in the language it is spoken in. \
                           Reply with the transcript alone.";

/// A model that hears, chosen to transcribe for one that does not.
#[derive(Debug, Clone)]
pub struct Transcriber {
    choice: ModelChoice,
    name: String,
}

impl Transcriber {
    /// `choice`, named `name` in what the user is told. Its files are checked here, before
    /// anything is started: its projector must have an audio encoder.
    pub fn new(choice: ModelChoice, name: impl Into<String>) -> Result<Transcriber, ChatError> {
        let name = name.into();
        let checked = |path: &Path| inspect(path).map_err(|error| ChatError::BadInput(error.to_string()));
        checked(&choice.model)?;
        let hears = match &choice.mmproj {
            Some(mmproj) => checked(mmproj)?.has_audio_encoder,
            None => false,
        };
        if !hears {
            return Err(ChatError::CannotHear(format!(
                "{name} cannot transcribe: it needs its projector (mmproj) with an audio encoder, as Gemma 4 E2B \
                 and E4B have"
            )));
        }
        Ok(Transcriber { choice, name })
    }

    /// Its name, as the user is told it.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The memory it takes to transcribe, in bytes: its weights, projector, a KV cache for
    /// [`TRANSCRIPTION_CONTEXT`] and the runtime.
    pub fn memory_needed(&self) -> Result<u64, ChatError> {
        let info = inspect(&self.choice.model).map_err(|error| ChatError::BadInput(error.to_string()))?;
        let projector = self.choice.mmproj.as_deref().map_or(0, file_size);
        Ok(ModelShape::of_gguf(&info, projector).estimate(TRANSCRIPTION_CONTEXT).total)
    }

    /// Refuses when the memory free now (`available` bytes) cannot hold it beside what is loaded.
    pub(crate) fn check_memory(&self, available: u64) -> Result<(), ChatError> {
        let needed = self.memory_needed()?;
        if needed > available {
            return Err(ChatError::NoMemory(format!(
                "transcribing needs about {} of memory for {} beside the loaded model, and {} is free: close \
                 other programs, or switch to {} to talk to it directly",
                gigabytes(needed),
                self.name,
                gigabytes(available),
                self.name
            )));
        }
        Ok(())
    }

    /// Writes down what is said in `clips` with `engine`, a client with no worker yet: its worker
    /// starts here and is stopped when `engine` is dropped. Blocking: call it off the async
    /// threads.
    pub(crate) fn transcribe(
        &self,
        mut engine: WorkerClient,
        clips: &[CheckedAttachment],
    ) -> Result<String, ChatError> {
        let folder = tempfile::tempdir().map_err(|error| io_error("a folder for the clips", &error))?;
        let mut media = Vec::with_capacity(clips.len());
        for (index, clip) in clips.iter().enumerate() {
            let path = folder.path().join(format!("clip-{index}.wav"));
            std::fs::write(&path, clip.bytes()).map_err(|error| io_error("a clip", &error))?;
            media.push(MediaRef { sha256: gemma_desk_store::sha256_hex(clip.bytes()), path });
        }
        let mut question = ChatMessage::new("user", TRANSCRIPTION_INSTRUCTION);
        question.media = media;

        let options = LoadOptions {
            model: self.choice.model.clone(),
            mmproj: self.choice.mmproj.clone(),
            ctx: Some(TRANSCRIPTION_CONTEXT),
            threads: None,
            gpu_layers: None,
            image_tokens: None,
        };
        engine.load(options).map_err(|error| self.engine_error("could not be loaded", &error))?;
        let render = RenderOptions { enable_thinking: Some(false), ..RenderOptions::default() };
        let sampling =
            SamplingParams { greedy: true, max_tokens: Some(transcript_token_limit(clips)), ..Default::default() };
        let reply = engine
            .generate(&[question], &render, &sampling, |_| {})
            .map_err(|error| self.engine_error("could not transcribe the clip", &error))?;
        match (reply.stop_reason, &reply.worker_death) {
            (StopReason::Cancelled, _) => return Err(ChatError::Cancelled),
            (_, Some(death)) => {
                return Err(ChatError::Engine {
                    message: format!("{} stopped while transcribing the clip: {death}", self.name),
                    failure: death.failure(),
                });
            }
            _ => {}
        }
        let transcript = reply.text.trim();
        if transcript.is_empty() {
            return Err(ChatError::BadInput(format!(
                "{} heard no words in the clip; record it again closer to the microphone",
                self.name
            )));
        }
        Ok(transcript.to_owned())
    }

    fn engine_error(&self, what: &str, error: &ClientError) -> ChatError {
        let failure = error.failure();
        let advice = failure.map(|failure| format!("{}: ", failure.advice())).unwrap_or_default();
        ChatError::Engine { message: format!("{} {what}: {advice}{error}", self.name), failure }
    }
}

/// Where [`crate::Chat::stop`] finds the transcription in progress, if one is.
#[derive(Default)]
pub(crate) struct TranscriptionStop(Mutex<Option<CancelHandle>>);

impl TranscriptionStop {
    /// Stops the transcription in progress: its reply, or the reply it is about to begin.
    pub(crate) fn stop(&self) {
        if let Some(handle) = self.0.lock().unwrap_or_else(PoisonError::into_inner).as_ref() {
            handle.cancel();
        }
    }

    /// Marks `handle`'s worker as the transcription in progress until the guard is dropped. It
    /// is armed at once, so that a stop while the model loads stops the transcript before it
    /// begins.
    pub(crate) fn running(self: &Arc<Self>, handle: CancelHandle) -> RunningTranscription {
        let armed = handle.arm();
        *self.0.lock().unwrap_or_else(PoisonError::into_inner) = Some(handle);
        RunningTranscription { stop: Arc::clone(self), _armed: armed }
    }
}

/// The transcription in progress, until dropped.
pub(crate) struct RunningTranscription {
    stop: Arc<TranscriptionStop>,
    _armed: gemma_desk_engine::ArmedTurn,
}

impl Drop for RunningTranscription {
    fn drop(&mut self) {
        *self.stop.0.lock().unwrap_or_else(PoisonError::into_inner) = None;
    }
}

/// The most tokens the transcript of `clips` may take.
pub fn transcript_token_limit(clips: &[CheckedAttachment]) -> u32 {
    let milliseconds: u64 = clips.iter().filter_map(|clip| clip.info().duration_ms).map(|ms| ms.max(0) as u64).sum();
    let seconds = u32::try_from(milliseconds.div_ceil(1000)).unwrap_or(u32::MAX);
    32 + TRANSCRIPT_TOKENS_PER_SECOND.saturating_mul(seconds)
}

/// The words of `transcript` joined to what the user typed with the clips.
pub(crate) fn with_transcript(typed: &str, transcript: &str) -> String {
    match typed.trim() {
        "" => transcript.to_owned(),
        typed => format!("{typed}\n\n{transcript}"),
    }
}

fn file_size(path: &Path) -> u64 {
    std::fs::metadata(path).map_or(0, |meta| meta.len())
}

fn gigabytes(bytes: u64) -> String {
    format!("{:.1} GB", bytes as f64 / 1e9)
}

fn io_error(what: &str, error: &std::io::Error) -> ChatError {
    ChatError::Io(format!("could not write {what} for the transcription: {error}"))
}

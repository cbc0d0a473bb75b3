//! The microphone and the speaker in the window: one push-to-talk recording at a time, its
//! level and time streamed to the window, its clip attached to the next message like a dropped
//! sound file; replies read aloud, and silenced by talking, Esc or Stop.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use gemma_desk_chat::ChatEvent;
use gemma_desk_voice::{CaptureError, EndOfSpeech, Ended, MAX_CLIP, ReadAloud, Recording, Speaker, SpeechEvent};
use serde::Serialize;
use tauri::ipc::Channel;
use tauri::{AppHandle, Emitter, Runtime};
use ts_rs::TS;

use crate::error::{AppError, CommandResult, ErrorCode};
use crate::images::{Images, PendingClip, lock};

/// How often the window hears how a recording goes.
const PROGRESS_EVERY: Duration = Duration::from_millis(50);
/// How long before the limit the window warns that the clip is about to end.
const WARN_BEFORE_LIMIT: Duration = Duration::from_secs(5);
/// The app event that carries [`SpeechState`].
pub const SPEECH_EVENT: &str = "speech";

/// How a recording goes, sent every 50 ms while it lasts.
#[derive(Debug, Clone, Serialize, TS)]
pub struct RecordingProgress {
    /// Sound recorded so far, in milliseconds.
    pub recorded_ms: u64,
    /// Loudness of the latest sound, 0 (silence) to 1 (full scale).
    pub level: f32,
    /// The 30 s limit is less than 5 s away.
    pub ending_soon: bool,
    /// Recording stopped on its own (the limit, or the device went away): finishing sends
    /// what was recorded.
    pub stopped: bool,
    /// The speaker has paused after speaking (conversation mode finishes the turn on it).
    pub speech_ended: bool,
}

/// A finished recording, attached to the next message.
#[derive(Debug, Clone, Serialize, TS)]
pub struct RecordedClip {
    /// The clip, as attached.
    pub clip: PendingClip,
    /// Why it ended before it was released, in words; none when it was released.
    pub note: Option<String>,
}

/// What the speaker is doing, as the window shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum SpeechState {
    /// Reading a reply aloud.
    Speaking,
    /// Silent: the reply was read, or speech was stopped.
    Quiet,
    /// The speech service failed; speech stopped.
    Failed {
        /// Why, in words.
        message: String,
    },
}

/// The recording under way, and the speech service once it was needed.
#[derive(Default)]
pub struct Voice {
    recording: Mutex<Option<Active>>,
    speaker: Mutex<Option<Speaker>>,
}

struct Active {
    recording: Recording,
    /// Set to end the progress thread.
    done: Arc<AtomicBool>,
}

impl Voice {
    /// Starts recording from `microphone` (the settings' choice; none: the default input),
    /// muted while the app speaks. Talking silences a reply being read.
    pub fn start_recording(&self, microphone: Option<&str>, progress: Channel<RecordingProgress>) -> CommandResult<()> {
        let mut active = lock(&self.recording);
        if active.is_some() {
            return Err(AppError::new(ErrorCode::Busy, "a recording is already running"));
        }
        let muted = match &*lock(&self.speaker) {
            Some(speaker) => {
                speaker.stop();
                speaker.speaking_flag()
            }
            None => Arc::new(AtomicBool::new(false)),
        };
        let recording = Recording::start_muted_by(microphone, muted).map_err(capture_error)?;
        let done = Arc::new(AtomicBool::new(false));
        let shared = recording.meter();
        let thread_done = Arc::clone(&done);
        std::thread::Builder::new()
            .name("recording progress".into())
            .spawn(move || {
                let mut end_of_speech = EndOfSpeech::new();
                while !thread_done.load(Ordering::Relaxed) {
                    let now = shared.progress();
                    let report = RecordingProgress {
                        recorded_ms: u64::try_from(now.recorded.as_millis()).unwrap_or(u64::MAX),
                        level: now.level,
                        ending_soon: MAX_CLIP.saturating_sub(now.recorded) < WARN_BEFORE_LIMIT,
                        stopped: now.stopped,
                        speech_ended: end_of_speech.update(now.recorded, now.level),
                    };
                    if progress.send(report).is_err() {
                        break;
                    }
                    std::thread::sleep(PROGRESS_EVERY);
                }
            })
            .map_err(|error| AppError::io(format!("cannot follow the recording: {error}")))?;
        *active = Some(Active { recording, done });
        Ok(())
    }

    /// Ends the recording and attaches its clip. A silent or too short one is discarded, with
    /// a hint.
    pub fn finish_recording(&self, attachments: &Images) -> CommandResult<RecordedClip> {
        let active = lock(&self.recording).take().ok_or_else(|| AppError::bad_input("nothing is being recorded"))?;
        active.done.store(true, Ordering::Relaxed);
        let take = active.recording.finish().map_err(capture_error)?;
        let note = match take.ended {
            Ended::Released => None,
            Ended::LimitReached => {
                Some(format!("The clip reached the {} s limit; what came before is kept.", MAX_CLIP.as_secs()))
            }
            Ended::DeviceLost(reason) => Some(format!("Recording stopped: {reason}. What was recorded is kept.")),
        };
        Ok(RecordedClip { clip: attachments.attach_recording(&take.clip)?, note })
    }

    /// Ends the recording and throws it away (Esc).
    pub fn cancel_recording(&self) {
        if let Some(active) = lock(&self.recording).take() {
            active.done.store(true, Ordering::Relaxed);
        }
    }

    /// The speech service, reached on first use; its state goes to the window as the `speech`
    /// event.
    fn speaker<R: Runtime>(&self, app: &AppHandle<R>) -> CommandResult<Speaker> {
        let mut speaker = lock(&self.speaker);
        if let Some(speaker) = &*speaker {
            return Ok(speaker.clone());
        }
        let app = app.clone();
        let started = Speaker::start(move |event| {
            let state = match event {
                SpeechEvent::Started => SpeechState::Speaking,
                // Already speaking, as far as the window is concerned.
                SpeechEvent::Voiced => return,
                SpeechEvent::Finished => SpeechState::Quiet,
                SpeechEvent::Failed(message) => SpeechState::Failed { message },
            };
            let _ = app.emit(SPEECH_EVENT, state);
        })
        .map_err(|error| AppError::new(ErrorCode::Speech, error.to_string()))?;
        *speaker = Some(started.clone());
        Ok(started)
    }

    /// Reads `text` (a whole reply, as Markdown) aloud, instead of anything being read.
    pub fn speak<R: Runtime>(&self, app: &AppHandle<R>, text: &str) -> CommandResult<()> {
        let speaker = self.speaker(app)?;
        speaker.stop();
        for sentence in gemma_desk_voice::sentences(text) {
            speaker.say(sentence);
        }
        Ok(())
    }

    /// Silences speech at once.
    pub fn stop_speaking(&self) {
        if let Some(speaker) = &*lock(&self.speaker) {
            speaker.stop();
        }
    }

    /// Wraps a reply's event sink so that the reply is read aloud as it streams. When the speech
    /// service cannot be reached the reply goes on unspoken and the window is told.
    pub fn read_aloud<R: Runtime, S: FnMut(ChatEvent) + Send>(
        &self,
        app: &AppHandle<R>,
        mut sink: S,
    ) -> impl FnMut(ChatEvent) + Send + use<R, S> {
        let mut aloud: Option<ReadAloud> = match self.speaker(app) {
            Ok(speaker) => {
                speaker.stop();
                Some(speaker.read_aloud())
            }
            Err(error) => {
                let _ = app.emit(SPEECH_EVENT, SpeechState::Failed { message: error.message });
                None
            }
        };
        move |event| {
            match &event {
                ChatEvent::Token { text } => {
                    if let Some(aloud) = &mut aloud {
                        aloud.push(text);
                    }
                }
                ChatEvent::Finished { .. } => {
                    if let Some(aloud) = aloud.take() {
                        aloud.finish();
                    }
                }
                _ => {}
            }
            sink(event);
        }
    }
}

/// A capture failure as the window shows it: a silent or short take is nothing recorded, the
/// rest is the microphone.
fn capture_error(error: CaptureError) -> AppError {
    let code = match error {
        CaptureError::Silent | CaptureError::TooShort => ErrorCode::NothingRecorded,
        _ => ErrorCode::Microphone,
    };
    AppError::new(code, error.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_microphone_that_cannot_record_and_a_take_with_nothing_in_it_are_told_apart() {
        for error in [CaptureError::NoMicrophone, CaptureError::PermissionDenied, CaptureError::Busy] {
            let message = error.to_string();
            assert_eq!(capture_error(error), AppError::new(ErrorCode::Microphone, message));
        }
        assert_eq!(capture_error(CaptureError::Silent).code, ErrorCode::NothingRecorded);
        assert_eq!(capture_error(CaptureError::TooShort).code, ErrorCode::NothingRecorded);
    }
}

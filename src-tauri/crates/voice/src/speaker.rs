//! Speaking replies through the operating system's speech service (the `tts` crate: Speech
//! Dispatcher on Linux, AVFoundation on macOS, WinRT on Windows), one sentence at a time.
//!
//! Sentences wait in the app's own queue and go to the service one by one, each when the one
//! before has been spoken, so that [`Speaker::stop`] (barge-in, Esc, Stop) silences the current
//! sentence and no later one is ever heard. The service lives on a thread of its own (its
//! handle may not leave the thread that made it); a [`Speaker`] is a cheap handle to that
//! thread.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, mpsc};
use std::thread;
use std::time::{Duration, Instant};

use crate::speech_text::{SentenceSplitter, language_hint};

/// The speech service could not be reached.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("spoken replies are not available: {0}")]
pub struct SpeechError(String);

/// What the speaker is doing, for the window and the terminal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SpeechEvent {
    /// A sentence went to the service after a silence.
    Started,
    /// The service began to speak it: the first word is heard (where the service tells, as
    /// Speech Dispatcher, AVFoundation and WinRT do).
    Voiced,
    /// Nothing is left to say: every sentence was spoken, or speech was stopped.
    Finished,
    /// The service refused a sentence; the rest of the reply is not spoken.
    Failed(String),
}

enum Command {
    Say(String),
    Stop,
    /// The service says it began speaking a sentence.
    SentenceBegan,
    /// The service says the current sentence is over (spoken, or cancelled).
    SentenceOver,
    /// Answer on this once nothing is left to say.
    WhenQuiet(mpsc::Sender<()>),
    Shutdown,
}

/// A handle to the thread that speaks. Clones speak through the same queue; when the last is
/// dropped, speech stops and the thread ends.
#[derive(Clone)]
pub struct Speaker {
    shared: Arc<Handle>,
}

struct Handle {
    commands: mpsc::Sender<Command>,
    speaking: Arc<AtomicBool>,
}

impl Drop for Handle {
    fn drop(&mut self) {
        let _ = self.commands.send(Command::Shutdown);
    }
}

impl Speaker {
    /// Connects to the system's speech service; `on_event` hears what the speaker does (on the
    /// speaker's thread: keep it short).
    pub fn start(on_event: impl FnMut(SpeechEvent) + Send + 'static) -> Result<Speaker, SpeechError> {
        let (commands, inbox) = mpsc::channel();
        let (ready_tx, ready_rx) = mpsc::channel();
        let speaking = Arc::new(AtomicBool::new(false));
        let worker = Worker {
            inbox,
            speaking: Arc::clone(&speaking),
            on_event: Box::new(on_event),
            queue: VecDeque::new(),
            waiting_for_quiet: Vec::new(),
            started: false,
            voiced: false,
            voice_language: None,
        };
        let over = commands.clone();
        thread::Builder::new()
            .name("speech".into())
            .spawn(move || worker.run(&over, &ready_tx))
            .map_err(|error| SpeechError(error.to_string()))?;
        ready_rx.recv().map_err(|_| SpeechError("the speech thread ended".into()))??;
        Ok(Speaker { shared: Arc::new(Handle { commands, speaking }) })
    }

    /// Queues a sentence; it is spoken after those before it.
    pub fn say(&self, sentence: impl Into<String>) {
        let _ = self.shared.commands.send(Command::Say(sentence.into()));
    }

    /// Silences the current sentence at once and forgets the queued ones.
    pub fn stop(&self) {
        // Set here, not only by the thread, so that capture unmutes without waiting for it.
        self.shared.speaking.store(false, Ordering::Relaxed);
        let _ = self.shared.commands.send(Command::Stop);
    }

    /// Set while the app is speaking: give it to [`crate::Recording::start_muted_by`] so the
    /// microphone never hears the app.
    pub fn speaking_flag(&self) -> Arc<AtomicBool> {
        Arc::clone(&self.shared.speaking)
    }

    pub fn is_speaking(&self) -> bool {
        self.shared.speaking.load(Ordering::Relaxed)
    }

    /// Waits until everything said so far has been spoken (or stopped).
    pub fn wait_until_quiet(&self) {
        let (quiet, wait) = mpsc::channel();
        if self.shared.commands.send(Command::WhenQuiet(quiet)).is_ok() {
            let _ = wait.recv();
        }
    }

    /// A reply to read aloud as it streams.
    pub fn read_aloud(&self) -> ReadAloud {
        ReadAloud { speaker: self.clone(), splitter: SentenceSplitter::new() }
    }
}

/// A streaming reply being read aloud: each complete sentence is spoken as soon as it arrives.
pub struct ReadAloud {
    speaker: Speaker,
    splitter: SentenceSplitter,
}

impl ReadAloud {
    /// Adds a piece of the reply.
    pub fn push(&mut self, piece: &str) {
        for sentence in self.splitter.push(piece) {
            self.speaker.say(sentence);
        }
    }

    /// The reply ended: its last sentence is spoken too.
    pub fn finish(mut self) {
        for sentence in self.splitter.finish() {
            self.speaker.say(sentence);
        }
    }
}

struct Worker {
    inbox: mpsc::Receiver<Command>,
    speaking: Arc<AtomicBool>,
    on_event: Box<dyn FnMut(SpeechEvent) + Send>,
    queue: VecDeque<String>,
    waiting_for_quiet: Vec<mpsc::Sender<()>>,
    /// [`SpeechEvent::Started`] was sent and its [`SpeechEvent::Finished`] not yet.
    started: bool,
    /// [`SpeechEvent::Voiced`] was sent since the last [`SpeechEvent::Started`].
    voiced: bool,
    /// The language of the voice chosen last (`None`: the service's default).
    voice_language: Option<&'static str>,
}

impl Worker {
    fn run(mut self, over: &mpsc::Sender<Command>, ready: &mpsc::Sender<Result<(), SpeechError>>) {
        let mut tts = match connect(over) {
            Ok(tts) => {
                let _ = ready.send(Ok(()));
                tts
            }
            Err(error) => {
                let _ = ready.send(Err(error));
                return;
            }
        };
        // Until a sentence is handed over, the thread waits for work; while one is spoken, it
        // waits for the service to say it is over (or for the sentence's time to run out).
        let mut current: Option<Instant> = None;
        loop {
            let command = match current {
                None => self.inbox.recv().ok(),
                Some(deadline) => match self.inbox.recv_timeout(deadline.saturating_duration_since(Instant::now())) {
                    Ok(command) => Some(command),
                    Err(mpsc::RecvTimeoutError::Timeout) => Some(Command::SentenceOver),
                    Err(mpsc::RecvTimeoutError::Disconnected) => None,
                },
            };
            match command {
                None | Some(Command::Shutdown) => break,
                Some(Command::Say(sentence)) => self.queue.push_back(sentence),
                Some(Command::Stop) => {
                    self.queue.clear();
                    if current.take().is_some() {
                        let _ = tts.stop();
                    }
                    self.quiet();
                    continue;
                }
                Some(Command::SentenceOver) => current = None,
                Some(Command::SentenceBegan) => {
                    if self.started && !std::mem::replace(&mut self.voiced, true) {
                        (self.on_event)(SpeechEvent::Voiced);
                    }
                    continue;
                }
                Some(Command::WhenQuiet(waiter)) => self.waiting_for_quiet.push(waiter),
            }
            if current.is_some() {
                continue;
            }
            let Some(sentence) = self.queue.pop_front() else {
                self.quiet();
                continue;
            };
            self.choose_voice(&mut tts, language_hint(&sentence));
            self.speaking.store(true, Ordering::Relaxed);
            if !std::mem::replace(&mut self.started, true) {
                (self.on_event)(SpeechEvent::Started);
            }
            match tts.speak(sentence.as_str(), false) {
                Ok(_) => current = Some(Instant::now() + longest_time_to_say(&sentence)),
                Err(error) => {
                    self.queue.clear();
                    self.speaking.store(false, Ordering::Relaxed);
                    self.started = false;
                    (self.on_event)(SpeechEvent::Failed(format!("the speech service failed: {error}")));
                    self.quiet();
                }
            }
        }
        let _ = tts.stop();
    }

    /// Nothing is left to say: says so (once) and answers who waits for it.
    fn quiet(&mut self) {
        self.speaking.store(false, Ordering::Relaxed);
        self.voiced = false;
        if std::mem::take(&mut self.started) {
            (self.on_event)(SpeechEvent::Finished);
        }
        for waiter in self.waiting_for_quiet.drain(..) {
            let _ = waiter.send(());
        }
    }

    /// Reads `language` (`None`: a Latin-script or unknown one) with a voice for it where the
    /// service has one; otherwise the current voice reads it as best it can.
    fn choose_voice(&mut self, tts: &mut tts::Tts, language: Option<&'static str>) {
        if language == self.voice_language {
            return;
        }
        let Ok(voices) = tts.voices() else { return };
        let languages: Vec<String> = voices.iter().map(|voice| voice.language().to_string()).collect();
        let wanted = language.map_or_else(system_language, str::to_owned);
        if let Some(index) = voice_for(&languages, &wanted)
            && tts.set_voice(&voices[index]).is_ok()
        {
            self.voice_language = language;
        }
    }
}

/// The user's language from the locale (`LC_ALL`, `LC_MESSAGES`, `LANG`), English otherwise.
fn system_language() -> String {
    ["LC_ALL", "LC_MESSAGES", "LANG"]
        .iter()
        .filter_map(|name| std::env::var(name).ok())
        .map(|locale| locale.split(['_', '.', '@', '-']).next().unwrap_or_default().to_ascii_lowercase())
        .find(|language| language.len() >= 2 && language != "c" && language != "posix")
        .unwrap_or_else(|| "en".to_owned())
}

fn connect(over: &mpsc::Sender<Command>) -> Result<tts::Tts, SpeechError> {
    let tts = tts::Tts::default().map_err(|error| SpeechError(service_hint(&error.to_string())))?;
    if tts.supported_features().utterance_callbacks {
        for callback in [tts::Tts::on_utterance_end, tts::Tts::on_utterance_stop] {
            let over = over.clone();
            let _ = callback(&tts, Some(Box::new(move |_| drop(over.send(Command::SentenceOver)))));
        }
        let began = over.clone();
        let _ = tts.on_utterance_begin(Some(Box::new(move |_| drop(began.send(Command::SentenceBegan)))));
    }
    Ok(tts)
}

fn service_hint(error: &str) -> String {
    if cfg!(target_os = "linux") {
        format!("{error} (is Speech Dispatcher installed and running? e.g. apt install speech-dispatcher)")
    } else {
        error.to_owned()
    }
}

/// How long a sentence may take before the next one goes anyway: a service that never says
/// it finished must not leave the app speaking forever.
fn longest_time_to_say(sentence: &str) -> Duration {
    Duration::from_secs(3) + Duration::from_millis(150) * sentence.chars().count() as u32
}

/// The voice (an index into the voices' BCP-47 `languages`) to read `language` with: the first
/// whose primary subtag is it; for Hindi (`hi`, what Devanagari is taken for) a Marathi or
/// Nepali voice if there is no Hindi one.
fn voice_for(languages: &[String], language: &str) -> Option<usize> {
    let primary = |tag: &str| tag.split(['-', '_']).next().unwrap_or_default().to_ascii_lowercase();
    let find = |wanted: &str| languages.iter().position(|tag| primary(tag) == wanted);
    find(language).or_else(|| match language {
        "hi" => find("mr").or_else(|| find("ne")),
        _ => None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tags(tags: &[&str]) -> Vec<String> {
        tags.iter().map(|&tag| tag.to_owned()).collect()
    }

    #[test]
    fn a_voice_is_chosen_by_the_primary_language_of_its_tag() {
        let languages = tags(&["en-US", "fr-FR", "zh-CN", "ja", "mr-IN"]);
        assert_eq!(voice_for(&languages, "zh"), Some(2));
        assert_eq!(voice_for(&languages, "ja"), Some(3));
        assert_eq!(voice_for(&languages, "ko"), None);
        // Devanagari is taken for Hindi; a Marathi voice reads it when there is no Hindi one.
        assert_eq!(voice_for(&languages, "hi"), Some(4));
        assert_eq!(voice_for(&tags(&["mr-IN", "hi-IN"]), "hi"), Some(1));
    }

    #[test]
    fn a_sentence_may_take_longer_the_longer_it_is() {
        assert!(longest_time_to_say(&"word ".repeat(40)) > longest_time_to_say("Yes."));
        assert!(longest_time_to_say("Yes.") >= Duration::from_secs(3));
    }
}

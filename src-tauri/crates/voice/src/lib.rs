//! Voice for Gemma Desk: sound clips (from a file or the microphone) turned into the
//! 16 kHz mono samples Gemma 4's audio encoder takes and kept as WAV, and replies cut into
//! sentences that a speech service can read out while the rest still streams.

pub mod capture;
pub mod clip;
pub mod level;
pub mod speaker;
pub mod speech_text;

pub use capture::{
    AudioDevice, AudioDevices, CaptureError, Ended, Meter, Progress, Recording, Take, clip_of_recording, devices,
};
pub use clip::{Clip, ClipError, MAX_CLIP, MODEL_SAMPLE_RATE};
pub use level::EndOfSpeech;
pub use speaker::{ReadAloud, Speaker, SpeechError, SpeechEvent};
pub use speech_text::{SentenceSplitter, language_hint, sentences};

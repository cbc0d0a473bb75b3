//! Voice for Gemma Desk: sound clips (from a file, later from the microphone) turned into the
//! 16 kHz mono samples Gemma 4's audio encoder takes and kept as WAV.

pub mod clip;

pub use clip::{Clip, ClipError, MAX_CLIP, MODEL_SAMPLE_RATE};

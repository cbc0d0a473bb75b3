//! Sound files for the tests: tones written as WAV, and speech made by espeak-ng.

use std::path::{Path, PathBuf};
use std::process::Command;

/// A sine tone of `hz` at `rate` Hz, `seconds` long, on every one of `channels` channels, as a
/// 16-bit WAV file.
pub fn tone_wav(rate: u32, channels: u16, seconds: f32, hz: f32) -> Vec<u8> {
    let spec =
        hound::WavSpec { channels, sample_rate: rate, bits_per_sample: 16, sample_format: hound::SampleFormat::Int };
    let mut wav = std::io::Cursor::new(Vec::new());
    let mut writer = hound::WavWriter::new(&mut wav, spec).expect("a WAV header is written");
    for i in 0..(rate as f32 * seconds) as usize {
        let sample = 0.6 * (2.0 * std::f32::consts::PI * hz * i as f32 / rate as f32).sin();
        for _ in 0..channels {
            writer.write_sample((sample * 32767.0) as i16).expect("a sample is written");
        }
    }
    writer.finalize().expect("the WAV file is finished");
    wav.into_inner()
}

/// `text` spoken by espeak-ng (22.05 kHz mono WAV), written to `dir/<name>`.
pub fn speech_wav(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    let status = Command::new("espeak-ng")
        .arg("-w")
        .arg(&path)
        .arg(text)
        .status()
        .expect("espeak-ng runs (scripts/setup installs it)");
    assert!(status.success(), "espeak-ng failed: {status}");
    path
}

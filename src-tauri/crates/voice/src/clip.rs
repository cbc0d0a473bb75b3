//! A sound clip as Gemma 4's audio encoder takes it: mono f32 samples at 16 kHz.
//!
//! Files (WAV, FLAC, MP3) are decoded with symphonia, channels are averaged into one, and the
//! rate is converted with rubato's FFT resampler; mtmd does no resampling of its own. A clip is
//! kept as a 16-bit WAV file (hound), the form in which it is stored and played back.

use std::fs::File;
use std::io::Cursor;
use std::path::Path;
use std::time::Duration;

use rubato::{FftFixedIn, Resampler};
use symphonia::core::audio::SampleBuffer;
use symphonia::core::codecs::{CODEC_TYPE_NULL, DecoderOptions};
use symphonia::core::errors::Error as SymphoniaError;
use symphonia::core::formats::FormatOptions;
use symphonia::core::io::MediaSourceStream;
use symphonia::core::meta::MetadataOptions;
use symphonia::core::probe::Hint;

/// The rate Gemma 4's audio encoder hears at.
pub const MODEL_SAMPLE_RATE: u32 = 16_000;
/// The longest clip Gemma 4 takes in one piece.
pub const MAX_CLIP: Duration = Duration::from_secs(30);
/// A file longer than this is refused before it is decoded whole (a clip is cut to
/// [`MAX_CLIP`] anyway; this only bounds the memory a huge file could take).
const MAX_FILE_SECONDS: u64 = 10 * 60;

#[derive(Debug, thiserror::Error)]
pub enum ClipError {
    #[error("could not read {name}: {source}")]
    Read { name: String, source: std::io::Error },
    #[error("{name} is not a sound file Gemma Desk can read (WAV, FLAC or MP3): {reason}")]
    Unsupported { name: String, reason: String },
    #[error("{name} is damaged: {reason}")]
    Damaged { name: String, reason: String },
    #[error("{name} holds no sound")]
    Empty { name: String },
    #[error("{name} is {seconds} s long; clips of at most {limit} s are taken", limit = MAX_CLIP.as_secs())]
    TooLong { name: String, seconds: u64 },
    #[error("could not convert the sound to {MODEL_SAMPLE_RATE} Hz: {0}")]
    Resample(String),
    #[error("could not write the clip as WAV: {0}")]
    Wav(#[from] hound::Error),
}

/// Mono samples in [-1, 1] at [`MODEL_SAMPLE_RATE`].
#[derive(Debug, Clone, PartialEq)]
pub struct Clip {
    samples: Vec<f32>,
}

impl Clip {
    /// Makes a clip from interleaved samples of `channels` channels at `rate` Hz: averaged into
    /// one channel, then resampled.
    pub fn from_interleaved(interleaved: &[f32], channels: u16, rate: u32) -> Result<Clip, ClipError> {
        let mono = downmix(interleaved, channels);
        Ok(Clip { samples: resample(&mono, rate, MODEL_SAMPLE_RATE)? })
    }

    /// Takes mono samples already at [`MODEL_SAMPLE_RATE`].
    pub fn from_mono(samples: Vec<f32>) -> Clip {
        Clip { samples }
    }

    /// Decodes a WAV, FLAC or MP3 file. Longer than [`MAX_CLIP`] is refused.
    pub fn from_file(path: &Path) -> Result<Clip, ClipError> {
        let name =
            path.file_name().map_or_else(|| path.display().to_string(), |name| name.to_string_lossy().into_owned());
        let file = File::open(path).map_err(|source| ClipError::Read { name: name.clone(), source })?;
        Clip::from_stream(MediaSourceStream::new(Box::new(file), Default::default()), &name)
    }

    /// Decodes a WAV, FLAC or MP3 file held in memory, named `name` (its extension is a hint to
    /// the format). Longer than [`MAX_CLIP`] is refused.
    pub fn from_bytes(bytes: Vec<u8>, name: &str) -> Result<Clip, ClipError> {
        Clip::from_stream(MediaSourceStream::new(Box::new(Cursor::new(bytes)), Default::default()), name)
    }

    fn from_stream(stream: MediaSourceStream, name: &str) -> Result<Clip, ClipError> {
        let mut hint = Hint::new();
        if let Some(extension) = Path::new(name).extension().and_then(|extension| extension.to_str()) {
            hint.with_extension(extension);
        }
        let (interleaved, channels, rate) = decode(stream, &hint, name)?;
        // Measured before resampling, so that a long file is refused without converting it.
        let length = Duration::from_secs_f64(interleaved.len() as f64 / f64::from(channels) / f64::from(rate));
        if length > MAX_CLIP + Duration::from_millis(50) {
            return Err(ClipError::TooLong { name: name.to_owned(), seconds: length.as_secs() });
        }
        Clip::from_interleaved(&interleaved, channels, rate)
    }

    pub fn samples(&self) -> &[f32] {
        &self.samples
    }

    pub fn duration(&self) -> Duration {
        Duration::from_secs_f64(self.samples.len() as f64 / f64::from(MODEL_SAMPLE_RATE))
    }

    /// The clip as a 16-bit mono WAV file at [`MODEL_SAMPLE_RATE`].
    pub fn to_wav(&self) -> Result<Vec<u8>, ClipError> {
        let spec = hound::WavSpec {
            channels: 1,
            sample_rate: MODEL_SAMPLE_RATE,
            bits_per_sample: 16,
            sample_format: hound::SampleFormat::Int,
        };
        let mut bytes = Cursor::new(Vec::with_capacity(44 + self.samples.len() * 2));
        let mut writer = hound::WavWriter::new(&mut bytes, spec)?;
        for &sample in &self.samples {
            writer.write_sample((sample.clamp(-1.0, 1.0) * f32::from(i16::MAX)).round() as i16)?;
        }
        writer.finalize()?;
        Ok(bytes.into_inner())
    }
}

/// Decodes the first audio track to interleaved f32 samples: `(samples, channels, rate)`.
fn decode(stream: MediaSourceStream, hint: &Hint, name: &str) -> Result<(Vec<f32>, u16, u32), ClipError> {
    let unsupported = |reason: String| ClipError::Unsupported { name: name.to_owned(), reason };
    let damaged = |reason: String| ClipError::Damaged { name: name.to_owned(), reason };
    let probed = symphonia::default::get_probe()
        .format(hint, stream, &FormatOptions::default(), &MetadataOptions::default())
        .map_err(|error| unsupported(error.to_string()))?;
    let mut format = probed.format;
    let track = format
        .tracks()
        .iter()
        .find(|track| track.codec_params.codec != CODEC_TYPE_NULL)
        .ok_or_else(|| unsupported("it has no audio track".to_owned()))?;
    let track_id = track.id;
    let mut decoder = symphonia::default::get_codecs()
        .make(&track.codec_params, &DecoderOptions::default())
        .map_err(|error| unsupported(error.to_string()))?;

    let mut samples = Vec::new();
    let mut channels = 0u16;
    let mut rate = 0u32;
    loop {
        let packet = match format.next_packet() {
            Ok(packet) => packet,
            Err(SymphoniaError::IoError(error)) if error.kind() == std::io::ErrorKind::UnexpectedEof => break,
            Err(error) => return Err(damaged(error.to_string())),
        };
        if packet.track_id() != track_id {
            continue;
        }
        let decoded = match decoder.decode(&packet) {
            Ok(decoded) => decoded,
            // A corrupt frame in a lossy stream is skipped, as players do.
            Err(SymphoniaError::DecodeError(_)) => continue,
            Err(error) => return Err(damaged(error.to_string())),
        };
        let spec = *decoded.spec();
        channels = spec.channels.count() as u16;
        rate = spec.rate;
        if rate == 0 || channels == 0 {
            return Err(damaged("it names no sample rate or channels".to_owned()));
        }
        if samples.len() as u64 / u64::from(channels) > MAX_FILE_SECONDS * u64::from(rate) {
            return Err(ClipError::TooLong { name: name.to_owned(), seconds: MAX_FILE_SECONDS });
        }
        let mut buffer = SampleBuffer::<f32>::new(decoded.capacity() as u64, spec);
        buffer.copy_interleaved_ref(decoded);
        samples.extend_from_slice(buffer.samples());
    }
    if samples.is_empty() {
        return Err(ClipError::Empty { name: name.to_owned() });
    }
    Ok((samples, channels, rate))
}

/// The average of the channels of each frame.
fn downmix(interleaved: &[f32], channels: u16) -> Vec<f32> {
    let channels = usize::from(channels.max(1));
    if channels == 1 {
        return interleaved.to_vec();
    }
    interleaved.chunks_exact(channels).map(|frame| frame.iter().sum::<f32>() / channels as f32).collect()
}

/// Converts mono samples from `from` Hz to `to` Hz, keeping their length in time (the
/// resampler's delay is cut from the start, its tail from the end).
pub fn resample(samples: &[f32], from: u32, to: u32) -> Result<Vec<f32>, ClipError> {
    if from == to || samples.is_empty() {
        return Ok(samples.to_vec());
    }
    let error = |error: &dyn std::fmt::Display| ClipError::Resample(error.to_string());
    let chunk = 1024;
    let mut resampler = FftFixedIn::<f32>::new(from as usize, to as usize, chunk, 2, 1).map_err(|e| error(&e))?;
    let expected = (samples.len() as u64 * u64::from(to)).div_ceil(u64::from(from)) as usize;
    let delay = resampler.output_delay();
    let mut output = Vec::with_capacity(expected + delay + chunk);
    let mut rest = samples;
    while rest.len() >= resampler.input_frames_next() {
        let (now, later) = rest.split_at(resampler.input_frames_next());
        let out = resampler.process(&[now], None).map_err(|e| error(&e))?;
        output.extend_from_slice(&out[0]);
        rest = later;
    }
    if !rest.is_empty() {
        let out = resampler.process_partial(Some(&[rest]), None).map_err(|e| error(&e))?;
        output.extend_from_slice(&out[0]);
    }
    while output.len() < expected + delay {
        let out = resampler.process_partial::<&[f32]>(None, None).map_err(|e| error(&e))?;
        output.extend_from_slice(&out[0]);
    }
    output.drain(..delay);
    output.truncate(expected);
    Ok(output)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tone(rate: u32, seconds: f32, hz: f32) -> Vec<f32> {
        (0..(rate as f32 * seconds) as usize)
            .map(|i| 0.5 * (2.0 * std::f32::consts::PI * hz * i as f32 / rate as f32).sin())
            .collect()
    }

    /// Writes interleaved samples as a 16-bit WAV file.
    fn write_wav(path: &Path, channels: u16, rate: u32, interleaved: &[f32]) {
        let spec = hound::WavSpec {
            channels,
            sample_rate: rate,
            bits_per_sample: 16,
            sample_format: hound::SampleFormat::Int,
        };
        let mut writer = hound::WavWriter::create(path, spec).unwrap();
        for &sample in interleaved {
            writer.write_sample((sample * 32767.0) as i16).unwrap();
        }
        writer.finalize().unwrap();
    }

    fn correlation(a: &[f32], b: &[f32]) -> f32 {
        let n = a.len().min(b.len());
        let dot: f32 = a[..n].iter().zip(&b[..n]).map(|(x, y)| x * y).sum();
        let norm = |v: &[f32]| v[..n].iter().map(|x| x * x).sum::<f32>().sqrt();
        dot / (norm(a) * norm(b))
    }

    #[test]
    fn resampling_keeps_the_length_in_time_and_the_shape() {
        let at_48k = tone(48_000, 1.5, 440.0);
        let at_16k = resample(&at_48k, 48_000, 16_000).unwrap();
        assert_eq!(at_16k.len(), 24_000);
        let reference = tone(16_000, 1.5, 440.0);
        // The resampler's delay is cut: the tone lines up with one made at 16 kHz.
        assert!(correlation(&at_16k, &reference) > 0.99, "{}", correlation(&at_16k, &reference));
    }

    #[test]
    fn upsampling_from_a_low_rate_works_too() {
        let at_8k = tone(8_000, 0.5, 300.0);
        let at_16k = resample(&at_8k, 8_000, 16_000).unwrap();
        assert_eq!(at_16k.len(), 8_000);
        assert!(correlation(&at_16k, &tone(16_000, 0.5, 300.0)) > 0.99);
    }

    #[test]
    fn channels_are_averaged() {
        let stereo = [1.0, 0.0, 0.5, 0.5, -1.0, 1.0];
        assert_eq!(downmix(&stereo, 2), vec![0.5, 0.5, 0.0]);
    }

    #[test]
    fn a_wav_round_trip_keeps_the_samples_within_16_bit_precision() {
        let clip = Clip::from_interleaved(&tone(16_000, 0.25, 200.0), 1, 16_000).unwrap();
        let wav = clip.to_wav().unwrap();
        assert_eq!(&wav[..4], b"RIFF");
        let back = Clip::from_bytes(wav, "clip.wav").unwrap();
        assert_eq!(back.samples().len(), clip.samples().len());
        let worst = clip.samples().iter().zip(back.samples()).map(|(a, b)| (a - b).abs()).fold(0.0, f32::max);
        assert!(worst < 1.0 / 16_000.0, "{worst}");
    }

    #[test]
    fn a_stereo_44k_file_becomes_16k_mono() {
        let folder = tempfile::tempdir().unwrap();
        let path = folder.path().join("stereo.wav");
        let both_channels: Vec<f32> =
            tone(44_100, 2.0, 440.0).into_iter().flat_map(|sample| [sample, sample]).collect();
        write_wav(&path, 2, 44_100, &both_channels);
        let clip = Clip::from_file(&path).unwrap();
        assert_eq!(clip.samples().len(), 32_000);
        assert_eq!(clip.duration(), Duration::from_secs(2));
        assert!(correlation(clip.samples(), &tone(16_000, 2.0, 440.0)) > 0.99);
    }

    #[test]
    fn bad_files_get_clear_errors() {
        let folder = tempfile::tempdir().unwrap();
        let text = folder.path().join("notes.wav");
        std::fs::write(&text, "not a sound at all, just words").unwrap();
        let error = Clip::from_file(&text).unwrap_err();
        assert!(matches!(error, ClipError::Unsupported { .. }), "{error:?}");
        assert!(error.to_string().starts_with("notes.wav is not a sound file"), "{error}");

        let missing = Clip::from_file(&folder.path().join("gone.wav")).unwrap_err();
        assert!(matches!(missing, ClipError::Read { .. }), "{missing:?}");

        let long = folder.path().join("long.wav");
        write_wav(&long, 1, 8_000, &vec![0.0; 8_000 * 31]);
        let error = Clip::from_file(&long).unwrap_err();
        assert!(matches!(error, ClipError::TooLong { seconds: 31, .. }), "{error:?}");
    }

    #[test]
    fn a_truncated_file_gives_the_sound_it_holds() {
        let folder = tempfile::tempdir().unwrap();
        let path = folder.path().join("cut.wav");
        write_wav(&path, 1, 16_000, &tone(16_000, 2.0, 440.0));
        let whole = std::fs::read(&path).unwrap();
        // The header still promises two seconds; the bytes hold one.
        let clip = Clip::from_bytes(whole[..44 + 32_000].to_vec(), "cut.wav").unwrap();
        assert_eq!(clip.samples().len(), 16_000);
        let error = Clip::from_bytes(whole[..30].to_vec(), "header.wav").unwrap_err();
        assert!(error.to_string().starts_with("header.wav "), "{error}");
    }
}

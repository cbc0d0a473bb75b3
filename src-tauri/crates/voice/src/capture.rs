//! Recording from a microphone with cpal: the device's own format is taken as it comes,
//! converted to f32, kept whole until the recording ends (at most [`MAX_CLIP`]), then averaged
//! to mono and resampled into a [`Clip`] with its silent ends cut off.
//!
//! The stream lives on a thread of its own (a cpal stream may not move between threads on every
//! platform); a [`Recording`] only holds what that thread shares, so it can be kept anywhere.

use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use cpal::traits::{DeviceTrait, HostTrait, StreamTrait};
use cpal::{ErrorKind, FromSample, SampleFormat, SizedSample};

use crate::clip::{Clip, ClipError, MAX_CLIP, MODEL_SAMPLE_RATE};
use crate::level;

/// A recording shorter than this (after its silent ends are cut) is not sent.
pub const MIN_SPEECH: Duration = Duration::from_millis(300);
/// A device that delivers nothing for this long while recording is taken as gone: some
/// systems report an unplugged microphone only by its silence.
const STALL: Duration = Duration::from_secs(2);
/// How long to wait for the device to open before saying it is busy.
const OPEN_TIMEOUT: Duration = Duration::from_secs(5);

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum CaptureError {
    #[error("no microphone was found; connect one, or choose another input in Settings")]
    NoMicrophone,
    #[error("the microphone \"{0}\" is not connected; connect it, or choose another input in Settings")]
    DeviceNotFound(String),
    #[error("Gemma Desk may not use the microphone: {}", permission_hint())]
    PermissionDenied,
    #[error("the microphone is in use by another application; close it and try again")]
    Busy,
    #[error("the microphone cannot record: {0}")]
    Device(String),
    #[error("nothing was said: the recording was silent (is the right microphone chosen, and not muted?)")]
    Silent,
    #[error("the recording was too short; hold the button while you speak")]
    TooShort,
    #[error(transparent)]
    Clip(#[from] ClipErrorMessage),
}

/// A [`ClipError`] kept as its message, so that [`CaptureError`] can be compared and cloned.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{0}")]
pub struct ClipErrorMessage(String);

impl From<ClipError> for CaptureError {
    fn from(error: ClipError) -> Self {
        CaptureError::Clip(ClipErrorMessage(error.to_string()))
    }
}

fn permission_hint() -> &'static str {
    if cfg!(target_os = "macos") {
        "allow it in System Settings › Privacy & Security › Microphone"
    } else if cfg!(target_os = "windows") {
        "turn on Settings › Privacy & security › Microphone › Let desktop apps access your microphone"
    } else {
        "your user needs access to the sound devices (the audio group, or PipeWire/PulseAudio permissions)"
    }
}

/// An input or output device as the system names it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, ts_rs::TS)]
pub struct AudioDevice {
    /// Stable across runs; what Settings keeps.
    pub id: String,
    pub name: String,
    pub is_default: bool,
}

/// The system's sound devices. A host that cannot be reached gives empty lists, not an error:
/// a machine without sound hardware is an ordinary case.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, ts_rs::TS)]
pub struct AudioDevices {
    pub inputs: Vec<AudioDevice>,
    pub outputs: Vec<AudioDevice>,
}

pub fn devices() -> AudioDevices {
    let host = cpal::default_host();
    let default_input = host.default_input_device().and_then(|device| device.id().ok());
    let default_output = host.default_output_device().and_then(|device| device.id().ok());
    let list = |devices: Option<Vec<cpal::Device>>, default: &Option<cpal::DeviceId>| {
        devices
            .unwrap_or_default()
            .into_iter()
            .filter_map(|device| {
                let id = device.id().ok()?;
                let name =
                    device.description().map_or_else(|_| id.to_string(), |description| description.name().to_owned());
                Some(AudioDevice { is_default: Some(&id) == default.as_ref(), id: id.to_string(), name })
            })
            .collect()
    };
    AudioDevices {
        inputs: list(host.input_devices().ok().map(Iterator::collect), &default_input),
        outputs: list(host.output_devices().ok().map(Iterator::collect), &default_output),
    }
}

/// How a recording ended.
#[derive(Debug, Clone, PartialEq)]
pub enum Ended {
    /// The user let go.
    Released,
    /// [`MAX_CLIP`] was reached; what came before is kept.
    LimitReached,
    /// The device went away mid-recording; what came before is kept.
    DeviceLost(String),
}

/// What a finished recording gave.
#[derive(Debug, Clone)]
pub struct Take {
    pub clip: Clip,
    pub ended: Ended,
}

/// A moment of a recording, for the level meter and the timer.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Progress {
    /// Sound recorded so far (not wall-clock time: a device may deliver faster or slower).
    pub recorded: Duration,
    /// Loudness of the latest sound, 0 (silence, −60 dBFS or below) to 1 (full scale).
    pub level: f32,
    /// Recording has stopped on its own: the limit was reached or the device went away.
    pub stopped: bool,
}

/// A microphone being recorded. Dropping it stops and discards the recording.
pub struct Recording {
    meter: Meter,
    stop: Option<mpsc::Sender<()>>,
    worker: Option<thread::JoinHandle<()>>,
    channels: u16,
}

/// A recording's progress, readable from any thread while the [`Recording`] is kept elsewhere.
#[derive(Clone)]
pub struct Meter {
    shared: Arc<Shared>,
    rate: u32,
}

struct Shared {
    samples: Mutex<Vec<f32>>,
    /// Interleaved samples that make [`MAX_CLIP`] at the device's format.
    capacity: usize,
    frames: AtomicU64,
    level_bits: AtomicU32,
    started: Instant,
    /// Milliseconds after `started` at which the device last delivered sound.
    last_delivery_ms: AtomicU64,
    full: AtomicBool,
    lost: Mutex<Option<String>>,
    /// While set (the app is speaking), sound is delivered as silence so the app never hears
    /// itself; the recording's length still grows.
    muted: Arc<AtomicBool>,
}

impl Recording {
    /// Starts recording from the input named by `device_id` ([`AudioDevice::id`]), or the
    /// system's default input.
    pub fn start(device_id: Option<&str>) -> Result<Recording, CaptureError> {
        Recording::start_muted_by(device_id, Arc::new(AtomicBool::new(false)))
    }

    /// Like [`Recording::start`], with sound replaced by silence while `muted` is set.
    pub fn start_muted_by(device_id: Option<&str>, muted: Arc<AtomicBool>) -> Result<Recording, CaptureError> {
        let device = input_device(device_id)?;
        let config = device.default_input_config().map_err(|error| open_error(&error))?;
        let (channels, rate, format) = (config.channels(), config.sample_rate(), config.sample_format());
        let capacity = MAX_CLIP.as_secs() as usize * rate as usize * channels as usize;
        let shared = Arc::new(Shared::new(capacity, muted));
        let (opened_tx, opened_rx) = mpsc::channel();
        let (stop_tx, stop_rx) = mpsc::channel::<()>();
        let stream_shared = Arc::clone(&shared);
        let worker = thread::Builder::new()
            .name("microphone".into())
            .spawn(move || {
                let stream = match build_stream(&device, &config.into(), format, stream_shared) {
                    Ok(stream) => stream,
                    Err(error) => {
                        let _ = opened_tx.send(Err(error));
                        return;
                    }
                };
                let _ = opened_tx.send(Ok(()));
                // Until told to stop (or the recording is dropped, which closes the channel).
                let _ = stop_rx.recv();
                drop(stream);
            })
            .map_err(|error| CaptureError::Device(error.to_string()))?;
        match opened_rx.recv_timeout(OPEN_TIMEOUT) {
            Ok(Ok(())) => {}
            Ok(Err(error)) => return Err(error),
            Err(_) => return Err(CaptureError::Busy),
        }
        Ok(Recording { meter: Meter { shared, rate }, stop: Some(stop_tx), worker: Some(worker), channels })
    }

    pub fn progress(&self) -> Progress {
        self.meter.progress()
    }

    /// A handle on the progress, for a thread that shows it.
    pub fn meter(&self) -> Meter {
        self.meter.clone()
    }

    fn stalled(&self) -> bool {
        self.meter.stalled()
    }

    /// Stops recording and makes the clip: mono, at the model's rate, its silent ends cut off.
    /// A recording that holds no speech is [`CaptureError::Silent`]; one shorter than
    /// [`MIN_SPEECH`] is [`CaptureError::TooShort`].
    pub fn finish(mut self) -> Result<Take, CaptureError> {
        let stalled = self.stalled();
        self.stop_stream();
        let ended = if let Some(reason) = self.meter.shared.lost.lock().unwrap().take() {
            Ended::DeviceLost(reason)
        } else if self.meter.shared.full.load(Ordering::Relaxed) {
            Ended::LimitReached
        } else if stalled {
            Ended::DeviceLost("the microphone stopped sending sound".into())
        } else {
            Ended::Released
        };
        let samples = std::mem::take(&mut *self.meter.shared.samples.lock().unwrap());
        Ok(Take { clip: clip_of_recording(&samples, self.channels, self.meter.rate)?, ended })
    }

    fn stop_stream(&mut self) {
        drop(self.stop.take());
        // A stalled device may hold its stream's thread in a read that never returns; that
        // thread is left to end when the device does, rather than hang the app on it.
        if let Some(worker) = self.worker.take()
            && !self.stalled()
        {
            let _ = worker.join();
        }
    }
}

impl Meter {
    pub fn progress(&self) -> Progress {
        let shared = &self.shared;
        Progress {
            recorded: Duration::from_secs_f64(shared.frames.load(Ordering::Relaxed) as f64 / f64::from(self.rate)),
            level: f32::from_bits(shared.level_bits.load(Ordering::Relaxed)),
            stopped: shared.full.load(Ordering::Relaxed) || self.stalled() || shared.lost.lock().unwrap().is_some(),
        }
    }

    fn stalled(&self) -> bool {
        let since_start = self.shared.started.elapsed();
        let last = Duration::from_millis(self.shared.last_delivery_ms.load(Ordering::Relaxed));
        since_start.saturating_sub(last) > STALL
    }
}

/// What a recording becomes when it ends: `interleaved` sound as the device delivered it
/// (`channels` at `rate` Hz) averaged to mono, resampled to the model's rate, its silent ends
/// cut off. [`CaptureError::Silent`] when it holds no speech, [`CaptureError::TooShort`] when the
/// speech is shorter than [`MIN_SPEECH`].
pub fn clip_of_recording(interleaved: &[f32], channels: u16, rate: u32) -> Result<Clip, CaptureError> {
    let clip = Clip::from_interleaved(interleaved, channels, rate)?;
    let Some(speech) = level::speech_span(clip.samples(), MODEL_SAMPLE_RATE) else {
        return Err(CaptureError::Silent);
    };
    let clip = Clip::from_mono(clip.samples()[speech].to_vec());
    if clip.duration() < MIN_SPEECH {
        return Err(CaptureError::TooShort);
    }
    Ok(clip)
}

impl Drop for Recording {
    fn drop(&mut self) {
        self.stop_stream();
    }
}

fn input_device(device_id: Option<&str>) -> Result<cpal::Device, CaptureError> {
    let host = cpal::default_host();
    match device_id {
        None => host.default_input_device().ok_or(CaptureError::NoMicrophone),
        Some(id) => {
            let not_found = || CaptureError::DeviceNotFound(id.to_owned());
            let parsed: cpal::DeviceId = id.parse().map_err(|_| not_found())?;
            host.device_by_id(&parsed).filter(DeviceTrait::supports_input).ok_or_else(not_found)
        }
    }
}

/// Why a device could not be opened, in the user's terms.
fn open_error(error: &cpal::Error) -> CaptureError {
    match error.kind() {
        ErrorKind::DeviceNotAvailable | ErrorKind::HostUnavailable => CaptureError::NoMicrophone,
        ErrorKind::PermissionDenied => CaptureError::PermissionDenied,
        ErrorKind::DeviceBusy => CaptureError::Busy,
        _ => CaptureError::Device(error.to_string()),
    }
}

fn build_stream(
    device: &cpal::Device,
    config: &cpal::StreamConfig,
    format: SampleFormat,
    shared: Arc<Shared>,
) -> Result<cpal::Stream, CaptureError> {
    let stream = match format {
        SampleFormat::F32 => build_typed::<f32>(device, config, shared),
        SampleFormat::I16 => build_typed::<i16>(device, config, shared),
        SampleFormat::I32 => build_typed::<i32>(device, config, shared),
        SampleFormat::U16 => build_typed::<u16>(device, config, shared),
        SampleFormat::U8 => build_typed::<u8>(device, config, shared),
        SampleFormat::I8 => build_typed::<i8>(device, config, shared),
        SampleFormat::F64 => build_typed::<f64>(device, config, shared),
        other => return Err(CaptureError::Device(format!("its sample format {other} is not supported"))),
    }
    .map_err(|error| open_error(&error))?;
    stream.play().map_err(|error| open_error(&error))?;
    Ok(stream)
}

fn build_typed<T>(
    device: &cpal::Device,
    config: &cpal::StreamConfig,
    shared: Arc<Shared>,
) -> Result<cpal::Stream, cpal::Error>
where
    T: SizedSample,
    f32: FromSample<T>,
{
    let channels = usize::from(config.channels);
    let on_error_shared = Arc::clone(&shared);
    device.build_input_stream(
        *config,
        move |data: &[T], _: &cpal::InputCallbackInfo| shared.deliver(data, channels),
        move |error| on_error_shared.stream_failed(&error),
        None,
    )
}

impl Shared {
    /// Room for `capacity` interleaved samples, recording from now.
    fn new(capacity: usize, muted: Arc<AtomicBool>) -> Shared {
        Shared {
            samples: Mutex::new(Vec::with_capacity(capacity)),
            capacity,
            frames: AtomicU64::new(0),
            level_bits: AtomicU32::new(0),
            started: Instant::now(),
            last_delivery_ms: AtomicU64::new(0),
            full: AtomicBool::new(false),
            lost: Mutex::new(None),
            muted,
        }
    }

    fn deliver<T>(&self, data: &[T], channels: usize)
    where
        T: SizedSample,
        f32: FromSample<T>,
    {
        self.last_delivery_ms.store(self.started.elapsed().as_millis() as u64, Ordering::Relaxed);
        let mut samples = self.samples.lock().unwrap();
        let room = self.capacity - samples.len();
        let taken = &data[..data.len().min(room) / channels * channels];
        let before = samples.len();
        if self.muted.load(Ordering::Relaxed) {
            samples.resize(before + taken.len(), 0.0);
        } else {
            samples.extend(taken.iter().map(|&sample| sample.to_sample::<f32>()));
        }
        let block_level = level::meter(level::rms(&samples[before..]));
        drop(samples);
        self.level_bits.store(block_level.to_bits(), Ordering::Relaxed);
        self.frames.fetch_add((taken.len() / channels) as u64, Ordering::Relaxed);
        if taken.len() < data.len() {
            self.full.store(true, Ordering::Relaxed);
        }
    }

    fn stream_failed(&self, error: &cpal::Error) {
        match error.kind() {
            // Passing glitches: the stream goes on.
            ErrorKind::Xrun | ErrorKind::RealtimeDenied | ErrorKind::DeviceChanged => {}
            ErrorKind::DeviceNotAvailable | ErrorKind::StreamInvalidated => {
                *self.lost.lock().unwrap() = Some("the microphone was disconnected".into());
            }
            _ => *self.lost.lock().unwrap() = Some(format!("the microphone failed: {error}")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shared(capacity: usize) -> Shared {
        Shared::new(capacity, Arc::new(AtomicBool::new(false)))
    }

    #[test]
    fn sound_beyond_the_limit_is_dropped_in_whole_frames_and_marks_the_recording_full() {
        let shared = shared(10);
        shared.deliver(&[0.5f32; 8], 2);
        assert!(!shared.full.load(Ordering::Relaxed));
        shared.deliver(&[0.5f32; 8], 2);
        assert_eq!(shared.samples.lock().unwrap().len(), 10);
        assert_eq!(shared.frames.load(Ordering::Relaxed), 5);
        assert!(shared.full.load(Ordering::Relaxed));
    }

    #[test]
    fn integer_samples_are_converted_and_the_meter_follows_the_latest_block() {
        let shared = shared(100);
        shared.deliver(&[i16::MAX, i16::MIN], 1);
        assert!(shared.samples.lock().unwrap().iter().all(|sample| sample.abs() > 0.99));
        assert!(f32::from_bits(shared.level_bits.load(Ordering::Relaxed)) > 0.99);
        shared.deliver(&[0i16; 4], 1);
        assert_eq!(f32::from_bits(shared.level_bits.load(Ordering::Relaxed)), 0.0);
    }

    #[test]
    fn while_muted_the_device_is_heard_as_silence_but_time_goes_on() {
        let shared = shared(100);
        shared.muted.store(true, Ordering::Relaxed);
        shared.deliver(&[0.8f32; 6], 1);
        assert_eq!(*shared.samples.lock().unwrap(), vec![0.0; 6]);
        assert_eq!(shared.frames.load(Ordering::Relaxed), 6);
    }

    #[test]
    fn a_disconnected_device_is_kept_as_the_reason_and_glitches_are_not() {
        let shared = shared(100);
        shared.stream_failed(&ErrorKind::Xrun.into());
        assert_eq!(*shared.lost.lock().unwrap(), None);
        shared.stream_failed(&ErrorKind::DeviceNotAvailable.into());
        assert_eq!(shared.lost.lock().unwrap().as_deref(), Some("the microphone was disconnected"));
    }

    #[test]
    fn open_errors_are_named_for_the_user() {
        assert_eq!(open_error(&ErrorKind::DeviceNotAvailable.into()), CaptureError::NoMicrophone);
        assert_eq!(open_error(&ErrorKind::PermissionDenied.into()), CaptureError::PermissionDenied);
        assert_eq!(open_error(&ErrorKind::DeviceBusy.into()), CaptureError::Busy);
        assert!(CaptureError::PermissionDenied.to_string().contains("may not use the microphone"));
    }
}

//! Real capture through cpal and ALSA from microphones that play files (../shared/TESTING.md):
//! the samples that come out match the sound that went in.

use std::path::PathBuf;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use gemma_desk_testing::sound_devices::{self, AfterSound, PacedMicrophone, SPEECH_RATE};
use gemma_desk_voice::{CaptureError, Ended, MAX_CLIP, Recording, Take};

const SPOKEN: &str = "what is in this picture";

/// The sound devices of this test process, set up once before cpal first reads the ALSA
/// configuration: `speech` (a file, not paced), `paced` (real time, then silence), `pulled`
/// (real time, then nothing, as if unplugged) and `silent`.
struct Microphones {
    dir: PathBuf,
    speech: Vec<i16>,
}

fn microphones() -> &'static Microphones {
    static MICROPHONES: OnceLock<Microphones> = OnceLock::new();
    MICROPHONES.get_or_init(|| {
        let dir = tempfile::tempdir().expect("a temporary folder").keep();
        let speech = sound_devices::speech_samples(&dir, "speech", SPOKEN);
        let mut padded = speech.clone();
        padded.extend(vec![0; 3 * SPEECH_RATE as usize]);
        sound_devices::write_microphone_file(&dir.join("speech.raw"), &padded);
        sound_devices::write_microphone_file(&dir.join("silent.raw"), &vec![0; 4 * SPEECH_RATE as usize]);
        let config = sound_devices::alsa_config(
            &dir,
            &[
                ("speech", &dir.join("speech.raw")),
                ("paced", &dir.join("paced.fifo")),
                ("pulled", &dir.join("pulled.fifo")),
                ("silent", &dir.join("silent.raw")),
            ],
            None,
        );
        // SAFETY: set once, before any thread of this process reads the environment through ALSA
        // (every test reaches ALSA only after this initialisation has finished).
        unsafe { std::env::set_var("ALSA_CONFIG_PATH", config) };
        Microphones { dir, speech }
    })
}

fn record(device: Option<&str>, until: impl Fn(Duration) -> bool) -> Result<Take, CaptureError> {
    let recording = Recording::start(device)?;
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let progress = recording.progress();
        if progress.stopped || until(progress.recorded) || Instant::now() > deadline {
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    recording.finish()
}

/// The highest normalised correlation between `clip` and `reference` (both at the model's rate)
/// over shifts of up to half a second.
fn best_correlation(clip: &[f32], reference: &[f32]) -> f32 {
    let max_shift = SPEECH_RATE as usize / 2;
    (0..max_shift.min(clip.len()))
        .map(|shift| {
            let clip = &clip[shift..];
            let n = clip.len().min(reference.len());
            let (a, b) = (&clip[..n], &reference[..n]);
            let dot: f32 = a.iter().zip(b).map(|(x, y)| x * y).sum();
            let norm = (a.iter().map(|x| x * x).sum::<f32>() * b.iter().map(|y| y * y).sum::<f32>()).sqrt();
            if norm == 0.0 { 0.0 } else { dot / norm }
        })
        .fold(0.0, f32::max)
}

fn as_f32(samples: &[i16]) -> Vec<f32> {
    samples.iter().map(|&sample| f32::from(sample) / 32768.0).collect()
}

fn seconds(samples: usize) -> f32 {
    samples as f32 / SPEECH_RATE as f32
}

fn assert_matches_speech(take: &Take, reference: &[i16]) {
    let clip = take.clip.samples();
    let spoken = seconds(reference.len());
    // The silent ends are cut, with a margin of 0.2 s either side of the speech.
    let length = seconds(clip.len());
    assert!(length > spoken - 0.1 && length < spoken + 0.5, "a {length} s clip of {spoken} s of speech");
    let correlation = best_correlation(clip, &as_f32(reference));
    assert!(correlation > 0.9, "the clip matches the spoken sound with correlation {correlation}");
}

#[test]
fn the_default_microphone_records_the_speech_it_plays_resampled_to_16_khz() {
    let microphones = microphones();
    // The file device is not paced: the 30 s limit is reached at once, and the clip is the
    // speech with the silence after it cut off.
    let take = record(None, |_| false).expect("the speech is recorded");
    assert_eq!(take.ended, Ended::LimitReached);
    assert_matches_speech(&take, &microphones.speech);
}

#[test]
fn a_chosen_microphone_paced_in_real_time_records_until_released_and_its_meter_moves() {
    let microphones = microphones();
    let _paced = PacedMicrophone::start(&microphones.dir.join("paced.fifo"), &microphones.speech, AfterSound::Silence);
    let recording = Recording::start(Some("alsa:paced")).expect("the paced microphone opens");
    let enough = Duration::from_secs_f32(seconds(microphones.speech.len()) + 0.5);
    let mut loudest: f32 = 0.0;
    let started = Instant::now();
    while recording.progress().recorded < enough && started.elapsed() < Duration::from_secs(20) {
        loudest = loudest.max(recording.progress().level);
        assert!(!recording.progress().stopped);
        std::thread::sleep(Duration::from_millis(10));
    }
    assert!(loudest > 0.5, "the meter rose to {loudest} while the speech played");
    let take = recording.finish().expect("the speech is recorded");
    assert_eq!(take.ended, Ended::Released);
    assert_matches_speech(&take, &microphones.speech);
}

#[test]
fn a_microphone_that_goes_away_mid_recording_keeps_what_was_said() {
    let microphones = microphones();
    let said = microphones.speech[..microphones.speech.len() * 2 / 3].to_vec();
    let _pulled = PacedMicrophone::start(&microphones.dir.join("pulled.fifo"), &said, AfterSound::Nothing);
    let take = record(Some("alsa:pulled"), |recorded| recorded > MAX_CLIP).expect("what was said is kept");
    assert!(
        matches!(&take.ended, Ended::DeviceLost(reason) if reason.contains("stopped sending sound")),
        "{:?}",
        take.ended
    );
    assert_matches_speech(&take, &said);
}

#[test]
fn a_silent_recording_is_refused_with_a_hint() {
    microphones();
    let error = record(Some("alsa:silent"), |_| false).unwrap_err();
    assert_eq!(error, CaptureError::Silent);
    assert!(error.to_string().contains("muted"), "{error}");
}

#[test]
fn a_microphone_that_is_not_connected_is_named() {
    microphones();
    let error = Recording::start(Some("alsa:not-plugged-in")).err().expect("no such device");
    assert_eq!(error, CaptureError::DeviceNotFound("alsa:not-plugged-in".into()));
}

#[test]
fn the_test_microphones_are_listed_as_inputs() {
    microphones();
    let devices = gemma_desk_voice::devices();
    let inputs: Vec<&str> = devices.inputs.iter().map(|device| device.id.as_str()).collect();
    for name in ["alsa:speech", "alsa:paced", "alsa:pulled", "alsa:silent"] {
        assert!(inputs.contains(&name), "{name} is among {inputs:?}");
    }
}

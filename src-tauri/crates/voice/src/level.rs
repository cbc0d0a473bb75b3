//! Loudness: the level meter's reading, and where the speech in a recording is.
//!
//! Speech is found by energy in 20 ms frames against the recording's own noise floor, which is
//! enough to cut silence from the ends of a push-to-talk clip and to refuse a silent one.
//! [`EndOfSpeech`] follows the meter to tell when a hands-free speaker has finished.

use std::ops::Range;
use std::time::Duration;

const FRAME: Duration = Duration::from_millis(20);
/// Sound kept before and after the speech, so that soft onsets and endings are not clipped.
const MARGIN: Duration = Duration::from_millis(200);
/// Quieter than this (about −46 dBFS) is never speech, whatever the noise floor.
const MIN_SPEECH_RMS: f32 = 0.005;
/// A frame is speech when it is this many times louder than the noise floor.
const ABOVE_NOISE: f32 = 3.0;

pub fn rms(samples: &[f32]) -> f32 {
    if samples.is_empty() {
        return 0.0;
    }
    (samples.iter().map(|sample| sample * sample).sum::<f32>() / samples.len() as f32).sqrt()
}

/// A level meter's reading of an RMS value: −60 dBFS and below is 0, full scale is 1.
pub fn meter(rms: f32) -> f32 {
    if rms <= 0.0 {
        return 0.0;
    }
    ((20.0 * rms.log10() + 60.0) / 60.0).clamp(0.0, 1.0)
}

/// The samples of a mono recording at `rate` Hz from the first to the last frame of speech,
/// with a short margin either side; `None` when nothing in it is speech.
pub fn speech_span(samples: &[f32], rate: u32) -> Option<Range<usize>> {
    let frame = (rate as usize * FRAME.as_millis() as usize / 1000).max(1);
    let levels: Vec<f32> = samples.chunks(frame).map(rms).collect();
    let threshold = (noise_floor(&levels) * ABOVE_NOISE).max(MIN_SPEECH_RMS);
    let first = levels.iter().position(|&level| level > threshold)?;
    let last = levels.iter().rposition(|&level| level > threshold)?;
    let margin = rate as usize * MARGIN.as_millis() as usize / 1000;
    Some((first * frame).saturating_sub(margin)..((last + 1) * frame + margin).min(samples.len()))
}

/// The level of the quietest tenth of the frames: what the room sounds like between words.
fn noise_floor(levels: &[f32]) -> f32 {
    let mut sorted = levels.to_vec();
    sorted.sort_by(f32::total_cmp);
    sorted.get(sorted.len() / 10).copied().unwrap_or(0.0)
}

/// Hands-free turn-taking (conversation mode): follows the meter's readings as a recording
/// goes and decides that the user has finished once speech was heard and a pause followed it.
#[derive(Debug, Default)]
pub struct EndOfSpeech {
    speech: Duration,
    quiet_since: Option<Duration>,
    last: Duration,
}

/// A meter reading at or above this (about −36 dBFS) is a voice, not the room.
const VOICE_LEVEL: f32 = 0.4;
/// This much voice makes a turn (a cough or a click does not).
const TURN_SPEECH: Duration = Duration::from_millis(300);
/// A pause this long after the voice ends the turn.
const TURN_PAUSE: Duration = Duration::from_millis(1200);

impl EndOfSpeech {
    pub fn new() -> EndOfSpeech {
        EndOfSpeech::default()
    }

    /// Takes the meter's `level` once `recorded` of sound has been recorded; whether the turn
    /// has ended.
    pub fn update(&mut self, recorded: Duration, level: f32) -> bool {
        let step = recorded.saturating_sub(self.last);
        self.last = recorded;
        if level >= VOICE_LEVEL {
            self.speech += step;
            self.quiet_since = None;
        } else if self.speech >= TURN_SPEECH && self.quiet_since.is_none() {
            self.quiet_since = Some(recorded);
        }
        self.quiet_since.is_some_and(|since| recorded - since >= TURN_PAUSE)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const RATE: u32 = 16_000;

    fn tone(seconds: f32, amplitude: f32) -> Vec<f32> {
        (0..(seconds * RATE as f32) as usize)
            .map(|i| amplitude * (i as f32 * 440.0 * std::f32::consts::TAU / RATE as f32).sin())
            .collect()
    }

    #[test]
    fn the_meter_reads_decibels_from_minus_sixty_to_full_scale() {
        assert_eq!(meter(0.0), 0.0);
        assert_eq!(meter(0.0001), 0.0);
        assert!((meter(1.0) - 1.0).abs() < 1e-6);
        assert!((meter(0.031_622_8) - 0.5).abs() < 1e-3);
    }

    #[test]
    fn speech_is_found_between_silences_with_a_margin() {
        let mut samples = vec![0.0; RATE as usize];
        samples.extend(tone(1.0, 0.3));
        samples.extend(vec![0.0; 2 * RATE as usize]);
        let span = speech_span(&samples, RATE).unwrap();
        let margin = RATE as usize / 5;
        assert_eq!(span, RATE as usize - margin..2 * RATE as usize + margin);
    }

    #[test]
    fn steady_room_noise_is_not_speech_but_talking_over_it_is() {
        let noise: Vec<f32> = (0..RATE as usize * 2).map(|i| 0.02 * if i % 2 == 0 { 1.0 } else { -1.0 }).collect();
        assert_eq!(speech_span(&noise, RATE), None);
        let mut talking = noise.clone();
        for (sample, voice) in talking[RATE as usize..].iter_mut().zip(tone(0.5, 0.3)) {
            *sample += voice;
        }
        let span = speech_span(&talking, RATE).unwrap();
        assert!(span.start > RATE as usize / 2 && span.end < RATE as usize * 2, "{span:?}");
    }

    #[test]
    fn silence_and_near_silence_hold_no_speech() {
        assert_eq!(speech_span(&[], RATE), None);
        assert_eq!(speech_span(&vec![0.0; RATE as usize], RATE), None);
        assert_eq!(speech_span(&tone(1.0, 0.002), RATE), None);
    }

    /// Feeds `readings` (level, for 50 ms each) and gives the time at which the turn ended.
    fn turn_ends_at(readings: &[(f32, usize)]) -> Option<Duration> {
        let mut detector = EndOfSpeech::new();
        let mut recorded = Duration::ZERO;
        for &(level, count) in readings {
            for _ in 0..count {
                recorded += Duration::from_millis(50);
                if detector.update(recorded, level) {
                    return Some(recorded);
                }
            }
        }
        None
    }

    #[test]
    fn a_turn_ends_after_a_pause_that_follows_speech() {
        // 1 s of silence, 1 s of voice, then quiet: the turn ends 1.2 s into the quiet.
        let ended = turn_ends_at(&[(0.1, 20), (0.6, 20), (0.1, 40)]);
        assert_eq!(ended, Some(Duration::from_millis(3250)));
        // A pause between words shorter than that does not end it.
        assert_eq!(turn_ends_at(&[(0.6, 10), (0.1, 20), (0.6, 10), (0.1, 10)]), None);
    }

    #[test]
    fn silence_or_a_click_alone_is_not_a_turn() {
        assert_eq!(turn_ends_at(&[(0.0, 200)]), None);
        assert_eq!(turn_ends_at(&[(0.9, 2), (0.1, 100)]), None);
    }
}

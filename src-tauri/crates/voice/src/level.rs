//! Loudness: the level meter's reading, and where the speech in a recording is.
//!
//! Speech is found by energy in 20 ms frames against the recording's own noise floor, which is
//! enough to cut silence from the ends of a push-to-talk clip and to refuse a silent one.

use std::ops::Range;

const FRAME: std::time::Duration = std::time::Duration::from_millis(20);
/// Sound kept before and after the speech, so that soft onsets and endings are not clipped.
const MARGIN: std::time::Duration = std::time::Duration::from_millis(200);
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
}

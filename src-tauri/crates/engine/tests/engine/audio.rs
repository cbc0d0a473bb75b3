//! Sound clips through the real mtmd path, with the tiny generated `gemma4ua` projector (one
//! matrix over raw 640-sample frames of 16 kHz audio, 25 tokens a second) and the 270M model.

use std::path::Path;

use gemma_desk_engine::{ChatMessage, LoadOptions, LoadedModel, MediaRef, Session};
use gemma_desk_testing::sounds::tone_wav;
use gemma_desk_testing::test_projector;
use sha2::{Digest, Sha256};

use crate::session::{backend, greedy, reply};
use crate::test_model;

fn load_audio() -> (LoadedModel, LoadOptions) {
    let options = LoadOptions {
        model: test_model(),
        mmproj: Some(test_projector("audio-gemma4ua")),
        ctx: Some(2048),
        threads: Some(2),
        ..Default::default()
    };
    (LoadedModel::load(backend(), &options).expect("the test model loads with the audio projector"), options)
}

/// Writes a WAV clip of `seconds` at `rate` Hz, a tone of `hz`, named by its sha256.
fn clip(dir: &Path, rate: u32, seconds: f32, hz: f32) -> MediaRef {
    let bytes = tone_wav(rate, 1, seconds, hz);
    let sha256 = format!("{:x}", Sha256::digest(&bytes));
    let path = dir.join(&sha256);
    std::fs::write(&path, &bytes).unwrap();
    MediaRef { sha256, path }
}

fn saying(media: Vec<MediaRef>, text: &str) -> ChatMessage {
    ChatMessage { media, ..ChatMessage::user(text) }
}

#[test]
fn a_clip_becomes_25_audio_tokens_a_second_whatever_its_rate() {
    let dir = tempfile::tempdir().unwrap();
    let (model, options) = load_audio();
    let prompt_tokens = |media: Vec<MediaRef>| {
        let mut session = Session::new(backend(), &model, &options).unwrap();
        reply(&mut session, &[saying(media, "What is said?")], &greedy(1)).1.prompt_tokens
    };
    let none = prompt_tokens(vec![]);
    let two_seconds = prompt_tokens(vec![clip(dir.path(), 16_000, 2.0, 440.0)]);
    // Recorded at 48 kHz: resampled to the projector's 16 kHz before mtmd sees it.
    let four_seconds = prompt_tokens(vec![clip(dir.path(), 48_000, 4.0, 440.0)]);
    assert_eq!(four_seconds - two_seconds, 50, "two more seconds are 50 more audio tokens");
    assert!(two_seconds >= none + 50, "{two_seconds} against {none} without the clip");
}

#[test]
fn the_reply_depends_on_the_clip_and_a_follow_up_reuses_its_tokens() {
    let dir = tempfile::tempdir().unwrap();
    let (model, options) = load_audio();
    let (low, high) = (clip(dir.path(), 16_000, 2.0, 220.0), clip(dir.path(), 16_000, 2.0, 1_760.0));

    let mut session = Session::new(backend(), &model, &options).unwrap();
    let (without, plain) = reply(&mut session, &[ChatMessage::user("What is said?")], &greedy(12));
    let mut session = Session::new(backend(), &model, &options).unwrap();
    let (of_high, _) = reply(&mut session, &[saying(vec![high], "What is said?")], &greedy(12));
    let mut session = Session::new(backend(), &model, &options).unwrap();
    let first_turn = [saying(vec![low], "What is said?")];
    let (of_low, first) = reply(&mut session, &first_turn, &greedy(12));
    assert_ne!(of_low, without, "the greedy reply must depend on the clip");
    assert_ne!(of_low, of_high, "two different clips must give different replies");
    assert_eq!(first.image_tokens_encoded, 0, "a clip is not counted as image tokens: {first:?}");

    session.settle().unwrap();
    let follow_up = [first_turn[0].clone(), ChatMessage::assistant(&of_low), ChatMessage::user("And then?")];
    let (_, second) = reply(&mut session, &follow_up, &greedy(4));
    // The clip's positions come after a few text tokens and are reused whole or not at all, so
    // reusing more than they take means they were reused. (How far past the first question the
    // reuse reaches depends on whether the base model's random reply tokenizes back the same.)
    let clip_positions = first.prompt_tokens - plain.prompt_tokens;
    assert!(
        second.reused_tokens > clip_positions,
        "the follow-up reuses the first question, clip included ({clip_positions} positions): {second:?}"
    );
}

//! Sound clips in a turn: stored as the 16 kHz WAV the model hears, given to the model through
//! the audio projector, refused before anything is stored when the model cannot hear.

use gemma_desk_chat::{ChatError, ChatEvent, EngineTuning, ModelChoice, check_clip};
use gemma_desk_testing::sounds::tone_wav;
use gemma_desk_testing::test_projector;
use libtest_mimic::Trial;

use crate::{Fixture, greedy, test_model, trial};

pub fn tests() -> Vec<Trial> {
    vec![
        trial(
            "a_clip_is_stored_as_the_model_hears_it_and_answered",
            a_clip_is_stored_as_the_model_hears_it_and_answered,
        ),
        trial("a_follow_up_reuses_the_clips_cached_tokens", a_follow_up_reuses_the_clips_cached_tokens),
        trial("a_clip_for_a_model_that_cannot_hear_stores_nothing", a_clip_for_a_model_that_cannot_hear_stores_nothing),
    ]
}

async fn with_projector(projector: &str) -> Fixture {
    let fixture = Fixture::new().await;
    let choice = ModelChoice { model: test_model(), mmproj: Some(test_projector(projector)) };
    let tuning = EngineTuning { context_size: Some(2048), threads: Some(2), gpu_layers: None, image_tokens: None };
    fixture.chat.load_model(&choice, tuning).await.expect("the test model loads with the projector");
    fixture
}

async fn a_clip_is_stored_as_the_model_hears_it_and_answered() {
    let fixture = with_projector("audio-gemma4ua").await;
    let conversation = fixture.conversation(None).await;
    // Stereo at 44.1 kHz, as a file from elsewhere would be.
    let (clip, _) = check_clip(Some("tone.wav".into()), tone_wav(44_100, 2, 2.0, 330.0)).unwrap();
    let mut events = Vec::new();
    let with_clip = fixture
        .chat
        .send_with_attachments(conversation.id, "What do you hear?", vec![clip], &greedy(10), |e| events.push(e))
        .await
        .unwrap();
    let ChatEvent::Started { user_attachments, .. } = &events[0] else { panic!("{:?}", events[0]) };
    let [stored] = user_attachments.as_slice() else { panic!("one attachment: {user_attachments:?}") };
    assert_eq!(
        (stored.media_type.as_str(), stored.duration_ms, stored.name.as_deref()),
        ("audio/wav", Some(2000), Some("tone.wav"))
    );
    assert_eq!((stored.width, stored.height), (None, None));
    let file = std::fs::read(fixture.chat.store().attachment_path(&stored.sha256)).unwrap();
    let wav = hound::WavReader::new(file.as_slice()).unwrap();
    assert_eq!(
        (wav.spec().channels, wav.spec().sample_rate, wav.len()),
        (1, 16_000, 32_000),
        "kept as the model hears it"
    );
    // 25 audio tokens a second: the clip's 50 tokens are in the prompt.
    let other = fixture.conversation(None).await;
    let without = fixture.chat.send(other.id, "What do you hear?", &greedy(10), |_| {}).await.unwrap();
    let (with, plain) = (with_clip.stats.prompt_tokens.unwrap(), without.stats.prompt_tokens.unwrap());
    assert!(with >= plain + 50, "the clip's tokens reach the model: {with} against {plain}");
    assert_ne!(with_clip.content, without.content, "the greedy reply depends on the clip");
}

async fn a_follow_up_reuses_the_clips_cached_tokens() {
    let fixture = with_projector("audio-gemma4ua").await;
    let conversation = fixture.conversation(None).await;
    let (clip, _) = check_clip(Some("tone.wav".into()), tone_wav(16_000, 1, 3.0, 500.0)).unwrap();
    let first =
        fixture.chat.send_with_attachments(conversation.id, "Listen.", vec![clip], &greedy(6), |_| {}).await.unwrap();
    let second = fixture.chat.send(conversation.id, "And then?", &greedy(6), |_| {}).await.unwrap();
    let (reused, first_prompt) = (second.stats.reused_tokens.unwrap(), first.stats.prompt_tokens.unwrap());
    assert!(reused >= first_prompt, "the first turn, clip and all, came from the cache: {reused} of {first_prompt}");
}

async fn a_clip_for_a_model_that_cannot_hear_stores_nothing() {
    let fixture = with_projector("vision-gemma3").await;
    let conversation = fixture.conversation(None).await;
    let (clip, _) = check_clip(None, tone_wav(16_000, 1, 1.0, 440.0)).unwrap();
    let error = fixture
        .chat
        .send_with_attachments(conversation.id, "What do you hear?", vec![clip], &greedy(4), |_| {})
        .await
        .unwrap_err();
    assert!(matches!(error, ChatError::CannotHear(_)), "{error:?}");
    let message = error.to_string();
    assert!(message.contains("cannot hear sound") && message.contains("Gemma 4 E2B"), "{message}");
    assert!(message.contains("no audio encoder"), "the vision projector is named as the reason: {message}");
    let branch = fixture.chat.store().current_branch(conversation.id).await.unwrap();
    assert!(branch.is_empty(), "nothing was stored: {branch:?}");
}

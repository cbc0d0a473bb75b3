//! A clip for a model that cannot hear: transcribed by a model that hears, in a worker of its own
//! (the transcription owns its client, whose drop ends the worker), and sent to the loaded model
//! as text.

use gemma_desk_chat::{
    ChatError, ChatEvent, CheckedAttachment, EngineTuning, ModelChoice, TRANSCRIPTION_INSTRUCTION, Transcriber,
    check_clip, transcript_token_limit,
};
use gemma_desk_testing::sounds::tone_wav;
use gemma_desk_testing::test_projector;
use libtest_mimic::Trial;

use crate::{Fixture, greedy, test_model, trial};

pub fn tests() -> Vec<Trial> {
    vec![
        trial("a_clip_is_transcribed_for_a_model_that_cannot_hear", a_clip_is_transcribed_for_a_model_that_cannot_hear),
        trial("a_model_that_hears_is_given_the_clip_itself", a_model_that_hears_is_given_the_clip_itself),
        trial("too_little_memory_refuses_before_anything_starts", too_little_memory_refuses_before_anything_starts),
        trial("a_transcriber_without_ears_is_refused", a_transcriber_without_ears_is_refused),
        trial("a_stopped_transcription_stores_nothing", a_stopped_transcription_stores_nothing),
    ]
}

fn hearing() -> ModelChoice {
    ModelChoice { model: test_model(), mmproj: Some(test_projector("audio-gemma4ua")) }
}

fn transcriber() -> Transcriber {
    Transcriber::new(hearing(), "the hearing test model").expect("the audio projector gives it ears")
}

fn clip(hz: f32) -> CheckedAttachment {
    check_clip(Some("question.wav".into()), tone_wav(16_000, 1, 2.0, hz)).unwrap().0
}

async fn a_clip_is_transcribed_for_a_model_that_cannot_hear() {
    let fixture = Fixture::loaded().await;
    let conversation = fixture.conversation(None).await;
    let engine = fixture.chat.engine_pid();
    let mut events = Vec::new();
    let reply = fixture
        .chat
        .send_transcribed(
            conversation.id,
            "Answer this:",
            vec![clip(330.0)],
            &transcriber(),
            u64::MAX,
            &greedy(8),
            |e| events.push(e),
        )
        .await
        .unwrap();
    assert!(
        matches!(&events[0], ChatEvent::Transcribing { model } if model == "the hearing test model"),
        "the transcription is announced first: {:?}",
        events[0]
    );
    let ChatEvent::Started { user: Some(user), user_attachments, .. } = &events[1] else { panic!("{:?}", events[1]) };
    assert!(user_attachments.is_empty(), "the loaded model gets words, not the clip: {user_attachments:?}");
    let transcript = user.content.strip_prefix("Answer this:\n\n").expect("the transcript follows what was typed");
    assert_eq!(reply.parent_id, Some(user.id));
    assert_eq!(fixture.chat.engine_pid(), engine, "the loaded model's worker answered");

    // The same-run reference: the hearing model asked the same question directly.
    let reference = Fixture::new().await;
    let tuning = EngineTuning { context_size: Some(2048), threads: Some(2), gpu_layers: None, image_tokens: None };
    reference.chat.load_model(&hearing(), tuning).await.unwrap();
    let asked = reference.conversation(None).await;
    let limit = transcript_token_limit(&[clip(330.0)]);
    assert_eq!(limit, 32 + 2 * 12, "a 2 s clip's transcript may take 56 tokens");
    let direct = reference
        .chat
        .send_with_attachments(asked.id, TRANSCRIPTION_INSTRUCTION, vec![clip(330.0)], &greedy(limit), |_| {})
        .await
        .unwrap();
    assert_eq!(transcript, direct.content.trim(), "the transcript is what the hearing model wrote");
    let unheard = reference.conversation(None).await;
    let without = reference.chat.send(unheard.id, TRANSCRIPTION_INSTRUCTION, &greedy(limit), |_| {}).await.unwrap();
    assert_ne!(direct.content, without.content, "the clip reached the transcribing model");
}

async fn a_model_that_hears_is_given_the_clip_itself() {
    let fixture = Fixture::new().await;
    let tuning = EngineTuning { context_size: Some(2048), threads: Some(2), gpu_layers: None, image_tokens: None };
    fixture.chat.load_model(&hearing(), tuning).await.unwrap();
    let conversation = fixture.conversation(None).await;
    let mut events = Vec::new();
    fixture
        .chat
        .send_transcribed(conversation.id, "Listen.", vec![clip(440.0)], &transcriber(), 0, &greedy(4), |e| {
            events.push(e)
        })
        .await
        .unwrap();
    let ChatEvent::Started { user: Some(user), user_attachments, .. } = &events[0] else { panic!("{:?}", events[0]) };
    assert_eq!((user.content.as_str(), user_attachments.len()), ("Listen.", 1), "the clip went as it is");
}

async fn too_little_memory_refuses_before_anything_starts() {
    let fixture = Fixture::loaded().await;
    let conversation = fixture.conversation(None).await;
    let transcriber = transcriber();
    let needed = transcriber.memory_needed().unwrap();
    let mut events = Vec::new();
    let error = fixture
        .chat
        .send_transcribed(conversation.id, "", vec![clip(440.0)], &transcriber, needed - 1, &greedy(4), |e| {
            events.push(e)
        })
        .await
        .unwrap_err();
    assert!(matches!(error, ChatError::NoMemory(_)), "{error:?}");
    let message = error.to_string();
    assert!(message.contains("the hearing test model") && message.contains("GB"), "{message}");
    assert!(events.is_empty(), "nothing started: {events:?}");
    assert!(fixture.chat.store().current_branch(conversation.id).await.unwrap().is_empty());
}

async fn a_transcriber_without_ears_is_refused() {
    let seeing = ModelChoice { model: test_model(), mmproj: Some(test_projector("vision-gemma3")) };
    let error = Transcriber::new(seeing, "a seeing model").unwrap_err();
    assert!(matches!(error, ChatError::CannotHear(_)), "{error:?}");
    let error = Transcriber::new(ModelChoice { model: test_model(), mmproj: None }, "no projector").unwrap_err();
    assert!(error.to_string().contains("audio encoder"), "{error}");
}

async fn a_stopped_transcription_stores_nothing() {
    let fixture = Fixture::loaded().await;
    let conversation = fixture.conversation(None).await;
    let chat = fixture.chat.clone();
    let error = fixture
        .chat
        .send_transcribed(conversation.id, "", vec![clip(440.0)], &transcriber(), u64::MAX, &greedy(4), |event| {
            // Stopped while the hearing model loads.
            if matches!(event, ChatEvent::Transcribing { .. }) {
                chat.stop();
            }
        })
        .await
        .unwrap_err();
    assert!(matches!(error, ChatError::Cancelled), "{error:?}");
    assert!(fixture.chat.store().current_branch(conversation.id).await.unwrap().is_empty());
    let next = fixture.chat.send(conversation.id, "Hello", &greedy(4), |_| {}).await.unwrap();
    assert_eq!(next.status, gemma_desk_store::MessageStatus::Done, "the stop did not carry over to the next reply");
}

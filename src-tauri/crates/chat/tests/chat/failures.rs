//! Bad requests are refused with a clear error and change nothing; a dead engine loses nothing.

use std::time::Duration;

use gemma_desk_chat::{ChatError, ChatEvent, EngineState, EngineTuning, ModelChoice};
use gemma_desk_store::MessageStatus;
use libtest_mimic::Trial;

use crate::{Fixture, greedy, test_model, trial};

pub fn tests() -> Vec<Trial> {
    vec![
        trial(
            "killing_the_engine_mid_reply_keeps_the_text_and_the_next_reply_works",
            killing_the_engine_mid_reply_keeps_the_text_and_the_next_reply_works,
        ),
        trial("a_second_reply_while_one_runs_is_refused", a_second_reply_while_one_runs_is_refused),
        trial("bad_requests_are_refused_and_store_nothing", bad_requests_are_refused_and_store_nothing),
        trial("a_message_sent_while_the_model_loads_waits_for_it", a_message_sent_while_the_model_loads_waits_for_it),
        trial(
            "a_damaged_model_file_is_refused_before_the_engine_sees_it",
            a_damaged_model_file_is_refused_before_the_engine_sees_it,
        ),
    ]
}

async fn killing_the_engine_mid_reply_keeps_the_text_and_the_next_reply_works() {
    let fixture = Fixture::loaded().await;
    let conversation = fixture.conversation(None).await;
    let pid = fixture.chat.engine_pid().expect("the loaded engine runs").to_string();
    let mut events = Vec::new();
    let reply = fixture
        .chat
        .send(conversation.id, "Write a long story about a lighthouse keeper.", &greedy(500), |event| {
            if matches!(event, ChatEvent::Token { .. })
                && events.iter().filter(|e| matches!(e, ChatEvent::Token { .. })).count() == 4
            {
                std::process::Command::new("kill").args(["-9", &pid]).status().unwrap();
            }
            events.push(event);
        })
        .await
        .unwrap();
    assert_eq!(reply.status, MessageStatus::Interrupted);
    assert!(!reply.content.is_empty(), "the text streamed before the crash is kept");
    let Some(ChatEvent::Finished { engine_died: Some(why), .. }) = events.last() else { panic!("{:?}", events.last()) };
    assert!(why.contains("signal 9"), "{why}");
    let stored = fixture.chat.store().message(reply.id).await.unwrap();
    assert_eq!((stored.status, stored.content.as_str()), (MessageStatus::Interrupted, reply.content.as_str()));

    let mut next_events = Vec::new();
    let next = fixture.chat.send(conversation.id, "Go on.", &greedy(4), |e| next_events.push(e)).await.unwrap();
    assert_eq!(next.status, MessageStatus::Done);
    assert_ne!(fixture.chat.engine_pid().map(|p| p.to_string()), Some(pid), "a fresh engine process answered");
    assert!(next_events.iter().any(|e| matches!(e, ChatEvent::Loading)), "the fresh engine loads the model first");
    assert_eq!(
        next.parent_id.map(|p| p > reply.id),
        Some(true),
        "the conversation goes on after the interrupted reply"
    );
}

async fn a_second_reply_while_one_runs_is_refused() {
    let fixture = Fixture::loaded().await;
    let conversation = fixture.conversation(None).await;
    let chat = fixture.chat.clone();
    let (first_token, got_first_token) = tokio::sync::oneshot::channel();
    let mut first_token = Some(first_token);
    let running = tokio::spawn(async move {
        chat.send(conversation.id, "Write a long story.", &greedy(300), |event| {
            if matches!(event, ChatEvent::Token { .. })
                && let Some(signal) = first_token.take()
            {
                let _ = signal.send(());
            }
        })
        .await
    });
    got_first_token.await.unwrap();
    let refused = fixture.chat.send(conversation.id, "Me too!", &greedy(4), |_| {}).await.unwrap_err();
    assert!(matches!(refused, ChatError::Busy), "{refused}");
    let refused =
        fixture.chat.load_model(&ModelChoice { model: test_model(), mmproj: None }, EngineTuning::default()).await;
    assert!(matches!(refused, Err(ChatError::Busy)));
    fixture.chat.stop();
    let first = tokio::time::timeout(Duration::from_secs(60), running).await.unwrap().unwrap().unwrap();
    assert_eq!(first.status, MessageStatus::Stopped);
    let branch = fixture.chat.store().current_branch(conversation.id).await.unwrap();
    assert_eq!(branch.len(), 2, "the refused message was not stored");
}

async fn bad_requests_are_refused_and_store_nothing() {
    let fixture = Fixture::new().await;
    let conversation = fixture.conversation(None).await;
    let chat = &fixture.chat;
    let no_model = chat.send(conversation.id, "Hello", &greedy(4), |_| {}).await.unwrap_err();
    assert!(matches!(no_model, ChatError::NoModel), "{no_model}");

    let fixture = Fixture::loaded().await;
    let conversation = fixture.conversation(None).await;
    let chat = &fixture.chat;
    let cases = [
        chat.send(conversation.id, "  \n ", &greedy(4), |_| {}).await.unwrap_err(),
        chat.send(conversation.id, &"x".repeat(100_001), &greedy(4), |_| {}).await.unwrap_err(),
        chat.send(999_999, "Hello", &greedy(4), |_| {}).await.unwrap_err(),
        chat.regenerate(999_999, &greedy(4), |_| {}).await.unwrap_err(),
        chat.edit(999_999, "Hello", &greedy(4), |_| {}).await.unwrap_err(),
    ];
    assert!(matches!(cases[0], ChatError::BadInput(_)), "blank text: {}", cases[0]);
    assert!(matches!(cases[1], ChatError::BadInput(_)), "too long: {}", cases[1]);
    for missing in &cases[2..] {
        assert!(matches!(missing, ChatError::NotFound(_)), "an unknown id: {missing}");
    }
    assert!(cases[1].to_string().contains("100001 characters"), "{}", cases[1]);

    let reply = chat.send(conversation.id, "Hello", &greedy(2), |_| {}).await.unwrap();
    let question = reply.parent_id.unwrap();
    let wrong_role = chat.regenerate(question, &greedy(2), |_| {}).await.unwrap_err();
    assert!(matches!(wrong_role, ChatError::BadInput(_)), "{wrong_role}");
    let wrong_role = chat.edit(reply.id, "Hi", &greedy(2), |_| {}).await.unwrap_err();
    assert!(matches!(wrong_role, ChatError::BadInput(_)), "{wrong_role}");
    assert!(wrong_role.to_string().contains("only your messages can be edited"), "{wrong_role}");
    assert_eq!(chat.store().all_messages(conversation.id).await.unwrap().len(), 2);
}

async fn a_message_sent_while_the_model_loads_waits_for_it() {
    let fixture = Fixture::new().await;
    let conversation = fixture.conversation(None).await;
    let chat = fixture.chat.clone();
    let choice = ModelChoice { model: test_model(), mmproj: None };
    let loading = tokio::spawn(async move { chat.load_model(&choice, EngineTuning::default()).await });
    // Bounded, and stopping at any state the load reaches: a load that fails or finishes before
    // this looks must fail the test, not hang it.
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    let mut state = fixture.chat.engine_status().state;
    while state == EngineState::None && std::time::Instant::now() < deadline {
        tokio::task::yield_now().await;
        state = fixture.chat.engine_status().state;
    }
    assert_eq!(state, EngineState::Loading, "the message must be sent while the model loads");
    let reply = fixture.chat.send(conversation.id, "Hello", &greedy(4), |_| {}).await.unwrap();
    assert_eq!(reply.status, MessageStatus::Done);
    loading.await.unwrap().unwrap();
}

async fn a_damaged_model_file_is_refused_before_the_engine_sees_it() {
    let fixture = Fixture::new().await;
    let dir = tempfile::tempdir().unwrap();
    let truncated = dir.path().join("truncated.gguf");
    let bytes = std::fs::read(test_model()).unwrap();
    std::fs::write(&truncated, &bytes[..bytes.len() / 3]).unwrap();
    let error = fixture
        .chat
        .load_model(&ModelChoice { model: truncated, mmproj: None }, EngineTuning::default())
        .await
        .unwrap_err();
    assert!(matches!(error, ChatError::BadInput(_)), "{error}");
    let status = fixture.chat.engine_status();
    assert_eq!(status.state, EngineState::Failed);
    assert_eq!(status.error.as_deref(), Some(error.to_string().as_str()));
}

//! A reply streams to the caller and into the store, and ends with its figures.

use gemma_desk_chat::ChatEvent;
use gemma_desk_store::{MessageStatus, Role};
use libtest_mimic::Trial;

use crate::{Fixture, greedy, streamed_text, trial};

pub fn tests() -> Vec<Trial> {
    vec![
        trial("a_reply_streams_and_is_stored_with_its_figures", a_reply_streams_and_is_stored_with_its_figures),
        trial(
            "the_second_turn_reuses_the_cache_and_sees_the_first",
            the_second_turn_reuses_the_cache_and_sees_the_first,
        ),
        trial("stop_keeps_the_partial_reply", stop_keeps_the_partial_reply),
        trial("a_stop_before_the_first_token_stops_the_reply", a_stop_before_the_first_token_stops_the_reply),
        trial("events_serialize_as_the_ui_expects", events_serialize_as_the_ui_expects),
    ]
}

async fn a_reply_streams_and_is_stored_with_its_figures() {
    let fixture = Fixture::loaded().await;
    let conversation = fixture.conversation(Some("You are terse.")).await;
    let mut events = Vec::new();
    let reply = fixture
        .chat
        .send(conversation.id, "Tell me about lighthouses.", &greedy(24), |e| events.push(e))
        .await
        .unwrap();

    let ChatEvent::Started { user: Some(user), reply: started, .. } = &events[0] else { panic!("{:?}", events[0]) };
    assert_eq!((user.role, user.content.as_str()), (Role::User, "Tell me about lighthouses."));
    assert_eq!((started.id, started.status), (reply.id, MessageStatus::Streaming));
    assert!(matches!(events.last(), Some(ChatEvent::Finished { engine_died: None, .. })));
    assert!(!events.iter().any(|e| matches!(e, ChatEvent::Loading)), "the model was already loaded");

    assert_eq!(reply.status, MessageStatus::Done);
    assert_eq!(reply.content, streamed_text(&events), "the stored reply is exactly what streamed");
    assert_eq!(reply.stats.generated_tokens, Some(24));
    assert!(reply.stats.ttft_ms.unwrap() > 0.0 && reply.stats.decode_tps.unwrap() > 0.0);
    assert_eq!(reply.model.as_deref(), Some("gemma-3-270m-q4_k_m.gguf"));

    let store = fixture.chat.store();
    let branch = store.current_branch(conversation.id).await.unwrap();
    assert_eq!(branch.iter().map(|m| m.message.id).collect::<Vec<_>>(), [user.id, reply.id]);
    assert_eq!(store.conversation(conversation.id).await.unwrap().title, "Tell me about lighthouses.");
}

async fn the_second_turn_reuses_the_cache_and_sees_the_first() {
    let fixture = Fixture::loaded().await;
    let conversation = fixture.conversation(None).await;
    // Longer than a cache chunk, and the first turn, its reply and its end of turn are reused whole.
    let question = "Here is a list of colours: red, orange, yellow, green, blue, indigo, violet, crimson, \
                    scarlet, amber, gold, olive, teal, cyan, navy, purple, magenta, pink, brown, grey. \
                    Which of them is the warmest, and why?";
    let first = fixture.chat.send(conversation.id, question, &greedy(8), |_| {}).await.unwrap();
    let second = fixture.chat.send(conversation.id, "And another one?", &greedy(8), |_| {}).await.unwrap();
    assert_eq!(second.parent_id.map(|p| p > first.id), Some(true));
    let prompt = second.stats.prompt_tokens.unwrap();
    let reused = second.stats.reused_tokens.unwrap();
    assert!(prompt > first.stats.prompt_tokens.unwrap(), "the second prompt holds the first turn");
    assert!(reused > 0 && reused < prompt, "the first turn came from the KV cache ({reused} of {prompt})");
}

async fn stop_keeps_the_partial_reply() {
    let fixture = Fixture::loaded().await;
    let conversation = fixture.conversation(None).await;
    let chat = fixture.chat.clone();
    let mut tokens = 0;
    let reply = fixture
        .chat
        .send(conversation.id, "Write a long story about a lighthouse keeper.", &greedy(500), |event| {
            if matches!(event, ChatEvent::Token { .. }) {
                tokens += 1;
                if tokens == 5 {
                    chat.stop();
                }
            }
        })
        .await
        .unwrap();
    assert_eq!(reply.status, MessageStatus::Stopped);
    assert!(!reply.content.is_empty());
    assert!(reply.stats.generated_tokens.unwrap() < 50, "stopped soon after asked: {:?}", reply.stats);
    let stored = fixture.chat.store().message(reply.id).await.unwrap();
    assert_eq!(stored.content, reply.content);
}

async fn a_stop_before_the_first_token_stops_the_reply() {
    // Issue 10: Esc right after Enter was lost while the question was being stored and the
    // prompt rendered, before the worker had the request.
    let fixture = Fixture::loaded().await;
    let conversation = fixture.conversation(None).await;
    let chat = fixture.chat.clone();
    let reply = fixture
        .chat
        .send(conversation.id, "Write a long story about a lighthouse keeper.", &greedy(500), |event| {
            if matches!(event, ChatEvent::Started { .. }) {
                chat.stop();
            }
        })
        .await
        .unwrap();
    assert_eq!(reply.status, MessageStatus::Stopped, "{:?}", reply.stats);
    assert!(reply.stats.generated_tokens.unwrap_or(0) < 20, "stopped at once: {:?}", reply.stats);
    let next = fixture.chat.send(conversation.id, "Go on.", &greedy(8), |_| {}).await.unwrap();
    assert_eq!(next.status, MessageStatus::Done, "the stop was for that turn only");
}

async fn events_serialize_as_the_ui_expects() {
    let fixture = Fixture::loaded().await;
    let conversation = fixture.conversation(None).await;
    let mut events = Vec::new();
    fixture
        .chat
        .send(conversation.id, "Hi", &greedy(2), |e| events.push(serde_json::to_value(e).unwrap()))
        .await
        .unwrap();
    assert_eq!(events[0]["event"], "started");
    assert_eq!(events[0]["user"]["role"], "user");
    assert_eq!(events[0]["reply"]["status"], "streaming");
    assert!(events[1]["text"].is_string() && events[1]["event"] == "token");
    let finished = events.last().unwrap();
    assert_eq!(finished["event"], "finished");
    assert_eq!(finished["reply"]["status"], "done");
    assert!(finished["engine_died"].is_null());
    assert!(finished["reply"]["stats"]["decode_tps"].is_number());
}

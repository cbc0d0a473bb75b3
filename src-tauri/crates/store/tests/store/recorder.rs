//! The reply recorder: a streaming reply reaches the database at most 250 ms or 32 pieces late.

use gemma_desk_store::{ConversationSettings, MessageStatus, ReplyRecorder, ReplyStats, Role, Store};

async fn store_with_question() -> (tempfile::TempDir, Store, i64, i64) {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).await.unwrap();
    let conversation = store.create_conversation(None, None, &ConversationSettings::default(), 1_000).await.unwrap();
    let question = store.add_message(conversation.id, None, Role::User, "Why?", 1_000).await.unwrap();
    (dir, store, conversation.id, question.id)
}

#[tokio::test]
async fn pieces_are_saved_after_32_of_them_or_250_ms_whichever_comes_first() {
    let (_dir, store, conversation, question) = store_with_question().await;
    let mut recorder = ReplyRecorder::begin(&store, conversation, question, Some("m.gguf"), 1_000).await.unwrap();
    let stored = |store: &Store, id| {
        let store = store.clone();
        async move { store.message(id).await.unwrap().content }
    };
    for _ in 0..31 {
        recorder.push("a", 1_010).await.unwrap();
    }
    assert_eq!(stored(&store, recorder.message_id()).await, "", "31 quick pieces are not saved yet");
    recorder.push("b", 1_010).await.unwrap();
    assert_eq!(stored(&store, recorder.message_id()).await.len(), 32, "the 32nd piece saves the text");
    recorder.push("c", 1_100).await.unwrap();
    assert_eq!(stored(&store, recorder.message_id()).await.len(), 32);
    recorder.push("d", 1_260).await.unwrap();
    assert!(stored(&store, recorder.message_id()).await.ends_with("cd"), "250 ms after the last save, it saves again");
}

#[tokio::test]
async fn a_finished_reply_keeps_its_text_status_and_figures() {
    let (_dir, store, conversation, question) = store_with_question().await;
    let mut recorder = ReplyRecorder::begin(&store, conversation, question, Some("m.gguf"), 1_000).await.unwrap();
    recorder.push("Because ", 1_001).await.unwrap();
    recorder.push("🌊.", 1_002).await.unwrap();
    let stats =
        ReplyStats { ttft_ms: Some(12.5), decode_tps: Some(40.0), generated_tokens: Some(3), ..Default::default() };
    let message = recorder.finish(MessageStatus::Stopped, None, &stats, 1_003).await.unwrap();
    assert_eq!(message.content, "Because 🌊.");
    assert_eq!(message.status, MessageStatus::Stopped);
    assert_eq!(message.stats, stats);
    assert_eq!(message.model.as_deref(), Some("m.gguf"));
}

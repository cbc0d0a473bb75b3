//! The message tree: titles from the first question, branches from edits and regenerations, the
//! branch shown, switching branches, and streaming replies.

use gemma_desk_store::{MessageStatus, ReplyStats, Role, StoreError};

use crate::{new_conversation, open_store};

#[tokio::test]
async fn the_first_user_message_titles_an_untitled_conversation() {
    let (_dir, store) = open_store().await;
    let chat = new_conversation(&store, 1).await;
    store.add_message(chat.id, None, Role::System, "You are terse.", 2).await.unwrap();
    assert_eq!(store.conversation(chat.id).await.unwrap().title, "", "a system prompt is not a title");
    let root = store.current_branch(chat.id).await.unwrap()[0].message.id;
    store.add_message(chat.id, Some(root), Role::User, "How do tides work?\nAnd why twice a day?", 3).await.unwrap();
    let chat = store.conversation(chat.id).await.unwrap();
    assert_eq!(chat.title, "How do tides work?", "the title is the first line of the first question");
    assert_eq!(chat.updated_at, 3, "a new message moves the conversation up the list");
}

#[tokio::test]
async fn a_long_first_message_is_cut_into_a_title_without_splitting_a_character() {
    let (_dir, store) = open_store().await;
    let chat = new_conversation(&store, 1).await;
    let question = "東京の天気はどうですか🌧️".repeat(10);
    store.add_message(chat.id, None, Role::User, &question, 2).await.unwrap();
    let title = store.conversation(chat.id).await.unwrap().title;
    assert!(title.ends_with('…'), "a cut title says so: {title:?}");
    assert!(title.chars().count() <= 61, "about sixty characters: {title:?}");
    assert!(question.starts_with(title.trim_end_matches('…')), "the title is the start of the text: {title:?}");
}

#[tokio::test]
async fn a_given_title_is_kept_when_the_first_message_arrives() {
    let (_dir, store) = open_store().await;
    let chat = store.create_conversation(Some("Mine"), None, &Default::default(), 1).await.unwrap();
    store.add_message(chat.id, None, Role::User, "something else", 2).await.unwrap();
    assert_eq!(store.conversation(chat.id).await.unwrap().title, "Mine");
}

#[tokio::test]
async fn editing_a_question_and_regenerating_a_reply_create_branches() {
    let (_dir, store) = open_store().await;
    let chat = new_conversation(&store, 1).await;
    let q1 = store.add_message(chat.id, None, Role::User, "first question", 2).await.unwrap();
    let a1 = store.add_message(chat.id, Some(q1.id), Role::Assistant, "first answer", 3).await.unwrap();
    let q2 = store.add_message(chat.id, Some(a1.id), Role::User, "follow-up", 4).await.unwrap();
    let r1 = store.add_message(chat.id, Some(q2.id), Role::Assistant, "reply one", 5).await.unwrap();
    let r2 = store.begin_reply(chat.id, q2.id, None, 6).await.unwrap();
    store.finish_reply(r2.id, "reply two", MessageStatus::Done, None, &ReplyStats::default(), 7).await.unwrap();
    assert_eq!(store.siblings(r1.id).await.unwrap(), [r1.id, r2.id], "regenerating adds a sibling reply");

    let edited = store.add_message(chat.id, Some(a1.id), Role::User, "better follow-up", 8).await.unwrap();
    assert_eq!(store.siblings(q2.id).await.unwrap(), [q2.id, edited.id], "editing adds a sibling question");
    assert_eq!(store.message(q2.id).await.unwrap().content, "follow-up", "history is never overwritten");

    let branch = store.current_branch(chat.id).await.unwrap();
    let shown: Vec<_> = branch.iter().map(|m| (m.message.id, m.sibling_index, m.sibling_count)).collect();
    assert_eq!(shown, [(q1.id, 1, 1), (a1.id, 1, 1), (edited.id, 2, 2)], "the newest message is the leaf shown");
    assert_eq!(store.all_messages(chat.id).await.unwrap().len(), 6, "every branch is kept");
}

#[tokio::test]
async fn switching_branches_follows_the_newest_child_down_to_a_leaf() {
    let (_dir, store) = open_store().await;
    let chat = new_conversation(&store, 1).await;
    let q = store.add_message(chat.id, None, Role::User, "q", 2).await.unwrap();
    let old_reply = store.add_message(chat.id, Some(q.id), Role::Assistant, "old", 3).await.unwrap();
    let deep = store.add_message(chat.id, Some(old_reply.id), Role::User, "deeper", 4).await.unwrap();
    let deep_a = store.add_message(chat.id, Some(deep.id), Role::Assistant, "deeper answer (old)", 5).await.unwrap();
    let deep_b = store.add_message(chat.id, Some(deep.id), Role::Assistant, "deeper answer (new)", 6).await.unwrap();
    let new_reply = store.add_message(chat.id, Some(q.id), Role::Assistant, "new", 7).await.unwrap();

    store.switch_branch(chat.id, old_reply.id, 8).await.unwrap();
    let branch = store.current_branch(chat.id).await.unwrap();
    let ids: Vec<_> = branch.iter().map(|m| m.message.id).collect();
    assert_eq!(ids, [q.id, old_reply.id, deep.id, deep_b.id], "the newest child is followed at each step");
    assert_eq!((branch[1].sibling_index, branch[1].sibling_count), (1, 2), "the old reply is 1 of 2");
    assert_eq!((branch[3].sibling_index, branch[3].sibling_count), (2, 2));
    assert_eq!(store.conversation(chat.id).await.unwrap().current_leaf_id, Some(deep_b.id));

    store.switch_branch(chat.id, deep_a.id, 9).await.unwrap();
    assert_eq!(store.current_branch(chat.id).await.unwrap().last().unwrap().message.id, deep_a.id);
    store.switch_branch(chat.id, new_reply.id, 10).await.unwrap();
    let ids: Vec<_> = store.current_branch(chat.id).await.unwrap().iter().map(|m| m.message.id).collect();
    assert_eq!(ids, [q.id, new_reply.id], "switching back shows the other branch");
}

#[tokio::test]
async fn first_messages_are_siblings_of_each_other() {
    let (_dir, store) = open_store().await;
    let chat = new_conversation(&store, 1).await;
    let other = new_conversation(&store, 1).await;
    let first = store.add_message(chat.id, None, Role::User, "one", 2).await.unwrap();
    store.add_message(other.id, None, Role::User, "elsewhere", 2).await.unwrap();
    let edited = store.add_message(chat.id, None, Role::User, "one, edited", 3).await.unwrap();
    assert_eq!(store.siblings(first.id).await.unwrap(), [first.id, edited.id], "roots of this conversation only");
    let branch = store.current_branch(chat.id).await.unwrap();
    assert_eq!((branch[0].sibling_index, branch[0].sibling_count), (2, 2));
}

#[tokio::test]
async fn a_parent_from_another_conversation_is_refused_and_nothing_is_added() {
    let (_dir, store) = open_store().await;
    let chat = new_conversation(&store, 1).await;
    let other = new_conversation(&store, 1).await;
    let foreign = store.add_message(other.id, None, Role::User, "not yours", 2).await.unwrap();
    let error = store.add_message(chat.id, Some(foreign.id), Role::User, "hi", 3).await.unwrap_err();
    assert!(matches!(error, StoreError::Invalid(_)), "{error:?}");
    assert!(error.to_string().contains(&format!("message {}", foreign.id)), "the message names it: {error}");
    assert!(store.begin_reply(chat.id, foreign.id, None, 3).await.is_err(), "a reply cannot cross either");
    assert!(store.switch_branch(chat.id, foreign.id, 3).await.is_err(), "nor can a branch switch");
    assert!(store.all_messages(chat.id).await.unwrap().is_empty(), "the refused write left nothing behind");
    assert_eq!(store.conversation(chat.id).await.unwrap().title, "", "nor a title");
}

#[tokio::test]
async fn a_reply_streams_then_finishes_with_its_status_and_figures() {
    let (_dir, store) = open_store().await;
    let chat = new_conversation(&store, 1).await;
    let q = store.add_message(chat.id, None, Role::User, "count to three", 2).await.unwrap();
    let reply = store.begin_reply(chat.id, q.id, Some("gemma-3-4b"), 3).await.unwrap();
    assert_eq!((reply.status, reply.content.as_str(), reply.role), (MessageStatus::Streaming, "", Role::Assistant));
    assert_eq!(store.conversation(chat.id).await.unwrap().current_leaf_id, Some(reply.id), "shown at once");
    store.save_reply_text(reply.id, "one, two", 4).await.unwrap();
    assert_eq!(store.message(reply.id).await.unwrap().content, "one, two", "the growing text is saved");
    let stats = ReplyStats {
        ttft_ms: Some(120.5),
        prefill_tps: Some(900.0),
        decode_tps: Some(42.0),
        prompt_tokens: Some(17),
        generated_tokens: Some(5),
        reused_tokens: Some(3),
        image_tokens_reused: Some(256),
        image_tokens_encoded: Some(0),
    };
    let done = store.finish_reply(reply.id, "one, two, three", MessageStatus::Stopped, None, &stats, 5).await.unwrap();
    assert_eq!(done, store.message(reply.id).await.unwrap(), "finish returns what is stored");
    assert_eq!((done.status, done.content.as_str()), (MessageStatus::Stopped, "one, two, three"));
    assert_eq!(done.stats, stats, "every figure is kept");
    assert_eq!((done.model.as_deref(), done.created_at, done.updated_at), (Some("gemma-3-4b"), 3, 5));

    let error = store.save_reply_text(reply.id, "four", 6).await.unwrap_err();
    assert!(matches!(error, StoreError::Invalid(_)), "a finished reply takes no more text: {error:?}");
    let again = store.finish_reply(reply.id, "x", MessageStatus::Done, None, &stats, 6).await;
    assert!(matches!(again, Err(StoreError::Invalid(_))), "nor a second finish: {again:?}");
}

#[tokio::test]
async fn a_failed_reply_keeps_its_error_and_a_reply_cannot_finish_as_streaming() {
    let (_dir, store) = open_store().await;
    let chat = new_conversation(&store, 1).await;
    let q = store.add_message(chat.id, None, Role::User, "q", 2).await.unwrap();
    let reply = store.begin_reply(chat.id, q.id, None, 3).await.unwrap();
    let streaming = store.finish_reply(reply.id, "", MessageStatus::Streaming, None, &ReplyStats::default(), 4).await;
    assert!(matches!(streaming, Err(StoreError::Invalid(_))), "streaming is not an end: {streaming:?}");
    let failed = store
        .finish_reply(reply.id, "partial", MessageStatus::Error, Some("out of memory"), &ReplyStats::default(), 4)
        .await
        .unwrap();
    assert_eq!((failed.status, failed.error.as_deref()), (MessageStatus::Error, Some("out of memory")));
}

#[tokio::test]
async fn messages_cannot_be_added_to_a_deleted_conversation() {
    let (_dir, store) = open_store().await;
    let chat = new_conversation(&store, 1).await;
    store.delete_conversation(chat.id, 2).await.unwrap();
    let error = store.add_message(chat.id, None, Role::User, "hello?", 3).await.unwrap_err();
    assert!(matches!(error, StoreError::Invalid(_)), "{error:?}");
    assert!(error.to_string().contains("restore"), "the message says what to do: {error}");
}

#[tokio::test]
async fn unknown_message_ids_give_not_found() {
    let (_dir, store) = open_store().await;
    let chat = new_conversation(&store, 1).await;
    let stats = ReplyStats::default();
    let results = [
        store.message(99).await.map(drop),
        store.siblings(99).await.map(drop),
        store.save_reply_text(99, "x", 2).await,
        store.finish_reply(99, "x", MessageStatus::Done, None, &stats, 2).await.map(drop),
        store.begin_reply(chat.id, 99, None, 2).await.map(drop),
        store.add_message(chat.id, Some(99), Role::User, "x", 2).await.map(drop),
        store.switch_branch(chat.id, 99, 2).await,
    ];
    for (n, result) in results.into_iter().enumerate() {
        assert!(
            matches!(result, Err(StoreError::NotFound { what: "message", id: 99 })),
            "call {n} names the missing message: {result:?}"
        );
    }
    assert!(store.current_branch(chat.id).await.unwrap().is_empty(), "an empty conversation has an empty branch");
}

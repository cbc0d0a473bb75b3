//! Full-text search: found after insert, follows edits of streaming replies, forgets deleted
//! conversations, ranks best first, and takes any text without error.

use gemma_desk_store::{MessageStatus, NewAttachment, ReplyStats, Role, SNIPPET_END, SNIPPET_START};

use crate::{new_conversation, open_store};

#[tokio::test]
async fn a_new_message_is_found_by_a_word_prefix_with_a_highlighted_snippet() {
    let (_dir, store) = open_store().await;
    let chat = new_conversation(&store, 1).await;
    let message =
        store.add_message(chat.id, None, Role::User, "Photosynthesis turns light into sugar", 2).await.unwrap();
    let hits = store.search("photo", 10).await.unwrap();
    assert_eq!(hits.len(), 1, "a word's start finds it, whatever the case");
    let hit = &hits[0];
    assert_eq!((hit.conversation_id, hit.message_id, hit.role), (chat.id, message.id, Role::User));
    assert_eq!(hit.title, "Photosynthesis turns light into sugar");
    assert_eq!(hit.snippet, format!("{SNIPPET_START}Photosynthesis{SNIPPET_END} turns light into sugar"));
}

#[tokio::test]
async fn a_hit_counts_the_images_attached_to_its_message() {
    let (_dir, store) = open_store().await;
    let chat = new_conversation(&store, 1).await;
    let photos = store.add_message(chat.id, None, Role::User, "holiday photos attached", 2).await.unwrap();
    let image = NewAttachment { media_type: "image/png".into(), ..NewAttachment::default() };
    store.add_attachment(photos.id, b"first", &image, 3).await.unwrap();
    store.add_attachment(photos.id, b"second", &image, 3).await.unwrap();
    let clip = NewAttachment { media_type: "audio/wav".into(), ..NewAttachment::default() };
    store.add_attachment(photos.id, b"RIFF", &clip, 3).await.unwrap();
    let reply = store.add_message(chat.id, Some(photos.id), Role::Assistant, "a lovely holiday", 4).await.unwrap();
    let hits = store.search("holiday", 10).await.unwrap();
    let images = |id| hits.iter().find(|hit| hit.message_id == id).map(|hit| hit.image_count);
    assert_eq!(images(photos.id), Some(2), "two images; a clip is not one");
    assert_eq!(images(reply.id), Some(0), "the reply to them has none of its own");
}

#[tokio::test]
async fn every_word_of_the_query_must_match() {
    let (_dir, store) = open_store().await;
    let chat = new_conversation(&store, 1).await;
    store.add_message(chat.id, None, Role::User, "red apples and green pears", 2).await.unwrap();
    assert_eq!(store.search("red pears", 10).await.unwrap().len(), 1);
    assert!(store.search("red bananas", 10).await.unwrap().is_empty(), "a missing word means no match");
}

#[tokio::test]
async fn the_best_match_comes_first_and_long_text_is_cut_with_ellipses() {
    let (_dir, store) = open_store().await;
    let chat = new_conversation(&store, 1).await;
    let filler = "lorem ipsum dolor sit amet ".repeat(20);
    let weak = store.add_message(chat.id, None, Role::User, &format!("{filler} kayak {filler}"), 2).await.unwrap();
    let strong = store.add_message(chat.id, Some(weak.id), Role::Assistant, "kayak kayak kayak", 3).await.unwrap();
    let hits = store.search("kayak", 10).await.unwrap();
    assert_eq!(hits.iter().map(|h| h.message_id).collect::<Vec<_>>(), [strong.id, weak.id], "bm25 order");
    let snippet = &hits[1].snippet;
    assert!(snippet.starts_with('…') && snippet.ends_with('…'), "text left out is marked: {snippet:?}");
    assert!(snippet.split_whitespace().count() <= 14, "about a dozen words: {snippet:?}");
}

#[tokio::test]
async fn search_follows_a_reply_as_it_streams_and_finishes() {
    let (_dir, store) = open_store().await;
    let chat = new_conversation(&store, 1).await;
    let q = store.add_message(chat.id, None, Role::User, "weather?", 2).await.unwrap();
    let reply = store.begin_reply(chat.id, q.id, None, 3).await.unwrap();
    store.save_reply_text(reply.id, "drizzle expected", 4).await.unwrap();
    assert_eq!(store.search("drizzle", 10).await.unwrap()[0].message_id, reply.id, "saved text is searchable");
    store
        .finish_reply(reply.id, "sunshine all day", MessageStatus::Done, None, &ReplyStats::default(), 5)
        .await
        .unwrap();
    assert!(store.search("drizzle", 10).await.unwrap().is_empty(), "replaced text is no longer found");
    assert_eq!(store.search("sunshine", 10).await.unwrap().len(), 1, "the final text is");
}

#[tokio::test]
async fn deleted_conversations_are_not_searched_and_purged_messages_are_gone() {
    let (_dir, store) = open_store().await;
    let chat = new_conversation(&store, 1).await;
    store.add_message(chat.id, None, Role::User, "secret recipe", 2).await.unwrap();
    store.delete_conversation(chat.id, 3).await.unwrap();
    assert!(store.search("recipe", 10).await.unwrap().is_empty(), "a deleted conversation is out of the results");
    store.restore_conversation(chat.id, 4).await.unwrap();
    assert_eq!(store.search("recipe", 10).await.unwrap().len(), 1, "restoring brings it back");
    store.delete_conversation(chat.id, 5).await.unwrap();
    store.purge_deleted(6).await.unwrap();
    store.restore_conversation(chat.id, 7).await.unwrap_err();
    assert!(store.search("recipe", 10).await.unwrap().is_empty(), "purged messages leave the index");
    assert_eq!(store.integrity_check().await.unwrap(), "ok");
}

#[tokio::test]
async fn hostile_query_strings_never_cause_an_error() {
    let (_dir, store) = open_store().await;
    let chat = new_conversation(&store, 1).await;
    store
        .add_message(chat.id, None, Role::User, "AND NEAR or \"quoted\" x*y -minus ^caret 🎉 日本語のテキスト", 2)
        .await
        .unwrap();
    let hostile = [
        "\"",
        "\"\"",
        "\"unbalanced",
        "*",
        "a*",
        "AND",
        "OR",
        "NOT",
        "AND OR NOT",
        "NEAR(",
        "NEAR(a b",
        "-",
        "-minus",
        "^",
        "^caret",
        "content:",
        "messages_fts:x",
        "{a b}",
        "(",
        ")",
        "'",
        "\\",
        "🎉",
        "日本語",
        "x AND",
        "\u{0}",
        "  \t\n ",
        "a\"b\"c",
        "+",
        ":",
        "%",
        "_",
    ];
    for query in hostile {
        let result = store.search(query, 10).await;
        assert!(result.is_ok(), "{query:?} is text to look for, never query syntax: {result:?}");
    }
    assert_eq!(store.search("near", 10).await.unwrap().len(), 1, "FTS5 keywords are searched as words");
    assert_eq!(store.search("\"quoted", 10).await.unwrap().len(), 1, "a stray quote is ignored");
    assert_eq!(store.search("日本語", 10).await.unwrap().len(), 1, "Japanese is found from its start");
}

#[tokio::test]
async fn an_empty_query_gives_no_results() {
    let (_dir, store) = open_store().await;
    let chat = new_conversation(&store, 1).await;
    store.add_message(chat.id, None, Role::User, "anything", 2).await.unwrap();
    assert!(store.search("", 10).await.unwrap().is_empty());
    assert!(store.search("   ", 10).await.unwrap().is_empty());
}

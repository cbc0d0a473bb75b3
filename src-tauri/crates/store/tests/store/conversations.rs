//! Conversations: create, read, list, rename, pin, settings, soft delete, restore and purge.

use gemma_desk_store::{ConversationSettings, NewAttachment, Role, StoreError};

use crate::{new_conversation, open_store};

fn settings() -> ConversationSettings {
    ConversationSettings {
        system_prompt: Some("Answer briefly.".into()),
        sampling: serde_json::json!({ "temperature": 0.7, "top_k": 64 }),
    }
}

#[tokio::test]
async fn a_new_conversation_reads_back_with_its_model_and_settings() {
    let (_dir, store) = open_store().await;
    let created = store.create_conversation(Some("Trip"), Some("gemma-3-4b"), &settings(), 1_000).await.unwrap();
    let read = store.conversation(created.id).await.unwrap();
    assert_eq!(read, created, "what create returns is what is stored");
    assert_eq!(read.title, "Trip");
    assert_eq!(read.model.as_deref(), Some("gemma-3-4b"));
    assert_eq!(read.settings, settings(), "the system prompt and sampling survive the JSON column");
    assert_eq!((read.created_at, read.updated_at), (1_000, 1_000));
    assert!(!read.pinned && read.deleted_at.is_none() && read.current_leaf_id.is_none());
}

#[tokio::test]
async fn conversations_are_listed_pinned_first_then_most_recently_updated() {
    let (_dir, store) = open_store().await;
    let old = new_conversation(&store, 1).await;
    let pinned = new_conversation(&store, 2).await;
    let newer = new_conversation(&store, 3).await;
    let touched = new_conversation(&store, 4).await;
    store.set_pinned(pinned.id, true, 5).await.unwrap();
    store.add_message(old.id, None, Role::User, "bump", 6).await.unwrap();
    store.rename_conversation(touched.id, "renamed", 7).await.unwrap();
    let order: Vec<i64> = store.list_conversations(50, 0).await.unwrap().iter().map(|c| c.id).collect();
    assert_eq!(order, [pinned.id, touched.id, old.id, newer.id], "pinned first, then updated_at descending");
}

#[tokio::test]
async fn listing_pages_with_limit_and_offset() {
    let (_dir, store) = open_store().await;
    for now in 0..5 {
        new_conversation(&store, now).await;
    }
    let first = store.list_conversations(2, 0).await.unwrap();
    let second = store.list_conversations(2, 2).await.unwrap();
    let rest = store.list_conversations(10, 4).await.unwrap();
    assert_eq!(first.iter().map(|c| c.updated_at).collect::<Vec<_>>(), [4, 3]);
    assert_eq!(second.iter().map(|c| c.updated_at).collect::<Vec<_>>(), [2, 1]);
    assert_eq!(rest.len(), 1, "the last page holds what is left");
}

#[tokio::test]
async fn renaming_pinning_and_new_settings_are_saved_and_move_updated_at() {
    let (_dir, store) = open_store().await;
    let chat = new_conversation(&store, 1).await;
    store.rename_conversation(chat.id, "  Holiday plans ", 2).await.unwrap();
    store.set_pinned(chat.id, true, 3).await.unwrap();
    store.update_settings(chat.id, Some("gemma-3n"), &settings(), 4).await.unwrap();
    let read = store.conversation(chat.id).await.unwrap();
    assert_eq!(read.title, "Holiday plans", "titles are trimmed");
    assert!(read.pinned);
    assert_eq!(read.model.as_deref(), Some("gemma-3n"));
    assert_eq!(read.settings, settings());
    assert_eq!(read.updated_at, 4, "every change moves updated_at");
}

#[tokio::test]
async fn a_deleted_conversation_leaves_the_list_and_comes_back_when_restored() {
    let (_dir, store) = open_store().await;
    let chat = new_conversation(&store, 1).await;
    store.add_message(chat.id, None, Role::User, "keep me", 2).await.unwrap();
    store.delete_conversation(chat.id, 10).await.unwrap();
    assert!(store.list_conversations(50, 0).await.unwrap().is_empty(), "a deleted conversation is not listed");
    assert_eq!(store.conversation(chat.id).await.unwrap().deleted_at, Some(10), "but it can still be read");
    store.restore_conversation(chat.id, 11).await.unwrap();
    let listed = store.list_conversations(50, 0).await.unwrap();
    assert_eq!(listed.len(), 1, "undo brings it back");
    assert_eq!(listed[0].deleted_at, None);
    assert_eq!(store.current_branch(chat.id).await.unwrap()[0].message.content, "keep me", "with its messages");
}

#[tokio::test]
async fn purge_removes_only_conversations_deleted_before_the_limit() {
    let (_dir, store) = open_store().await;
    let old = new_conversation(&store, 1).await;
    let recent = new_conversation(&store, 1).await;
    let live = new_conversation(&store, 1).await;
    let message = store.add_message(old.id, None, Role::User, "old", 2).await.unwrap();
    store.delete_conversation(old.id, 100).await.unwrap();
    store.delete_conversation(recent.id, 200).await.unwrap();
    assert_eq!(store.purge_deleted(150).await.unwrap(), 1, "only the one deleted before 150 goes");
    assert!(matches!(store.conversation(old.id).await, Err(StoreError::NotFound { what: "conversation", .. })));
    assert!(matches!(store.message(message.id).await, Err(StoreError::NotFound { what: "message", .. })));
    assert!(store.conversation(recent.id).await.is_ok(), "deleted after the limit: still undoable");
    assert!(store.conversation(live.id).await.is_ok(), "live conversations are never purged");
    assert_eq!(store.purge_deleted(150).await.unwrap(), 0, "purging again finds nothing");
}

#[tokio::test]
async fn purge_deletes_attachment_files_no_longer_referenced_and_keeps_shared_ones() {
    let (_dir, store) = open_store().await;
    let doomed = new_conversation(&store, 1).await;
    let kept = new_conversation(&store, 1).await;
    let image = NewAttachment { media_type: "image/png".into(), ..NewAttachment::default() };
    let doomed_message = store.add_message(doomed.id, None, Role::User, "look", 2).await.unwrap();
    let kept_message = store.add_message(kept.id, None, Role::User, "look too", 2).await.unwrap();
    let own = store.add_attachment(doomed_message.id, b"only in the purged one", &image, 3).await.unwrap();
    let shared = store.add_attachment(doomed_message.id, b"in both", &image, 3).await.unwrap();
    store.add_attachment(kept_message.id, b"in both", &image, 3).await.unwrap();
    store.delete_conversation(doomed.id, 10).await.unwrap();
    store.purge_deleted(11).await.unwrap();
    assert!(!store.attachment_path(&own.sha256).exists(), "a file nothing refers to any more is removed");
    assert!(store.attachment_path(&shared.sha256).exists(), "a file another conversation uses is kept");
    assert_eq!(store.attachments(kept_message.id).await.unwrap().len(), 1);
}

#[tokio::test]
async fn unknown_conversation_ids_give_not_found_with_a_helpful_message() {
    let (_dir, store) = open_store().await;
    let error = store.conversation(12).await.unwrap_err();
    assert_eq!(error.to_string(), "conversation 12 not found; it may have been deleted for good");
    let settings = ConversationSettings::default();
    let results = [
        store.rename_conversation(12, "x", 1).await,
        store.set_pinned(12, true, 1).await,
        store.update_settings(12, None, &settings, 1).await,
        store.delete_conversation(12, 1).await,
        store.restore_conversation(12, 1).await,
        store.switch_branch(12, 1, 1).await,
        store.all_messages(12).await.map(drop),
        store.current_branch(12).await.map(drop),
        store.add_message(12, None, Role::User, "x", 1).await.map(drop),
    ];
    for (n, result) in results.into_iter().enumerate() {
        assert!(
            matches!(result, Err(StoreError::NotFound { what: "conversation", id: 12 })),
            "call {n} names the missing conversation: {result:?}"
        );
    }
}

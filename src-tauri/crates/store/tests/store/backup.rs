//! After a quit the database file alone holds everything, and a backup taken while a reply
//! streams is a complete, consistent copy.

use gemma_desk_store::{MessageStatus, NewAttachment, Role, Store, StoreError};

use crate::{new_conversation, open_store};

#[tokio::test]
async fn after_close_the_database_file_alone_holds_every_conversation() {
    let (dir, store) = open_store().await;
    let chat = new_conversation(&store, 1).await;
    store.add_message(chat.id, None, Role::User, "kept in the main file", 2).await.unwrap();
    // A reader beside it (`gemma-desk-cli history` while the app runs) keeps the database open, so
    // SQLite's own checkpoint on the last close does not happen: only the writer's close can empty
    // the WAL.
    let beside = Store::open_database_in_use(&Store::database_in(dir.path())).await.unwrap();
    assert_eq!(beside.current_branch(chat.id).await.unwrap().len(), 1);
    store.close().await.unwrap();

    let wal = dir.path().join("gemma-desk.sqlite3-wal");
    assert!(std::fs::metadata(&wal).map_or(true, |meta| meta.len() == 0), "the WAL was checkpointed and emptied");
    beside.close().await.unwrap();
    let copy = tempfile::tempdir().unwrap();
    std::fs::copy(Store::database_in(dir.path()), Store::database_in(copy.path())).unwrap();
    let copied = Store::open(copy.path()).await.unwrap();
    let branch = copied.current_branch(chat.id).await.unwrap();
    assert_eq!(branch.len(), 1, "the copied file alone has the conversation");
    assert_eq!(branch[0].message.content, "kept in the main file");
}

#[tokio::test]
async fn a_backup_taken_while_a_reply_streams_restores_every_conversation_and_attachment() {
    let (dir, store) = open_store().await;
    let first = new_conversation(&store, 1).await;
    let question = store.add_message(first.id, None, Role::User, "What is in this picture?", 2).await.unwrap();
    let info = NewAttachment { media_type: "image/png".into(), name: Some("cat.png".into()), ..NewAttachment::default() };
    let picture = store.add_attachment(question.id, b"not really a png", &info, 3).await.unwrap();
    store.add_message(first.id, Some(question.id), Role::Assistant, "A cat.", 4).await.unwrap();
    let second = new_conversation(&store, 5).await;
    let asked = store.add_message(second.id, None, Role::User, "Tell me a story", 6).await.unwrap();
    let streaming = store.begin_reply(second.id, asked.id, Some("gemma"), 7).await.unwrap();
    store.save_reply_text(streaming.id, "Once upon", 8).await.unwrap();

    let target = dir.path().join("backups").join("conversations.sqlite3");
    std::fs::create_dir_all(target.parent().unwrap()).unwrap();
    let backup = store.backup_to(&target).await.unwrap();
    store.save_reply_text(streaming.id, "Once upon a time, after the backup", 9).await.unwrap();
    assert_eq!((backup.conversations, backup.attachment_files), (2, 1));
    assert_eq!(backup.attachments, target.with_file_name("conversations.attachments"));

    let restored = Store::open_database(&target).await.unwrap();
    assert_eq!(restored.recovered_replies(), 1, "the reply streaming at the backup comes back interrupted");
    assert_eq!(restored.list_conversations(10, 0).await.unwrap().len(), 2);
    let story = restored.message(streaming.id).await.unwrap();
    assert_eq!((story.status, story.content.as_str()), (MessageStatus::Interrupted, "Once upon"));
    let attachments = restored.attachments(question.id).await.unwrap();
    assert_eq!(attachments.len(), 1);
    let bytes = std::fs::read(restored.attachment_path(&picture.sha256)).unwrap();
    assert_eq!(bytes, b"not really a png", "the attachment file was copied beside the backup");
    assert_eq!(restored.integrity_check().await.unwrap(), "ok");
}

#[tokio::test]
async fn a_second_backup_to_the_same_file_replaces_the_first() {
    let (dir, store) = open_store().await;
    let target = dir.path().join("backup.sqlite3");
    new_conversation(&store, 1).await;
    store.backup_to(&target).await.unwrap();
    new_conversation(&store, 2).await;
    assert_eq!(store.backup_to(&target).await.unwrap().conversations, 2);
    let leftovers: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|name| name.ends_with(".partial"))
        .collect();
    assert!(leftovers.is_empty(), "no partial copy is left behind: {leftovers:?}");
}

#[tokio::test]
async fn a_backup_onto_the_database_itself_is_refused() {
    let (dir, store) = open_store().await;
    new_conversation(&store, 1).await;
    for name in ["gemma-desk.sqlite3", "gemma-desk.sqlite3-wal"] {
        let error = store.backup_to(&dir.path().join(name)).await.expect_err("refused");
        assert!(matches!(error, StoreError::Invalid(_)), "{error:?}");
        assert!(error.to_string().contains("database itself"), "{error}");
    }
    assert_eq!(store.list_conversations(10, 0).await.unwrap().len(), 1, "the database is intact");
}

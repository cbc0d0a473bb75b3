//! Attachments: content-addressed files, one per distinct content, removed with the last row
//! that refers to them.

use gemma_desk_store::{AttachmentSource, NewAttachment, Role, Store, StoreError};
use sha2::Digest;

use crate::{new_conversation, open_store};

fn png(name: &str) -> NewAttachment {
    NewAttachment {
        media_type: "image/png".into(),
        width: Some(640),
        height: Some(480),
        duration_ms: None,
        name: Some(name.into()),
    }
}

/// A store with one user message to attach things to.
async fn store_with_message() -> (tempfile::TempDir, Store, i64) {
    let (dir, store) = open_store().await;
    let chat = new_conversation(&store, 1).await;
    let message = store.add_message(chat.id, None, Role::User, "see attached", 2).await.unwrap();
    (dir, store, message.id)
}

/// How many attachment files there are (temporary files included).
fn files_under(dir: &std::path::Path) -> usize {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .map(|path| if path.is_dir() { files_under(&path) } else { 1 })
        .sum()
}

#[tokio::test]
async fn an_attachment_is_stored_under_its_sha256_with_its_details() {
    let (dir, store, message) = store_with_message().await;
    let attachment = store.add_attachment(message, b"hello", &png("cat.png"), 3).await.unwrap();
    assert_eq!(attachment.sha256, "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824");
    let path = store.attachment_path(&attachment.sha256);
    assert_eq!(path, dir.path().join("attachments").join("2c").join(&attachment.sha256));
    assert_eq!(std::fs::read(&path).unwrap(), b"hello", "the file holds the bytes");
    assert_eq!((attachment.size, attachment.width, attachment.height), (5, Some(640), Some(480)));
    assert_eq!(
        (attachment.name.as_deref(), attachment.message_id, attachment.created_at),
        (Some("cat.png"), message, 3)
    );
    assert_eq!(store.attachments(message).await.unwrap(), [attachment]);
}

#[tokio::test]
async fn identical_bytes_are_stored_once_with_a_row_each() {
    let (dir, store, message) = store_with_message().await;
    let first = store.add_attachment(message, b"same picture", &png("a.png"), 3).await.unwrap();
    let second = store.add_attachment(message, b"same picture", &png("b.png"), 4).await.unwrap();
    assert_ne!(first.id, second.id, "each attachment has its own row");
    assert_eq!(first.sha256, second.sha256);
    assert_eq!(files_under(&dir.path().join("attachments")), 1, "one file, no temporary files left behind");
    assert_eq!(store.attachments(message).await.unwrap().len(), 2);
}

#[tokio::test]
async fn removing_an_attachment_keeps_the_file_until_the_last_row_goes() {
    let (_dir, store, message) = store_with_message().await;
    let first = store.add_attachment(message, b"shared bytes", &png("a.png"), 3).await.unwrap();
    let second = store.add_attachment(message, b"shared bytes", &png("b.png"), 4).await.unwrap();
    let path = store.attachment_path(&first.sha256);
    store.remove_attachment(first.id).await.unwrap();
    assert!(path.exists(), "another row still refers to the file");
    assert_eq!(store.attachments(message).await.unwrap(), std::slice::from_ref(&second));
    store.remove_attachment(second.id).await.unwrap();
    assert!(!path.exists(), "the last reference took the file with it");
    let again = store.add_attachment(message, b"shared bytes", &png("c.png"), 5).await.unwrap();
    assert!(store.attachment_path(&again.sha256).exists(), "adding the bytes again writes the file again");
}

#[tokio::test]
async fn attachments_come_with_their_message_on_the_current_branch() {
    let (_dir, store, message) = store_with_message().await;
    let clip = NewAttachment { media_type: "audio/wav".into(), duration_ms: Some(1_500), ..NewAttachment::default() };
    let attachment = store.add_attachment(message, b"RIFF....WAVE", &clip, 3).await.unwrap();
    let chat = store.message(message).await.unwrap().conversation_id;
    let branch = store.current_branch(chat).await.unwrap();
    assert_eq!(branch[0].attachments, [attachment], "the UI gets the clip with the message");
}

#[tokio::test]
async fn an_attachment_without_a_media_type_is_refused() {
    let (_dir, store, message) = store_with_message().await;
    let error = store.add_attachment(message, b"?", &NewAttachment::default(), 3).await.unwrap_err();
    assert!(matches!(error, StoreError::Invalid(_)), "{error:?}");
}

#[tokio::test]
async fn unknown_ids_give_not_found() {
    let (_dir, store, _message) = store_with_message().await;
    let removed = store.remove_attachment(77).await;
    assert!(matches!(removed, Err(StoreError::NotFound { what: "attachment", id: 77 })), "{removed:?}");
    let listed = store.attachments(88).await;
    assert!(matches!(listed, Err(StoreError::NotFound { what: "message", id: 88 })), "{listed:?}");
    let added = store.add_attachment(88, b"x", &png("x.png"), 3).await;
    assert!(matches!(added, Err(StoreError::NotFound { what: "message", id: 88 })), "{added:?}");
}

#[tokio::test]
async fn a_path_from_a_bad_hash_never_leaves_the_attachments_folder() {
    let (dir, store, _message) = store_with_message().await;
    let folder = dir.path().join("attachments");
    for hostile in ["../../etc/passwd", "", "é", "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b982/"] {
        let path = store.attachment_path(hostile);
        assert!(path.starts_with(&folder) && !path.exists(), "{hostile:?} gave {}", path.display());
    }
}

#[tokio::test]
async fn a_question_and_its_attachments_are_stored_together() {
    let (_dir, store) = open_store().await;
    let chat = new_conversation(&store, 1).await;
    let (beach, dunes) = (png("beach.png"), png("dunes.png"));
    let sources = [AttachmentSource::Bytes(b"beach pixels", &beach), AttachmentSource::Bytes(b"dune pixels", &dunes)];
    let (question, attachments) = store.add_question(chat.id, None, "Which is warmer?", &sources, 2).await.unwrap();
    assert_eq!(store.attachments(question.id).await.unwrap(), attachments);
    let names: Vec<_> = attachments.iter().map(|a| a.name.as_deref().unwrap()).collect();
    assert_eq!(names, ["beach.png", "dunes.png"]);
    assert_eq!(std::fs::read(store.attachment_path(&attachments[1].sha256)).unwrap(), b"dune pixels");
    let chat = store.conversation(chat.id).await.unwrap();
    assert_eq!((chat.current_leaf_id, chat.title.as_str()), (Some(question.id), "Which is warmer?"));
}

#[tokio::test]
async fn an_edited_question_shares_the_stored_files() {
    let (_dir, store) = open_store().await;
    let chat = new_conversation(&store, 1).await;
    let beach = png("beach.png");
    let (first, kept) =
        store.add_question(chat.id, None, "What is this?", &[AttachmentSource::Bytes(b"beach", &beach)], 2).await.unwrap();
    let sources: Vec<_> = kept.iter().map(AttachmentSource::Stored).collect();
    let (edited, copied) = store.add_question(chat.id, None, "Where is this?", &sources, 3).await.unwrap();
    assert_eq!(store.siblings(first.id).await.unwrap(), [first.id, edited.id]);
    assert_eq!((copied[0].sha256.as_str(), copied[0].name.as_deref(), copied[0].size), (kept[0].sha256.as_str(), Some("beach.png"), 5));
    assert_eq!((copied[0].width, copied[0].height, copied[0].message_id), (Some(640), Some(480), edited.id));
    // The file is the first question's until both rows are gone.
    store.remove_attachment(kept[0].id).await.unwrap();
    assert_eq!(std::fs::read(store.attachment_path(&copied[0].sha256)).unwrap(), b"beach");
}

#[tokio::test]
async fn a_question_whose_file_cannot_be_stored_is_not_stored_at_all() {
    let (_dir, store) = open_store().await;
    let chat = new_conversation(&store, 1).await;
    let beach = png("beach.png");
    let bytes = b"beach";
    // Where the file's folder would go, a file: the write fails as on a full disk.
    let blocked = store.attachment_path(&format!("{:x}", sha2::Sha256::digest(bytes)));
    std::fs::create_dir_all(blocked.parent().unwrap().parent().unwrap()).unwrap();
    std::fs::write(blocked.parent().unwrap(), b"in the way").unwrap();
    let error = store.add_question(chat.id, None, "What is this?", &[AttachmentSource::Bytes(bytes, &beach)], 2).await;
    assert!(matches!(error, Err(StoreError::Io { .. })), "{error:?}");
    let chat = store.conversation(chat.id).await.unwrap();
    assert_eq!(chat.current_leaf_id, None, "the question without its image was stored");
    assert!(store.current_branch(chat.id).await.unwrap().is_empty());
}

#[tokio::test]
async fn a_question_sharing_a_file_that_is_gone_is_refused() {
    let (_dir, store) = open_store().await;
    let chat = new_conversation(&store, 1).await;
    let beach = png("beach.png");
    let (first, kept) =
        store.add_question(chat.id, None, "What is this?", &[AttachmentSource::Bytes(b"beach", &beach)], 2).await.unwrap();
    std::fs::remove_file(store.attachment_path(&kept[0].sha256)).unwrap();
    let error = store.add_question(chat.id, None, "And this?", &[AttachmentSource::Stored(&kept[0])], 3).await.unwrap_err();
    assert!(error.to_string().contains("beach.png"), "{error}");
    assert_eq!(store.siblings(first.id).await.unwrap(), [first.id], "a question without its image was stored");
}

//! Export and import: a conversation as Markdown for people, or as a versioned JSON document that
//! imports back without losing anything (every branch, status, figure and attachment byte).
//!
//! An import is checked whole before the database is touched ([`document`] names the message and
//! field of every refusal), then written in one transaction with its new attachment files: a
//! refused or failed import leaves no row and no file behind.

use std::cmp::Reverse;
use std::collections::{BTreeMap, BinaryHeap, HashMap};
use std::path::PathBuf;
use std::sync::Arc;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use sqlx::SqliteConnection;

use crate::attachments::{ATTACHMENT_COLUMNS, attachment_from_row, insert_attachment_row, write_file};
use crate::conversations::{fetch_conversation, settings_json};
use crate::error::StoreError;
use crate::messages::{MESSAGE_COLUMNS, message_from_row};
use crate::store::Store;
use crate::types::{
    Attachment, Conversation, ConversationId, ExportScope, MarkdownExport, Message, MessageId, Millis, NewAttachment,
};

mod document;
mod import;
mod markdown;

use document::{DocAttachment, DocConversation, DocMessage, DocStats, Document, FORMAT, VERSION};
use import::Import;

impl Store {
    /// The conversation as a JSON document (pretty-printed) that [`Store::import_json`] reads
    /// back: `{"format": "gemma-desk-conversation", "version": 1, "conversation": {..},
    /// "current_leaf": <id or null>, "messages": [..]}`. Messages come parents first, their ids
    /// renumbered 0, 1, 2, ... (`parent` and `current_leaf` use these ids); attachments carry
    /// their bytes in base64. `CurrentBranch` holds the branch shown, `WholeTree` every message.
    pub async fn export_json(&self, conversation: ConversationId, scope: ExportScope) -> Result<String, StoreError> {
        let export = self.load_export(conversation, scope).await?;
        let mut files: HashMap<String, Vec<u8>> = HashMap::new();
        for attachment in export.attachments.values().flatten() {
            if !files.contains_key(&attachment.sha256) {
                let path = self.attachment_path(&attachment.sha256);
                let bytes = tokio::fs::read(&path).await.map_err(|e| StoreError::io(path, e))?;
                files.insert(attachment.sha256.clone(), bytes);
            }
        }
        // Base64 and serialising hundreds of megabytes is work for a blocking thread.
        tokio::task::spawn_blocking(move || json_document(&export, &files))
            .await
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic.into_panic()))
    }

    /// The conversation as Markdown: its title, a line of dates and model, then every message of
    /// `scope` under `## User`, `## Assistant`, ... with its text verbatim, a reply's figures and
    /// status in italics, and its attachments listed. A whole tree introduces each branch ("Branch
    /// 2 of 3 · after ...").
    ///
    /// With `files_folder`, the name of a folder beside the Markdown file (`Trip files` for
    /// `Trip.md`), images are shown and sound clips linked instead of listed:
    /// `![photo.png](Trip%20files/photo.png)`, `[🔊 question.wav (2.4 s)](Trip%20files/question.wav)`,
    /// linking to the [`MarkdownExport::files`] the caller copies there. Without one (text for a
    /// terminal) there are no files.
    pub async fn export_markdown(
        &self,
        conversation: ConversationId,
        scope: ExportScope,
        files_folder: Option<&str>,
    ) -> Result<MarkdownExport, StoreError> {
        let export = self.load_export(conversation, scope).await?;
        Ok(markdown::render(&export, files_folder))
    }

    /// Imports a document written by [`Store::export_json`] as a new conversation (new ids, the
    /// messages' own times kept, `updated_at` = `now`, not deleted) and returns it.
    ///
    /// A file that is not a version 1 export, has the wrong types or unknown fields, a parent that
    /// is not an earlier message (so no cycles), a duplicate id, a field over its limit (the file
    /// 256 MiB, a message's text 16 MiB, a title 1,000 characters, 100,000 messages, an attachment
    /// 64 MiB), bad base64 or an attachment whose bytes do not match its sha256 is refused with
    /// [`StoreError::InvalidImport`] saying where. A refused or failed import changes nothing.
    /// Replies that were `streaming` when exported come in `interrupted`.
    pub async fn import_json(&self, json: &str, now: Millis) -> Result<Conversation, StoreError> {
        import::check_file_size(json.len())?;
        let json = json.to_owned();
        let import = tokio::task::spawn_blocking(move || import::parse(&json))
            .await
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic.into_panic()))?;

        let mut tx = self.begin_write().await?;
        // Declared after `tx`, so dropped before it: on any failure (or if this future is
        // dropped) the new files go while the write lock still keeps others from using them.
        let mut new_files = NewFiles::default();
        // Files before rows, as `add_attachment` does: a row never points at a missing file.
        for (sha256, data) in unique_files(&import) {
            let path = self.attachment_path(sha256);
            // Checked under the write lock: nothing can remove an existing file meanwhile.
            let existed = tokio::fs::try_exists(&path).await.unwrap_or(false);
            write_file(path.clone(), Arc::from(data)).await?;
            if !existed {
                new_files.0.push(path);
            }
        }
        let id = insert_import(&mut tx, &import, now).await?;
        tx.commit().await?;
        new_files.keep();
        self.conversation(id).await
    }

    /// The conversation and the messages of `scope`, parents first, with their attachments.
    async fn load_export(&self, conversation: ConversationId, scope: ExportScope) -> Result<Exported, StoreError> {
        let (conversation, messages, attachments) = match scope {
            ExportScope::CurrentBranch => {
                let conversation = self.conversation(conversation).await?;
                let branch = self.current_branch(conversation.id).await?;
                let mut attachments = HashMap::new();
                let mut messages = Vec::with_capacity(branch.len());
                for item in branch {
                    attachments.insert(item.message.id, item.attachments);
                    messages.push(item.message);
                }
                (conversation, messages, attachments)
            }
            ExportScope::WholeTree => {
                // One read transaction: the messages and attachments of one moment.
                let mut tx = self.pool().begin().await?;
                let conversation = fetch_conversation(&mut *tx, conversation).await?;
                let messages = whole_tree(&mut tx, conversation.id).await?;
                let attachments = tree_attachments(&mut tx, conversation.id).await?;
                tx.commit().await?;
                (conversation, messages, attachments)
            }
        };
        let messages = parents_first(messages, conversation.id)?;
        Ok(Exported { conversation, messages, attachments, scope })
    }
}

/// What an export holds.
pub(crate) struct Exported {
    pub conversation: Conversation,
    /// Parents before their replies.
    pub messages: Vec<Message>,
    /// By message, each message's in the order they were added.
    pub attachments: HashMap<MessageId, Vec<Attachment>>,
    pub scope: ExportScope,
}

/// Attachment files written by an import that is not committed yet; removed unless kept.
#[derive(Default)]
struct NewFiles(Vec<PathBuf>);

impl NewFiles {
    fn keep(mut self) {
        self.0.clear();
    }
}

impl Drop for NewFiles {
    fn drop(&mut self) {
        for path in &self.0 {
            let _ = std::fs::remove_file(path);
        }
    }
}

fn json_document(export: &Exported, files: &HashMap<String, Vec<u8>>) -> Result<String, StoreError> {
    let local: HashMap<MessageId, usize> = export.messages.iter().enumerate().map(|(i, m)| (m.id, i)).collect();
    let current_leaf = match export.scope {
        ExportScope::CurrentBranch => export.messages.len().checked_sub(1),
        ExportScope::WholeTree => export.conversation.current_leaf_id.and_then(|leaf| local.get(&leaf).copied()),
    };
    let conversation = &export.conversation;
    let messages = export
        .messages
        .iter()
        .enumerate()
        .map(|(id, message)| DocMessage {
            id,
            parent: message.parent_id.and_then(|parent| local.get(&parent).copied()),
            role: message.role,
            content: &message.content,
            status: message.status,
            error: message.error.as_deref(),
            model: message.model.as_deref(),
            stats: DocStats::from(&message.stats),
            tool: message.tool.as_ref(),
            created_at: message.created_at,
            updated_at: message.updated_at,
            attachments: export
                .attachments
                .get(&message.id)
                .into_iter()
                .flatten()
                .map(|attachment| DocAttachment {
                    media_type: &attachment.media_type,
                    name: attachment.name.as_deref(),
                    width: attachment.width,
                    height: attachment.height,
                    duration_ms: attachment.duration_ms,
                    created_at: attachment.created_at,
                    sha256: &attachment.sha256,
                    data: BASE64.encode(files.get(&attachment.sha256).map_or(&[][..], Vec::as_slice)),
                })
                .collect(),
        })
        .collect();
    let document = Document {
        format: FORMAT,
        version: VERSION,
        conversation: DocConversation {
            title: &conversation.title,
            created_at: conversation.created_at,
            updated_at: conversation.updated_at,
            pinned: conversation.pinned,
            model: conversation.model.as_deref(),
            settings: &conversation.settings,
        },
        current_leaf,
        messages,
    };
    serde_json::to_string_pretty(&document)
        .map_err(|e| StoreError::Invalid(format!("conversation {} could not be written as JSON: {e}", conversation.id)))
}

/// Every message of the conversation, in id order.
async fn whole_tree(conn: &mut SqliteConnection, conversation: ConversationId) -> Result<Vec<Message>, StoreError> {
    let sql = format!("SELECT {MESSAGE_COLUMNS} FROM messages WHERE conversation_id = ?1 ORDER BY id");
    let rows = sqlx::query(&sql).bind(conversation).fetch_all(conn).await?;
    rows.iter().map(message_from_row).collect()
}

/// The attachments of every message of the conversation, by message.
async fn tree_attachments(
    conn: &mut SqliteConnection,
    conversation: ConversationId,
) -> Result<HashMap<MessageId, Vec<Attachment>>, StoreError> {
    let sql = format!(
        "SELECT {ATTACHMENT_COLUMNS} FROM attachments
         WHERE message_id IN (SELECT id FROM messages WHERE conversation_id = ?1) ORDER BY id"
    );
    let rows = sqlx::query(&sql).bind(conversation).fetch_all(conn).await?;
    let mut by_message: HashMap<MessageId, Vec<Attachment>> = HashMap::new();
    for row in &rows {
        let attachment = attachment_from_row(row);
        by_message.entry(attachment.message_id).or_default().push(attachment);
    }
    Ok(by_message)
}

/// The messages with every parent before its replies, otherwise in id order (which is already
/// parents first, as a reply is always created after its parent; this makes sure of it). A
/// parent outside the set makes a message a root.
fn parents_first(messages: Vec<Message>, conversation: ConversationId) -> Result<Vec<Message>, StoreError> {
    let ids: HashMap<MessageId, usize> = messages.iter().enumerate().map(|(i, m)| (m.id, i)).collect();
    let mut children: HashMap<MessageId, Vec<usize>> = HashMap::new();
    let mut ready = BinaryHeap::new();
    for (index, message) in messages.iter().enumerate() {
        match message.parent_id.filter(|parent| ids.contains_key(parent)) {
            Some(parent) => children.entry(parent).or_default().push(index),
            None => ready.push(Reverse((message.id, index))),
        }
    }
    let mut order = Vec::with_capacity(messages.len());
    while let Some(Reverse((id, index))) = ready.pop() {
        order.push(index);
        for &child in children.get(&id).into_iter().flatten() {
            ready.push(Reverse((messages[child].id, child)));
        }
    }
    if order.len() != messages.len() {
        return Err(StoreError::Invalid(format!(
            "conversation {conversation} has messages whose parents form a loop; the database is damaged \
             (run an integrity check)"
        )));
    }
    let mut slots: Vec<Option<Message>> = messages.into_iter().map(Some).collect();
    Ok(order.into_iter().filter_map(|index| slots[index].take()).collect())
}

/// Inserts the conversation, its messages and their attachment rows; returns the new id.
async fn insert_import(
    conn: &mut SqliteConnection,
    import: &Import,
    now: Millis,
) -> Result<ConversationId, StoreError> {
    let conversation: ConversationId = sqlx::query_scalar(
        "INSERT INTO conversations (title, created_at, updated_at, pinned, model, settings)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6) RETURNING id",
    )
    .bind(&import.title)
    .bind(import.created_at)
    .bind(now)
    .bind(import.pinned)
    .bind(import.model.as_deref())
    .bind(settings_json(&import.settings))
    .fetch_one(&mut *conn)
    .await?;
    let mut ids: Vec<MessageId> = Vec::with_capacity(import.messages.len());
    for message in &import.messages {
        let id: MessageId = sqlx::query_scalar(
            "INSERT INTO messages (conversation_id, parent_id, role, content, status, error, model, ttft_ms,
                 prefill_tps, decode_tps, prompt_tokens, generated_tokens, reused_tokens, image_tokens_reused,
                 image_tokens_encoded, created_at, updated_at, tool)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18) RETURNING id",
        )
        .bind(conversation)
        // Checked by `import::parse`: a parent is an earlier message.
        .bind(message.parent.map(|parent| ids[parent]))
        .bind(message.role.as_str())
        .bind(&message.content)
        .bind(message.status.as_str())
        .bind(message.error.as_deref())
        .bind(message.model.as_deref())
        .bind(message.stats.ttft_ms)
        .bind(message.stats.prefill_tps)
        .bind(message.stats.decode_tps)
        .bind(message.stats.prompt_tokens)
        .bind(message.stats.generated_tokens)
        .bind(message.stats.reused_tokens)
        .bind(message.stats.image_tokens_reused)
        .bind(message.stats.image_tokens_encoded)
        .bind(message.created_at)
        .bind(message.updated_at)
        .bind(message.tool.as_ref().map(|tool| serde_json::to_string(tool).expect("a tool part is plain JSON")))
        .fetch_one(&mut *conn)
        .await?;
        for attachment in &message.attachments {
            let info = NewAttachment {
                media_type: attachment.media_type.clone(),
                width: attachment.width,
                height: attachment.height,
                duration_ms: attachment.duration_ms,
                name: attachment.name.clone(),
            };
            insert_attachment_row(conn, id, &attachment.sha256, attachment.data.len(), &info, attachment.created_at)
                .await?;
        }
        ids.push(id);
    }
    sqlx::query("UPDATE conversations SET current_leaf_id = ?2 WHERE id = ?1")
        .bind(conversation)
        .bind(import.current_leaf.map(|leaf| ids[leaf]))
        .execute(&mut *conn)
        .await?;
    Ok(conversation)
}

/// Each attachment's bytes once, by sha256.
fn unique_files(import: &Import) -> BTreeMap<&str, &[u8]> {
    import
        .messages
        .iter()
        .flat_map(|message| &message.attachments)
        .map(|attachment| (attachment.sha256.as_str(), attachment.data.as_slice()))
        .collect()
}

#[cfg(test)]
mod tests {
    use crate::store::Store;
    use crate::types::{ConversationSettings, NewAttachment, Role};

    /// A valid export of one message with one attachment (`bytes` as text/plain).
    async fn export_with_attachment(bytes: &[u8]) -> String {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).await.unwrap();
        let chat = store.create_conversation(None, None, &ConversationSettings::default(), 1).await.unwrap();
        let message = store.add_message(chat.id, None, Role::User, "see attached", 1).await.unwrap();
        let text = NewAttachment { media_type: "text/plain".to_owned(), ..NewAttachment::default() };
        store.add_attachment(message.id, bytes, &text, 1).await.unwrap();
        store.export_json(chat.id, crate::ExportScope::WholeTree).await.unwrap()
    }

    /// The database refusing the rows (as a full disk would) after the files were written.
    async fn refuse_attachment_rows(store: &Store) {
        sqlx::query(
            "CREATE TRIGGER refuse_attachments BEFORE INSERT ON attachments
             BEGIN SELECT RAISE(ABORT, 'the disk caught fire'); END",
        )
        .execute(store.pool())
        .await
        .unwrap();
    }

    #[tokio::test]
    async fn a_transaction_that_fails_after_writing_files_removes_them() {
        let json = export_with_attachment(b"new bytes").await;
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).await.unwrap();
        refuse_attachment_rows(&store).await;
        let error = store.import_json(&json, 2).await.expect_err("the rows cannot be inserted");
        assert!(error.to_string().contains("the disk caught fire"), "the database's reason comes through: {error}");
        let sha = crate::attachments::sha256_hex(b"new bytes");
        assert!(!store.attachment_path(&sha).exists(), "the file written for the failed import is gone");
        assert!(store.list_conversations(10, 0).await.unwrap().is_empty(), "and no conversation was added");
    }

    #[tokio::test]
    async fn a_failed_import_keeps_files_that_were_there_before() {
        let json = export_with_attachment(b"shared bytes").await;
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).await.unwrap();
        let chat = store.create_conversation(None, None, &ConversationSettings::default(), 1).await.unwrap();
        let message = store.add_message(chat.id, None, Role::User, "mine", 1).await.unwrap();
        let text = NewAttachment { media_type: "text/plain".to_owned(), ..NewAttachment::default() };
        let mine = store.add_attachment(message.id, b"shared bytes", &text, 1).await.unwrap();
        refuse_attachment_rows(&store).await;
        store.import_json(&json, 2).await.expect_err("the rows cannot be inserted");
        assert!(store.attachment_path(&mine.sha256).exists(), "a file another message uses stays");
    }
}

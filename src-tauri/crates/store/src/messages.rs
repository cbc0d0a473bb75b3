//! Messages: the tree of a conversation. Every message has a parent (none for the first), so
//! editing an earlier user message or regenerating a reply adds a sibling instead of overwriting
//! history; the conversation's `current_leaf_id` says which branch is shown. A reply is created
//! `streaming`, its growing text saved as it arrives, then finished with its status and figures.

use std::sync::Arc;

use sqlx::Row;
use sqlx::sqlite::{SqliteConnection, SqliteExecutor, SqliteRow};

use crate::attachments::{AttachmentSource, insert_attachment_row, sha256_hex, stored_info, write_file};
use crate::error::StoreError;
use crate::store::Store;
use crate::types::{
    Attachment, ConversationId, Message, MessageId, MessageStatus, Millis, ReplyStats, Role, StoredToolCall, ToolPart,
    ToolResult,
};

/// The columns [`message_from_row`] reads, in a `SELECT`.
pub(crate) const MESSAGE_COLUMNS: &str = "id, conversation_id, parent_id, role, content, status, error, model, \
     ttft_ms, prefill_tps, decode_tps, prompt_tokens, generated_tokens, reused_tokens, image_tokens_reused, \
     image_tokens_encoded, tool, created_at, updated_at";

/// A title made from the first user message is at most this many characters (plus "…").
const TITLE_CHARS: usize = 60;

impl Store {
    /// Adds a complete message (status `done`) after `parent` (`None`: a first message) and shows
    /// its branch. A user message gives an untitled conversation its title. Editing an earlier
    /// user message is adding a sibling: a message with the same parent.
    pub async fn add_message(
        &self,
        conversation: ConversationId,
        parent: Option<MessageId>,
        role: Role,
        content: &str,
        now: Millis,
    ) -> Result<Message, StoreError> {
        let mut tx = self.begin_write().await?;
        check_live_conversation(&mut tx, conversation).await?;
        if let Some(parent) = parent {
            check_parent(&mut tx, conversation, parent).await?;
        }
        let id = insert_message(&mut tx, conversation, parent, role, content, MessageStatus::Done, None, now).await?;
        let title = if role == Role::User { title_from(content) } else { String::new() };
        show_new_leaf(&mut tx, conversation, id, &title, now).await?;
        let message = fetch_message(&mut *tx, id).await?;
        tx.commit().await?;
        Ok(message)
    }

    /// Adds the user's message `content` with its attachments, all or nothing: new files are
    /// written first (a full disk refuses the message before any row exists), then the message
    /// and its attachment rows in one transaction. A stored attachment's file must still be
    /// there, checked under the write lock (a removal cannot take it in between).
    pub async fn add_question(
        &self,
        conversation: ConversationId,
        parent: Option<MessageId>,
        content: &str,
        attachments: &[AttachmentSource<'_>],
        now: Millis,
    ) -> Result<(Message, Vec<Attachment>), StoreError> {
        let mut files = Vec::with_capacity(attachments.len());
        for source in attachments {
            let (sha256, bytes, info) = match *source {
                AttachmentSource::Bytes(bytes, info) => {
                    if info.media_type.trim().is_empty() {
                        return Err(StoreError::Invalid(
                            "an attachment has no media type; give one such as image/png or audio/wav".into(),
                        ));
                    }
                    (sha256_hex(bytes), Some(Arc::<[u8]>::from(bytes)), info.clone())
                }
                AttachmentSource::Stored(stored) => (stored.sha256.clone(), None, stored_info(stored)),
            };
            if let Some(bytes) = &bytes {
                write_file(self.attachment_path(&sha256), Arc::clone(bytes)).await?;
            }
            files.push((sha256, bytes, info));
        }
        let mut tx = self.begin_write().await?;
        check_live_conversation(&mut tx, conversation).await?;
        if let Some(parent) = parent {
            check_parent(&mut tx, conversation, parent).await?;
        }
        let id =
            insert_message(&mut tx, conversation, parent, Role::User, content, MessageStatus::Done, None, now).await?;
        let mut rows = Vec::with_capacity(files.len());
        for (sha256, bytes, info) in &files {
            let path = self.attachment_path(sha256);
            // Under the write lock: a removal of the same bytes may have deleted the file since.
            let size = match bytes {
                Some(bytes) => {
                    write_file(path, Arc::clone(bytes)).await?;
                    bytes.len()
                }
                None => {
                    let meta = std::fs::metadata(&path).map_err(|_| {
                        StoreError::Invalid(format!(
                            "the attachment {} is no longer in the attachment store",
                            info.name.as_deref().unwrap_or(sha256)
                        ))
                    })?;
                    usize::try_from(meta.len()).unwrap_or(usize::MAX)
                }
            };
            rows.push(insert_attachment_row(&mut tx, id, sha256, size, info, now).await?);
        }
        show_new_leaf(&mut tx, conversation, id, &title_from(content), now).await?;
        let message = fetch_message(&mut *tx, id).await?;
        tx.commit().await?;
        Ok((message, rows))
    }

    /// Starts an assistant reply after `parent`: status `streaming`, no text yet, shown as the
    /// current leaf. Regenerating a reply is another `begin_reply` with the same parent.
    pub async fn begin_reply(
        &self,
        conversation: ConversationId,
        parent: MessageId,
        model: Option<&str>,
        now: Millis,
    ) -> Result<Message, StoreError> {
        let reply = NewRow { role: Role::Assistant, content: "", status: MessageStatus::Streaming, model, tool: None };
        self.add_after(conversation, parent, reply, now).await
    }

    /// Adds `row` after `parent` and shows its branch, in one transaction.
    async fn add_after(
        &self,
        conversation: ConversationId,
        parent: MessageId,
        row: NewRow<'_>,
        now: Millis,
    ) -> Result<Message, StoreError> {
        let mut tx = self.begin_write().await?;
        check_live_conversation(&mut tx, conversation).await?;
        check_parent(&mut tx, conversation, parent).await?;
        let NewRow { role, content, status, model, tool } = row;
        let id = insert_message(&mut tx, conversation, Some(parent), role, content, status, model, now).await?;
        if let Some(tool) = tool {
            sqlx::query("UPDATE messages SET tool = ?2 WHERE id = ?1")
                .bind(id)
                .bind(tool_to_sql(tool))
                .execute(&mut *tx)
                .await?;
        }
        show_new_leaf(&mut tx, conversation, id, "", now).await?;
        let message = fetch_message(&mut *tx, id).await?;
        tx.commit().await?;
        Ok(message)
    }

    /// Saves the text so far of a reply that is still streaming, so a crash loses at most what
    /// came after. [`StoreError::Invalid`] once the reply is finished (or was recovered as
    /// interrupted).
    pub async fn save_reply_text(&self, id: MessageId, content: &str, now: Millis) -> Result<(), StoreError> {
        // One statement is one SQLite transaction; this is the hot path of a streaming reply.
        let done =
            sqlx::query("UPDATE messages SET content = ?2, updated_at = ?3 WHERE id = ?1 AND status = 'streaming'")
                .bind(id)
                .bind(content)
                .bind(now)
                .execute(self.pool())
                .await?;
        if done.rows_affected() == 0 {
            return Err(not_streaming(self.pool(), id).await);
        }
        Ok(())
    }

    /// Finishes a streaming reply with its final text, status (`done`, `stopped`, `interrupted`
    /// or `error` with `error` saying why) and figures.
    pub async fn finish_reply(
        &self,
        id: MessageId,
        content: &str,
        status: MessageStatus,
        error: Option<&str>,
        stats: &ReplyStats,
        now: Millis,
    ) -> Result<Message, StoreError> {
        self.end_reply(id, content, status, error, stats, None, now).await
    }

    /// Finishes a streaming reply that called tools: done, with its text (the calls taken out)
    /// and the calls, in one transaction.
    pub async fn finish_reply_with_calls(
        &self,
        id: MessageId,
        content: &str,
        calls: &[StoredToolCall],
        stats: &ReplyStats,
        now: Millis,
    ) -> Result<Message, StoreError> {
        let tool = ToolPart::Calls { calls: calls.to_vec() };
        self.end_reply(id, content, MessageStatus::Done, None, stats, Some(&tool), now).await
    }

    /// Adds the result of a call after `parent` (the reply that made it, or the previous result)
    /// as a tool message, and shows its branch.
    pub async fn add_tool_result(
        &self,
        conversation: ConversationId,
        parent: MessageId,
        result: &ToolResult,
        content: &str,
        now: Millis,
    ) -> Result<Message, StoreError> {
        let tool = ToolPart::Result(result.clone());
        let row = NewRow { role: Role::Tool, content, status: MessageStatus::Done, model: None, tool: Some(&tool) };
        self.add_after(conversation, parent, row, now).await
    }

    #[allow(clippy::too_many_arguments)] // the columns a reply ends with, each named at the call site
    async fn end_reply(
        &self,
        id: MessageId,
        content: &str,
        status: MessageStatus,
        error: Option<&str>,
        stats: &ReplyStats,
        tool: Option<&ToolPart>,
        now: Millis,
    ) -> Result<Message, StoreError> {
        if status == MessageStatus::Streaming {
            return Err(StoreError::Invalid(format!(
                "reply {id} cannot be finished as streaming; finish it as done, stopped, interrupted or error"
            )));
        }
        let mut tx = self.begin_write().await?;
        let conversation: Option<ConversationId> = sqlx::query_scalar(
            "UPDATE messages SET content = ?2, status = ?3, error = ?4, ttft_ms = ?5, prefill_tps = ?6,
                 decode_tps = ?7, prompt_tokens = ?8, generated_tokens = ?9, reused_tokens = ?10,
                 image_tokens_reused = ?11, image_tokens_encoded = ?12, updated_at = ?13, tool = ?14
             WHERE id = ?1 AND status = 'streaming' RETURNING conversation_id",
        )
        .bind(id)
        .bind(content)
        .bind(status.as_str())
        .bind(error)
        .bind(stats.ttft_ms)
        .bind(stats.prefill_tps)
        .bind(stats.decode_tps)
        .bind(stats.prompt_tokens)
        .bind(stats.generated_tokens)
        .bind(stats.reused_tokens)
        .bind(stats.image_tokens_reused)
        .bind(stats.image_tokens_encoded)
        .bind(now)
        .bind(tool.map(tool_to_sql))
        .fetch_optional(&mut *tx)
        .await?;
        let Some(conversation) = conversation else {
            return Err(not_streaming(&mut *tx, id).await);
        };
        sqlx::query("UPDATE conversations SET updated_at = ?2 WHERE id = ?1")
            .bind(conversation)
            .bind(now)
            .execute(&mut *tx)
            .await?;
        let message = fetch_message(&mut *tx, id).await?;
        tx.commit().await?;
        Ok(message)
    }

    /// One message.
    pub async fn message(&self, id: MessageId) -> Result<Message, StoreError> {
        fetch_message(self.pool(), id).await
    }

    /// The ids of the messages sharing `id`'s parent (the first messages of its conversation when
    /// it has none), `id` included, oldest first.
    pub async fn siblings(&self, id: MessageId) -> Result<Vec<MessageId>, StoreError> {
        let place: Option<(ConversationId, Option<MessageId>)> =
            sqlx::query_as("SELECT conversation_id, parent_id FROM messages WHERE id = ?1")
                .bind(id)
                .fetch_optional(self.pool())
                .await?;
        let (conversation, parent) = place.ok_or_else(|| StoreError::message_not_found(id))?;
        let query = match parent {
            Some(parent) => sqlx::query_scalar("SELECT id FROM messages WHERE parent_id = ?1 ORDER BY id").bind(parent),
            None => sqlx::query_scalar(
                "SELECT id FROM messages WHERE conversation_id = ?1 AND parent_id IS NULL ORDER BY id",
            )
            .bind(conversation),
        };
        Ok(query.fetch_all(self.pool()).await?)
    }

    /// The decode speed (tokens/s) of the `limit` newest finished replies that have one, newest
    /// first, each with the model that wrote it: what this machine has really done.
    pub async fn recent_decode_speeds(&self, limit: u32) -> Result<Vec<(String, f64)>, StoreError> {
        let rows = sqlx::query_as(
            "SELECT model, decode_tps FROM messages
             WHERE status = 'done' AND model IS NOT NULL AND decode_tps > 0
             ORDER BY id DESC LIMIT ?1",
        )
        .bind(limit)
        .fetch_all(self.pool())
        .await?;
        Ok(rows)
    }

    /// Every message of the conversation's tree, every branch, in id (creation) order.
    pub async fn all_messages(&self, conversation: ConversationId) -> Result<Vec<Message>, StoreError> {
        let mut tx = self.pool().begin().await?;
        crate::conversations::fetch_conversation(&mut *tx, conversation).await?;
        let sql = format!("SELECT {MESSAGE_COLUMNS} FROM messages WHERE conversation_id = ?1 ORDER BY id");
        let rows = sqlx::query(&sql).bind(conversation).fetch_all(&mut *tx).await?;
        tx.commit().await?;
        rows.iter().map(message_from_row).collect()
    }
}

impl Role {
    /// The role as stored and exported: `system`, `user`, `assistant` or `tool`.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::System => "system",
            Role::User => "user",
            Role::Assistant => "assistant",
            Role::Tool => "tool",
        }
    }

    /// The role stored as `text`.
    pub(crate) fn from_sql(text: &str) -> Result<Role, StoreError> {
        Ok(match text {
            "system" => Role::System,
            "user" => Role::User,
            "assistant" => Role::Assistant,
            "tool" => Role::Tool,
            other => return Err(StoreError::Invalid(format!("unknown message role {other:?} in the database"))),
        })
    }
}

impl MessageStatus {
    /// The status as stored and exported: `streaming`, `done`, `stopped`, `interrupted`, `error`.
    pub fn as_str(self) -> &'static str {
        match self {
            MessageStatus::Streaming => "streaming",
            MessageStatus::Done => "done",
            MessageStatus::Stopped => "stopped",
            MessageStatus::Interrupted => "interrupted",
            MessageStatus::Error => "error",
        }
    }

    /// The status stored as `text`.
    pub(crate) fn from_sql(text: &str) -> Result<MessageStatus, StoreError> {
        Ok(match text {
            "streaming" => MessageStatus::Streaming,
            "done" => MessageStatus::Done,
            "stopped" => MessageStatus::Stopped,
            "interrupted" => MessageStatus::Interrupted,
            "error" => MessageStatus::Error,
            other => return Err(StoreError::Invalid(format!("unknown message status {other:?} in the database"))),
        })
    }
}

/// Reads one message.
pub(crate) async fn fetch_message<'e>(executor: impl SqliteExecutor<'e>, id: MessageId) -> Result<Message, StoreError> {
    let sql = format!("SELECT {MESSAGE_COLUMNS} FROM messages WHERE id = ?1");
    let row = sqlx::query(&sql).bind(id).fetch_optional(executor).await?;
    message_from_row(&row.ok_or_else(|| StoreError::message_not_found(id))?)
}

/// A message from a row of [`MESSAGE_COLUMNS`].
pub(crate) fn message_from_row(row: &SqliteRow) -> Result<Message, StoreError> {
    Ok(Message {
        id: row.get("id"),
        conversation_id: row.get("conversation_id"),
        parent_id: row.get("parent_id"),
        role: Role::from_sql(row.get("role"))?,
        content: row.get("content"),
        status: MessageStatus::from_sql(row.get("status"))?,
        error: row.get("error"),
        model: row.get("model"),
        stats: ReplyStats {
            ttft_ms: row.get("ttft_ms"),
            prefill_tps: row.get("prefill_tps"),
            decode_tps: row.get("decode_tps"),
            prompt_tokens: row.get("prompt_tokens"),
            generated_tokens: row.get("generated_tokens"),
            reused_tokens: row.get("reused_tokens"),
            image_tokens_reused: row.get("image_tokens_reused"),
            image_tokens_encoded: row.get("image_tokens_encoded"),
        },
        tool: tool_from_sql(row.get("tool"))?,
        created_at: row.get("created_at"),
        updated_at: row.get("updated_at"),
    })
}

fn tool_to_sql(tool: &ToolPart) -> String {
    serde_json::to_string(tool).expect("a tool part is plain JSON")
}

fn tool_from_sql(json: Option<String>) -> Result<Option<ToolPart>, StoreError> {
    json.map(|json| {
        serde_json::from_str(&json)
            .map_err(|error| StoreError::Invalid(format!("a message's tool part is damaged: {error}")))
    })
    .transpose()
}

/// Checks that the conversation exists and is not deleted (messages are not added to the bin).
async fn check_live_conversation(conn: &mut SqliteConnection, id: ConversationId) -> Result<(), StoreError> {
    let deleted: Option<Option<Millis>> = sqlx::query_scalar("SELECT deleted_at FROM conversations WHERE id = ?1")
        .bind(id)
        .fetch_optional(&mut *conn)
        .await?;
    match deleted {
        None => Err(StoreError::conversation_not_found(id)),
        Some(Some(_)) => {
            Err(StoreError::Invalid(format!("conversation {id} is deleted; restore it before adding messages to it")))
        }
        Some(None) => Ok(()),
    }
}

/// Checks that `parent` exists and belongs to `conversation`.
pub(crate) async fn check_parent(
    conn: &mut SqliteConnection,
    conversation: ConversationId,
    parent: MessageId,
) -> Result<(), StoreError> {
    let owner: Option<ConversationId> = sqlx::query_scalar("SELECT conversation_id FROM messages WHERE id = ?1")
        .bind(parent)
        .fetch_optional(&mut *conn)
        .await?;
    match owner {
        None => Err(StoreError::message_not_found(parent)),
        Some(owner) if owner != conversation => Err(StoreError::Invalid(format!(
            "message {parent} belongs to another conversation ({owner}), not to conversation {conversation}; \
             choose a message of this conversation"
        ))),
        Some(_) => Ok(()),
    }
}

/// What a message added after another is ([`Store::add_after`]).
struct NewRow<'a> {
    role: Role,
    content: &'a str,
    status: MessageStatus,
    model: Option<&'a str>,
    tool: Option<&'a ToolPart>,
}

/// Inserts a message row and returns its id.
#[allow(clippy::too_many_arguments)] // the columns of one row, each named at the call site
async fn insert_message(
    conn: &mut SqliteConnection,
    conversation: ConversationId,
    parent: Option<MessageId>,
    role: Role,
    content: &str,
    status: MessageStatus,
    model: Option<&str>,
    now: Millis,
) -> Result<MessageId, StoreError> {
    Ok(sqlx::query_scalar(
        "INSERT INTO messages (conversation_id, parent_id, role, content, status, model, created_at, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?7) RETURNING id",
    )
    .bind(conversation)
    .bind(parent)
    .bind(role.as_str())
    .bind(content)
    .bind(status.as_str())
    .bind(model)
    .bind(now)
    .fetch_one(conn)
    .await?)
}

/// Shows the branch ending at `leaf`, moves the conversation's `updated_at`, and gives an
/// untitled conversation `title` (when not empty).
async fn show_new_leaf(
    conn: &mut SqliteConnection,
    conversation: ConversationId,
    leaf: MessageId,
    title: &str,
    now: Millis,
) -> Result<(), StoreError> {
    sqlx::query(
        "UPDATE conversations SET current_leaf_id = ?2, updated_at = ?3,
             title = CASE WHEN title = '' THEN ?4 ELSE title END
         WHERE id = ?1",
    )
    .bind(conversation)
    .bind(leaf)
    .bind(now)
    .bind(title)
    .execute(conn)
    .await?;
    Ok(())
}

/// Why a reply could not be saved or finished: it does not exist, or is no longer streaming.
async fn not_streaming<'e>(executor: impl SqliteExecutor<'e>, id: MessageId) -> StoreError {
    match fetch_message(executor, id).await {
        Ok(message) => StoreError::Invalid(format!(
            "reply {id} is no longer streaming (it is {}); start a new reply to write more",
            message.status.as_str()
        )),
        Err(error) => error,
    }
}

/// A conversation title from the start of a message: its first non-empty line, cut to about
/// [`TITLE_CHARS`] characters (at a space when one is near the end), with "…" when cut.
pub(crate) fn title_from(text: &str) -> String {
    let line = text.lines().map(str::trim).find(|line| !line.is_empty()).unwrap_or("");
    let Some((cut, _)) = line.char_indices().nth(TITLE_CHARS) else {
        return line.to_owned();
    };
    let head = &line[..cut];
    // Cut at the last space of the final quarter, so a word is not split when it can be helped.
    let quarter = head.char_indices().nth(TITLE_CHARS * 3 / 4).map_or(0, |(at, _)| at);
    let head = match head.rfind(char::is_whitespace) {
        Some(space) if space >= quarter => &head[..space],
        _ => head,
    };
    format!("{}…", head.trim_end())
}

#[cfg(test)]
mod tests {
    use super::title_from;

    #[test]
    fn a_short_first_line_is_the_whole_title() {
        assert_eq!(title_from("\n  Hello there  \nsecond line"), "Hello there");
    }

    #[test]
    fn a_long_line_is_cut_at_a_space_with_an_ellipsis() {
        let text = "word ".repeat(30);
        let title = title_from(&text);
        assert!(title.ends_with("word…"), "a cut title ends with a whole word and an ellipsis: {title:?}");
        assert!(title.chars().count() <= 61, "a title stays short: {title:?}");
    }

    #[test]
    fn text_without_spaces_is_cut_at_a_character_boundary() {
        let title = title_from(&"日本語".repeat(40));
        assert_eq!(title.chars().count(), 61, "sixty characters and an ellipsis: {title:?}");
        assert!(title.ends_with('…'), "a cut title ends with an ellipsis");
    }

    #[test]
    fn blank_text_gives_no_title() {
        assert_eq!(title_from(" \n\t\n"), "");
    }
}

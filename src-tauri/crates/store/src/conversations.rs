//! Conversations: creating, listing, renaming, pinning, settings, and the soft delete that can be
//! undone until a purge makes it final.

use std::collections::BTreeSet;

use sqlx::Row;
use sqlx::sqlite::{SqliteExecutor, SqliteRow};

use crate::attachments::remove_unreferenced_files;
use crate::error::StoreError;
use crate::store::Store;
use crate::types::{Conversation, ConversationId, ConversationSettings, Millis};

/// The columns [`conversation_from_row`] reads, in a `SELECT`.
pub(crate) const CONVERSATION_COLUMNS: &str =
    "id, title, created_at, updated_at, pinned, model, settings, current_leaf_id, deleted_at";

impl Store {
    /// Creates an empty conversation. An empty or missing title is filled in from the first user
    /// message.
    pub async fn create_conversation(
        &self,
        title: Option<&str>,
        model: Option<&str>,
        settings: &ConversationSettings,
        now: Millis,
    ) -> Result<Conversation, StoreError> {
        let mut tx = self.begin_write().await?;
        let id: ConversationId = sqlx::query_scalar(
            "INSERT INTO conversations (title, created_at, updated_at, model, settings)
             VALUES (?1, ?2, ?2, ?3, ?4) RETURNING id",
        )
        .bind(title.unwrap_or("").trim())
        .bind(now)
        .bind(model)
        .bind(settings_json(settings))
        .fetch_one(&mut *tx)
        .await?;
        let conversation = fetch_conversation(&mut *tx, id).await?;
        tx.commit().await?;
        Ok(conversation)
    }

    /// The conversation, deleted or not (a deleted one has `deleted_at` set).
    /// [`StoreError::NotFound`] for unknown or purged ids.
    pub async fn conversation(&self, id: ConversationId) -> Result<Conversation, StoreError> {
        fetch_conversation(self.pool(), id).await
    }

    /// Live (not deleted) conversations, pinned ones first, then the most recently updated.
    pub async fn list_conversations(&self, limit: u32, offset: u32) -> Result<Vec<Conversation>, StoreError> {
        let sql = format!(
            "SELECT {CONVERSATION_COLUMNS} FROM conversations WHERE deleted_at IS NULL
             ORDER BY pinned DESC, updated_at DESC, id DESC LIMIT ?1 OFFSET ?2"
        );
        let rows = sqlx::query(&sql).bind(limit).bind(offset).fetch_all(self.pool()).await?;
        Ok(rows.iter().map(conversation_from_row).collect())
    }

    /// Gives the conversation a new title.
    pub async fn rename_conversation(&self, id: ConversationId, title: &str, now: Millis) -> Result<(), StoreError> {
        self.update_conversation(id, "title = ?3", title.trim().to_owned(), now).await
    }

    /// Pins the conversation to the top of the list, or unpins it.
    pub async fn set_pinned(&self, id: ConversationId, pinned: bool, now: Millis) -> Result<(), StoreError> {
        self.update_conversation(id, "pinned = ?3", pinned, now).await
    }

    /// Records the model and settings (system prompt, sampling) the conversation runs with.
    pub async fn update_settings(
        &self,
        id: ConversationId,
        model: Option<&str>,
        settings: &ConversationSettings,
        now: Millis,
    ) -> Result<(), StoreError> {
        let mut tx = self.begin_write().await?;
        let done = sqlx::query("UPDATE conversations SET model = ?2, settings = ?3, updated_at = ?4 WHERE id = ?1")
            .bind(id)
            .bind(model)
            .bind(settings_json(settings))
            .bind(now)
            .execute(&mut *tx)
            .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::conversation_not_found(id));
        }
        tx.commit().await?;
        Ok(())
    }

    /// Deletes the conversation softly: it leaves the list and the search results, and
    /// [`Store::restore_conversation`] brings it back until [`Store::purge_deleted`] runs.
    pub async fn delete_conversation(&self, id: ConversationId, now: Millis) -> Result<(), StoreError> {
        self.update_conversation(id, "deleted_at = ?3", Some(now), now).await
    }

    /// Undoes [`Store::delete_conversation`]. The conversation comes back at the top of the list
    /// (like any other change, restoring it moves `updated_at`).
    pub async fn restore_conversation(&self, id: ConversationId, now: Millis) -> Result<(), StoreError> {
        self.update_conversation(id, "deleted_at = ?3", None::<Millis>, now).await
    }

    /// Removes for good the conversations deleted before `deleted_before`: their messages,
    /// attachment rows, and the attachment files nothing else refers to. Returns how many
    /// conversations went.
    pub async fn purge_deleted(&self, deleted_before: Millis) -> Result<u64, StoreError> {
        let mut tx = self.begin_write().await?;
        let hashes: Vec<String> = sqlx::query_scalar(
            "SELECT DISTINCT a.sha256 FROM attachments a
             JOIN messages m ON m.id = a.message_id
             JOIN conversations c ON c.id = m.conversation_id
             WHERE c.deleted_at IS NOT NULL AND c.deleted_at < ?1",
        )
        .bind(deleted_before)
        .fetch_all(&mut *tx)
        .await?;
        // Messages, attachment rows and search entries follow by cascade and triggers.
        let done = sqlx::query("DELETE FROM conversations WHERE deleted_at IS NOT NULL AND deleted_at < ?1")
            .bind(deleted_before)
            .execute(&mut *tx)
            .await?;
        let hashes: BTreeSet<String> = hashes.into_iter().collect();
        remove_unreferenced_files(&mut tx, self.attachments_dir(), &hashes).await?;
        tx.commit().await?;
        Ok(done.rows_affected())
    }

    /// Sets one column (`assignment` uses `?3` for `value`) and `updated_at`, in a transaction.
    async fn update_conversation<T>(
        &self,
        id: ConversationId,
        assignment: &str,
        value: T,
        now: Millis,
    ) -> Result<(), StoreError>
    where
        T: for<'q> sqlx::Encode<'q, sqlx::Sqlite> + sqlx::Type<sqlx::Sqlite> + Send,
    {
        let sql = format!("UPDATE conversations SET {assignment}, updated_at = ?2 WHERE id = ?1");
        let mut tx = self.begin_write().await?;
        let done = sqlx::query(&sql).bind(id).bind(now).bind(value).execute(&mut *tx).await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::conversation_not_found(id));
        }
        tx.commit().await?;
        Ok(())
    }
}

/// Reads one conversation, deleted or not.
pub(crate) async fn fetch_conversation<'e>(
    executor: impl SqliteExecutor<'e>,
    id: ConversationId,
) -> Result<Conversation, StoreError> {
    let sql = format!("SELECT {CONVERSATION_COLUMNS} FROM conversations WHERE id = ?1");
    let row = sqlx::query(&sql).bind(id).fetch_optional(executor).await?;
    row.as_ref().map(conversation_from_row).ok_or_else(|| StoreError::conversation_not_found(id))
}

/// A conversation from a row of [`CONVERSATION_COLUMNS`].
pub(crate) fn conversation_from_row(row: &SqliteRow) -> Conversation {
    let settings: String = row.get("settings");
    Conversation {
        id: row.get("id"),
        title: row.get("title"),
        created_at: row.get("created_at"),
        updated_at: row.get("updated_at"),
        pinned: row.get("pinned"),
        model: row.get("model"),
        // A conversation must still open if its settings cannot be read; it then runs with the
        // defaults, which the user can see and change.
        settings: serde_json::from_str(&settings).unwrap_or_default(),
        current_leaf_id: row.get("current_leaf_id"),
        deleted_at: row.get("deleted_at"),
    }
}

/// The settings as stored (JSON text).
pub(crate) fn settings_json(settings: &ConversationSettings) -> String {
    // Serialising a struct of an Option<String> and a JSON value cannot fail.
    serde_json::to_string(settings).unwrap_or_else(|_| "{}".to_owned())
}

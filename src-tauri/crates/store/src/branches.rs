//! The branch shown: from a conversation's first message to its current leaf, each message with
//! its place among its siblings ("2 / 3"), and switching to another branch. Both walk the tree in
//! one recursive query, reading only the messages on the path (and the sibling counts from the
//! `messages_by_parent` index), so a long conversation opens as fast in a large database as in a
//! small one.

use std::collections::HashMap;

use sqlx::Row;

use crate::attachments::{ATTACHMENT_COLUMNS, attachment_from_row};
use crate::conversations::fetch_conversation;
use crate::error::StoreError;
use crate::messages::{MESSAGE_COLUMNS, message_from_row};
use crate::store::Store;
use crate::types::{Attachment, BranchMessage, ConversationId, MessageId, Millis};

/// Deeper than any real conversation; stops a walk if a damaged tree ever had a cycle.
const MAX_DEPTH: i64 = 1_000_000;

impl Store {
    /// The branch shown, first message to current leaf, each message with its 1-based position
    /// among its siblings, how many there are, and its attachments. Empty for an empty
    /// conversation.
    pub async fn current_branch(&self, conversation: ConversationId) -> Result<Vec<BranchMessage>, StoreError> {
        // One read transaction, so the messages and their attachments are one snapshot.
        let mut tx = self.pool().begin().await?;
        let Some(leaf) = fetch_conversation(&mut *tx, conversation).await?.current_leaf_id else {
            return Ok(Vec::new());
        };
        let sql = format!(
            "WITH RECURSIVE path (id, parent_id, depth) AS (
                 SELECT id, parent_id, 0 FROM messages WHERE id = ?1 AND conversation_id = ?2
                 UNION ALL
                 SELECT m.id, m.parent_id, path.depth + 1 FROM messages m JOIN path ON m.id = path.parent_id
                 WHERE path.depth < {MAX_DEPTH}
             )
             SELECT {columns},
                 CASE WHEN m.parent_id IS NULL
                     THEN (SELECT count(*) FROM messages s
                           WHERE s.conversation_id = m.conversation_id AND s.parent_id IS NULL AND s.id <= m.id)
                     ELSE (SELECT count(*) FROM messages s WHERE s.parent_id = m.parent_id AND s.id <= m.id)
                 END AS sibling_index,
                 CASE WHEN m.parent_id IS NULL
                     THEN (SELECT count(*) FROM messages s
                           WHERE s.conversation_id = m.conversation_id AND s.parent_id IS NULL)
                     ELSE (SELECT count(*) FROM messages s WHERE s.parent_id = m.parent_id)
                 END AS sibling_count
             FROM path JOIN messages m ON m.id = path.id
             ORDER BY path.depth DESC",
            columns = prefixed("m", MESSAGE_COLUMNS),
        );
        let rows = sqlx::query(&sql).bind(leaf).bind(conversation).fetch_all(&mut *tx).await?;
        let ids: Vec<MessageId> = rows.iter().map(|row| row.get("id")).collect();
        let mut attachments = branch_attachments(&mut tx, &ids).await?;
        tx.commit().await?;
        rows.iter()
            .map(|row| {
                let message = message_from_row(row)?;
                Ok(BranchMessage {
                    attachments: attachments.remove(&message.id).unwrap_or_default(),
                    sibling_index: count(row, "sibling_index"),
                    sibling_count: count(row, "sibling_count"),
                    message,
                })
            })
            .collect()
    }

    /// Shows the branch through `to`: the current leaf becomes `to`'s deepest descendant,
    /// following the newest child at each step (the reply or edit made last).
    pub async fn switch_branch(
        &self,
        conversation: ConversationId,
        to: MessageId,
        now: Millis,
    ) -> Result<(), StoreError> {
        let mut tx = self.begin_write().await?;
        fetch_conversation(&mut *tx, conversation).await?;
        crate::messages::check_parent(&mut tx, conversation, to).await?;
        let leaf: MessageId = sqlx::query_scalar(&format!(
            "WITH RECURSIVE down (id, depth) AS (
                 SELECT ?1, 0
                 UNION ALL
                 SELECT (SELECT max(c.id) FROM messages c WHERE c.parent_id = down.id), down.depth + 1
                 FROM down WHERE down.depth < {MAX_DEPTH}
                     AND EXISTS (SELECT 1 FROM messages c WHERE c.parent_id = down.id)
             )
             SELECT id FROM down ORDER BY depth DESC LIMIT 1"
        ))
        .bind(to)
        .fetch_one(&mut *tx)
        .await?;
        sqlx::query("UPDATE conversations SET current_leaf_id = ?2, updated_at = ?3 WHERE id = ?1")
            .bind(conversation)
            .bind(leaf)
            .bind(now)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }
}

/// The attachments of the messages `ids`, by message, each message's in id order.
async fn branch_attachments(
    conn: &mut sqlx::SqliteConnection,
    ids: &[MessageId],
) -> Result<HashMap<MessageId, Vec<Attachment>>, StoreError> {
    let sql = format!(
        "SELECT {ATTACHMENT_COLUMNS} FROM attachments
         WHERE message_id IN (SELECT value FROM json_each(?1)) ORDER BY id"
    );
    let ids = serde_json::to_string(ids).unwrap_or_else(|_| "[]".to_owned());
    let rows = sqlx::query(&sql).bind(ids).fetch_all(conn).await?;
    let mut by_message: HashMap<MessageId, Vec<Attachment>> = HashMap::new();
    for row in &rows {
        let attachment = attachment_from_row(row);
        by_message.entry(attachment.message_id).or_default().push(attachment);
    }
    Ok(by_message)
}

/// `columns` ("a, b") qualified with `table` ("m.a, m.b").
fn prefixed(table: &str, columns: &str) -> String {
    columns.split(',').map(|column| format!("{table}.{}", column.trim())).collect::<Vec<_>>().join(", ")
}

/// A count column as a `usize`.
fn count(row: &sqlx::sqlite::SqliteRow, column: &str) -> usize {
    usize::try_from(row.get::<i64, _>(column)).unwrap_or(0)
}

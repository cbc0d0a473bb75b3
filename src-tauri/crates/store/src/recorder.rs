//! Writing a reply while it streams: the text reaches the database at most 250 ms or 32 pieces
//! behind the screen, so a crash loses at most that much, and never the user's message (which
//! is committed before generation starts).

use crate::error::StoreError;
use crate::store::Store;
use crate::types::{ConversationId, Message, MessageId, MessageStatus, Millis, ReplyStats, StoredToolCall};

/// Flush the growing text at least this often while pieces arrive.
pub const FLUSH_INTERVAL_MS: Millis = 250;
/// ... or after this many pieces, whichever comes first.
pub const FLUSH_PIECES: u32 = 32;

/// An assistant reply being written to the store as it streams.
pub struct ReplyRecorder {
    store: Store,
    id: MessageId,
    text: String,
    last_flush: Millis,
    unflushed_pieces: u32,
}

impl ReplyRecorder {
    /// Creates the reply's row (status `streaming`) after `parent`.
    pub async fn begin(
        store: &Store,
        conversation: ConversationId,
        parent: MessageId,
        model: Option<&str>,
        now: Millis,
    ) -> Result<Self, StoreError> {
        let message = store.begin_reply(conversation, parent, model, now).await?;
        Ok(ReplyRecorder {
            store: store.clone(),
            id: message.id,
            text: String::new(),
            last_flush: now,
            unflushed_pieces: 0,
        })
    }

    /// The reply's message id.
    pub fn message_id(&self) -> MessageId {
        self.id
    }

    /// The text so far.
    pub fn text(&self) -> &str {
        &self.text
    }

    /// Adds a piece of text; saves the text when a flush is due.
    pub async fn push(&mut self, piece: &str, now: Millis) -> Result<(), StoreError> {
        self.text.push_str(piece);
        self.unflushed_pieces += 1;
        if self.unflushed_pieces >= FLUSH_PIECES || now - self.last_flush >= FLUSH_INTERVAL_MS {
            self.store.save_reply_text(self.id, &self.text, now).await?;
            self.last_flush = now;
            self.unflushed_pieces = 0;
        }
        Ok(())
    }

    /// Saves the final text with its status and figures.
    pub async fn finish(
        self,
        status: MessageStatus,
        error: Option<&str>,
        stats: &ReplyStats,
        now: Millis,
    ) -> Result<Message, StoreError> {
        self.store.finish_reply(self.id, &self.text, status, error, stats, now).await
    }

    /// Saves a reply that called tools: done, with `text` (its text without the calls) and the
    /// calls.
    pub async fn finish_with_calls(
        self,
        text: &str,
        calls: &[StoredToolCall],
        stats: &ReplyStats,
        now: Millis,
    ) -> Result<Message, StoreError> {
        self.store.finish_reply_with_calls(self.id, text, calls, stats, now).await
    }
}

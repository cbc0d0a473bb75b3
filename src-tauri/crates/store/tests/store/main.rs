//! The store's integration tests, on real SQLite files in temporary folders. One module per part
//! of the store; the helpers here set up what most tests start from.

mod attachments;
mod backup;
mod conversations;
mod messages;
mod recorder;
mod recovery;
mod search;
mod tools;
mod transfer;

use gemma_desk_store::{Conversation, ConversationSettings, Store};
use tempfile::TempDir;

/// A store in a fresh temporary folder (kept alive by the returned `TempDir`).
pub async fn open_store() -> (TempDir, Store) {
    let dir = tempfile::tempdir().expect("a temporary folder");
    let store = Store::open(dir.path()).await.expect("a store opens in an empty folder");
    (dir, store)
}

/// An untitled conversation with default settings, created at `now`.
pub async fn new_conversation(store: &Store, now: i64) -> Conversation {
    store.create_conversation(None, None, &ConversationSettings::default(), now).await.expect("a conversation")
}

/// A second connection to the store's file, for looking at what the API does not show.
pub async fn raw_connection(store: &Store) -> sqlx::SqliteConnection {
    use sqlx::Connection;
    let url = format!("sqlite://{}", store.database_path().display());
    sqlx::SqliteConnection::connect(&url).await.expect("the database file opens")
}

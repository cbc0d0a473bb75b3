//! Conversations that are never lost: the SQLite store of Gemma Desk.
//!
//! This crate owns everything the app remembers about conversations: their titles and settings,
//! the tree of their messages (editing a question or regenerating a reply adds a branch instead
//! of overwriting one), the figures of each reply, attached images and audio clips, full-text
//! search, and export and import.
//!
//! It is shaped so that a conversation survives anything short of a dead disk:
//! - one SQLite file (`gemma-desk.sqlite3` in the data directory) in WAL mode with
//!   `synchronous = FULL`, every write in a transaction, the schema brought up to date by
//!   embedded migrations that are only ever added;
//! - a user message is committed before generation starts, and a reply is saved while it streams
//!   ([`ReplyRecorder`]); a reply still `streaming` when the store is next opened was cut short by
//!   a crash and becomes `interrupted`, keeping its text;
//! - deleting is soft and undoable until a purge; attachment files are content-addressed, written
//!   durably before the rows that refer to them, and removed with the last such row.
//!
//! The store never reads the clock: every call that changes something takes `now`, so tests and
//! imports control time.
//!
//! ```no_run
//! use gemma_desk_store::{ConversationSettings, Role, Store};
//!
//! # async fn example() -> Result<(), gemma_desk_store::StoreError> {
//! let store = Store::open(&Store::default_data_dir().expect("a home directory")).await?;
//! let chat = store.create_conversation(None, Some("gemma-3-4b"), &ConversationSettings::default(), 1_000).await?;
//! let question = store.add_message(chat.id, None, Role::User, "Why is the sky blue?", 1_000).await?;
//! let reply = store.begin_reply(chat.id, question.id, Some("gemma-3-4b"), 1_010).await?;
//! store.save_reply_text(reply.id, "Because of Rayleigh", 1_200).await?;
//! for hit in store.search("rayleigh", 20).await? {
//!     println!("{}: {}", hit.title, hit.snippet);
//! }
//! # Ok(())
//! # }
//! ```
#![deny(missing_docs)]

pub use attachments::{AttachmentSource, sha256_hex};
pub use backup::Backup;
pub use error::StoreError;
pub use lock::DatabaseLock;
pub use recorder::ReplyRecorder;
pub use store::{DATA_DIR_ENV, Store};
pub use types::{
    Attachment, BranchMessage, Conversation, ConversationId, ConversationSettings, ExportFile, ExportScope,
    MarkdownExport, Message, MessageId, MessageStatus, Millis, NewAttachment, ReplyStats, Role, SNIPPET_END,
    SNIPPET_START, SearchHit, StoredToolCall, ToolOutcome, ToolPart, ToolResult,
};

mod attachments;
mod backup;
mod branches;
mod conversations;
mod error;
mod lock;
mod messages;
mod recorder;
mod search;
mod store;
mod transfer;
mod types;

//! The store's errors: one enum, messages that name the object and say what to do.

use std::path::PathBuf;

/// SQLite's result code for "database or disk is full".
const SQLITE_FULL: &str = "13";
/// The operating system's "no space left on device" (Linux, macOS).
#[cfg(unix)]
const ENOSPC: i32 = 28;
/// The operating system's "there is not enough space on the disk" (Windows).
#[cfg(windows)]
const ENOSPC: i32 = 112;

/// Advice shared by every disk-full message.
const FREE_SPACE: &str = "free some disk space (or purge deleted conversations) and try again";

/// Anything that can go wrong in the store.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The conversation, message or attachment does not exist (or was purged).
    #[error("{what} {id} not found; it may have been deleted for good")]
    NotFound {
        /// What was looked for: `conversation`, `message`, `attachment`.
        what: &'static str,
        /// The id asked for.
        id: i64,
    },
    /// The arguments do not make sense (a parent from another conversation, a reply that is no
    /// longer streaming, ...); the message says which.
    #[error("{0}")]
    Invalid(String),
    /// An import file was refused; nothing was changed.
    #[error("the import file is not valid: {0}")]
    InvalidImport(String),
    /// The disk (or the database's size limit) is full; the message says what was being written.
    #[error("{0}")]
    DiskFull(String),
    /// A file under the data directory could not be read or written.
    #[error("could not access {path}: {source}; check that the folder exists and is writable")]
    Io {
        /// The file or folder.
        path: PathBuf,
        /// What the operating system said.
        source: std::io::Error,
    },
    /// Another Gemma Desk (the app, or a chat in a terminal) is writing this database.
    #[error(
        "another Gemma Desk (the app, or a chat in a terminal) is already using the conversations in {}; close it first, or choose another database",
        database.display()
    )]
    InUse {
        /// The database file.
        database: PathBuf,
    },
    /// The database file is not one of Gemma Desk's (another program's, damaged, cut short); it
    /// was left as it is.
    #[error(
        "{} is not a Gemma Desk conversations database: {why}; it was left untouched",
        database.display()
    )]
    NotOurs {
        /// The database file.
        database: PathBuf,
        /// What is wrong with it.
        why: String,
    },
    /// The database's schema could not be brought up to date.
    #[error("could not update the conversations database: {0}; is it from a newer version of Gemma Desk?")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    /// Any other database failure.
    #[error("conversations database error: {0}")]
    Database(sqlx::Error),
}

impl StoreError {
    /// An I/O error on `path`, or [`StoreError::DiskFull`] when the disk is full.
    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> StoreError {
        let path = path.into();
        if source.raw_os_error() == Some(ENOSPC) || source.kind() == std::io::ErrorKind::StorageFull {
            return StoreError::DiskFull(format!("the disk is full while writing {}; {FREE_SPACE}", path.display()));
        }
        StoreError::Io { path, source }
    }

    /// A message that was looked for and not found.
    pub(crate) fn message_not_found(id: i64) -> StoreError {
        StoreError::NotFound { what: "message", id }
    }

    /// A conversation that was looked for and not found.
    pub(crate) fn conversation_not_found(id: i64) -> StoreError {
        StoreError::NotFound { what: "conversation", id }
    }
}

impl From<sqlx::Error> for StoreError {
    fn from(error: sqlx::Error) -> StoreError {
        let full = match &error {
            sqlx::Error::Database(db) => db.code().as_deref() == Some(SQLITE_FULL),
            sqlx::Error::Io(io) => io.raw_os_error() == Some(ENOSPC),
            _ => false,
        };
        if full {
            return StoreError::DiskFull(format!("the disk holding the conversations database is full; {FREE_SPACE}"));
        }
        StoreError::Database(error)
    }
}

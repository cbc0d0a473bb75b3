//! One writer per database: the app, or a chat in a terminal, holds a lock file beside the
//! database for as long as it writes there, so that nobody else marks its streaming reply
//! `interrupted` under it or writes the same conversations behind its back.

use std::fs::File;
use std::path::{Path, PathBuf};

use crate::error::StoreError;

/// The lock on a database, held until dropped (or the process ends, however it ends).
#[derive(Debug)]
pub struct DatabaseLock {
    _file: File,
}

impl DatabaseLock {
    /// Locks `database` (`gemma-desk.sqlite3` is locked through `gemma-desk.lock` beside it),
    /// creating its folder if needed. [`StoreError::InUse`] when someone else holds it.
    pub fn acquire(database: &Path) -> Result<DatabaseLock, StoreError> {
        let path = lock_file(database);
        if let Some(folder) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(folder).map_err(|e| StoreError::io(folder, e))?;
        }
        let file = File::options()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .map_err(|e| StoreError::io(&path, e))?;
        match file.try_lock() {
            Ok(()) => Ok(DatabaseLock { _file: file }),
            Err(std::fs::TryLockError::WouldBlock) => Err(StoreError::InUse { database: database.to_path_buf() }),
            Err(std::fs::TryLockError::Error(e)) => Err(StoreError::io(&path, e)),
        }
    }
}

/// The lock file of `database`: beside it, with the extension `lock`.
fn lock_file(database: &Path) -> PathBuf {
    database.with_extension("lock")
}

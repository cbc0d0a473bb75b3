//! A consistent copy of the conversations while the app runs: `VACUUM INTO` writes one
//! transaction's view of the database to a new file (readers and the streaming reply carry on),
//! and the attachment files it refers to are copied beside it, where [`Store::open_database`]
//! of the copy looks for them.

use std::path::{Path, PathBuf};

use sqlx::sqlite::SqliteConnectOptions;
use sqlx::{ConnectOptions, Connection};

use crate::attachments::{attachment_path, is_sha256_hex, remove_if_present, write_file_blocking};
use crate::error::StoreError;
use crate::store::{Store, attachments_dir_of};

/// What [`Store::backup_to`] wrote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Backup {
    /// The copy of the database.
    pub database: PathBuf,
    /// Its attachments folder.
    pub attachments: PathBuf,
    /// How many conversations it holds (deleted ones not yet purged included).
    pub conversations: u64,
    /// How many attachment files were copied.
    pub attachment_files: u64,
}

impl Store {
    /// Writes a consistent copy of the database to `target` (replacing a file there only once the
    /// copy is complete), and the attachment files it refers to into the attachments folder the
    /// copy is opened with. `target` must not be this database or one of its journal files.
    pub async fn backup_to(&self, target: &Path) -> Result<Backup, StoreError> {
        if self.is_own_file(target) {
            return Err(StoreError::Invalid(format!(
                "{} is the conversations database itself; choose another file for the backup",
                target.display()
            )));
        }
        let name = target.file_name().ok_or_else(|| {
            StoreError::Invalid(format!("{} is not a file name; choose a file for the backup", target.display()))
        })?;
        let partial = target.with_file_name(format!(".{}.{}.partial", name.to_string_lossy(), std::process::id()));
        remove_if_present(&partial)?;
        let copied =
            sqlx::query("VACUUM INTO ?1").bind(partial.to_string_lossy().into_owned()).execute(self.pool()).await;
        if let Err(error) = copied {
            let _ = std::fs::remove_file(&partial);
            return Err(error.into());
        }
        let result = self.finish_backup(&partial, target).await;
        let _ = std::fs::remove_file(&partial);
        result
    }

    /// Copies the attachments the copy at `partial` refers to, then moves it to `target`.
    async fn finish_backup(&self, partial: &Path, target: &Path) -> Result<Backup, StoreError> {
        let mut copy = SqliteConnectOptions::new().filename(partial).read_only(true).connect().await?;
        let conversations: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM conversations").fetch_one(&mut copy).await?;
        let hashes: Vec<String> =
            sqlx::query_scalar("SELECT DISTINCT sha256 FROM attachments").fetch_all(&mut copy).await?;
        copy.close().await?;

        let attachments = attachments_dir_of(target);
        let source = self.attachments_dir().to_path_buf();
        let (target_owned, destination, partial_owned) =
            (target.to_path_buf(), attachments.clone(), partial.to_path_buf());
        let attachment_files = tokio::task::spawn_blocking(move || -> Result<u64, StoreError> {
            let mut copied = 0;
            for sha256 in hashes.iter().filter(|sha256| is_sha256_hex(sha256)) {
                let from = attachment_path(&source, sha256);
                let bytes = std::fs::read(&from).map_err(|e| StoreError::io(&from, e))?;
                write_file_blocking(&attachment_path(&destination, sha256), &bytes)?;
                copied += 1;
            }
            std::fs::File::open(&partial_owned)
                .and_then(|file| file.sync_all())
                .and_then(|()| std::fs::rename(&partial_owned, &target_owned))
                .map_err(|e| StoreError::io(&target_owned, e))?;
            Ok(copied)
        })
        .await
        .map_err(|error| StoreError::io(target, std::io::Error::other(error)))??;
        Ok(Backup {
            database: target.to_path_buf(),
            attachments,
            conversations: u64::try_from(conversations).unwrap_or(0),
            attachment_files,
        })
    }

    /// Whether `path` is this database or one of SQLite's files beside it.
    fn is_own_file(&self, path: &Path) -> bool {
        let canonical = |path: &Path| -> Option<PathBuf> {
            let folder = path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
            Some(folder.canonicalize().ok()?.join(path.file_name()?))
        };
        let (Some(path), Some(database)) = (canonical(path), canonical(&self.database_path())) else { return false };
        let database = database.as_os_str().to_string_lossy().into_owned();
        ["", "-wal", "-shm", "-journal"]
            .iter()
            .any(|suffix| path.as_os_str().to_string_lossy() == database.clone() + suffix)
    }
}

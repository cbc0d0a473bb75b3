//! Attachments (images, audio clips): each file is stored once, named by its sha256, under
//! `attachments/<first two hex digits>/<sha256>`; rows tie it to messages. The file goes when the
//! last row referring to it does.
//!
//! Files are written before their row (temporary file, fsync, rename), so a row never points at a
//! half-written file; a crash in between leaves at most an unreferenced file. Files are removed
//! while the removing transaction holds SQLite's write lock, and [`Store::add_attachment`] checks
//! for its file again under that lock, so adding and removing the same bytes cannot race.

use std::collections::BTreeSet;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use sha2::{Digest, Sha256};
use sqlx::Row;
use sqlx::sqlite::{SqliteConnection, SqliteRow};

use crate::error::StoreError;
use crate::messages::fetch_message;
use crate::store::Store;
use crate::types::{Attachment, MessageId, Millis, NewAttachment};

/// The columns [`attachment_from_row`] reads, in a `SELECT`.
pub(crate) const ATTACHMENT_COLUMNS: &str =
    "id, message_id, sha256, media_type, size, width, height, duration_ms, name, created_at";

/// An attachment of a message being added: bytes to store, or one already stored elsewhere (an
/// edited question keeps its images).
#[derive(Debug, Clone, Copy)]
pub enum AttachmentSource<'a> {
    /// New bytes, with what they are.
    Bytes(&'a [u8], &'a NewAttachment),
    /// The file of an existing attachment, shared.
    Stored(&'a Attachment),
}

/// Makes temporary file names unique within the process (the process id covers the others).
static TEMP_COUNTER: AtomicU64 = AtomicU64::new(0);

impl Store {
    /// Attaches `bytes` to `message`: stores the file once by content (identical bytes share one
    /// file), then adds the row.
    pub async fn add_attachment(
        &self,
        message: MessageId,
        bytes: &[u8],
        info: &NewAttachment,
        now: Millis,
    ) -> Result<Attachment, StoreError> {
        if info.media_type.trim().is_empty() {
            return Err(StoreError::Invalid(format!(
                "the attachment for message {message} has no media type; give one such as image/png or audio/wav"
            )));
        }
        fetch_message(self.pool(), message).await?;
        let sha256 = sha256_hex(bytes);
        let path = self.attachment_path(&sha256);
        let bytes: Arc<[u8]> = Arc::from(bytes);
        write_file(path.clone(), Arc::clone(&bytes)).await?;
        let mut tx = self.begin_write().await?;
        // A removal of the same bytes may have deleted the file since; the write lock held now
        // keeps any other one out until this row exists.
        write_file(path, Arc::clone(&bytes)).await?;
        let attachment = insert_attachment_row(&mut tx, message, &sha256, bytes.len(), info, now).await?;
        tx.commit().await?;
        Ok(attachment)
    }

    /// The message's attachments, in the order they were added.
    pub async fn attachments(&self, message: MessageId) -> Result<Vec<Attachment>, StoreError> {
        fetch_message(self.pool(), message).await?;
        let sql = format!("SELECT {ATTACHMENT_COLUMNS} FROM attachments WHERE message_id = ?1 ORDER BY id");
        let rows = sqlx::query(&sql).bind(message).fetch_all(self.pool()).await?;
        Ok(rows.iter().map(attachment_from_row).collect())
    }

    /// Where the file with this sha256 (64 hex digits) is kept. Anything else gives a path inside
    /// the attachments folder that never exists, never one outside it.
    pub fn attachment_path(&self, sha256: &str) -> PathBuf {
        attachment_path(self.attachments_dir(), sha256)
    }

    /// Removes the attachment's row, and its file when no other row refers to the same bytes.
    pub async fn remove_attachment(&self, id: i64) -> Result<(), StoreError> {
        let mut tx = self.begin_write().await?;
        let sha256: Option<String> = sqlx::query_scalar("DELETE FROM attachments WHERE id = ?1 RETURNING sha256")
            .bind(id)
            .fetch_optional(&mut *tx)
            .await?;
        let sha256 = sha256.ok_or(StoreError::NotFound { what: "attachment", id })?;
        remove_unreferenced_files(&mut tx, self.attachments_dir(), &BTreeSet::from([sha256])).await?;
        tx.commit().await?;
        Ok(())
    }
}

/// Adds an attachment row for a file already stored; `conn` should be a write transaction.
pub(crate) async fn insert_attachment_row(
    conn: &mut SqliteConnection,
    message: MessageId,
    sha256: &str,
    size: usize,
    info: &NewAttachment,
    now: Millis,
) -> Result<Attachment, StoreError> {
    let sql = format!(
        "INSERT INTO attachments (message_id, sha256, media_type, size, width, height, duration_ms, name, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9) RETURNING {ATTACHMENT_COLUMNS}"
    );
    let row = sqlx::query(&sql)
        .bind(message)
        .bind(sha256)
        .bind(info.media_type.trim())
        .bind(i64::try_from(size).unwrap_or(i64::MAX))
        .bind(info.width)
        .bind(info.height)
        .bind(info.duration_ms)
        .bind(info.name.as_deref())
        .bind(now)
        .fetch_one(conn)
        .await?;
    Ok(attachment_from_row(&row))
}

/// Deletes the files of `hashes` that no attachment row refers to any more. Call it inside the
/// write transaction that removed the rows, before committing.
pub(crate) async fn remove_unreferenced_files(
    conn: &mut SqliteConnection,
    folder: &Path,
    hashes: &BTreeSet<String>,
) -> Result<(), StoreError> {
    for sha256 in hashes {
        let used: bool = sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM attachments WHERE sha256 = ?1)")
            .bind(sha256)
            .fetch_one(&mut *conn)
            .await?;
        if used || !is_sha256_hex(sha256) {
            continue;
        }
        remove_if_present(&attachment_path(folder, sha256))?;
    }
    Ok(())
}

/// Removes the file at `path`; one that is not there is fine.
pub(crate) fn remove_if_present(path: &Path) -> Result<(), StoreError> {
    match std::fs::remove_file(path) {
        Err(error) if error.kind() != std::io::ErrorKind::NotFound => Err(StoreError::io(path, error)),
        _ => Ok(()),
    }
}

/// An attachment from a row of [`ATTACHMENT_COLUMNS`].
pub(crate) fn attachment_from_row(row: &SqliteRow) -> Attachment {
    Attachment {
        id: row.get("id"),
        message_id: row.get("message_id"),
        sha256: row.get("sha256"),
        media_type: row.get("media_type"),
        size: row.get("size"),
        width: row.get("width"),
        height: row.get("height"),
        duration_ms: row.get("duration_ms"),
        name: row.get("name"),
        created_at: row.get("created_at"),
    }
}

/// What `stored` is, for another row of the same file.
pub(crate) fn stored_info(stored: &Attachment) -> NewAttachment {
    NewAttachment {
        media_type: stored.media_type.clone(),
        width: stored.width,
        height: stored.height,
        duration_ms: stored.duration_ms,
        name: stored.name.clone(),
    }
}

/// Whether `text` is a sha256 in lowercase hex, as the store names files.
pub(crate) fn is_sha256_hex(text: &str) -> bool {
    text.len() == 64 && text.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

/// The sha256 of `bytes` in lowercase hex.
pub fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes).iter().map(|byte| format!("{byte:02x}")).collect()
}

/// See [`Store::attachment_path`].
pub(crate) fn attachment_path(folder: &Path, sha256: &str) -> PathBuf {
    if !is_sha256_hex(sha256) {
        return folder.join("not-a-sha256");
    }
    folder.join(&sha256[..2]).join(sha256)
}

/// Writes `bytes` to `path` durably (temporary file, fsync, rename, fsync of the folder), unless
/// a file of the same size is there already (the name is the content's hash).
pub(crate) async fn write_file(path: PathBuf, bytes: Arc<[u8]>) -> Result<(), StoreError> {
    let shown = path.clone();
    tokio::task::spawn_blocking(move || write_file_blocking(&path, &bytes))
        .await
        .map_err(|error| StoreError::io(shown, std::io::Error::other(error)))?
}

/// See [`write_file`].
pub(crate) fn write_file_blocking(path: &Path, bytes: &[u8]) -> Result<(), StoreError> {
    if std::fs::metadata(path).is_ok_and(|meta| meta.len() == bytes.len() as u64) {
        return Ok(());
    }
    let folder = path.parent().unwrap_or(path);
    std::fs::create_dir_all(folder).map_err(|e| StoreError::io(folder, e))?;
    let name = path.file_name().and_then(|name| name.to_str()).unwrap_or("attachment");
    let counter = TEMP_COUNTER.fetch_add(1, Ordering::Relaxed);
    let temp = folder.join(format!(".{name}.{}.{counter}.tmp", std::process::id()));
    let written = std::fs::File::create(&temp).and_then(|mut file| {
        file.write_all(bytes)?;
        file.sync_all()
    });
    if let Err(error) = written.and_then(|()| std::fs::rename(&temp, path)) {
        let _ = std::fs::remove_file(&temp);
        return Err(StoreError::io(path, error));
    }
    // The rename itself must reach the disk before a row points at the file.
    #[cfg(unix)]
    std::fs::File::open(folder).and_then(|dir| dir.sync_all()).map_err(|e| StoreError::io(folder, e))?;
    Ok(())
}

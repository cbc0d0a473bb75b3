//! The partial file a download writes (`<name>.part` beside where the file goes): its length and
//! the hash of what it holds move with every write, so that a resumed file's hash covers the
//! bytes an earlier attempt (or an earlier run of the app) left.

use std::path::PathBuf;

use sha2::{Digest, Sha256};
use tokio::fs::{File, OpenOptions};
use tokio::io::{AsyncReadExt, AsyncWriteExt, BufWriter};

use super::meter::Meter;
use super::{DownloadError, Phase, Progress};

/// A `.part` file: where it is, its length, and the hash of its bytes so far.
pub(super) struct PartFile {
    path: PathBuf,
    len: u64,
    hasher: Sha256,
}

impl PartFile {
    /// The partial file at `path`. What an earlier attempt left is read again for the hash and
    /// counted as done; a file longer than the `expected` size cannot be a start of it and is
    /// deleted.
    pub(super) async fn resume<F: FnMut(&Progress)>(
        path: PathBuf,
        expected: Option<u64>,
        meter: &mut Meter<F>,
    ) -> Result<PartFile, DownloadError> {
        let mut part = PartFile { path, len: 0, hasher: Sha256::new() };
        let mut file = match File::open(&part.path).await {
            Ok(file) => file,
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(part),
            Err(error) => return Err(DownloadError::Io { path: part.path, source: error }),
        };
        let len = file.metadata().await.map_err(DownloadError::io(&part.path))?.len();
        if expected.is_some_and(|expected| len > expected) {
            drop(file);
            tokio::fs::remove_file(&part.path).await.map_err(DownloadError::io(&part.path))?;
            return Ok(part);
        }
        meter.report(Phase::Resuming, None);
        let mut buffer = vec![0; 1 << 20];
        loop {
            let n = file.read(&mut buffer).await.map_err(DownloadError::io(&part.path))?;
            if n == 0 {
                break;
            }
            part.hasher.update(&buffer[..n]);
            part.len += n as u64;
        }
        meter.add(part.len);
        Ok(part)
    }

    /// Bytes in the file.
    pub(super) fn len(&self) -> u64 {
        self.len
    }

    /// Forgets what the file holds, here and in the meter: it is fetched again from its first
    /// byte (the next [`PartFile::writer`] empties it).
    pub(super) fn start_over<F: FnMut(&Progress)>(&mut self, meter: &mut Meter<F>) {
        self.hasher = Sha256::new();
        meter.forget(std::mem::take(&mut self.len));
    }

    /// Opens the file to write what arrives: after what it holds, or from empty when it holds
    /// nothing.
    pub(super) async fn writer(&mut self) -> Result<Writer<'_>, DownloadError> {
        let append = self.len > 0;
        let file = OpenOptions::new()
            .create(true)
            .write(true)
            .append(append)
            .truncate(!append)
            .open(&self.path)
            .await
            .map_err(DownloadError::io(&self.path))?;
        // Network chunks are small; each write to a tokio file is a hop to a blocking thread.
        Ok(Writer { out: BufWriter::with_capacity(1 << 20, file), part: self })
    }

    /// Deletes the file, if it is there.
    pub(super) async fn discard(&self) {
        let _ = tokio::fs::remove_file(&self.path).await;
    }

    /// The sha256 of what the file holds (lowercase hex).
    pub(super) fn sha256(&self) -> String {
        hex::encode(self.hasher.clone().finalize())
    }
}

/// A [`PartFile`] open for writing: every write goes into its length and hash too.
pub(super) struct Writer<'a> {
    part: &'a mut PartFile,
    out: BufWriter<File>,
}

impl Writer<'_> {
    /// Bytes in the file, with those written so far.
    pub(super) fn len(&self) -> u64 {
        self.part.len
    }

    /// Appends `bytes`.
    pub(super) async fn write(&mut self, bytes: &[u8]) -> Result<(), DownloadError> {
        self.out.write_all(bytes).await.map_err(DownloadError::io(&self.part.path))?;
        self.part.hasher.update(bytes);
        self.part.len += bytes.len() as u64;
        Ok(())
    }

    /// Flushes what was written, so that the next attempt resumes after it; `sync` (for a file
    /// that is complete) also waits until it is on the disk.
    pub(super) async fn close(mut self, sync: bool) -> Result<(), DownloadError> {
        let path = &self.part.path;
        self.out.flush().await.map_err(DownloadError::io(path))?;
        if sync {
            self.out.get_ref().sync_all().await.map_err(DownloadError::io(path))?;
        }
        Ok(())
    }
}

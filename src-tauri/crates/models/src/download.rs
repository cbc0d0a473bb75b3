//! Verified, resumable downloads over HTTP: several files as one task, resumed with `Range`
//! after a dropped connection or a restart, retried with back-off, checked for disk space first,
//! and verified (size, sha256) before anything is moved into place. A file that fails its check
//! is deleted, never installed.

mod error;
mod meter;
mod part;
mod transfer;

pub use error::DownloadError;

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::{Deserialize, Serialize};
use tokio::sync::watch;
use ts_rs::TS;

use meter::Meter;
use transfer::Transfer;

/// One file to fetch.
#[derive(Debug, Clone, PartialEq)]
pub struct DownloadFile {
    /// Where from.
    pub url: String,
    /// Where it goes once verified; the partial file lies beside it as `<name>.part`.
    pub dest: PathBuf,
    /// Its published size, if known.
    pub bytes: Option<u64>,
    /// Its published sha256 (lowercase hex), if known.
    pub sha256: Option<String>,
}

impl DownloadFile {
    /// The partial file, kept between attempts and across restarts.
    pub fn part_path(&self) -> PathBuf {
        part_path(&self.dest)
    }

    /// Its file name, for messages.
    pub(crate) fn name(&self) -> String {
        self.dest.file_name().unwrap_or_default().to_string_lossy().into_owned()
    }
}

/// The partial file that belongs to `dest`.
pub fn part_path(dest: &Path) -> PathBuf {
    let mut name = dest.file_name().unwrap_or_default().to_os_string();
    name.push(".part");
    dest.with_file_name(name)
}

/// How downloads behave.
#[derive(Debug, Clone)]
pub struct DownloadOptions {
    /// A Hugging Face token for gated repositories (sent as a bearer token; dropped on redirects
    /// to other hosts).
    pub token: Option<String>,
    /// Attempts in a row that may fail without any progress before giving up.
    pub retries: u32,
    /// The first wait before a retry; it doubles up to `max_backoff`.
    pub backoff: Duration,
    /// The longest wait between retries.
    pub max_backoff: Duration,
    /// A connection that sends nothing for this long is retried.
    pub read_timeout: Duration,
    /// Use the proxies named by HTTPS_PROXY, HTTP_PROXY, ALL_PROXY and NO_PROXY.
    pub env_proxies: bool,
}

impl Default for DownloadOptions {
    fn default() -> Self {
        DownloadOptions {
            token: None,
            retries: 6,
            backoff: Duration::from_secs(1),
            max_backoff: Duration::from_secs(30),
            read_timeout: Duration::from_secs(30),
            env_proxies: true,
        }
    }
}

/// What the user asks of a running download.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Signal {
    /// Keep going.
    Run,
    /// Stop, keeping the partial files to resume later.
    Pause,
    /// Stop and delete the partial files.
    Cancel,
}

/// The handle that pauses or cancels a download.
#[derive(Debug, Clone)]
pub struct Control(watch::Sender<Signal>);

impl Control {
    /// A control and the receiver the download watches.
    pub fn new() -> (Control, watch::Receiver<Signal>) {
        let (sender, receiver) = watch::channel(Signal::Run);
        (Control(sender), receiver)
    }

    /// Pauses: the download stops and keeps what it has.
    pub fn pause(&self) {
        self.0.send_replace(Signal::Pause);
    }

    /// Cancels: the download stops and deletes what it has.
    pub fn cancel(&self) {
        self.0.send_replace(Signal::Cancel);
    }
}

/// What a download is doing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum Phase {
    /// Re-reading a partial file from an earlier attempt.
    Resuming,
    /// Receiving bytes.
    Downloading,
    /// Waiting to try again after a failure.
    Retrying,
    /// Checking a finished file.
    Verifying,
}

/// Progress of a download task, sent a few times a second.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct Progress {
    /// What it is doing.
    pub phase: Phase,
    /// The file being fetched (0-based) and how many there are.
    pub file: usize,
    /// Files in the task.
    pub files: usize,
    /// The file's name.
    pub file_name: String,
    /// Bytes on disk for the whole task.
    pub done: u64,
    /// Bytes of the whole task, as far as known.
    pub total: u64,
    /// Recent speed.
    pub bytes_per_second: f64,
    /// Time left at that speed.
    pub seconds_left: Option<f64>,
    /// Why it is retrying.
    pub note: Option<String>,
}

/// A file that was fetched and checked.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Verified {
    /// Where it now lies.
    pub path: PathBuf,
    /// Its size.
    pub bytes: u64,
    /// Its sha256.
    pub sha256: String,
    /// Whether that hash was checked against a published one (otherwise it was computed now, to
    /// be shown to the user).
    pub sha256_published: bool,
}

/// Downloads every file of a task, verifies each, and only then moves them all into place.
pub async fn download(
    files: &[DownloadFile],
    options: &DownloadOptions,
    signal: watch::Receiver<Signal>,
    on_progress: impl FnMut(&Progress),
) -> Result<Vec<Verified>, DownloadError> {
    let client = transfer::client(options)?;
    check_space(files).await?;
    let mut transfer = Transfer::new(client, options, signal, Meter::new(files, on_progress));
    let mut fetched = Vec::with_capacity(files.len());
    for (index, file) in files.iter().enumerate() {
        match transfer.fetch(index, file).await {
            Ok(checked) => fetched.push(checked),
            Err(error) => {
                if matches!(error, DownloadError::Cancelled) {
                    for file in files {
                        let _ = tokio::fs::remove_file(file.part_path()).await;
                    }
                }
                return Err(error);
            }
        }
    }
    let mut verified = Vec::with_capacity(files.len());
    for (file, (bytes, sha256)) in files.iter().zip(fetched) {
        tokio::fs::rename(file.part_path(), &file.dest).await.map_err(DownloadError::io(&file.dest))?;
        verified.push(Verified { path: file.dest.clone(), bytes, sha256, sha256_published: file.sha256.is_some() });
    }
    Ok(verified)
}

/// Refuses to start when the files (less what is already there) would not fit on the disk.
async fn check_space(files: &[DownloadFile]) -> Result<(), DownloadError> {
    const MARGIN: u64 = 64 << 20;
    let Some(dir) = files.first().and_then(|file| file.dest.parent()) else { return Ok(()) };
    let mut needed = MARGIN;
    for file in files {
        let have = tokio::fs::metadata(file.part_path()).await.map_or(0, |meta| meta.len());
        needed += file.bytes.unwrap_or(0).saturating_sub(have);
    }
    let available = fs4::available_space(dir).map_err(DownloadError::io(dir))?;
    if needed > available {
        return Err(DownloadError::NoSpace { dir: dir.to_path_buf(), needed, available });
    }
    Ok(())
}

/// Stops with [`DownloadError::Paused`] or [`DownloadError::Cancelled`] when the user asked.
fn stop_if_asked(signal: &watch::Receiver<Signal>) -> Result<(), DownloadError> {
    match *signal.borrow() {
        Signal::Run => Ok(()),
        Signal::Pause => Err(DownloadError::Paused),
        Signal::Cancel => Err(DownloadError::Cancelled),
    }
}

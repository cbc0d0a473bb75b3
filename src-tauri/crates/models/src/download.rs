//! Verified, resumable downloads over HTTP: several files as one task, resumed with `Range`
//! after a dropped connection or a restart, retried with back-off, checked for disk space first,
//! and verified (size, sha256) before anything is moved into place. A file that fails its check
//! is deleted, never installed.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::sync::watch;

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
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
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
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
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

/// Why a download stopped without a verified file.
#[derive(Debug, thiserror::Error)]
pub enum DownloadError {
    /// The user paused it; the partial files are kept.
    #[error("the download was paused")]
    Paused,
    /// The user cancelled it; the partial files are deleted.
    #[error("the download was cancelled")]
    Cancelled,
    /// The server has no such file.
    #[error("the server has no file at {url} (404 Not Found)")]
    NotFound {
        /// The address.
        url: String,
    },
    /// The repository needs a token, or its licence accepted on Hugging Face.
    #[error(
        "{url} refused the download ({status}): the repository is gated; accept its licence on Hugging Face and add an access token in Settings"
    )]
    Unauthorized {
        /// The address.
        url: String,
        /// The HTTP status.
        status: u16,
    },
    /// The server answered with an error that retrying cannot fix.
    #[error("{url} answered {status}")]
    Http {
        /// The address.
        url: String,
        /// The HTTP status.
        status: u16,
    },
    /// The network failed more times in a row than allowed; the partial file is kept.
    #[error(
        "the download of {file} failed after {attempts} attempts: {reason}; what arrived is kept, so it resumes where it stopped"
    )]
    Network {
        /// The file.
        file: String,
        /// Attempts made in a row.
        attempts: u32,
        /// The last failure.
        reason: String,
    },
    /// Not enough free disk space.
    #[error("not enough disk space in {dir}: the download needs {needed} more bytes and {available} are free")]
    NoSpace {
        /// The folder.
        dir: PathBuf,
        /// Bytes still to download (with a margin).
        needed: u64,
        /// Bytes free.
        available: u64,
    },
    /// The file's size is not the published one; it was deleted.
    #[error("{file} has the wrong size: expected {expected} bytes, the server has {found}; nothing was installed")]
    SizeMismatch {
        /// The file.
        file: String,
        /// The published size.
        expected: u64,
        /// What arrived or was announced.
        found: u64,
    },
    /// The file's hash is not the published one; it was deleted.
    #[error(
        "{file} is corrupt or not the published file: its sha256 is {found}, expected {expected}; it was deleted and nothing was installed"
    )]
    HashMismatch {
        /// The file.
        file: String,
        /// The published hash.
        expected: String,
        /// The hash of what arrived.
        found: String,
    },
    /// Reading or writing a local file failed.
    #[error("cannot write {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
}

impl DownloadError {
    fn io(path: &Path) -> impl FnOnce(std::io::Error) -> DownloadError + '_ {
        move |source| DownloadError::Io { path: path.to_path_buf(), source }
    }
}

/// Downloads every file of a task, verifies each, and only then moves them all into place.
pub async fn download(
    files: &[DownloadFile],
    options: &DownloadOptions,
    mut signal: watch::Receiver<Signal>,
    on_progress: impl FnMut(&Progress),
) -> Result<Vec<Verified>, DownloadError> {
    let client = client(options)?;
    check_space(files).await?;
    let mut meter = Meter::new(files, on_progress);
    let mut fetched = Vec::with_capacity(files.len());
    for (index, file) in files.iter().enumerate() {
        meter.file = index;
        match fetch(&client, file, options, &mut signal, &mut meter).await {
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

fn client(options: &DownloadOptions) -> Result<reqwest::Client, DownloadError> {
    let mut builder = reqwest::Client::builder()
        .user_agent(concat!("gemma-desk/", env!("CARGO_PKG_VERSION")))
        .connect_timeout(Duration::from_secs(20))
        .read_timeout(options.read_timeout);
    if !options.env_proxies {
        builder = builder.no_proxy();
    }
    builder.build().map_err(|error| DownloadError::Network {
        file: String::new(),
        attempts: 0,
        reason: format!("the HTTP client could not start: {error}"),
    })
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

/// A reason to try again, or a final answer.
enum Attempt {
    Again(String),
    Stop(DownloadError),
}

/// Fetches one file into its partial file and checks it; returns its size and sha256.
async fn fetch<F: FnMut(&Progress)>(
    client: &reqwest::Client,
    file: &DownloadFile,
    options: &DownloadOptions,
    signal: &mut watch::Receiver<Signal>,
    meter: &mut Meter<F>,
) -> Result<(u64, String), DownloadError> {
    let part = file.part_path();
    let name = file.dest.file_name().unwrap_or_default().to_string_lossy().into_owned();
    let (mut hasher, mut have) = rehash(&part, file.bytes, meter).await?;
    let mut failures = 0;
    loop {
        stop_if_asked(signal)?;
        let before = have;
        match transfer(client, file, options, &part, &mut hasher, &mut have, signal, meter).await {
            Ok(()) => break,
            Err(Attempt::Stop(error)) => {
                if matches!(error, DownloadError::SizeMismatch { .. }) {
                    let _ = tokio::fs::remove_file(&part).await;
                }
                return Err(error);
            }
            Err(Attempt::Again(reason)) => {
                failures = if have > before { 1 } else { failures + 1 };
                if failures > options.retries {
                    return Err(DownloadError::Network { file: name, attempts: failures, reason });
                }
                let wait = options.backoff.saturating_mul(1 << (failures - 1).min(16)).min(options.max_backoff);
                meter.report(
                    Phase::Retrying,
                    Some(format!("{reason}; trying again in {:.0} s", wait.as_secs_f64().ceil())),
                );
                tokio::select! {
                    () = tokio::time::sleep(wait) => {}
                    _ = signal.changed() => {}
                }
            }
        }
    }

    meter.report_now(Phase::Downloading, None);
    meter.report_now(Phase::Verifying, None);
    let sha256 = hex::encode(hasher.finalize());
    if let Some(expected) = file.bytes.filter(|&expected| expected != have) {
        let _ = tokio::fs::remove_file(&part).await;
        return Err(DownloadError::SizeMismatch { file: name, expected, found: have });
    }
    if let Some(expected) = file.sha256.as_deref().filter(|expected| !expected.eq_ignore_ascii_case(&sha256)) {
        let _ = tokio::fs::remove_file(&part).await;
        return Err(DownloadError::HashMismatch { file: name, expected: expected.to_owned(), found: sha256 });
    }
    Ok((have, sha256))
}

fn stop_if_asked(signal: &watch::Receiver<Signal>) -> Result<(), DownloadError> {
    match *signal.borrow() {
        Signal::Run => Ok(()),
        Signal::Pause => Err(DownloadError::Paused),
        Signal::Cancel => Err(DownloadError::Cancelled),
    }
}

/// Reads what an earlier attempt left, so the hash covers the whole file when it resumes.
async fn rehash<F: FnMut(&Progress)>(
    part: &Path,
    expected: Option<u64>,
    meter: &mut Meter<F>,
) -> Result<(Sha256, u64), DownloadError> {
    let mut hasher = Sha256::new();
    let mut partial = match tokio::fs::File::open(part).await {
        Ok(partial) => partial,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok((hasher, 0)),
        Err(error) => return Err(DownloadError::Io { path: part.to_path_buf(), source: error }),
    };
    let len = partial.metadata().await.map_err(DownloadError::io(part))?.len();
    if expected.is_some_and(|expected| len > expected) {
        drop(partial);
        tokio::fs::remove_file(part).await.map_err(DownloadError::io(part))?;
        return Ok((hasher, 0));
    }
    meter.report(Phase::Resuming, None);
    let mut buffer = vec![0; 1 << 20];
    let mut read = 0;
    loop {
        let n = partial.read(&mut buffer).await.map_err(DownloadError::io(part))?;
        if n == 0 {
            break;
        }
        hasher.update(&buffer[..n]);
        read += n as u64;
    }
    meter.add(read);
    Ok((hasher, read))
}

/// One request: appends what arrives to the partial file. `Ok` once the whole file is there.
#[allow(clippy::too_many_arguments)]
async fn transfer<F: FnMut(&Progress)>(
    client: &reqwest::Client,
    file: &DownloadFile,
    options: &DownloadOptions,
    part: &Path,
    hasher: &mut Sha256,
    have: &mut u64,
    signal: &mut watch::Receiver<Signal>,
    meter: &mut Meter<F>,
) -> Result<(), Attempt> {
    let name = file.dest.file_name().unwrap_or_default().to_string_lossy().into_owned();
    let mut request = client.get(&file.url);
    if *have > 0 {
        request = request.header(reqwest::header::RANGE, format!("bytes={have}-"));
    }
    if let Some(token) = &options.token {
        request = request.bearer_auth(token);
    }
    let mut response = request.send().await.map_err(|error| Attempt::Again(describe(&error)))?;
    let status = response.status().as_u16();
    let mut append = *have > 0;
    match status {
        206 => {
            let (start, total) = content_range(&response);
            if start != Some(*have) {
                // Not the part we asked for: start over rather than splice a wrong piece in.
                meter.start_over(hasher, have);
                return Err(Attempt::Again(format!("the server sent a different range than asked (from {start:?})")));
            }
            if let (Some(expected), Some(total)) = (file.bytes, total)
                && expected != total
            {
                return Err(Attempt::Stop(DownloadError::SizeMismatch { file: name, expected, found: total }));
            }
        }
        200 => {
            if *have > 0 {
                // The server ignores ranges: take the whole file again.
                meter.start_over(hasher, have);
                append = false;
            }
            if let (Some(expected), Some(length)) = (file.bytes, response.content_length())
                && expected != length
            {
                return Err(Attempt::Stop(DownloadError::SizeMismatch { file: name, expected, found: length }));
            }
        }
        // The partial file already holds the whole file (by the published size, or else by the
        // size the server gives in `Content-Range: bytes */<size>`).
        416 if file.bytes.or(content_range(&response).1) == Some(*have) => return Ok(()),
        416 => {
            let _ = tokio::fs::remove_file(part).await;
            meter.start_over(hasher, have);
            return Err(Attempt::Again("the server refused the resume range (416); starting the file again".into()));
        }
        404 => return Err(Attempt::Stop(DownloadError::NotFound { url: file.url.clone() })),
        401 | 403 => return Err(Attempt::Stop(DownloadError::Unauthorized { url: file.url.clone(), status })),
        408 | 429 | 500..=599 => return Err(Attempt::Again(format!("the server answered {status}"))),
        _ => return Err(Attempt::Stop(DownloadError::Http { url: file.url.clone(), status })),
    }
    if file.bytes.is_none()
        && let Some(length) = response.content_length()
    {
        meter.learn_total(*have + length);
    }

    let opened = tokio::fs::OpenOptions::new()
        .create(true)
        .write(true)
        .append(append)
        .truncate(!append)
        .open(part)
        .await
        .map_err(|error| Attempt::Stop(DownloadError::Io { path: part.to_path_buf(), source: error }))?;
    // Network chunks are small; each write to a tokio file is a hop to a blocking thread.
    let mut out = tokio::io::BufWriter::with_capacity(1 << 20, opened);
    let write_error = |error| Attempt::Stop(DownloadError::Io { path: part.to_path_buf(), source: error });
    let outcome = loop {
        let chunk = tokio::select! {
            chunk = response.chunk() => chunk,
            _ = signal.changed() => match stop_if_asked(signal) {
                Ok(()) => continue,
                Err(stop) => break Err(Attempt::Stop(stop)),
            },
        };
        match chunk {
            Ok(Some(bytes)) => {
                if file.bytes.is_some_and(|expected| *have + bytes.len() as u64 > expected) {
                    let found = *have + bytes.len() as u64;
                    let expected = file.bytes.unwrap_or(0);
                    break Err(Attempt::Stop(DownloadError::SizeMismatch { file: name, expected, found }));
                }
                if let Err(error) = out.write_all(&bytes).await {
                    break Err(write_error(error));
                }
                hasher.update(&bytes);
                *have += bytes.len() as u64;
                meter.add(bytes.len() as u64);
                meter.report(Phase::Downloading, None);
            }
            Ok(None) => match file.bytes {
                Some(expected) if *have < expected => {
                    break Err(Attempt::Again(format!("the connection closed after {have} of {expected} bytes")));
                }
                _ => break Ok(()),
            },
            Err(error) => break Err(Attempt::Again(describe(&error))),
        }
    };
    // What arrived is kept even when the attempt failed, so the next one resumes after it.
    if let Err(error) = out.flush().await {
        return Err(write_error(error));
    }
    if outcome.is_ok() {
        out.get_ref().sync_all().await.map_err(write_error)?;
    }
    outcome
}

/// `Content-Range: bytes <start>-<end>/<total>` as (start, total).
fn content_range(response: &reqwest::Response) -> (Option<u64>, Option<u64>) {
    let Some(value) = response.headers().get(reqwest::header::CONTENT_RANGE).and_then(|v| v.to_str().ok()) else {
        return (None, None);
    };
    let Some(range) = value.strip_prefix("bytes ") else { return (None, None) };
    let (span, total) = range.split_once('/').unwrap_or((range, "*"));
    let start = span.split_once('-').and_then(|(start, _)| start.trim().parse().ok());
    // `bytes */<size>` (a 416's answer) has no start.
    (start, total.trim().parse().ok())
}

/// A network error in words, with its cause (reqwest's own text is terse).
fn describe(error: &reqwest::Error) -> String {
    let mut text = if error.is_timeout() { "the server stopped sending".to_string() } else { error.to_string() };
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

/// Counts bytes, works out the speed and time left, and reports at most ten times a second.
struct Meter<F> {
    sink: F,
    names: Vec<String>,
    file: usize,
    done: u64,
    total: u64,
    /// (when, done) samples of the last few seconds, for the speed.
    window: std::collections::VecDeque<(Instant, u64)>,
    last_report: Option<Instant>,
    /// Sizes of files without a published size, once the server tells them.
    learned: Vec<Option<u64>>,
    published: u64,
}

impl<F: FnMut(&Progress)> Meter<F> {
    fn new(files: &[DownloadFile], sink: F) -> Self {
        Meter {
            sink,
            names: files
                .iter()
                .map(|f| f.dest.file_name().unwrap_or_default().to_string_lossy().into_owned())
                .collect(),
            file: 0,
            done: 0,
            total: files.iter().map(|f| f.bytes.unwrap_or(0)).sum(),
            window: std::collections::VecDeque::new(),
            last_report: None,
            learned: vec![None; files.len()],
            published: files.iter().map(|f| f.bytes.unwrap_or(0)).sum(),
        }
    }

    fn add(&mut self, bytes: u64) {
        self.done += bytes;
        let now = Instant::now();
        self.window.push_back((now, self.done));
        while self.window.len() > 2 && now.duration_since(self.window[0].0) > Duration::from_secs(3) {
            self.window.pop_front();
        }
    }

    /// Forgets what the current file had: it is fetched again from its first byte.
    fn start_over(&mut self, hasher: &mut Sha256, have: &mut u64) {
        *hasher = Sha256::new();
        self.done = self.done.saturating_sub(std::mem::take(have));
        self.window.clear();
    }

    fn learn_total(&mut self, file_bytes: u64) {
        self.learned[self.file] = Some(file_bytes);
        self.total = self.published + self.learned.iter().flatten().sum::<u64>();
    }

    fn speed(&self) -> f64 {
        match (self.window.front(), self.window.back()) {
            (Some(first), Some(last)) if last.0 > first.0 => {
                (last.1 - first.1) as f64 / last.0.duration_since(first.0).as_secs_f64()
            }
            _ => 0.0,
        }
    }

    /// Reports, unless a report went out less than 100 ms ago while downloading.
    fn report(&mut self, phase: Phase, note: Option<String>) {
        let due = self.last_report.is_none_or(|last| last.elapsed() >= Duration::from_millis(100));
        if phase != Phase::Downloading || due {
            self.report_now(phase, note);
        }
    }

    fn report_now(&mut self, phase: Phase, note: Option<String>) {
        self.last_report = Some(Instant::now());
        let speed = self.speed();
        let left = self.total.saturating_sub(self.done);
        let progress = Progress {
            phase,
            file: self.file,
            files: self.names.len(),
            file_name: self.names.get(self.file).cloned().unwrap_or_default(),
            done: self.done,
            total: self.total,
            bytes_per_second: speed,
            seconds_left: (speed > 0.0 && self.total > 0).then(|| left as f64 / speed),
            note,
        };
        (self.sink)(&progress);
    }
}

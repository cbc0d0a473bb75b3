//! Fetching one file over HTTP into its partial file: each request resumes with `Range` from the
//! partial file's length; what the server answers decides whether to go on, start the file again,
//! retry after a doubling wait (the count resets whenever bytes arrive) or give up; the finished
//! file is checked against its published size and sha256.

use std::time::Duration;

use tokio::sync::watch;

use super::meter::Meter;
use super::part::PartFile;
use super::{DownloadError, DownloadFile, DownloadOptions, Phase, Progress, Signal, stop_if_asked};

/// The HTTP client for a download task.
pub(super) fn client(options: &DownloadOptions) -> Result<reqwest::Client, DownloadError> {
    let mut builder = reqwest::Client::builder()
        .user_agent(concat!("gemma-desk/", env!("CARGO_PKG_VERSION")))
        .connect_timeout(Duration::from_secs(20))
        .read_timeout(options.read_timeout);
    if !options.env_proxies {
        builder = builder.no_proxy();
    }
    builder.build().map_err(|error| DownloadError::Client(error.to_string()))
}

/// A reason to try again, or a final answer.
enum Attempt {
    Again(String),
    Stop(DownloadError),
}

/// What every request of a task shares: the client, the options, the user's signal and the meter.
pub(super) struct Transfer<'a, F> {
    client: reqwest::Client,
    options: &'a DownloadOptions,
    signal: watch::Receiver<Signal>,
    meter: Meter<F>,
}

impl<'a, F: FnMut(&Progress)> Transfer<'a, F> {
    pub(super) fn new(
        client: reqwest::Client,
        options: &'a DownloadOptions,
        signal: watch::Receiver<Signal>,
        meter: Meter<F>,
    ) -> Self {
        Transfer { client, options, signal, meter }
    }

    /// Fetches file `index` of the task into its partial file and checks it; returns its size and
    /// sha256.
    pub(super) async fn fetch(&mut self, index: usize, file: &DownloadFile) -> Result<(u64, String), DownloadError> {
        self.meter.file = index;
        let mut part = PartFile::resume(file.part_path(), file.bytes, &mut self.meter).await?;
        let mut failures = 0;
        loop {
            stop_if_asked(&self.signal)?;
            let before = part.len();
            match self.attempt(file, &mut part).await {
                Ok(()) => break,
                Err(Attempt::Stop(error)) => {
                    if matches!(error, DownloadError::SizeMismatch { .. }) {
                        part.discard().await;
                    }
                    return Err(error);
                }
                Err(Attempt::Again(reason)) => {
                    failures = if part.len() > before { 1 } else { failures + 1 };
                    if failures > self.options.retries {
                        return Err(DownloadError::Network { file: file.name(), attempts: failures, reason });
                    }
                    let options = self.options;
                    let wait = options.backoff.saturating_mul(1 << (failures - 1).min(16)).min(options.max_backoff);
                    self.meter.report(
                        Phase::Retrying,
                        Some(format!("{reason}; trying again in {:.0} s", wait.as_secs_f64().ceil())),
                    );
                    tokio::select! {
                        () = tokio::time::sleep(wait) => {}
                        _ = self.signal.changed() => {}
                    }
                }
            }
        }

        self.meter.report_now(Phase::Downloading, None);
        self.meter.report_now(Phase::Verifying, None);
        let (have, sha256) = (part.len(), part.sha256());
        if let Some(expected) = file.bytes.filter(|&expected| expected != have) {
            part.discard().await;
            return Err(DownloadError::SizeMismatch { file: file.name(), expected, found: have });
        }
        if let Some(expected) = file.sha256.as_deref().filter(|expected| !expected.eq_ignore_ascii_case(&sha256)) {
            part.discard().await;
            return Err(DownloadError::HashMismatch {
                file: file.name(),
                expected: expected.to_owned(),
                found: sha256,
            });
        }
        Ok((have, sha256))
    }

    /// One request: appends what arrives to the partial file. `Ok` once the whole file is there.
    async fn attempt(&mut self, file: &DownloadFile, part: &mut PartFile) -> Result<(), Attempt> {
        let size_mismatch =
            |expected, found| Attempt::Stop(DownloadError::SizeMismatch { file: file.name(), expected, found });
        let mut request = self.client.get(&file.url);
        if part.len() > 0 {
            request = request.header(reqwest::header::RANGE, format!("bytes={}-", part.len()));
        }
        if let Some(token) = &self.options.token {
            request = request.bearer_auth(token);
        }
        let mut response = request.send().await.map_err(|error| Attempt::Again(describe(&error)))?;
        let status = response.status().as_u16();
        match status {
            206 => {
                let (start, total) = content_range(&response);
                if start != Some(part.len()) {
                    // Not the part we asked for: start over rather than splice a wrong piece in.
                    part.start_over(&mut self.meter);
                    return Err(Attempt::Again(format!(
                        "the server sent a different range than asked (from {start:?})"
                    )));
                }
                if let (Some(expected), Some(total)) = (file.bytes, total)
                    && expected != total
                {
                    return Err(size_mismatch(expected, total));
                }
            }
            200 => {
                if part.len() > 0 {
                    // The server ignores ranges: take the whole file again.
                    part.start_over(&mut self.meter);
                }
                if let (Some(expected), Some(length)) = (file.bytes, response.content_length())
                    && expected != length
                {
                    return Err(size_mismatch(expected, length));
                }
            }
            // The partial file already holds the whole file (by the published size, or else by the
            // size the server gives in `Content-Range: bytes */<size>`).
            416 if file.bytes.or(content_range(&response).1) == Some(part.len()) => return Ok(()),
            416 => {
                part.discard().await;
                part.start_over(&mut self.meter);
                return Err(Attempt::Again(
                    "the server refused the resume range (416); starting the file again".into(),
                ));
            }
            404 => return Err(Attempt::Stop(DownloadError::NotFound { url: file.url.clone() })),
            401 | 403 => return Err(Attempt::Stop(DownloadError::Unauthorized { url: file.url.clone(), status })),
            408 | 429 | 500..=599 => return Err(Attempt::Again(format!("the server answered {status}"))),
            _ => return Err(Attempt::Stop(DownloadError::Http { url: file.url.clone(), status })),
        }
        if file.bytes.is_none()
            && let Some(length) = response.content_length()
        {
            self.meter.learn_total(part.len() + length);
        }

        let mut out = part.writer().await.map_err(Attempt::Stop)?;
        let outcome = loop {
            let chunk = tokio::select! {
                chunk = response.chunk() => chunk,
                _ = self.signal.changed() => match stop_if_asked(&self.signal) {
                    Ok(()) => continue,
                    Err(stop) => break Err(Attempt::Stop(stop)),
                },
            };
            match chunk {
                Ok(Some(bytes)) => {
                    let found = out.len() + bytes.len() as u64;
                    if let Some(expected) = file.bytes.filter(|&expected| found > expected) {
                        break Err(size_mismatch(expected, found));
                    }
                    if let Err(error) = out.write(&bytes).await {
                        break Err(Attempt::Stop(error));
                    }
                    self.meter.add(bytes.len() as u64);
                    self.meter.report(Phase::Downloading, None);
                }
                Ok(None) => match file.bytes {
                    Some(expected) if out.len() < expected => {
                        let have = out.len();
                        break Err(Attempt::Again(format!("the connection closed after {have} of {expected} bytes")));
                    }
                    _ => break Ok(()),
                },
                Err(error) => break Err(Attempt::Again(describe(&error))),
            }
        };
        // What arrived is kept even when the attempt failed, so the next one resumes after it.
        out.close(outcome.is_ok()).await.map_err(Attempt::Stop)?;
        outcome
    }
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

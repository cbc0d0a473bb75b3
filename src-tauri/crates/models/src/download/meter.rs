//! Progress of a download task: bytes done of the total, the recent speed and the time left,
//! reported at most ten times a second while bytes arrive.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use super::{DownloadFile, Phase, Progress};

/// Counts bytes, works out the speed and time left, and reports at most ten times a second.
pub(super) struct Meter<F> {
    sink: F,
    names: Vec<String>,
    /// The file being fetched (0-based).
    pub(super) file: usize,
    done: u64,
    total: u64,
    /// (when, done) samples of the last few seconds, for the speed.
    window: VecDeque<(Instant, u64)>,
    last_report: Option<Instant>,
    /// Sizes of files without a published size, once the server tells them.
    learned: Vec<Option<u64>>,
    published: u64,
}

impl<F: FnMut(&Progress)> Meter<F> {
    pub(super) fn new(files: &[DownloadFile], sink: F) -> Self {
        let published = files.iter().map(|f| f.bytes.unwrap_or(0)).sum();
        Meter {
            sink,
            names: files.iter().map(DownloadFile::name).collect(),
            file: 0,
            done: 0,
            total: published,
            window: VecDeque::new(),
            last_report: None,
            learned: vec![None; files.len()],
            published,
        }
    }

    /// Counts `bytes` more as done.
    pub(super) fn add(&mut self, bytes: u64) {
        self.done += bytes;
        let now = Instant::now();
        self.window.push_back((now, self.done));
        while self.window.len() > 2 && now.duration_since(self.window[0].0) > Duration::from_secs(3) {
            self.window.pop_front();
        }
    }

    /// Forgets `bytes` of the current file: it is fetched again from its first byte.
    pub(super) fn forget(&mut self, bytes: u64) {
        self.done = self.done.saturating_sub(bytes);
        self.window.clear();
    }

    /// Counts the size the server gave for the current file, which has no published one.
    pub(super) fn learn_total(&mut self, file_bytes: u64) {
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
    pub(super) fn report(&mut self, phase: Phase, note: Option<String>) {
        let due = self.last_report.is_none_or(|last| last.elapsed() >= Duration::from_millis(100));
        if phase != Phase::Downloading || due {
            self.report_now(phase, note);
        }
    }

    /// Reports at once.
    pub(super) fn report_now(&mut self, phase: Phase, note: Option<String>) {
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

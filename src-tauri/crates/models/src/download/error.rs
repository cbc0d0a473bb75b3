//! Why a download stopped: paused or cancelled by the user, refused by the server, the network
//! failing too often, the disk full, or a file that is not the published one.

use std::path::{Path, PathBuf};

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
    /// The HTTP client could not be set up (a broken proxy setting or TLS library).
    #[error("the HTTP client could not start: {0}; check the proxy settings (HTTPS_PROXY, HTTP_PROXY)")]
    Client(String),
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
    /// A `map_err` argument: the I/O error as one on `path`.
    pub(super) fn io(path: &Path) -> impl FnOnce(std::io::Error) -> DownloadError + '_ {
        move |source| DownloadError::Io { path: path.to_path_buf(), source }
    }
}

//! The installed models: one folder per model under the models folder, holding its files and a
//! `model.json` manifest written last, so a folder without one is never taken for a model. Models
//! come from the catalog (downloaded and verified) or from the user's own GGUF files (imported:
//! validated, paired with their projector, then copied or used where they lie).
//!
//! `manifest` is what a model's folder records, `install` the download of a catalog model,
//! `import` the user's own files.

mod import;
mod install;
mod manifest;

pub use import::{ImportMode, check_pair};
pub use install::PartialDownload;
pub use manifest::{Description, Installed, InstalledFile, InstalledModel, MANIFEST, Source, describe};

use std::path::{Path, PathBuf};

use crate::download::DownloadError;
use manifest::read;

/// What can go wrong with the installed models.
#[derive(Debug, thiserror::Error)]
pub enum LibraryError {
    /// No installed model (or catalog entry) has this id.
    #[error("no model {0:?} is installed")]
    NotFound(String),
    /// The file is not a usable model or projector.
    #[error("{0}")]
    Invalid(String),
    /// The model is already downloading.
    #[error("{0}")]
    Busy(String),
    /// No download of this model is running or paused.
    #[error("{0:?} is not downloading")]
    NotDownloading(String),
    /// The disk has no room for the file.
    #[error("{0}")]
    NoSpace(String),
    /// The download failed.
    #[error(transparent)]
    Download(#[from] DownloadError),
    /// A file could not be read or written.
    #[error("cannot use {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> LibraryError + '_ {
    move |source| LibraryError::Io { path: path.to_path_buf(), source }
}

/// The models folder.
#[derive(Debug, Clone)]
pub struct Library {
    dir: PathBuf,
}

impl Library {
    /// The library in `dir` (created when something is installed).
    pub fn new(dir: impl Into<PathBuf>) -> Library {
        Library { dir: dir.into() }
    }

    /// The models folder.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The installed models, newest first. Folders without a manifest are skipped.
    pub fn list(&self) -> Result<Vec<InstalledModel>, LibraryError> {
        let mut models = Vec::new();
        for folder in self.folders()? {
            if let Some(model) = read(&folder)? {
                models.push(model);
            }
        }
        models.sort_by(|a, b| {
            b.manifest.installed_at.cmp(&a.manifest.installed_at).then(a.manifest.id.cmp(&b.manifest.id))
        });
        Ok(models)
    }

    /// One installed model.
    pub fn get(&self, id: &str) -> Result<InstalledModel, LibraryError> {
        let folder = self.folder(id)?;
        read(&folder)?.ok_or_else(|| LibraryError::NotFound(id.to_owned()))
    }

    /// Deletes an installed model's folder (a linked import's own files are left alone), or the
    /// partial files of a stopped download.
    pub fn delete(&self, id: &str) -> Result<(), LibraryError> {
        let folder = self.folder(id)?;
        if !folder.exists() {
            return Err(LibraryError::NotFound(id.to_owned()));
        }
        std::fs::remove_dir_all(&folder).map_err(io(&folder))
    }

    fn folder(&self, id: &str) -> Result<PathBuf, LibraryError> {
        let plain = !id.is_empty() && !id.starts_with('.') && !id.contains(['/', '\\']) && id != "..";
        if !plain {
            return Err(LibraryError::NotFound(id.to_owned()));
        }
        Ok(self.dir.join(id))
    }

    fn folders(&self) -> Result<Vec<PathBuf>, LibraryError> {
        let entries = match std::fs::read_dir(&self.dir) {
            Ok(entries) => entries,
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(error) => return Err(LibraryError::Io { path: self.dir.clone(), source: error }),
        };
        Ok(entries.flatten().map(|entry| entry.path()).filter(|path| path.is_dir()).collect())
    }
}

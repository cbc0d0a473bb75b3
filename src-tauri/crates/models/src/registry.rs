//! The downloads running in this process: at most one per model, each with the control that
//! pauses or cancels it, and the rules for starting one (licence accepted, not installed yet).

use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard, PoisonError};

use serde::Serialize;
use ts_rs::TS;

use crate::catalog::Catalog;
use crate::download::{Control, DownloadError, DownloadOptions, Progress};
use crate::library::{InstalledModel, Library, LibraryError};

/// The environment variable with a Hugging Face token, used when the settings hold none.
pub const HF_TOKEN_ENV: &str = "HF_TOKEN";

/// How a download ended, when it did not fail.
#[derive(Debug, Clone, PartialEq, Serialize, TS)]
pub struct DownloadOutcome {
    /// Where it stopped.
    pub status: DownloadStatus,
    /// The installed model, when it was installed.
    pub model: Option<InstalledModel>,
}

/// Where a download that did not fail stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum DownloadStatus {
    /// Verified and installed.
    Installed,
    /// Paused: the partial files wait for a resume.
    Paused,
    /// Cancelled: the partial files are gone.
    Cancelled,
}

/// The running downloads, by catalog id.
#[derive(Debug, Default)]
pub struct Downloads {
    running: Mutex<HashMap<String, Control>>,
}

impl Downloads {
    /// The ids of the models downloading now, sorted.
    pub fn running(&self) -> Vec<String> {
        let mut ids: Vec<String> = self.lock().keys().cloned().collect();
        ids.sort();
        ids
    }

    /// Downloads (or resumes) catalog model `id` into `library` and installs it. Refused unless
    /// its licence is accepted, while it is installed (a download would replace it, and a
    /// cancel delete it) and while it is already downloading.
    pub async fn install(
        &self,
        library: &Library,
        catalog: &Catalog,
        id: &str,
        with_mmproj: bool,
        accept_licence: bool,
        options: &DownloadOptions,
        on_progress: impl FnMut(&Progress),
    ) -> Result<DownloadOutcome, LibraryError> {
        let model = catalog.get(id).ok_or_else(|| LibraryError::Invalid(format!("the catalog has no model {id:?}")))?;
        if !accept_licence {
            return Err(LibraryError::Invalid(format!(
                "{} is published under the {}; accept it to download the model",
                model.name,
                model.licence.name()
            )));
        }
        if library.get(id).is_ok() {
            return Err(LibraryError::Invalid(format!("{} is already installed", model.name)));
        }
        let (control, signal) = Control::new();
        {
            let mut running = self.lock();
            if running.contains_key(id) {
                return Err(LibraryError::Busy(format!("{} is already downloading", model.name)));
            }
            running.insert(id.to_owned(), control);
        }
        let _running = Running { downloads: self, id };
        match library.install(catalog, model, with_mmproj, options, signal, on_progress).await {
            Ok(model) => Ok(DownloadOutcome { status: DownloadStatus::Installed, model: Some(model) }),
            Err(LibraryError::Download(DownloadError::Paused)) => {
                Ok(DownloadOutcome { status: DownloadStatus::Paused, model: None })
            }
            Err(LibraryError::Download(DownloadError::Cancelled)) => {
                // What is left of the model's folder (an empty one) goes too.
                let _ = library.delete(id);
                Ok(DownloadOutcome { status: DownloadStatus::Cancelled, model: None })
            }
            Err(error) => Err(error),
        }
    }

    /// Pauses the download of `id`; its partial files are kept for a resume.
    pub fn pause(&self, id: &str) -> Result<(), LibraryError> {
        self.lock().get(id).ok_or_else(|| not_downloading(id))?.pause();
        Ok(())
    }

    /// Cancels the download of `id`, or discards the partial files of a paused one (or one
    /// from before a restart).
    pub fn cancel(&self, library: &Library, id: &str) -> Result<(), LibraryError> {
        let running = self.lock().get(id).cloned();
        match running {
            Some(control) => control.cancel(),
            None => {
                if !library.partial_downloads()?.iter().any(|partial| partial.id == id) {
                    return Err(not_downloading(id));
                }
                library.delete(id)?;
            }
        }
        Ok(())
    }

    fn lock(&self) -> MutexGuard<'_, HashMap<String, Control>> {
        self.running.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// The Hugging Face token to download with: the one in the settings, else `$HF_TOKEN`.
pub fn hf_token(from_settings: Option<String>) -> Option<String> {
    from_settings.or_else(|| std::env::var(HF_TOKEN_ENV).ok()).filter(|token| !token.is_empty())
}

/// Removes a download from the running ones when it ends, however it ends.
struct Running<'a> {
    downloads: &'a Downloads,
    id: &'a str,
}

impl Drop for Running<'_> {
    fn drop(&mut self) {
        self.downloads.lock().remove(self.id);
    }
}

fn not_downloading(id: &str) -> LibraryError {
    LibraryError::NotDownloading(id.to_owned())
}

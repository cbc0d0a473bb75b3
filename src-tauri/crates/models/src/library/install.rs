//! Installing a catalog model: its files are downloaded beside a `download.json` saying what was
//! asked for (so a resume after a restart fetches the same), verified, checked as GGUF, and
//! recorded.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use tokio::sync::watch;
use ts_rs::TS;

use super::import::check_pair;
use super::manifest::{Installed, InstalledFile, InstalledModel, MANIFEST, Source, describe, record};
use super::{Library, LibraryError, io};
use crate::catalog::{Capability, Catalog, CatalogModel};
use crate::download::{DownloadFile, DownloadOptions, Progress, Signal, Verified, download, part_path};

/// A download that stopped before it finished; it resumes from here.
#[derive(Debug, Clone, PartialEq, Serialize, TS)]
pub struct PartialDownload {
    /// The catalog id.
    pub id: String,
    /// Bytes already on disk.
    pub bytes: u64,
    /// Whether the projector was asked for too (unknown for downloads older than the record).
    pub with_mmproj: Option<bool>,
}

/// What an unfinished download was asked to fetch, kept beside its partial files so that a resume
/// after a restart fetches the same.
#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
struct Intent {
    with_mmproj: bool,
}

const INTENT: &str = "download.json";

impl Library {
    /// Downloads that stopped before they finished.
    pub fn partial_downloads(&self) -> Result<Vec<PartialDownload>, LibraryError> {
        let mut partials = Vec::new();
        for folder in self.folders()? {
            if folder.join(MANIFEST).exists() {
                continue;
            }
            let bytes = part_files(&folder).iter().map(|(_, bytes)| bytes).sum::<u64>();
            if bytes > 0 {
                let id = folder.file_name().unwrap_or_default().to_string_lossy().into_owned();
                let intent = std::fs::read(folder.join(INTENT))
                    .ok()
                    .and_then(|bytes| serde_json::from_slice::<Intent>(&bytes).ok());
                partials.push(PartialDownload { id, bytes, with_mmproj: intent.map(|i| i.with_mmproj) });
            }
        }
        Ok(partials)
    }

    /// Downloads a catalog model (with its projector when `with_mmproj`), verifies it, checks its
    /// GGUF headers, and records it. A download that stops leaves its partial files to resume.
    pub async fn install(
        &self,
        catalog: &Catalog,
        model: &CatalogModel,
        with_mmproj: bool,
        options: &DownloadOptions,
        signal: watch::Receiver<Signal>,
        on_progress: impl FnMut(&Progress),
    ) -> Result<InstalledModel, LibraryError> {
        let folder = self.folder(&model.id)?;
        tokio::fs::create_dir_all(&folder).await.map_err(io(&folder))?;
        // A folder whose manifest is missing may hold finished files from an interrupted
        // install: put them back as partial files, so the download checks them again.
        if !folder.join(MANIFEST).exists() {
            for file in std::iter::once(&model.file).chain(&model.mmproj) {
                let dest = folder.join(&file.name);
                if dest.exists() {
                    let _ = tokio::fs::rename(&dest, part_path(&dest)).await;
                }
            }
        }
        let intent = Intent { with_mmproj: with_mmproj && model.mmproj.is_some() };
        let remote = std::iter::once(&model.file).chain(model.mmproj.iter().filter(|_| with_mmproj));
        let files: Vec<DownloadFile> = remote
            .map(|file| DownloadFile {
                url: catalog.url(model, file),
                dest: folder.join(&file.name),
                bytes: file.bytes,
                sha256: file.sha256().map(str::to_owned),
            })
            .collect();
        let intent_path = folder.join(INTENT);
        let intent_json = serde_json::to_vec(&intent).expect("intents serialize");
        tokio::fs::write(&intent_path, intent_json).await.map_err(io(&intent_path))?;
        let verified = download(&files, options, signal, on_progress).await?;
        let checked = check_pair(&verified[0].path, verified.get(1).map(|v| v.path.as_path()));
        let (info, projector) = match checked {
            Ok(pair) => pair,
            Err(error) => {
                let _ = tokio::fs::remove_dir_all(&folder).await;
                return Err(error);
            }
        };
        let to_file = |v: &Verified| InstalledFile {
            path: PathBuf::from(v.path.file_name().unwrap_or_default()),
            bytes: v.bytes,
            sha256: Some(v.sha256.clone()),
            sha256_published: v.sha256_published,
        };
        let mut description = describe(&info, projector.as_ref());
        description.caps = model.caps.clone();
        if !with_mmproj {
            description.caps.retain(|cap| !matches!(cap, Capability::Vision | Capability::Audio));
        }
        description.licence = Some(model.licence);
        let _ = tokio::fs::remove_file(&intent_path).await;
        let manifest = Installed {
            id: model.id.clone(),
            name: model.name.clone(),
            source: Source::Catalog,
            model: to_file(&verified[0]),
            mmproj: verified.get(1).map(to_file),
            description,
            installed_at: 0, // stamped by `record`
        };
        record(&folder, manifest)
    }
}

fn part_files(folder: &Path) -> Vec<(PathBuf, u64)> {
    std::fs::read_dir(folder)
        .map(|entries| {
            entries
                .flatten()
                .filter(|entry| entry.file_name().to_string_lossy().ends_with(".part"))
                .map(|entry| (entry.path(), entry.metadata().map_or(0, |m| m.len())))
                .collect()
        })
        .unwrap_or_default()
}

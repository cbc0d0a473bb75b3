//! A model's manifest, `model.json`: what the model is and where its files are. It is written
//! last, once the files are in place and checked, so a folder without one is never taken for a
//! model.

use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use gemma_desk_engine::GgufInfo;
use serde::{Deserialize, Serialize};
use ts_rs::TS;

use super::{LibraryError, io};
use crate::catalog::{Capability, Licence};

/// The manifest's file name inside a model's folder.
pub const MANIFEST: &str = "model.json";

/// An installed model, as its manifest records it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct Installed {
    /// The folder name: the catalog id, or a name made from an imported file.
    pub id: String,
    /// What people call it.
    pub name: String,
    /// Where it came from.
    pub source: Source,
    /// The model GGUF.
    pub model: InstalledFile,
    /// Its projector (mmproj), if any.
    pub mmproj: Option<InstalledFile>,
    /// What its files say about it.
    pub description: Description,
    /// Seconds since 1970 when it was installed: when its manifest was written.
    pub installed_at: u64,
}

/// Where an installed model came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum Source {
    /// Downloaded from the catalog.
    Catalog,
    /// Imported by copying the user's file into the models folder.
    Copied,
    /// Imported by using the user's file where it lies.
    Linked,
}

/// One file of an installed model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct InstalledFile {
    /// The file: a name inside the model's folder, or an absolute path for a linked import.
    pub path: PathBuf,
    /// Its size.
    pub bytes: u64,
    /// Its sha256, when known (always for downloads).
    pub sha256: Option<String>,
    /// The hash was checked against a published one.
    pub sha256_published: bool,
}

/// What a model is, from its GGUF header (and the catalog, for catalog models).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct Description {
    /// `general.architecture`, e.g. `gemma3`.
    pub architecture: String,
    /// The quantisation, e.g. `Q4_K_M`.
    pub quantization: Option<String>,
    /// Training context length, in tokens.
    pub context_length: Option<u64>,
    /// Layers.
    pub layers: Option<u64>,
    /// What it can do.
    pub caps: Vec<Capability>,
    /// Its licence, when known.
    pub licence: Option<Licence>,
}

/// An installed model with where its files are now.
#[derive(Debug, Clone, PartialEq, Serialize, TS)]
pub struct InstalledModel {
    /// The manifest.
    #[serde(flatten)]
    pub manifest: Installed,
    /// The model file's full path.
    pub model_path: PathBuf,
    /// The projector's full path.
    pub mmproj_path: Option<PathBuf>,
    /// Bytes this model takes in the models folder (a linked import's files are not counted).
    pub disk_bytes: u64,
    /// Files of a linked import that are gone.
    pub missing: Vec<PathBuf>,
}

/// What a model's headers say it is and can do.
pub fn describe(model: &GgufInfo, projector: Option<&GgufInfo>) -> Description {
    let template = model.chat_template.as_deref().unwrap_or_default();
    let gemma4 = model.architecture.starts_with("gemma4");
    let mut caps = vec![Capability::Text];
    if projector.is_some_and(|p| p.has_vision_encoder) {
        caps.push(Capability::Vision);
    }
    if projector.is_some_and(|p| p.has_audio_encoder) {
        caps.push(Capability::Audio);
    }
    if gemma4 || template.contains("tool") {
        caps.push(Capability::Tools);
    }
    if gemma4 || template.contains("enable_thinking") {
        caps.push(Capability::Thinking);
    }
    let licence = match model.architecture.as_str() {
        a if a.starts_with("gemma4") => Some(Licence::Apache2),
        a if a.starts_with("gemma") => Some(Licence::GemmaTerms),
        _ => None,
    };
    Description {
        architecture: model.architecture.clone(),
        quantization: model.quantization.clone(),
        context_length: model.context_length,
        layers: model.block_count,
        caps,
        licence,
    }
}

/// The model in `folder`, if it has a readable manifest.
pub(super) fn read(folder: &Path) -> Result<Option<InstalledModel>, LibraryError> {
    let manifest_path = folder.join(MANIFEST);
    let text = match std::fs::read_to_string(&manifest_path) {
        Ok(text) => text,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(error) => return Err(LibraryError::Io { path: manifest_path, source: error }),
    };
    // A damaged manifest hides that one model rather than the whole list.
    let Ok(manifest) = serde_json::from_str::<Installed>(&text) else { return Ok(None) };
    let model_path = folder.join(&manifest.model.path);
    let mmproj_path = manifest.mmproj.as_ref().map(|file| folder.join(&file.path));
    let missing = std::iter::once(&model_path).chain(&mmproj_path).filter(|path| !path.exists()).cloned().collect();
    let disk_bytes = dir_bytes(folder);
    Ok(Some(InstalledModel { manifest, model_path, mmproj_path, disk_bytes, missing }))
}

/// Writes `manifest` as the folder's manifest (whole or not at all), stamped with the time of
/// writing as the time it was installed, and reads the model back.
pub(super) fn record(folder: &Path, mut manifest: Installed) -> Result<InstalledModel, LibraryError> {
    manifest.installed_at = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
    let path = folder.join(MANIFEST);
    let temporary = folder.join(format!("{MANIFEST}.tmp"));
    let text = serde_json::to_string_pretty(&manifest).expect("manifests serialize");
    std::fs::write(&temporary, text).map_err(io(&temporary))?;
    std::fs::rename(&temporary, &path).map_err(io(&path))?;
    read(folder)?.ok_or_else(|| LibraryError::NotFound(manifest.id.clone()))
}

fn dir_bytes(folder: &Path) -> u64 {
    std::fs::read_dir(folder)
        .map(|entries| {
            entries.flatten().filter_map(|entry| entry.metadata().ok()).filter(|m| m.is_file()).map(|m| m.len()).sum()
        })
        .unwrap_or(0)
}

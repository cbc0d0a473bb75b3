//! The installed models: one folder per model under the models folder, holding its files and a
//! `model.json` manifest written last, so a folder without one is never taken for a model. Models
//! come from the catalog (downloaded and verified) or from the user's own GGUF files (imported:
//! validated, paired with their projector, then copied or used where they lie).

use std::path::{Path, PathBuf};

use gemma_desk_engine::{GgufInfo, inspect};
use serde::{Deserialize, Serialize};

use crate::catalog::{Capability, Catalog, CatalogModel, Licence};
use crate::download::{self, DownloadError, DownloadFile, DownloadOptions, Signal, Verified};

/// The manifest's file name inside a model's folder.
pub const MANIFEST: &str = "model.json";

/// An installed model, as its manifest records it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
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
    /// Seconds since 1970 when it was installed.
    pub installed_at: u64,
}

/// Where an installed model came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
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
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
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
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
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
#[derive(Debug, Clone, PartialEq, Serialize)]
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

/// A download that stopped before it finished; it resumes from here.
#[derive(Debug, Clone, PartialEq, Serialize)]
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

/// What can go wrong with the installed models.
#[derive(Debug, thiserror::Error)]
pub enum LibraryError {
    /// No installed model (or catalog entry) has this id.
    #[error("no model {0:?} is installed")]
    NotFound(String),
    /// The file is not a usable model or projector.
    #[error("{0}")]
    Invalid(String),
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

/// How an imported file is kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ImportMode {
    /// Copy it into the models folder (the original may then be moved or deleted).
    Copy,
    /// Use it where it lies (no disk space used; moving it breaks the model).
    Link,
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
            if let Some(model) = self.read(&folder)? {
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
        self.read(&folder)?.ok_or_else(|| LibraryError::NotFound(id.to_owned()))
    }

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

    /// Deletes an installed model's folder (a linked import's own files are left alone), or the
    /// partial files of a stopped download.
    pub fn delete(&self, id: &str) -> Result<(), LibraryError> {
        let folder = self.folder(id)?;
        if !folder.exists() {
            return Err(LibraryError::NotFound(id.to_owned()));
        }
        std::fs::remove_dir_all(&folder).map_err(io(&folder))
    }

    /// Downloads a catalog model (with its projector when `with_mmproj`), verifies it, checks its
    /// GGUF headers, and records it. A download that stops leaves its partial files to resume.
    pub async fn install(
        &self,
        catalog: &Catalog,
        model: &CatalogModel,
        with_mmproj: bool,
        options: &DownloadOptions,
        signal: tokio::sync::watch::Receiver<Signal>,
        on_progress: impl FnMut(&download::Progress),
    ) -> Result<InstalledModel, LibraryError> {
        let folder = self.folder(&model.id)?;
        tokio::fs::create_dir_all(&folder).await.map_err(io(&folder))?;
        // A folder whose manifest is missing may hold finished files from an interrupted
        // install: put them back as partial files, so the download checks them again.
        if !folder.join(MANIFEST).exists() {
            for file in std::iter::once(&model.file).chain(&model.mmproj) {
                let dest = folder.join(&file.name);
                if dest.exists() {
                    let _ = tokio::fs::rename(&dest, download::part_path(&dest)).await;
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
        let verified = download::download(&files, options, signal, on_progress).await?;
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
            installed_at: now(),
        };
        self.record(&folder, &manifest)
    }

    /// Imports the user's GGUF (and projector): validates both, checks that they belong together,
    /// and copies them in or records where they lie.
    pub fn import(
        &self,
        model: &Path,
        mmproj: Option<&Path>,
        mode: ImportMode,
    ) -> Result<InstalledModel, LibraryError> {
        let (info, projector) = check_pair(model, mmproj)?;
        let name =
            info.name.clone().unwrap_or_else(|| model.file_stem().unwrap_or_default().to_string_lossy().into_owned());
        let id = self.free_id(&slug(&name));
        let folder = self.dir.join(&id);
        std::fs::create_dir_all(&folder).map_err(io(&folder))?;
        let keep = |source: &Path| -> Result<InstalledFile, LibraryError> {
            let bytes = std::fs::metadata(source).map_err(io(source))?.len();
            let path = match mode {
                ImportMode::Link => std::fs::canonicalize(source).map_err(io(source))?,
                ImportMode::Copy => {
                    let name = PathBuf::from(source.file_name().unwrap_or_default());
                    copy_in(source, &folder.join(&name), bytes)?;
                    name
                }
            };
            Ok(InstalledFile { path, bytes, sha256: None, sha256_published: false })
        };
        let installed = (|| {
            let model_file = keep(model)?;
            let mmproj_file = mmproj.map(keep).transpose()?;
            let manifest = Installed {
                id: id.clone(),
                name,
                source: if mode == ImportMode::Copy { Source::Copied } else { Source::Linked },
                model: model_file,
                mmproj: mmproj_file,
                description: describe(&info, projector.as_ref()),
                installed_at: now(),
            };
            self.record(&folder, &manifest)
        })();
        if installed.is_err() {
            let _ = std::fs::remove_dir_all(&folder);
        }
        installed
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

    fn read(&self, folder: &Path) -> Result<Option<InstalledModel>, LibraryError> {
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

    fn record(&self, folder: &Path, manifest: &Installed) -> Result<InstalledModel, LibraryError> {
        let path = folder.join(MANIFEST);
        let temporary = folder.join(format!("{MANIFEST}.tmp"));
        let text = serde_json::to_string_pretty(manifest).expect("manifests serialize");
        std::fs::write(&temporary, text).map_err(io(&temporary))?;
        std::fs::rename(&temporary, &path).map_err(io(&path))?;
        self.read(folder)?.ok_or_else(|| LibraryError::NotFound(manifest.id.clone()))
    }

    fn free_id(&self, base: &str) -> String {
        let mut id = base.to_owned();
        let mut n = 2;
        while self.dir.join(&id).exists() {
            id = format!("{base}-{n}");
            n += 1;
        }
        id
    }
}

/// Validates a model file and its projector and checks that the projector feeds this model.
pub fn check_pair(model: &Path, mmproj: Option<&Path>) -> Result<(GgufInfo, Option<GgufInfo>), LibraryError> {
    let info = inspect(model).map_err(|error| LibraryError::Invalid(error.to_string()))?;
    if info.is_projector {
        return Err(LibraryError::Invalid(format!(
            "{} is a projector (mmproj), not a model; choose the model file, and this one as its projector",
            model.display()
        )));
    }
    let Some(mmproj) = mmproj else { return Ok((info, None)) };
    let projector = inspect(mmproj).map_err(|error| LibraryError::Invalid(error.to_string()))?;
    if !projector.is_projector {
        return Err(LibraryError::Invalid(format!(
            "{} is not a projector (mmproj) but a {} model",
            mmproj.display(),
            projector.architecture
        )));
    }
    if let (Some(width), Some(projects_to)) = (info.embedding_length, projector.projection_dim)
        && width != projects_to
    {
        return Err(LibraryError::Invalid(format!(
            "{} does not belong to {}: it feeds a model {projects_to} wide, and this model is {width} wide",
            mmproj.display(),
            model.display()
        )));
    }
    Ok((info, Some(projector)))
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

/// Copies a file in under a temporary name and renames it once complete.
fn copy_in(source: &Path, dest: &Path, bytes: u64) -> Result<(), LibraryError> {
    let dir = dest.parent().unwrap_or(Path::new("."));
    let available = fs4::available_space(dir).map_err(io(dir))?;
    if bytes > available {
        return Err(LibraryError::Invalid(format!(
            "not enough disk space to copy {}: it needs {bytes} bytes and {available} are free; import it where it lies instead",
            source.display()
        )));
    }
    let temporary = download::part_path(dest);
    let copied = std::fs::copy(source, &temporary).and_then(|_| std::fs::File::open(&temporary)?.sync_all());
    if let Err(error) = copied {
        let _ = std::fs::remove_file(&temporary);
        return Err(LibraryError::Io { path: dest.to_path_buf(), source: error });
    }
    std::fs::rename(&temporary, dest).map_err(io(dest))
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

fn dir_bytes(folder: &Path) -> u64 {
    std::fs::read_dir(folder)
        .map(|entries| {
            entries.flatten().filter_map(|entry| entry.metadata().ok()).filter(|m| m.is_file()).map(|m| m.len()).sum()
        })
        .unwrap_or(0)
}

/// A folder name from a model's name: lowercase letters, digits and dashes.
fn slug(name: &str) -> String {
    let mut slug = String::new();
    for c in name.chars() {
        if c.is_ascii_alphanumeric() || c == '.' {
            slug.push(c.to_ascii_lowercase());
        } else if !slug.ends_with('-') {
            slug.push('-');
        }
    }
    let slug = slug.trim_matches(['-', '.']).to_owned();
    if slug.is_empty() { "model".into() } else { slug }
}

fn now() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

#[cfg(test)]
mod tests {
    use super::slug;

    #[test]
    fn slugs_are_plain_folder_names() {
        assert_eq!(slug("Gemma 3 270M"), "gemma-3-270m");
        assert_eq!(slug("../../etc/passwd"), "etc-passwd");
        assert_eq!(slug("..."), "model");
    }
}

//! Importing the user's own GGUF files: both are validated, the projector must feed the model,
//! and they are copied into the models folder or used where they lie.

use std::path::{Path, PathBuf};

use gemma_desk_engine::{GgufInfo, inspect};
use serde::{Deserialize, Serialize};
use ts_rs::TS;

use super::manifest::{Installed, InstalledFile, InstalledModel, Source, describe, record};
use super::{Library, LibraryError, io};
use crate::download::part_path;

/// How an imported file is kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum ImportMode {
    /// Copy it into the models folder (the original may then be moved or deleted).
    Copy,
    /// Use it where it lies (no disk space used; moving it breaks the model).
    Link,
}

impl Library {
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
                installed_at: 0, // stamped by `record`
            };
            record(&folder, manifest)
        })();
        if installed.is_err() {
            let _ = std::fs::remove_dir_all(&folder);
        }
        installed
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

/// Copies a file in under a temporary name and renames it once complete.
fn copy_in(source: &Path, dest: &Path, bytes: u64) -> Result<(), LibraryError> {
    let dir = dest.parent().unwrap_or(Path::new("."));
    let available = fs4::available_space(dir).map_err(io(dir))?;
    if bytes > available {
        return Err(LibraryError::NoSpace(format!(
            "not enough disk space to copy {}: it needs {bytes} bytes and {available} are free; import it where it lies instead",
            source.display()
        )));
    }
    let temporary = part_path(dest);
    let copied = std::fs::copy(source, &temporary).and_then(|_| std::fs::File::open(&temporary)?.sync_all());
    if let Err(error) = copied {
        let _ = std::fs::remove_file(&temporary);
        return Err(LibraryError::Io { path: dest.to_path_buf(), source: error });
    }
    std::fs::rename(&temporary, dest).map_err(io(dest))
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

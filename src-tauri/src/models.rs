//! The commands that get models: what this machine can run, the catalog with a verdict for each
//! model, downloads with progress, imports, and the installed models.

use std::path::PathBuf;

use gemma_desk_chat::{EngineStatus, ModelChoice};
use gemma_desk_models::library::InstalledModel;
use gemma_desk_models::{
    Capability, CatalogModel, Control, DEFAULT_CONTEXT, DownloadError, DownloadOptions, Fit, Hardware, ImportMode,
    LibraryError, PartialDownload, Progress, Recommendation, Use, fit, recommend,
};
use serde::Serialize;
use tauri::State;
use tauri::ipc::Channel;

use crate::commands;
use crate::error::{AppError, CommandResult};
use crate::state::AppState;

/// The environment variable with a Hugging Face token, used when the settings hold none.
const HF_TOKEN_ENV: &str = "HF_TOKEN";

/// Everything the model screens show.
#[derive(Serialize)]
pub struct ModelsOverview {
    hardware: Hardware,
    recommendations: Recommendations,
    catalog: Vec<CatalogView>,
    installed: Vec<InstalledView>,
    partial: Vec<PartialDownload>,
    downloading: Vec<String>,
    models_dir: PathBuf,
}

/// The recommended model for each use.
#[derive(Serialize)]
pub struct Recommendations {
    text: Recommendation,
    vision: Recommendation,
    voice: Recommendation,
}

/// A catalog model with its verdict for this machine.
#[derive(Serialize)]
pub struct CatalogView {
    id: String,
    name: String,
    family: String,
    caps: Vec<Capability>,
    context: u32,
    licence: LicenceView,
    download_bytes: u64,
    files: Vec<FileView>,
    /// Judged with its projector, which is downloaded with it.
    fit: Fit,
}

#[derive(Serialize)]
pub struct LicenceView {
    id: gemma_desk_models::Licence,
    name: &'static str,
    url: &'static str,
}

#[derive(Serialize)]
pub struct FileView {
    name: String,
    bytes: Option<u64>,
    sha256: Option<String>,
}

/// An installed model, and whether it is the one chosen.
#[derive(Serialize)]
pub struct InstalledView {
    #[serde(flatten)]
    model: InstalledModel,
    is_default: bool,
}

/// How a download ended, when it did not fail.
#[derive(Serialize)]
pub struct DownloadOutcome {
    status: DownloadStatus,
    /// The installed model, when it was installed.
    model: Option<InstalledModel>,
}

#[derive(Serialize)]
#[serde(rename_all = "snake_case")]
enum DownloadStatus {
    /// Verified and installed.
    Installed,
    /// Paused: the partial files wait for a resume.
    Paused,
    /// Cancelled: the partial files are gone.
    Cancelled,
}

impl From<LibraryError> for AppError {
    fn from(error: LibraryError) -> AppError {
        let code = match &error {
            LibraryError::NotFound(_) => "not_found",
            LibraryError::Invalid(_) => "bad_input",
            LibraryError::Download(_) => "download",
            LibraryError::Io { .. } => "io",
        };
        AppError { code, message: error.to_string() }
    }
}

#[tauri::command]
pub async fn models_overview(state: State<'_, AppState>) -> CommandResult<ModelsOverview> {
    let models = &state.models;
    let hardware = models.hardware().await.clone();
    let recommend_for = |usage| recommend(&models.catalog, &hardware, usage, DEFAULT_CONTEXT);
    let recommendations = Recommendations {
        text: recommend_for(Use::Text),
        vision: recommend_for(Use::Vision),
        voice: recommend_for(Use::Voice),
    };
    let catalog = models.catalog.models.iter().map(|model| catalog_view(model, &hardware)).collect();
    let chosen = state.settings().model.map(|choice| choice.model);
    let installed = models
        .library
        .list()?
        .into_iter()
        .map(|model| InstalledView { is_default: chosen.as_ref() == Some(&model.model_path), model })
        .collect();
    let mut downloading: Vec<String> =
        models.downloads.lock().unwrap_or_else(|p| p.into_inner()).keys().cloned().collect();
    downloading.sort();
    Ok(ModelsOverview {
        hardware,
        recommendations,
        catalog,
        installed,
        partial: models.library.partial_downloads()?,
        downloading,
        models_dir: models.library.dir().to_path_buf(),
    })
}

fn catalog_view(model: &CatalogModel, hardware: &Hardware) -> CatalogView {
    let usage = if model.can(Capability::Audio) {
        Use::Voice
    } else if model.can(Capability::Vision) {
        Use::Vision
    } else {
        Use::Text
    };
    CatalogView {
        id: model.id.clone(),
        name: model.name.clone(),
        family: model.family.clone(),
        caps: model.caps.clone(),
        context: model.context,
        licence: LicenceView { id: model.licence, name: model.licence.name(), url: model.licence.url() },
        download_bytes: model.download_bytes(),
        files: std::iter::once(&model.file)
            .chain(&model.mmproj)
            .map(|file| FileView {
                name: file.name.clone(),
                bytes: file.bytes,
                sha256: file.sha256().map(str::to_owned),
            })
            .collect(),
        fit: fit(model, hardware, usage, DEFAULT_CONTEXT),
    }
}

/// Removes a download from the running ones when it ends, however it ends.
struct Running<'a> {
    state: &'a AppState,
    id: String,
}

impl Drop for Running<'_> {
    fn drop(&mut self) {
        self.state.models.downloads.lock().unwrap_or_else(|p| p.into_inner()).remove(&self.id);
    }
}

#[tauri::command]
pub async fn download_model(
    state: State<'_, AppState>,
    id: String,
    with_mmproj: bool,
    accept_licence: bool,
    on_progress: Channel<Progress>,
) -> CommandResult<DownloadOutcome> {
    let models = &state.models;
    let model =
        models.catalog.get(&id).ok_or_else(|| AppError::bad_input(format!("the catalog has no model {id:?}")))?;
    if !accept_licence {
        return Err(AppError::bad_input(format!(
            "{} is published under the {}; accept it to download the model",
            model.name,
            model.licence.name()
        )));
    }
    // Downloading over an installed model would replace it, and a cancel would delete it.
    if models.library.get(&id).is_ok() {
        return Err(AppError::bad_input(format!("{} is already installed", model.name)));
    }
    let (control, signal) = Control::new();
    {
        let mut downloads = models.downloads.lock().unwrap_or_else(|p| p.into_inner());
        if downloads.contains_key(&id) {
            return Err(AppError { code: "busy", message: format!("{} is already downloading", model.name) });
        }
        downloads.insert(id.clone(), control);
    }
    let _running = Running { state: &state, id: id.clone() };
    let token = state.settings().hf_token.or_else(|| std::env::var(HF_TOKEN_ENV).ok()).filter(|t| !t.is_empty());
    let options = DownloadOptions { token, ..DownloadOptions::default() };
    tracing::info!(model = %id, "download starts");
    let result = models
        .library
        .install(&models.catalog, model, with_mmproj, &options, signal, |progress| {
            let _ = on_progress.send(progress.clone());
        })
        .await;
    match result {
        Ok(model) => {
            tracing::info!(model = %id, "download verified and installed");
            Ok(DownloadOutcome { status: DownloadStatus::Installed, model: Some(model) })
        }
        Err(LibraryError::Download(DownloadError::Paused)) => {
            Ok(DownloadOutcome { status: DownloadStatus::Paused, model: None })
        }
        Err(LibraryError::Download(DownloadError::Cancelled)) => {
            // What is left of the model's folder (an empty one) goes too.
            let _ = models.library.delete(&id);
            Ok(DownloadOutcome { status: DownloadStatus::Cancelled, model: None })
        }
        Err(error) => {
            tracing::warn!(model = %id, "download failed: {error}");
            Err(error.into())
        }
    }
}

#[tauri::command]
pub fn pause_download(state: State<'_, AppState>, id: String) -> CommandResult<()> {
    let downloads = state.models.downloads.lock().unwrap_or_else(|p| p.into_inner());
    let control = downloads.get(&id).ok_or_else(|| not_downloading(&id))?;
    control.pause();
    Ok(())
}

#[tauri::command]
pub fn cancel_download(state: State<'_, AppState>, id: String) -> CommandResult<()> {
    let running = state.models.downloads.lock().unwrap_or_else(|p| p.into_inner()).get(&id).cloned();
    match running {
        Some(control) => control.cancel(),
        // A paused download (or one from before a restart): discard its partial files.
        None => {
            let partial = state.models.library.partial_downloads()?.into_iter().any(|p| p.id == id);
            if !partial {
                return Err(not_downloading(&id));
            }
            state.models.library.delete(&id)?;
        }
    }
    Ok(())
}

fn not_downloading(id: &str) -> AppError {
    AppError { code: "not_found", message: format!("{id:?} is not downloading") }
}

#[tauri::command]
pub async fn use_model(state: State<'_, AppState>, id: String) -> CommandResult<EngineStatus> {
    let model = state.models.library.get(&id)?;
    if let Some(missing) = model.missing.first() {
        return Err(AppError::bad_input(format!("{} is missing its file {}", model.manifest.name, missing.display())));
    }
    let choice = ModelChoice { model: model.model_path, mmproj: model.mmproj_path };
    commands::load_model(state, choice).await
}

#[tauri::command]
pub fn delete_model(state: State<'_, AppState>, id: String) -> CommandResult<()> {
    let model = state.models.library.get(&id)?;
    let in_use = |path: &PathBuf| *path == model.model_path;
    let chosen = state.settings().model.is_some_and(|choice| in_use(&choice.model));
    let loaded = state.chat.engine_status().choice.is_some_and(|choice| in_use(&choice.model));
    if chosen || loaded {
        return Err(AppError::bad_input(format!(
            "{} is the model in use; choose another one before deleting it",
            model.manifest.name
        )));
    }
    tracing::info!(model = %id, "deleting an installed model");
    Ok(state.models.library.delete(&id)?)
}

#[tauri::command]
pub async fn import_model(
    state: State<'_, AppState>,
    model: PathBuf,
    mmproj: Option<PathBuf>,
    mode: ImportMode,
) -> CommandResult<InstalledModel> {
    commands::check_absolute("file", std::iter::once(&model).chain(&mmproj))?;
    let library = state.models.library.clone();
    let imported = tokio::task::spawn_blocking(move || library.import(&model, mmproj.as_deref(), mode))
        .await
        .unwrap_or_else(|panic| std::panic::resume_unwind(panic.into_panic()))?;
    tracing::info!(model = %imported.manifest.id, "model imported");
    Ok(imported)
}

//! The commands that get models: what this machine can run, the catalog with a verdict for each
//! model, downloads with progress, imports, and the installed models.

use std::path::PathBuf;

use gemma_desk_chat::{EngineStatus, ModelChoice};
use gemma_desk_models::library::InstalledModel;
use gemma_desk_models::{
    Capability, CatalogModel, DEFAULT_CONTEXT, DownloadError, DownloadOptions, DownloadOutcome, Fit, Hardware,
    ImportMode, LibraryError, PartialDownload, Progress, Recommendation, Source, Use, fit, hf_token, recommend,
};
use serde::Serialize;
use tauri::State;
use tauri::ipc::Channel;
use ts_rs::TS;

use crate::commands;
use crate::error::{AppError, CommandResult, ErrorCode};
use crate::state::AppState;

/// Everything the model screens show.
#[derive(Serialize, TS)]
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
#[derive(Serialize, TS)]
pub struct Recommendations {
    text: Recommendation,
    vision: Recommendation,
    voice: Recommendation,
}

/// A catalog model with its verdict for this machine.
#[derive(Serialize, TS)]
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

/// A model's licence: its id, its name and where to read it.
#[derive(Serialize, TS)]
pub struct LicenceView {
    id: gemma_desk_models::Licence,
    name: &'static str,
    url: &'static str,
}

/// A file of a catalog model, with its published size and hash when known.
#[derive(Serialize, TS)]
pub struct FileView {
    name: String,
    bytes: Option<u64>,
    sha256: Option<String>,
}

/// An installed model, and whether it is the one chosen.
#[derive(Serialize, TS)]
pub struct InstalledView {
    #[serde(flatten)]
    model: InstalledModel,
    is_default: bool,
}

impl From<LibraryError> for AppError {
    fn from(error: LibraryError) -> AppError {
        let disk_full = |source: &std::io::Error| source.kind() == std::io::ErrorKind::StorageFull;
        let code = match &error {
            LibraryError::NotFound(_) | LibraryError::NotDownloading(_) => ErrorCode::NotFound,
            LibraryError::Busy(_) => ErrorCode::Busy,
            LibraryError::Invalid(_) => ErrorCode::BadInput,
            LibraryError::NoSpace(_) => ErrorCode::NoSpace,
            LibraryError::Io { source, .. } if disk_full(source) => ErrorCode::NoSpace,
            LibraryError::Io { .. } => ErrorCode::Io,
            LibraryError::Download(download) => match download {
                DownloadError::Paused | DownloadError::Cancelled => ErrorCode::Cancelled,
                DownloadError::NotFound { .. } => ErrorCode::NotFound,
                DownloadError::Unauthorized { .. } => ErrorCode::Unauthorized,
                DownloadError::Network { .. } => ErrorCode::Network,
                DownloadError::NoSpace { .. } => ErrorCode::NoSpace,
                DownloadError::Io { source, .. } if disk_full(source) => ErrorCode::NoSpace,
                DownloadError::SizeMismatch { .. } | DownloadError::HashMismatch { .. } => ErrorCode::HashMismatch,
                DownloadError::Http { .. } | DownloadError::Client(_) | DownloadError::Io { .. } => ErrorCode::Download,
            },
        };
        AppError::new(code, error.to_string())
    }
}

#[tauri::command]
pub async fn models_overview(state: State<'_, AppState>) -> CommandResult<ModelsOverview> {
    let models = &state.models;
    let library = models.library.list()?;
    let mut hardware = models.hardware().await.clone();
    hardware.decode_bytes_per_second_seen = decode_speed_seen(&state, &library).await;
    let recommend_for = |usage| recommend(&models.catalog, &hardware, usage, DEFAULT_CONTEXT);
    let recommendations = Recommendations {
        text: recommend_for(Use::Text),
        vision: recommend_for(Use::Vision),
        voice: recommend_for(Use::Voice),
    };
    let catalog = models.catalog.models.iter().map(|model| catalog_view(model, &hardware)).collect();
    let chosen = state.settings().model.map(|choice| choice.model);
    let installed = library
        .into_iter()
        .map(|model| InstalledView { is_default: chosen.as_ref() == Some(&model.model_path), model })
        .collect();
    let downloading = models.downloads.running();
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

/// Replies' speeds looked at for [`decode_speed_seen`].
const RECENT_REPLIES: u32 = 20;

/// The median over recent replies of their tokens per second times the bytes their model reads
/// per token (its file, scaled by the catalog's active share for a mixture of experts): what
/// decoding really reaches on this machine. `None` before any reply whose model is known here.
async fn decode_speed_seen(state: &AppState, library: &[InstalledModel]) -> Option<f64> {
    let speeds = state.chat.store().recent_decode_speeds(RECENT_REPLIES).await.ok()?;
    let chosen = state.settings().model.map(|choice| choice.model);
    let bytes_per_token = |name: &str| -> Option<f64> {
        let named = |path: &PathBuf| path.file_name().is_some_and(|file| file.to_string_lossy() == name);
        let installed = library.iter().find(|model| named(&model.model_path));
        let path = installed.map(|model| model.model_path.clone()).or_else(|| chosen.clone().filter(named))?;
        let bytes = std::fs::metadata(&path).ok()?.len() as f64;
        // A catalog download's folder is named by its catalog id.
        let active = installed
            .filter(|model| model.manifest.source == Source::Catalog)
            .and_then(|model| state.models.catalog.get(&model.manifest.id))
            .map_or(1.0, |model| model.active_fraction);
        Some(bytes * active)
    };
    let mut seen: Vec<f64> = speeds
        .iter()
        .filter_map(|(model, tps)| Some(tps * bytes_per_token(model)?))
        .filter(|b| b.is_finite())
        .collect();
    if seen.is_empty() {
        return None;
    }
    seen.sort_by(f64::total_cmp);
    Some(seen[seen.len() / 2])
}

fn catalog_view(model: &CatalogModel, hardware: &Hardware) -> CatalogView {
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
        fit: fit(model, hardware, DEFAULT_CONTEXT),
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
    let options = DownloadOptions { token: hf_token(state.settings().hf_token), ..DownloadOptions::default() };
    tracing::info!(model = %id, "download starts");
    let outcome = models
        .downloads
        .install(&models.library, &models.catalog, &id, with_mmproj, accept_licence, &options, |progress| {
            let _ = on_progress.send(progress.clone());
        })
        .await;
    match &outcome {
        Ok(outcome) => tracing::info!(model = %id, status = ?outcome.status, "download ended"),
        Err(error) => tracing::warn!(model = %id, "download failed: {error}"),
    }
    Ok(outcome?)
}

#[tauri::command]
pub fn pause_download(state: State<'_, AppState>, id: String) -> CommandResult<()> {
    Ok(state.models.downloads.pause(&id)?)
}

#[tauri::command]
pub fn cancel_download(state: State<'_, AppState>, id: String) -> CommandResult<()> {
    Ok(state.models.downloads.cancel(&state.models.library, &id)?)
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

//! Start-up that never dies silently. When the conversations cannot be opened (a damaged or
//! foreign database, a data folder that cannot be written, a newer schema, another app using
//! them) the window still opens, on a recovery screen that explains the problem and offers the
//! ways out: try again, choose another data folder, set the database aside and start with an
//! empty one, or quit. Nothing is modified or deleted unless the user chooses it.

use std::path::{Path, PathBuf};

use gemma_desk_chat::ModelChoice;
use gemma_desk_engine::WorkerCommand;
use gemma_desk_settings::{Settings, SettingsNotice, first_free_path};
use serde::{Deserialize, Serialize};
use tauri::{AppHandle, Manager, Runtime, State};
use ts_rs::TS;

use crate::error::{AppError, CommandResult};
use crate::state::{AppPaths, AppState};
use crate::{commands, dialogs};

/// Why the conversations could not be opened, as the recovery screen shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
pub struct StartupProblem {
    /// What went wrong and what it means, in words.
    pub message: String,
    /// The data folder that was being opened, when there is one.
    pub data_dir: Option<PathBuf>,
    /// The database file that can be set aside, when the file itself is the problem.
    pub damaged_file: Option<PathBuf>,
}

/// A way out of a [`StartupProblem`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum Recovery {
    /// Open the same folder again (after closing another app, or freeing disk space).
    Retry,
    /// Choose another data folder; it is remembered once it opens.
    OtherFolder,
    /// Rename the database (and its journal files) to `<name>.damaged`, byte for byte, and
    /// start with an empty one.
    SetAside,
    /// Quit the app.
    Quit,
}

/// What the app needs to open its state, kept until it has.
pub struct Startup {
    pending: tokio::sync::Mutex<Pending>,
}

struct Pending {
    paths: AppPaths,
    settings: Settings,
    settings_notice: Option<SettingsNotice>,
    worker: WorkerCommand,
    /// The model to load once the state is open.
    model: Option<ModelChoice>,
    /// `None` once the state is open.
    problem: Option<StartupProblem>,
}

impl Startup {
    /// Ready to open the conversations with these settings.
    pub fn new(
        paths: AppPaths,
        settings: Settings,
        settings_notice: Option<SettingsNotice>,
        worker: WorkerCommand,
        model: Option<ModelChoice>,
    ) -> Startup {
        let pending = Pending { paths, settings, settings_notice, worker, model, problem: None };
        Startup { pending: tokio::sync::Mutex::new(pending) }
    }

    /// Opens the app's state and hands it to `app` (which starts loading the chosen model); the
    /// problem when it could not.
    pub async fn open<R: Runtime>(&self, app: &AppHandle<R>) -> Option<StartupProblem> {
        let mut pending = self.pending.lock().await;
        open_state(app, &mut pending).await
    }

    /// What keeps the conversations from opening, if anything does.
    pub async fn problem(&self) -> Option<StartupProblem> {
        self.pending.lock().await.problem.clone()
    }

    /// Takes the way out the user chose; the problem that remains, or `None` once the app's
    /// state is open.
    pub async fn recover<R: Runtime>(
        &self,
        app: &AppHandle<R>,
        recovery: Recovery,
    ) -> CommandResult<Option<StartupProblem>> {
        let mut pending = self.pending.lock().await;
        let Some(problem) = pending.problem.clone() else { return Ok(None) };
        match recovery {
            Recovery::Quit => {
                app.exit(0);
                return Ok(Some(problem));
            }
            Recovery::Retry => {}
            Recovery::SetAside => {
                let file = problem.damaged_file.as_deref().ok_or_else(|| {
                    AppError::bad_input("there is no damaged database to set aside; choose another way out")
                })?;
                let aside = set_aside(file)
                    .map_err(|e| AppError::io(format!("could not set {} aside: {e}", file.display())))?;
                tracing::warn!(file = %file.display(), aside = %aside.display(), "the database was set aside");
            }
            Recovery::OtherFolder => {
                let Some(folder) = dialogs::pick_folder(app, "Choose a folder for your conversations").await? else {
                    return Ok(Some(problem));
                };
                pending.settings.data_dir = Some(folder);
            }
        }
        let problem = open_state(app, &mut pending).await;
        if problem.is_none() && recovery == Recovery::OtherFolder {
            let state = app.state::<AppState>();
            state.save_settings(pending.settings.clone())?;
        }
        Ok(problem)
    }
}

/// Opens the state; on success it is managed by `app` and the chosen model starts loading.
async fn open_state<R: Runtime>(app: &AppHandle<R>, pending: &mut Pending) -> Option<StartupProblem> {
    let opened = AppState::open(pending.paths.clone(), pending.settings.clone(), pending.worker.clone()).await;
    let mut state = match opened {
        Ok(state) => state,
        Err(problem) => {
            tracing::error!(problem = %problem.message, "the conversations could not be opened");
            pending.problem = Some(problem.clone());
            return Some(problem);
        }
    };
    state.settings_notice = pending.settings_notice.take();
    if let Some(choice) = &pending.model {
        state.chat.announce_load(choice);
    }
    app.manage(state);
    pending.problem = None;
    if let Some(choice) = pending.model.take() {
        // Loads while the window opens; the window follows the engine's status until ready.
        let app = app.clone();
        tauri::async_runtime::spawn(async move {
            if let Err(error) = commands::load_model(app.state::<AppState>(), choice).await {
                tracing::warn!("the chosen model did not load: {}", error.message);
            }
        });
    }
    None
}

/// Renames `file` and the journal files SQLite keeps beside it to the first free
/// `<name>.damaged[-N]` (`-wal` and `-shm` follow, so the set-aside copy still opens whole).
fn set_aside(file: &Path) -> std::io::Result<PathBuf> {
    let name = file.file_name().unwrap_or_default().to_string_lossy().into_owned();
    let aside = first_free_path(|n| {
        let suffix = if n == 1 { String::new() } else { format!("-{n}") };
        file.with_file_name(format!("{name}.damaged{suffix}"))
    });
    std::fs::rename(file, &aside)?;
    for journal in ["-wal", "-shm"] {
        let from = file.with_file_name(format!("{name}{journal}"));
        if from.exists() {
            let aside_name = aside.file_name().unwrap_or_default().to_string_lossy().into_owned();
            std::fs::rename(&from, aside.with_file_name(format!("{aside_name}{journal}")))?;
        }
    }
    Ok(aside)
}

#[tauri::command]
pub async fn startup_problem(startup: State<'_, Startup>) -> CommandResult<Option<StartupProblem>> {
    Ok(startup.problem().await)
}

#[tauri::command]
pub async fn recover_startup<R: Runtime>(
    app: AppHandle<R>,
    startup: State<'_, Startup>,
    recovery: Recovery,
) -> CommandResult<Option<StartupProblem>> {
    startup.recover(&app, recovery).await
}

//! What the running app holds: the chat (store + engine), the settings and where things are.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, PoisonError};

use gemma_desk_chat::{Chat, Settings};
use gemma_desk_engine::WorkerCommand;
use gemma_desk_store::Store;

/// The file in the data folder that one running app holds locked.
const LOCK_FILE: &str = "gemma-desk.lock";

/// Where the app keeps its files.
#[derive(Debug, Clone)]
pub struct AppPaths {
    /// The settings file.
    pub settings: PathBuf,
    /// The current log file's folder.
    pub logs: PathBuf,
}

/// The app's state, shared by every command.
pub struct AppState {
    /// Conversations and the engine.
    pub chat: Chat,
    settings: Mutex<Settings>,
    /// Where things are.
    pub paths: AppPaths,
    /// The conversations folder in use.
    pub data_dir: PathBuf,
    /// Held for the app's life so that a second app cannot write the same conversations.
    _data_lock: File,
}

impl AppState {
    /// Opens the conversations in the data folder the settings name (or the platform's), locks
    /// it against a second app, and readies an engine that is started with `worker`.
    pub async fn open(paths: AppPaths, settings: Settings, worker: WorkerCommand) -> Result<AppState, String> {
        let data_dir = match &settings.data_dir {
            Some(dir) => dir.clone(),
            None => Store::default_data_dir()
                .ok_or("no data folder could be found for this user; set one in the settings")?,
        };
        let data_lock = lock_data_dir(&data_dir)?;
        let store = Store::open(&data_dir).await.map_err(|error| error.to_string())?;
        if store.recovered_replies() > 0 {
            tracing::warn!(
                count = store.recovered_replies(),
                "replies cut short by the last exit were marked interrupted"
            );
        }
        let chat = Chat::new(store, worker);
        Ok(AppState { chat, settings: Mutex::new(settings), paths, data_dir, _data_lock: data_lock })
    }

    /// The settings now.
    pub fn settings(&self) -> Settings {
        self.settings.lock().unwrap_or_else(PoisonError::into_inner).clone()
    }

    /// Validates, saves and adopts new settings.
    pub fn save_settings(&self, settings: Settings) -> Result<(), gemma_desk_chat::SettingsError> {
        let mut current = self.settings.lock().unwrap_or_else(PoisonError::into_inner);
        settings.save(&self.paths.settings)?;
        *current = settings;
        Ok(())
    }
}

fn lock_data_dir(dir: &Path) -> Result<File, String> {
    std::fs::create_dir_all(dir).map_err(|e| format!("cannot create the data folder {}: {e}", dir.display()))?;
    let path = dir.join(LOCK_FILE);
    let file = File::options()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .map_err(|e| format!("cannot open {}: {e}", path.display()))?;
    match file.try_lock() {
        Ok(()) => Ok(file),
        Err(std::fs::TryLockError::WouldBlock) => {
            Err(format!("another Gemma Desk is already using the conversations in {}; close it first", dir.display()))
        }
        Err(std::fs::TryLockError::Error(e)) => Err(format!("cannot lock {}: {e}", path.display())),
    }
}

//! What the running app holds: the chat (store + engine), the settings and where things are.

use std::path::{Path, PathBuf};
use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use gemma_desk_chat::{Chat, EngineTuning, ModelChoice};
use gemma_desk_engine::{WorkerCommand, probe_devices};
use gemma_desk_models::fit::ModelShape;
use gemma_desk_models::{Catalog, Downloads, Hardware, Library};
use gemma_desk_settings::{Settings, SettingsError, SettingsNotice};
use gemma_desk_store::{DatabaseLock, Store, StoreError};

use crate::startup::StartupProblem;

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
    /// The models: catalog, installed ones, downloads and the hardware they run on.
    pub models: Models,
    /// What loading the settings file repaired, for the window to say.
    pub settings_notice: Option<SettingsNotice>,
    /// Held for the app's life so that a second app cannot write the same conversations.
    _data_lock: DatabaseLock,
}

/// Everything about getting models.
pub struct Models {
    /// The models on offer.
    pub catalog: Catalog,
    /// The installed models, in `<data folder>/models`.
    pub library: Library,
    /// The running downloads.
    pub downloads: Downloads,
    hardware: tokio::sync::OnceCell<Hardware>,
    device_probe: WorkerCommand,
}

impl Models {
    /// The machine, probed on first use (the GPU check runs in a child process).
    pub async fn hardware(&self) -> &Hardware {
        self.hardware
            .get_or_init(|| async {
                let probe = self.device_probe.clone();
                // The GPU check runs in a child process, and the memory speed is measured: both
                // off the async threads.
                let hardware = tokio::task::spawn_blocking(move || {
                    let devices = probe_devices(&probe, Duration::from_secs(30));
                    if let Err(death) = &devices {
                        tracing::warn!("the GPU check failed, so models run on the CPU: {death}");
                    }
                    Hardware::probe(devices.map_err(|death| format!("the GPU check failed: {death}")))
                });
                let hardware = hardware.await.unwrap_or_else(|panic| std::panic::resume_unwind(panic.into_panic()));
                tracing::info!(
                    cores = hardware.cpu_cores,
                    memory_read_gb_per_s = hardware.memory_read_bytes_per_second / 1e9,
                    "hardware probed"
                );
                hardware
            })
            .await
    }

    /// Uses `catalog` instead of the one the app started with (tests serve their own).
    pub fn set_catalog(&mut self, catalog: Catalog) {
        self.catalog = catalog;
    }
}

impl AppState {
    /// Opens the conversations in the data folder the settings name (or the platform's), locks
    /// it against a second app, and readies an engine that is started with `worker`. What keeps
    /// the conversations from opening is a [`StartupProblem`] for the recovery screen.
    pub async fn open(paths: AppPaths, settings: Settings, worker: WorkerCommand) -> Result<AppState, StartupProblem> {
        let problem = |message: String, data_dir: Option<&Path>, damaged_file: Option<PathBuf>| StartupProblem {
            message,
            data_dir: data_dir.map(Path::to_path_buf),
            damaged_file,
        };
        let data_dir = match &settings.data_dir {
            Some(dir) => dir.clone(),
            None => Store::default_data_dir()
                .ok_or_else(|| problem("no data folder could be found for this user; choose one".into(), None, None))?,
        };
        let database = Store::database_in(&data_dir);
        let data_lock =
            DatabaseLock::acquire(&database).map_err(|error| problem(error.to_string(), Some(&data_dir), None))?;
        let store = Store::open(&data_dir).await.map_err(|error| {
            // The file itself is the problem (not the folder, the disk or another app): it can
            // be set aside.
            let damaged =
                matches!(error, StoreError::NotOurs { .. } | StoreError::Migrate(_) | StoreError::Database(_))
                    && database.is_file();
            problem(error.to_string(), Some(&data_dir), damaged.then(|| database.clone()))
        })?;
        if store.recovered_replies() > 0 {
            tracing::warn!(
                count = store.recovered_replies(),
                "replies cut short by the last exit were marked interrupted"
            );
        }
        let catalog = Catalog::load().map_err(|error| problem(error.to_string(), Some(&data_dir), None))?;
        let device_probe = WorkerCommand { program: worker.program.clone(), args: vec!["devices".into()] };
        let models = Models {
            catalog,
            library: Library::new(data_dir.join("models")),
            downloads: Downloads::default(),
            hardware: tokio::sync::OnceCell::new(),
            device_probe,
        };
        let chat = Chat::new(store, worker);
        chat.set_tools(settings.tools());
        Ok(AppState {
            chat,
            settings: Mutex::new(settings),
            paths,
            data_dir,
            models,
            settings_notice: None,
            _data_lock: data_lock,
        })
    }

    /// The settings now.
    pub fn settings(&self) -> Settings {
        self.settings.lock().unwrap_or_else(PoisonError::into_inner).clone()
    }

    /// The engine settings for loading `choice`: with GPU layers left to the app, as many as fit
    /// in the GPU's free memory with the context.
    pub async fn tuning_for(&self, choice: &ModelChoice) -> EngineTuning {
        let mut tuning = self.settings().tuning();
        if tuning.gpu_layers.is_some() {
            return tuning;
        }
        let Some(gpu) = self.models.hardware().await.best_gpu() else { return tuning };
        let mmproj = choice.mmproj.as_deref();
        if let Ok(layers) =
            ModelShape::gpu_layers_for_files(&choice.model, mmproj, tuning.context_size, gpu.memory_free)
        {
            tracing::info!(layers, gpu = %gpu.description, "GPU layers chosen to fit the free memory");
            tuning.gpu_layers = Some(layers);
        }
        tuning
    }

    /// Validates, saves and adopts new settings.
    pub fn save_settings(&self, settings: Settings) -> Result<(), SettingsError> {
        let mut current = self.settings.lock().unwrap_or_else(PoisonError::into_inner);
        settings.save(&self.paths.settings)?;
        self.chat.set_tools(settings.tools());
        *current = settings;
        Ok(())
    }
}

//! Options shared by the subcommands: which model to load and how to sample.

use std::path::PathBuf;

use anyhow::{Context, bail};
use clap::Args;
use gemma_desk_chat::{EngineTuning, ModelChoice};
use gemma_desk_engine::{LoadOptions, ModelInfo, SamplingParams, WorkerClient, WorkerCommand, inspect};
use gemma_desk_store::{DatabaseLock, Store, StoreError};
use tokio::runtime::Runtime;

/// The model and how to run it.
#[derive(Args, Debug, Clone)]
pub struct ModelArgs {
    /// The model GGUF file.
    #[arg(long, value_name = "PATH")]
    pub model: PathBuf,
    /// The multimodal projector GGUF (mmproj) that goes with the model.
    #[arg(long, value_name = "PATH")]
    pub mmproj: Option<PathBuf>,
    /// Context size in tokens [default: the model's, at most 8192].
    #[arg(long, value_parser = clap::value_parser!(u32).range(64..=1_048_576))]
    pub ctx: Option<u32>,
    /// CPU threads [default: one per physical core].
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..=1024))]
    pub threads: Option<u32>,
    /// Layers to offload to the GPU [default: all, when a GPU backend is built in].
    #[arg(long, value_name = "N")]
    pub gpu_layers: Option<u32>,
    /// The most tokens Gemma 4 spends on one image: 70, 140, 280, 560 or 1120 [default: 560]
    #[arg(long, value_name = "N", value_parser = image_token_budget)]
    pub image_tokens: Option<u32>,
}

fn image_token_budget(value: &str) -> Result<u32, String> {
    value
        .parse()
        .ok()
        .filter(|budget| gemma_desk_engine::IMAGE_TOKEN_BUDGETS.contains(budget))
        .ok_or_else(|| format!("must be one of {:?}", gemma_desk_engine::IMAGE_TOKEN_BUDGETS))
}

impl ModelArgs {
    /// Checks the files before any process starts, so that a bad path is one clear line.
    pub fn load_options(&self) -> anyhow::Result<LoadOptions> {
        inspect(&self.model)?;
        if let Some(mmproj) = &self.mmproj {
            inspect(mmproj)?;
        }
        let tuning = self.tuning();
        Ok(LoadOptions {
            model: self.model.clone(),
            mmproj: self.mmproj.clone(),
            ctx: tuning.context_size,
            threads: tuning.threads,
            gpu_layers: tuning.gpu_layers,
            image_tokens: tuning.image_tokens,
        })
    }

    /// The model and projector as given; [`gemma_desk_chat::Chat::load_model`] checks them.
    pub fn unchecked_choice(&self) -> ModelChoice {
        ModelChoice { model: self.model.clone(), mmproj: self.mmproj.clone() }
    }

    /// How the engine runs the model.
    pub fn tuning(&self) -> EngineTuning {
        EngineTuning {
            context_size: self.ctx,
            threads: self.threads,
            gpu_layers: self.gpu_layers,
            image_tokens: self.image_tokens,
        }
    }

    /// Starts a bare engine worker (this same executable) and loads the model in it, for the
    /// commands that measure or inspect the engine rather than hold a conversation.
    pub fn start_engine(&self) -> anyhow::Result<(WorkerClient, ModelInfo)> {
        let options = self.load_options()?;
        let mut engine = WorkerClient::new(worker_command()?);
        let info = engine.load(options)?;
        Ok((engine, info))
    }
}

/// This executable as the engine worker.
pub fn worker_command() -> anyhow::Result<WorkerCommand> {
    WorkerCommand::current_exe(&["worker"]).context("cannot find this executable to start the engine")
}

/// Sampling overrides; whatever is left out takes the model family's defaults.
#[derive(Args, Debug, Clone, Default)]
pub struct SamplingArgs {
    /// Temperature (0 = greedy).
    #[arg(long)]
    pub temperature: Option<f32>,
    /// Top-k cut-off (0 disables).
    #[arg(long)]
    pub top_k: Option<i32>,
    /// Top-p cut-off (1 disables).
    #[arg(long)]
    pub top_p: Option<f32>,
    /// Min-p cut-off (0 disables).
    #[arg(long)]
    pub min_p: Option<f32>,
    /// Repetition penalty over the last 64 tokens (1 disables).
    #[arg(long)]
    pub repeat_penalty: Option<f32>,
    /// Random seed, to reproduce a reply.
    #[arg(long)]
    pub seed: Option<u32>,
    /// Always pick the most likely token.
    #[arg(long)]
    pub greedy: bool,
    /// Stop each reply after this many tokens.
    #[arg(long)]
    pub max_tokens: Option<u32>,
}

impl SamplingArgs {
    /// The checked sampling parameters.
    pub fn params(&self) -> anyhow::Result<SamplingParams> {
        let params = SamplingParams {
            temperature: self.temperature,
            top_k: self.top_k,
            top_p: self.top_p,
            min_p: self.min_p,
            repeat_penalty: self.repeat_penalty,
            seed: self.seed,
            max_tokens: self.max_tokens,
            greedy: self.greedy,
        };
        if let Err(error) = params.validate() {
            bail!("{error}");
        }
        Ok(params)
    }
}

/// Where conversations are stored.
#[derive(Args, Debug, Clone, Default)]
pub struct StoreArgs {
    /// The conversation database file [default: the app's, in the platform data directory].
    #[arg(long, value_name = "PATH", global = true)]
    pub db: Option<PathBuf>,
}

/// A store opened to be written, with the lock that keeps every other writer out.
pub struct WritableStore {
    /// The conversations.
    pub store: Store,
    /// Held while the store is written.
    pub lock: DatabaseLock,
}

impl StoreArgs {
    /// The database file named, or the app's.
    fn database(&self) -> anyhow::Result<PathBuf> {
        match &self.db {
            Some(path) => Ok(path.clone()),
            None => Store::default_data_dir()
                .map(|dir| Store::database_in(&dir))
                .context("no data directory for this user; pass --db PATH or set GEMMA_DESK_DATA_DIR"),
        }
    }

    /// Opens the store to write it. Refused while the app (or another chat) writes it: a reply
    /// it is streaming would otherwise be marked interrupted under it.
    pub fn open_to_write(&self, runtime: &Runtime) -> anyhow::Result<WritableStore> {
        let database = self.database()?;
        let lock = DatabaseLock::acquire(&database)?;
        let store = runtime.block_on(Store::open_database(&database))?;
        note_recovered(&store);
        Ok(WritableStore { store, lock })
    }

    /// Opens the store to read it, also while the app writes it (its streaming replies are then
    /// left alone).
    pub fn open_to_read(&self, runtime: &Runtime) -> anyhow::Result<Store> {
        let database = self.database()?;
        match DatabaseLock::acquire(&database) {
            Ok(_lock) => {
                let store = runtime.block_on(Store::open_database(&database))?;
                note_recovered(&store);
                Ok(store)
            }
            Err(StoreError::InUse { .. }) => Ok(runtime.block_on(Store::open_database_in_use(&database))?),
            Err(error) => Err(error.into()),
        }
    }
}

/// The runtime the store's calls (and the chat's turns) run on.
pub fn runtime() -> anyhow::Result<Runtime> {
    Ok(tokio::runtime::Builder::new_current_thread().enable_all().build()?)
}

fn note_recovered(store: &Store) {
    if store.recovered_replies() > 0 {
        eprintln!(
            "note: {} replies were cut short by a crash; they are kept, marked interrupted",
            store.recovered_replies()
        );
    }
}

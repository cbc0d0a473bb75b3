//! Options shared by the subcommands: which model to load and how to sample.

use std::path::PathBuf;

use anyhow::{Context, bail};
use clap::Args;
use gemma_desk_engine::{LoadOptions, ModelInfo, SamplingParams, WorkerClient, WorkerCommand, inspect};
use gemma_desk_store::Store;

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
    /// CPU threads [default: all cores].
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..=1024))]
    pub threads: Option<u32>,
    /// Layers to offload to the GPU [default: all, when a GPU backend is built in].
    #[arg(long, value_name = "N")]
    pub gpu_layers: Option<u32>,
}

impl ModelArgs {
    /// Checks the files before any process starts, so that a bad path is one clear line.
    pub fn load_options(&self) -> anyhow::Result<LoadOptions> {
        inspect(&self.model)?;
        if let Some(mmproj) = &self.mmproj {
            inspect(mmproj)?;
        }
        Ok(LoadOptions {
            model: self.model.clone(),
            mmproj: self.mmproj.clone(),
            ctx: self.ctx,
            threads: self.threads,
            gpu_layers: self.gpu_layers,
        })
    }

    /// Starts an engine worker (this same executable) and loads the model in it.
    pub fn start_engine(&self) -> anyhow::Result<(WorkerClient, ModelInfo)> {
        let options = self.load_options()?;
        let command =
            WorkerCommand::current_exe(&["worker"]).context("cannot find this executable to start the engine")?;
        let mut engine = WorkerClient::new(command);
        let info = engine.load(options)?;
        Ok((engine, info))
    }
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
    #[arg(long, value_name = "PATH")]
    pub db: Option<PathBuf>,
}

impl StoreArgs {
    /// Opens the store (and the runtime its calls run on).
    pub fn open(&self) -> anyhow::Result<(tokio::runtime::Runtime, Store)> {
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
        let store = match &self.db {
            Some(path) => runtime.block_on(Store::open_database(path))?,
            None => {
                let dir = Store::default_data_dir()
                    .context("no data directory for this user; pass --db PATH or set GEMMA_DESK_DATA_DIR")?;
                runtime.block_on(Store::open(&dir))?
            }
        };
        if store.recovered_replies() > 0 {
            eprintln!(
                "note: {} replies were cut short by a crash; they are kept, marked interrupted",
                store.recovered_replies()
            );
        }
        Ok((runtime, store))
    }
}

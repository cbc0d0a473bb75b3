// No console window on Windows release builds.
#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Gemma Desk: chat with Gemma models on your own machine.
#[derive(Parser)]
#[command(name = "gemma-desk", version, about)]
struct Args {
    /// Load this model GGUF at start (and remember it as the chosen model).
    #[arg(long, env = "GEMMA_DESK_MODEL", value_name = "PATH")]
    model: Option<PathBuf>,
    /// The multimodal projector (mmproj) GGUF that goes with --model.
    #[arg(long, env = "GEMMA_DESK_MMPROJ", value_name = "PATH", requires = "model")]
    mmproj: Option<PathBuf>,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the engine protocol on stdin/stdout (the app starts itself this way).
    #[command(hide = true)]
    Worker,
    /// Print the compute devices llama.cpp finds, as JSON (the app checks the GPUs this way).
    #[command(hide = true)]
    Devices,
}

fn main() -> ExitCode {
    let args = Args::parse();
    match args.command {
        Some(Command::Worker) => return ExitCode::from(gemma_desk_engine::run_worker() as u8),
        Some(Command::Devices) => return ExitCode::from(gemma_desk_engine::run_device_probe() as u8),
        None => {}
    }
    let model = args.model.map(|model| gemma_desk_chat::ModelChoice { model, mmproj: args.mmproj });
    gemma_desk_app::run(gemma_desk_app::Launch { model })
}

//! `gemma-desk-cli`: everything the app's engine does, from a terminal, with no window.

mod bench;
mod chat;
mod history;
mod listen;
mod options;
mod prompt;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Chat with Gemma on this machine, render prompts, and measure speed.
#[derive(Parser)]
#[command(name = "gemma-desk-cli", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Chat with a model: one reply to PROMPT, or an interactive chat without it.
    Chat(Box<chat::ChatArgs>),
    /// Stored conversations: list, show, search, export, import.
    History(history::HistoryArgs),
    /// Print the exact prompt text the engine would tokenize for a JSON list of messages.
    Prompt(prompt::PromptArgs),
    /// Measure prefill, decode and time to first token through the engine worker, against a
    /// bare llama.cpp loop in the same run; prints JSON.
    Bench(bench::BenchArgs),
    /// Measure a dropped photo's way to the reply's first token (decode and resize, encoding,
    /// prefill) against llama.cpp's own image decoding in the same run; prints JSON.
    BenchImage(bench::BenchImageArgs),
    /// Measure a spoken question's way from the push-to-talk key's release to the reply's first
    /// token (resampling, audio encoding, prefill) and to the first sentence read aloud,
    /// against llama.cpp's own reading of the recording in the same run; prints JSON.
    BenchVoice(bench::BenchVoiceArgs),
    /// Print the compute devices llama.cpp finds (CPU, GPUs) with their free memory, as JSON;
    /// with `--audio`, the microphones and speakers instead.
    Devices(DevicesArgs),
    /// Serve the engine protocol on stdin/stdout (started by the CLI and the app themselves).
    #[command(hide = true)]
    Worker,
}

#[derive(clap::Args)]
struct DevicesArgs {
    /// List the sound devices: inputs (microphones, for `chat --microphone`) and outputs.
    #[arg(long)]
    audio: bool,
}

/// The sound devices as JSON: `{"inputs": [{"id", "name", "default"}], "outputs": [...]}`.
fn print_audio_devices() {
    let devices = gemma_desk_voice::devices();
    let list = |devices: &[gemma_desk_voice::AudioDevice]| {
        devices
            .iter()
            .map(|device| serde_json::json!({ "id": device.id, "name": device.name, "default": device.is_default }))
            .collect::<Vec<_>>()
    };
    let json = serde_json::json!({ "inputs": list(&devices.inputs), "outputs": list(&devices.outputs) });
    println!("{}", serde_json::to_string_pretty(&json).expect("JSON values serialize"));
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Chat(args) => chat::run(*args),
        Command::History(args) => history::run(args),
        Command::Prompt(args) => prompt::run(args),
        Command::Bench(args) => bench::run(args),
        Command::BenchImage(args) => bench::run_image(args),
        Command::BenchVoice(args) => bench::run_voice(args),
        Command::Devices(DevicesArgs { audio: true }) => {
            print_audio_devices();
            Ok(())
        }
        Command::Devices(DevicesArgs { audio: false }) => {
            return ExitCode::from(gemma_desk_engine::run_device_probe() as u8);
        }
        Command::Worker => return ExitCode::from(gemma_desk_engine::run_worker() as u8),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {}", one_line(&error));
            ExitCode::FAILURE
        }
    }
}

/// The error and its causes on one line, as a terminal user should see them.
fn one_line(error: &anyhow::Error) -> String {
    error.chain().map(ToString::to_string).collect::<Vec<_>>().join(": ").replace('\n', " ")
}

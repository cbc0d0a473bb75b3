//! The CLI's integration tests: the real binary, the real worker process, the real model.

mod audio;
mod bad_input;
mod bench;
mod chat;
mod crash;
mod history;
mod images;
mod voice;
mod projector;
mod prompt;
mod tools;
mod worker;

use std::path::PathBuf;
use std::process::{Command, Output};

/// The built `gemma-desk-cli`, with its data directory (default database, line history) in a
/// folder of this test run, never the user's.
pub fn cli() -> Command {
    static DATA_DIR: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    let data_dir =
        DATA_DIR.get_or_init(|| std::env::temp_dir().join(format!("gemma-desk-cli-tests-{}", std::process::id())));
    let mut command = Command::new(env!("CARGO_BIN_EXE_gemma-desk-cli"));
    command.env("GEMMA_DESK_DATA_DIR", data_dir);
    command
}

/// Runs the CLI with `args`, no stdin.
pub fn run(args: &[&str]) -> Output {
    cli().args(args).stdin(std::process::Stdio::null()).output().expect("the CLI runs")
}

pub use gemma_desk_testing::{test_model, test_model_with_template, test_projector};

/// The test model's path as a string argument.
pub fn model_arg() -> String {
    test_model().to_string_lossy().into_owned()
}

/// The id of the conversation a chat with `--db` announces on stderr.
pub fn conversation_id(stderr: &str) -> String {
    let line = stderr
        .lines()
        .find_map(|line| line.strip_prefix("(conversation "))
        .expect("the chat says where it stored the conversation");
    line.split(';').next().unwrap().to_owned()
}

/// The repository's top-level `tests/` folder.
pub fn repo_tests_dir() -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../../tests"))
}

//! The CLI's integration tests: the real binary, the real worker process, the real model.

mod bad_input;
mod bench;
mod chat;
mod crash;
mod history;
mod projector;
mod prompt;
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

/// The Gemma 3 270M test model: `GEMMA_DESK_TEST_MODEL`, or where `models/fetch-test-model` puts it.
pub fn test_model() -> PathBuf {
    if let Some(path) = std::env::var_os("GEMMA_DESK_TEST_MODEL") {
        return path.into();
    }
    let cache = std::env::var_os("GEMMA_DESK_CACHE")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(std::env::var_os("HOME").expect("HOME is set")).join(".cache/gemma-desk"));
    let path = cache.join("models/gemma-3-270m-q4_k_m.gguf");
    assert!(path.exists(), "the test model is missing: run models/fetch-test-model (or scripts/test)");
    path
}

/// A tiny projector GGUF written by `tests/fixtures/make_projectors.py` (`vision-gemma3` or
/// `audio-gemma4ua`), from `GEMMA_DESK_TEST_PROJECTORS` or the cache where `scripts/test` puts them.
pub fn test_projector(name: &str) -> PathBuf {
    let dir = std::env::var_os("GEMMA_DESK_TEST_PROJECTORS").map(PathBuf::from).unwrap_or_else(|| {
        test_model().parent().and_then(|models| models.parent()).expect("the model lies in the cache").join("fixtures")
    });
    let path = dir.join(format!("{name}.mmproj.gguf"));
    assert!(path.exists(), "{} is missing: run tests/fixtures/make_projectors.py (or scripts/test)", path.display());
    path
}

/// The test model's path as a string argument.
pub fn model_arg() -> String {
    test_model().to_string_lossy().into_owned()
}

/// The repository's top-level `tests/` folder.
pub fn repo_tests_dir() -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../../tests"))
}

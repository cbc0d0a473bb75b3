//! Test support: the offline test data that `scripts/test` prepares, and a local HTTP server
//! that stands in for Hugging Face.

use std::path::PathBuf;

pub mod images;
pub mod server;
pub mod sound_devices;
pub mod sounds;

/// The Gemma 3 270M test model: `GEMMA_DESK_TEST_MODEL`, or where `models/fetch-test-model` puts it.
pub fn test_model() -> PathBuf {
    if let Some(path) = std::env::var_os("GEMMA_DESK_TEST_MODEL") {
        return path.into();
    }
    let path = cache().join("models/gemma-3-270m-q4_k_m.gguf");
    assert!(path.exists(), "the test model is missing: run models/fetch-test-model (or scripts/test)");
    path
}

/// A tiny projector GGUF written by `tests/fixtures/make_projectors.py` (`vision-gemma3` or
/// `audio-gemma4ua`), from `GEMMA_DESK_TEST_PROJECTORS` or the cache where `scripts/test` puts them.
pub fn test_projector(name: &str) -> PathBuf {
    let path = fixtures().join(format!("{name}.mmproj.gguf"));
    assert!(
        path.exists(),
        "{} is missing: run `scripts/python tests/fixtures/make_projectors.py DIR` (or scripts/test)",
        path.display()
    );
    path
}

/// A copy of the test model carrying the chat template `tests/templates/<template>.jinja` (for
/// example `gemma-4-31B-it`), written by `tests/fixtures/make_templated_models.py`.
pub fn test_model_with_template(template: &str) -> PathBuf {
    let stem = test_model().file_stem().expect("the test model has a file name").to_string_lossy().into_owned();
    let path = fixtures().join(format!("{stem}.{template}.gguf"));
    assert!(
        path.exists(),
        "{} is missing: run tests/fixtures/make_templated_models.py (or scripts/test)",
        path.display()
    );
    path
}

/// Where `scripts/test` writes the generated fixtures: `GEMMA_DESK_TEST_PROJECTORS`, or the cache.
fn fixtures() -> PathBuf {
    std::env::var_os("GEMMA_DESK_TEST_PROJECTORS").map(PathBuf::from).unwrap_or_else(|| {
        test_model().parent().and_then(|models| models.parent()).expect("the model lies in the cache").join("fixtures")
    })
}

fn cache() -> PathBuf {
    std::env::var_os("GEMMA_DESK_CACHE")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(std::env::var_os("HOME").expect("HOME is set")).join(".cache/gemma-desk"))
}

//! The engine crate's integration tests; modules mirror `src/`.

mod gguf;
mod session;
mod template;

/// The Gemma 3 270M test model: `GEMMA_DESK_TEST_MODEL`, or where `models/fetch-test-model` puts it.
pub fn test_model() -> std::path::PathBuf {
    if let Some(path) = std::env::var_os("GEMMA_DESK_TEST_MODEL") {
        return path.into();
    }
    let cache = std::env::var_os("GEMMA_DESK_CACHE").map(std::path::PathBuf::from).unwrap_or_else(|| {
        std::path::PathBuf::from(std::env::var_os("HOME").expect("HOME is set")).join(".cache/gemma-desk")
    });
    let path = cache.join("models/gemma-3-270m-q4_k_m.gguf");
    assert!(path.exists(), "the test model is missing: run models/fetch-test-model (or scripts/test)");
    path
}

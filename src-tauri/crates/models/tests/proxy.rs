//! Downloads go through the proxy named by the standard environment variables. A test binary of
//! its own: the variables are process-wide.

use std::time::Duration;

use gemma_desk_models::Control;
use gemma_desk_models::download::{DownloadFile, DownloadOptions, download};
use gemma_desk_testing::server::Server;

#[tokio::test]
async fn downloads_use_the_proxy_from_the_environment() {
    // The test server answers proxy requests (absolute URLs) too.
    let proxy = Server::start();
    let body = b"GGUF bytes through a proxy".to_vec();
    proxy.file("/org/model-GGUF/resolve/main/model.gguf", body.clone());
    // SAFETY: this binary's only test sets them before any other thread reads the environment.
    unsafe {
        for name in ["ALL_PROXY", "all_proxy", "NO_PROXY", "no_proxy", "HTTPS_PROXY", "https_proxy"] {
            std::env::remove_var(name);
        }
        std::env::set_var("HTTP_PROXY", &proxy.base);
        std::env::set_var("http_proxy", &proxy.base);
    }
    let dir = tempfile::tempdir().unwrap();
    let file = DownloadFile {
        // A host that does not resolve: only the proxy can answer it.
        url: "http://huggingface.invalid/org/model-GGUF/resolve/main/model.gguf".into(),
        dest: dir.path().join("model.gguf"),
        bytes: Some(body.len() as u64),
        sha256: None,
    };
    let options = DownloadOptions {
        env_proxies: true,
        retries: 0,
        backoff: Duration::from_millis(1),
        ..DownloadOptions::default()
    };
    let (_control, signal) = Control::new();
    download(&[file], &options, signal, |_| {}).await.unwrap();
    assert_eq!(std::fs::read(dir.path().join("model.gguf")).unwrap(), body);
    assert_eq!(proxy.requests("/org/model-GGUF/resolve/main/model.gguf").len(), 1);
}

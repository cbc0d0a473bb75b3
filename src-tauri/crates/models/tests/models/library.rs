//! Installing from the catalog (through a local server), importing local files, listing and
//! deleting, with the real test model and projectors.

use std::path::Path;
use std::time::Duration;

use gemma_desk_models::library::MANIFEST;
use gemma_desk_models::{
    Capability, Catalog, Control, DownloadOptions, ImportMode, Library, LibraryError, Licence, Source,
};
use gemma_desk_testing::{test_model, test_projector};

use crate::sha256;
use gemma_desk_testing::server::{Fault, Server};

fn options() -> DownloadOptions {
    DownloadOptions { backoff: Duration::from_millis(10), env_proxies: false, ..DownloadOptions::default() }
}

/// The test catalog, with its model file replaced by `model` (published with `model_hash`).
fn catalog_serving(server: &Server, model: &[u8], model_hash: &str) -> Catalog {
    let text = server.serve_test_catalog();
    server.file("/test/tiny-GGUF/resolve/abc123/tiny.gguf", model.to_vec());
    let published = text.lines().find(|line| line.starts_with("file = ")).unwrap();
    let text = text.replace(
        published,
        &format!("file = {{ name = \"tiny.gguf\", bytes = {}, sha256 = \"{model_hash}\" }}", model.len()),
    );
    Catalog::parse(&text, "test").unwrap()
}

fn catalog(server: &Server) -> Catalog {
    Catalog::parse(&server.serve_test_catalog(), "test").unwrap()
}

fn read(path: &Path) -> Vec<u8> {
    std::fs::read(path).unwrap()
}

#[tokio::test]
async fn a_catalog_model_installs_with_its_projector_and_can_be_deleted() {
    let server = Server::start();
    let (model, projector) = (read(&test_model()), read(&test_projector("vision-gemma3")));
    let catalog = catalog(&server);
    server.faults("/test/tiny-GGUF/resolve/abc123/tiny.gguf", vec![Fault::DropAfter(50 << 20)]);
    let dir = tempfile::tempdir().unwrap();
    let library = Library::new(dir.path());
    let (_control, signal) = Control::new();
    let entry = catalog.get("tiny-it").unwrap();
    let mut updates = 0;
    let installed = library.install(&catalog, entry, true, &options(), signal, |_| updates += 1).await.unwrap();

    assert!(updates > 2);
    assert_eq!(installed.manifest.source, Source::Catalog);
    assert_eq!(installed.model_path, dir.path().join("tiny-it/tiny.gguf"));
    assert_eq!(read(&installed.model_path), model);
    assert!(installed.manifest.model.sha256_published);
    let mmproj = installed.manifest.mmproj.as_ref().unwrap();
    assert_eq!((mmproj.sha256.clone().unwrap(), mmproj.sha256_published), (sha256(&projector), false));
    let description = &installed.manifest.description;
    assert_eq!(description.architecture, "gemma3");
    assert_eq!(description.quantization.as_deref(), Some("Q4_K_M"));
    assert_eq!(description.caps, [Capability::Text, Capability::Vision]);
    assert_eq!(description.licence, Some(Licence::GemmaTerms));
    let manifest_bytes = std::fs::metadata(dir.path().join("tiny-it").join(MANIFEST)).unwrap().len();
    assert_eq!(installed.disk_bytes, (model.len() + projector.len()) as u64 + manifest_bytes);

    assert_eq!(library.list().unwrap(), std::slice::from_ref(&installed));
    library.delete("tiny-it").unwrap();
    assert!(library.list().unwrap().is_empty());
    assert!(!dir.path().join("tiny-it").exists());
    assert!(matches!(library.delete("tiny-it"), Err(LibraryError::NotFound(_))));
    assert!(matches!(library.delete("../.."), Err(LibraryError::NotFound(_))));
}

#[tokio::test]
async fn a_paused_install_is_listed_as_partial_and_resumes() {
    let server = Server::start();
    let model = read(&test_model());
    let catalog = catalog(&server);
    server.faults("/test/tiny-GGUF/resolve/abc123/tiny.gguf", vec![Fault::Slow(Duration::from_millis(5))]);
    let dir = tempfile::tempdir().unwrap();
    let library = Library::new(dir.path());
    let entry = catalog.get("tiny-it").unwrap();
    let (control, signal) = Control::new();
    let paused = library
        .install(&catalog, entry, false, &options(), signal, |p| {
            if p.done > 4 << 20 {
                control.pause();
            }
        })
        .await;
    assert!(paused.unwrap_err().to_string().contains("paused"));
    let partial = library.partial_downloads().unwrap();
    assert_eq!(partial.len(), 1);
    assert!(partial[0].id == "tiny-it" && partial[0].bytes > 4 << 20);
    assert_eq!(partial[0].with_mmproj, Some(false));
    assert!(library.list().unwrap().is_empty(), "a partial download is not an installed model");

    let (_control, signal) = Control::new();
    let installed = library.install(&catalog, entry, false, &options(), signal, |_| {}).await.unwrap();
    assert_eq!(read(&installed.model_path), model);
    assert!(installed.mmproj_path.is_none());
    assert_eq!(installed.manifest.description.caps, [Capability::Text], "no projector, no vision");
    assert!(library.partial_downloads().unwrap().is_empty());
    assert!(!dir.path().join("tiny-it/download.json").exists());
}

#[tokio::test]
async fn a_download_that_is_not_a_gguf_is_removed_even_when_its_hash_matches() {
    let server = Server::start();
    let junk = crate::bytes(1 << 20, 5);
    let catalog = catalog_serving(&server, &junk, &sha256(&junk));
    let dir = tempfile::tempdir().unwrap();
    let library = Library::new(dir.path());
    let (_control, signal) = Control::new();
    let error = library
        .install(&catalog, catalog.get("tiny-it").unwrap(), false, &options(), signal, |_| {})
        .await
        .unwrap_err();
    assert!(matches!(error, LibraryError::Invalid(_)), "{error}");
    assert!(error.to_string().contains("GGUF"), "{error}");
    assert!(!dir.path().join("tiny-it").exists());
}

#[test]
fn imports_are_validated_paired_described_and_copied_or_linked() {
    let dir = tempfile::tempdir().unwrap();
    let library = Library::new(dir.path());
    let (model, vision) = (test_model(), test_projector("vision-gemma3"));

    let copied = library.import(&model, Some(&vision), ImportMode::Copy).unwrap();
    assert_eq!(copied.manifest.source, Source::Copied);
    assert!(copied.model_path.starts_with(dir.path()));
    assert_eq!(read(&copied.model_path), read(&model));
    assert!(copied.disk_bytes > 253_000_000);
    let description = &copied.manifest.description;
    assert_eq!((description.architecture.as_str(), description.context_length), ("gemma3", Some(32768)));
    assert_eq!(description.caps, [Capability::Text, Capability::Vision]);

    let linked = library.import(&model, None, ImportMode::Link).unwrap();
    assert_eq!(linked.manifest.source, Source::Linked);
    assert_eq!(linked.model_path, std::fs::canonicalize(&model).unwrap());
    assert!(linked.disk_bytes < 10_000, "a linked import takes no space: {}", linked.disk_bytes);
    assert_ne!(linked.manifest.id, copied.manifest.id);
    assert_eq!(library.list().unwrap().len(), 2);

    // Deleting a linked import never touches the user's file.
    library.delete(&linked.manifest.id).unwrap();
    assert!(model.exists());
}

#[test]
fn imports_that_do_not_belong_together_are_refused_and_leave_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let library = Library::new(dir.path());
    let (model, vision) = (test_model(), test_projector("vision-gemma3"));

    let swapped = library.import(&vision, Some(&model), ImportMode::Copy).unwrap_err();
    assert!(swapped.to_string().contains("is a projector"), "{swapped}");
    let two_models = library.import(&model, Some(&model), ImportMode::Copy).unwrap_err();
    assert!(two_models.to_string().contains("is not a projector"), "{two_models}");

    let truncated = dir.path().join("cut.gguf");
    std::fs::write(&truncated, &read(&model)[..1 << 20]).unwrap();
    let error = library.import(&truncated, None, ImportMode::Copy).unwrap_err();
    assert!(error.to_string().contains("truncated"), "{error}");

    // A projector made for a wider model.
    let wide = dir.path().join("wide.mmproj.gguf");
    let mut bytes = read(&vision);
    let key = b"clip.vision.projection_dim";
    let at = bytes.windows(key.len()).position(|w| w == key).unwrap() + key.len() + 4;
    bytes[at..at + 4].copy_from_slice(&2048u32.to_le_bytes());
    std::fs::write(&wide, bytes).unwrap();
    let error = library.import(&model, Some(&wide), ImportMode::Copy).unwrap_err();
    assert!(error.to_string().contains("does not belong"), "{error}");

    let names: Vec<_> = std::fs::read_dir(dir.path()).unwrap().flatten().map(|e| e.file_name()).collect();
    assert_eq!(names.len(), 2, "only the test's own files remain: {names:?}");
}

//! Every download either ends in a verified file in place or a clear error with nothing
//! half-installed, whatever the server does.

use std::time::Duration;

use gemma_desk_models::download::{DownloadFile, DownloadOptions, Phase, Progress, download, part_path};
use gemma_desk_models::{Control, DownloadError};

use crate::{bytes, sha256};
use gemma_desk_testing::server::{Fault, Server};

const MIB: usize = 1 << 20;

fn quick() -> DownloadOptions {
    DownloadOptions {
        retries: 3,
        backoff: Duration::from_millis(10),
        max_backoff: Duration::from_millis(50),
        read_timeout: Duration::from_millis(500),
        env_proxies: false,
        ..DownloadOptions::default()
    }
}

struct Case {
    server: Server,
    dir: tempfile::TempDir,
    body: Vec<u8>,
}

impl Case {
    fn new(len: usize) -> Case {
        let server = Server::start();
        let body = bytes(len, len as u64);
        server.file("/model.gguf", body.clone());
        Case { server, dir: tempfile::tempdir().unwrap(), body }
    }

    fn file(&self) -> DownloadFile {
        DownloadFile {
            url: format!("{}/model.gguf", self.server.base),
            dest: self.dir.path().join("model.gguf"),
            bytes: Some(self.body.len() as u64),
            sha256: Some(sha256(&self.body)),
        }
    }

    async fn run(
        &self,
        files: &[DownloadFile],
        options: &DownloadOptions,
    ) -> (Result<Vec<gemma_desk_models::download::Verified>, DownloadError>, Vec<Progress>) {
        let (_control, signal) = Control::new();
        let mut seen = Vec::new();
        let result = download(files, options, signal, |p| seen.push(p.clone())).await;
        (result, seen)
    }

    fn installed(&self) -> Option<Vec<u8>> {
        std::fs::read(self.dir.path().join("model.gguf")).ok()
    }

    fn leftovers(&self) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(self.dir.path())
            .unwrap()
            .flatten()
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }
}

fn ranges(server: &Server) -> Vec<Option<String>> {
    server.requests("/model.gguf").into_iter().map(|r| r.range).collect()
}

#[tokio::test]
async fn a_plain_download_is_verified_and_moved_into_place() {
    let case = Case::new(3 * MIB);
    let (result, progress) = case.run(&[case.file()], &quick()).await;
    let verified = result.unwrap();
    assert_eq!(verified[0].sha256, sha256(&case.body));
    assert!(verified[0].sha256_published);
    assert_eq!(case.installed().unwrap(), case.body);
    assert_eq!(case.leftovers(), ["model.gguf"]);
    let last = progress.iter().rfind(|p| p.phase == Phase::Downloading).unwrap();
    assert_eq!((last.done, last.total, last.files), (3 * MIB as u64, 3 * MIB as u64, 1));
    assert_eq!(progress.last().unwrap().phase, Phase::Verifying);
}

#[tokio::test]
async fn dropped_connections_resume_with_range_requests() {
    let case = Case::new(4 * MIB);
    case.server.faults("/model.gguf", vec![Fault::DropAfter(MIB as u64), Fault::DropAfter(MIB as u64 + 7)]);
    let (result, progress) = case.run(&[case.file()], &quick()).await;
    result.unwrap();
    assert_eq!(case.installed().unwrap(), case.body);
    let expected = [None, Some(format!("bytes={MIB}-")), Some(format!("bytes={}-", 2 * MIB + 7))];
    assert_eq!(ranges(&case.server), expected);
    assert!(
        progress
            .iter()
            .any(|p| p.phase == Phase::Retrying && p.note.as_deref().is_some_and(|n| n.contains("trying again")))
    );
}

#[tokio::test]
async fn a_connection_that_keeps_dropping_still_finishes_while_it_makes_progress() {
    let case = Case::new(2 * MIB);
    // More drops than retries allowed in a row, but each one brings new bytes.
    case.server.faults("/model.gguf", (0..8).map(|_| Fault::DropAfter(200_000)).collect());
    let (result, _) = case.run(&[case.file()], &quick()).await;
    result.unwrap();
    assert_eq!(case.installed().unwrap(), case.body);
}

#[tokio::test]
async fn pause_keeps_the_partial_file_and_a_later_run_resumes_it() {
    let case = Case::new(4 * MIB);
    case.server.faults("/model.gguf", vec![Fault::Slow(Duration::from_millis(20))]);
    let (control, signal) = Control::new();
    let file = case.file();
    let result = download(std::slice::from_ref(&file), &quick(), signal, |p| {
        if p.done >= MIB as u64 {
            control.pause();
        }
    })
    .await;
    assert!(matches!(result, Err(DownloadError::Paused)), "{result:?}");
    let kept = std::fs::metadata(part_path(&file.dest)).unwrap().len();
    assert!(kept >= MIB as u64 && kept < 4 * MIB as u64, "{kept}");
    assert!(case.installed().is_none());

    // As after a restart: a fresh download of the same file picks up the partial one.
    let (result, progress) = case.run(&[file], &quick()).await;
    result.unwrap();
    assert_eq!(case.installed().unwrap(), case.body);
    assert_eq!(ranges(&case.server).last().unwrap().as_deref(), Some(format!("bytes={kept}-").as_str()));
    assert_eq!(progress[0].phase, Phase::Resuming);
}

#[tokio::test]
async fn cancel_deletes_everything() {
    let case = Case::new(4 * MIB);
    case.server.faults("/model.gguf", vec![Fault::Slow(Duration::from_millis(20))]);
    let (control, signal) = Control::new();
    let result = download(&[case.file()], &quick(), signal, |p| {
        if p.done >= MIB as u64 {
            control.cancel();
        }
    })
    .await;
    assert!(matches!(result, Err(DownloadError::Cancelled)), "{result:?}");
    assert!(case.leftovers().is_empty(), "{:?}", case.leftovers());
}

#[tokio::test]
async fn missing_files_and_refusals_are_clear_errors() {
    let case = Case::new(MIB);
    let mut missing = case.file();
    missing.url = format!("{}/nope.gguf", case.server.base);
    let (result, _) = case.run(&[missing], &quick()).await;
    let error = result.unwrap_err();
    assert!(matches!(error, DownloadError::NotFound { .. }) && error.to_string().contains("404"), "{error}");

    case.server.faults("/model.gguf", vec![Fault::Status(401)]);
    let (result, _) = case.run(&[case.file()], &quick()).await;
    let error = result.unwrap_err();
    assert!(error.to_string().contains("token"), "{error}");
    assert!(case.leftovers().is_empty(), "{:?}", case.leftovers());
}

#[tokio::test]
async fn server_errors_are_retried_with_back_off_then_given_up() {
    let case = Case::new(MIB);
    case.server.faults("/model.gguf", vec![Fault::Status(500), Fault::Status(503)]);
    let (result, _) = case.run(&[case.file()], &quick()).await;
    result.unwrap();
    assert_eq!(case.server.requests("/model.gguf").len(), 3);

    let case = Case::new(MIB);
    case.server.faults("/model.gguf", (0..10).map(|_| Fault::Status(500)).collect());
    let (result, _) = case.run(&[case.file()], &quick()).await;
    let error = result.unwrap_err();
    assert!(
        matches!(error, DownloadError::Network { attempts: 4, .. }) && error.to_string().contains("500"),
        "{error}"
    );
    assert!(case.installed().is_none());
}

#[tokio::test]
async fn a_stalled_or_slow_server_is_waited_for_or_retried() {
    let case = Case::new(MIB);
    case.server.faults("/model.gguf", vec![Fault::Stall(Duration::from_secs(2))]);
    let (result, progress) = case.run(&[case.file()], &quick()).await;
    result.unwrap();
    assert!(
        progress.iter().any(|p| p.phase == Phase::Retrying && p.note.as_deref().unwrap().contains("stopped sending"))
    );

    let case = Case::new(2 * MIB);
    case.server.faults("/model.gguf", vec![Fault::Slow(Duration::from_millis(30))]);
    let (result, progress) = case.run(&[case.file()], &quick()).await;
    result.unwrap();
    let midway = progress.iter().rfind(|p| p.phase == Phase::Downloading && p.done < 2 * MIB as u64).unwrap();
    assert!(midway.bytes_per_second > 0.0 && midway.seconds_left.is_some_and(|s| s > 0.0), "{midway:?}");
}

#[tokio::test]
async fn range_not_satisfiable_means_done_or_start_again() {
    // The partial file is already whole (the app stopped before moving it): 416, then verified.
    let case = Case::new(MIB);
    std::fs::write(part_path(&case.file().dest), &case.body).unwrap();
    let (result, _) = case.run(&[case.file()], &quick()).await;
    result.unwrap();
    assert_eq!(ranges(&case.server), [Some(format!("bytes={MIB}-"))]);

    // A partial file of a different, unpublished-size file: 416, so the file starts over.
    let case = Case::new(MIB);
    let mut file = case.file();
    file.bytes = None;
    std::fs::write(part_path(&file.dest), bytes(MIB + 10, 9)).unwrap();
    let (result, _) = case.run(&[file], &quick()).await;
    result.unwrap();
    assert_eq!(case.installed().unwrap(), case.body);
    assert_eq!(ranges(&case.server), [Some(format!("bytes={}-", MIB + 10)), None]);
}

#[tokio::test]
async fn a_server_that_ignores_ranges_sends_the_whole_file_again() {
    let case = Case::new(2 * MIB);
    case.server.faults("/model.gguf", vec![Fault::DropAfter(MIB as u64), Fault::IgnoreRange]);
    let (result, _) = case.run(&[case.file()], &quick()).await;
    result.unwrap();
    assert_eq!(case.installed().unwrap(), case.body);
}

#[tokio::test]
async fn a_wrong_hash_deletes_the_file_and_says_so() {
    let case = Case::new(MIB);
    let mut file = case.file();
    file.sha256 = Some(sha256(b"something else"));
    let (result, _) = case.run(&[file], &quick()).await;
    let error = result.unwrap_err();
    assert!(matches!(error, DownloadError::HashMismatch { .. }), "{error}");
    assert!(error.to_string().contains("deleted"), "{error}");
    assert!(case.leftovers().is_empty(), "{:?}", case.leftovers());
}

#[tokio::test]
async fn lies_about_the_length_end_in_a_verified_file_or_a_clear_error() {
    // Announces more than it sends, then closes. With a published size the announcement itself
    // gives the lie away: refused at once, nothing downloaded.
    let case = Case::new(MIB);
    case.server.faults("/model.gguf", vec![Fault::LongerContentLength(5000)]);
    let (result, _) = case.run(&[case.file()], &quick()).await;
    let error = result.unwrap_err();
    assert!(matches!(error, DownloadError::SizeMismatch { found, .. } if found == MIB as u64 + 5000), "{error}");
    assert!(case.leftovers().is_empty(), "{:?}", case.leftovers());

    // Without a published size the missing bytes show as an early close: the rest is fetched
    // with a range request.
    let case = Case::new(MIB);
    case.server.faults("/model.gguf", vec![Fault::LongerContentLength(5000)]);
    let mut file = case.file();
    file.bytes = None;
    let (result, _) = case.run(&[file], &quick()).await;
    result.unwrap();
    assert_eq!(case.installed().unwrap(), case.body);
    assert_eq!(ranges(&case.server), [None, Some(format!("bytes={MIB}-"))]);

    // The server's file is not the published size: refused before downloading it.
    let case = Case::new(MIB);
    let mut file = case.file();
    file.bytes = Some(MIB as u64 - 1);
    let (result, _) = case.run(&[file], &quick()).await;
    let error = result.unwrap_err();
    assert!(
        matches!(error, DownloadError::SizeMismatch { expected, found, .. } if expected == MIB as u64 - 1 && found == MIB as u64),
        "{error}"
    );
    assert!(case.leftovers().is_empty(), "{:?}", case.leftovers());

    // No published size or hash: the file is taken as the server sends it and its hash computed.
    let case = Case::new(MIB);
    let mut file = case.file();
    (file.bytes, file.sha256) = (None, None);
    let (result, _) = case.run(&[file], &quick()).await;
    let verified = result.unwrap();
    assert_eq!((verified[0].sha256.as_str(), verified[0].sha256_published), (sha256(&case.body).as_str(), false));
}

#[tokio::test]
async fn no_request_is_made_without_the_disk_space() {
    let case = Case::new(MIB);
    let mut file = case.file();
    file.bytes = Some(1 << 60);
    let (result, _) = case.run(&[file], &quick()).await;
    let error = result.unwrap_err();
    assert!(matches!(error, DownloadError::NoSpace { .. }) && error.to_string().contains("disk space"), "{error}");
    assert!(case.server.requests("/model.gguf").is_empty());
}

#[tokio::test]
async fn several_files_are_one_task_and_none_is_installed_until_all_are_verified() {
    let case = Case::new(MIB);
    let projector = bytes(MIB / 2, 77);
    case.server.file("/mmproj.gguf", projector.clone());
    let second = |hash: String| DownloadFile {
        url: format!("{}/mmproj.gguf", case.server.base),
        dest: case.dir.path().join("mmproj.gguf"),
        bytes: Some(projector.len() as u64),
        sha256: Some(hash),
    };
    let (result, _) = case.run(&[case.file(), second(sha256(b"wrong"))], &quick()).await;
    assert!(matches!(result, Err(DownloadError::HashMismatch { .. })));
    // The first file is verified but waits as a partial file: nothing is half-installed.
    assert_eq!(case.leftovers(), ["model.gguf.part"]);

    let (result, progress) = case.run(&[case.file(), second(sha256(&projector))], &quick()).await;
    assert_eq!(result.unwrap().len(), 2);
    assert_eq!(case.leftovers(), ["mmproj.gguf", "model.gguf"]);
    let last = progress.iter().rfind(|p| p.phase == Phase::Downloading).unwrap();
    assert_eq!((last.file, last.files, last.file_name.as_str()), (1, 2, "mmproj.gguf"));
    assert_eq!(last.total, (MIB + MIB / 2) as u64);
}

#[tokio::test]
async fn the_token_is_sent_as_a_bearer_token() {
    let case = Case::new(1000);
    let options = DownloadOptions { token: Some("hf_secret".into()), ..quick() };
    let (result, _) = case.run(&[case.file()], &options).await;
    result.unwrap();
    let sent = case.server.requests("/model.gguf")[0].authorization.clone();
    assert_eq!(sent.as_deref(), Some("Bearer hf_secret"));
}

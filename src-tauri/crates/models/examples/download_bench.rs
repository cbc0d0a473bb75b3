//! Download speed against curl, from the same local server in the same run; prints JSON.
//!
//! `cargo run --release -p gemma-desk-models --example download_bench [MiB]` (default 512). Both
//! write to a file on the same disk; ours also computes the sha256 as the bytes arrive, where a
//! curl user would run sha256sum afterwards (timed too).

use std::process::Command;
use std::time::{Duration, Instant};

use gemma_desk_models::Control;
use gemma_desk_models::download::{DownloadFile, DownloadOptions, download};
use gemma_desk_testing::server::Server;

fn main() {
    let mib: usize = std::env::args().nth(1).and_then(|arg| arg.parse().ok()).unwrap_or(512);
    let body: Vec<u8> = (0..mib << 20).map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8).collect();
    let server = Server::start();
    let url = server.file("/bench.gguf", body);
    let dir = tempfile::tempdir().expect("a temporary folder");
    let seconds = |start: Instant| start.elapsed().as_secs_f64();
    let rate = |secs: f64| (mib as f64) / secs;

    let curl_path = dir.path().join("curl.gguf");
    let start = Instant::now();
    let status = Command::new("curl").args(["-sS", "--noproxy", "*", "-o"]).arg(&curl_path).arg(&url).status();
    let curl = seconds(start);
    assert!(status.is_ok_and(|s| s.success()), "curl failed");
    let start = Instant::now();
    let status = Command::new("sha256sum").arg(&curl_path).stdout(std::process::Stdio::null()).status();
    let sha256sum = seconds(start);
    assert!(status.is_ok_and(|s| s.success()), "sha256sum failed");

    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("a runtime");
    let file = DownloadFile { url, dest: dir.path().join("ours.gguf"), bytes: Some((mib << 20) as u64), sha256: None };
    let options =
        DownloadOptions { env_proxies: false, read_timeout: Duration::from_secs(60), ..DownloadOptions::default() };
    let (_control, signal) = Control::new();
    let start = Instant::now();
    runtime.block_on(download(&[file], &options, signal, |_| {})).expect("the download succeeds");
    let ours = seconds(start);

    println!(
        "{{\"mib\": {mib}, \"ours_mib_s\": {:.0}, \"curl_mib_s\": {:.0}, \"curl_then_sha256sum_mib_s\": {:.0}, \"ratio_to_curl\": {:.2}, \"ratio_to_curl_then_sha256sum\": {:.2}}}",
        rate(ours),
        rate(curl),
        rate(curl + sha256sum),
        curl / ours,
        (curl + sha256sum) / ours
    );
}

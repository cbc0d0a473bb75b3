//! `bench` and `bench-image` print their figures as JSON, with the in-run reference and ratios.

use serde_json::json;

use crate::{model_arg, run, test_projector};

#[test]
fn the_benchmark_reports_worker_and_reference_figures_with_ratios() {
    let model = model_arg();
    let output = run(&[
        "bench",
        "--model",
        &model,
        "--json",
        "--repetitions",
        "1",
        "--turns",
        "3",
        "--prompt-tokens",
        "64",
        "--gen-tokens",
        "8",
        "--ctx",
        "2048",
        "--pause-ms",
        "0",
        "--busy-threads",
        "1",
    ]);
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).expect("stdout is one JSON object");
    for key in ["prefill_tps", "decode_tps", "prefill_ratio", "decode_ratio"] {
        assert!(report[key].as_f64().is_some_and(|v| v > 0.0), "{key} in {report}");
    }
    for key in ["prefill_tps", "decode_tps"] {
        assert!(report["reference"][key].as_f64().is_some_and(|v| v > 0.0), "reference {key} in {report}");
    }
    let ttft = report["ttft_ms_by_turn"].as_array().unwrap();
    assert_eq!(ttft.len(), 3);
    let reused = report["reused_tokens_by_turn"].as_array().unwrap();
    assert!(reused[2].as_u64().unwrap() > reused[1].as_u64().unwrap(), "later turns reuse more: {reused:?}");
    assert_eq!(report["busy_threads"], 1);
    assert!(report["llama_server"].is_null(), "no reference server was asked for");
}

#[test]
#[cfg(unix)]
fn a_llama_server_that_does_not_start_is_a_clear_error() {
    let model = model_arg();
    let dir = tempfile::tempdir().unwrap();
    let server = dir.path().join("llama-server");
    std::fs::write(&server, "#!/bin/sh\necho 'error: unknown argument: --swa-full' >&2\nexit 1\n").unwrap();
    let mut permissions = std::fs::metadata(&server).unwrap().permissions();
    std::os::unix::fs::PermissionsExt::set_mode(&mut permissions, 0o755);
    std::fs::set_permissions(&server, permissions).unwrap();
    let output = run(&[
        "bench",
        "--model",
        &model,
        "--repetitions",
        "1",
        "--turns",
        "2",
        "--ctx",
        "512",
        "--llama-server",
        server.to_str().unwrap(),
    ]);
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("llama-server exited"), "{stderr}");
    assert!(stderr.contains("unknown argument: --swa-full"), "its own words are shown: {stderr}");
}

#[test]
fn the_image_benchmark_splits_a_photos_way_to_the_first_token() {
    let model = model_arg();
    let projector = test_projector("vision-gemma3");
    let output = run(&["bench-image", "--model", &model, "--mmproj", projector.to_str().unwrap(), "--repetitions", "1"]);
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).expect("stdout is one JSON object");
    // The 4000x3000 photo, scaled to the tiny projector's 112-pixel side, is its 16 tokens.
    assert_eq!((&report["image_size"], &report["encoder_input"]), (&json!("4000x3000"), &json!("112x84")), "{report}");
    assert_eq!(report["image_tokens"], 16);
    assert_eq!(report["product"]["image_tokens_encoded"], json!([16]), "the worker encoded the image: {report}");
    for part in ["decode_ms", "resize_ms", "encode_ms", "prefill_ms", "sum_ms"] {
        assert!(report["steps_in_process"][part].as_f64().is_some_and(|ms| ms > 0.0), "{part} in {report}");
    }
    assert!(report["reference_stb_image"]["decode_ms"].as_f64().is_some_and(|ms| ms > 0.0), "{report}");
}

//! `bench` prints its figures as JSON, with the in-run reference and ratios.

use crate::{model_arg, run};

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
}

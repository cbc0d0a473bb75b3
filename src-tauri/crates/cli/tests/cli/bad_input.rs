//! Bad input exits non-zero with one clear line: never a panic, never a core dump.

use crate::{model_arg, run, test_model};

/// Runs the CLI and checks that it failed cleanly; returns its error line.
fn refused(args: &[&str]) -> String {
    let output = run(args);
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    // 1 for errors found while running, 2 for usage errors found by the argument parser.
    assert!(
        matches!(output.status.code(), Some(1 | 2)),
        "args {args:?} must fail cleanly: {:?} {stderr}",
        output.status
    );
    assert!(!stderr.contains("panicked"), "args {args:?} panicked: {stderr}");
    let first = stderr.lines().next().unwrap_or_default().to_string();
    assert!(first.starts_with("error:"), "args {args:?}: the first line says what is wrong: {stderr}");
    first
}

#[test]
fn each_kind_of_bad_input_is_refused_with_a_clear_line() {
    let dir = tempfile::tempdir().unwrap();
    let text_file = dir.path().join("notes.gguf");
    std::fs::write(&text_file, "just some text, not a model").unwrap();
    let truncated = dir.path().join("truncated.gguf");
    let bytes = std::fs::read(test_model()).unwrap();
    std::fs::write(&truncated, &bytes[..bytes.len() / 3]).unwrap();
    let bad_json = dir.path().join("bad.json");
    std::fs::write(&bad_json, "[{\"role\": \"user\", \"content\": ").unwrap();
    let wrong_shape = dir.path().join("shape.json");
    std::fs::write(&wrong_shape, "[{\"role\": \"user\", \"content\": 42}]").unwrap();
    let empty_list = dir.path().join("empty.json");
    std::fs::write(&empty_list, "[]").unwrap();
    let bad_role = dir.path().join("role.json");
    std::fs::write(&bad_role, "[{\"role\": \"wizard\", \"content\": \"hi\"}]").unwrap();

    let model = model_arg();
    let (text, trunc) = (text_file.to_string_lossy(), truncated.to_string_lossy());
    let (bad_json, wrong_shape) = (bad_json.to_string_lossy(), wrong_shape.to_string_lossy());
    let (empty_list, bad_role) = (empty_list.to_string_lossy(), bad_role.to_string_lossy());
    let cases: Vec<(&str, Vec<&str>, &str)> = vec![
        ("missing model file", vec!["chat", "--model", "/nowhere/model.gguf", "hi"], "not found"),
        ("not a GGUF file", vec!["chat", "--model", &text, "hi"], "not a gguf"),
        ("truncated GGUF", vec!["chat", "--model", &trunc, "hi"], "truncated"),
        ("empty prompt", vec!["chat", "--model", &model, "   "], "empty"),
        (
            "malformed messages JSON",
            vec!["prompt", "--model", &model, "--messages", &bad_json],
            "not a valid messages file",
        ),
        (
            "content not a string",
            vec!["prompt", "--model", &model, "--messages", &wrong_shape],
            "not a valid messages file",
        ),
        ("no messages", vec!["prompt", "--model", &model, "--messages", &empty_list], "no messages"),
        ("unknown role", vec!["prompt", "--model", &model, "--messages", &bad_role], "unknown role"),
        ("missing messages file", vec!["prompt", "--model", &model, "--messages", "/nowhere.json"], "cannot read"),
        ("temperature out of range", vec!["chat", "--model", &model, "--temperature", "9", "hi"], "temperature"),
        ("top-p zero", vec!["chat", "--model", &model, "--top-p", "0", "hi"], "top-p"),
        ("negative top-k", vec!["chat", "--model", &model, "--top-k=-3", "hi"], "top-k"),
        ("max tokens zero", vec!["chat", "--model", &model, "--max-tokens", "0", "hi"], "max-tokens"),
        ("context too small", vec!["chat", "--model", &model, "--ctx", "10", "hi"], "ctx"),
        ("context beyond the model", vec!["chat", "--model", &model, "--ctx", "1000000", "hi"], "context size"),
        ("zero threads", vec!["chat", "--model", &model, "--threads", "0", "hi"], "threads"),
        ("not a number", vec!["chat", "--model", &model, "--seed", "abc", "hi"], "seed"),
        ("unknown option", vec!["chat", "--model", &model, "--tempreature", "1", "hi"], "tempreature"),
    ];
    for (name, args, expected) in cases {
        let line = refused(&args);
        assert!(line.to_lowercase().contains(expected), "{name}: expected {expected:?} in {line:?}");
    }
}

//! `chat --tools`: each call asked about on the terminal; a call that reads a file runs on the
//! path typed there; a tool name that is no tool is refused before anything starts.

use std::io::Write;
use std::process::Stdio;

use crate::{cli, model_arg, run, test_model_with_template};

/// Runs a one-shot chat with tools, `answers` on stdin; its stderr.
fn chat_with_tools(extra: &[&str], answers: &str) -> String {
    let model = test_model_with_template("gemma-4-tool-tokens").to_string_lossy().into_owned();
    let mut args = vec!["chat", "--model", &model, "--greedy", "--max-tokens", "24", "--ctx", "2048", "--tools"];
    args.extend(extra);
    args.push("What is in my notes?");
    let mut child =
        cli().args(&args).stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
    child.stdin.take().unwrap().write_all(answers.as_bytes()).unwrap();
    let output = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    assert!(output.status.success(), "{stderr}");
    stderr
}

#[test]
fn a_call_that_reads_a_file_runs_on_the_path_typed_and_is_declined_without_one() {
    let dir = tempfile::tempdir().unwrap();
    let notes = dir.path().join("notes.txt");
    std::fs::write(&notes, "The secret word is heliotrope.").unwrap();
    let stderr = chat_with_tools(&["--require-tool", "read_text_file"], &format!("{}\n", notes.display()));
    assert!(stderr.contains("read_text_file wants to read a text file"), "{stderr}");
    assert!(
        stderr.contains("[read_text_file answered: The user picked notes.txt: The secret word is heliotrope.]"),
        "{stderr}"
    );
    let declined = chat_with_tools(&["--require-tool", "read_text_file"], "\n");
    assert!(declined.contains("[read_text_file declined: the user declined this call]"), "{declined}");
}

#[test]
fn a_call_is_asked_about_until_the_answer_is_one_of_the_four() {
    let stderr = chat_with_tools(&["--require-tool", "current_datetime"], "maybe\ny\n");
    assert!(stderr.contains("current_datetime wants to run with {}"), "{stderr}");
    assert!(stderr.contains("answer y, n, c or a"), "{stderr}");
    assert!(stderr.contains("[current_datetime answered: "), "{stderr}");
}

#[test]
fn an_unknown_tool_name_is_refused_before_anything_starts() {
    let model = model_arg();
    let output = run(&["chat", "--model", &model, "--tools", "--allow-tool", "rm", "Hi"]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success());
    assert!(stderr.contains("there is no tool named \"rm\"; the tools are current_datetime, calculator"), "{stderr}");
}

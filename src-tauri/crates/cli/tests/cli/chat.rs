//! `chat` as a user runs it: one-shot and interactive.

use std::io::Write;
use std::process::Stdio;

use crate::{cli, model_arg, run};

#[test]
fn a_one_shot_chat_prints_only_the_reply_on_stdout_and_figures_on_stderr() {
    let model = model_arg();
    let output = run(&["chat", "--model", &model, "--greedy", "--max-tokens", "12", "--ctx", "512", "Hello there"]);
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let stdout = String::from_utf8(output.stdout).unwrap();
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert!(!stdout.trim().is_empty(), "the reply is printed");
    assert!(!stdout.contains("tokens;"), "figures stay off stdout");
    assert!(stderr.contains("12 tokens") && stderr.contains("time to first token"), "{stderr}");
    assert!(stderr.contains("maximum number of tokens"), "the stop reason is given: {stderr}");
}

#[test]
fn one_shot_greedy_replies_are_reproducible() {
    let model = model_arg();
    let args = [
        "chat",
        "--model",
        &model,
        "--greedy",
        "--max-tokens",
        "10",
        "--ctx",
        "512",
        "--system",
        "Be brief.",
        "Name a colour.",
    ];
    let first = run(&args);
    let second = run(&args);
    for output in [&first, &second] {
        assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    }
    assert!(!first.stdout.is_empty(), "a reply is printed, or there is nothing to compare");
    assert_eq!(first.stdout, second.stdout);
}

#[test]
fn the_interactive_chat_keeps_the_conversation_and_its_cache_across_turns() {
    let model = model_arg();
    // Long enough to fill whole cache chunks, which are what a later turn reuses.
    let system = "You are a patient guide to harbours, lighthouses and the sea. ".repeat(8);
    let mut child = cli()
        .args(["chat", "--model", &model, "--greedy", "--max-tokens", "8", "--ctx", "1024", "--system", &system])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.as_mut().unwrap().write_all("What is a lighthouse?\nAnd a harbour?\n/exit\n".as_bytes()).unwrap();
    let output = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    let figures: Vec<&str> = stderr.lines().filter(|l| l.contains("prompt tokens reused")).collect();
    assert_eq!(figures.len(), 2, "two replies: {stderr}");
    assert!(figures[0].contains("(0 of"), "the first turn has nothing cached: {}", figures[0]);
    let reused: u32 = figures[1].split("t/s (").nth(1).unwrap().split(' ').next().unwrap().parse().unwrap();
    assert!(reused >= 64, "the second turn reuses the first: {}", figures[1]);
}

#[test]
fn ctrl_c_stops_the_current_reply_without_quitting() {
    use std::io::Read;
    let model = model_arg();
    let mut child = cli()
        .args(["chat", "--model", &model, "--greedy", "--max-tokens", "200", "--ctx", "1024"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    stdin.write_all(b"Tell me a very long story.\n").unwrap();
    let mut stdout = child.stdout.take().unwrap();
    let mut first = [0u8; 1];
    stdout.read_exact(&mut first).expect("the reply starts streaming");
    let interrupt = std::process::Command::new("kill").args(["-INT", &child.id().to_string()]).status().unwrap();
    assert!(interrupt.success());
    stdin.write_all(b"And now?\n/exit\n").unwrap();
    drop(stdin);
    let mut rest = String::new();
    stdout.read_to_string(&mut rest).unwrap();
    let output = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "Ctrl-C must not end the chat: {stderr}");
    let figures: Vec<&str> = stderr.lines().filter(|l| l.contains("stop:")).collect();
    assert_eq!(figures.len(), 2, "both messages got a reply: {stderr}");
    assert!(figures[0].contains("stopped by the user"), "{}", figures[0]);
}

//! `chat --db`, `--continue` and `history`: conversations kept in a real SQLite file.

use crate::{model_arg, run};

fn ok(args: &[&str]) -> (String, String) {
    let output = run(args);
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    assert!(output.status.success(), "{args:?}: {stderr}");
    (String::from_utf8(output.stdout).unwrap(), stderr)
}

/// The conversation id a chat announces on stderr.
fn conversation_id(stderr: &str) -> String {
    let line = stderr
        .lines()
        .find(|l| l.starts_with("(conversation "))
        .expect("the chat says where it stored the conversation");
    line["(conversation ".len()..].split(';').next().unwrap().to_string()
}

#[test]
fn a_stored_chat_can_be_listed_shown_searched_continued_exported_and_imported() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("history.sqlite3");
    let db = db.to_string_lossy();
    let model = model_arg();
    let common = ["--db", &db, "--model", &model, "--greedy", "--max-tokens", "6", "--ctx", "1024"];

    let (first_reply, stderr) =
        ok(&[&["chat"][..], &common, &["--system", "Be brief.", "Tell me about zeppelins"]].concat());
    let id = conversation_id(&stderr);

    let (list, _) = ok(&["history", "--db", &db, "list"]);
    assert_eq!(list.lines().next().unwrap(), format!("{id}\tTell me about zeppelins"), "id first, then the title");

    let (shown, _) = ok(&["history", "--db", &db, "show", &id]);
    assert!(shown.contains("Tell me about zeppelins") && shown.contains(first_reply.trim()), "{shown}");
    assert!(shown.contains("Be brief."), "the system prompt is kept: {shown}");

    let (hits, _) = ok(&["history", "--db", &db, "search", "zeppelin"]);
    assert!(hits.starts_with(&format!("{id}\t")) && hits.contains("[zeppelins]"), "{hits}");

    let (_, stderr) = ok(&[&["chat"][..], &common, &["--continue", &id, "And airships?"]].concat());
    assert_eq!(conversation_id(&stderr), id, "--continue adds to the same conversation");
    let (shown, _) = ok(&["history", "--db", &db, "show", &id]);
    assert!(shown.contains("Tell me about zeppelins") && shown.contains("And airships?"), "{shown}");

    let exported = dir.path().join("export.json");
    ok(&[
        "history",
        "--db",
        &db,
        "export",
        &id,
        "--format",
        "json",
        "--scope",
        "tree",
        "--output",
        &exported.to_string_lossy(),
    ]);
    let (markdown, _) = ok(&["history", "--db", &db, "export", &id, "--format", "md"]);
    assert!(markdown.contains("And airships?"), "{markdown}");
    let (imported, _) = ok(&["history", "--db", &db, "import", &exported.to_string_lossy()]);
    let new_id = imported.split('\t').next().unwrap();
    assert_ne!(new_id, id);
    let (original, _) = ok(&["history", "--db", &db, "show", &id]);
    let (copy, _) = ok(&["history", "--db", &db, "show", new_id]);
    assert_eq!(original, copy, "an imported conversation shows exactly like the original");
}

#[test]
fn history_refuses_unknown_ids_and_bad_imports_clearly() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("empty.sqlite3");
    let db = db.to_string_lossy();
    let output = run(&["history", "--db", &db, "show", "4242"]);
    assert_eq!(output.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&output.stderr).contains("4242"));
    let bad = dir.path().join("bad.json");
    std::fs::write(&bad, "{\"format\": \"something else\"}").unwrap();
    let output = run(&["history", "--db", &db, "import", &bad.to_string_lossy()]);
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.starts_with("error:") && !stderr.contains("panicked"), "{stderr}");
}

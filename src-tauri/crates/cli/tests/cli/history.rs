//! `chat --db`, `--continue` and `history`: conversations kept in a real SQLite file.

use gemma_desk_store::{ConversationSettings, DatabaseLock, MessageStatus, Role, Store};

use crate::{conversation_id, model_arg, run};

fn ok(args: &[&str]) -> (String, String) {
    let output = run(args);
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    assert!(output.status.success(), "{args:?}: {stderr}");
    (String::from_utf8(output.stdout).unwrap(), stderr)
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

#[test]
fn a_database_the_app_is_writing_can_be_read_but_not_written_from_the_terminal() {
    // Issue 9: the CLI used to open the app's database for writing under it, marking the reply
    // it was streaming `interrupted`. The lock this test holds is the one a running app holds.
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("gemma-desk.sqlite3");
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let (store, conversation, streaming) = runtime.block_on(async {
        let store = Store::open_database(&db).await.unwrap();
        let conversation = store.create_conversation(None, None, &ConversationSettings::default(), 1).await.unwrap();
        let question = store.add_message(conversation.id, None, Role::User, "Still streaming?", 2).await.unwrap();
        let reply = store.begin_reply(conversation.id, question.id, None, 3).await.unwrap();
        (store, conversation.id, reply.id)
    });
    let app_lock = DatabaseLock::acquire(&db).expect("nobody holds the lock yet");
    let db = db.to_string_lossy();

    let model = model_arg();
    let output = run(&["chat", "--db", &db, "--model", &model, "--max-tokens", "4", "Hello"]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "a chat may not write the app's database: {stderr}");
    assert!(stderr.starts_with("error:") && stderr.contains("already using"), "{stderr}");
    let output = run(&["chat", "--db", &db, "--model", &model, "--continue", &conversation.to_string(), "Hi"]);
    assert_eq!(output.status.code(), Some(1), "nor continue a conversation in it");

    let (list, _) = ok(&["history", "list", "--db", &db]);
    assert!(list.starts_with(&format!("{conversation}\tStill streaming?")), "reading is fine, --db after list: {list}");
    let status = runtime.block_on(store.message(streaming)).unwrap().status;
    assert_eq!(status, MessageStatus::Streaming, "the app's streaming reply is left alone");
    drop(app_lock);

    let (_, stderr) = ok(&["history", "list", "--db", &db]);
    assert!(stderr.contains("cut short by a crash"), "with the app gone the reply is recovered: {stderr}");
}

#[test]
fn a_conversation_whose_question_was_never_answered_can_be_continued() {
    // Issue 9: killed between storing the question and creating the reply, a conversation ends
    // with a question; `--continue` then sent two user turns in a row, which Gemma's template
    // refuses. The turn is now the app's own, which joins them.
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("unanswered.sqlite3");
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let conversation = runtime.block_on(async {
        let store = Store::open_database(&db).await.unwrap();
        let conversation = store.create_conversation(None, None, &ConversationSettings::default(), 1).await.unwrap();
        store.add_message(conversation.id, None, Role::User, "Are you there?", 2).await.unwrap();
        store.close().await.unwrap();
        conversation.id
    });
    let (db, model, id) = (db.to_string_lossy(), model_arg(), conversation.to_string());
    let (reply, stderr) =
        ok(&["chat", "--db", &db, "--model", &model, "--greedy", "--max-tokens", "6", "--continue", &id, "Hello?"]);
    assert!(!reply.trim().is_empty() && stderr.contains("stop:"), "the question is answered: {stderr}");
    let (shown, _) = ok(&["history", "show", &id, "--db", &db]);
    assert!(shown.contains("Are you there?") && shown.contains("Hello?") && shown.contains(reply.trim()), "{shown}");
}

#[test]
fn after_a_chat_the_database_file_alone_holds_it_and_a_backup_is_taken_beside_a_running_app() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("gemma-desk.sqlite3");
    let (db_arg, model) = (db.to_string_lossy().into_owned(), model_arg());
    let (_, stderr) = ok(&["chat", "--db", &db_arg, "--model", &model, "--greedy", "--max-tokens", "4", "Hello there"]);
    let id = conversation_id(&stderr);
    let wal = dir.path().join("gemma-desk.sqlite3-wal");
    assert!(std::fs::metadata(&wal).map_or(true, |meta| meta.len() == 0), "the chat left its WAL checkpointed");
    let alone = tempfile::tempdir().unwrap();
    std::fs::copy(&db, alone.path().join("copy.sqlite3")).unwrap();
    let (listed, _) = ok(&["history", "--db", &alone.path().join("copy.sqlite3").to_string_lossy(), "list"]);
    assert!(listed.starts_with(&format!("{id}\tHello there")), "the copied file alone has the chat: {listed}");

    // The app: it holds the lock and streams a reply while the backup is taken.
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let app_lock = DatabaseLock::acquire(&db).unwrap();
    let (store, streaming) = runtime.block_on(async {
        let store = Store::open_database_in_use(&db).await.unwrap();
        let chat = store.create_conversation(None, None, &ConversationSettings::default(), 10).await.unwrap();
        let question = store.add_message(chat.id, None, Role::User, "A long story, please", 11).await.unwrap();
        let reply = store.begin_reply(chat.id, question.id, None, 12).await.unwrap();
        store.save_reply_text(reply.id, "It was a dark", 13).await.unwrap();
        (store, reply.id)
    });
    let backup = dir.path().join("backups").join("saved.sqlite3");
    std::fs::create_dir_all(backup.parent().unwrap()).unwrap();
    let (said, _) = ok(&["history", "--db", &db_arg, "backup", &backup.to_string_lossy()]);
    assert!(said.starts_with("backed up 2 conversations and 0 attachment files to "), "{said}");
    runtime.block_on(store.save_reply_text(streaming, "It was a dark and stormy night", 14)).unwrap();
    drop(app_lock);

    let restored = runtime.block_on(Store::open_database(&backup)).unwrap();
    let story = runtime.block_on(restored.message(streaming)).unwrap();
    assert_eq!(story.content, "It was a dark", "the backup holds the reply as it was when it was taken");
    assert_eq!(story.status, MessageStatus::Interrupted, "and says it was cut short");
    let error = run(&["history", "--db", &db_arg, "backup", &db_arg]);
    assert_eq!(error.status.code(), Some(1), "a backup onto the database itself is refused");
}

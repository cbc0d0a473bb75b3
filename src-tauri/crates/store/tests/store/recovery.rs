//! Opening a store: the schema from an empty folder, SQLite's settings, and recovery of replies
//! cut short by a crash.

use gemma_desk_store::{MessageStatus, ReplyStats, Role, Store, StoreError};
use sqlx::Row;

use crate::{new_conversation, open_store, raw_connection};

#[tokio::test]
async fn opening_an_empty_folder_creates_the_database_with_every_table() {
    let (dir, store) = open_store().await;
    assert_eq!(store.database_path(), dir.path().join("gemma-desk.sqlite3"));
    assert!(store.database_path().is_file(), "the database file is created");
    assert!(dir.path().join("attachments").is_dir(), "the attachments folder is created");
    let mut raw = raw_connection(&store).await;
    let tables: Vec<String> = sqlx::query_scalar("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
        .fetch_all(&mut raw)
        .await
        .unwrap();
    for table in ["attachments", "conversations", "messages", "messages_fts"] {
        assert!(tables.iter().any(|name| name == table), "migrations create {table}: {tables:?}");
    }
}

#[tokio::test]
async fn the_database_runs_in_wal_mode_and_is_healthy() {
    let (_dir, store) = open_store().await;
    let mut raw = raw_connection(&store).await;
    let mode: String = sqlx::query_scalar("PRAGMA journal_mode").fetch_one(&mut raw).await.unwrap();
    assert_eq!(mode, "wal", "WAL keeps readers and the streaming writer out of each other's way");
    assert_eq!(store.integrity_check().await.unwrap(), "ok");
}

#[tokio::test]
async fn full_text_search_works_on_a_new_database() {
    let (_dir, store) = open_store().await;
    let chat = new_conversation(&store, 1).await;
    store.add_message(chat.id, None, Role::User, "fresh databases search too", 2).await.unwrap();
    assert_eq!(store.search("fresh", 10).await.unwrap().len(), 1, "the FTS5 table and its triggers exist");
}

#[tokio::test]
async fn foreign_keys_are_on_so_purging_a_conversation_removes_its_messages() {
    let (_dir, store) = open_store().await;
    let chat = new_conversation(&store, 1).await;
    let question = store.add_message(chat.id, None, Role::User, "q", 2).await.unwrap();
    store.add_message(chat.id, Some(question.id), Role::Assistant, "a", 3).await.unwrap();
    store.delete_conversation(chat.id, 4).await.unwrap();
    assert_eq!(store.purge_deleted(5).await.unwrap(), 1);
    let mut raw = raw_connection(&store).await;
    let left: i64 = sqlx::query("SELECT count(*) FROM messages").fetch_one(&mut raw).await.unwrap().get(0);
    assert_eq!(left, 0, "ON DELETE CASCADE only works with foreign keys on");
}

#[tokio::test]
async fn a_reply_left_streaming_is_interrupted_with_its_text_on_the_next_open() {
    let (dir, store) = open_store().await;
    let chat = new_conversation(&store, 1).await;
    let question = store.add_message(chat.id, None, Role::User, "Tell me a story", 2).await.unwrap();
    let reply = store.begin_reply(chat.id, question.id, Some("gemma"), 3).await.unwrap();
    store.save_reply_text(reply.id, "Once upon a", 4).await.unwrap();
    assert_eq!(store.recovered_replies(), 0, "a fresh database has nothing to recover");
    drop(store);

    let store = Store::open(dir.path()).await.unwrap();
    assert_eq!(store.recovered_replies(), 1, "the reply still streaming is counted");
    let recovered = store.message(reply.id).await.unwrap();
    assert_eq!(recovered.status, MessageStatus::Interrupted);
    assert_eq!(recovered.content, "Once upon a", "the text saved before the crash is kept");
    assert_eq!(store.message(question.id).await.unwrap().content, "Tell me a story");
    let branch = store.current_branch(chat.id).await.unwrap();
    assert_eq!(branch.last().map(|m| m.message.id), Some(reply.id), "the interrupted reply is still shown");
    store.close().await.unwrap();

    let store = Store::open(dir.path()).await.unwrap();
    assert_eq!(store.recovered_replies(), 0, "an interrupted reply is recovered once");
    assert_eq!(store.integrity_check().await.unwrap(), "ok");
}

#[tokio::test]
async fn a_data_folder_that_is_a_file_gives_an_error_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("not-a-folder");
    std::fs::write(&file, b"x").unwrap();
    let error = Store::open(&file).await.expect_err("a file cannot hold the database");
    assert!(matches!(error, StoreError::Io { .. }), "an I/O error, not a database one: {error:?}");
    assert!(error.to_string().contains("not-a-folder"), "the message names the path: {error}");
}

#[tokio::test]
async fn two_stores_on_one_file_see_each_others_writes() {
    let (dir, store) = open_store().await;
    let other = Store::open(dir.path()).await.unwrap();
    let chat = new_conversation(&store, 1).await;
    other.add_message(chat.id, None, Role::User, "from the CLI", 2).await.unwrap();
    assert_eq!(store.current_branch(chat.id).await.unwrap().len(), 1, "the app and the CLI may share the file");
}

/// Every file in `folder` with its bytes, to show that a refused open changed nothing.
fn folder_contents(folder: &std::path::Path) -> Vec<(std::ffi::OsString, Vec<u8>)> {
    let mut files: Vec<_> = std::fs::read_dir(folder)
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .map(|path| (path.file_name().unwrap().to_owned(), std::fs::read(&path).unwrap_or_default()))
        .collect();
    files.sort();
    files
}

/// Opens the data folder `dir` holding `database` as its database file; the error must be
/// [`StoreError::NotOurs`] saying `why`, and no file in the folder may have changed.
async fn assert_refused_untouched(dir: &std::path::Path, why: &str) {
    let before = folder_contents(dir);
    let error = Store::open(dir).await.expect_err("the file is refused");
    assert!(matches!(error, StoreError::NotOurs { .. }), "refused as not ours: {error:?}");
    let message = error.to_string();
    assert!(message.contains(why) && message.contains("gemma-desk.sqlite3") && message.contains("untouched"), "{message}");
    assert_eq!(folder_contents(dir), before, "nothing in the folder was written, added or removed");
}

#[tokio::test]
async fn a_file_that_is_not_sqlite_is_refused_and_left_as_it_is() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(Store::database_in(dir.path()), "my notes, not a database\n".repeat(100)).unwrap();
    assert_refused_untouched(dir.path(), "not an SQLite database").await;
}

#[tokio::test]
async fn a_database_cut_short_is_refused_and_left_as_it_is() {
    let dir = tempfile::tempdir().unwrap();
    let (source, store) = open_store().await;
    let chat = new_conversation(&store, 1).await;
    store.add_message(chat.id, None, Role::User, &"long enough to need pages ".repeat(2000), 2).await.unwrap();
    store.close().await.unwrap();
    let whole = std::fs::read(Store::database_in(source.path())).unwrap();
    assert!(whole.len() > 16 * 4096, "the database has many pages: {}", whole.len());
    std::fs::write(Store::database_in(dir.path()), &whole[..whole.len() / 2]).unwrap();
    assert_refused_untouched(dir.path(), "cut short").await;
}

#[tokio::test]
async fn another_programs_database_is_refused_and_left_as_it_is() {
    use sqlx::{ConnectOptions, Connection};
    let dir = tempfile::tempdir().unwrap();
    let database = Store::database_in(dir.path());
    let mut other = sqlx::sqlite::SqliteConnectOptions::new().filename(&database).create_if_missing(true).connect().await.unwrap();
    sqlx::query("CREATE TABLE invoices (id INTEGER PRIMARY KEY, total REAL)").execute(&mut other).await.unwrap();
    sqlx::query("INSERT INTO invoices (total) VALUES (12.5)").execute(&mut other).await.unwrap();
    other.close().await.unwrap();
    assert_refused_untouched(dir.path(), "another program's tables (invoices)").await;
}

#[tokio::test]
async fn an_empty_file_becomes_a_new_database() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(Store::database_in(dir.path()), b"").unwrap();
    let store = Store::open(dir.path()).await.expect("an empty file is a new database");
    assert_eq!(store.integrity_check().await.unwrap(), "ok");
}

#[tokio::test]
async fn a_database_from_before_image_token_figures_is_migrated_and_keeps_its_replies() {
    use sqlx::{ConnectOptions, Connection};
    let dir = tempfile::tempdir().unwrap();
    // The first migration alone: the schema of the versions before image-token figures.
    let first = tempfile::tempdir().unwrap();
    let migrations = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations");
    std::fs::copy(migrations.join("0001_conversations.sql"), first.path().join("0001_conversations.sql")).unwrap();
    let options =
        sqlx::sqlite::SqliteConnectOptions::new().filename(Store::database_in(dir.path())).create_if_missing(true);
    let mut old = options.connect().await.unwrap();
    sqlx::migrate::Migrator::new(first.path()).await.unwrap().run(&mut old).await.unwrap();
    let columns: Vec<String> =
        sqlx::query_scalar("SELECT name FROM pragma_table_info('messages')").fetch_all(&mut old).await.unwrap();
    assert!(
        !columns.iter().any(|column| column.starts_with("image_tokens")),
        "the first migration is as released, without the image-token columns: {columns:?}"
    );
    sqlx::query(
        "INSERT INTO conversations (id, title, created_at, updated_at, current_leaf_id) VALUES (1, 'Old', 1, 3, 2);
         INSERT INTO messages (id, conversation_id, parent_id, role, content, status, created_at, updated_at)
             VALUES (1, 1, NULL, 'user', 'Hi', 'done', 1, 1);
         INSERT INTO messages (id, conversation_id, parent_id, role, content, status, prompt_tokens, reused_tokens,
                 created_at, updated_at)
             VALUES (2, 1, 1, 'assistant', 'Hello', 'done', 12, 3, 2, 3);",
    )
    .execute(&mut old)
    .await
    .unwrap();
    old.close().await.unwrap();

    let store = Store::open(dir.path()).await.expect("the older database opens");
    let reply = store.message(2).await.unwrap();
    assert_eq!(
        (reply.content.as_str(), reply.stats.prompt_tokens, reply.stats.reused_tokens),
        ("Hello", Some(12), Some(3))
    );
    assert_eq!(
        (reply.stats.image_tokens_reused, reply.stats.image_tokens_encoded),
        (None, None),
        "nothing was measured"
    );
    let question = store.add_message(1, Some(2), Role::User, "And this picture?", 4).await.unwrap();
    let next = store.begin_reply(1, question.id, None, 5).await.unwrap();
    let stats = ReplyStats { image_tokens_reused: Some(0), image_tokens_encoded: Some(576), ..ReplyStats::default() };
    let next = store.finish_reply(next.id, "A cat.", MessageStatus::Done, None, &stats, 6).await.unwrap();
    assert_eq!(next.stats, stats, "the migrated database keeps the new figures");
    assert_eq!(store.integrity_check().await.unwrap(), "ok");
}

//! Start-up that never dies silently: a database that cannot be opened leaves the app running on
//! a recovery screen, untouched, until the user picks a way out. Choosing another folder goes
//! through a folder dialog, answered by an environment variable: the window tests cover it
//! (`tests/e2e/test_durability.py`), since setting one here would race the other tests.

use gemma_desk_settings::Settings;
use serde_json::json;

use crate::TestApp;

/// A data folder whose database is another program's text file.
fn foreign_database(dir: &std::path::Path) -> (std::path::PathBuf, Vec<u8>) {
    let data = dir.join("data");
    std::fs::create_dir_all(&data).unwrap();
    let database = data.join("gemma-desk.sqlite3");
    let bytes = b"Dear diary, this is not a database.\n".repeat(50);
    std::fs::write(&database, &bytes).unwrap();
    (database, bytes)
}

#[test]
fn a_foreign_database_is_reported_kept_and_can_be_set_aside() {
    let dir = tempfile::tempdir().unwrap();
    let (database, bytes) = foreign_database(dir.path());
    let settings = Settings { data_dir: Some(dir.path().join("data")), ..Default::default() };
    let app = TestApp::start_through_startup(dir, Some(&settings));

    let problem = app.call("startup_problem", json!({})).unwrap();
    let message = problem["message"].as_str().unwrap();
    assert!(message.contains("not an SQLite database") && message.contains("untouched"), "{problem}");
    assert_eq!(problem["damaged_file"], json!(database));
    assert_eq!(std::fs::read(&database).unwrap(), bytes, "the file is unchanged");
    let retried = app.call("recover_startup", json!({ "recovery": "retry" })).unwrap();
    assert_eq!(retried["message"], problem["message"], "trying again finds the same problem");

    assert_eq!(app.call("recover_startup", json!({ "recovery": "set_aside" })).unwrap(), json!(null));
    let aside = database.with_file_name("gemma-desk.sqlite3.damaged");
    assert_eq!(std::fs::read(&aside).unwrap(), bytes, "set aside byte for byte");
    assert_eq!(app.call("startup_problem", json!({})).unwrap(), json!(null));
    let listed = app.call("list_conversations", json!({ "limit": 10, "offset": 0 })).unwrap();
    assert_eq!(listed, json!([]), "the app runs on an empty database");
}

#[test]
fn a_healthy_start_has_no_problem_and_a_repaired_settings_file_is_said() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("config");
    std::fs::create_dir_all(&config).unwrap();
    let data = dir.path().join("data");
    let text = format!(r#"{{"theme": "dark", "data_dir": {}, "threads": 0}}"#, json!(data));
    std::fs::write(config.join("settings.json"), &text).unwrap();
    let app = TestApp::start_through_startup(dir, None);
    assert_eq!(app.call("startup_problem", json!({})).unwrap(), json!(null));
    let view = app.call("app_state", json!({})).unwrap();
    assert_eq!(view["settings"]["theme"], "dark");
    assert_eq!(view["data_dir"], json!(data));
    assert_eq!(view["settings_notice"]["reset"], json!(["threads"]));
    let old = view["settings_notice"]["old_file"].as_str().unwrap();
    assert_eq!(std::fs::read_to_string(old).unwrap(), text);
    assert_eq!(view["max_message_chars"], 100_000);
}

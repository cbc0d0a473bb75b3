//! Conversations through the commands: create, rename, pin, delete and undo; the data folder
//! belongs to one app at a time; settings are kept.

use gemma_desk_app::state::{AppPaths, AppState};
use gemma_desk_settings::Settings;
use gemma_desk_engine::WorkerCommand;
use serde_json::json;

use crate::TestApp;

#[test]
fn conversations_are_listed_pinned_first_then_newest() {
    let app = TestApp::start();
    let ids: Vec<_> = (0..3)
        .map(|_| app.call("create_conversation", json!({ "systemPrompt": "Be brief." })).unwrap()["id"].clone())
        .collect();
    let renamed = app.call("rename_conversation", json!({ "id": ids[0], "title": "  Oldest  " })).unwrap();
    assert_eq!(renamed["title"], "Oldest");
    assert_eq!(renamed["settings"]["system_prompt"], "Be brief.");
    app.call("set_pinned", json!({ "id": ids[1], "pinned": true })).unwrap();
    let listed = app.call("list_conversations", json!({ "limit": 10, "offset": 0 })).unwrap();
    let order: Vec<_> = listed.as_array().unwrap().iter().map(|c| c["id"].clone()).collect();
    assert_eq!(order[0], ids[1], "pinned first");
    assert_eq!(order.len(), 3);

    app.call("delete_conversation", json!({ "id": ids[2] })).unwrap();
    let listed = app.call("list_conversations", json!({ "limit": 10, "offset": 0 })).unwrap();
    assert_eq!(listed.as_array().unwrap().len(), 2, "a deleted conversation leaves the list");
    let restored = app.call("restore_conversation", json!({ "id": ids[2] })).unwrap();
    assert_eq!(restored["deleted_at"], json!(null));
    assert_eq!(
        app.call("list_conversations", json!({ "limit": 10, "offset": 0 })).unwrap().as_array().unwrap().len(),
        3
    );
}

#[test]
fn settings_are_validated_saved_and_read_back() {
    let app = TestApp::start();
    let state = app.call("app_state", json!({})).unwrap();
    assert_eq!(state["builtin_presets"].as_array().unwrap().len(), 5);
    assert_eq!(state["sampling_defaults"]["top_k"], 64, "Gemma's defaults");
    assert_eq!(state["engine"]["state"], "none");
    let mut settings = state["settings"].clone();
    settings["theme"] = json!("dark");
    settings["custom_presets"] = json!([{ "id": "custom-pirate", "name": "Pirate", "prompt": "Arr." }]);
    settings["preset_id"] = json!("custom-pirate");
    settings["sampling"] = json!({ "temperature": 0.5 });
    let saved = app.call("save_settings", json!({ "settings": settings })).unwrap();
    assert_eq!(saved["settings"]["theme"], "dark");
    let on_disk = std::fs::read_to_string(app.dir.path().join("config/settings.json")).unwrap();
    assert!(on_disk.contains("custom-pirate"), "{on_disk}");
}

#[test]
fn a_second_app_on_the_same_data_folder_is_refused() {
    let app = TestApp::start();
    let settings = Settings { data_dir: Some(app.dir.path().join("data")), ..Default::default() };
    let paths = AppPaths { settings: app.dir.path().join("other.json"), logs: app.dir.path().join("logs") };
    let worker = WorkerCommand { program: "unused".into(), args: vec![] };
    let Err(error) = tauri::async_runtime::block_on(AppState::open(paths, settings, worker)) else {
        panic!("the second app opened the same conversations")
    };
    assert!(error.message.contains("already using"), "{error:?}");
}

#[test]
fn a_system_prompt_set_on_a_conversation_writes_its_next_reply() {
    let app = TestApp::start();
    app.load_test_model();
    let mut settings = app.call("app_state", json!({})).unwrap()["settings"].clone();
    settings["sampling"] = json!({ "greedy": true, "max_tokens": 2 });
    app.call("save_settings", json!({ "settings": settings })).unwrap();
    let presets = app.call("app_state", json!({})).unwrap()["builtin_presets"].clone();
    let analysis = presets.as_array().unwrap().iter().find(|p| p["id"] == "image-analysis").unwrap()["prompt"].clone();
    let create =
        |prompt: serde_json::Value| app.call("create_conversation", json!({ "systemPrompt": prompt })).unwrap();
    let prompt_tokens = |id: &serde_json::Value| {
        let args = json!({ "conversationId": id, "text": "Hello", "onEvent": crate::channel() });
        let reply = app.call("send_message", args).unwrap();
        reply["stats"]["prompt_tokens"].as_i64().unwrap_or_else(|| panic!("no prompt figure: {reply}"))
    };

    let chosen = create(json!(null));
    let id = chosen["id"].clone();
    let updated = app.call("set_system_prompt", json!({ "conversationId": id, "prompt": analysis })).unwrap();
    assert_eq!(updated["settings"]["system_prompt"], analysis);
    assert_eq!(updated["settings"]["sampling"], chosen["settings"]["sampling"], "only the prompt changes");
    let stored = app.call("open_conversation", json!({ "id": id })).unwrap()["conversation"].clone();
    assert_eq!(stored["settings"]["system_prompt"], analysis, "kept in the store");

    let started_with_it = prompt_tokens(&create(analysis.clone())["id"]);
    let started_without = prompt_tokens(&create(json!(null))["id"]);
    assert!(
        started_with_it > started_without,
        "the preset lengthens the prompt: {started_with_it} vs {started_without}"
    );
    assert_eq!(prompt_tokens(&id), started_with_it, "the reply is written with the prompt set afterwards");

    let cleared = app.call("set_system_prompt", json!({ "conversationId": id, "prompt": "  " })).unwrap();
    assert_eq!(cleared["settings"]["system_prompt"], json!(null), "a blank prompt is none");
}

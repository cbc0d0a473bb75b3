//! A conversation's whole life through the commands, with the real model: send, regenerate,
//! switch branches, edit, search, export and import.
//!
//! A test binary of its own, with one test: the file dialogs are answered through environment
//! variables (as in the window tests), and setting one is only sound while no other thread may
//! read the environment, i.e. before the app starts.

#[path = "../commands/app.rs"]
mod app;

use app::{TestApp, channel};
use serde_json::json;

#[test]
fn a_conversation_from_first_message_to_export_and_import() {
    let exports = tempfile::tempdir().unwrap();
    // The save dialog writes the suggested name (the title) there; the open dialog picks that.
    let exported_json = exports.path().join("Tell me about lighthouses.json");
    // SAFETY: this binary's only test sets them before the app, or any other thread, starts.
    unsafe {
        std::env::set_var("GEMMA_DESK_DIALOG_SAVE_DIR", exports.path());
        std::env::set_var("GEMMA_DESK_DIALOG_OPEN_FILE", &exported_json);
    }
    let app = TestApp::start();
    app.load_test_model();
    let mut settings = app.call("app_state", json!({})).unwrap()["settings"].clone();
    assert!(settings["model"]["model"].as_str().unwrap().ends_with(".gguf"), "the model choice is remembered");
    settings["sampling"] = json!({ "greedy": true, "max_tokens": 12 });
    app.call("save_settings", json!({ "settings": settings })).unwrap();

    let id = app.call("create_conversation", json!({ "systemPrompt": null })).unwrap()["id"].clone();
    let reply = app
        .call(
            "send_message",
            json!({ "conversationId": id, "text": "Tell me about lighthouses", "onEvent": channel() }),
        )
        .unwrap();
    assert_eq!(reply["status"], "done", "{reply}");
    assert_eq!(reply["stats"]["generated_tokens"], 12);

    let again = app.call("regenerate_reply", json!({ "messageId": reply["id"], "onEvent": channel() })).unwrap();
    assert_eq!(again["content"], reply["content"], "greedy replies repeat");
    let siblings = app.call("sibling_ids", json!({ "messageId": again["id"] })).unwrap();
    assert_eq!(siblings, json!([reply["id"], again["id"]]));
    let branch = app.call("switch_branch", json!({ "conversationId": id, "messageId": reply["id"] })).unwrap();
    assert_eq!(branch[1]["message"]["id"], reply["id"]);
    assert_eq!((branch[1]["sibling_index"].clone(), branch[1]["sibling_count"].clone()), (json!(1), json!(2)));

    let question = reply["parent_id"].clone();
    let edited = app
        .call("edit_message", json!({ "messageId": question, "text": "Tell me about harbours", "onEvent": channel() }))
        .unwrap();
    let opened = app.call("open_conversation", json!({ "id": id })).unwrap();
    assert_eq!(opened["branch"][0]["message"]["content"], "Tell me about harbours");
    assert_eq!(opened["branch"][1]["message"]["id"], edited["id"]);
    assert_eq!(opened["conversation"]["title"], "Tell me about lighthouses");

    let hits = app.call("search_messages", json!({ "query": "harbours", "limit": 10 })).unwrap();
    assert_eq!(hits[0]["conversation_id"], id);
    assert!(hits[0]["snippet"].as_str().unwrap().contains("\u{2}harbours\u{3}"));

    let markdown = app.call("export_conversation", json!({ "id": id, "format": "markdown" })).unwrap();
    let json_path = app.call("export_conversation", json!({ "id": id, "format": "json" })).unwrap();
    assert_eq!(json_path, json!(exported_json), "the JSON export is the file the open dialog picks");
    assert!(markdown.as_str().unwrap().ends_with("Tell me about lighthouses.md"), "{markdown}");
    let text = std::fs::read_to_string(markdown.as_str().unwrap()).unwrap();
    assert!(text.contains("Tell me about harbours"), "{text}");

    let imported = app.call("import_conversation", json!({})).unwrap();
    assert_ne!(imported["id"], id);
    let copy = app.call("open_conversation", json!({ "id": imported["id"] })).unwrap();
    assert_eq!(copy["branch"].as_array().unwrap().len(), 2);
    assert_eq!(copy["branch"][0]["message"]["content"], "Tell me about harbours");
}

//! Bad input gets a clear error naming what was wrong, and changes nothing.

use serde_json::json;

use crate::{TestApp, channel};

#[test]
fn unknown_ids_are_not_found() {
    let app = TestApp::start();
    for (command, args) in [
        ("open_conversation", json!({ "id": 424242 })),
        ("rename_conversation", json!({ "id": 424242, "title": "x" })),
        ("set_pinned", json!({ "id": 424242, "pinned": true })),
        ("set_system_prompt", json!({ "conversationId": 424242, "prompt": "Be brief." })),
        ("delete_conversation", json!({ "id": 424242 })),
        ("sibling_ids", json!({ "messageId": 424242 })),
        ("switch_branch", json!({ "conversationId": 424242, "messageId": 1 })),
    ] {
        assert_eq!(app.error_code(command, args), "not_found", "{command}");
    }
}

#[test]
fn out_of_range_values_are_bad_input() {
    let app = TestApp::start();
    let conversation = app.call("create_conversation", json!({ "systemPrompt": null })).unwrap();
    let id = conversation["id"].clone();
    for (command, args) in [
        ("list_conversations", json!({ "limit": 0, "offset": 0 })),
        ("list_conversations", json!({ "limit": 100000, "offset": 0 })),
        ("rename_conversation", json!({ "id": id, "title": "   " })),
        ("rename_conversation", json!({ "id": id, "title": "t".repeat(201) })),
        ("create_conversation", json!({ "systemPrompt": "s".repeat(20_001) })),
        ("set_system_prompt", json!({ "conversationId": id, "prompt": "s".repeat(20_001) })),
        ("search_messages", json!({ "query": "q".repeat(501), "limit": 10 })),
        ("open_external", json!({ "url": "javascript:alert(1)" })),
        ("open_external", json!({ "url": "file:///etc/passwd" })),
        ("open_external", json!({ "url": "not a url" })),
        ("load_model", json!({ "choice": { "model": "relative.gguf" } })),
        ("save_settings", json!({ "settings": { "theme": "dark", "threads": 0 } })),
        ("save_settings", json!({ "settings": { "sampling": { "temperature": 99 } } })),
    ] {
        assert_eq!(app.error_code(command, args.clone()), "bad_input", "{command} {args}");
    }
    let message = app.call("rename_conversation", json!({ "id": id, "title": "t".repeat(201) })).unwrap_err();
    assert!(message["message"].as_str().unwrap().contains("at most 200"), "{message}");
    assert_eq!(app.call("open_conversation", json!({ "id": id })).unwrap()["conversation"]["title"], "");
}

#[test]
fn wrong_types_and_missing_arguments_are_refused() {
    let app = TestApp::start();
    for (command, args) in [
        ("open_conversation", json!({ "id": "seven" })),
        ("open_conversation", json!({})),
        ("list_conversations", json!({ "limit": -1, "offset": 0 })),
        ("set_pinned", json!({ "id": 1, "pinned": "yes" })),
        ("save_settings", json!({ "settings": { "colour": "red" } })),
        ("pick_model_file", json!({ "kind": "spreadsheet" })),
        ("export_conversation", json!({ "id": 1, "format": "pdf" })),
    ] {
        let error = app.call(command, args.clone()).expect_err(command);
        let text = error.to_string();
        assert!(
            text.contains("invalid") || text.contains("missing") || text.contains("unknown"),
            "{command} {args}: {text}"
        );
    }
}

#[test]
fn a_message_without_a_model_is_refused_and_not_stored() {
    let app = TestApp::start();
    let conversation = app.call("create_conversation", json!({ "systemPrompt": null })).unwrap();
    let id = conversation["id"].clone();
    let args = json!({ "conversationId": id, "text": "Hello", "onEvent": channel() });
    assert_eq!(app.error_code("send_message", args), "no_model");
    let oversized = json!({ "conversationId": id, "text": "x".repeat(100_001), "onEvent": channel() });
    assert_eq!(app.error_code("send_message", oversized), "bad_input");
    let opened = app.call("open_conversation", json!({ "id": id })).unwrap();
    assert_eq!(opened["branch"], json!([]));
}

#[test]
fn a_damaged_model_file_is_refused_with_its_reason() {
    let app = TestApp::start();
    let damaged = app.dir.path().join("damaged.gguf");
    std::fs::write(&damaged, b"GGUF\x03\x00\x00\x00 not really").unwrap();
    let error = app.call("load_model", json!({ "choice": { "model": damaged } })).unwrap_err();
    assert_eq!(error["code"], "bad_input", "{error}");
    let status = app.call("engine_status", json!({})).unwrap();
    assert_eq!(status["state"], "failed");
    assert!(status["error"].as_str().unwrap().contains("damaged.gguf"), "{status}");
}

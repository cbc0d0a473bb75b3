//! A conversation with an image, through the commands and the file dialogs: its figures count
//! the image's tokens, its Markdown export has the image file beside it, and its JSON export
//! carries the image into another data folder, or is refused there when the image was altered.
//!
//! A test binary of its own, with one test: the file dialogs are answered through environment
//! variables (as in the window tests), and setting one is only sound while no other thread may
//! read the environment, i.e. before the app starts.

#[path = "../commands/app.rs"]
mod app;

use app::{TestApp, channel, test_model};
use gemma_desk_testing::images::png;
use gemma_desk_testing::test_projector;
use serde_json::{Value, json};

#[test]
fn a_conversation_with_an_image_is_exported_with_the_image_and_imported_whole() {
    let exports = tempfile::tempdir().unwrap();
    // The save dialog writes the suggested name (the title) there; the open dialog picks the JSON.
    let exported_json = exports.path().join("Describe this harbour.json");
    // SAFETY: this binary's only test sets them before the app, or any other thread, starts.
    unsafe {
        std::env::set_var("GEMMA_DESK_DIALOG_SAVE_DIR", exports.path());
        std::env::set_var("GEMMA_DESK_DIALOG_OPEN_FILE", &exported_json);
    }
    let app = TestApp::start();
    let choice = json!({ "model": test_model(), "mmproj": test_projector("vision-gemma3") });
    assert_eq!(app.call("load_model", json!({ "choice": choice })).unwrap()["state"], "ready");
    let mut settings = app.call("app_state", json!({})).unwrap()["settings"].clone();
    settings["sampling"] = json!({ "greedy": true, "max_tokens": 4 });
    app.call("save_settings", json!({ "settings": settings })).unwrap();

    let picture = app.dir.path().join("harbour at dusk.png");
    let bytes = png(80, 60, |x, y| [(x * 3) as u8, (y * 4) as u8, 200]);
    std::fs::write(&picture, &bytes).unwrap();
    let image = app.call("attach_images", json!({ "paths": [picture] })).unwrap()["images"][0]["id"].clone();
    let send = |conversation: &Value, text: &str, images: Value| {
        let args = json!({ "conversationId": conversation, "text": text, "images": images, "onEvent": channel() });
        let reply = app.call("send_message", args).unwrap();
        assert_eq!(reply["status"], "done", "{reply}");
        reply["stats"].clone()
    };
    let id = app.call("create_conversation", json!({ "systemPrompt": null })).unwrap()["id"].clone();
    let first = send(&id, "Describe this harbour", json!([image]));
    let encoded = first["image_tokens_encoded"].as_i64().unwrap_or(0);
    assert!(encoded > 0 && first["image_tokens_reused"] == 0, "the image was encoded for the reply: {first}");
    let second = send(&id, "And its colours", json!([]));
    assert_eq!(
        (second["image_tokens_reused"].as_i64(), second["image_tokens_encoded"].as_i64()),
        (Some(encoded), Some(0)),
        "the next turn took the image from the KV cache: {second}"
    );
    let plain = app.call("create_conversation", json!({ "systemPrompt": null })).unwrap()["id"].clone();
    let text_only = send(&plain, "Hello", json!([]));
    assert_eq!((&text_only["image_tokens_reused"], &text_only["image_tokens_encoded"]), (&json!(null), &json!(null)));

    let markdown = app.call("export_conversation", json!({ "id": id, "format": "markdown" })).unwrap();
    assert_eq!(markdown, json!(exports.path().join("Describe this harbour.md")));
    let text = std::fs::read_to_string(markdown.as_str().unwrap()).unwrap();
    let link = "![harbour at dusk\\.png](Describe%20this%20harbour%20files/harbour%20at%20dusk.png)";
    assert!(text.contains(&format!("Describe this harbour\n\n{link}\n")), "the image follows the question:\n{text}");
    let beside = exports.path().join("Describe this harbour files/harbour at dusk.png");
    assert!(std::fs::read(&beside).expect("the image file is beside the Markdown") == bytes, "with the same bytes");

    assert_eq!(app.call("export_conversation", json!({ "id": id, "format": "json" })).unwrap(), json!(exported_json));
    let exported = std::fs::read_to_string(&exported_json).unwrap();
    let other = TestApp::start();
    let stored_files = || walk(&other.dir.path().join("data/attachments"));

    let mut altered: Value = serde_json::from_str(&exported).unwrap();
    let data = &mut altered["messages"][0]["attachments"][0]["data"];
    let mut base64: Vec<char> = data.as_str().unwrap().chars().collect();
    base64[40] = if base64[40] == 'A' { 'B' } else { 'A' };
    *data = json!(base64.into_iter().collect::<String>());
    std::fs::write(&exported_json, altered.to_string()).unwrap();
    let refused = other.call("import_conversation", json!({})).expect_err("an altered image is refused");
    let message = refused["message"].as_str().unwrap();
    assert_eq!(refused["code"], "bad_input", "{refused}");
    assert!(message.contains("\"harbour at dusk.png\"") && message.contains("altered"), "{message}");
    let listed = other.call("list_conversations", json!({ "limit": 10, "offset": 0 })).unwrap();
    assert_eq!((listed, stored_files()), (json!([]), vec![]), "a refused import stores nothing");

    std::fs::write(&exported_json, &exported).unwrap();
    let imported = other.call("import_conversation", json!({})).unwrap();
    let copy = other.call("open_conversation", json!({ "id": imported["id"] })).unwrap();
    let original = app.call("open_conversation", json!({ "id": id })).unwrap();
    let (before, after) = (&original["branch"][0]["attachments"][0], &copy["branch"][0]["attachments"][0]);
    for field in ["sha256", "media_type", "width", "height", "name", "size"] {
        assert_eq!(after[field], before[field], "the attachment's {field} survives the trip");
    }
    assert_eq!(
        (&after["name"], &after["width"], &after["media_type"]),
        (&json!("harbour at dusk.png"), &json!(80), &json!("image/png"))
    );
    let sha256 = after["sha256"].as_str().unwrap();
    let file = other.dir.path().join("data/attachments").join(&sha256[..2]).join(sha256);
    assert_eq!(stored_files(), [file.clone()], "the image is the one file stored");
    assert!(std::fs::read(&file).unwrap() == bytes, "the imported image has the bytes that were attached");
    for turn in [1, 3] {
        let (was, is) = (&original["branch"][turn]["message"]["stats"], &copy["branch"][turn]["message"]["stats"]);
        assert_eq!(is, was, "reply {turn}'s figures, the image tokens among them, survive the trip");
    }
}

/// Every file under `folder`.
fn walk(folder: &std::path::Path) -> Vec<std::path::PathBuf> {
    let Ok(entries) = std::fs::read_dir(folder) else { return Vec::new() };
    entries
        .map(|entry| entry.unwrap().path())
        .flat_map(|path| if path.is_dir() { walk(&path) } else { vec![path] })
        .collect()
}

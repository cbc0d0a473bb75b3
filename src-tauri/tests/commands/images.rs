//! Attaching images through the commands, as a drop, the file dialog and a paste deliver them:
//! each file read and checked in Rust, bad ones refused by name, and a message with images
//! stored with its attachments only when the model can see.

use gemma_desk_testing::images::{bad_images, png};
use serde_json::{Value, json};

use crate::{TestApp, channel};

fn write_picture(dir: &std::path::Path, name: &str) -> std::path::PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, png(80, 60, |x, y| [(x * 3) as u8, (y * 4) as u8, 200])).unwrap();
    path
}

/// The test model with the tiny vision projector, writing replies of four greedy tokens (enough
/// to see one was written).
fn conversation(app: &TestApp) -> Value {
    app.call("create_conversation", json!({ "systemPrompt": null })).unwrap()["id"].clone()
}

#[test]
fn dropped_files_are_checked_one_by_one_and_the_bad_ones_refused_by_name() {
    let app = TestApp::start();
    let good = write_picture(app.dir.path(), "beach.png");
    let bad = bad_images(app.dir.path());
    let mut paths = vec![good.clone()];
    paths.extend(bad.iter().map(|image| image.path.clone()));
    let attached = app.call("attach_images", json!({ "paths": paths })).unwrap();
    let images = attached["images"].as_array().unwrap();
    assert_eq!(images.len(), 1, "{attached}");
    assert_eq!(images[0]["name"], "beach.png");
    assert_eq!((images[0]["width"].as_u64(), images[0]["height"].as_u64()), (Some(80), Some(60)));
    assert_eq!(images[0]["media_type"], "image/png");
    let refused: Vec<&str> = attached["refused"].as_array().unwrap().iter().map(|m| m.as_str().unwrap()).collect();
    assert_eq!(refused.len(), bad.len(), "{refused:?}");
    for (message, image) in refused.iter().zip(&bad) {
        let name = image.path.file_name().unwrap().to_string_lossy();
        assert!(message.contains(name.as_ref()) && message.contains(image.expected), "{name}: {message}");
    }
}

#[test]
fn a_relative_path_or_too_many_files_are_refused() {
    let app = TestApp::start();
    assert_eq!(app.error_code("attach_images", json!({ "paths": ["picture.png"] })), "bad_input");
    let many: Vec<_> = (0..11).map(|i| write_picture(app.dir.path(), &format!("{i}.png"))).collect();
    assert_eq!(app.error_code("attach_images", json!({ "paths": many })), "bad_input");
}

#[test]
fn images_for_a_model_that_cannot_see_are_refused_and_nothing_is_stored() {
    let app = TestApp::start();
    app.load_test_model();
    let picture = write_picture(app.dir.path(), "beach.png");
    let attached = app.call("attach_images", json!({ "paths": [picture] })).unwrap();
    let image = attached["images"][0]["id"].clone();
    let id = conversation(&app);
    let args = json!({ "conversationId": id, "text": "What is this?", "images": [image], "onEvent": channel() });
    assert_eq!(app.error_code("send_message", args.clone()), "cannot_see");
    assert_eq!(app.call("open_conversation", json!({ "id": id })).unwrap()["branch"], json!([]));
    // Still attached: the user may switch to a vision model and send it again.
    app.load_with_projector("vision-gemma3");
    let reply = app.call("send_message", args.clone()).unwrap();
    assert_eq!(reply["status"], "done", "{reply}");

    let branch = app.call("open_conversation", json!({ "id": id })).unwrap()["branch"].clone();
    let attachments = branch[0]["attachments"].as_array().unwrap();
    assert_eq!(attachments.len(), 1, "{branch}");
    assert_eq!(attachments[0]["name"], "beach.png");
    assert_eq!(attachments[0]["media_type"], "image/png");
    assert_eq!(attachments[0]["width"], 80);
    // Sent: the image is no longer attached to the next message.
    assert_eq!(app.error_code("send_message", args), "bad_input");
}

#[test]
fn an_image_alone_is_a_message() {
    let app = TestApp::start();
    app.load_with_projector("vision-gemma3");
    let picture = write_picture(app.dir.path(), "beach.png");
    let image = app.call("attach_images", json!({ "paths": [picture] })).unwrap()["images"][0]["id"].clone();
    let id = conversation(&app);
    let args = json!({ "conversationId": id, "text": "", "images": [image], "onEvent": channel() });
    let reply = app.call("send_message", args).unwrap();
    assert_ne!(reply["status"], "error", "{reply}");
    let empty = json!({ "conversationId": id, "text": "", "images": [], "onEvent": channel() });
    assert_eq!(app.error_code("send_message", empty), "bad_input", "text alone may not be empty");
}

#[test]
fn a_discarded_image_is_not_sent() {
    let app = TestApp::start();
    let picture = write_picture(app.dir.path(), "beach.png");
    let image = app.call("attach_images", json!({ "paths": [picture] })).unwrap()["images"][0]["id"].clone();
    app.call("discard_image", json!({ "id": image })).unwrap();
    let id = conversation(&app);
    let args = json!({ "conversationId": id, "text": "What is this?", "images": [image], "onEvent": channel() });
    assert_eq!(app.error_code("send_message", args), "bad_input");
}

#[test]
fn an_edited_question_keeps_its_images() {
    let app = TestApp::start();
    app.load_with_projector("vision-gemma3");
    let picture = write_picture(app.dir.path(), "beach.png");
    let image = app.call("attach_images", json!({ "paths": [picture] })).unwrap()["images"][0]["id"].clone();
    let id = conversation(&app);
    let args = json!({ "conversationId": id, "text": "What is this?", "images": [image], "onEvent": channel() });
    app.call("send_message", args).unwrap();
    let branch = app.call("open_conversation", json!({ "id": id })).unwrap()["branch"].clone();
    let (question, sent) = (branch[0]["message"]["id"].clone(), branch[0]["attachments"][0].clone());

    let args = json!({ "messageId": question, "text": "Where is this?", "onEvent": channel() });
    let reply = app.call("edit_message", args).unwrap();
    assert_ne!(reply["status"], "error", "{reply}");
    let branch = app.call("open_conversation", json!({ "id": id })).unwrap()["branch"].clone();
    assert_eq!(branch[0]["message"]["content"], "Where is this?");
    assert_eq!(branch[0]["sibling_count"], 2);
    let kept = &branch[0]["attachments"];
    assert_eq!(kept.as_array().map(Vec::len), Some(1), "{branch}");
    assert_eq!((&kept[0]["sha256"], &kept[0]["name"]), (&sent["sha256"], &json!("beach.png")));
    assert_ne!(kept[0]["message_id"], sent["message_id"]);
    // The same image at the same place: the edited question's reply reads it from the KV cache.
    assert_eq!(reply["stats"]["image_tokens_reused"], 16, "the edited question's reply did not see the image: {reply}");
}

//! Export and import: Markdown and JSON, round trips that lose nothing, and hostile import files
//! refused with nothing changed.

use std::path::Path;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use gemma_desk_store::{
    ConversationId, ConversationSettings, ExportFile, ExportScope, MessageStatus, NewAttachment, ReplyStats, Role,
    Store, StoreError,
};
use serde_json::{Value, json};

use crate::open_store;

/// Text that trips up encoders: emoji (with a ZWJ sequence and a flag), right-to-left Hebrew and
/// Arabic, combining marks, a BOM, line and paragraph separators and control characters (no NUL).
const AWKWARD: &str = "Why is the sky blue? 🌈👩‍👩‍👧🇳🇿 שלום مرحبا e\u{301}a\u{308}\u{20dd} \u{feff}\u{2028}\u{2029}\
                       \u{1}\u{7}\u{8}\u{1b}[31m\t\r\n\"quoted\" \\back\\ </script> {{}}";

/// A tiny PNG's worth of bytes (any bytes do; these are not valid UTF-8).
const PNG: &[u8] = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x02\x00\x00\x00\x01\xff\xfe";
/// A WAV header and a little silence.
const WAV: &[u8] = b"RIFF$\x00\x00\x00WAVEfmt \x10\x00\x00\x00\x01\x00\x01\x00\x80\x3e\x00\x00\x00\x00\x00";

/// A 2 MB reply of mixed 1- to 4-byte characters.
fn long_text() -> String {
    "ab€😀 line\n".repeat(2_000_000 / 14)
}

/// A conversation with everything an export must keep: settings, unicode, a 2 MB reply, a
/// regenerated reply (three siblings), an edited question (two siblings), an edited first message
/// (two roots), figures, every finished status, and attachments (one file shared by two
/// messages). The branch shown is question 1 → reply 1 → question 2 (with two attachments).
async fn rich_conversation(store: &Store) -> ConversationId {
    let settings = ConversationSettings {
        system_prompt: Some("Be brief. ¡Sé breve!".to_owned()),
        sampling: json!({"temperature": 0.5, "top_k": 40, "seed": 7}),
    };
    let chat = store.create_conversation(Some("Sky 🌌 questions — שאלות"), Some("gemma-3-1b"), &settings, 1_000).await;
    let chat = chat.expect("conversation").id;
    let question = store.add_message(chat, None, Role::User, AWKWARD, 1_100).await.expect("question");
    let stats = ReplyStats {
        ttft_ms: Some(350.5),
        prefill_tps: Some(812.25),
        decode_tps: Some(42.125),
        prompt_tokens: Some(17),
        generated_tokens: Some(64),
        reused_tokens: Some(3),
        image_tokens_reused: Some(0),
        image_tokens_encoded: Some(256),
    };
    let reply = store.begin_reply(chat, question.id, Some("gemma-3-1b"), 1_200).await.expect("reply");
    store.finish_reply(reply.id, "Rayleigh scattering.", MessageStatus::Done, None, &stats, 1_300).await.unwrap();
    let long = store.begin_reply(chat, question.id, Some("gemma-3-4b"), 1_400).await.expect("regenerated");
    let few = ReplyStats { generated_tokens: Some(5), ..ReplyStats::default() };
    store.finish_reply(long.id, &long_text(), MessageStatus::Stopped, None, &few, 1_500).await.unwrap();
    let failed = store.begin_reply(chat, question.id, None, 1_600).await.expect("regenerated again");
    let oom = Some("out of memory: the model needs 4 GiB");
    store.finish_reply(failed.id, "Partial", MessageStatus::Error, oom, &ReplyStats::default(), 1_700).await.unwrap();

    let follow_up = store.add_message(chat, Some(reply.id), Role::User, "And sunsets?", 1_800).await.unwrap();
    let png = NewAttachment {
        media_type: "image/png".to_owned(),
        width: Some(2),
        height: Some(1),
        name: Some("sunset 🌅.png".to_owned()),
        ..NewAttachment::default()
    };
    store.add_attachment(follow_up.id, PNG, &png, 1_810).await.expect("image");
    let wav =
        NewAttachment { media_type: "audio/wav".to_owned(), duration_ms: Some(1_500), ..NewAttachment::default() };
    store.add_attachment(follow_up.id, WAV, &wav, 1_820).await.expect("clip");
    let edited = store.add_message(chat, Some(reply.id), Role::User, "And sunrises?", 1_900).await.unwrap();
    let cut = store.begin_reply(chat, edited.id, Some("gemma-3-1b"), 2_000).await.unwrap();
    store.finish_reply(cut.id, "Also Rayleigh", MessageStatus::Interrupted, None, &stats, 2_010).await.unwrap();
    store.add_attachment(cut.id, PNG, &png, 2_020).await.expect("the same image again");
    store.add_message(chat, None, Role::User, "Why is grass green?", 2_050).await.expect("an edited first message");
    store.switch_branch(chat, follow_up.id, 2_100).await.expect("back to the branch with attachments");
    chat
}

/// Conversations, messages, attachment rows and attachment files (any file under
/// `attachments/`, temporary ones included).
async fn census(store: &Store, dir: &Path) -> (usize, usize, usize, usize) {
    let conversations = store.list_conversations(u32::MAX, 0).await.expect("list");
    let (mut messages, mut attachments) = (0, 0);
    for conversation in &conversations {
        for message in store.all_messages(conversation.id).await.expect("messages") {
            messages += 1;
            attachments += store.attachments(message.id).await.expect("attachments").len();
        }
    }
    (conversations.len(), messages, attachments, count_files(&dir.join("attachments")))
}

fn count_files(dir: &Path) -> usize {
    let Ok(entries) = std::fs::read_dir(dir) else { return 0 };
    entries
        .map(|entry| entry.expect("a folder entry").path())
        .map(|path| if path.is_dir() { count_files(&path) } else { 1 })
        .sum()
}

/// Imports `json` expecting a refusal that mentions each of `expected`, and checks that nothing
/// changed.
async fn assert_refused(store: &Store, dir: &Path, json: &str, expected: &[&str]) {
    let before = census(store, dir).await;
    match store.import_json(json, 5_000).await {
        Err(StoreError::InvalidImport(message)) => {
            for part in expected {
                assert!(message.contains(part), "the refusal should say {part:?}, but it says: {message}");
            }
        }
        Err(other) => panic!("expected InvalidImport mentioning {expected:?}, got another error: {other}"),
        Ok(conversation) => panic!("expected a refusal mentioning {expected:?}, but it imported {conversation:?}"),
    }
    assert_eq!(census(store, dir).await, before, "a refused import adds no conversation, message, row or file");
}

/// A small hand-written import file: a question with an attachment (`hello` as text/plain), a
/// reply, a follow-up. Hostile variants change one thing; most break the last message, so the
/// valid attachment before it shows that nothing is written before everything is checked.
fn hand_made() -> Value {
    let message = |id: u64, parent: Option<u64>, role: &str, content: &str| {
        json!({
            "id": id, "parent": parent, "role": role, "content": content, "status": "done", "error": null,
            "model": null, "stats": {"ttft_ms": null, "prefill_tps": null, "decode_tps": null,
            "prompt_tokens": null, "generated_tokens": null, "reused_tokens": null},
            "created_at": 1_000 + id, "updated_at": 1_000 + id, "attachments": []
        })
    };
    let mut question = message(0, None, "user", "Hi");
    question["attachments"] = json!([{
        "media_type": "text/plain", "name": "note.txt", "width": null, "height": null, "duration_ms": null,
        "created_at": 1_000, "data": "aGVsbG8=",
        "sha256": "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824"
    }]);
    json!({
        "format": "gemma-desk-conversation",
        "version": 1,
        "conversation": {"title": "Hand-made", "created_at": 1_000, "updated_at": 2_000, "pinned": false,
            "model": "gemma", "settings": {"system_prompt": null, "sampling": null}},
        "current_leaf": 2,
        "messages": [question, message(1, Some(0), "assistant", "Hello!"), message(2, Some(1), "user", "Bye")],
    })
}

/// The document with `conversation.updated_at` (the one field an import sets itself) as `value`.
fn with_updated_at(json: &str, value: i64) -> Value {
    let mut document: Value = serde_json::from_str(json).expect("an export is JSON");
    document["conversation"]["updated_at"] = json!(value);
    document
}

#[tokio::test]
async fn a_whole_tree_export_imports_and_exports_again_identically() {
    let (_dir, store) = open_store().await;
    let original_id = rich_conversation(&store).await;
    let original = store.export_json(original_id, ExportScope::WholeTree).await.expect("export");

    let copy = store.import_json(&original, 2_100).await.expect("the export imports");
    assert_ne!(copy.id, original_id, "an import is a new conversation");
    let again = store.export_json(copy.id, ExportScope::WholeTree).await.expect("export of the copy");
    assert!(again == original, "imported at the original's updated_at, the export is byte for byte the same");

    let later = store.import_json(&original, 9_000).await.expect("the export imports twice");
    assert_eq!(later.updated_at, 9_000, "an import is updated at the time it is imported");
    let later_export = store.export_json(later.id, ExportScope::WholeTree).await.unwrap();
    assert_eq!(with_updated_at(&later_export, 2_100), with_updated_at(&original, 2_100), "nothing else differs");

    let messages = store.all_messages(later.id).await.unwrap();
    assert_eq!(messages.len(), 8, "every message of every branch");
    assert!(messages.iter().any(|m| m.content == AWKWARD), "unicode and control characters survive");
    assert!(messages.iter().any(|m| m.content == long_text()), "the 2 MB reply survives whole");
    assert_eq!(store.integrity_check().await.unwrap(), "ok");
}

#[tokio::test]
async fn an_imported_conversation_shows_the_same_branch_with_the_same_figures() {
    let (_dir, store) = open_store().await;
    let original = rich_conversation(&store).await;
    let copy = store.import_json(&store.export_json(original, ExportScope::WholeTree).await.unwrap(), 3_000).await;
    let copy = copy.expect("import");
    let (before, after) = (store.current_branch(original).await.unwrap(), store.current_branch(copy.id).await.unwrap());
    assert_eq!(after.len(), 3, "question, reply, follow-up");
    for (a, b) in before.iter().zip(&after) {
        assert_eq!(
            (&a.message.content, a.message.role, a.message.status),
            (&b.message.content, b.message.role, b.message.status)
        );
        assert_eq!(a.message.stats, b.message.stats, "the figures survive exactly");
        assert_eq!((a.message.created_at, a.message.updated_at), (b.message.created_at, b.message.updated_at));
        assert_eq!((a.sibling_index, a.sibling_count), (b.sibling_index, b.sibling_count), "the same branches");
        assert_eq!(a.attachments.len(), b.attachments.len());
    }
    assert_eq!((after[1].sibling_index, after[1].sibling_count), (1, 3), "the reply had two regenerations");
    let conversation = store.conversation(original).await.unwrap();
    assert_eq!(
        (&copy.title, &copy.model, &copy.settings),
        (&conversation.title, &conversation.model, &conversation.settings)
    );
    assert_eq!(copy.created_at, conversation.created_at);
    let statuses: Vec<MessageStatus> = store.all_messages(copy.id).await.unwrap().iter().map(|m| m.status).collect();
    for status in [MessageStatus::Done, MessageStatus::Stopped, MessageStatus::Error, MessageStatus::Interrupted] {
        assert!(statuses.contains(&status), "{status:?} survives the import");
    }
    let failed = store.all_messages(copy.id).await.unwrap().into_iter().find(|m| m.status == MessageStatus::Error);
    assert_eq!(failed.unwrap().error.as_deref(), Some("out of memory: the model needs 4 GiB"));
}

#[tokio::test]
async fn a_current_branch_export_holds_only_the_branch_shown_and_round_trips() {
    let (_dir, store) = open_store().await;
    let original = rich_conversation(&store).await;
    let branch = store.export_json(original, ExportScope::CurrentBranch).await.expect("export");
    let document: Value = serde_json::from_str(&branch).unwrap();
    let contents: Vec<&str> =
        document["messages"].as_array().unwrap().iter().map(|m| m["content"].as_str().unwrap()).collect();
    assert_eq!(contents, [AWKWARD, "Rayleigh scattering.", "And sunsets?"], "root to leaf, nothing else");
    assert_eq!(document["current_leaf"], json!(2), "the leaf is the last message");
    assert_eq!(document["messages"][2]["parent"], json!(1), "parents are renumbered");

    let copy = store.import_json(&branch, 2_100).await.expect("import");
    assert_eq!(store.all_messages(copy.id).await.unwrap().len(), 3, "the copy is the branch alone");
    let again = store.export_json(copy.id, ExportScope::CurrentBranch).await.unwrap();
    assert!(again == branch, "the branch exports again byte for byte");
    let whole = store.export_json(copy.id, ExportScope::WholeTree).await.unwrap();
    assert!(whole == branch, "and its whole tree is that branch");
}

#[tokio::test]
async fn imported_attachments_are_files_with_identical_bytes() {
    let (_from_dir, from) = open_store().await;
    let original = rich_conversation(&from).await;
    let json = from.export_json(original, ExportScope::WholeTree).await.unwrap();
    let (to_dir, to) = open_store().await;
    let copy = to.import_json(&json, 3_000).await.expect("import into another store");
    assert_eq!(count_files(&to_dir.path().join("attachments")), 2, "two distinct files, the shared one once");
    let mut seen = 0;
    for message in to.all_messages(copy.id).await.unwrap() {
        for attachment in to.attachments(message.id).await.unwrap() {
            let bytes = std::fs::read(to.attachment_path(&attachment.sha256)).expect("the file exists");
            let expected = if attachment.media_type == "image/png" { PNG } else { WAV };
            assert_eq!(bytes, expected, "the bytes are the same after the trip");
            assert_eq!(attachment.size, expected.len() as i64);
            seen += 1;
        }
    }
    assert_eq!(seen, 3, "every attachment row comes back");
    let again = to.export_json(copy.id, ExportScope::WholeTree).await.unwrap();
    assert_eq!(with_updated_at(&again, 0), with_updated_at(&json, 0), "name, size, dimensions and times survive");
}

#[tokio::test]
async fn an_empty_conversation_round_trips() {
    let (_dir, store) = open_store().await;
    let empty = store.create_conversation(Some("Nothing yet"), None, &ConversationSettings::default(), 1_000).await;
    let json = store.export_json(empty.unwrap().id, ExportScope::WholeTree).await.unwrap();
    let copy = store.import_json(&json, 1_000).await.expect("an empty conversation imports");
    assert_eq!((copy.title.as_str(), copy.current_leaf_id), ("Nothing yet", None));
    assert!(store.export_json(copy.id, ExportScope::CurrentBranch).await.unwrap() == json, "and exports the same");
}

#[tokio::test]
async fn a_reply_exported_while_streaming_imports_as_interrupted() {
    let (_dir, store) = open_store().await;
    let chat = store.create_conversation(None, None, &ConversationSettings::default(), 1_000).await.unwrap();
    let question = store.add_message(chat.id, None, Role::User, "Count to ten", 1_000).await.unwrap();
    let reply = store.begin_reply(chat.id, question.id, None, 1_100).await.unwrap();
    store.save_reply_text(reply.id, "One, two", 1_200).await.unwrap();
    let json = store.export_json(chat.id, ExportScope::WholeTree).await.unwrap();
    assert!(json.contains("\"streaming\""), "the export says what the reply was doing");
    let copy = store.import_json(&json, 2_000).await.unwrap();
    let messages = store.all_messages(copy.id).await.unwrap();
    assert_eq!(messages[1].status, MessageStatus::Interrupted, "nothing will ever finish the imported reply");
    assert_eq!(messages[1].content, "One, two", "its text is kept");
}

#[tokio::test]
async fn imported_messages_are_found_by_search() {
    let (_dir, store) = open_store().await;
    let copy = store.import_json(&hand_made().to_string(), 3_000).await.expect("a hand-made file imports");
    let hits = store.search("hello", 10).await.unwrap();
    assert_eq!(hits.len(), 1, "the search index follows an import: {hits:?}");
    assert_eq!(hits[0].conversation_id, copy.id);
    assert_eq!(copy.current_leaf_id, Some(store.all_messages(copy.id).await.unwrap()[2].id));
}

#[tokio::test]
async fn the_markdown_export_has_the_title_roles_texts_figures_and_branch_notes() {
    let (_dir, store) = open_store().await;
    let chat = rich_conversation(&store).await;
    let tree = store.export_markdown(chat, ExportScope::WholeTree, None).await.expect("markdown");
    assert!(tree.files.is_empty(), "without a folder beside it, the export has no files");
    let tree = tree.text;
    assert!(
        tree.starts_with("# Sky 🌌 questions — שאלות\n"),
        "the title heads it: {}",
        tree.chars().take(80).collect::<String>()
    );
    for expected in [
        "gemma-3-1b",
        "every branch: 8 messages in 5 branches",
        "**System prompt:**\n\nBe brief. ¡Sé breve!",
        "## User\n\nAnd sunsets?",
        "## Assistant",
        AWKWARD,
        "Rayleigh scattering.",
        "*64 tokens · 42.1 tokens/s · first token after 0.35 s*",
        "*gemma-3-4b · 5 tokens · stopped*",
        "failed: out of memory: the model needs 4 GiB",
        "interrupted",
        "**Branch 1 of 3** (the branch shown) · after “Why is the sky blue?",
        "**Branch 3 of 3** · after",
        "**Branch 2 of 2** · after “Rayleigh scattering.”",
        "**Branch 2 of 2** · at the start of the conversation",
        "- sunset 🌅.png (image/png, 26 bytes, 2×1)",
        "- unnamed (audio/wav, 31 bytes, 1.5 s)",
    ] {
        assert!(tree.contains(expected), "the whole-tree Markdown should contain {expected:?}");
    }
    assert!(tree.contains(&long_text()), "texts are verbatim, even 2 MB of them");

    let branch = store.export_markdown(chat, ExportScope::CurrentBranch, None).await.unwrap().text;
    assert!(branch.contains("the branch shown, 3 messages"));
    assert!(branch.contains("And sunsets?") && !branch.contains("And sunrises?"), "only the branch shown");
    assert!(!branch.contains("**Branch"), "a single branch has no branch notes");
}

#[tokio::test]
async fn the_markdown_export_shows_images_and_links_clips_from_the_folder_beside_it() {
    let (_dir, store) = open_store().await;
    let chat = rich_conversation(&store).await;
    let tree = store.export_markdown(chat, ExportScope::WholeTree, Some("Sky files")).await.expect("markdown");
    let branch = store.current_branch(chat).await.unwrap();
    let (picture, recording) = (&branch[2].attachments[0], &branch[2].attachments[1]);
    assert_eq!(recording.media_type, "audio/wav");
    let image = "![sunset 🌅\\.png](Sky%20files/sunset%20%F0%9F%8C%85.png)";
    let clip_file = format!("clip-{}.wav", &recording.sha256[..12]);
    let clip = format!("[🔊 recording (1.5 s)](Sky%20files/{clip_file})");
    let question = format!("## User\n\nAnd sunsets?\n\n{image}\n\n{clip}\n\n");
    assert!(tree.text.contains(&question), "the image and the clip follow their message's text:\n{}", tree.text);
    assert_eq!(tree.text.matches(image).count(), 2, "the question and the interrupted reply both show the image");
    assert!(!tree.text.contains("Attachments:"), "what is shown or linked is not listed as well");
    assert_eq!(
        tree.files,
        [
            ExportFile { name: "sunset 🌅.png".to_owned(), sha256: picture.sha256.clone() },
            ExportFile { name: clip_file, sha256: recording.sha256.clone() }
        ],
        "one file for the image attached twice, named as it was, and one for the clip"
    );
}

#[tokio::test]
async fn a_chain_of_100_000_messages_imports_and_exports() {
    let (_dir, store) = open_store().await;
    let mut json = String::from(
        r#"{"format":"gemma-desk-conversation","version":1,"conversation":{"title":"Long","created_at":0,"updated_at":0},"messages":["#,
    );
    for id in 0..100_000 {
        let parent = if id == 0 { "null".to_owned() } else { (id - 1).to_string() };
        let role = if id % 2 == 0 { "user" } else { "assistant" };
        json.push_str(&format!(
            r#"{}{{"id":{id},"parent":{parent},"role":"{role}","content":"m{id}","status":"done","created_at":{id},"updated_at":{id}}}"#,
            if id == 0 { "" } else { "," }
        ));
    }
    json.push_str("]}");
    let chain = store.import_json(&json, 1).await.expect("the limit itself is accepted, however deep");
    let branch = store.current_branch(chain.id).await.unwrap();
    assert_eq!(branch.len(), 100_000, "without current_leaf, the last message is shown");
    let markdown =
        store.export_markdown(chain.id, ExportScope::WholeTree, None).await.expect("no recursion to overflow");
    let markdown = markdown.text;
    assert!(markdown.ends_with("m99999\n"));
}

#[tokio::test]
async fn a_failed_import_leaves_a_file_other_messages_use() {
    let (dir, store) = open_store().await;
    let chat = store.create_conversation(None, None, &ConversationSettings::default(), 1_000).await.unwrap();
    let question = store.add_message(chat.id, None, Role::User, "Look", 1_000).await.unwrap();
    let text = NewAttachment { media_type: "text/plain".to_owned(), ..NewAttachment::default() };
    let kept = store.add_attachment(question.id, b"hello", &text, 1_000).await.unwrap();
    let mut document = hand_made();
    document["messages"][2]["role"] = json!("wizard");
    assert_refused(&store, dir.path(), &document.to_string(), &["wizard"]).await;
    assert!(store.attachment_path(&kept.sha256).exists(), "the file shared with the refused import stays");
    let copy = store.import_json(&hand_made().to_string(), 2_000).await.expect("the valid file imports");
    assert_eq!(count_files(&dir.path().join("attachments")), 1, "identical bytes share the existing file");
    assert_eq!(store.all_messages(copy.id).await.unwrap().len(), 3);
}

#[tokio::test]
async fn files_that_are_not_version_1_exports_are_refused() {
    let (dir, store) = open_store().await;
    let cases: Vec<(String, &[&str])> = vec![
        ("{ not json".to_owned(), &["not valid JSON"]),
        ("[1, 2]".to_owned(), &["not a JSON object"]),
        (
            {
                let mut d = hand_made();
                d["format"] = json!("chatgpt");
                d.to_string()
            },
            &["not a Gemma Desk conversation export", "`format`"],
        ),
        (
            {
                let mut d = hand_made();
                d.as_object_mut().unwrap().remove("format");
                d.to_string()
            },
            &["no `format`"],
        ),
        (
            {
                let mut d = hand_made();
                d["version"] = json!(99);
                d.to_string()
            },
            &["version 99", "newer"],
        ),
        (
            {
                let mut d = hand_made();
                d["version"] = json!("1");
                d.to_string()
            },
            &["version"],
        ),
    ];
    for (json, expected) in cases {
        assert_refused(&store, dir.path(), &json, expected).await;
    }
}

#[tokio::test]
async fn fields_of_the_wrong_type_or_unknown_fields_are_refused_naming_them() {
    let (dir, store) = open_store().await;
    let cases: Vec<(&str, Value, &[&str])> = vec![
        ("/messages/2/role", json!("wizard"), &["messages[2].role", "unknown variant `wizard`"]),
        ("/messages/2/content", json!(5), &["messages[2].content", "invalid type: integer `5`"]),
        ("/messages/2/status", json!("thinking"), &["messages[2].status", "thinking"]),
        ("/messages/1/created_at", json!(1.5), &["messages[1].created_at"]),
        ("/messages/1/stats/generated_tokens", json!("many"), &["messages[1].stats.generated_tokens"]),
        ("/messages/2/id", json!(-1), &["messages[2].id"]),
        ("/conversation/pinned", json!("yes"), &["conversation.pinned"]),
        ("/conversation/settings/sampling", json!([1]), &["conversation.settings.sampling", "object"]),
        ("/messages/0/attachments/0/width", json!(-3), &["messages[0].attachments[0].width", "negative"]),
        ("/messages/2", json!("Bye"), &["messages[2]", "must be an object"]),
        ("/messages", json!({}), &["messages"]),
    ];
    for (pointer, value, expected) in cases {
        let mut document = hand_made();
        *document.pointer_mut(pointer).unwrap_or_else(|| panic!("{pointer} exists")) = value;
        assert_refused(&store, dir.path(), &document.to_string(), expected).await;
    }
    for (object, field) in [
        ("", "comment"),
        ("/conversation", "color"),
        ("/conversation/settings", "temperature"),
        ("/messages/2", "mood"),
        ("/messages/1/stats", "joy"),
        ("/messages/0/attachments/0", "exif"),
    ] {
        let mut document = hand_made();
        document.pointer_mut(object).unwrap().as_object_mut().unwrap().insert(field.to_owned(), json!(1));
        assert_refused(&store, dir.path(), &document.to_string(), &[&format!("unknown field `{field}`")]).await;
    }
    let mut document = hand_made();
    document["messages"][2].as_object_mut().unwrap().remove("content");
    assert_refused(&store, dir.path(), &document.to_string(), &["messages[2]", "`content` is missing"]).await;
}

#[tokio::test]
async fn parents_that_are_not_earlier_messages_are_refused_so_there_are_no_cycles() {
    let (dir, store) = open_store().await;
    let cycle = {
        let mut d = hand_made();
        d["messages"][1]["parent"] = json!(2);
        d["messages"][2]["parent"] = json!(1);
        d
    };
    let cases: Vec<(Value, &[&str])> = vec![
        (cycle, &["messages[1].parent", "later message"]),
        (
            {
                let mut d = hand_made();
                d["messages"][2]["parent"] = json!(2);
                d
            },
            &["messages[2].parent", "its own parent"],
        ),
        (
            {
                let mut d = hand_made();
                d["messages"][0]["parent"] = json!(2);
                d
            },
            &["messages[0].parent", "later message (messages[2])"],
        ),
        (
            {
                let mut d = hand_made();
                d["messages"][2]["parent"] = json!(99);
                d
            },
            &["messages[2].parent", "no message has the id 99"],
        ),
        (
            {
                let mut d = hand_made();
                d["messages"][2]["id"] = json!(1);
                d
            },
            &["messages[2].id", "already the id of messages[1]"],
        ),
        (
            {
                let mut d = hand_made();
                d["current_leaf"] = json!(3);
                d
            },
            &["current_leaf", "no message has the id 3"],
        ),
    ];
    for (document, expected) in cases {
        assert_refused(&store, dir.path(), &document.to_string(), expected).await;
    }
}

#[tokio::test]
async fn fields_over_their_limits_are_refused() {
    let (dir, store) = open_store().await;
    let content = {
        let mut d = hand_made();
        d["messages"][2]["content"] = json!("a".repeat((16 << 20) + 1));
        d
    };
    let title = {
        let mut d = hand_made();
        d["conversation"]["title"] = json!("é".repeat(1_001));
        d
    };
    let error = {
        let mut d = hand_made();
        d["messages"][1]["error"] = json!("e".repeat((16 << 20) + 1));
        d
    };
    assert_refused(
        &store,
        dir.path(),
        &content.to_string(),
        &["messages[2].content", "16777217 bytes long; the limit is 16.0 MiB"],
    )
    .await;
    assert_refused(&store, dir.path(), &title.to_string(), &["conversation.title", "1001 characters"]).await;
    assert_refused(&store, dir.path(), &error.to_string(), &["messages[1].error", "the limit is 16.0 MiB"]).await;

    let mut many = String::from(
        r#"{"format":"gemma-desk-conversation","version":1,"conversation":{"title":"","created_at":0,"updated_at":0},"messages":["#,
    );
    let one = r#"{"id":0,"role":"user","content":"","status":"done","created_at":0,"updated_at":0}"#;
    many.push_str(&vec![one; 100_001].join(","));
    many.push_str("]}");
    assert_refused(&store, dir.path(), &many, &["100001 messages", "the limit is 100000"]).await;

    let huge = " ".repeat((256 << 20) + 1);
    assert_refused(&store, dir.path(), &huge, &["the file is 268435457 bytes long", "the limit is 256.0 MiB"]).await;
}

#[tokio::test]
async fn attachments_with_bad_data_or_a_wrong_hash_are_refused() {
    let (dir, store) = open_store().await;
    let at = "/messages/0/attachments/0";
    let cases: Vec<(&str, Value, &[&str])> = vec![
        ("data", json!("aGVsbG8"), &["messages[0].attachments[0].data", "not valid base64"]),
        ("data", json!("aGVs bG8="), &["messages[0].attachments[0].data", "not valid base64"]),
        ("data", json!("aGVsbE8="), &["messages[0].attachments[0].sha256", "does not match the data"]),
        ("sha256", json!("../../../etc/passwd"), &["messages[0].attachments[0].sha256", "64 lowercase"]),
        ("sha256", json!("2CF24DBA5FB0A30E26E83B2AC5B9E29E1B161E5C1FA7425E73043362938B9824"), &["64 lowercase"]),
        ("media_type", json!("png"), &["messages[0].attachments[0].media_type", "image/png"]),
        ("media_type", json!("text/html; charset=utf-8"), &["media_type"]),
    ];
    for (field, value, expected) in cases {
        let mut document = hand_made();
        document.pointer_mut(at).unwrap()[field] = value;
        assert_refused(&store, dir.path(), &document.to_string(), expected).await;
    }
    let mut huge = hand_made();
    huge.pointer_mut(at).unwrap()["data"] = json!("A".repeat((64 << 20) / 3 * 4 + 8));
    assert_refused(&store, dir.path(), &huge.to_string(), &["data", "over the limit of 64.0 MiB"]).await;
}

#[tokio::test]
async fn reply_figures_survive_to_the_last_bit() {
    let (_dir, store) = open_store().await;
    let chat = store.create_conversation(None, None, &ConversationSettings::default(), 1_000).await.unwrap();
    let question = store.add_message(chat.id, None, Role::User, "Hi", 1_000).await.unwrap();
    let reply = store.begin_reply(chat.id, question.id, None, 1_000).await.unwrap();
    // 12 tokens in 1.234 s: serde_json's default float parser reads this back one bit off.
    let stats = ReplyStats { decode_tps: Some(12.0 / 1.234), ttft_ms: Some(4321.123 / 7.0), ..ReplyStats::default() };
    store.finish_reply(reply.id, "Hello", MessageStatus::Done, None, &stats, 1_100).await.unwrap();
    let json = store.export_json(chat.id, ExportScope::WholeTree).await.unwrap();
    let copy = store.import_json(&json, 1_100).await.unwrap();
    assert_eq!(store.all_messages(copy.id).await.unwrap()[1].stats, stats, "figures are exact after a round trip");
}

#[tokio::test]
async fn an_export_whose_image_bytes_were_changed_is_refused_naming_the_image_and_nothing_is_stored() {
    let (_from_dir, from) = open_store().await;
    let original = rich_conversation(&from).await;
    let mut document: Value =
        serde_json::from_str(&from.export_json(original, ExportScope::WholeTree).await.unwrap()).unwrap();
    let messages = document["messages"].as_array_mut().unwrap();
    let (index, message) =
        messages.iter_mut().enumerate().find(|(_, m)| m["attachments"][0]["media_type"] == "image/png").unwrap();
    let data = &mut message["attachments"][0]["data"];
    let mut bytes = BASE64.decode(data.as_str().unwrap()).unwrap();
    bytes[20] ^= 1;
    *data = json!(BASE64.encode(&bytes));
    let (to_dir, to) = open_store().await;
    let place = format!("messages[{index}].attachments[0].sha256");
    let expected = [place.as_str(), "\"sunset 🌅.png\"", "the file was altered or damaged"];
    assert_refused(&to, to_dir.path(), &document.to_string(), &expected).await;
}

#[tokio::test]
async fn image_token_figures_are_left_out_of_an_export_without_them_and_older_files_import() {
    let (_dir, store) = open_store().await;
    let chat = store.create_conversation(None, None, &ConversationSettings::default(), 1_000).await.unwrap();
    let question = store.add_message(chat.id, None, Role::User, "Hi", 1_000).await.unwrap();
    let reply = store.begin_reply(chat.id, question.id, None, 1_000).await.unwrap();
    let text_only = ReplyStats { prompt_tokens: Some(9), reused_tokens: Some(0), ..ReplyStats::default() };
    store.finish_reply(reply.id, "Hello", MessageStatus::Done, None, &text_only, 1_100).await.unwrap();
    let document: Value =
        serde_json::from_str(&store.export_json(chat.id, ExportScope::WholeTree).await.unwrap()).unwrap();
    // Sorted: serde_json keeps the file's order or sorts, depending on the features other crates
    // of the workspace enable.
    let mut fields: Vec<&String> = document["messages"][1]["stats"].as_object().unwrap().keys().collect();
    fields.sort();
    assert_eq!(
        fields,
        ["decode_tps", "generated_tokens", "prefill_tps", "prompt_tokens", "reused_tokens", "ttft_ms"],
        "a reply without images has the figures every version reads"
    );

    let older = store.import_json(&hand_made().to_string(), 2_000).await.expect("a file without them imports");
    let stats = &store.all_messages(older.id).await.unwrap()[1].stats;
    assert_eq!((stats.image_tokens_reused, stats.image_tokens_encoded), (None, None));
}

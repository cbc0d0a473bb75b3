//! Function calling in the message tree: a reply's calls and each call's result are stored,
//! read back, exported and imported.

use gemma_desk_store::{
    ExportScope, MessageStatus, ReplyStats, Role, StoreError, StoredToolCall, ToolOutcome, ToolPart, ToolResult,
};
use serde_json::json;

use crate::{new_conversation, open_store};

fn calculator_call() -> StoredToolCall {
    let arguments = json!({"expression": "2+3"}).as_object().unwrap().clone();
    StoredToolCall { id: "call_1".into(), name: "calculator".into(), arguments, malformed: None }
}

fn malformed_call() -> StoredToolCall {
    StoredToolCall {
        id: "call_2".into(),
        name: String::new(),
        arguments: Default::default(),
        malformed: Some("calc(2 +".into()),
    }
}

/// A question, a reply with two calls, their results, and the answer after them.
async fn called(store: &gemma_desk_store::Store) -> (i64, Vec<gemma_desk_store::Message>) {
    let conversation = new_conversation(store, 1).await;
    let question = store.add_message(conversation.id, None, Role::User, "What is 2 + 3?", 2).await.unwrap();
    let reply = store.begin_reply(conversation.id, question.id, Some("gemma"), 3).await.unwrap();
    store.save_reply_text(reply.id, "Let me work it out.<|tool_call>call:calculator{…}", 4).await.unwrap();
    let calls = [calculator_call(), malformed_call()];
    let stats = ReplyStats { generated_tokens: Some(20), ..ReplyStats::default() };
    let reply = store.finish_reply_with_calls(reply.id, "Let me work it out.", &calls, &stats, 5).await.unwrap();
    let answered = ToolResult { call_id: "call_1".into(), name: "calculator".into(), outcome: ToolOutcome::Answered };
    let first = store.add_tool_result(conversation.id, reply.id, &answered, "5", 6).await.unwrap();
    let refused = ToolResult { call_id: "call_2".into(), name: String::new(), outcome: ToolOutcome::Refused };
    let second = store
        .add_tool_result(conversation.id, first.id, &refused, "error: the call could not be read", 7)
        .await
        .unwrap();
    let answer = store.begin_reply(conversation.id, second.id, Some("gemma"), 8).await.unwrap();
    let answer = store.finish_reply(answer.id, "2 + 3 = 5.", MessageStatus::Done, None, &stats, 9).await.unwrap();
    (conversation.id, vec![question, reply, first, second, answer])
}

#[tokio::test]
async fn a_replys_calls_and_their_results_are_messages_of_the_tree() {
    let (_dir, store) = open_store().await;
    let (conversation, messages) = called(&store).await;
    let reply = store.message(messages[1].id).await.unwrap();
    assert_eq!(reply.status, MessageStatus::Done);
    assert_eq!(reply.content, "Let me work it out.", "the text without the calls");
    assert_eq!(reply.tool, Some(ToolPart::Calls { calls: vec![calculator_call(), malformed_call()] }));
    let branch = store.current_branch(conversation).await.unwrap();
    let roles: Vec<Role> = branch.iter().map(|entry| entry.message.role).collect();
    assert_eq!(roles, [Role::User, Role::Assistant, Role::Tool, Role::Tool, Role::Assistant]);
    let Some(ToolPart::Result(result)) = &branch[2].message.tool else { panic!("{:?}", branch[2].message) };
    assert_eq!(
        (result.call_id.as_str(), result.outcome, branch[2].message.content.as_str()),
        ("call_1", ToolOutcome::Answered, "5")
    );
    assert_eq!(branch[4].message.tool, None);
}

#[tokio::test]
async fn a_finished_reply_takes_no_calls() {
    let (_dir, store) = open_store().await;
    let (_, messages) = called(&store).await;
    let again =
        store.finish_reply_with_calls(messages[1].id, "x", &[calculator_call()], &ReplyStats::default(), 10).await;
    assert!(matches!(again, Err(StoreError::Invalid(_))), "{again:?}");
}

#[tokio::test]
async fn calls_and_results_survive_an_export_and_import() {
    let (_dir, store) = open_store().await;
    let (conversation, _) = called(&store).await;
    let json = store.export_json(conversation, ExportScope::WholeTree).await.unwrap();
    let imported = store.import_json(&json, 20).await.unwrap();
    let before: Vec<_> =
        store.current_branch(conversation).await.unwrap().into_iter().map(|entry| entry.message.tool).collect();
    let after: Vec<_> =
        store.current_branch(imported.id).await.unwrap().into_iter().map(|entry| entry.message.tool).collect();
    assert_eq!(after, before);
    assert!(after.iter().filter(|tool| tool.is_some()).count() == 3, "{after:?}");
}

#[tokio::test]
async fn the_markdown_export_shows_each_call_and_how_it_went() {
    let (_dir, store) = open_store().await;
    let (conversation, _) = called(&store).await;
    let markdown = store.export_markdown(conversation, ExportScope::CurrentBranch, None).await.unwrap().text;
    assert!(markdown.contains("Tool call `call_1`: `calculator` with ` {\"expression\":\"2+3\"} `"), "{markdown}");
    assert!(markdown.contains("Malformed tool call `call_2`: ` calc(2 + `"), "{markdown}");
    assert!(markdown.contains("*Result of `call_1` (calculator): answered*"), "{markdown}");
    assert!(markdown.contains("*Result of `call_2`: refused*"), "{markdown}");
}

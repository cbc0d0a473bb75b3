//! Tool calls in a turn, through the real engine: the test model never calls a tool on its own,
//! so the turns require one (llama.cpp's grammar makes the first reply a call); the call is
//! confirmed (or not), run, stored with its result, and the model replies again.

use std::collections::BTreeSet;
use std::sync::Arc;

use gemma_desk_chat::{Chat, ChatEvent, EngineTuning, ModelChoice, ToolChoice, ToolDecision, ToolSettings};
use gemma_desk_engine::StopReason;
use gemma_desk_store::{Message, Role, ToolOutcome, ToolPart};
use gemma_desk_testing::test_model_with_template;
use libtest_mimic::Trial;

use crate::{Fixture, greedy, trial};

pub fn tests() -> Vec<Trial> {
    vec![
        trial("a_required_call_is_confirmed_run_and_answered", a_required_call_is_confirmed_run_and_answered),
        trial("a_declined_call_is_not_run_and_the_model_is_told", a_declined_call_is_not_run_and_the_model_is_told),
        trial(
            "a_tool_allowed_in_the_conversation_runs_without_asking_again",
            a_tool_allowed_in_the_conversation_runs_without_asking_again,
        ),
        trial("an_always_allowed_tool_runs_without_asking", an_always_allowed_tool_runs_without_asking),
        trial(
            "stop_while_a_call_waits_ends_the_turn_without_running_it",
            stop_while_a_call_waits_ends_the_turn_without_running_it,
        ),
        trial(
            "gemma3_calls_in_a_tool_code_block_and_reads_the_output_in_a_user_turn",
            gemma3_calls_in_a_tool_code_block_and_reads_the_output_in_a_user_turn,
        ),
        trial("without_tools_a_reply_is_never_parsed_for_calls", without_tools_a_reply_is_never_parsed_for_calls),
        trial("a_file_is_read_only_when_the_user_picks_one", a_file_is_read_only_when_the_user_picks_one),
    ]
}

/// The test model with Gemma 4's template and tool tokens, offered the tools, a call required.
async fn with_tools(template: &str, always_allowed: &[&str]) -> Fixture {
    let fixture = Fixture::new().await;
    let choice = ModelChoice { model: test_model_with_template(template), mmproj: None };
    let tuning = EngineTuning { context_size: Some(2048), threads: Some(2), gpu_layers: None, image_tokens: None };
    fixture.chat.load_model(&choice, tuning).await.expect("the test model loads");
    fixture.chat.set_tools(ToolSettings {
        enabled: true,
        always_allowed: always_allowed.iter().map(|name| name.to_string()).collect(),
        choice: ToolChoice::Required,
    });
    fixture
}

/// Sends `text`, answering each call with `decision` (or stopping the turn when `None`).
async fn send(
    chat: &Arc<Chat>,
    conversation: i64,
    text: &str,
    decision: Option<ToolDecision>,
) -> (Message, Vec<ChatEvent>) {
    send_with_room(chat, conversation, text, decision, 12).await
}

/// [`send`] with room for `max_tokens` in each reply (a call cut short is malformed).
async fn send_with_room(
    chat: &Arc<Chat>,
    conversation: i64,
    text: &str,
    decision: Option<ToolDecision>,
    max_tokens: u32,
) -> (Message, Vec<ChatEvent>) {
    let mut events = Vec::new();
    let answering = Arc::clone(chat);
    let reply = chat
        .send(conversation, text, &greedy(max_tokens), |event| {
            if let ChatEvent::ConfirmTool { call, .. } = &event {
                match decision {
                    Some(decision) => drop(answering.answer_tool_call(&call.id, decision, None).unwrap()),
                    None => answering.stop(),
                }
            }
            events.push(event);
        })
        .await
        .unwrap();
    (reply, events)
}

fn confirmations(events: &[ChatEvent]) -> usize {
    events.iter().filter(|event| matches!(event, ChatEvent::ConfirmTool { .. })).count()
}

/// The current branch's messages, root first.
async fn branch(fixture: &Fixture, conversation: i64) -> Vec<Message> {
    fixture.chat.store().current_branch(conversation).await.unwrap().into_iter().map(|entry| entry.message).collect()
}

async fn a_required_call_is_confirmed_run_and_answered() {
    let fixture = with_tools("gemma-4-tool-tokens", &[]).await;
    let conversation = fixture.conversation(None).await;
    let (reply, events) =
        send(&fixture.chat, conversation.id, "What is the date today?", Some(ToolDecision::Run)).await;

    let kinds: Vec<&str> = events
        .iter()
        .filter_map(|event| match event {
            ChatEvent::Started { .. } => Some("started"),
            ChatEvent::ToolCalls { .. } => Some("calls"),
            ChatEvent::ConfirmTool { .. } => Some("confirm"),
            ChatEvent::ToolResult { .. } => Some("result"),
            ChatEvent::Continued { .. } => Some("continued"),
            ChatEvent::Finished { .. } => Some("finished"),
            _ => None,
        })
        .collect();
    assert_eq!(kinds, ["started", "calls", "confirm", "result", "continued", "finished"]);

    let messages = branch(&fixture, conversation.id).await;
    let roles: Vec<Role> = messages.iter().map(|message| message.role).collect();
    assert_eq!(roles, [Role::User, Role::Assistant, Role::Tool, Role::Assistant]);
    let Some(ToolPart::Calls { calls }) = &messages[1].tool else { panic!("the call is stored: {:?}", messages[1]) };
    assert_eq!(calls.len(), 1, "{calls:?}");
    assert!(calls[0].malformed.is_none(), "{calls:?}");
    assert!(
        !messages[1].content.contains("<|tool_call>"),
        "the call is taken out of the text: {:?}",
        messages[1].content
    );
    let Some(ToolPart::Result(result)) = &messages[2].tool else { panic!("the result is stored: {:?}", messages[2]) };
    assert_eq!((result.call_id.as_str(), result.name.as_str()), (calls[0].id.as_str(), calls[0].name.as_str()));
    assert_eq!(result.outcome, ToolOutcome::Answered, "{}", messages[2].content);
    if calls[0].name == "current_datetime" {
        assert!(messages[2].content.contains(&chrono_year()), "{}", messages[2].content);
    }
    assert_eq!(reply.id, messages[3].id, "the turn answers with the reply after the result");
    assert_eq!(reply.tool, None);
    // The reply after the result was written with the call and its result in the prompt.
    assert!(
        reply.stats.prompt_tokens.unwrap()
            > messages[1].stats.prompt_tokens.unwrap() + messages[1].stats.generated_tokens.unwrap(),
        "{:?} then {:?}",
        messages[1].stats,
        reply.stats
    );
}

fn chrono_year() -> String {
    let days = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() / 86_400;
    // Close enough for a test that runs in this century: 365.2425 days a year from 1970.
    (1970 + (days as f64 / 365.2425) as u64).to_string()
}

async fn a_declined_call_is_not_run_and_the_model_is_told() {
    let fixture = with_tools("gemma-4-tool-tokens", &[]).await;
    let conversation = fixture.conversation(None).await;
    let (reply, _) = send(&fixture.chat, conversation.id, "What is the date today?", Some(ToolDecision::Decline)).await;
    let messages = branch(&fixture, conversation.id).await;
    let Some(ToolPart::Result(result)) = &messages[2].tool else { panic!("{:?}", messages[2]) };
    assert_eq!(result.outcome, ToolOutcome::Declined);
    assert_eq!(messages[2].content, "the user declined this call");
    assert_eq!(reply.role, Role::Assistant, "the model replies after being told");
}

async fn a_tool_allowed_in_the_conversation_runs_without_asking_again() {
    let fixture = with_tools("gemma-4-tool-tokens", &[]).await;
    let conversation = fixture.conversation(None).await;
    let (_, first) =
        send(&fixture.chat, conversation.id, "What is the date?", Some(ToolDecision::AllowInConversation)).await;
    assert_eq!(confirmations(&first), 1);
    // The same tool again: the grammar is deterministic with greedy sampling.
    let (_, second) = send(&fixture.chat, conversation.id, "What is the date?", None).await;
    assert_eq!(confirmations(&second), 0, "allowed in this conversation");
    let other = fixture.conversation(None).await;
    let (_, elsewhere) = send(&fixture.chat, other.id, "What is the date?", Some(ToolDecision::Run)).await;
    assert_eq!(confirmations(&elsewhere), 1, "asked again in another conversation");
    assert!(fixture.chat.tool_settings().always_allowed.is_empty());
}

async fn an_always_allowed_tool_runs_without_asking() {
    let fixture = with_tools("gemma-4-tool-tokens", &[]).await;
    let conversation = fixture.conversation(None).await;
    let (_, first) = send(&fixture.chat, conversation.id, "What is the date?", Some(ToolDecision::AlwaysAllow)).await;
    assert_eq!(confirmations(&first), 1);
    let allowed = fixture.chat.tool_settings().always_allowed;
    assert_eq!(allowed.len(), 1, "{allowed:?}");
    let other = fixture.conversation(None).await;
    let (_, elsewhere) = send(&fixture.chat, other.id, "What is the date?", None).await;
    assert_eq!(confirmations(&elsewhere), 0, "allowed everywhere: {allowed:?}");

    let every_tool: BTreeSet<&str> = ["current_datetime", "calculator", "convert_units", "search_conversations"].into();
    let fixture = with_tools("gemma-4-tool-tokens", &every_tool.iter().copied().collect::<Vec<_>>()).await;
    let conversation = fixture.conversation(None).await;
    let (_, events) = send(&fixture.chat, conversation.id, "What is the date?", None).await;
    assert_eq!(confirmations(&events), 0, "allowed by the settings");
    assert!(events.iter().any(|event| matches!(event, ChatEvent::ToolResult { .. })));
}

async fn stop_while_a_call_waits_ends_the_turn_without_running_it() {
    let fixture = with_tools("gemma-4-tool-tokens", &[]).await;
    let conversation = fixture.conversation(None).await;
    let (reply, events) = send(&fixture.chat, conversation.id, "What is the date?", None).await;
    let Some(ChatEvent::Finished { stop_reason, .. }) = events.last() else { panic!("{events:?}") };
    assert_eq!(*stop_reason, Some(StopReason::Cancelled));
    assert!(!events.iter().any(|event| matches!(event, ChatEvent::Continued { .. })), "no reply after a stop");
    let messages = branch(&fixture, conversation.id).await;
    assert_eq!(messages.len(), 3, "question, call, result: {messages:?}");
    assert_eq!(reply.id, messages[1].id, "the turn ends with the reply that called");
    let Some(ToolPart::Result(result)) = &messages[2].tool else { panic!("{:?}", messages[2]) };
    assert_eq!(result.outcome, ToolOutcome::Declined, "{}", messages[2].content);
    // The next turn works as usual.
    let (next, _) = send(&fixture.chat, conversation.id, "And now?", Some(ToolDecision::Run)).await;
    assert_eq!(next.role, Role::Assistant);
}

async fn gemma3_calls_in_a_tool_code_block_and_reads_the_output_in_a_user_turn() {
    let fixture = with_tools("gemma-3-it", &[]).await;
    let conversation = fixture.conversation(Some("Be brief.")).await;
    // The grammar lets a string argument run to 120 characters.
    let (reply, events) =
        send_with_room(&fixture.chat, conversation.id, "What is 2 + 3?", Some(ToolDecision::Run), 96).await;
    let messages = branch(&fixture, conversation.id).await;
    let Some(ToolPart::Calls { calls }) = &messages[1].tool else { panic!("{:?} {events:?}", messages[1]) };
    assert!(calls[0].malformed.is_none(), "{calls:?}");
    assert!(!messages[1].content.contains("```tool_code"), "{:?}", messages[1].content);
    // Gemma 3's template refuses a conversation whose roles do not alternate: the result went
    // back as a user turn, or this reply would have failed.
    assert_eq!(reply.status, gemma_desk_store::MessageStatus::Done, "{:?}", reply.error);
    assert_eq!(messages.last().unwrap().id, reply.id);
}

async fn without_tools_a_reply_is_never_parsed_for_calls() {
    let fixture = with_tools("gemma-4-tool-tokens", &[]).await;
    fixture.chat.set_tools(ToolSettings::default());
    let conversation = fixture.conversation(None).await;
    let (reply, events) = send(&fixture.chat, conversation.id, "What is the date?", Some(ToolDecision::Run)).await;
    assert_eq!(confirmations(&events), 0);
    assert_eq!(reply.tool, None);
    assert_eq!(branch(&fixture, conversation.id).await.len(), 2);
}

async fn a_file_is_read_only_when_the_user_picks_one() {
    let fixture = with_tools("gemma-4-tool-tokens", &[]).await;
    // Allowed always, and still asked: picking the file is the user's word.
    fixture.chat.set_tools(ToolSettings {
        enabled: true,
        always_allowed: ["read_text_file".to_owned()].into(),
        choice: ToolChoice::Tool("read_text_file".into()),
    });
    let dir = tempfile::tempdir().unwrap();
    let notes = dir.path().join("notes.txt");
    std::fs::write(&notes, "The secret word is heliotrope.").unwrap();
    let conversation = fixture.conversation(None).await;
    for file in [Some(notes), None] {
        let answering = Arc::clone(&fixture.chat);
        let mut asked = Vec::new();
        fixture
            .chat
            .send(conversation.id, "What is in my notes?", &greedy(24), |event| {
                if let ChatEvent::ConfirmTool { call, picks_file } = &event {
                    asked.push((call.name.clone(), *picks_file));
                    answering.answer_tool_call(&call.id, ToolDecision::Run, file.clone()).unwrap();
                }
            })
            .await
            .unwrap();
        assert_eq!(asked, [("read_text_file".to_owned(), true)]);
        let messages = branch(&fixture, conversation.id).await;
        let result = messages.iter().rev().find(|message| message.role == Role::Tool).unwrap();
        let Some(ToolPart::Result(outcome)) = &result.tool else { panic!("{result:?}") };
        match file {
            Some(_) => {
                assert_eq!(outcome.outcome, ToolOutcome::Answered, "{}", result.content);
                assert_eq!(result.content, "The user picked notes.txt:\n\nThe secret word is heliotrope.");
            }
            None => assert_eq!(outcome.outcome, ToolOutcome::Declined, "no file picked: {}", result.content),
        }
    }
}

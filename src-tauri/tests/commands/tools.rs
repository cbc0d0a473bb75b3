//! Tools through the commands: turned on in the settings, a required call runs (its tool allowed
//! always), is stored with its result, and the model answers; an answer for no waiting call is
//! `not_found`; a tool name that is no name is refused by the settings.

use serde_json::json;

use crate::{TestApp, channel};

/// The test model loaded, replies greedy with room for a call, tools on and all allowed.
fn with_tools() -> TestApp {
    let app = TestApp::start();
    app.load_test_model();
    let mut settings = app.call("app_state", json!({})).unwrap()["settings"].clone();
    settings["sampling"] = json!({ "greedy": true, "max_tokens": 96 });
    settings["tools_enabled"] = json!(true);
    settings["always_allowed_tools"] =
        json!(["current_datetime", "calculator", "convert_units", "search_conversations"]);
    app.call("save_settings", json!({ "settings": settings })).unwrap();
    app
}

#[test]
fn a_required_call_runs_is_stored_with_its_result_and_answered() {
    let app = with_tools();
    let id = app.call("create_conversation", json!({ "systemPrompt": null })).unwrap()["id"].clone();
    let args = json!({ "conversationId": id, "text": "What is 2 + 3?", "requireTool": true, "onEvent": channel() });
    let reply = app.call("send_message", args).unwrap();
    assert_eq!(reply["status"], "done", "{reply}");
    let branch = app.call("open_conversation", json!({ "id": id })).unwrap()["branch"].clone();
    let roles: Vec<&str> =
        branch.as_array().unwrap().iter().map(|entry| entry["message"]["role"].as_str().unwrap()).collect();
    assert_eq!(roles, ["user", "assistant", "tool", "assistant"], "{branch}");
    assert_eq!(branch[1]["message"]["tool"]["kind"], "calls", "{}", branch[1]);
    assert_eq!(branch[2]["message"]["tool"]["kind"], "result", "{}", branch[2]);
    assert_eq!(branch[3]["message"]["id"], reply["id"]);

    // Without requireTool the test model answers in words: nothing is called.
    let args = json!({ "conversationId": id, "text": "Thanks.", "onEvent": channel() });
    app.call("send_message", args).unwrap();
    let branch = app.call("open_conversation", json!({ "id": id })).unwrap()["branch"].clone();
    assert_eq!(branch.as_array().unwrap().len(), 6, "{branch}");
}

#[test]
fn an_answer_for_no_waiting_call_is_not_found() {
    let app = with_tools();
    let args = json!({ "callId": "call_1", "decision": "run" });
    assert_eq!(app.error_code("answer_tool_call", args), "not_found");
    let error = app.call("answer_tool_call", json!({ "callId": "call_1", "decision": "maybe" })).unwrap_err();
    assert!(error.to_string().contains("unknown variant"), "{error}");
}

#[test]
fn an_always_allowed_tool_needs_a_tool_name() {
    let app = with_tools();
    let mut settings = app.call("app_state", json!({})).unwrap()["settings"].clone();
    settings["always_allowed_tools"] = json!(["rm -rf /"]);
    assert_eq!(app.error_code("save_settings", json!({ "settings": settings })), "bad_input");
}

//! Tool calls through the real engine: a grammar forces one (the test model never calls tools
//! on its own), written in Gemma 4's control tokens where the vocabulary has them.

use gemma_desk_engine::{
    ChatMessage, EngineError, LoadOptions, LoadedModel, RenderOptions, ReplyEvent, ReplyFigures, Session,
};
use gemma_desk_testing::test_model_with_template;

use crate::session::{backend, greedy};

/// A call of `calculator` with a short expression, in Gemma 4's syntax.
const FORCED_CALL: &str = r#"root ::= tool-call-open "call:calculator{expression:" tool-quote [0-9] "+" [0-9] tool-quote "}" tool-call-close"#;

fn generate(template: &str, grammar: &str) -> Result<(String, ReplyFigures), EngineError> {
    let options = LoadOptions {
        model: test_model_with_template(template),
        ctx: Some(1024),
        threads: Some(2),
        ..Default::default()
    };
    let model = LoadedModel::load(backend(), &options).expect("the test model loads");
    let mut session = Session::new(backend(), &model, &options).unwrap();
    let mut text = String::new();
    let question = [ChatMessage::user("What is 2 + 3?")];
    let figures = session.generate(
        &question,
        &RenderOptions::default(),
        &greedy(64),
        Some(grammar),
        &|| false,
        &mut |event| {
            if let ReplyEvent::Text(piece) = event {
                text.push_str(&piece);
            }
        },
    )?;
    Ok((text, figures))
}

fn assert_is_forced_call(text: &str) {
    let call = text
        .strip_prefix("<|tool_call>call:calculator{expression:<|\"|>")
        .and_then(|rest| rest.strip_suffix("<|\"|>}<tool_call|>"));
    let expression = call.unwrap_or_else(|| panic!("not the forced call: {text:?}"));
    assert!(expression.len() == 3 && expression.as_bytes()[1] == b'+', "{expression:?}");
}

#[test]
fn a_grammar_forces_a_call_written_in_the_vocabularys_tool_tokens() {
    let (text, figures) = generate("gemma-4-tool-tokens", FORCED_CALL).unwrap();
    assert_is_forced_call(&text);
    let tokens = figures.generated_tokens;
    // One token each for the opening, closing and quotes; `call:calculator{expression:` and the
    // expression take the rest.
    let spelled_out = generate("gemma-4-31B-it", FORCED_CALL).unwrap().1.generated_tokens;
    assert!(tokens < spelled_out, "{tokens} tokens with the control tokens, {spelled_out} without");
}

#[test]
fn without_tool_tokens_the_same_grammar_spells_the_call_out() {
    let (text, _) = generate("gemma-4-31B-it", FORCED_CALL).unwrap();
    assert_is_forced_call(&text);
}

#[test]
fn a_grammar_that_is_not_gbnf_is_refused_before_anything_is_generated() {
    let error = generate("gemma-4-31B-it", "root ::= (\"unclosed").unwrap_err();
    assert!(matches!(error, EngineError::BadRequest(ref message) if message.contains("GBNF")), "{error:?}");
}

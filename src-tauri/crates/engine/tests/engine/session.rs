//! Sessions with the real Gemma 3 270M model: KV reuse, determinism, cancellation, UTF-8
//! streaming, context overflow.

use std::cell::Cell;
use std::sync::OnceLock;

use gemma_desk_engine::{
    CACHE_CHUNK, ChatMessage, EngineError, LoadOptions, LoadedModel, RenderOptions, ReplyEvent, ReplyFigures,
    SamplingParams, Session, StopReason, Utf8Stream, init_backend,
};
use llama_cpp_2::llama_backend::LlamaBackend;
use llama_cpp_2::model::{LlamaChatMessage, LlamaChatTemplate};
use llama_cpp_2::token::LlamaToken;

use crate::test_model;

pub(crate) fn backend() -> &'static LlamaBackend {
    static BACKEND: OnceLock<LlamaBackend> = OnceLock::new();
    BACKEND.get_or_init(|| {
        let mut backend = init_backend().expect("llama.cpp backend starts");
        backend.void_logs();
        backend
    })
}

fn load(ctx: u32) -> (LoadedModel, LoadOptions) {
    let options = LoadOptions { model: test_model(), ctx: Some(ctx), threads: Some(2), ..Default::default() };
    (LoadedModel::load(backend(), &options).expect("the test model loads"), options)
}

pub(crate) fn greedy(max_tokens: u32) -> SamplingParams {
    SamplingParams { greedy: true, max_tokens: Some(max_tokens), ..Default::default() }
}

/// Runs one reply and returns its text and figures.
pub(crate) fn reply(session: &mut Session<'_>, messages: &[ChatMessage], sampling: &SamplingParams) -> (String, ReplyFigures) {
    let mut text = String::new();
    let figures = session
        .generate(messages, &RenderOptions::default(), sampling, None, &|| false, &mut |event| {
            if let ReplyEvent::Text(piece) = event {
                text.push_str(&piece);
            }
        })
        .expect("generation succeeds");
    (text, figures)
}

/// The conversation's prompt as the engine tokenizes it.
fn prompt_tokens(session: &Session<'_>, model: &LoadedModel, messages: &[ChatMessage]) -> Vec<LlamaToken> {
    let text = session.render(messages, &RenderOptions::default()).unwrap();
    model.llama().vocab().tokenize(text.as_bytes(), false, true)
}

/// How many of `tokens[..upto]` form whole groups, as the session's docs define them: up to the
/// later of the last multiple of `CACHE_CHUNK` and the position after the last end-of-turn token.
fn whole_groups(model: &LoadedModel, tokens: &[LlamaToken], upto: usize) -> u32 {
    let vocab = model.llama().vocab();
    let chunk = upto - upto % CACHE_CHUNK;
    let turn = tokens[..upto].iter().rposition(|&token| vocab.is_eog(token)).map_or(0, |i| i + 1);
    chunk.max(turn) as u32
}

/// A system prompt of a bit more than two 64-token chunks.
const SYSTEM: &str = "You are a helpful assistant running on the user's own computer. Answer clearly and \
    briefly, in the language of the question. When you are not sure, say so, and suggest how the user could \
    check. Use lists for steps and code blocks for code. Be kind, be precise, and never invent references, \
    quotations or numbers; if a calculation is needed, show it. Keep answers under two hundred words unless \
    the user asks for more detail.";

fn conversation() -> Vec<ChatMessage> {
    vec![ChatMessage::system(SYSTEM), ChatMessage::user("Write a short poem about the sea.")]
}

/// Replies of a five-turn conversation from one session that keeps its cache (settling each
/// reply, as the worker does, or not), and from fresh sessions that rebuild it every turn; with
/// the cached session's figures, and how many tokens of each turn's prompt form whole groups.
fn replies_with_and_without_cache(settle: bool) -> (Vec<String>, Vec<String>, Vec<ReplyFigures>, Vec<u32>) {
    let (model, options) = load(2048);
    let mut warm = Session::new(backend(), &model, &options).unwrap();
    let mut messages = vec![ChatMessage::system(SYSTEM)];
    let (mut warm_replies, mut cold_replies, mut warm_figures, mut grouped) = (vec![], vec![], vec![], vec![]);
    let questions = [
        "Write a short poem about the sea.",
        "Now one about mountains.",
        "Why?",
        "Tell me about 🐧 and ❄️.",
        "Thanks, bye.",
    ];
    for (turn, question) in questions.into_iter().enumerate() {
        messages.push(ChatMessage::user(question));
        let prompt = prompt_tokens(&warm, &model, &messages);
        grouped.push(whole_groups(&model, &prompt, prompt.len()));
        let sampling = greedy(12 + 7 * turn as u32);
        let (warm_reply, figures) = reply(&mut warm, &messages, &sampling);
        if settle {
            warm.settle().unwrap();
        }
        let mut cold = Session::new(backend(), &model, &options).unwrap();
        let (cold_reply, cold_figures) = reply(&mut cold, &messages, &sampling);
        assert_eq!(cold_figures.reused_tokens, 0, "a fresh session has nothing to reuse");
        warm_figures.push(figures);
        warm_replies.push(warm_reply.clone());
        cold_replies.push(cold_reply);
        messages.push(ChatMessage::assistant(warm_reply));
    }
    (warm_replies, cold_replies, warm_figures, grouped)
}

#[test]
fn greedy_replies_are_identical_whether_the_cache_was_reused_or_rebuilt() {
    let (warm, cold, figures, _) = replies_with_and_without_cache(true);
    let reused: Vec<u32> = figures.iter().map(|f| f.reused_tokens).collect();
    assert!(reused[1..].iter().all(|&n| n > 0), "every later turn reuses the cache: {reused:?}");
    assert!(warm.iter().all(|reply| !reply.is_empty()));
    assert_eq!(warm, cold, "reusing the KV cache must not change greedy output");
}

#[test]
fn replies_are_identical_too_when_the_previous_reply_was_not_settled() {
    let (warm, cold, figures, grouped) = replies_with_and_without_cache(false);
    // Unsettled, the reply's tokens were decoded one by one and are not reused; the previous
    // prompt was decoded in groups (ending after each end-of-turn token), and its whole groups are.
    for turn in 1..figures.len() {
        let previous_prompt = figures[turn - 1].prompt_tokens;
        assert!(grouped[turn - 1] + 8 > previous_prompt, "a prompt's groups end just before its generation prompt");
        assert_eq!(
            figures[turn].reused_tokens,
            grouped[turn - 1],
            "turn {turn} reuses the previous prompt's whole groups ({previous_prompt} tokens), or the identity \
             below proves nothing"
        );
    }
    assert_eq!(warm, cold, "reusing an unsettled cache must not change greedy output");
}

#[test]
fn a_long_conversation_gives_the_same_replies_from_a_reused_or_a_rebuilt_cache() {
    let (model, options) = load(8192);
    let mut warm = Session::new(backend(), &model, &options).unwrap();
    let mut messages = vec![ChatMessage::system(SYSTEM)];
    let topics = [
        "rivers",
        "bridges",
        "clocks",
        "gardens",
        "lighthouses",
        "trains",
        "maps",
        "bells",
        "kites",
        "ships",
        "caves",
        "mills",
    ];
    for (turn, topic) in topics.into_iter().enumerate() {
        messages.push(ChatMessage::user(format!(
            "Tell me about {topic}. {}",
            "I want the history, the engineering, the people who built them, and what a visitor sees today. ".repeat(6)
        )));
        let (warm_reply, figures) = reply(&mut warm, &messages, &greedy(30));
        warm.settle().unwrap();
        assert!(turn == 0 || figures.reused_tokens > 0, "turn {turn} reuses the cache: {figures:?}");
        if turn == 5 || turn + 1 == topics.len() {
            let mut cold = Session::new(backend(), &model, &options).unwrap();
            let (cold_reply, _) = reply(&mut cold, &messages, &greedy(30));
            assert!(figures.prompt_tokens > 900 * (turn as u32 + 1) / 6, "the conversation grows long: {figures:?}");
            assert_eq!(warm_reply, cold_reply, "turn {turn} ({} prompt tokens)", figures.prompt_tokens);
        }
        messages.push(ChatMessage::assistant(warm_reply));
    }
}

#[test]
fn greedy_replies_are_deterministic() {
    let (model, options) = load(1024);
    let mut session = Session::new(backend(), &model, &options).unwrap();
    let (a, _) = reply(&mut session, &conversation(), &greedy(16));
    let (b, figures) = reply(&mut session, &conversation(), &greedy(16));
    assert_eq!(a, b);
    // Regenerating: everything up to the question's end-of-turn token is reused.
    let prompt = prompt_tokens(&session, &model, &conversation());
    let reusable = whole_groups(&model, &prompt, prompt.len() - 1);
    assert!(reusable + 8 > figures.prompt_tokens, "{reusable} of {}", figures.prompt_tokens);
    assert_eq!(figures.reused_tokens, reusable, "an identical prompt is reused in whole groups");
}

#[test]
fn a_second_turn_decodes_only_the_new_tokens() {
    let (model, options) = load(2048);
    let mut session = Session::new(backend(), &model, &options).unwrap();
    let mut messages = conversation();
    let (first, first_figures) = reply(&mut session, &messages, &greedy(20));
    session.settle().unwrap();
    messages.push(ChatMessage::assistant(first));
    messages.push(ChatMessage::user("Thanks!"));
    let (_, second) = reply(&mut session, &messages, &greedy(8));

    // Settled, the cache holds the first prompt, the reply and the end-of-turn token after it, which
    // ends a group: all of it is reused.
    let first_turn = first_figures.prompt_tokens + first_figures.generated_tokens + 1;
    assert_eq!(
        second.reused_tokens, first_turn,
        "turn two must reuse the first prompt, the reply and its end of turn ({first_turn} tokens)",
    );
    // Only the new part: `\n<start_of_turn>user\nThanks!<end_of_turn>\n<start_of_turn>model\n`.
    let decoded = second.prompt_tokens - second.reused_tokens;
    assert!(decoded < 14, "only the new tokens may be decoded, {decoded} of {} were", second.prompt_tokens);
}

#[test]
fn cancelling_stops_within_one_token() {
    let (model, options) = load(1024);
    let mut session = Session::new(backend(), &model, &options).unwrap();
    let tokens = Cell::new(0u32);
    let cancel_after = 3;
    let figures = session
        .generate(
            &conversation(),
            &RenderOptions::default(),
            &greedy(200),
            None,
            &|| tokens.get() >= cancel_after,
            &mut |event| {
                if matches!(event, ReplyEvent::Text(_)) {
                    tokens.set(tokens.get() + 1);
                }
            },
        )
        .unwrap();
    assert_eq!(figures.stop_reason, StopReason::Cancelled);
    assert!(figures.generated_tokens <= cancel_after + 1, "generated {} tokens", figures.generated_tokens);
}

#[test]
fn token_pieces_of_multilingual_and_emoji_text_stream_as_complete_utf8() {
    let (model, _) = load(512);
    // Rare characters have no token of their own and fall back to one token per byte.
    let text = "Grüße 👋🏽 日本語のテキスト, العربية, हिन्दी, 👩‍👩‍👧‍👦 e\u{301} 🇯🇵 𓂀 𝔊 ꙮ 🫠";
    let vocab = model_vocab_pieces(&model, text);
    assert!(vocab.iter().any(|piece| std::str::from_utf8(piece).is_err()), "some pieces must split characters");
    let mut stream = Utf8Stream::default();
    let mut out = String::new();
    for piece in &vocab {
        out.push_str(&stream.push(piece));
    }
    out.push_str(&stream.finish());
    assert_eq!(out, text);
}

fn model_vocab_pieces(model: &LoadedModel, text: &str) -> Vec<Vec<u8>> {
    let vocab = model.llama().vocab();
    vocab
        .tokenize(text.as_bytes(), false, false)
        .into_iter()
        .map(|token| vocab.token_to_piece(token, false, None))
        .collect()
}

#[test]
fn replies_to_multilingual_prompts_stream_valid_text() {
    let (model, options) = load(1024);
    let mut session = Session::new(backend(), &model, &options).unwrap();
    for prompt in ["日本の首都はどこですか？", "ما هي عاصمة مصر؟ 🌍", "🙂🙃😀 emoji only 🎉🎉"]
    {
        let messages = [ChatMessage::user(prompt)];
        let mut pieces = Vec::new();
        session
            .generate(&messages, &RenderOptions::default(), &greedy(24), None, &|| false, &mut |event| {
                if let ReplyEvent::Text(piece) = event {
                    pieces.push(piece);
                }
            })
            .unwrap();
        assert!(!pieces.is_empty());
        assert!(pieces.iter().all(|p| !p.is_empty()), "no empty pieces are streamed");
    }
}

#[test]
fn a_conversation_that_outgrows_the_context_drops_its_oldest_turns_and_keeps_the_system_prompt() {
    let (model, options) = load(256);
    let mut session = Session::new(backend(), &model, &options).unwrap();
    let mut messages = vec![ChatMessage::system("SYSTEM-PROMPT-MARKER")];
    for turn in 0..12 {
        messages.push(ChatMessage::user(format!("Turn {turn}: tell me something about the number {turn}.")));
        messages.push(ChatMessage::assistant(format!("The number {turn} is a fine number with many properties.")));
    }
    messages.push(ChatMessage::user("And the last one?"));
    let mut notices = Vec::new();
    let figures = session
        .generate(&messages, &RenderOptions::default(), &greedy(8), None, &|| false, &mut |event| {
            if let ReplyEvent::Notice(notice) = event {
                notices.push(notice);
            }
        })
        .unwrap();
    assert!(figures.dropped_messages > 0 && figures.dropped_messages.is_multiple_of(2), "whole turns are dropped");
    assert!(figures.prompt_tokens <= 256);
    assert_eq!(notices.len(), 1, "the user is told once: {notices:?}");
    assert!(notices[0].contains("system prompt is kept"));
}

#[test]
fn a_reply_longer_than_the_context_stops_with_context_full() {
    let (model, options) = load(96);
    let mut session = Session::new(backend(), &model, &options).unwrap();
    let messages = [ChatMessage::user("Count: 1 2 3 4 5 6 7 8 9 10 11 12")];
    let (_, figures) = reply(&mut session, &messages, &SamplingParams { greedy: true, ..Default::default() });
    assert_eq!(figures.stop_reason, StopReason::ContextFull, "{figures:?}");
    let n_ctx = session.info().n_ctx;
    assert_eq!(
        figures.prompt_tokens + figures.generated_tokens,
        n_ctx + 1,
        "the context is filled, then the reply stops"
    );
}

#[test]
fn max_tokens_limits_the_reply() {
    let (model, options) = load(512);
    let mut session = Session::new(backend(), &model, &options).unwrap();
    let (_, figures) = reply(&mut session, &conversation(), &greedy(5));
    assert_eq!(figures.stop_reason, StopReason::MaxTokens);
    assert_eq!(figures.generated_tokens, 5);
}

#[test]
fn a_message_too_long_for_the_context_is_refused_clearly() {
    let (model, options) = load(128);
    let mut session = Session::new(backend(), &model, &options).unwrap();
    let messages = [ChatMessage::user("word ".repeat(400))];
    let error = session.generate(&messages, &RenderOptions::default(), &greedy(4), None, &|| false, &mut |_| {}).unwrap_err();
    let n_ctx = session.info().n_ctx;
    assert!(matches!(error, EngineError::PromptTooLong { n_ctx: got, .. } if got == n_ctx), "{error}");
    assert!(error.to_string().contains("raise the context size"));
}

#[test]
fn the_builtin_gemma_format_matches_llama_cpps_own_gemma_template() {
    let (model, _) = load(256);
    let conversations = [
        conversation(),
        vec![
            ChatMessage::user("Hi"),
            ChatMessage::assistant("Hello! How can I help?"),
            ChatMessage::user("Tell me a joke about 🐧."),
        ],
    ];
    for messages in conversations {
        let ours = model
            .template()
            .render(&messages, &RenderOptions { add_generation_prompt: true, ..Default::default() })
            .unwrap();
        let chat: Vec<LlamaChatMessage> =
            messages.iter().map(|m| LlamaChatMessage::new(m.role.clone(), m.content.clone()).unwrap()).collect();
        let template = LlamaChatTemplate::new("gemma").unwrap();
        let llama = model.llama().apply_chat_template(&template, &chat, true).unwrap();
        assert_eq!(
            ours.strip_prefix("<bos>"),
            Some(llama.as_str()),
            "the only difference is the BOS we write ourselves"
        );
    }
}

#[test]
fn without_a_thread_count_a_session_runs_one_thread_per_physical_core() {
    let options = LoadOptions { model: test_model(), ctx: Some(256), threads: None, ..Default::default() };
    let model = LoadedModel::load(backend(), &options).expect("the test model loads");
    let session = Session::new(backend(), &model, &options).unwrap();
    let usable = std::thread::available_parallelism().unwrap().get();
    let physical = sysinfo::System::physical_core_count().unwrap_or(usable);
    assert_eq!(
        session.info().threads as usize,
        physical.min(usable).max(1),
        "llama.cpp's own default: a thread on each of the {usable} logical CPUs spins against everything else"
    );
}

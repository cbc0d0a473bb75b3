//! `bench`: speed through the engine worker (the path the app uses) against a bare llama-cpp-2
//! loop in this process, with the same kernels, model and settings, interleaved so that both
//! see the same machine load.
//!
//! Prefill and decode are measured as llama-bench's pp512 and tg128: one batch of 512 tokens,
//! then 128 single-token steps, each from an empty cache. Time to first token is measured for
//! each turn of a scripted 20-turn conversation of about 4,000 tokens.

use std::num::NonZeroU32;
use std::time::Instant;

use anyhow::Context;
use clap::Args;
use gemma_desk_engine::{ChatMessage, ModelInfo, RenderOptions, SamplingParams, WorkerClient};
use llama_cpp_2::context::LlamaContext;
use llama_cpp_2::context::params::LlamaContextParams;
use llama_cpp_2::llama_backend::LlamaBackend;
use llama_cpp_2::llama_batch::LlamaBatch;
use llama_cpp_2::model::LlamaModel;
use llama_cpp_2::model::params::LlamaModelParams;
use llama_cpp_2::sampling::LlamaSampler;
use llama_cpp_2::token::LlamaToken;
use serde_json::json;

use crate::options::ModelArgs;

/// Arguments of `bench`.
#[derive(Args, Debug)]
pub struct BenchArgs {
    #[command(flatten)]
    model: ModelArgs,
    /// Prompt tokens decoded as one batch.
    #[arg(long, default_value_t = 512, value_parser = clap::value_parser!(u32).range(1..=512))]
    prompt_tokens: u32,
    /// Tokens decoded one at a time.
    #[arg(long, default_value_t = 128, value_parser = clap::value_parser!(u32).range(1..=4096))]
    gen_tokens: u32,
    /// Repetitions of each measurement (the median is reported).
    #[arg(long, default_value_t = 5, value_parser = clap::value_parser!(u32).range(1..=100))]
    repetitions: u32,
    /// Turns of the scripted conversation.
    #[arg(long, default_value_t = 20, value_parser = clap::value_parser!(u32).range(2..=100))]
    turns: u32,
    /// Print JSON (the only format so far; accepted for scripts).
    #[arg(long)]
    json: bool,
}

pub fn run(args: BenchArgs) -> anyhow::Result<()> {
    let (mut engine, info) = args.model.start_engine()?;
    let mut backend = gemma_desk_engine::init_backend()?;
    backend.void_logs();
    let model = LlamaModel::load_from_file(
        &backend,
        &args.model.model,
        &LlamaModelParams::default().with_n_gpu_layers(info.gpu_layers),
    )
    .context("the bare loop could not load the model")?;
    let mut bare = BareLoop::new(&backend, &model, &info)?;

    let (mut worker_pp, mut worker_tg, mut bare_pp, mut bare_tg) = (vec![], vec![], vec![], vec![]);
    for _ in 0..args.repetitions {
        let figures = engine.bench(args.prompt_tokens, args.gen_tokens)?;
        worker_pp.push(figures.prefill_tps);
        worker_tg.push(figures.decode_tps);
        bare_pp.push(bare.prefill(args.prompt_tokens as usize)?);
        bare_tg.push(bare.decode(args.gen_tokens as usize)?);
    }
    let conversation = scripted_conversation(&mut engine, &mut bare, args.turns)?;

    let (prefill, decode) = (median(&worker_pp), median(&worker_tg));
    let (ref_prefill, ref_decode) = (median(&bare_pp), median(&bare_tg));
    let ttft = &conversation.worker_ttft_ms;
    let report = json!({
        "machine": machine(),
        "model": info.path,
        "architecture": info.architecture,
        "devices": info.devices,
        "threads": info.threads,
        "n_ctx": info.n_ctx,
        "repetitions": args.repetitions,
        "prompt_tokens": args.prompt_tokens,
        "gen_tokens": args.gen_tokens,
        "prefill_tps": round(prefill),
        "decode_tps": round(decode),
        "reference": { "prefill_tps": round(ref_prefill), "decode_tps": round(ref_decode), "ttft_ms_by_turn": rounded(&conversation.bare_ttft_ms) },
        "prefill_ratio": round3(prefill / ref_prefill),
        "decode_ratio": round3(decode / ref_decode),
        "ttft_ms_by_turn": rounded(ttft),
        "client_ttft_ms_by_turn": rounded(&conversation.client_ttft_ms),
        "ttft_last_over_turn2": round3(ttft[ttft.len() - 1] / ttft[1]),
        "ttft_ratio_by_turn": conversation.worker_ttft_ms.iter().zip(&conversation.bare_ttft_ms).map(|(w, b)| round3(w / b)).collect::<Vec<_>>(),
        "reused_tokens_by_turn": conversation.reused_tokens,
        "conversation_tokens": conversation.final_prompt_tokens,
        "samples": { "prefill_tps": rounded(&worker_pp), "decode_tps": rounded(&worker_tg), "reference_prefill_tps": rounded(&bare_pp), "reference_decode_tps": rounded(&bare_tg) },
    });
    println!("{}", serde_json::to_string_pretty(&report)?);
    Ok(())
}

struct ConversationFigures {
    /// From the worker receiving the request to its first token.
    worker_ttft_ms: Vec<f64>,
    /// From sending the request to receiving the first text: adds the protocol. (The worker
    /// settles the previous reply while it answers the render request sent before each turn, so
    /// that work is not in either figure, as it would not be for a person typing.)
    client_ttft_ms: Vec<f64>,
    bare_ttft_ms: Vec<f64>,
    reused_tokens: Vec<u32>,
    final_prompt_tokens: u32,
}

/// A conversation of `turns` turns, each user message about 150 tokens and each reply at most
/// 40 greedy tokens, timed through the worker, then replayed through the bare loop (which
/// decodes only what each turn adds, the ideal cache).
fn scripted_conversation(
    engine: &mut WorkerClient,
    bare: &mut BareLoop,
    turns: u32,
) -> anyhow::Result<ConversationFigures> {
    let sampling = SamplingParams { greedy: true, max_tokens: Some(40), ..SamplingParams::default() };
    let mut messages = vec![ChatMessage::system("You are a concise assistant. Answer in two sentences.")];
    let mut figures = ConversationFigures {
        worker_ttft_ms: vec![],
        client_ttft_ms: vec![],
        bare_ttft_ms: vec![],
        reused_tokens: vec![],
        final_prompt_tokens: 0,
    };
    let mut prompts = Vec::new();
    for turn in 1..=turns {
        messages.push(ChatMessage::user(user_message(turn)));
        prompts.push(engine.render(&messages, &RenderOptions::default())?);
        let sent = Instant::now();
        let mut first_text = None;
        let reply = engine.generate(&messages, &RenderOptions::default(), &sampling, |_| {
            first_text.get_or_insert_with(|| sent.elapsed().as_secs_f64() * 1000.0);
        })?;
        figures.client_ttft_ms.push(first_text.unwrap_or(f64::NAN));
        let turn_figures = reply.figures.context("the engine stopped during the benchmark")?;
        figures.worker_ttft_ms.push(turn_figures.ttft_ms);
        figures.reused_tokens.push(turn_figures.reused_tokens);
        figures.final_prompt_tokens = turn_figures.prompt_tokens;
        messages.push(ChatMessage::assistant(reply.text));
    }
    bare.forget();
    for prompt in &prompts {
        figures.bare_ttft_ms.push(bare.time_to_first_token(prompt)?);
    }
    Ok(figures)
}

fn user_message(turn: u32) -> String {
    const TOPICS: [&str; 5] = ["rivers", "bridges", "clocks", "gardens", "lighthouses"];
    let topic = TOPICS[turn as usize % TOPICS.len()];
    format!(
        "Question {turn} is about {topic}. I have been reading about how {topic} shaped the towns around them, \
         how people built and repaired them over the centuries, which materials lasted and which did not, and \
         how the work was organised by guilds, families and later by city councils with budgets and engineers. \
         Some accounts say the old methods were better than the new ones; others say modern tools changed \
         everything. Please compare the two views, name one surprising fact about {topic}, and suggest a short \
         book or museum where I could learn more. Keep it practical, and mention anything that would matter to \
         a visitor today who has only an afternoon to spend and wants to see the best example nearby."
    )
}

/// llama-cpp-2 used directly, with nothing of ours in between: the in-run reference.
struct BareLoop<'m> {
    model: &'m LlamaModel,
    context: LlamaContext<'m>,
    batch: LlamaBatch<'static>,
    cached: Vec<LlamaToken>,
    seed: u64,
}

impl<'m> BareLoop<'m> {
    /// A context with the engine's settings, so that the comparison isolates our own code.
    fn new(backend: &LlamaBackend, model: &'m LlamaModel, info: &ModelInfo) -> anyhow::Result<Self> {
        let params = LlamaContextParams::default()
            .with_n_ctx(NonZeroU32::new(info.n_ctx))
            .with_n_batch(512)
            .with_n_ubatch(512)
            .with_n_threads(info.threads as i32)
            .with_n_threads_batch(info.threads as i32);
        let context = model.new_context(backend, params)?;
        Ok(BareLoop { model, context, batch: LlamaBatch::new(512, 1), cached: vec![], seed: 1 })
    }

    fn random_tokens(&mut self, n: usize) -> Vec<LlamaToken> {
        let n_vocab = self.model.n_vocab() as u64;
        (0..n)
            .map(|_| {
                self.seed = self.seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                LlamaToken(((self.seed >> 33) % n_vocab) as i32)
            })
            .collect()
    }

    fn forget(&mut self) {
        self.context.clear_kv_cache();
        self.cached.clear();
    }

    fn decode_at(&mut self, tokens: &[LlamaToken], position: usize) -> anyhow::Result<()> {
        self.batch.clear();
        for (offset, token) in tokens.iter().enumerate() {
            self.batch.add(*token, (position + offset) as i32, &[0], offset + 1 == tokens.len())?;
        }
        self.context.decode(&mut self.batch)?;
        Ok(())
    }

    /// pp: one batch of `n` tokens from an empty cache.
    fn prefill(&mut self, n: usize) -> anyhow::Result<f64> {
        let mut tokens = vec![self.model.vocab().bos()];
        tokens.extend(self.random_tokens(n - 1));
        self.forget();
        let started = Instant::now();
        self.decode_at(&tokens, 0)?;
        Ok(n as f64 / started.elapsed().as_secs_f64())
    }

    /// tg: `n` single-token steps from an empty cache.
    fn decode(&mut self, n: usize) -> anyhow::Result<f64> {
        let mut tokens = vec![self.model.vocab().bos()];
        tokens.extend(self.random_tokens(n - 1));
        self.forget();
        let started = Instant::now();
        for (position, token) in tokens.iter().enumerate() {
            self.decode_at(std::slice::from_ref(token), position)?;
        }
        Ok(n as f64 / started.elapsed().as_secs_f64())
    }

    /// Tokenizes `prompt`, decodes what the cache lacks, samples one greedy token.
    fn time_to_first_token(&mut self, prompt: &str) -> anyhow::Result<f64> {
        let started = Instant::now();
        let tokens = self.model.vocab().tokenize(prompt.as_bytes(), false, true);
        let common = self.cached.iter().zip(&tokens).take_while(|(a, b)| a == b).count().min(tokens.len() - 1);
        self.context.clear_kv_cache_seq(Some(0), Some(common as u32), None)?;
        self.cached.truncate(common);
        for chunk in tokens[common..].chunks(512) {
            let position = self.cached.len();
            self.decode_at(chunk, position)?;
            self.cached.extend_from_slice(chunk);
        }
        let mut sampler = LlamaSampler::greedy();
        let _first = sampler.sample(&self.context, self.batch.n_tokens() - 1);
        Ok(started.elapsed().as_secs_f64() * 1000.0)
    }
}

fn machine() -> serde_json::Value {
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let cpu = cpuinfo
        .lines()
        .find_map(|l| l.strip_prefix("model name"))
        .map(|l| l.trim_start_matches([' ', '\t', ':']).to_string());
    json!({
        "cpu": cpu,
        "logical_cores": std::thread::available_parallelism().map_or(0, |n| n.get()),
        "os": std::env::consts::OS,
        "arch": std::env::consts::ARCH,
    })
}

fn median(values: &[f64]) -> f64 {
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    sorted[sorted.len() / 2]
}

fn round(value: f64) -> f64 {
    (value * 10.0).round() / 10.0
}

fn round3(value: f64) -> f64 {
    (value * 1000.0).round() / 1000.0
}

fn rounded(values: &[f64]) -> Vec<f64> {
    values.iter().copied().map(round).collect()
}

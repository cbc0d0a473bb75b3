//! `bench`: speed through the engine worker (the path the app uses) against a bare llama-cpp-2
//! loop in this process, with the same kernels, model and settings, interleaved so that both
//! see the same machine load.
//!
//! Prefill and decode are measured as llama-bench's pp512 and tg128: one batch of 512 tokens,
//! then 128 single-token steps, each from an empty cache. Time to first token is measured for
//! each turn of a scripted 20-turn conversation of about 4,000 tokens, through the worker, the
//! bare loop with an ideal cache, and (with `--llama-server`) upstream llama-server.

mod image;
mod llama_server;
mod voice;

pub use image::{BenchImageArgs, run as run_image};
pub use voice::{BenchVoiceArgs, run as run_voice};

use std::num::NonZeroU32;
use std::path::PathBuf;
use std::time::{Duration, Instant};

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
    /// Pause between turns, in milliseconds (a person reading the reply; the worker settles the
    /// reply's cache meanwhile, as it does in the app).
    #[arg(long, default_value_t = 1000, value_parser = clap::value_parser!(u64).range(0..=60_000))]
    pause_ms: u64,
    /// An upstream llama-server executable: the conversation's prompts are replayed through it
    /// with prompt caching as a same-run reference (scripts/build-llama-reference builds one).
    #[arg(long, value_name = "PATH")]
    llama_server: Option<PathBuf>,
    /// Threads that spin for the whole run, a competing load such as the window painting a reply
    /// (decoding must not slow far more than its share of the CPU).
    #[arg(long, default_value_t = 0, value_parser = clap::value_parser!(u32).range(0..=64))]
    busy_threads: u32,
    /// Print JSON (the only format so far; accepted for scripts).
    #[arg(long)]
    json: bool,
}

pub fn run(args: BenchArgs) -> anyhow::Result<()> {
    let _load = BusyLoad::start(args.busy_threads);
    let (mut engine, info) = args.model.start_engine()?;
    // Started first, so that a server that cannot start fails the run at once.
    let server = match &args.llama_server {
        Some(program) => Some(llama_server::LlamaServer::start(program, &info)?),
        None => None,
    };
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
    let pause = Duration::from_millis(args.pause_ms);
    let conversation = scripted_conversation(&mut engine, &mut bare, server.as_ref(), args.turns, pause)?;

    let (prefill, decode) = (median(&worker_pp), median(&worker_tg));
    let (ref_prefill, ref_decode) = (median(&bare_pp), median(&bare_tg));
    let ttft = &conversation.worker_ttft_ms;
    let report = json!({
        "machine": machine(),
        "model": info.path,
        "architecture": info.architecture,
        "devices": info.devices,
        "threads": info.threads,
        "busy_threads": args.busy_threads,
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
        "prefill_ms_by_turn": rounded(&conversation.prefill_ms),
        "ttft_last_over_turn2": round3(ttft[ttft.len() - 1] / ttft[1]),
        "ttft_ratio_by_turn": conversation.worker_ttft_ms.iter().zip(&conversation.bare_ttft_ms).map(|(w, b)| round3(w / b)).collect::<Vec<_>>(),
        "reused_tokens_by_turn": conversation.reused_tokens,
        "conversation_tokens": conversation.final_prompt_tokens,
        "llama_server": server.map(|server| llama_server_figures(&server, &conversation)),
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
    /// The part of `worker_ttft_ms` spent decoding the prompt tokens not reused (the rest is
    /// rendering, tokenizing and the first token's sampling).
    prefill_ms: Vec<f64>,
    bare_ttft_ms: Vec<f64>,
    server_turns: Vec<llama_server::ServerTurn>,
    reused_tokens: Vec<u32>,
    final_prompt_tokens: u32,
}

/// The most tokens each scripted reply may have.
const REPLY_TOKENS: u32 = 40;

/// A conversation of `turns` turns, each user message about 150 tokens and each reply at most
/// 40 greedy tokens, timed through the worker. Each turn's prompt (as `gemma-desk-cli prompt`
/// renders it) is then sent, turn by turn so that all see the same machine load, through the
/// bare loop (which decodes only what each turn adds, the ideal cache) and llama-server.
fn scripted_conversation(
    engine: &mut WorkerClient,
    bare: &mut BareLoop,
    server: Option<&llama_server::LlamaServer>,
    turns: u32,
    pause: Duration,
) -> anyhow::Result<ConversationFigures> {
    let sampling = SamplingParams { greedy: true, max_tokens: Some(REPLY_TOKENS), ..SamplingParams::default() };
    let mut messages = vec![ChatMessage::system("You are a concise assistant. Answer in two sentences.")];
    let mut figures = ConversationFigures {
        worker_ttft_ms: vec![],
        client_ttft_ms: vec![],
        prefill_ms: vec![],
        bare_ttft_ms: vec![],
        server_turns: vec![],
        reused_tokens: vec![],
        final_prompt_tokens: 0,
    };
    bare.forget();
    for turn in 1..=turns {
        std::thread::sleep(pause);
        messages.push(ChatMessage::user(user_message(turn)));
        // Answered once the worker has settled the previous reply.
        let prompt = engine.render(&messages, &RenderOptions::default())?;
        let sent = Instant::now();
        let mut first_text = None;
        let reply = engine.generate(&messages, &RenderOptions::default(), &sampling, |_| {
            first_text.get_or_insert_with(|| sent.elapsed().as_secs_f64() * 1000.0);
        })?;
        figures.client_ttft_ms.push(first_text.unwrap_or(f64::NAN));
        let turn_figures = reply.figures.context("the engine stopped during the benchmark")?;
        figures.worker_ttft_ms.push(turn_figures.ttft_ms);
        let prefilled = turn_figures.prompt_tokens - turn_figures.reused_tokens;
        figures.prefill_ms.push(f64::from(prefilled) / turn_figures.prefill_tps * 1000.0);
        figures.reused_tokens.push(turn_figures.reused_tokens);
        figures.final_prompt_tokens = turn_figures.prompt_tokens;
        messages.push(ChatMessage::assistant(reply.text));
        // The worker settles the reply meanwhile, as it does while a person reads it.
        std::thread::sleep(pause);
        figures.bare_ttft_ms.push(bare.time_to_first_token(&prompt)?);
        if let Some(server) = server {
            figures.server_turns.push(server.complete(&prompt, REPLY_TOKENS)?);
        }
    }
    Ok(figures)
}

/// llama-server's figures beside the worker's: time to first token as each client sees it, and
/// the ratio summed over turns 2 on (turn 1 has nothing to reuse).
fn llama_server_figures(server: &llama_server::LlamaServer, conversation: &ConversationFigures) -> serde_json::Value {
    let turns = &conversation.server_turns;
    let client: Vec<f64> = turns.iter().map(|t| t.client_ttft_ms).collect();
    let prompt_ms: Vec<f64> = turns.iter().map(|t| t.prompt_ms).collect();
    let ours = &conversation.client_ttft_ms;
    let after_first = |values: &[f64]| values[1..].iter().sum::<f64>();
    json!({
        "program": server.program(),
        "client_ttft_ms_by_turn": rounded(&client),
        "prompt_ms_by_turn": rounded(&prompt_ms),
        "prompt_tokens_by_turn": turns.iter().map(|t| t.prompt_tokens).collect::<Vec<_>>(),
        "cached_tokens_by_turn": turns.iter().map(|t| t.cached_tokens).collect::<Vec<_>>(),
        "client_ttft_ratio_by_turn": ours.iter().zip(&client).map(|(w, s)| round3(w / s)).collect::<Vec<_>>(),
        "client_ttft_ratio_turns_2_on": round3(after_first(ours) / after_first(&client)),
        "worker_ttft_over_prompt_ms_turns_2_on": round3(after_first(&conversation.worker_ttft_ms) / after_first(&prompt_ms)),
    })
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

/// Threads spinning until dropped.
struct BusyLoad {
    stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
    threads: Vec<std::thread::JoinHandle<()>>,
}

impl BusyLoad {
    fn start(threads: u32) -> Self {
        let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let threads = (0..threads)
            .map(|_| {
                let stop = stop.clone();
                std::thread::spawn(move || {
                    while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                        std::hint::spin_loop();
                    }
                })
            })
            .collect();
        BusyLoad { stop, threads }
    }
}

impl Drop for BusyLoad {
    fn drop(&mut self) {
        self.stop.store(true, std::sync::atomic::Ordering::Relaxed);
        for thread in self.threads.drain(..) {
            let _ = thread.join();
        }
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

fn ms_since(started: std::time::Instant) -> f64 {
    started.elapsed().as_secs_f64() * 1000.0
}

/// mtmd's chunks for the media marker, a new line and `question`, with `bitmap` for the marker.
fn tokenize_with_marker(
    projector: &llama_cpp_2::mtmd::MtmdContext,
    bitmap: &llama_cpp_2::mtmd::MtmdBitmap,
    question: &str,
) -> anyhow::Result<llama_cpp_2::mtmd::MtmdInputChunks> {
    let text = llama_cpp_2::mtmd::MtmdInputText {
        text: format!("{}\n{question}", llama_cpp_2::mtmd::mtmd_default_marker()),
        add_special: true,
        parse_special: true,
    };
    Ok(projector.tokenize(text, &[bitmap])?)
}

/// A context whose micro-batch holds `media_tokens` whole, as the engine sizes its own.
fn media_context<'m>(
    backend: &LlamaBackend,
    model: &'m LlamaModel,
    media_tokens: usize,
    threads: i32,
) -> anyhow::Result<llama_cpp_2::context::LlamaContext<'m>> {
    let n_batch = (media_tokens as u32).max(512).next_power_of_two();
    let params = llama_cpp_2::context::params::LlamaContextParams::default()
        .with_n_ctx(std::num::NonZeroU32::new(n_batch * 2))
        .with_n_batch(n_batch)
        .with_n_ubatch(n_batch)
        .with_n_threads(threads)
        .with_n_threads_batch(threads);
    Ok(model.new_context(backend, params)?)
}

/// Times the encoder on the media chunk of `kind` in `chunks`, then the whole prompt into
/// `context`'s emptied cache (the media encoded again and its embeddings decoded, then the text):
/// the encode, and the prefill (what of the whole is not encoding), in milliseconds.
fn encode_and_prefill(
    projector: &mut llama_cpp_2::mtmd::MtmdContext,
    chunks: &llama_cpp_2::mtmd::MtmdInputChunks,
    kind: llama_cpp_2::mtmd::MtmdInputChunkType,
    context: &mut llama_cpp_2::context::LlamaContext<'_>,
) -> anyhow::Result<(f64, f64)> {
    use anyhow::Context as _;
    let media = (0..chunks.len())
        .filter_map(|index| chunks.get(index))
        .find(|chunk| chunk.chunk_type() == kind)
        .with_context(|| format!("the projector made no {kind:?} chunk"))?;
    let started = std::time::Instant::now();
    projector.encode_chunk(&media)?;
    let encode = ms_since(started);
    context.clear_kv_cache();
    let started = std::time::Instant::now();
    let n_batch = context.n_batch() as i32;
    chunks.eval_chunks(projector, context, 0, 0, n_batch, true)?;
    Ok((encode, (ms_since(started) - encode).max(0.0)))
}

//! A chat session: one llama.cpp context whose KV cache outlives each reply.
//!
//! Every reply re-renders the whole conversation, keeps the longest token prefix already in the
//! cache and decodes only the rest (llama-server's prompt caching). A reply moves through
//! [`ReplyState`]: prefill of the new prompt tokens, then generation one token at a time, until a
//! [`StopReason`].
//!
//! Reusing the cache must not change the reply: a greedy reply is the same whether the cache
//! was reused or rebuilt from the stored conversation. ggml's rounding depends on how tokens are
//! grouped into a batch (a lone token is a matrix-vector product; batches are tiled), so a KV
//! entry is only bit-identical to a rebuild's if its token was decoded in the same group. Prompt
//! tokens are therefore always decoded in groups whose ends depend on the tokens alone: a group
//! ends at each multiple of [`CACHE_CHUNK`] and right after each end-of-turn token, so that a
//! rebuild from the stored conversation forms the same groups. Only whole groups are reused
//! ("settled"). [`Session::settle`] re-decodes a finished reply's tokens that way, with the
//! end-of-turn token the next prompt will have after them, which the worker does right after
//! each reply, while the user reads it: the next turn then starts a fresh group and decodes only
//! what the user added.
//!
//! Images take positions of their own in the sequence ([`Slot::Media`]): each is one group,
//! decoded by mtmd, reused whole when the same image (by sha256) sits at the same place, and never
//! cut by a group boundary (see [`crate::media`]).

use std::collections::HashMap;
use std::num::NonZeroU32;
use std::time::Instant;

use llama_cpp_2::context::LlamaContext;
use llama_cpp_2::context::params::LlamaContextParams;
use llama_cpp_2::llama_backend::LlamaBackend;
use llama_cpp_2::llama_batch::LlamaBatch;
use llama_cpp_2::token::LlamaToken;

use crate::error::EngineError;
use crate::media::{MediaCache, MediaCounts, MediaKind, MediaRef, name_of, unused_marker, with_markers};
use crate::model::LoadedModel;
use crate::protocol::{BenchFigures, LoadOptions, ModelInfo, ReplyFigures, StopReason};
use crate::sampling::SamplingParams;
use crate::template::{ChatMessage, RenderOptions};
use crate::utf8::Utf8Stream;

/// Context size when the caller sets none (the model's own is used when smaller).
pub const DEFAULT_CONTEXT: u32 = 8192;
/// The most tokens llama.cpp decodes per call (the benchmark's pp512 batch).
const BATCH: u32 = 512;
/// Prompt tokens are decoded in groups that end at multiples of this many positions (and after
/// each end-of-turn token), and the cache is reused in whole groups (see the module docs).
/// Larger chunks prefill faster, but re-read more of an edited message and let Stop wait longer
/// during a long prompt (it is checked between groups).
pub const CACHE_CHUNK: usize = 256;

/// Where a reply is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReplyState {
    /// Decoding the prompt tokens not found in the cache.
    Prefill,
    /// Sampling and decoding one token at a time.
    Generating,
    /// Finished.
    Done(StopReason),
}

/// What a reply tells its caller while it runs.
#[derive(Debug, Clone, PartialEq)]
pub enum ReplyEvent {
    /// More text (always complete UTF-8).
    Text(String),
    /// Something the user should know, such as dropped turns.
    Notice(String),
}

/// What one position of a prompt (and of the KV cache) holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Slot {
    /// A text token.
    Token(LlamaToken),
    /// Position `offset` of the image the session knows as `media` (see [`Session::media_id`]),
    /// its begin and end tokens included; offset 0 starts it.
    Media { media: u32, offset: u32 },
}

/// A prompt ready to decode: its positions, and where its images are.
struct Prompt {
    slots: Vec<Slot>,
    images: Vec<PromptImage>,
}

struct PromptImage {
    start: usize,
    counts: MediaCounts,
}

/// One model context and the tokens its KV cache holds.
pub struct Session<'m> {
    model: &'m LoadedModel,
    context: LlamaContext<'m>,
    batch: LlamaBatch<'static>,
    /// What positions `0..cached.len()` of sequence 0 in the KV cache hold.
    cached: Vec<Slot>,
    /// How many leading cached tokens were decoded in whole groups (reusable); always a group
    /// boundary (see [`Session::last_boundary`]).
    settled: usize,
    /// What the last reply ended with but did not decode, which the next prompt will hold right
    /// after its text: the end-of-turn token it stopped at, or its last token and the model's
    /// end-of-turn token when it was cut short. [`Session::settle`] decodes them.
    pending: Vec<LlamaToken>,
    /// Where the logits of the last decode are: the last token of our batch, or -1 (the last
    /// output) after an image.
    logits_at: i32,
    /// The images of recent prompts, decoded and tokenized.
    media: MediaCache,
    /// Each image seen by this session (by sha256), numbered for [`Slot::Media`].
    media_ids: HashMap<String, u32>,
    /// The images by number, to read them again when one must be decoded.
    media_refs: Vec<MediaRef>,
    threads: u32,
}

/// The CPU threads when the user sets none: one per physical core, as llama.cpp's own tools
/// choose. Decoding is bound by memory, so a core's second hardware thread adds little, while
/// llama.cpp's threads spin as they wait for each other: one on every logical CPU slows decoding
/// badly as soon as anything else (the window painting the reply) needs a CPU. Never more than
/// this process may use (its affinity and cgroup quota), never fewer than one.
pub(crate) fn default_threads() -> i32 {
    let usable = std::thread::available_parallelism().map_or(4, |n| n.get());
    let physical = sysinfo::System::physical_core_count().unwrap_or(usable);
    physical.min(usable).max(1) as i32
}

impl<'m> Session<'m> {
    /// Creates the context for `model` as `options` ask.
    pub fn new(backend: &LlamaBackend, model: &'m LoadedModel, options: &LoadOptions) -> Result<Self, EngineError> {
        let n_ctx_train = model.model.n_ctx_train();
        let n_ctx = options.ctx.unwrap_or(DEFAULT_CONTEXT.min(n_ctx_train));
        if !(64..=n_ctx_train.max(64)).contains(&n_ctx) {
            return Err(EngineError::BadRequest(format!(
                "context size must be between 64 and the model's {n_ctx_train} tokens, got {n_ctx}"
            )));
        }
        let threads = options.threads.map_or_else(default_threads, |t| t as i32);
        if !(1..=1024).contains(&threads) {
            return Err(EngineError::BadRequest(format!("threads must be between 1 and 1024, got {threads}")));
        }
        // An image (or a clip) is decoded in one micro-batch (its tokens attend to each other):
        // room for the largest one the projector makes, or llama.cpp aborts.
        let largest_image = match &model.projector {
            Some(projector) => projector.max_media_tokens()? as u32,
            None => 0,
        };
        let n_batch = BATCH.max(largest_image).min(n_ctx);
        let params = LlamaContextParams::default()
            .with_n_ctx(NonZeroU32::new(n_ctx))
            .with_n_batch(n_batch)
            .with_n_ubatch(n_batch)
            .with_n_threads(threads)
            .with_n_threads_batch(threads);
        let context = model.model.new_context(backend, params).map_err(|error| {
            EngineError::LoadFailed(format!(
                "llama.cpp could not create a context of {n_ctx} tokens: {error}; try a smaller context size"
            ))
        })?;
        Ok(Session {
            model,
            context,
            batch: LlamaBatch::new(n_batch as usize, 1),
            cached: Vec::new(),
            settled: 0,
            pending: Vec::new(),
            logits_at: -1,
            media: MediaCache::default(),
            media_ids: HashMap::new(),
            media_refs: Vec::new(),
            threads: threads as u32,
        })
    }

    /// What the client is told about the loaded model.
    pub fn info(&self) -> ModelInfo {
        let devices = crate::backend::device_names();
        let projector = self.model.projector.as_ref();
        ModelInfo {
            path: self.model.gguf.path.clone(),
            architecture: self.model.gguf.architecture.clone(),
            name: self.model.gguf.name.clone(),
            n_ctx: self.context.n_ctx(),
            n_ctx_train: self.model.model.n_ctx_train(),
            threads: self.threads,
            gpu_layers: self.model.gpu_layers,
            template: self.model.template.kind().to_string(),
            devices,
            vision: projector.is_some_and(|p| p.vision()),
            audio: projector.is_some_and(|p| p.audio()),
            native_tool_calls: self.model.template.has_native_tool_calls(),
            load_ms: self.model.load_ms,
            cpu_fallback: self.model.cpu_fallback.clone(),
        }
    }

    /// Renders a conversation to the exact text that [`Session::generate`] tokenizes, with mtmd's
    /// marker (`<__media__>`) where each image goes.
    pub fn render(&self, messages: &[ChatMessage], options: &RenderOptions) -> Result<String, EngineError> {
        self.render_text(&with_markers(messages, llama_cpp_2::mtmd::mtmd_default_marker()), options)
    }

    fn render_text(&self, messages: &[ChatMessage], options: &RenderOptions) -> Result<String, EngineError> {
        if messages.is_empty() {
            return Err(EngineError::BadRequest("the conversation has no messages".into()));
        }
        let options = RenderOptions { add_generation_prompt: true, ..options.clone() };
        Ok(self.model.template.render(messages, &options)?)
    }

    /// Generates the assistant's reply to `messages`, streaming text through `on_event`, within
    /// `grammar` (GBNF, root rule `root`) when one is given; it may use the rules
    /// `tool-call-open`, `tool-call-close` and `tool-quote`, Gemma 4's tool-call tokens, which the
    /// session defines for the model's vocabulary. `cancelled` is polled before each token; once it
    /// returns true the reply stops.
    pub fn generate(
        &mut self,
        messages: &[ChatMessage],
        options: &RenderOptions,
        params: &SamplingParams,
        grammar: Option<&str>,
        cancelled: &dyn Fn() -> bool,
        on_event: &mut dyn FnMut(ReplyEvent),
    ) -> Result<ReplyFigures, EngineError> {
        let started = Instant::now();
        params.validate().map_err(|error| EngineError::BadRequest(error.to_string()))?;
        let sampling = params.resolve(&self.model.gguf.architecture);
        let n_ctx = self.context.n_ctx();
        let reserve = sampling.max_tokens.unwrap_or(u32::MAX).min(n_ctx / 4).max(1);
        let (prompt, dropped, dropped_images) = self.fit_prompt(messages, options, reserve)?;
        if dropped > 0 {
            let images = match dropped_images {
                0 => String::new(),
                1 => " (with the image in them)".to_owned(),
                n => format!(" (with the {n} images in them)"),
            };
            on_event(ReplyEvent::Notice(format!(
                "the conversation outgrew the context of {n_ctx} tokens: the oldest {dropped} messages{images} were left out of the prompt (the system prompt is kept)"
            )));
        }

        self.pending.clear();
        let reused = self.reuse_cached_prefix(&prompt.slots);
        let images = || prompt.images.iter().filter(|image| image.counts.kind == MediaKind::Image);
        let image_tokens_reused: usize = images()
            .filter(|image| image.start + image.counts.positions <= reused)
            .map(|image| image.counts.tokens)
            .sum();
        let image_tokens_encoded = images().map(|image| image.counts.tokens).sum::<usize>() - image_tokens_reused;
        let prompt_tokens: Vec<LlamaToken> = text_tokens(&prompt.slots).collect();
        let prefill_started = Instant::now();
        let mut state = ReplyState::Prefill;
        if self.decode_chunks(&prompt.slots[reused..], cancelled)? {
            state = ReplyState::Done(StopReason::Cancelled);
        }
        let prefill_secs = prefill_started.elapsed().as_secs_f64();
        self.settled = self.last_boundary(&self.cached, self.cached.len());

        let vocab = self.model.model.vocab();
        let grammar = grammar.map(|grammar| format!("{grammar}\n{}", self.model.tool_tokens.grammar_rules()));
        let mut sampler = sampling.sampler(&self.model.model, grammar.as_deref())?;
        if sampling.repeat_penalty != 1.0 {
            sampler.accept_many(&prompt_tokens);
        }
        let mut text = Utf8Stream::default();
        let mut generated = 0u32;
        let mut first_token_at = None;
        if state == ReplyState::Prefill {
            state = ReplyState::Generating;
        }
        while state == ReplyState::Generating {
            if cancelled() {
                state = ReplyState::Done(StopReason::Cancelled);
                break;
            }
            let token = sampler.sample(&self.context, self.logits_at);
            first_token_at.get_or_insert_with(Instant::now);
            if vocab.is_eog(token) {
                self.pending = vec![token];
                let calls_tools = self.model.tool_tokens.is_tool_response(token);
                state = ReplyState::Done(if calls_tools { StopReason::ToolCall } else { StopReason::EndOfTurn });
                break;
            }
            generated += 1;
            let shown = self.model.tool_tokens.is_shown(token);
            let piece = text.push(&vocab.token_to_piece(token, shown, None));
            if !piece.is_empty() {
                on_event(ReplyEvent::Text(piece));
            }
            if sampling.max_tokens.is_some_and(|max| generated >= max) {
                let end_of_turn = vocab.eot();
                self.pending = if vocab.is_eog(end_of_turn) { vec![token, end_of_turn] } else { vec![token] };
                state = ReplyState::Done(StopReason::MaxTokens);
            } else if self.cached.len() >= n_ctx as usize {
                state = ReplyState::Done(StopReason::ContextFull);
            } else {
                self.decode_batch(&[token], true)?;
            }
        }
        let tail = text.finish();
        if !tail.is_empty() {
            on_event(ReplyEvent::Text(tail));
        }

        let ReplyState::Done(stop_reason) = state else { unreachable!("the loop ends only when done") };
        let first_token_at = first_token_at.unwrap_or_else(Instant::now);
        let decode_secs = first_token_at.elapsed().as_secs_f64();
        let prefilled = prompt.slots.len() - reused;
        Ok(ReplyFigures {
            stop_reason,
            prompt_tokens: prompt.slots.len() as u32,
            reused_tokens: reused as u32,
            image_tokens_reused: image_tokens_reused as u32,
            image_tokens_encoded: image_tokens_encoded as u32,
            dropped_messages: dropped,
            generated_tokens: generated,
            ttft_ms: (first_token_at - started).as_secs_f64() * 1000.0,
            prefill_tps: rate(prefilled, prefill_secs),
            decode_tps: rate(generated.saturating_sub(1) as usize, decode_secs),
            sampling,
        })
    }

    /// Renders and tokenizes the conversation; while it does not fit with `reserve` tokens to
    /// spare, drops the oldest turns (a user message and the replies after it, with their
    /// images), keeping the system prompt. It drops down to half the context so that the next
    /// turns reuse the cache instead of dropping (and re-reading the whole prompt) again on every
    /// turn. Returns the prompt and the messages and images dropped.
    fn fit_prompt(
        &mut self,
        messages: &[ChatMessage],
        options: &RenderOptions,
        reserve: u32,
    ) -> Result<(Prompt, u32, u32), EngineError> {
        let n_ctx = self.context.n_ctx() as usize;
        let prompt = self.prompt(messages, options)?;
        if prompt.slots.len() + reserve as usize <= n_ctx {
            return Ok((prompt, 0, 0));
        }
        let has_system = matches!(messages[0].role.as_str(), "system" | "developer");
        let first_turn = usize::from(has_system);
        let target = (n_ctx / 2).max(n_ctx.saturating_sub(reserve as usize) / 2);
        let mut start = first_turn;
        let mut best = prompt;
        while let Some(next) = messages[start + 1..].iter().position(|m| m.role == "user").map(|i| start + 1 + i) {
            start = next;
            let kept: Vec<ChatMessage> = messages[..first_turn].iter().chain(&messages[start..]).cloned().collect();
            best = self.prompt(&kept, options)?;
            if best.slots.len() <= target {
                break;
            }
        }
        if best.slots.len() + reserve as usize > n_ctx {
            return Err(EngineError::PromptTooLong { tokens: best.slots.len(), n_ctx: n_ctx as u32, reserve });
        }
        let dropped_images = messages[first_turn..start].iter().map(|message| message.media.len()).sum::<usize>();
        Ok((best, (start - first_turn) as u32, dropped_images as u32))
    }

    /// The conversation rendered and tokenized, each image in its place. An image seen before
    /// takes the positions it took then, without being read again.
    fn prompt(&mut self, messages: &[ChatMessage], options: &RenderOptions) -> Result<Prompt, EngineError> {
        let media: Vec<&MediaRef> = messages.iter().flat_map(|message| &message.media).collect();
        if media.is_empty() {
            let slots = self.tokenize(&self.render_text(messages, options)?).into_iter().map(Slot::Token).collect();
            return Ok(Prompt { slots, images: Vec::new() });
        }
        let model = self.model;
        let Some(projector) = model.projector.as_ref() else {
            return Err(EngineError::Media(
                "this model cannot see images or hear sound: load a vision or audio model with its projector (mmproj)"
                    .into(),
            ));
        };
        let marker = unused_marker(messages.iter().map(|message| message.content.as_str()));
        let text = self.render_text(&with_markers(messages, &marker), options)?;
        let pieces: Vec<&str> = text.split(marker.as_str()).collect();
        if pieces.len() != media.len() + 1 {
            return Err(EngineError::Media(format!(
                "the chat template placed {} images, but the conversation has {}",
                pieces.len() - 1,
                media.len()
            )));
        }
        let vocab = model.model.vocab();
        let mut slots: Vec<Slot> = self.tokenize(pieces[0]).into_iter().map(Slot::Token).collect();
        let mut images = Vec::with_capacity(media.len());
        for (&image, piece) in media.iter().zip(&pieces[1..]) {
            let counts = self.media.measure(projector, image)?;
            let n_ubatch = self.context.n_ubatch() as usize;
            if counts.tokens > n_ubatch {
                return Err(EngineError::Media(format!(
                    "{} takes {} {} tokens, more than a context of {} tokens can decode at once; raise the context size",
                    name_of(&image.path),
                    counts.tokens,
                    if counts.kind == MediaKind::Audio { "audio" } else { "image" },
                    self.context.n_ctx()
                )));
            }
            let id = self.media_id(image);
            images.push(PromptImage { start: slots.len(), counts });
            slots.extend((0..counts.positions as u32).map(|offset| Slot::Media { media: id, offset }));
            slots.extend(vocab.tokenize(piece.as_bytes(), false, true).into_iter().map(Slot::Token));
        }
        Ok(Prompt { slots, images })
    }

    /// The number this session knows the image `media` by.
    fn media_id(&mut self, media: &MediaRef) -> u32 {
        if let Some(&id) = self.media_ids.get(&media.sha256) {
            // The same bytes may have moved (another attachment folder); read them from here.
            self.media_refs[id as usize] = media.clone();
            return id;
        }
        let id = self.media_refs.len() as u32;
        self.media_ids.insert(media.sha256.clone(), id);
        self.media_refs.push(media.clone());
        id
    }

    fn tokenize(&self, text: &str) -> Vec<LlamaToken> {
        let vocab = self.model.model.vocab();
        let mut tokens = vocab.tokenize(text.as_bytes(), false, true);
        if vocab.should_add_bos() && tokens.first() != Some(&vocab.bos()) {
            tokens.insert(0, vocab.bos());
        }
        tokens
    }

    /// Keeps the longest settled prefix of `prompt` already in the KV cache, in whole groups,
    /// and returns its length. At least one prompt position is always left to decode, since
    /// sampling needs fresh logits.
    fn reuse_cached_prefix(&mut self, prompt: &[Slot]) -> usize {
        let common = self.cached[..self.settled].iter().zip(prompt).take_while(|(a, b)| a == b).count();
        let keep = self.last_boundary(prompt, common.min(prompt.len() - 1));
        self.truncate_cache(keep);
        self.cached.len()
    }

    /// The last group boundary of `slots` at or before `upto`: where a group starts when they
    /// are decoded from the start. Groups start at multiples of [`CACHE_CHUNK`] (except inside an
    /// image), right after each end-of-turn token, and at the start and end of each image.
    fn last_boundary(&self, slots: &[Slot], upto: usize) -> usize {
        let vocab = self.model.model.vocab();
        let is_boundary = |at: usize| {
            let before = at.checked_sub(1).map(|i| slots[i]);
            let here = slots.get(at).copied();
            let inside_image = matches!(here, Some(Slot::Media { offset, .. }) if offset > 0);
            at % CACHE_CHUNK == 0 && !inside_image
                || matches!(before, Some(Slot::Token(token)) if vocab.is_eog(token))
                || matches!(here, Some(Slot::Media { offset: 0, .. }))
                || matches!(before, Some(Slot::Media { .. })) && !inside_image
        };
        (0..=upto).rev().find(|&at| is_boundary(at)).unwrap_or(0)
    }

    /// How many of `slots`, decoded from `position` on, form the group that starts there: a
    /// whole image, or text up to the next multiple of [`CACHE_CHUNK`], end-of-turn token or image.
    fn group_len(&self, position: usize, slots: &[Slot]) -> usize {
        if let Slot::Media { media, .. } = slots[0] {
            return slots
                .iter()
                .enumerate()
                .take_while(|&(i, slot)| *slot == Slot::Media { media, offset: i as u32 })
                .count();
        }
        let chunk_end = (CACHE_CHUNK - position % CACHE_CHUNK).min(slots.len());
        let vocab = self.model.model.vocab();
        for (i, slot) in slots[..chunk_end].iter().enumerate() {
            match *slot {
                Slot::Media { .. } => return i,
                Slot::Token(token) if vocab.is_eog(token) => return i + 1,
                Slot::Token(_) => {}
            }
        }
        chunk_end
    }

    /// Drops cached tokens from position `keep` on (everything, if llama.cpp cannot).
    fn truncate_cache(&mut self, keep: usize) {
        if keep < self.cached.len() {
            let removed = self.context.clear_kv_cache_seq(Some(0), Some(keep as u32), None);
            if !matches!(removed, Ok(true)) {
                self.forget_cache();
                return;
            }
            self.cached.truncate(keep);
        }
        self.settled = self.settled.min(self.cached.len());
    }

    /// Re-decodes the tokens generated since the last prompt in whole groups, with what the reply
    /// ended with after them, so that the next turn reuses them exactly as a rebuild from the
    /// stored conversation would compute them.
    pub fn settle(&mut self) -> Result<(), EngineError> {
        let start = self.settled;
        let mut tokens = self.cached.clone();
        let pending = std::mem::take(&mut self.pending);
        if tokens.len() + pending.len() <= self.context.n_ctx() as usize {
            tokens.extend(pending.into_iter().map(Slot::Token));
        }
        if self.last_boundary(&tokens, tokens.len()) == start {
            return Ok(()); // nothing new completes a group
        }
        self.truncate_cache(start);
        if self.cached.len() != start {
            return Ok(()); // the cache was dropped whole: the next prompt is decoded from scratch
        }
        self.decode_chunks(&tokens[start..], &|| false)?;
        self.settled = self.last_boundary(&self.cached, self.cached.len());
        Ok(())
    }

    fn forget_cache(&mut self) {
        self.context.clear_kv_cache();
        self.cached.clear();
        self.settled = 0;
        self.pending.clear();
    }

    /// Decodes `slots` after the cached ones one group at a time, asking for logits of the last
    /// position only. Returns true when `cancelled` stopped it between two groups.
    fn decode_chunks(&mut self, slots: &[Slot], cancelled: &dyn Fn() -> bool) -> Result<bool, EngineError> {
        let mut rest = slots;
        while !rest.is_empty() {
            let (group, after) = rest.split_at(self.group_len(self.cached.len(), rest));
            match group[0] {
                Slot::Media { media, .. } => self.decode_image(media, group, after.is_empty())?,
                Slot::Token(_) => {
                    let tokens: Vec<LlamaToken> = text_tokens(group).collect();
                    self.decode_batch(&tokens, after.is_empty())?;
                }
            }
            rest = after;
            if !rest.is_empty() && cancelled() {
                return Ok(true);
            }
        }
        Ok(false)
    }

    /// Decodes `tokens` after the cached ones as one llama.cpp batch.
    fn decode_batch(&mut self, tokens: &[LlamaToken], logits_for_last: bool) -> Result<(), EngineError> {
        let n_ctx = self.context.n_ctx() as usize;
        if self.cached.len() + tokens.len() > n_ctx || tokens.len() > self.context.n_batch() as usize {
            return Err(EngineError::Decode(format!(
                "{} tokens do not fit after the {} cached ones in a context of {n_ctx}",
                tokens.len(),
                self.cached.len()
            )));
        }
        self.batch.clear();
        for (offset, token) in tokens.iter().enumerate() {
            let position = (self.cached.len() + offset) as i32;
            let wants_logits = logits_for_last && offset + 1 == tokens.len();
            self.batch
                .add(*token, position, &[0], wants_logits)
                .map_err(|error| EngineError::Decode(error.to_string()))?;
        }
        if let Err(error) = self.context.decode(&mut self.batch) {
            // The cache may hold part of the batch: start from a clean one next time.
            self.forget_cache();
            return Err(EngineError::Decode(error.to_string()));
        }
        self.cached.extend(tokens.iter().copied().map(Slot::Token));
        self.logits_at = self.batch.n_tokens() - 1;
        Ok(())
    }

    /// Encodes the image `media` and decodes it after the cached positions as `group`, once it is
    /// known to fit: in the context, and its image tokens in one micro-batch.
    fn decode_image(&mut self, media: u32, group: &[Slot], logits_last: bool) -> Result<(), EngineError> {
        let model = self.model;
        let projector = model.projector.as_ref().ok_or_else(|| EngineError::Media("no projector is loaded".into()))?;
        let source = &self.media_refs[media as usize];
        let image = self.media.prepared(projector, source)?;
        let (n_ctx, n_ubatch) = (self.context.n_ctx() as usize, self.context.n_ubatch() as usize);
        if image.counts.tokens > n_ubatch {
            return Err(EngineError::Media(format!(
                "{} would take {} tokens, more than the {n_ubatch} this context decodes at once",
                name_of(&source.path),
                image.counts.tokens
            )));
        }
        if image.counts.positions != group.len() || self.cached.len() + image.counts.positions > n_ctx {
            return Err(EngineError::Media(format!(
                "{} takes {} positions, which do not fit after the {} cached ones in a context of {n_ctx}",
                name_of(&source.path),
                image.counts.positions,
                self.cached.len()
            )));
        }
        let evaluated = image.eval(projector, &mut self.context, self.cached.len(), logits_last);
        if let Err(error) = evaluated {
            self.forget_cache();
            return Err(error);
        }
        self.cached.extend_from_slice(group);
        self.logits_at = -1;
        Ok(())
    }

    /// Measures prefill and decode the way llama-bench's pp and tg tests do, through the same
    /// decode path replies use: one batch of `prompt_tokens` random tokens, then `gen_tokens`
    /// single-token steps, each from an empty cache after a warm-up.
    pub fn bench(&mut self, prompt_tokens: u32, gen_tokens: u32) -> Result<BenchFigures, EngineError> {
        let n_vocab = self.model.model.n_vocab() as u32;
        let (n_ctx, n_batch) = (self.context.n_ctx(), self.context.n_batch());
        if !(1..=n_batch).contains(&prompt_tokens) || !(1..=n_ctx).contains(&gen_tokens) {
            return Err(EngineError::BadRequest(format!(
                "benchmark prompts must be 1 to {n_batch} tokens (one batch) and generation 1 to {n_ctx} tokens"
            )));
        }
        let mut random = BenchTokens::new(n_vocab);
        let bos = self.model.model.vocab().bos();

        self.forget_cache();
        self.decode_batch(&[bos], true)?; // warm-up
        self.forget_cache();
        let prompt: Vec<LlamaToken> =
            std::iter::once(bos).chain(random.by_ref().take(prompt_tokens as usize - 1)).collect();
        let started = Instant::now();
        self.decode_batch(&prompt, true)?;
        let prefill_tps = rate(prompt.len(), started.elapsed().as_secs_f64());

        self.forget_cache();
        let started = Instant::now();
        for token in std::iter::once(bos).chain(random.by_ref().take(gen_tokens as usize - 1)) {
            self.decode_batch(&[token], true)?;
        }
        let decode_tps = rate(gen_tokens as usize, started.elapsed().as_secs_f64());
        self.forget_cache();
        Ok(BenchFigures { prefill_tps, decode_tps })
    }
}

/// Deterministic pseudo-random tokens for benchmarks (llama-bench uses random tokens too).
struct BenchTokens {
    state: u64,
    n_vocab: u32,
}

impl BenchTokens {
    fn new(n_vocab: u32) -> Self {
        BenchTokens { state: 0x9E37_79B9_7F4A_7C15, n_vocab }
    }
}

impl Iterator for BenchTokens {
    type Item = LlamaToken;
    fn next(&mut self) -> Option<LlamaToken> {
        self.state = self.state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        Some(LlamaToken(((self.state >> 33) % u64::from(self.n_vocab)) as i32))
    }
}

/// The text tokens among `slots`.
fn text_tokens(slots: &[Slot]) -> impl Iterator<Item = LlamaToken> + '_ {
    slots.iter().filter_map(|slot| match *slot {
        Slot::Token(token) => Some(token),
        Slot::Media { .. } => None,
    })
}

fn rate(tokens: usize, secs: f64) -> f64 {
    if tokens == 0 || secs <= 0.0 { 0.0 } else { tokens as f64 / secs }
}

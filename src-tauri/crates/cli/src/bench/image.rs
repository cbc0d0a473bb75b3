//! `bench-image`: from a dropped photo to the reply's first token.
//!
//! The product's path is timed whole: the file read and checked (decoded) as the window's drop
//! does, then sent through the chat (stored, then the worker reads, decodes, downscales,
//! tokenizes, encodes and prefills it) until the first token arrives. The same steps are then
//! run one by one in this process with llama-cpp-2 to split that time into decode and resize,
//! mtmd's preprocessing, encoding and prefill; llama.cpp's own way (stb_image decoding the file,
//! mtmd resizing the full-size bitmap) runs beside them on the same file as the reference.
//!
//! Each repetition sends a copy of the photo that differs only in a JPEG comment, so that no
//! cache (the worker's prepared images, the KV cache) holds it.

use std::path::PathBuf;
use std::time::Instant;

use anyhow::{Context, bail};
use clap::Args;
use gemma_desk_chat::{Chat, ChatEvent, check_image, now};
use gemma_desk_engine::{DEFAULT_IMAGE_TOKENS, ModelInfo, SamplingParams, image_target, image_tokens, inspect};
use gemma_desk_media::{Limits, RgbImage};
use gemma_desk_store::{ConversationSettings, Store};
use image::Rgb;
use image::codecs::jpeg::JpegEncoder;
use llama_cpp_2::context::LlamaContext;
use llama_cpp_2::llama_backend::LlamaBackend;
use llama_cpp_2::model::LlamaModel;
use llama_cpp_2::model::params::LlamaModelParams;
use llama_cpp_2::mtmd::{MtmdBitmap, MtmdContext, MtmdContextParams, MtmdInputChunkType};
use serde_json::json;

use super::{encode_and_prefill, machine, media_context, median, ms_since, round, round3, tokenize_with_marker};
use crate::options::{ModelArgs, runtime, worker_command};

/// The generated photo: 12 MP, as a phone takes them.
const PHOTO_WIDTH: u32 = 4000;
const PHOTO_HEIGHT: u32 = 3000;
const PHOTO_QUALITY: u8 = 90;
const QUESTION: &str = "What is in this picture?";

/// Arguments of `bench-image`.
#[derive(Args, Debug)]
pub struct BenchImageArgs {
    #[command(flatten)]
    model: ModelArgs,
    /// The image to drop [default: a generated 4000x3000 photo-like JPEG, quality 90].
    #[arg(long, value_name = "FILE")]
    image: Option<PathBuf>,
    /// Repetitions of each measurement (the median is reported).
    #[arg(long, default_value_t = 5, value_parser = clap::value_parser!(u32).range(1..=50))]
    repetitions: u32,
    /// Print JSON (the only format; accepted for scripts).
    #[arg(long)]
    json: bool,
}

pub fn run(args: BenchImageArgs) -> anyhow::Result<()> {
    let Some(mmproj) = args.model.mmproj.clone() else {
        bail!("bench-image needs the model's vision projector: give --mmproj");
    };
    let scratch = tempfile::Builder::new().prefix("gemma-desk-bench-image-").tempdir()?;
    let (photo, generated) = match &args.image {
        Some(path) => (std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?, false),
        None => (photo_jpeg()?, true),
    };
    if !photo.starts_with(&[0xFF, 0xD8]) {
        bail!("bench-image needs a JPEG: each repetition sends a copy that differs in a JPEG comment");
    }
    let copies: Vec<PathBuf> = (0..args.repetitions)
        .map(|n| {
            let path = scratch.path().join(format!("photo-{n}.jpg"));
            std::fs::write(&path, with_comment(&photo, &format!("gemma-desk bench copy {n}")))?;
            Ok(path)
        })
        .collect::<anyhow::Result<_>>()?;

    let (product, info) = product_path(&args.model, &copies, scratch.path())?;
    let mut backend = gemma_desk_engine::init_backend()?;
    backend.void_logs();
    let model = LlamaModel::load_from_file(&backend, &args.model.model, &LlamaModelParams::default())
        .context("the in-process steps could not load the model")?;
    let split =
        InProcess::new(&backend, &model, &mmproj, args.model.image_tokens, info.threads as i32)?.measure(&copies)?;

    let send = median(&product.send_to_first_token_ms);
    let attach = median(&product.attach_ms);
    let parts = &split;
    let (decode, resize, preprocess, encode, prefill) = (
        median(&parts.decode_ms),
        median(&parts.resize_ms),
        median(&parts.preprocess_ms),
        median(&parts.encode_ms),
        median(&parts.prefill_ms),
    );
    let steps = decode + resize + preprocess + encode + prefill;
    let (stb_decode, stb_preprocess) = (median(&parts.stb_decode_ms), median(&parts.stb_preprocess_ms));
    let report = json!({
        "machine": machine(),
        "model": args.model.model,
        "projector": mmproj,
        "projector_type": split.projector_type,
        "image": if generated { format!("generated {PHOTO_WIDTH}x{PHOTO_HEIGHT} JPEG, quality {PHOTO_QUALITY}") } else { "given".to_owned() },
        "image_size": format!("{}x{}", split.source.0, split.source.1),
        "file_bytes": photo.len(),
        "encoder_input": format!("{}x{}", split.resized.0, split.resized.1),
        "image_tokens": split.image_tokens,
        "repetitions": args.repetitions,
        "drop_to_first_token_ms": round(attach + send),
        "product": {
            "attach_check_ms": round(attach),
            "send_to_first_token_ms": round(send),
            "worker_ttft_ms": round(median(&product.worker_ttft_ms)),
            "image_tokens_encoded": product.image_tokens_encoded,
        },
        "steps_in_process": {
            "decode_ms": round(decode),
            "resize_ms": round(resize),
            "mtmd_preprocess_ms": round(preprocess),
            "encode_ms": round(encode),
            "prefill_ms": round(prefill),
            "sum_ms": round(steps),
            "decode_and_resize_share": round3((decode + resize) / steps),
        },
        "send_over_steps": round3(send / steps),
        "reference_stb_image": {
            "decode_ms": round(stb_decode),
            "mtmd_resize_and_preprocess_ms": round(stb_preprocess),
            "total_ms": round(stb_decode + stb_preprocess),
            "ours_over_stb": round3((decode + resize + preprocess) / (stb_decode + stb_preprocess)),
        },
    });
    println!("{}", serde_json::to_string_pretty(&report)?);
    Ok(())
}

/// What the product's path took, per repetition.
struct ProductFigures {
    attach_ms: Vec<f64>,
    send_to_first_token_ms: Vec<f64>,
    worker_ttft_ms: Vec<f64>,
    image_tokens_encoded: Vec<Option<i64>>,
}

/// Each copy dropped (read and checked, as the window's drop is) and sent alone in a new
/// conversation through [`Chat`], as the app sends it, until the first token.
fn product_path(
    model: &ModelArgs,
    copies: &[PathBuf],
    scratch: &std::path::Path,
) -> anyhow::Result<(ProductFigures, ModelInfo)> {
    let runtime = runtime()?;
    let store = runtime.block_on(Store::open(&scratch.join("store")))?;
    let chat = Chat::new(store, worker_command()?);
    let info = runtime.block_on(chat.load_model(&model.unchecked_choice(), model.tuning()))?;
    let sampling = SamplingParams { greedy: true, max_tokens: Some(1), ..SamplingParams::default() };
    let mut figures = ProductFigures {
        attach_ms: vec![],
        send_to_first_token_ms: vec![],
        worker_ttft_ms: vec![],
        image_tokens_encoded: vec![],
    };
    for path in copies {
        let dropped = Instant::now();
        let bytes = std::fs::read(path)?;
        let (image, _) = check_image(Some("photo.jpg".to_owned()), bytes)?;
        figures.attach_ms.push(ms_since(dropped));
        let settings = ConversationSettings::default();
        let conversation = runtime.block_on(chat.store().create_conversation(None, None, &settings, now()))?;
        let sent = Instant::now();
        let mut first_token = None;
        let turn = chat.send_with_attachments(conversation.id, QUESTION, vec![image], &sampling, |event| {
            if let ChatEvent::Token { .. } = event {
                first_token.get_or_insert_with(|| ms_since(sent));
            }
        });
        let reply = runtime.block_on(turn)?;
        if let Some(error) = &reply.error {
            bail!("the reply failed: {error}");
        }
        figures.send_to_first_token_ms.push(first_token.context("the reply had no token")?);
        figures.worker_ttft_ms.push(reply.stats.ttft_ms.unwrap_or(f64::NAN));
        figures.image_tokens_encoded.push(reply.stats.image_tokens_encoded);
    }
    runtime.block_on(chat.store().clone().close())?;
    Ok((figures, info))
}

/// The steps of an image's way into the model, each timed, with llama-cpp-2 in this process.
struct InProcess<'m> {
    backend: &'m LlamaBackend,
    model: &'m LlamaModel,
    projector: MtmdContext,
    target: gemma_desk_media::Target,
    projector_type: Option<String>,
    threads: i32,
}

/// The split, per repetition.
struct Split {
    projector_type: Option<String>,
    source: (u32, u32),
    resized: (u32, u32),
    image_tokens: usize,
    decode_ms: Vec<f64>,
    resize_ms: Vec<f64>,
    preprocess_ms: Vec<f64>,
    encode_ms: Vec<f64>,
    prefill_ms: Vec<f64>,
    stb_decode_ms: Vec<f64>,
    stb_preprocess_ms: Vec<f64>,
}

impl<'m> InProcess<'m> {
    /// The projector `mmproj` for `model`, run on `threads` as the worker runs it.
    fn new(
        backend: &'m LlamaBackend,
        model: &'m LlamaModel,
        mmproj: &std::path::Path,
        image_tokens: Option<u32>,
        threads: i32,
    ) -> anyhow::Result<InProcess<'m>> {
        let gguf = inspect(mmproj)?;
        let image_tokens = image_tokens.unwrap_or(DEFAULT_IMAGE_TOKENS);
        let budget = match gguf.projector_type.as_deref() {
            Some(kind) if kind.starts_with("gemma4") => image_tokens as i32,
            _ => -1,
        };
        let params = MtmdContextParams {
            use_gpu: false,
            print_timings: false,
            n_threads: threads,
            image_max_tokens: budget,
            ..MtmdContextParams::default()
        };
        let path = mmproj.to_str().context("the projector's path is not UTF-8")?;
        let projector = MtmdContext::init_from_file(path, model, &params)?;
        Ok(InProcess {
            backend,
            model,
            projector,
            target: image_target(&gguf, image_tokens),
            projector_type: gguf.projector_type,
            threads,
        })
    }

    fn measure(mut self, copies: &[PathBuf]) -> anyhow::Result<Split> {
        let mut split = Split {
            projector_type: self.projector_type.clone(),
            source: (0, 0),
            resized: (0, 0),
            image_tokens: 0,
            decode_ms: vec![],
            resize_ms: vec![],
            preprocess_ms: vec![],
            encode_ms: vec![],
            prefill_ms: vec![],
            stb_decode_ms: vec![],
            stb_preprocess_ms: vec![],
        };
        let mut context: Option<LlamaContext<'m>> = None;
        for path in copies {
            let started = Instant::now();
            let decoded = gemma_desk_media::decode_file(path, &Limits::default())?;
            split.decode_ms.push(ms_since(started));
            split.source = (decoded.width, decoded.height);

            let started = Instant::now();
            let pixels = gemma_desk_media::prepare(&decoded, self.target);
            split.resize_ms.push(ms_since(started));
            split.resized = pixels.dimensions();

            let started = Instant::now();
            let bitmap = MtmdBitmap::from_image_data(pixels.width(), pixels.height(), pixels.as_raw())?;
            let chunks = tokenize_with_marker(&self.projector, &bitmap, QUESTION)?;
            split.preprocess_ms.push(ms_since(started));
            split.image_tokens = image_tokens(&chunks);

            let context = match &mut context {
                Some(context) => context,
                None => context.insert(media_context(self.backend, self.model, split.image_tokens, self.threads)?),
            };
            let (encode, prefill) =
                encode_and_prefill(&mut self.projector, &chunks, MtmdInputChunkType::Image, context)?;
            split.encode_ms.push(encode);
            split.prefill_ms.push(prefill);

            // llama.cpp's own way: stb_image decodes the file, mtmd resizes the full bitmap.
            let bytes = std::fs::read(path)?;
            let started = Instant::now();
            let full = MtmdBitmap::from_buffer(&self.projector, &bytes, false)?;
            split.stb_decode_ms.push(ms_since(started));
            let started = Instant::now();
            let reference = tokenize_with_marker(&self.projector, &full, QUESTION)?;
            split.stb_preprocess_ms.push(ms_since(started));
            if image_tokens(&reference) != split.image_tokens {
                eprintln!(
                    "note: llama.cpp's own resize gives {} image tokens, ours {}",
                    image_tokens(&reference),
                    split.image_tokens
                );
            }
        }
        Ok(split)
    }
}

/// `jpeg` with a comment segment after its start-of-image marker: other bytes, the same pixels.
fn with_comment(jpeg: &[u8], comment: &str) -> Vec<u8> {
    let length = u16::try_from(comment.len() + 2).expect("a short comment");
    let mut out = Vec::with_capacity(jpeg.len() + comment.len() + 4);
    out.extend_from_slice(&jpeg[..2]);
    out.extend_from_slice(&[0xFF, 0xFE]);
    out.extend_from_slice(&length.to_be_bytes());
    out.extend_from_slice(comment.as_bytes());
    out.extend_from_slice(&jpeg[2..]);
    out
}

/// Something a camera could have taken: smooth gradients (sky, walls) under sensor-like noise,
/// the same every run.
fn photo_jpeg() -> anyhow::Result<Vec<u8>> {
    let mut state = 0x9E37_79B9_u32;
    let photo = RgbImage::from_fn(PHOTO_WIDTH, PHOTO_HEIGHT, |x, y| {
        state ^= state << 13;
        state ^= state >> 17;
        state ^= state << 5;
        let noise = |shift: u32| ((state >> shift) & 0x1F) as f32 - 16.0;
        let (u, v) = (x as f32 / PHOTO_WIDTH as f32, y as f32 / PHOTO_HEIGHT as f32);
        let channel = |base: f32, shift| (base * 255.0 + noise(shift)).clamp(0.0, 255.0) as u8;
        Rgb([channel(0.2 + 0.6 * u, 0), channel(0.3 + 0.5 * v, 8), channel(0.9 - 0.6 * u * v, 16)])
    });
    let mut jpeg = Vec::new();
    JpegEncoder::new_with_quality(&mut jpeg, PHOTO_QUALITY).encode_image(&photo)?;
    Ok(jpeg)
}

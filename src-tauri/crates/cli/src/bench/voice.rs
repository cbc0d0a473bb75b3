//! `bench-voice`: from the push-to-talk key's release to the reply's first token, and to the
//! first word the speech service speaks.
//!
//! The recording is the given spoken question as a microphone delivers it (48 kHz stereo f32,
//! with a second of room silence after it), so the release does what the app's does: downmix,
//! resample and trim it (`clip_of_recording`), keep it as WAV, send it through the chat (stored,
//! then the worker encodes the audio and prefills the prompt) until the first token. The worker's
//! part is then split in this process with llama-cpp-2 into mtmd's audio preprocessing, the audio
//! encoder and prefill; llama.cpp's own way of reading the same recording (mtmd's helper decoding
//! and resampling the WAV file) runs beside the release step as its reference.
//!
//! Each repetition changes one sample by a hair, so that no cache (the worker's prepared media,
//! the KV cache) holds the clip.

use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use clap::Args;
use gemma_desk_chat::{Chat, ChatEvent, clip_attachment, now};
use gemma_desk_engine::{ModelInfo, SamplingParams, audio_tokens};
use gemma_desk_store::{ConversationSettings, Store};
use gemma_desk_voice::{Clip, Speaker, SpeechEvent, clip_of_recording};
use llama_cpp_2::context::LlamaContext;
use llama_cpp_2::llama_backend::LlamaBackend;
use llama_cpp_2::model::LlamaModel;
use llama_cpp_2::model::params::LlamaModelParams;
use llama_cpp_2::mtmd::{MtmdBitmap, MtmdContext, MtmdContextParams, MtmdInputChunkType};
use serde_json::json;

use super::{encode_and_prefill, machine, media_context, median, ms_since, round, round3, tokenize_with_marker};
use crate::options::{ModelArgs, runtime, worker_command};

/// The rate and channels a built-in microphone delivers.
const DEVICE_RATE: u32 = 48_000;
const DEVICE_CHANNELS: u16 = 2;
/// The room after the question, before the key is released.
const TRAILING_SILENCE: Duration = Duration::from_secs(1);
const QUESTION: &str = "Answer the question.";

/// Arguments of `bench-voice`.
#[derive(Args, Debug)]
pub struct BenchVoiceArgs {
    #[command(flatten)]
    model: ModelArgs,
    /// The spoken question (WAV, FLAC or MP3), e.g. `espeak-ng -w question.wav "..."`.
    #[arg(long, value_name = "FILE")]
    audio: PathBuf,
    /// Also time the release to the first word the system's speech service speaks (the reply is
    /// then written up to 48 tokens and read aloud).
    #[arg(long)]
    speak: bool,
    /// Repetitions of each measurement (the median is reported).
    #[arg(long, default_value_t = 5, value_parser = clap::value_parser!(u32).range(1..=50))]
    repetitions: u32,
    /// Print JSON (the only format; accepted for scripts).
    #[arg(long)]
    json: bool,
}

pub fn run(args: BenchVoiceArgs) -> anyhow::Result<()> {
    let Some(mmproj) = args.model.mmproj.clone() else {
        bail!("bench-voice needs the model's audio projector: give --mmproj");
    };
    let question = Clip::from_file(&args.audio)?;
    let recording = as_recorded(&question);
    let scratch = tempfile::Builder::new().prefix("gemma-desk-bench-voice-").tempdir()?;
    let wav = scratch.path().join("recording.wav");
    write_device_wav(&wav, &recording)?;
    let takes: Vec<Vec<f32>> = (0..args.repetitions)
        .map(|n| {
            let mut take = recording.clone();
            take[0] += 1e-6 * (n + 1) as f32;
            take
        })
        .collect();

    let (product, info) = product_path(&args.model, &takes, scratch.path(), args.speak)?;
    let mut backend = gemma_desk_engine::init_backend()?;
    backend.void_logs();
    let model = LlamaModel::load_from_file(&backend, &args.model.model, &LlamaModelParams::default())
        .context("the in-process steps could not load the model")?;
    let split = InProcess::new(&backend, &model, &mmproj, info.threads as i32)?.measure(&product.clips, &wav)?;

    let release = median(&product.release_ms);
    let keep = median(&product.keep_wav_ms);
    let send = median(&product.send_to_first_token_ms);
    let (preprocess, encode, prefill) =
        (median(&split.preprocess_ms), median(&split.encode_ms), median(&split.prefill_ms));
    let reference = median(&split.reference_ms);
    let total = release + keep + send;
    let spoken = product.clips.first().map_or(0.0, |clip| clip.duration().as_secs_f64() * 1000.0);
    let report = json!({
        "machine": machine(),
        "model": args.model.model,
        "projector": mmproj,
        "question": args.audio,
        "spoken_ms": round(spoken),
        "recording": format!("{DEVICE_RATE} Hz, {DEVICE_CHANNELS} channels, f32, {} s of silence after the words", TRAILING_SILENCE.as_secs()),
        "audio_tokens": split.audio_tokens,
        "repetitions": args.repetitions,
        "release_to_first_token_ms": round(total),
        "product": {
            "resample_and_trim_ms": round(release),
            "keep_wav_ms": round(keep),
            "send_to_first_token_ms": round(send),
            "worker_ttft_ms": round(median(&product.worker_ttft_ms)),
        },
        "worker_steps_in_process": {
            "mtmd_preprocess_ms": round(preprocess),
            "audio_encode_ms": round(encode),
            "prefill_ms": round(prefill),
            "sum_ms": round(preprocess + encode + prefill),
        },
        "release_to_first_spoken_word_ms": product.speech_ms.as_deref().map(|speech| round(median(speech))),
        "first_token_over_spoken": round3(total / spoken),
        "reference_llama_cpp": {
            "mtmd_helper_decode_and_resample_ms": round(reference),
            "ours_over_reference": round3(release / reference),
        },
    });
    println!("{}", serde_json::to_string_pretty(&report)?);
    Ok(())
}

/// The question as a microphone delivers it: 48 kHz stereo, the room's silence after it.
fn as_recorded(question: &Clip) -> Vec<f32> {
    let mono = gemma_desk_voice::clip::resample(question.samples(), gemma_desk_voice::MODEL_SAMPLE_RATE, DEVICE_RATE)
        .expect("a decoded clip resamples");
    let silence = DEVICE_RATE as usize * TRAILING_SILENCE.as_millis() as usize / 1000;
    mono.iter()
        .chain(std::iter::repeat_n(&0.0, silence))
        .flat_map(|&sample| std::iter::repeat_n(sample, usize::from(DEVICE_CHANNELS)))
        .collect()
}

fn write_device_wav(path: &Path, interleaved: &[f32]) -> anyhow::Result<()> {
    let spec = hound::WavSpec {
        channels: DEVICE_CHANNELS,
        sample_rate: DEVICE_RATE,
        bits_per_sample: 32,
        sample_format: hound::SampleFormat::Float,
    };
    let mut writer = hound::WavWriter::create(path, spec)?;
    for &sample in interleaved {
        writer.write_sample(sample)?;
    }
    writer.finalize()?;
    Ok(())
}

/// What the product's path took, per repetition.
struct ProductFigures {
    clips: Vec<Clip>,
    release_ms: Vec<f64>,
    keep_wav_ms: Vec<f64>,
    send_to_first_token_ms: Vec<f64>,
    worker_ttft_ms: Vec<f64>,
    speech_ms: Option<Vec<f64>>,
}

/// Each take released (made into a clip and kept as WAV, as `finish_recording` does) and sent
/// alone in a new conversation through [`Chat`], as the app sends it, until the first token; with
/// `speak`, read aloud until the service says it began to speak.
fn product_path(
    model: &ModelArgs,
    takes: &[Vec<f32>],
    scratch: &Path,
    speak: bool,
) -> anyhow::Result<(ProductFigures, ModelInfo)> {
    let runtime = runtime()?;
    let store = runtime.block_on(Store::open(&scratch.join("store")))?;
    let chat = Chat::new(store, worker_command()?);
    let info = runtime.block_on(chat.load_model(&model.unchecked_choice(), model.tuning()))?;
    let (voiced_tx, voiced) = mpsc::channel();
    let speaker = if speak {
        Some(Speaker::start(move |event| {
            if event == SpeechEvent::Voiced {
                let _ = voiced_tx.send(Instant::now());
            }
        })?)
    } else {
        None
    };
    let max_tokens = if speak { 48 } else { 1 };
    let sampling = SamplingParams { greedy: true, max_tokens: Some(max_tokens), ..SamplingParams::default() };
    let mut figures = ProductFigures {
        clips: vec![],
        release_ms: vec![],
        keep_wav_ms: vec![],
        send_to_first_token_ms: vec![],
        worker_ttft_ms: vec![],
        speech_ms: speak.then(Vec::new),
    };
    for take in takes {
        let released = Instant::now();
        let clip = clip_of_recording(take, DEVICE_CHANNELS, DEVICE_RATE)?;
        figures.release_ms.push(ms_since(released));
        let kept = Instant::now();
        let attachment = clip_attachment(&clip, Some("recording.wav".to_owned()))?;
        figures.keep_wav_ms.push(ms_since(kept));
        figures.clips.push(clip);

        let settings = ConversationSettings::default();
        let conversation = runtime.block_on(chat.store().create_conversation(None, None, &settings, now()))?;
        let mut aloud = speaker.as_ref().map(Speaker::read_aloud);
        let sent = Instant::now();
        let mut first_token = None;
        let turn = chat.send_with_attachments(conversation.id, QUESTION, vec![attachment], &sampling, |event| {
            if let ChatEvent::Token { text } = event {
                first_token.get_or_insert_with(|| ms_since(sent));
                if let Some(aloud) = &mut aloud {
                    aloud.push(&text);
                }
            }
        });
        let reply = runtime.block_on(turn)?;
        if let Some(error) = &reply.error {
            bail!("the reply failed: {error}");
        }
        figures.send_to_first_token_ms.push(first_token.context("the reply had no token")?);
        figures.worker_ttft_ms.push(reply.stats.ttft_ms.unwrap_or(f64::NAN));
        if let (Some(aloud), Some(speaker), Some(speech)) = (aloud, &speaker, &mut figures.speech_ms) {
            aloud.finish();
            let spoken = voiced.recv_timeout(Duration::from_secs(30)).context("nothing of the reply was spoken")?;
            speech.push(spoken.duration_since(released).as_secs_f64() * 1000.0);
            speaker.stop();
            speaker.wait_until_quiet();
        }
    }
    runtime.block_on(chat.store().clone().close())?;
    Ok((figures, info))
}

/// The worker's steps for a clip, each timed, with llama-cpp-2 in this process.
struct InProcess<'m> {
    backend: &'m LlamaBackend,
    model: &'m LlamaModel,
    projector: MtmdContext,
    threads: i32,
}

/// The split, per repetition.
struct Split {
    audio_tokens: usize,
    preprocess_ms: Vec<f64>,
    encode_ms: Vec<f64>,
    prefill_ms: Vec<f64>,
    reference_ms: Vec<f64>,
}

impl<'m> InProcess<'m> {
    fn new(
        backend: &'m LlamaBackend,
        model: &'m LlamaModel,
        mmproj: &Path,
        threads: i32,
    ) -> anyhow::Result<InProcess<'m>> {
        let params = MtmdContextParams {
            use_gpu: false,
            print_timings: false,
            n_threads: threads,
            ..MtmdContextParams::default()
        };
        let path = mmproj.to_str().context("the projector's path is not UTF-8")?;
        let projector = MtmdContext::init_from_file(path, model, &params)?;
        if !projector.support_audio() {
            bail!("the projector {} cannot hear: give Gemma 4 E2B's or E4B's", mmproj.display());
        }
        Ok(InProcess { backend, model, projector, threads })
    }

    fn measure(mut self, clips: &[Clip], wav: &Path) -> anyhow::Result<Split> {
        let mut split = Split {
            audio_tokens: 0,
            preprocess_ms: vec![],
            encode_ms: vec![],
            prefill_ms: vec![],
            reference_ms: vec![],
        };
        let mut context: Option<LlamaContext<'m>> = None;
        let recording = std::fs::read(wav)?;
        for clip in clips {
            let started = Instant::now();
            let bitmap = MtmdBitmap::from_audio_data(clip.samples())?;
            let chunks = tokenize_with_marker(&self.projector, &bitmap, QUESTION)?;
            split.preprocess_ms.push(ms_since(started));
            split.audio_tokens = audio_tokens(&chunks);

            let context = match &mut context {
                Some(context) => context,
                None => context.insert(media_context(self.backend, self.model, split.audio_tokens, self.threads)?),
            };
            let (encode, prefill) =
                encode_and_prefill(&mut self.projector, &chunks, MtmdInputChunkType::Audio, context)?;
            split.encode_ms.push(encode);
            split.prefill_ms.push(prefill);

            // llama.cpp's own way: mtmd's helper decodes the recording's WAV and resamples it.
            let started = Instant::now();
            let reference = MtmdBitmap::from_buffer(&self.projector, &recording, false)?;
            split.reference_ms.push(ms_since(started));
            if !reference.is_audio() {
                bail!("llama.cpp did not read the recording as sound");
            }
        }
        Ok(split)
    }
}

//! Will a model fit, and how fast will it run? The memory estimate (weights + projector + KV
//! cache for the chosen context + overhead), the GPU layers that fit in free VRAM, and the
//! recommendation: the smallest model that serves the use, then the most capable one that fits
//! and runs at a comfortable speed.

use std::path::Path;

use serde::{Deserialize, Serialize};
use ts_rs::TS;

use crate::catalog::{Capability, Catalog, CatalogModel};
use crate::hardware::{Gpu, Hardware};

/// The context the estimate assumes unless told otherwise: the engine's default.
pub use gemma_desk_engine::DEFAULT_CONTEXT;
/// llama.cpp's compute buffers and the runtime, beyond weights and cache.
const OVERHEAD: u64 = 512 << 20;
/// Memory kept free on a GPU for the driver and the desktop.
const GPU_MARGIN: u64 = 512 << 20;
/// The share of the measured memory read speed that CPU decoding reaches before any reply has
/// been seen here (llama.cpp reads every active weight once per token, with compute between).
const DECODE_SHARE_OF_READ_SPEED: f64 = 0.8;
/// Below this many tokens per second a reply feels slow (slower than reading speed).
const COMFORTABLE_TOKENS_PER_SECOND: f64 = 5.0;

/// What the model is for; each use needs certain capabilities.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "lowercase")]
pub enum Use {
    /// Chat in text.
    Text,
    /// Ask about images.
    Vision,
    /// Talk to it (audio input).
    Voice,
}

impl Use {
    fn served_by(self, model: &CatalogModel) -> bool {
        match self {
            Use::Text => model.can(Capability::Text),
            Use::Vision => model.can(Capability::Vision),
            Use::Voice => model.can(Capability::Audio),
        }
    }

    fn words(self) -> &'static str {
        match self {
            Use::Text => "chats in text",
            Use::Vision => "understands images",
            Use::Voice => "understands speech",
        }
    }
}

/// The size and shape of a model, from the catalog or from a GGUF file's header.
#[derive(Debug, Clone, PartialEq)]
pub struct ModelShape {
    /// Bytes of the model file (nearly all of it weights).
    pub weights: u64,
    /// Bytes of the projector, if it is loaded.
    pub projector: u64,
    /// Transformer layers.
    pub layers: u32,
    /// KV-cache bytes per token of context.
    pub kv_bytes_per_token: u64,
    /// The share of the weights read for each token.
    pub active_fraction: f64,
}

impl ModelShape {
    /// The shape of a catalog model, with its projector or without.
    pub fn of(model: &CatalogModel, with_projector: bool) -> ModelShape {
        let projector = model.mmproj.as_ref().filter(|_| with_projector);
        ModelShape {
            weights: model.file.bytes.unwrap_or(0),
            // A projector of unpublished size: assume the largest published (bf16, about 0.9 GB).
            projector: projector.map_or(0, |file| file.bytes.unwrap_or(900 << 20)),
            layers: model.layers,
            kv_bytes_per_token: model.kv.bytes_per_token(),
            active_fraction: model.active_fraction,
        }
    }

    /// The shape of a model file from its header; where the header does not give the attention
    /// shape, the KV cache is sized as if every head kept a full-width cache (an upper bound).
    pub fn of_gguf(model: &gemma_desk_engine::GgufInfo, projector_bytes: u64) -> ModelShape {
        let layers = model.block_count.unwrap_or(32) as u32;
        let width = match (model.head_count_kv, model.key_length, model.value_length) {
            (Some(heads), Some(k), Some(v)) => heads * (k + v),
            (Some(heads), _, _) => match (model.embedding_length, model.head_count) {
                (Some(embedding), Some(q_heads)) if q_heads > 0 => 2 * heads * (embedding / q_heads),
                _ => 2 * model.embedding_length.unwrap_or(4096),
            },
            _ => 2 * model.embedding_length.unwrap_or(4096),
        };
        ModelShape {
            weights: model.file_size,
            projector: projector_bytes,
            layers,
            kv_bytes_per_token: u64::from(layers) * width * 2,
            active_fraction: 1.0,
        }
    }

    /// How many layers of the model file `model` (with the projector `mmproj`) fit in `free`
    /// bytes of GPU memory with the context the engine will give it: `context`, or by default
    /// [`DEFAULT_CONTEXT`] within what the model was trained for.
    pub fn gpu_layers_for_files(
        model: &Path,
        mmproj: Option<&Path>,
        context: Option<u32>,
        free: u64,
    ) -> Result<u32, gemma_desk_engine::GgufError> {
        let info = gemma_desk_engine::inspect(model)?;
        let projector = mmproj.and_then(|path| std::fs::metadata(path).ok()).map_or(0, |meta| meta.len());
        let trained = info.context_length.map_or(DEFAULT_CONTEXT, |n| n.min(u64::from(u32::MAX)) as u32);
        let context = context.unwrap_or(DEFAULT_CONTEXT.min(trained));
        Ok(ModelShape::of_gguf(&info, projector).gpu_layers_for(free, context))
    }

    /// The memory it needs with a context of `context` tokens.
    pub fn estimate(&self, context: u32) -> MemoryEstimate {
        let kv_cache = self.kv_bytes_per_token * u64::from(context);
        MemoryEstimate {
            context,
            weights: self.weights,
            projector: self.projector,
            kv_cache,
            overhead: OVERHEAD,
            total: self.weights + self.projector + kv_cache + OVERHEAD,
        }
    }

    /// How many layers (llama.cpp's `n_gpu_layers`, where `layers + 1` includes the output layer)
    /// fit in `free` bytes of GPU memory, keeping a margin for the driver.
    pub fn gpu_layers_for(&self, free: u64, context: u32) -> u32 {
        let estimate = self.estimate(context);
        let Some(budget) = free.checked_sub(GPU_MARGIN + OVERHEAD + self.projector) else { return 0 };
        let slots = u64::from(self.layers) + 1;
        let per_layer = (estimate.weights + estimate.kv_cache).div_ceil(slots).max(1);
        (budget / per_layer).min(slots) as u32
    }
}

/// Memory a model needs, in bytes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct MemoryEstimate {
    /// The context the KV cache is sized for.
    pub context: u32,
    /// The model's weights.
    pub weights: u64,
    /// The projector (mmproj).
    pub projector: u64,
    /// Keys and values for the whole context.
    pub kv_cache: u64,
    /// Compute buffers and the runtime.
    pub overhead: u64,
    /// All of it.
    pub total: u64,
}

/// Where a model would run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Placement {
    /// Entirely on a GPU.
    Gpu {
        /// The GPU's description.
        device: String,
    },
    /// Some layers on a GPU, the rest on the CPU.
    Partial {
        /// The GPU's description.
        device: String,
        /// Layers on the GPU (llama.cpp's `n_gpu_layers`).
        gpu_layers: u32,
        /// All layers, with the output layer.
        of: u32,
    },
    /// On the CPU.
    Cpu,
    /// Nowhere: it does not fit in memory.
    None,
}

/// How well a model suits this machine.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// Fits and runs at a comfortable speed.
    Good,
    /// Fits, but replies will come slowly.
    Slow,
    /// Does not fit.
    TooBig,
}

/// One model judged against this machine.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct Fit {
    /// The catalog id.
    pub model: String,
    /// Memory it needs.
    pub estimate: MemoryEstimate,
    /// Where it would run.
    pub placement: Placement,
    /// The verdict.
    pub verdict: Verdict,
    /// A rough decode speed, tokens per second, when it runs on the CPU.
    pub cpu_tokens_per_second: Option<f64>,
    /// The verdict in plain words.
    pub explanation: String,
}

/// Memory programs may use: what is installed, less room for the system and the app itself.
pub fn usable_ram(ram_total: u64) -> u64 {
    ram_total.saturating_sub((2u64 << 30).max(ram_total / 5))
}

/// How many bytes of weights per second decoding on this machine's CPU reads: what replies here
/// have reached (never more than the memory can deliver), or before any reply a share of the
/// measured read speed.
pub fn cpu_decode_bytes_per_second(hardware: &Hardware) -> f64 {
    let read = hardware.memory_read_bytes_per_second;
    match hardware.decode_bytes_per_second_seen {
        Some(seen) if read > 0.0 => seen.min(read),
        Some(seen) => seen,
        None => read * DECODE_SHARE_OF_READ_SPEED,
    }
}

/// Judges one model on this machine with a context of `context` tokens. The model is judged with
/// its projector, which is downloaded and loaded with it, so every screen shows one figure.
pub fn fit(model: &CatalogModel, hardware: &Hardware, context: u32) -> Fit {
    let shape = ModelShape::of(model, true);
    let estimate = shape.estimate(context);
    let ram = usable_ram(hardware.ram_total);
    let below_floor = model.min_ram_gb.is_some_and(|gb| hardware.ram_total < u64::from(gb) * 1_000_000_000 * 95 / 100);
    let cpu_speed = cpu_decode_bytes_per_second(hardware) / (shape.weights as f64 * shape.active_fraction).max(1.0);
    // As the window shows sizes: in powers of 1024.
    let gb = |bytes: u64| format!("{:.1} GB", bytes as f64 / f64::from(1u32 << 30));
    let needs =
        format!("needs about {} ({} for the context of {context} tokens)", gb(estimate.total), gb(estimate.kv_cache));

    let (placement, verdict, explanation) = match hardware.best_gpu() {
        _ if below_floor => (
            Placement::None,
            Verdict::TooBig,
            format!(
                "needs a machine with at least {} GB of memory; this one has {}",
                model.min_ram_gb.unwrap_or(0),
                gb(hardware.ram_total)
            ),
        ),
        Some(gpu) if gpu_budget(gpu, ram) >= estimate.total => (
            Placement::Gpu { device: gpu.description.clone() },
            Verdict::Good,
            format!("runs on the {}: {needs}", gpu.description),
        ),
        Some(gpu)
            if !gpu.integrated
                && shape.gpu_layers_for(gpu.memory_free, context) > 0
                && estimate.total <= ram + gpu_budget(gpu, ram) =>
        {
            let layers = shape.gpu_layers_for(gpu.memory_free, context);
            let of = shape.layers + 1;
            let placement = Placement::Partial { device: gpu.description.clone(), gpu_layers: layers, of };
            let words = format!(
                "will be slow: only {layers} of its {of} layers fit on the {} ({} free), the rest runs on the CPU; it {needs}",
                gpu.description,
                gb(gpu.memory_free)
            );
            (placement, Verdict::Slow, words)
        }
        _ if estimate.total <= ram => {
            let gpu_words = match &hardware.gpu_problem {
                Some(problem) => format!(" (the GPU cannot be used: {problem})"),
                None => String::new(),
            };
            if cpu_speed >= COMFORTABLE_TOKENS_PER_SECOND {
                (
                    Placement::Cpu,
                    Verdict::Good,
                    format!("runs on the CPU at roughly {cpu_speed:.0} tokens/s{gpu_words}; it {needs}"),
                )
            } else {
                let words = format!("will be slow on the CPU, roughly {cpu_speed:.0} tokens/s{gpu_words}; it {needs}");
                (Placement::Cpu, Verdict::Slow, words)
            }
        }
        _ => (
            Placement::None,
            Verdict::TooBig,
            format!(
                "does not fit: it {needs}, and this machine has {} to spare",
                gb(ram.max(hardware.best_gpu().map_or(0, |g| gpu_budget(g, ram))))
            ),
        ),
    };
    Fit {
        model: model.id.clone(),
        estimate,
        cpu_tokens_per_second: matches!(placement, Placement::Cpu).then_some((cpu_speed * 10.0).round() / 10.0),
        placement,
        verdict,
        explanation,
    }
}

/// GPU memory a model may use: free memory less a margin; an integrated GPU also shares the
/// system's memory with everything else.
fn gpu_budget(gpu: &Gpu, usable_ram: u64) -> u64 {
    let free = gpu.memory_free.saturating_sub(GPU_MARGIN);
    if gpu.integrated { free.min(usable_ram) } else { free }
}

/// The model chosen for a use, and every candidate judged.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct Recommendation {
    /// What the model is for.
    pub usage: Use,
    /// The recommended model's id; `None` when no model for the use fits.
    pub choice: Option<String>,
    /// The reason, in plain words.
    pub summary: String,
    /// Every model that serves the use, least capable first.
    pub candidates: Vec<Fit>,
}

/// Recommends a model: of the models that serve the use, the most capable one that fits and runs
/// comfortably; failing that, the smallest that fits at all (with a warning that it is slow).
pub fn recommend(catalog: &Catalog, hardware: &Hardware, usage: Use, context: u32) -> Recommendation {
    let candidates: Vec<Fit> = catalog
        .models
        .iter()
        .filter(|model| usage.served_by(model))
        .map(|model| fit(model, hardware, context))
        .collect();
    let name = |fit: &Fit| catalog.get(&fit.model).map_or(fit.model.clone(), |m| m.name.clone());
    let good = candidates.iter().rev().find(|fit| fit.verdict == Verdict::Good);
    let slow = candidates.iter().find(|fit| fit.verdict == Verdict::Slow);
    let (choice, summary) = match (good, slow, candidates.first()) {
        (Some(fit), _, _) => (Some(fit.model.clone()), format!("{} {}", name(fit), fit.explanation)),
        (None, Some(fit), _) => (
            Some(fit.model.clone()),
            format!("{} is the best this machine can do, but it {}", name(fit), fit.explanation),
        ),
        (None, None, Some(smallest)) => (
            None,
            format!(
                "No model that {} fits on this machine: the smallest, {}, {}",
                usage.words(),
                name(smallest),
                smallest.explanation
            ),
        ),
        (None, None, None) => (None, format!("The catalog has no model that {}", usage.words())),
    };
    Recommendation { usage, choice, summary, candidates }
}

//! Images and sound clips in prompts, through llama.cpp's mtmd.
//!
//! A clip is a WAV file (what the app records and stores); it is read and resampled to the
//! projector's rate in Rust (`gemma-desk-voice`) and handed to mtmd as mono f32 samples. Like an
//! image it is tokenized alone and takes one group of positions, reused by its sha256.
//!
//! A message names its images by the sha256 of their bytes and the path of the stored file; the
//! worker decodes and downscales them in Rust (`gemma-desk-media`), never through llama.cpp's
//! stb_image, and hands mtmd raw RGB pixels of the size the projector takes. Each image is
//! tokenized alone, as its own group of positions (the projector's begin and end tokens
//! included), so that the session can compare a prompt with its KV cache position by position:
//! an image is reused whole when the same sha256 sits at the same place, or decoded again whole.
//!
//! Gemma's image tokens attend to each other (non-causal attention), and llama.cpp aborts when
//! one image has more tokens than the micro-batch, so the context's micro-batch is sized for the
//! largest image the projector makes ([`Projector::max_image_tokens`]) and every image is checked
//! against it before llama.cpp sees it.

use std::collections::{HashMap, VecDeque};
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};

use gemma_desk_media::{Limits, Target};
use gemma_desk_voice::{Clip, MAX_CLIP};
use llama_cpp_2::context::LlamaContext;
use llama_cpp_2::mtmd::{
    MtmdBitmap, MtmdContext, MtmdInputChunkType, MtmdInputChunks, MtmdInputText, mtmd_default_marker,
};
use serde::{Deserialize, Serialize};

use crate::error::EngineError;
use crate::gguf::GgufInfo;

/// Pixels one Gemma 4 image token covers (48x48).
const GEMMA4_PIXELS_PER_TOKEN: u64 = 48 * 48;
/// Gemma 4's image-token budgets; 560 when the user chooses none.
pub const IMAGE_TOKEN_BUDGETS: [u32; 5] = [70, 140, 280, 560, 1120];
/// The budget when none is chosen.
pub const DEFAULT_IMAGE_TOKENS: u32 = 560;
/// Images kept decoded and tokenized between turns (each holds the projector's input pixels as
/// floats: about 10 MB for Gemma 3's 896x896).
const PREPARED_KEPT: usize = 8;

/// An image (or, later, a sound) attached to a message: the sha256 of its bytes, which is also
/// its id in the KV cache, and the stored file to read it from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MediaRef {
    /// The sha256 of the file's bytes, in lowercase hex.
    pub sha256: String,
    /// Where the file is (the attachment store).
    pub path: PathBuf,
}

/// A loaded projector (mmproj) and what its GGUF says about the images it takes.
pub(crate) struct Projector {
    context: Mutex<MtmdContext>,
    target: Target,
    vision: bool,
    audio: bool,
}

impl Projector {
    /// Wraps a projector loaded from the GGUF described by `gguf`, with the Gemma 4 image-token
    /// budget `image_tokens`.
    pub(crate) fn new(context: MtmdContext, gguf: &GgufInfo, image_tokens: u32) -> Projector {
        let vision = context.support_vision();
        let audio = context.support_audio();
        Projector { context: Mutex::new(context), target: image_target(gguf, image_tokens), vision, audio }
    }

    pub(crate) fn vision(&self) -> bool {
        self.vision
    }

    pub(crate) fn audio(&self) -> bool {
        self.audio
    }

    /// The rate the audio encoder takes (16 kHz for Gemma 4).
    fn audio_sample_rate(&self) -> u32 {
        self.context().get_audio_sample_rate().unwrap_or(gemma_desk_voice::MODEL_SAMPLE_RATE)
    }

    fn context(&self) -> MutexGuard<'_, MtmdContext> {
        self.context.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// The image tokens of the largest image this projector makes from pixels of
    /// [`Projector::target`] size: what the micro-batch must hold. Measured by tokenizing a plain
    /// image of that size (no encoding), since the count depends on the projector's own layout;
    /// for a Gemma 4 budget, at least the budget itself. With an audio encoder, at least the
    /// tokens of the longest clip taken.
    pub(crate) fn max_media_tokens(&self) -> Result<usize, EngineError> {
        let audio = if self.audio { self.max_audio_tokens()? } else { 0 };
        Ok(self.max_image_tokens()?.max(audio))
    }

    /// The audio tokens of a clip of [`MAX_CLIP`] (silence: tokenizing does not encode).
    fn max_audio_tokens(&self) -> Result<usize, EngineError> {
        let rate = self.audio_sample_rate() as usize;
        let silence = vec![0f32; rate * MAX_CLIP.as_secs() as usize];
        let bitmap = MtmdBitmap::from_audio_data(&silence).map_err(|error| {
            EngineError::LoadFailed(format!("could not make a test clip for the projector: {error}"))
        })?;
        let chunks = self
            .tokenize(&bitmap)
            .map_err(|error| EngineError::LoadFailed(format!("the projector could not take a clip: {error}")))?;
        Ok(media_tokens(&chunks, MtmdInputChunkType::Audio))
    }

    fn max_image_tokens(&self) -> Result<usize, EngineError> {
        if !self.vision {
            return Ok(0);
        }
        let (width, height) = match self.target {
            Target::LongestSide(side) => (side, side),
            Target::PixelBudget(pixels) => {
                let side = (pixels as f64).sqrt() as u32;
                (side, side)
            }
        };
        let gray = vec![128u8; width as usize * height as usize * 3];
        let bitmap = MtmdBitmap::from_image_data(width, height, &gray).map_err(|error| {
            EngineError::LoadFailed(format!("could not make a test image for the projector: {error}"))
        })?;
        let chunks = self.tokenize(&bitmap).map_err(|error| {
            EngineError::LoadFailed(format!("the projector could not take a {width}x{height} image: {error}"))
        })?;
        let measured = image_tokens(&chunks);
        Ok(match self.target {
            // mtmd makes at most the budget's tokens of a Gemma 4 image (the `image_max_tokens` it
            // was given), but rounding a square's sides to whole 48 px tokens can lose it a row and
            // a column that other shapes keep: a 560-token square takes 23x23 = 529, a 4:3 photo
            // 27x20 = 540. The square still counts where mtmd scales a small image up to its
            // 70-token minimum (9x9 = 81 at a budget of 70).
            Target::PixelBudget(pixels) => measured.max((pixels / GEMMA4_PIXELS_PER_TOKEN) as usize),
            Target::LongestSide(_) => measured,
        })
    }

    fn tokenize(&self, bitmap: &MtmdBitmap) -> Result<MtmdInputChunks, String> {
        let text = MtmdInputText { text: mtmd_default_marker().to_owned(), add_special: false, parse_special: true };
        self.context().tokenize(text, &[bitmap]).map_err(|error| error.to_string())
    }
}

/// What size the projector described by `gguf` wants its images: Gemma 3 takes squares of its
/// `image_size` (896), Gemma 4 any shape within its budget of `image_tokens` 48x48-pixel tokens.
pub fn image_target(gguf: &GgufInfo, image_tokens: u32) -> Target {
    match gguf.projector_type.as_deref() {
        Some(kind) if kind.starts_with("gemma4") => {
            Target::PixelBudget(u64::from(image_tokens) * GEMMA4_PIXELS_PER_TOKEN)
        }
        _ => Target::LongestSide(gguf.image_size.map_or(896, |side| side.clamp(1, 8192) as u32)),
    }
}

/// The image tokens in `chunks` (their text chunks, the projector's begin and end tokens, aside).
pub fn image_tokens(chunks: &MtmdInputChunks) -> usize {
    media_tokens(chunks, MtmdInputChunkType::Image)
}

/// The audio tokens in `chunks`.
pub fn audio_tokens(chunks: &MtmdInputChunks) -> usize {
    media_tokens(chunks, MtmdInputChunkType::Audio)
}

fn media_tokens(chunks: &MtmdInputChunks, kind: MtmdInputChunkType) -> usize {
    (0..chunks.len())
        .filter_map(|index| chunks.get(index))
        .filter(|chunk| chunk.chunk_type() == kind)
        .map(|chunk| chunk.n_tokens())
        .sum()
}

/// What an attachment is to the projector.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum MediaKind {
    Image,
    Audio,
}

/// The counts a prompt needs of an attachment, kept after its prepared form is gone.
#[derive(Debug, Clone, Copy)]
pub(crate) struct MediaCounts {
    /// Positions it takes in the sequence, its begin and end tokens included.
    pub(crate) positions: usize,
    /// Of which image or audio tokens (what the micro-batch must hold, and what the figures count).
    pub(crate) tokens: usize,
    pub(crate) kind: MediaKind,
}

/// One image or clip ready for the model: tokenized by mtmd (pixels or samples preprocessed), not
/// yet encoded.
pub(crate) struct PreparedMedia {
    chunks: MtmdInputChunks,
    pub(crate) counts: MediaCounts,
}

/// The images of recent prompts: how many positions each takes (kept for the session's life, so
/// that a prompt whose images are all in the KV cache is built without reading any file), and the
/// last few prepared ones (so that an image evaluated again is not decoded again).
#[derive(Default)]
pub(crate) struct MediaCache {
    positions: HashMap<String, MediaCounts>,
    prepared: HashMap<String, PreparedMedia>,
    order: VecDeque<String>,
}

impl MediaCache {
    /// The positions and tokens `media` takes, preparing it if it was never seen.
    pub(crate) fn measure(&mut self, projector: &Projector, media: &MediaRef) -> Result<MediaCounts, EngineError> {
        if let Some(&counts) = self.positions.get(&media.sha256) {
            return Ok(counts);
        }
        Ok(self.prepared(projector, media)?.counts)
    }

    /// The prepared image or clip `media`: decoded, resized or resampled, and tokenized now
    /// unless kept.
    pub(crate) fn prepared(&mut self, projector: &Projector, media: &MediaRef) -> Result<&PreparedMedia, EngineError> {
        if !self.prepared.contains_key(&media.sha256) {
            let image = prepare(projector, media)?;
            self.positions.insert(media.sha256.clone(), image.counts);
            if self.order.len() == PREPARED_KEPT {
                if let Some(oldest) = self.order.pop_front() {
                    self.prepared.remove(&oldest);
                }
            }
            self.order.push_back(media.sha256.clone());
            self.prepared.insert(media.sha256.clone(), image);
        }
        Ok(&self.prepared[&media.sha256])
    }
}

/// Reads and prepares `media`, a WAV clip or an image, and tokenizes it alone, with its sha256 as
/// the id of its chunks.
fn prepare(projector: &Projector, media: &MediaRef) -> Result<PreparedMedia, EngineError> {
    let mut bitmap = if is_wav(&media.path) { clip_bitmap(projector, media)? } else { image_bitmap(projector, media)? };
    bitmap
        .set_id(&media.sha256)
        .map_err(|_| EngineError::BadRequest(format!("the attachment id {:?} is not a sha256", media.sha256)))?;
    let chunks = projector.tokenize(&bitmap).map_err(|error| {
        EngineError::Media(format!("the projector could not take {}: {error}", name_of(&media.path)))
    })?;
    let positions = usize::try_from(chunks.total_positions()).unwrap_or(0);
    let heard = audio_tokens(&chunks);
    let counts = if heard > 0 {
        MediaCounts { positions, tokens: heard, kind: MediaKind::Audio }
    } else {
        MediaCounts { positions, tokens: image_tokens(&chunks), kind: MediaKind::Image }
    };
    Ok(PreparedMedia { chunks, counts })
}

/// Whether the file at `path` is a WAV file (RIFF/WAVE), the form clips are stored in.
fn is_wav(path: &Path) -> bool {
    let mut header = [0u8; 12];
    std::fs::File::open(path).and_then(|mut file| std::io::Read::read_exact(&mut file, &mut header)).is_ok()
        && &header[..4] == b"RIFF"
        && &header[8..] == b"WAVE"
}

/// The clip `media` as mtmd takes it: mono samples at the projector's rate.
fn clip_bitmap(projector: &Projector, media: &MediaRef) -> Result<MtmdBitmap, EngineError> {
    if !projector.audio {
        return Err(EngineError::Media(
            "this model's projector cannot hear; load an audio projector (mmproj, Gemma 4 E2B or E4B) with it".into(),
        ));
    }
    let clip = Clip::from_file(&media.path).map_err(|error| EngineError::Media(error.to_string()))?;
    let rate = projector.audio_sample_rate();
    let samples = gemma_desk_voice::clip::resample(clip.samples(), gemma_desk_voice::MODEL_SAMPLE_RATE, rate)
        .map_err(|error| EngineError::Media(error.to_string()))?;
    MtmdBitmap::from_audio_data(&samples)
        .map_err(|error| EngineError::Media(format!("{}: {error}", name_of(&media.path))))
}

/// The image `media` decoded and downscaled to what the projector takes.
fn image_bitmap(projector: &Projector, media: &MediaRef) -> Result<MtmdBitmap, EngineError> {
    if !projector.vision {
        return Err(EngineError::Media(
            "this model's projector cannot see images; load a vision projector (mmproj) with it".into(),
        ));
    }
    let decoded = gemma_desk_media::decode_file(&media.path, &Limits::default())
        .map_err(|error| EngineError::Media(error.to_string()))?;
    let pixels = gemma_desk_media::prepare(&decoded, projector.target);
    let (width, height) = pixels.dimensions();
    MtmdBitmap::from_image_data(width, height, pixels.as_raw())
        .map_err(|error| EngineError::Media(format!("{}: {error}", name_of(&media.path))))
}

impl PreparedMedia {
    /// Encodes the image or clip and decodes it (with its begin and end tokens) into `context` at
    /// `position`. The caller has checked that it fits the micro-batch.
    pub(crate) fn eval(
        &self,
        projector: &Projector,
        context: &mut LlamaContext<'_>,
        position: usize,
        logits_last: bool,
    ) -> Result<(), EngineError> {
        let n_batch = context.n_batch() as i32;
        let after = self
            .chunks
            .eval_chunks(&mut projector.context(), context, position as i32, 0, n_batch, logits_last)
            .map_err(|error| EngineError::Decode(format!("the attachment could not be encoded: {error}")))?;
        let taken = usize::try_from(after).unwrap_or(0).saturating_sub(position);
        if taken != self.counts.positions {
            return Err(EngineError::Decode(format!(
                "the attachment took {taken} positions instead of the {} it was tokenized to",
                self.counts.positions
            )));
        }
        Ok(())
    }
}

/// The file name alone, for messages.
pub(crate) fn name_of(path: &Path) -> String {
    path.file_name().map_or_else(|| path.display().to_string(), |name| name.to_string_lossy().into_owned())
}

/// `messages` with a marker in place of each attached image (before the message's text) and no
/// media left, for the template.
pub(crate) fn with_markers(
    messages: &[crate::template::ChatMessage],
    marker: &str,
) -> Vec<crate::template::ChatMessage> {
    messages
        .iter()
        .map(|message| {
            let mut message = message.clone();
            if !message.media.is_empty() {
                let markers: String = message.media.iter().map(|_| format!("{marker}\n")).collect();
                message.content = markers + &message.content;
                message.media.clear();
            }
            message
        })
        .collect()
}

/// A marker string that none of `texts` contains, to stand for an image in the rendered prompt.
pub(crate) fn unused_marker<'a>(texts: impl Iterator<Item = &'a str> + Clone) -> String {
    (0u64..)
        .map(|n| format!("<__gemma_desk_media_{n}__>"))
        .find(|marker| !texts.clone().any(|text| text.contains(marker.as_str())))
        .expect("some number is unused")
}

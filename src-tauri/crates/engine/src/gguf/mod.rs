//! GGUF header validation.
//!
//! llama.cpp may abort the whole process on a malformed model file, so before
//! a file is handed to it, [`inspect`] reads the header with buffered I/O
//! (never mmap, never the tensor data) and checks everything llama.cpp relies
//! on: magic, version, counts, every metadata key and value, the tensor
//! infos and that all tensor data lies inside the file. Every arithmetic step
//! on file-provided numbers is checked, and every length is bounded by the
//! bytes left in the file before anything is allocated or read.
//!
//! The parts, in the order of the file: the `reader` that cannot read past the end, the
//! `metadata` key/value pairs, the `tensors` and their data; `architectures` is the table
//! of what llama.cpp can load, `ggml_types` the tensor types and their sizes, `error` every
//! way a file fails.

mod architectures;
mod error;
mod ggml_types;
mod metadata;
mod reader;
mod tensors;

pub use error::GgufError;

use std::collections::HashMap;
use std::fs::File;
use std::io::ErrorKind;
use std::path::{Path, PathBuf};

use architectures::KNOWN_ARCHITECTURES;
use ggml_types::file_type_name;
use metadata::{Entry, Value, ValueType};
use reader::Reader;
use tensors::dominant_type;

/// Bytes of the fixed header: magic, version, tensor count, metadata count.
const HEADER_LEN: u64 = 24;
const MAX_TENSORS: u64 = 1_000_000;
const MAX_METADATA: u64 = 1_000_000;
const DEFAULT_ALIGNMENT: u32 = 32;
/// Smallest metadata entry: key length, 1-byte key, value type, u8 value.
const MIN_KV_BYTES: u64 = 8 + 1 + 4 + 1;
/// Smallest tensor info: name length, n_dims, one dimension, type, offset.
const MIN_TENSOR_INFO_BYTES: u64 = 8 + 4 + 8 + 4 + 8;

/// What a validated GGUF file says about itself.
#[derive(Debug, Clone, serde::Serialize)]
pub struct GgufInfo {
    /// The file that was inspected, as given.
    pub path: PathBuf,
    /// GGUF format version (2 or 3).
    pub version: u32,
    /// `general.architecture`, e.g. "gemma3", or "clip" for a projector.
    pub architecture: String,
    /// `general.name`, if present.
    pub name: Option<String>,
    /// Size of the file in bytes.
    pub file_size: u64,
    /// Number of tensors.
    pub tensor_count: u64,
    /// Number of metadata key/value pairs.
    pub metadata_count: u64,
    /// `{arch}.context_length`: the context the model was trained for.
    pub context_length: Option<u64>,
    /// `{arch}.embedding_length`: the hidden size.
    pub embedding_length: Option<u64>,
    /// `{arch}.block_count`: the number of layers.
    pub block_count: Option<u64>,
    /// `{arch}.attention.head_count`: query heads per layer (when one number for all layers).
    pub head_count: Option<u64>,
    /// `{arch}.attention.head_count_kv`: key/value heads per layer (when one number for all layers).
    pub head_count_kv: Option<u64>,
    /// `{arch}.attention.key_length`: the width of one key head.
    pub key_length: Option<u64>,
    /// `{arch}.attention.value_length`: the width of one value head.
    pub value_length: Option<u64>,
    /// `clip.vision.projection_dim` or `clip.audio.projection_dim` of a projector: the width of
    /// the language model it feeds.
    pub projection_dim: Option<u64>,
    /// `tokenizer.chat_template` (Jinja), if the file carries one.
    pub chat_template: Option<String>,
    /// `general.file_type` (llama.cpp's `llama_ftype`).
    pub file_type: Option<u32>,
    /// Human name of the quantization, e.g. "Q4_K_M": from `general.file_type`,
    /// or else the ggml type holding most bytes of the matrices.
    pub quantization: Option<String>,
    /// Whether this is a multimodal projector (mmproj, architecture "clip").
    pub is_projector: bool,
    /// `clip.has_vision_encoder`.
    pub has_vision_encoder: bool,
    /// `clip.has_audio_encoder`.
    pub has_audio_encoder: bool,
    /// `clip.projector_type` of a projector, e.g. "gemma3" or "gemma4v".
    pub projector_type: Option<String>,
    /// `clip.vision.image_size` of a vision projector: the side of the square its encoder takes.
    pub image_size: Option<u64>,
}

/// Validates the header of a GGUF file without loading it.
///
/// Reads only the header (metadata and tensor infos, with buffered I/O) and
/// checks that every tensor's data lies inside the file.
pub fn inspect(path: &Path) -> Result<GgufInfo, GgufError> {
    let open_error = |e: std::io::Error| match e.kind() {
        ErrorKind::NotFound => GgufError::NotFound { path: path.to_path_buf() },
        _ => GgufError::Io { path: path.to_path_buf(), offset: 0, source: e },
    };
    let meta = std::fs::metadata(path).map_err(open_error)?;
    if !meta.is_file() {
        return Err(GgufError::NotAFile { path: path.to_path_buf() });
    }
    let file = File::open(path).map_err(open_error)?;
    let len = file.metadata().map_err(open_error)?.len();
    if len == 0 {
        return Err(GgufError::Empty { path: path.to_path_buf() });
    }
    Reader::new(file, len, path).header()
}

impl Reader<'_> {
    fn header(&mut self) -> Result<GgufInfo, GgufError> {
        let (version, tensor_count, metadata_count) = self.preamble()?;
        let meta = self.metadata(metadata_count)?;
        let get = |key: &str| meta.get(key);
        let architecture = self.architecture(&meta)?;
        let alignment = match get("general.alignment") {
            None => DEFAULT_ALIGNMENT,
            Some(e @ Entry { vtype: ValueType::U32, .. }) => e.as_u64().unwrap_or(0) as u32,
            Some(e) => return Err(self.wrong_type("general.alignment", "u32", e.vtype)),
        };
        if !alignment.is_power_of_two() {
            return Err(GgufError::InvalidAlignment { path: self.path(), alignment });
        }

        let tensors = self.tensor_infos(tensor_count)?;
        self.check_data(&tensors, alignment)?;

        let arch_u64 = |suffix: &str| get(&format!("{architecture}.{suffix}")).and_then(Entry::as_u64);
        let flag = |key: &str| matches!(get(key), Some(Entry { value: Value::Bool(true), .. }));
        let file_type = get("general.file_type").and_then(Entry::as_u64).and_then(|v| u32::try_from(v).ok());
        let quantization = file_type.and_then(file_type_name).or_else(|| dominant_type(&tensors)).map(str::to_owned);
        Ok(GgufInfo {
            path: self.path(),
            version,
            name: get("general.name").and_then(Entry::as_text),
            file_size: self.len,
            tensor_count,
            metadata_count,
            context_length: arch_u64("context_length"),
            embedding_length: arch_u64("embedding_length"),
            block_count: arch_u64("block_count"),
            head_count: arch_u64("attention.head_count"),
            head_count_kv: arch_u64("attention.head_count_kv"),
            key_length: arch_u64("attention.key_length"),
            value_length: arch_u64("attention.value_length"),
            projection_dim: ["clip.vision.projection_dim", "clip.audio.projection_dim"]
                .into_iter()
                .find_map(|key| get(key).and_then(Entry::as_u64)),
            chat_template: get("tokenizer.chat_template").and_then(Entry::as_text),
            file_type,
            quantization,
            is_projector: architecture == "clip",
            has_vision_encoder: flag("clip.has_vision_encoder"),
            has_audio_encoder: flag("clip.has_audio_encoder"),
            projector_type: get("clip.projector_type").and_then(Entry::as_text),
            image_size: get("clip.vision.image_size").and_then(Entry::as_u64),
            architecture,
        })
    }

    /// Reads the fixed header: magic, version and the two counts, which must be plausible and
    /// leave room in the file for that many smallest entries.
    fn preamble(&mut self) -> Result<(u32, u64, u64), GgufError> {
        let head = self.peek_head()?;
        if !head.starts_with(b"GGUF") {
            if head.len() < 4 && b"GGUF".starts_with(&head) {
                return Err(self.truncated(HEADER_LEN));
            }
            let found = head[..head.len().min(4)].escape_ascii().to_string();
            return Err(GgufError::BadMagic { path: self.path(), found, hint: magic_hint(&head) });
        }
        self.ensure(HEADER_LEN)?;
        self.skip(4)?;
        let version = self.u32()?;
        match version {
            2 | 3 => {}
            1 => return Err(GgufError::ObsoleteVersion { path: self.path() }),
            v if v & 0xFFFF == 0 && (1..=3).contains(&v.swap_bytes()) => {
                return Err(GgufError::BigEndian { path: self.path() });
            }
            version => {
                return Err(GgufError::UnsupportedVersion { path: self.path(), version });
            }
        }
        let tensor_count = self.u64()?;
        if tensor_count > MAX_TENSORS {
            let (count, max) = (tensor_count, MAX_TENSORS);
            return Err(GgufError::TooManyTensors { path: self.path(), count, max });
        }
        let metadata_count = self.u64()?;
        if metadata_count > MAX_METADATA {
            let (count, max) = (metadata_count, MAX_METADATA);
            return Err(GgufError::TooManyMetadata { path: self.path(), count, max });
        }
        // Both counts are bounded, so this cannot overflow.
        self.ensure(metadata_count * MIN_KV_BYTES + tensor_count * MIN_TENSOR_INFO_BYTES)?;
        Ok((version, tensor_count, metadata_count))
    }

    /// `general.architecture`, which must be one llama.cpp knows.
    fn architecture(&self, meta: &HashMap<String, Entry>) -> Result<String, GgufError> {
        match meta.get("general.architecture") {
            None => Err(GgufError::MissingArchitecture { path: self.path() }),
            Some(Entry { value: Value::Text(b), .. }) => match std::str::from_utf8(b) {
                Ok(a) if KNOWN_ARCHITECTURES.contains(&a) => Ok(a.to_owned()),
                _ => {
                    let architecture = String::from_utf8_lossy(b).into_owned();
                    Err(GgufError::UnknownArchitecture { path: self.path(), architecture })
                }
            },
            Some(e) => Err(self.wrong_type("general.architecture", "string", e.vtype)),
        }
    }
}

/// What a file that is not GGUF looks like, from its first bytes.
fn magic_hint(head: &[u8]) -> &'static str {
    let trimmed = head.trim_ascii_start();
    if head.starts_with(b"\x89PNG") {
        " (it looks like a PNG image)"
    } else if head.starts_with(b"\xFF\xD8\xFF") {
        " (it looks like a JPEG image)"
    } else if head.starts_with(b"PK\x03\x04") {
        " (it looks like a zip archive: extract the .gguf file from it first)"
    } else if trimmed.starts_with(b"<") {
        " (it looks like a web page: the download link may have returned an error page)"
    } else if [b"lmgg", b"fmgg", b"tjgg", b"algg"].iter().any(|m| head.starts_with(*m)) {
        " (it is an old GGML model, which llama.cpp no longer loads: download a GGUF version)"
    } else if head.len() > 8 && head[8] == b'{' && head[..8].iter().rev().take(4).all(|&b| b == 0) {
        " (it looks like a safetensors file: convert it with llama.cpp's convert_hf_to_gguf.py)"
    } else {
        ""
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hints() {
        assert!(magic_hint(b"\x89PNG\r\n\x1a\n").contains("PNG"));
        assert!(magic_hint(b"  <!DOCTYPE html>").contains("web page"));
        assert!(magic_hint(b"tjgg\x01\0\0\0").contains("GGML"));
        assert!(magic_hint(b"\x10\x02\0\0\0\0\0\0{\"a\"").contains("safetensors"));
        assert_eq!(magic_hint(b"hello"), "");
    }
}

//! GGUF header validation.
//!
//! llama.cpp may abort the whole process on a malformed model file, so before
//! a file is handed to it, [`inspect`] reads the header with buffered I/O
//! (never mmap, never the tensor data) and checks everything llama.cpp relies
//! on: magic, version, counts, every metadata key and value, the tensor
//! infos and that all tensor data lies inside the file. Every arithmetic step
//! on file-provided numbers is checked, and every length is bounded by the
//! bytes left in the file before anything is allocated or read.

mod error;
mod ggml_types;

pub use error::GgufError;

use std::collections::{HashMap, HashSet};
use std::fs::File;
use std::io::{BufRead, BufReader, ErrorKind, Read};
use std::path::{Path, PathBuf};

use ggml_types::{file_type_name, ggml_type};

/// Bytes of the fixed header: magic, version, tensor count, metadata count.
const HEADER_LEN: u64 = 24;
const MAX_TENSORS: u64 = 1_000_000;
const MAX_METADATA: u64 = 1_000_000;
const MAX_KEY_LEN: u64 = 64 * 1024;
/// llama.cpp's `GGUF_MAX_STRING_LENGTH`.
const MAX_STRING_LEN: u64 = 1 << 30;
/// llama.cpp's `GGUF_MAX_ARRAY_ELEMENTS`.
const MAX_ARRAY_LEN: u64 = 1 << 30;
/// How deep arrays may nest (1: arrays of scalars only). The GGUF format
/// allows nesting, llama.cpp's own reader refuses any.
const MAX_ARRAY_DEPTH: u32 = 3;
/// `GGML_MAX_NAME` (64) less the terminating NUL.
const MAX_TENSOR_NAME_LEN: u64 = 63;
/// `GGML_MAX_DIMS`.
const MAX_DIMS: u32 = 4;
const DEFAULT_ALIGNMENT: u32 = 32;
/// Smallest metadata entry: key length, 1-byte key, value type, u8 value.
const MIN_KV_BYTES: u64 = 8 + 1 + 4 + 1;
/// Smallest tensor info: name length, n_dims, one dimension, type, offset.
const MIN_TENSOR_INFO_BYTES: u64 = 8 + 4 + 8 + 4 + 8;

/// GGUF metadata value types.
const T_BOOL: u32 = 7;
const T_STRING: u32 = 8;
const T_ARRAY: u32 = 9;

/// Architectures (`general.architecture`) of the bundled llama.cpp
/// (`LLM_ARCH_NAMES` in `src/llama-arch.cpp`); `clip` is a multimodal
/// projector (mmproj) file. Mistral text models use `llama`.
#[rustfmt::skip]
const KNOWN_ARCHITECTURES: &[&str] = &[
    "clip", "gemma", "gemma2", "gemma3", "gemma3n", "gemma4", "gemma4-assistant", "gemma-embedding",
    "llama", "llama4", "llama-embed", "mistral3", "mistral4", "qwen", "qwen2", "qwen2moe",
    "qwen2vl", "qwen3", "qwen3moe", "qwen3next", "qwen3vl", "qwen3vlmoe", "qwen35", "qwen35moe",
    "qwen4exp", "phi2", "phi3", "phimoe", "deci", "falcon", "falcon-h1", "grok", "gpt2", "gptj",
    "gptneox", "gpt-oss", "mpt", "baichuan", "starcoder", "starcoder2", "refact", "bert",
    "modern-bert", "nomic-bert", "nomic-bert-moe", "neo-bert", "jina-bert-v2", "jina-bert-v3",
    "eurobert", "bloom", "stablelm", "clef", "plamo", "plamo2", "plamo3", "codeshell", "orion",
    "internlm2", "minicpm", "minicpm3", "mamba", "mamba2", "maple", "jamba", "xverse", "command-r",
    "cohere2", "cohere2moe", "dbrx", "olmo", "olmo2", "olmoe", "muse-glimmer", "openelm", "arctic",
    "deepseek", "deepseek2", "deepseek2-ocr", "deepseek32", "deepseek4", "chatglm", "glm4",
    "glm4moe", "glm-dsa", "glm5-next", "bitnet", "t5", "t5encoder", "jais", "jais2", "nemotron",
    "nemotron_h", "nemotron_h_moe", "exaone", "exaone4", "exaone-moe", "rwkv6", "rwkv6qwen2",
    "rwkv7", "arwkv7", "granite", "granitemoe", "granitehybrid", "graniteswitch", "granite_swa",
    "chameleon", "wavtokenizer-dec", "plm", "bailingmoe", "bailingmoe2", "bailingmoe3", "dots1",
    "dots3note", "arcee", "afmoe", "laguna", "ernie4_5", "ernie4_5-moe", "hunyuan-moe",
    "hunyuan-dense", "hunyuan_vl", "hy_v3", "hy_v4", "smollm3", "lfm2", "lfm2moe", "dream",
    "smallthinker", "llada", "llada-moe", "seed_oss", "grovemoe", "apertus", "minimax-01",
    "minimax-m2", "minimax-m3", "hrm_text", "cogvlm", "rnd1", "pangu-embedded", "eagle3", "dflash",
    "paddleocr", "mimo2", "step35", "spark2_5", "maincoder", "kimi-linear", "kimi-k3", "talkie",
    "mellum", "nanbeige", "qwen3tts", "pockettts",
];

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
    let mut r = Reader { inner: BufReader::with_capacity(1 << 16, file), pos: 0, len, path };
    r.header()
}

/// A metadata value, as far as it is kept.
enum Value {
    Unsigned(u64),
    Signed(i64),
    Bool(bool),
    Text(Vec<u8>),
    /// Floats, arrays and strings nobody asked for.
    Skipped,
}

/// A metadata value with its GGUF type.
struct Entry {
    vtype: u32,
    value: Value,
}

impl Entry {
    fn as_u64(&self) -> Option<u64> {
        match self.value {
            Value::Unsigned(v) => Some(v),
            Value::Signed(v) => u64::try_from(v).ok(),
            _ => None,
        }
    }
    fn as_text(&self) -> Option<String> {
        match &self.value {
            Value::Text(b) => Some(String::from_utf8_lossy(b).into_owned()),
            _ => None,
        }
    }
}

/// Whether a string value under this key is kept rather than skipped.
fn keep_string(key: &str) -> bool {
    matches!(key, "general.architecture" | "general.name" | "tokenizer.chat_template")
}

/// A tensor info, once read.
struct Tensor {
    name: String,
    data_offset: u64,
    bytes: u64,
    ggml_type: u32,
    n_dims: u32,
}

struct Reader<'p> {
    inner: BufReader<File>,
    /// Bytes consumed so far; never more than `len`.
    pos: u64,
    len: u64,
    path: &'p Path,
}

impl Reader<'_> {
    fn path(&self) -> PathBuf {
        self.path.to_path_buf()
    }

    fn truncated(&self, needed: u64) -> GgufError {
        let expected = self.pos.saturating_add(needed);
        GgufError::Truncated { path: self.path(), expected, found: self.len }
    }

    /// Fails unless `n` more bytes are in the file.
    fn ensure(&self, n: u64) -> Result<(), GgufError> {
        if self.len - self.pos < n { Err(self.truncated(n)) } else { Ok(()) }
    }

    fn fill(&mut self, buf: &mut [u8]) -> Result<(), GgufError> {
        let n = buf.len() as u64;
        self.ensure(n)?;
        self.inner.read_exact(buf).map_err(|e| match e.kind() {
            ErrorKind::UnexpectedEof => self.truncated(n),
            _ => GgufError::Io { path: self.path(), offset: self.pos, source: e },
        })?;
        self.pos += n;
        Ok(())
    }

    fn array<const N: usize>(&mut self) -> Result<[u8; N], GgufError> {
        let mut b = [0; N];
        self.fill(&mut b)?;
        Ok(b)
    }
    fn u32(&mut self) -> Result<u32, GgufError> {
        self.array().map(u32::from_le_bytes)
    }
    fn u64(&mut self) -> Result<u64, GgufError> {
        self.array().map(u64::from_le_bytes)
    }

    fn bytes(&mut self, n: u64) -> Result<Vec<u8>, GgufError> {
        self.ensure(n)?;
        let mut v = vec![0; usize::try_from(n).map_err(|_| self.truncated(n))?];
        self.fill(&mut v)?;
        Ok(v)
    }

    fn skip(&mut self, n: u64) -> Result<(), GgufError> {
        self.ensure(n)?;
        let step = i64::try_from(n).map_err(|_| self.truncated(n))?;
        self.inner.seek_relative(step).map_err(|e| GgufError::Io { path: self.path(), offset: self.pos, source: e })?;
        self.pos += n;
        Ok(())
    }

    fn header(&mut self) -> Result<GgufInfo, GgufError> {
        let mut first = [0u8; 16];
        let buffered =
            self.inner.fill_buf().map_err(|e| GgufError::Io { path: self.path.to_path_buf(), offset: 0, source: e })?;
        let n = buffered.len().min(first.len());
        first[..n].copy_from_slice(&buffered[..n]);
        let head = &first[..n];
        if !head.starts_with(b"GGUF") {
            if head.len() < 4 && b"GGUF".starts_with(head) {
                return Err(self.truncated(HEADER_LEN));
            }
            let found = head[..head.len().min(4)].escape_ascii().to_string();
            return Err(GgufError::BadMagic { path: self.path(), found, hint: magic_hint(head) });
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

        let meta = self.metadata(metadata_count)?;
        let get = |key: &str| meta.get(key);
        let architecture = match get("general.architecture") {
            None => return Err(GgufError::MissingArchitecture { path: self.path() }),
            Some(Entry { value: Value::Text(b), .. }) => match std::str::from_utf8(b) {
                Ok(a) if KNOWN_ARCHITECTURES.contains(&a) => a.to_owned(),
                _ => {
                    let architecture = String::from_utf8_lossy(b).into_owned();
                    return Err(GgufError::UnknownArchitecture { path: self.path(), architecture });
                }
            },
            Some(e) => return Err(self.wrong_type("general.architecture", "string", e.vtype)),
        };
        let alignment = match get("general.alignment") {
            None => DEFAULT_ALIGNMENT,
            Some(e @ Entry { vtype: 4, .. }) => e.as_u64().unwrap_or(0) as u32,
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
            architecture,
        })
    }

    fn wrong_type(&self, key: &str, expected: &'static str, vtype: u32) -> GgufError {
        let (key, found) = (key.to_owned(), value_type_name(vtype));
        GgufError::WrongMetadataType { path: self.path(), key, expected, found }
    }

    fn metadata(&mut self, count: u64) -> Result<HashMap<String, Entry>, GgufError> {
        let mut meta = HashMap::new();
        for _ in 0..count {
            let offset = self.pos;
            let len = self.u64()?;
            if len > MAX_KEY_LEN {
                let (path, max) = (self.path(), MAX_KEY_LEN);
                return Err(GgufError::KeyTooLong { path, offset, len, max });
            }
            let path = self.path;
            let invalid = |reason| GgufError::InvalidKey { path: path.to_path_buf(), offset, reason };
            if len == 0 {
                return Err(invalid("the key is empty"));
            }
            let bytes = self.bytes(len)?;
            let key = String::from_utf8(bytes).map_err(|_| invalid("the key is not valid UTF-8"))?;
            if meta.contains_key(&key) {
                return Err(GgufError::DuplicateKey { path: self.path(), key, offset });
            }
            let vtype = self.u32()?;
            let value = self.value(&key, vtype)?;
            meta.insert(key, Entry { vtype, value });
        }
        Ok(meta)
    }

    /// Reads (or skips) the value of `key`, of type `vtype`, whose 4-byte
    /// type field has just been read.
    fn value(&mut self, key: &str, vtype: u32) -> Result<Value, GgufError> {
        let type_offset = self.pos - 4;
        Ok(match vtype {
            0 => Value::Unsigned(self.array::<1>()?[0].into()),
            1 => Value::Signed(i8::from_le_bytes(self.array()?).into()),
            2 => Value::Unsigned(u16::from_le_bytes(self.array()?).into()),
            3 => Value::Signed(i16::from_le_bytes(self.array()?).into()),
            4 => Value::Unsigned(self.u32()?.into()),
            5 => Value::Signed(i32::from_le_bytes(self.array()?).into()),
            10 => Value::Unsigned(self.u64()?),
            11 => Value::Signed(i64::from_le_bytes(self.array()?)),
            6 | 12 => {
                self.skip(value_size(vtype).unwrap_or(0))?;
                Value::Skipped
            }
            T_BOOL => {
                let offset = self.pos;
                match self.array::<1>()?[0] {
                    b @ (0 | 1) => Value::Bool(b == 1),
                    value => {
                        let key = key.to_owned();
                        return Err(GgufError::InvalidBool { path: self.path(), key, offset, value });
                    }
                }
            }
            T_STRING => {
                let len = self.string_len(key)?;
                if keep_string(key) {
                    Value::Text(self.bytes(len)?)
                } else {
                    self.skip(len)?;
                    Value::Skipped
                }
            }
            T_ARRAY => {
                self.array_value(key, 1, type_offset)?;
                Value::Skipped
            }
            value_type => {
                let (path, key, offset) = (self.path(), key.to_owned(), type_offset);
                return Err(GgufError::UnknownValueType { path, key, offset, value_type });
            }
        })
    }

    fn string_len(&mut self, key: &str) -> Result<u64, GgufError> {
        let offset = self.pos;
        let len = self.u64()?;
        if len > MAX_STRING_LEN {
            let (path, key, max) = (self.path(), key.to_owned(), MAX_STRING_LEN);
            return Err(GgufError::StringTooLong { path, key, offset, len, max });
        }
        Ok(len)
    }

    /// Checks an array at nesting `depth` (1 for a top-level array value).
    fn array_value(&mut self, key: &str, depth: u32, offset: u64) -> Result<(), GgufError> {
        if depth > MAX_ARRAY_DEPTH {
            let (path, key, max_depth) = (self.path(), key.to_owned(), MAX_ARRAY_DEPTH);
            return Err(GgufError::ArrayTooDeep { path, key, offset, max_depth });
        }
        let elem_offset = self.pos;
        let elem = self.u32()?;
        let len_offset = self.pos;
        let len = self.u64()?;
        let min_elem = match elem {
            T_STRING => 8,
            T_ARRAY => 12,
            t => match value_size(t) {
                Some(size) => size,
                None => {
                    let (path, key, offset) = (self.path(), key.to_owned(), elem_offset);
                    return Err(GgufError::UnknownValueType { path, key, offset, value_type: t });
                }
            },
        };
        if len > MAX_ARRAY_LEN {
            let (path, key, max) = (self.path(), key.to_owned(), MAX_ARRAY_LEN);
            return Err(GgufError::ArrayTooLong { path, key, offset: len_offset, len, max });
        }
        self.ensure(len * min_elem)?; // at most 2^30 * 12: no overflow
        match elem {
            T_STRING => {
                for _ in 0..len {
                    let n = self.string_len(key)?;
                    self.skip(n)?;
                }
            }
            T_ARRAY => {
                for _ in 0..len {
                    // Each element is itself an array: element type, length, items.
                    self.array_value(key, depth + 1, self.pos)?;
                }
            }
            T_BOOL => {
                let mut buf = [0u8; 4096];
                let mut left = len;
                while left > 0 {
                    let chunk = &mut buf[..left.min(4096) as usize];
                    let start = self.pos;
                    self.fill(chunk)?;
                    if let Some(i) = chunk.iter().position(|&b| b > 1) {
                        let (path, key, value) = (self.path(), key.to_owned(), chunk[i]);
                        let offset = start + i as u64;
                        return Err(GgufError::InvalidBool { path, key, offset, value });
                    }
                    left -= chunk.len() as u64;
                }
            }
            _ => self.skip(len * min_elem)?,
        }
        Ok(())
    }

    fn tensor_infos(&mut self, count: u64) -> Result<Vec<Tensor>, GgufError> {
        let mut tensors = Vec::new();
        let mut names = HashSet::new();
        for index in 0..count {
            let offset = self.pos;
            let len = self.u64()?;
            let path = self.path;
            let bad_name =
                |reason: String| GgufError::InvalidTensorName { path: path.to_path_buf(), index, offset, reason };
            if len > MAX_TENSOR_NAME_LEN {
                return Err(bad_name(format!("{len} bytes long, the limit is {MAX_TENSOR_NAME_LEN}")));
            }
            let bytes = self.bytes(len)?;
            let name = String::from_utf8(bytes).map_err(|_| bad_name("not valid UTF-8".into()))?;
            if !names.insert(name.clone()) {
                return Err(GgufError::DuplicateTensorName { path: self.path(), name, offset });
            }
            let dims_offset = self.pos;
            let n_dims = self.u32()?;
            if !(1..=MAX_DIMS).contains(&n_dims) {
                let (path, tensor) = (self.path(), name);
                return Err(GgufError::InvalidDimensionCount { path, tensor, offset: dims_offset, n_dims });
            }
            let mut shape = Vec::with_capacity(n_dims as usize);
            for dim in 0..n_dims {
                let offset = self.pos;
                let value = self.u64()?;
                if value == 0 || value > i64::MAX as u64 {
                    let (path, tensor) = (self.path(), name);
                    return Err(GgufError::InvalidDimension { path, tensor, offset, dim, value });
                }
                shape.push(value);
            }
            let type_offset = self.pos;
            let type_id = self.u32()?;
            let Some(ty) = ggml_type(type_id) else {
                let (path, tensor) = (self.path(), name);
                return Err(GgufError::UnknownTensorType { path, tensor, offset: type_offset, ggml_type: type_id });
            };
            if shape[0] % ty.block_size != 0 {
                return Err(GgufError::BlockSizeMismatch {
                    path: self.path(),
                    tensor: name,
                    offset,
                    type_name: ty.name,
                    row_len: shape[0],
                    block_size: ty.block_size,
                });
            }
            let Some(bytes) = ty.tensor_bytes(&shape) else {
                return Err(GgufError::TensorTooLarge { path: self.path(), tensor: name, offset, shape });
            };
            let data_offset = self.u64()?;
            tensors.push(Tensor { name, data_offset, bytes, ggml_type: type_id, n_dims });
        }
        Ok(tensors)
    }

    /// Checks the data section: it starts at the header's end rounded up to
    /// the alignment, and holds the tensors in order, each aligned.
    fn check_data(&self, tensors: &[Tensor], alignment: u32) -> Result<(), GgufError> {
        let align = u64::from(alignment);
        let Some(data_start) = align_up(self.pos, align) else {
            return Err(self.truncated(u64::MAX));
        };
        let mut required = if tensors.is_empty() { self.pos } else { data_start };
        let mut expected = 0u64;
        for t in tensors {
            let tensor = || t.name.clone();
            if t.data_offset % align != 0 {
                let (path, data_offset) = (self.path(), t.data_offset);
                return Err(GgufError::MisalignedTensor { path, tensor: tensor(), data_offset, alignment });
            }
            let end = data_start.checked_add(t.data_offset).and_then(|s| s.checked_add(t.bytes));
            if t.data_offset != expected {
                let path = self.path();
                return Err(match end {
                    Some(end) if end <= self.len => {
                        let data_offset = t.data_offset;
                        GgufError::UnexpectedTensorOffset { path, tensor: tensor(), data_offset, expected }
                    }
                    end => GgufError::TensorOutOfBounds {
                        path,
                        tensor: tensor(),
                        end: end.unwrap_or(u64::MAX),
                        file_size: self.len,
                    },
                });
            }
            // The offset is the expected one, itself below the end of the
            // previous tensor: only its size can overflow.
            let end = end.unwrap_or(u64::MAX);
            required = required.max(end);
            expected = align_up(t.data_offset.saturating_add(t.bytes), align).unwrap_or(u64::MAX);
        }
        if required > self.len {
            return Err(GgufError::Truncated { path: self.path(), expected: required, found: self.len });
        }
        Ok(())
    }
}

/// `n` rounded up to a multiple of `align` (a power of two), unless that overflows.
fn align_up(n: u64, align: u64) -> Option<u64> {
    Some(n.checked_add(align - 1)? & !(align - 1))
}

/// Bytes of a fixed-size GGUF value type.
fn value_size(vtype: u32) -> Option<u64> {
    match vtype {
        0 | 1 | T_BOOL => Some(1),
        2 | 3 => Some(2),
        4..=6 => Some(4),
        10..=12 => Some(8),
        _ => None,
    }
}

fn value_type_name(vtype: u32) -> &'static str {
    const NAMES: [&str; 13] =
        ["u8", "i8", "u16", "i16", "u32", "i32", "f32", "bool", "string", "array", "u64", "i64", "f64"];
    NAMES.get(vtype as usize).copied().unwrap_or("unknown")
}

/// The ggml type holding most bytes among the matrices (2+ dimensions).
fn dominant_type(tensors: &[Tensor]) -> Option<&'static str> {
    let mut bytes: HashMap<u32, u64> = HashMap::new();
    for t in tensors.iter().filter(|t| t.n_dims >= 2) {
        *bytes.entry(t.ggml_type).or_default() += t.bytes;
    }
    let (id, _) = bytes.into_iter().max_by_key(|&(id, b)| (b, u32::MAX - id))?;
    ggml_type(id).map(|t| t.name)
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
    fn align_up_rounds_to_power_of_two() {
        assert_eq!(align_up(0, 32), Some(0));
        assert_eq!(align_up(1, 32), Some(32));
        assert_eq!(align_up(32, 32), Some(32));
        assert_eq!(align_up(33, 32), Some(64));
        assert_eq!(align_up(5, 1), Some(5));
        assert_eq!(align_up(u64::MAX - 3, 32), None);
    }

    #[test]
    fn value_types() {
        assert_eq!(value_size(0), Some(1));
        assert_eq!(value_size(T_BOOL), Some(1));
        assert_eq!(value_size(6), Some(4));
        assert_eq!(value_size(12), Some(8));
        assert_eq!(value_size(T_STRING), None);
        assert_eq!(value_size(T_ARRAY), None);
        assert_eq!(value_size(13), None);
        assert_eq!(value_type_name(8), "string");
        assert_eq!(value_type_name(13), "unknown");
    }

    #[test]
    fn architectures() {
        for a in [
            "gemma",
            "gemma2",
            "gemma3",
            "gemma3n",
            "gemma4",
            "gemma-embedding",
            "llama",
            "qwen2",
            "qwen3",
            "phi3",
            "clip",
        ] {
            assert!(KNOWN_ARCHITECTURES.contains(&a), "{a}");
        }
        let unique: HashSet<_> = KNOWN_ARCHITECTURES.iter().collect();
        assert_eq!(unique.len(), KNOWN_ARCHITECTURES.len());
    }

    #[test]
    fn hints() {
        assert!(magic_hint(b"\x89PNG\r\n\x1a\n").contains("PNG"));
        assert!(magic_hint(b"  <!DOCTYPE html>").contains("web page"));
        assert!(magic_hint(b"tjgg\x01\0\0\0").contains("GGML"));
        assert!(magic_hint(b"\x10\x02\0\0\0\0\0\0{\"a\"").contains("safetensors"));
        assert_eq!(magic_hint(b"hello"), "");
    }
}

//! The ways a file can fail GGUF validation.

use std::path::PathBuf;

/// Why a file is not a usable GGUF model. Every message names the file.
#[derive(Debug, thiserror::Error)]
pub enum GgufError {
    /// Nothing exists at the path.
    #[error("model file not found: {}; was it moved or deleted?", .path.display())]
    NotFound {
        /// The path given.
        path: PathBuf,
    },
    /// The path is a directory or a special file.
    #[error("model path is not a regular file: {}; choose a .gguf model file", .path.display())]
    NotAFile {
        /// The path given.
        path: PathBuf,
    },
    /// The operating system failed to read the file.
    #[error("could not read model file {} at offset {offset}: {source}; check that the file is readable", .path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// Where reading failed.
        offset: u64,
        /// The underlying error.
        source: std::io::Error,
    },
    /// The file has no bytes at all.
    #[error("model file is empty: {}; the download probably failed, download it again", .path.display())]
    Empty {
        /// The file.
        path: PathBuf,
    },
    /// The file does not start with `GGUF`.
    #[error("not a GGUF model file: {} starts with \"{found}\" instead of \"GGUF\"{hint}; choose a .gguf model file", .path.display())]
    BadMagic {
        /// The file.
        path: PathBuf,
        /// Its first bytes, escaped.
        found: String,
        /// What the file looks like instead, if recognised (may be empty).
        hint: &'static str,
    },
    /// A big-endian GGUF (version bytes swapped), which llama.cpp cannot run here.
    #[error("big-endian GGUF is not supported: {}; download the little-endian version of this model", .path.display())]
    BigEndian {
        /// The file.
        path: PathBuf,
    },
    /// GGUF version 1, no longer supported by llama.cpp.
    #[error("model file {} uses GGUF version 1, which is obsolete and no longer supported; download a newer conversion of the model", .path.display())]
    ObsoleteVersion {
        /// The file.
        path: PathBuf,
    },
    /// A version other than 1, 2 or 3.
    #[error("model file {} has unsupported GGUF version {version} at offset 4 (only 2 and 3 are supported); it is corrupt or too new, download it again or update the app", .path.display())]
    UnsupportedVersion {
        /// The file.
        path: PathBuf,
        /// The version found.
        version: u32,
    },
    /// The file ends before what its header describes: usually an incomplete download.
    #[error("model file is truncated: expected at least {expected} bytes, found {found}; the download may be incomplete, download {} again", .path.display())]
    Truncated {
        /// The file.
        path: PathBuf,
        /// The size the file needs to have at least.
        expected: u64,
        /// Its actual size.
        found: u64,
    },
    /// An absurd tensor count.
    #[error("model file {} claims {count} tensors at offset 8, more than the limit of {max}; the file is corrupt, download it again", .path.display())]
    TooManyTensors {
        /// The file.
        path: PathBuf,
        /// The count found.
        count: u64,
        /// The limit.
        max: u64,
    },
    /// An absurd metadata count.
    #[error("model file {} claims {count} metadata entries at offset 16, more than the limit of {max}; the file is corrupt, download it again", .path.display())]
    TooManyMetadata {
        /// The file.
        path: PathBuf,
        /// The count found.
        count: u64,
        /// The limit.
        max: u64,
    },
    /// A metadata key longer than the limit.
    #[error("model file {} has a metadata key of {len} bytes at offset {offset}, more than the limit of {max}; the file is corrupt, download it again", .path.display())]
    KeyTooLong {
        /// The file.
        path: PathBuf,
        /// Where the key starts.
        offset: u64,
        /// The length found.
        len: u64,
        /// The limit.
        max: u64,
    },
    /// A metadata key that is empty or not UTF-8.
    #[error("model file {} has an invalid metadata key at offset {offset}: {reason}; the file is corrupt, download it again", .path.display())]
    InvalidKey {
        /// The file.
        path: PathBuf,
        /// Where the key starts.
        offset: u64,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// The same metadata key twice.
    #[error("model file {} repeats metadata key '{key}' at offset {offset}; the file is corrupt, download it again", .path.display())]
    DuplicateKey {
        /// The file.
        path: PathBuf,
        /// The key.
        key: String,
        /// Where the second one starts.
        offset: u64,
    },
    /// A metadata value (or array element) type outside 0..=12.
    #[error("model file {} has unknown value type {value_type} for metadata key '{key}' at offset {offset}; the file is corrupt or from a newer GGUF version, download it again", .path.display())]
    UnknownValueType {
        /// The file.
        path: PathBuf,
        /// The key.
        key: String,
        /// Where the type is stored.
        offset: u64,
        /// The type found.
        value_type: u32,
    },
    /// A string value longer than the limit.
    #[error("model file {} has a string of {len} bytes for metadata key '{key}' at offset {offset}, more than the limit of {max}; the file is corrupt, download it again", .path.display())]
    StringTooLong {
        /// The file.
        path: PathBuf,
        /// The key.
        key: String,
        /// Where the string length is stored.
        offset: u64,
        /// The length found.
        len: u64,
        /// The limit.
        max: u64,
    },
    /// A boolean byte other than 0 or 1.
    #[error("model file {} has boolean value {value} (not 0 or 1) for metadata key '{key}' at offset {offset}; the file is corrupt, download it again", .path.display())]
    InvalidBool {
        /// The file.
        path: PathBuf,
        /// The key.
        key: String,
        /// Where the byte is.
        offset: u64,
        /// The byte found.
        value: u8,
    },
    /// An array longer than the limit.
    #[error("model file {} has an array of {len} elements for metadata key '{key}' at offset {offset}, more than the limit of {max}; the file is corrupt, download it again", .path.display())]
    ArrayTooLong {
        /// The file.
        path: PathBuf,
        /// The key.
        key: String,
        /// Where the array length is stored.
        offset: u64,
        /// The length found.
        len: u64,
        /// The limit.
        max: u64,
    },
    /// Arrays of arrays nested deeper than the limit.
    #[error("model file {} nests arrays more than {max_depth} deep for metadata key '{key}' at offset {offset}; the file is corrupt, download it again", .path.display())]
    ArrayTooDeep {
        /// The file.
        path: PathBuf,
        /// The key.
        key: String,
        /// Where the too-deep array starts.
        offset: u64,
        /// The limit.
        max_depth: u32,
    },
    /// No `general.architecture`.
    #[error("model file {} has no general.architecture metadata; it is not a model llama.cpp can load, use a GGUF made by llama.cpp's converter", .path.display())]
    MissingArchitecture {
        /// The file.
        path: PathBuf,
    },
    /// A well-known metadata key with the wrong value type.
    #[error("model file {} has metadata key '{key}' of type {found}, expected {expected}; the file is corrupt or badly converted, download it again", .path.display())]
    WrongMetadataType {
        /// The file.
        path: PathBuf,
        /// The key.
        key: String,
        /// The type required.
        expected: &'static str,
        /// The type found.
        found: &'static str,
    },
    /// An architecture the bundled llama.cpp does not know.
    #[error("model file {} is for architecture '{architecture}', which this version of llama.cpp does not support; choose a Gemma model or another supported GGUF", .path.display())]
    UnknownArchitecture {
        /// The file.
        path: PathBuf,
        /// The architecture found (lossily decoded).
        architecture: String,
    },
    /// `general.alignment` that is not a power of two.
    #[error("model file {} has general.alignment {alignment}, which is not a power of two; the file is corrupt, download it again", .path.display())]
    InvalidAlignment {
        /// The file.
        path: PathBuf,
        /// The alignment found.
        alignment: u32,
    },
    /// A tensor name that is too long or not UTF-8.
    #[error("model file {} has an invalid name for tensor {index} at offset {offset}: {reason}; the file is corrupt, download it again", .path.display())]
    InvalidTensorName {
        /// The file.
        path: PathBuf,
        /// The tensor's position in the file (from 0).
        index: u64,
        /// Where the name starts.
        offset: u64,
        /// What is wrong with it.
        reason: String,
    },
    /// Two tensors with the same name.
    #[error("model file {} has two tensors named '{name}' (the second at offset {offset}); the file is corrupt, download it again", .path.display())]
    DuplicateTensorName {
        /// The file.
        path: PathBuf,
        /// The name.
        name: String,
        /// Where the second tensor info starts.
        offset: u64,
    },
    /// A tensor with no or more than 4 dimensions.
    #[error("tensor '{tensor}' in model file {} has {n_dims} dimensions at offset {offset}, expected 1 to 4; the file is corrupt, download it again", .path.display())]
    InvalidDimensionCount {
        /// The file.
        path: PathBuf,
        /// The tensor.
        tensor: String,
        /// Where the count is stored.
        offset: u64,
        /// The count found.
        n_dims: u32,
    },
    /// A tensor dimension of 0 or beyond `i64::MAX`.
    #[error("tensor '{tensor}' in model file {} has size {value} in dimension {dim} at offset {offset}; the file is corrupt, download it again", .path.display())]
    InvalidDimension {
        /// The file.
        path: PathBuf,
        /// The tensor.
        tensor: String,
        /// Where the dimension is stored.
        offset: u64,
        /// Which dimension (from 0).
        dim: u32,
        /// The size found.
        value: u64,
    },
    /// A ggml tensor type unknown to (or removed from) the bundled ggml.
    #[error("tensor '{tensor}' in model file {} has unknown ggml type {ggml_type} at offset {offset}; the file is corrupt or needs a newer llama.cpp", .path.display())]
    UnknownTensorType {
        /// The file.
        path: PathBuf,
        /// The tensor.
        tensor: String,
        /// Where the type is stored.
        offset: u64,
        /// The type id found.
        ggml_type: u32,
    },
    /// A row length that is not a multiple of the type's block size.
    #[error("tensor '{tensor}' in model file {} (tensor info at offset {offset}) has rows of {row_len} elements, not a multiple of the {type_name} block size {block_size}; the file is corrupt, download it again", .path.display())]
    BlockSizeMismatch {
        /// The file.
        path: PathBuf,
        /// The tensor.
        tensor: String,
        /// Where the tensor info starts.
        offset: u64,
        /// The ggml type.
        type_name: &'static str,
        /// Elements per row (first dimension).
        row_len: u64,
        /// Elements per block of the type.
        block_size: u64,
    },
    /// A tensor whose element count or byte size overflows.
    #[error("tensor '{tensor}' in model file {} (tensor info at offset {offset}) has shape {shape:?}, too large to address; the file is corrupt, download it again", .path.display())]
    TensorTooLarge {
        /// The file.
        path: PathBuf,
        /// The tensor.
        tensor: String,
        /// Where the tensor info starts.
        offset: u64,
        /// Its dimensions.
        shape: Vec<u64>,
    },
    /// A tensor data offset that is not a multiple of the alignment.
    #[error("tensor '{tensor}' in model file {} has data offset {data_offset}, not a multiple of the alignment {alignment}; the file is corrupt, download it again", .path.display())]
    MisalignedTensor {
        /// The file.
        path: PathBuf,
        /// The tensor.
        tensor: String,
        /// Its offset within the data section.
        data_offset: u64,
        /// The file's alignment.
        alignment: u32,
    },
    /// A tensor whose data lies past the end of the file at an offset that
    /// does not follow the previous tensor (so not a mere truncation).
    #[error("tensor '{tensor}' in model file {} lies outside the file: its data would end at byte {end} but the file has {file_size} bytes; the file is corrupt, download it again", .path.display())]
    TensorOutOfBounds {
        /// The file.
        path: PathBuf,
        /// The tensor.
        tensor: String,
        /// Where its data would end (absolute; saturated on overflow).
        end: u64,
        /// The file size.
        file_size: u64,
    },
    /// Tensor data not packed in order: llama.cpp requires each tensor to
    /// start where the previous one ends, rounded up to the alignment.
    #[error("tensor '{tensor}' in model file {} has data offset {data_offset}, expected {expected} (tensors must follow each other in order); the file is corrupt, download it again", .path.display())]
    UnexpectedTensorOffset {
        /// The file.
        path: PathBuf,
        /// The tensor.
        tensor: String,
        /// Its offset within the data section.
        data_offset: u64,
        /// Where it should start.
        expected: u64,
    },
}

//! GGUF header validation: a tiny GGUF writer builds a valid file, then a
//! table of corruptions must each give its specific error, never a panic.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};

use gemma_desk_engine::{GgufError, GgufInfo, inspect};

// ---------------------------------------------------------------- writer --

/// A metadata value, written with its GGUF type tag.
#[derive(Clone)]
enum Val {
    U8(u8),
    U32(u32),
    U64(u64),
    F32(f32),
    /// A bool byte, written as is (so it can be invalid).
    Bool(u8),
    Str(Vec<u8>),
    /// A string whose length field says `len` whatever the bytes.
    StrLen(u64, Vec<u8>),
    /// An array of `elem` typed items; `len` overrides the written length.
    Array {
        elem: u32,
        len: Option<u64>,
        items: Vec<Val>,
    },
    /// A raw type tag followed by raw bytes.
    Raw(u32, Vec<u8>),
}

fn s(text: &str) -> Val {
    Val::Str(text.as_bytes().to_vec())
}

fn arr(elem: u32, items: Vec<Val>) -> Val {
    Val::Array { elem, len: None, items }
}

impl Val {
    fn type_id(&self) -> u32 {
        match self {
            Val::U8(_) => 0,
            Val::U32(_) => 4,
            Val::U64(_) => 10,
            Val::F32(_) => 6,
            Val::Bool(_) => 7,
            Val::Str(_) | Val::StrLen(..) => 8,
            Val::Array { .. } => 9,
            Val::Raw(t, _) => *t,
        }
    }

    fn payload(&self, out: &mut Vec<u8>) {
        match self {
            Val::U8(v) => out.push(*v),
            Val::U32(v) => out.extend(v.to_le_bytes()),
            Val::U64(v) => out.extend(v.to_le_bytes()),
            Val::F32(v) => out.extend(v.to_le_bytes()),
            Val::Bool(v) => out.push(*v),
            Val::Str(b) => {
                out.extend((b.len() as u64).to_le_bytes());
                out.extend(b);
            }
            Val::StrLen(len, b) => {
                out.extend(len.to_le_bytes());
                out.extend(b);
            }
            Val::Array { elem, len, items } => {
                out.extend(elem.to_le_bytes());
                out.extend(len.unwrap_or(items.len() as u64).to_le_bytes());
                for item in items {
                    item.payload(out);
                }
            }
            Val::Raw(_, b) => out.extend(b),
        }
    }
}

#[derive(Clone)]
struct Kv {
    key: Vec<u8>,
    /// Overrides the written key length.
    key_len: Option<u64>,
    val: Val,
}

#[derive(Clone)]
struct Tensor {
    name: Vec<u8>,
    dims: Vec<u64>,
    ggml_type: u32,
    /// Overrides the data offset the writer computes.
    offset: Option<u64>,
    /// Bytes of data written.
    bytes: u64,
}

/// Bytes of a tensor for the few types the tests write.
fn tensor(name: &str, dims: &[u64], ggml_type: u32) -> Tensor {
    let n: u64 = dims.iter().product();
    let bytes = match ggml_type {
        0 => n * 4,          // F32
        1 | 30 => n * 2,     // F16, BF16
        8 => n / 32 * 34,    // Q8_0
        12 => n / 256 * 144, // Q4_K
        14 => n / 256 * 210, // Q6_K
        _ => 0,
    };
    Tensor { name: name.as_bytes().to_vec(), dims: dims.to_vec(), ggml_type, offset: None, bytes }
}

#[derive(Clone)]
struct Gguf {
    magic: [u8; 4],
    version: [u8; 4],
    tensor_count: Option<u64>,
    kv_count: Option<u64>,
    kvs: Vec<Kv>,
    tensors: Vec<Tensor>,
    /// The alignment the writer pads to (general.alignment is a separate kv).
    alignment: u64,
}

/// A written file and where its sections start.
struct Built {
    bytes: Vec<u8>,
    kv_start: usize,
    infos_start: usize,
    data_start: usize,
}

impl Gguf {
    fn set(&mut self, key: &str, val: Val) -> &mut Self {
        self.kvs.retain(|kv| kv.key != key.as_bytes());
        self.kvs.push(Kv { key: key.as_bytes().to_vec(), key_len: None, val });
        self
    }

    fn remove(&mut self, key: &str) -> &mut Self {
        self.kvs.retain(|kv| kv.key != key.as_bytes());
        self
    }

    fn build(&self) -> Built {
        let mut out = Vec::new();
        out.extend(self.magic);
        out.extend(self.version);
        out.extend(self.tensor_count.unwrap_or(self.tensors.len() as u64).to_le_bytes());
        out.extend(self.kv_count.unwrap_or(self.kvs.len() as u64).to_le_bytes());
        let kv_start = out.len();
        for kv in &self.kvs {
            out.extend(kv.key_len.unwrap_or(kv.key.len() as u64).to_le_bytes());
            out.extend(&kv.key);
            out.extend(kv.val.type_id().to_le_bytes());
            kv.val.payload(&mut out);
        }
        let infos_start = out.len();
        let pad = |n: u64| n.div_ceil(self.alignment) * self.alignment;
        let mut next = 0;
        for t in &self.tensors {
            out.extend((t.name.len() as u64).to_le_bytes());
            out.extend(&t.name);
            out.extend((t.dims.len() as u32).to_le_bytes());
            for d in &t.dims {
                out.extend(d.to_le_bytes());
            }
            out.extend(t.ggml_type.to_le_bytes());
            out.extend(t.offset.unwrap_or(next).to_le_bytes());
            next = pad(next + t.bytes);
        }
        out.resize(pad(out.len() as u64) as usize, 0);
        let data_start = out.len();
        // Tensor data, each padded to the alignment except the last one, so
        // that cutting a single byte cuts tensor data.
        for (i, t) in self.tensors.iter().enumerate() {
            out.extend((0..t.bytes).map(|b| (b as u8).wrapping_mul(31).wrapping_add(i as u8)));
            if i + 1 < self.tensors.len() {
                out.resize(data_start + pad((out.len() - data_start) as u64) as usize, 0);
            }
        }
        Built { bytes: out, kv_start, infos_start, data_start }
    }
}

/// A small valid Gemma 3 file: a few metadata keys, a Q8_0 and two F32 tensors.
fn valid() -> Gguf {
    let mut g = Gguf {
        magic: *b"GGUF",
        version: 3u32.to_le_bytes(),
        tensor_count: None,
        kv_count: None,
        kvs: Vec::new(),
        tensors: vec![
            tensor("token_embd.weight", &[64, 4], 8), // 272 bytes, padded to 288
            tensor("blk.0.attn_norm.weight", &[64], 0),
            tensor("output_norm.weight", &[64], 0),
        ],
        alignment: 32,
    };
    g.set("general.architecture", s("gemma3"))
        .set("general.name", s("tiny test"))
        .set("general.file_type", Val::U32(7))
        .set("gemma3.context_length", Val::U32(2048))
        .set("gemma3.embedding_length", Val::U32(64))
        .set("gemma3.block_count", Val::U32(1))
        .set("gemma3.attention.layer_norm_rms_epsilon", Val::F32(1e-6))
        .set("tokenizer.ggml.model", s("llama"))
        .set("tokenizer.ggml.tokens", arr(8, vec![s("<pad>"), s("<eos>"), s("a"), s("b")]))
        .set("tokenizer.ggml.scores", arr(6, vec![Val::F32(0.0); 4]))
        .set("tokenizer.ggml.token_type", arr(5, vec![Val::U32(3), Val::U32(3), Val::U32(1), Val::U32(1)]))
        .set("tokenizer.ggml.add_bos_token", Val::Bool(1))
        .set("tokenizer.chat_template", s("{% for m in messages %}{{ m.content }}{% endfor %}"));
    g
}

fn write(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, bytes).unwrap();
    path
}

fn patch(mut bytes: Vec<u8>, at: usize, with: &[u8]) -> Vec<u8> {
    bytes[at..at + with.len()].copy_from_slice(with);
    bytes
}

/// Deterministic pseudo-random numbers (xorshift64*).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

// ----------------------------------------------------------------- tests --

#[test]
fn valid_file_is_accepted_with_its_info() {
    let dir = tempfile::tempdir().unwrap();
    let built = valid().build();
    let path = write(dir.path(), "tiny.gguf", &built.bytes);
    let info: GgufInfo = inspect(&path).unwrap();
    assert_eq!(info.path, path);
    assert_eq!(info.version, 3);
    assert_eq!(info.architecture, "gemma3");
    assert_eq!(info.name.as_deref(), Some("tiny test"));
    assert_eq!(info.file_size, built.bytes.len() as u64);
    assert_eq!(info.tensor_count, 3);
    assert_eq!(info.metadata_count, 13);
    assert_eq!(info.context_length, Some(2048));
    assert_eq!(info.embedding_length, Some(64));
    assert_eq!(info.block_count, Some(1));
    assert_eq!(info.chat_template.as_deref(), Some("{% for m in messages %}{{ m.content }}{% endfor %}"));
    assert_eq!(info.file_type, Some(7));
    assert_eq!(info.quantization.as_deref(), Some("Q8_0"));
    assert!(!info.is_projector && !info.has_vision_encoder && !info.has_audio_encoder);
    let json = serde_json::to_value(&info).unwrap();
    assert_eq!(json["architecture"], "gemma3");
    assert_eq!(json["quantization"], "Q8_0");
}

#[test]
fn a_projector_says_its_kind_and_image_size() {
    let dir = tempfile::tempdir().unwrap();
    let mut projector = valid();
    projector
        .set("general.architecture", s("clip"))
        .set("clip.has_vision_encoder", Val::Bool(1))
        .set("clip.projector_type", s("gemma4v"))
        .set("clip.vision.image_size", Val::U32(768));
    let path = write(dir.path(), "mmproj.gguf", &projector.build().bytes);
    let info = inspect(&path).unwrap();
    assert!(info.is_projector && info.has_vision_encoder);
    // The engine sizes Gemma 4's images by its token budget only when it knows the kind.
    assert_eq!((info.projector_type.as_deref(), info.image_size), (Some("gemma4v"), Some(768)));
}

#[test]
fn valid_variants_are_accepted() {
    type Variant = (&'static str, fn(&mut Gguf), fn(&GgufInfo) -> bool);
    let variants: Vec<Variant> = vec![
        ("version 2", |g| g.version = 2u32.to_le_bytes(), |i| i.version == 2),
        (
            "alignment 64",
            |g| {
                g.alignment = 64;
                g.set("general.alignment", Val::U32(64));
            },
            |i| i.tensor_count == 3,
        ),
        (
            "alignment 1",
            |g| {
                g.alignment = 1;
                g.set("general.alignment", Val::U32(1));
            },
            |i| i.tensor_count == 3,
        ),
        ("no tensors (vocab only)", |g| g.tensors.clear(), |i| i.tensor_count == 0),
        (
            "nested arrays within the limit",
            |g| {
                let inner = arr(9, vec![arr(0, vec![Val::U8(1), Val::U8(2)]), arr(8, vec![s("x")])]);
                g.set("test.nested", arr(9, vec![inner.clone(), inner]));
            },
            |i| i.metadata_count == 14,
        ),
        (
            "empty arrays",
            |g| {
                g.set("test.empty", arr(8, vec![]));
            },
            |i| i.metadata_count == 14,
        ),
        (
            "no file type: quantization from the matrices",
            |g| {
                g.remove("general.file_type");
            },
            |i| i.file_type.is_none() && i.quantization.as_deref() == Some("Q8_0"),
        ),
        (
            "k-quants and half floats",
            |g| {
                g.tensors = vec![
                    tensor("a", &[256, 2], 12),
                    tensor("b", &[512], 14),
                    tensor("c", &[3, 5], 1),
                    tensor("d", &[7, 1, 1, 2], 30),
                ];
                g.set("general.file_type", Val::U32(15));
            },
            |i| i.quantization.as_deref() == Some("Q4_K_M") && i.tensor_count == 4,
        ),
        (
            "u64 metadata numbers",
            |g| {
                g.set("gemma3.context_length", Val::U64(131072));
            },
            |i| i.context_length == Some(131072),
        ),
        (
            "no name, no template",
            |g| {
                g.remove("general.name").remove("tokenizer.chat_template");
            },
            |i| i.name.is_none() && i.chat_template.is_none(),
        ),
        (
            "other architecture",
            |g| {
                g.set("general.architecture", s("qwen3"));
            },
            |i| i.architecture == "qwen3" && i.context_length.is_none(),
        ),
        (
            "vision projector",
            |g| {
                g.kvs.clear();
                g.set("general.architecture", s("clip"))
                    .set("general.file_type", Val::U32(1))
                    .set("clip.has_vision_encoder", Val::Bool(1))
                    .set("clip.has_audio_encoder", Val::Bool(0));
            },
            |i| {
                i.is_projector
                    && i.has_vision_encoder
                    && !i.has_audio_encoder
                    && i.quantization.as_deref() == Some("F16")
            },
        ),
        ("trailing padding after the data", |_| {}, |i| i.tensor_count == 3),
    ];
    let dir = tempfile::tempdir().unwrap();
    for (name, change, check) in variants {
        let mut g = valid();
        change(&mut g);
        let mut bytes = g.build().bytes;
        if name.starts_with("trailing") {
            bytes.extend([0; 19]);
        }
        let path = write(dir.path(), "variant.gguf", &bytes);
        match inspect(&path) {
            Ok(info) => assert!(check(&info), "{name}: unexpected info {info:?}"),
            Err(e) => panic!("{name}: refused: {e}"),
        }
    }
}

/// How a corrupted case is made.
enum Make {
    /// Change the file's description, then write it.
    Spec(fn(&mut Gguf)),
    /// Change the written bytes of the valid file.
    Bytes(fn(Built) -> Vec<u8>),
    /// Cut the valid file to this many bytes.
    Cut(fn(&Built) -> usize),
    /// Make some path in the given folder.
    Path(fn(&Path) -> PathBuf),
}

/// A named corruption and the error it must give.
type Mutation = (&'static str, Make, fn(&GgufError) -> bool);

fn mutations() -> Vec<Mutation> {
    use GgufError as E;
    use Make::{Bytes, Cut, Path as P, Spec};
    vec![
        ("wrong magic", Bytes(|b| patch(b.bytes, 0, b"GGUX")), |e| matches!(e, E::BadMagic { .. })),
        ("version 0", Bytes(|b| patch(b.bytes, 4, &0u32.to_le_bytes())), |e| {
            matches!(e, E::UnsupportedVersion { version: 0, .. })
        }),
        ("version 1", Bytes(|b| patch(b.bytes, 4, &1u32.to_le_bytes())), |e| matches!(e, E::ObsoleteVersion { .. })),
        ("version 99", Bytes(|b| patch(b.bytes, 4, &99u32.to_le_bytes())), |e| {
            matches!(e, E::UnsupportedVersion { version: 99, .. })
        }),
        ("big-endian", Bytes(|b| patch(b.bytes, 4, &3u32.to_be_bytes())), |e| matches!(e, E::BigEndian { .. })),
        ("big-endian v2", Bytes(|b| patch(b.bytes, 4, &2u32.to_be_bytes())), |e| matches!(e, E::BigEndian { .. })),
        ("tensor count absurd", Spec(|g| g.tensor_count = Some(u64::MAX)), |e| matches!(e, E::TooManyTensors { .. })),
        ("tensor count just over the limit", Spec(|g| g.tensor_count = Some(1_000_001)), |e| {
            matches!(e, E::TooManyTensors { count: 1_000_001, .. })
        }),
        ("kv count absurd", Spec(|g| g.kv_count = Some(1 << 40)), |e| matches!(e, E::TooManyMetadata { .. })),
        ("counts larger than the file", Spec(|g| g.kv_count = Some(500_000)), |e| matches!(e, E::Truncated { .. })),
        ("truncated in the header", Cut(|_| 13), |e| matches!(e, E::Truncated { expected: 24, found: 13, .. })),
        ("truncated in metadata", Cut(|b| b.kv_start + 30), |e| matches!(e, E::Truncated { .. })),
        ("truncated in tensor infos", Cut(|b| b.infos_start + 10), |e| matches!(e, E::Truncated { .. })),
        ("truncated at the data start", Cut(|b| b.data_start), |e| matches!(e, E::Truncated { .. })),
        (
            "truncated tensor data (1 byte short)",
            Cut(|b| b.bytes.len() - 1),
            |e| matches!(e, E::Truncated { expected, found, .. } if *expected == found + 1),
        ),
        ("key length huge", Spec(|g| g.kvs[1].key_len = Some(1 << 20)), |e| {
            matches!(e, E::KeyTooLong { len: 1_048_576, .. })
        }),
        ("key length beyond the file", Spec(|g| g.kvs[1].key_len = Some(60_000)), |e| matches!(e, E::Truncated { .. })),
        ("empty key", Spec(|g| g.kvs[1].key.clear()), |e| matches!(e, E::InvalidKey { .. })),
        ("key not UTF-8", Spec(|g| g.kvs[1].key = b"general.\xff\xfe".to_vec()), |e| matches!(e, E::InvalidKey { .. })),
        (
            "duplicate key",
            Spec(|g| {
                let first = g.kvs[3].clone();
                g.kvs.push(first);
            }),
            |e| matches!(e, E::DuplicateKey { key, .. } if key == "gemma3.context_length"),
        ),
        (
            "string length huge",
            Spec(|g| {
                g.set("general.name", Val::StrLen(u64::MAX / 2, b"tiny".to_vec()));
            }),
            |e| matches!(e, E::StringTooLong { key, .. } if key == "general.name"),
        ),
        (
            "string length beyond the file",
            Spec(|g| {
                g.set("general.name", Val::StrLen(1 << 20, b"tiny".to_vec()));
            }),
            |e| matches!(e, E::Truncated { .. }),
        ),
        (
            "string in array huge",
            Spec(|g| {
                g.set("tokenizer.ggml.tokens", arr(8, vec![s("a"), Val::StrLen(1 << 40, vec![])]));
            }),
            |e| matches!(e, E::StringTooLong { key, .. } if key == "tokenizer.ggml.tokens"),
        ),
        (
            "unknown value type",
            Spec(|g| {
                g.set("general.something", Val::Raw(13, vec![0; 8]));
            }),
            |e| matches!(e, E::UnknownValueType { value_type: 13, .. }),
        ),
        (
            "unknown array element type",
            Spec(|g| {
                g.set("tokenizer.ggml.scores", Val::Array { elem: 200, len: None, items: vec![Val::U8(0)] });
            }),
            |e| matches!(e, E::UnknownValueType { value_type: 200, .. }),
        ),
        (
            "bool value 7",
            Spec(|g| {
                g.set("tokenizer.ggml.add_bos_token", Val::Bool(7));
            }),
            |e| matches!(e, E::InvalidBool { value: 7, .. }),
        ),
        (
            "bool array with a 2",
            Spec(|g| {
                g.set("test.flags", arr(7, vec![Val::Bool(1), Val::Bool(0), Val::Bool(2)]));
            }),
            |e| matches!(e, E::InvalidBool { value: 2, .. }),
        ),
        (
            "array of absurd length",
            Spec(|g| {
                g.set("tokenizer.ggml.scores", Val::Array { elem: 6, len: Some(1 << 40), items: vec![] });
            }),
            |e| matches!(e, E::ArrayTooLong { len: 1_099_511_627_776, .. }),
        ),
        (
            "array longer than the file",
            Spec(|g| {
                g.set("tokenizer.ggml.scores", Val::Array { elem: 6, len: Some(1 << 20), items: vec![] });
            }),
            |e| matches!(e, E::Truncated { .. }),
        ),
        (
            "nested arrays too deep",
            Spec(|g| {
                let deep = arr(9, vec![arr(9, vec![arr(9, vec![arr(0, vec![Val::U8(1)])])])]);
                g.set("test.deep", deep);
            }),
            |e| matches!(e, E::ArrayTooDeep { max_depth: 3, .. }),
        ),
        (
            "unknown architecture",
            Spec(|g| {
                g.set("general.architecture", s("gpt-17"));
            }),
            |e| matches!(e, E::UnknownArchitecture { architecture, .. } if architecture == "gpt-17"),
        ),
        (
            "mistral is not a llama.cpp architecture",
            Spec(|g| {
                g.set("general.architecture", s("mistral"));
            }),
            |e| matches!(e, E::UnknownArchitecture { .. }),
        ),
        (
            "missing architecture",
            Spec(|g| {
                g.remove("general.architecture");
            }),
            |e| matches!(e, E::MissingArchitecture { .. }),
        ),
        (
            "architecture not a string",
            Spec(|g| {
                g.set("general.architecture", Val::U32(3));
            }),
            |e| matches!(e, E::WrongMetadataType { key, found: "u32", .. } if key == "general.architecture"),
        ),
        (
            "architecture an array",
            Spec(|g| {
                g.set("general.architecture", arr(8, vec![s("gemma3")]));
            }),
            |e| matches!(e, E::WrongMetadataType { found: "array", .. }),
        ),
        (
            "alignment not u32",
            Spec(|g| {
                g.set("general.alignment", Val::U64(32));
            }),
            |e| matches!(e, E::WrongMetadataType { key, .. } if key == "general.alignment"),
        ),
        (
            "alignment not power of two",
            Spec(|g| {
                g.set("general.alignment", Val::U32(24));
            }),
            |e| matches!(e, E::InvalidAlignment { alignment: 24, .. }),
        ),
        (
            "alignment 0",
            Spec(|g| {
                g.set("general.alignment", Val::U32(0));
            }),
            |e| matches!(e, E::InvalidAlignment { alignment: 0, .. }),
        ),
        ("tensor with 0 dims", Spec(|g| g.tensors[1].dims.clear()), |e| {
            matches!(e, E::InvalidDimensionCount { n_dims: 0, .. })
        }),
        ("tensor with 5 dims", Spec(|g| g.tensors[1].dims = vec![64, 1, 1, 1, 1]), |e| {
            matches!(e, E::InvalidDimensionCount { n_dims: 5, .. })
        }),
        ("tensor with a zero-size dim", Spec(|g| g.tensors[0].dims = vec![64, 0]), |e| {
            matches!(e, E::InvalidDimension { dim: 1, value: 0, .. })
        }),
        ("tensor with a negative dim", Spec(|g| g.tensors[0].dims = vec![64, u64::MAX]), |e| {
            matches!(e, E::InvalidDimension { dim: 1, .. })
        }),
        ("unknown ggml type", Spec(|g| g.tensors[1].ggml_type = 99), |e| {
            matches!(e, E::UnknownTensorType { ggml_type: 99, .. })
        }),
        ("removed ggml type (Q4_2)", Spec(|g| g.tensors[1].ggml_type = 4), |e| {
            matches!(e, E::UnknownTensorType { ggml_type: 4, .. })
        }),
        ("row not a multiple of the block size", Spec(|g| g.tensors[0].dims = vec![48, 4]), |e| {
            matches!(e, E::BlockSizeMismatch { row_len: 48, block_size: 32, .. })
        }),
        ("tensor too large", Spec(|g| g.tensors[1].dims = vec![1 << 40, 1 << 40]), |e| {
            matches!(e, E::TensorTooLarge { .. })
        }),
        ("tensor name too long", Spec(|g| g.tensors[1].name = vec![b'x'; 100]), |e| {
            matches!(e, E::InvalidTensorName { index: 1, .. })
        }),
        ("tensor name not UTF-8", Spec(|g| g.tensors[1].name = b"blk.\xc0.x".to_vec()), |e| {
            matches!(e, E::InvalidTensorName { index: 1, .. })
        }),
        (
            "duplicate tensor names",
            Spec(|g| g.tensors[2].name = g.tensors[1].name.clone()),
            |e| matches!(e, E::DuplicateTensorName { name, .. } if name == "blk.0.attn_norm.weight"),
        ),
        ("tensor offset misaligned", Spec(|g| g.tensors[1].offset = Some(289)), |e| {
            matches!(e, E::MisalignedTensor { data_offset: 289, alignment: 32, .. })
        }),
        (
            "tensor beyond end of file",
            Spec(|g| g.tensors[2].offset = Some(1 << 20)),
            |e| matches!(e, E::TensorOutOfBounds { tensor, .. } if tensor == "output_norm.weight"),
        ),
        ("tensor offset overflowing", Spec(|g| g.tensors[2].offset = Some(u64::MAX - 31)), |e| {
            matches!(e, E::TensorOutOfBounds { end: u64::MAX, .. })
        }),
        ("tensors overlapping", Spec(|g| g.tensors[2].offset = Some(288)), |e| {
            matches!(e, E::UnexpectedTensorOffset { data_offset: 288, expected: 544, .. })
        }),
        ("empty file", Bytes(|_| Vec::new()), |e| matches!(e, E::Empty { .. })),
        ("two bytes of a GGUF", Bytes(|_| b"GG".to_vec()), |e| matches!(e, E::Truncated { .. })),
        ("header only", Cut(|_| 24), |e| matches!(e, E::Truncated { .. })),
        (
            "a directory",
            P(|dir| {
                let sub = dir.join("model.gguf.d");
                std::fs::create_dir(&sub).unwrap();
                sub
            }),
            |e| matches!(e, E::NotAFile { .. }),
        ),
        ("a missing path", P(|dir| dir.join("gone.gguf")), |e| matches!(e, E::NotFound { .. })),
        (
            "a PNG file",
            Bytes(|_| {
                let mut png = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01\0\0\0\x01\x08\x06\0\0\0".to_vec();
                png.resize(67, 0);
                png
            }),
            |e| matches!(e, E::BadMagic { hint, .. } if hint.contains("PNG")),
        ),
        (
            "an HTML error page",
            Bytes(|_| b"<!DOCTYPE html><html><body>404</body></html>".to_vec()),
            |e| matches!(e, E::BadMagic { hint, .. } if hint.contains("web page")),
        ),
        (
            "random bytes",
            Bytes(|_| {
                let mut rng = Rng(0x5eed);
                (0..4096).map(|_| rng.next() as u8).collect()
            }),
            |e| matches!(e, E::BadMagic { .. }),
        ),
    ]
}

#[test]
fn each_mutation_gives_its_error() {
    let dir = tempfile::tempdir().unwrap();
    let mut failures = Vec::new();
    for (i, (name, make, expected)) in mutations().into_iter().enumerate() {
        let path = match make {
            Make::Spec(change) => {
                let mut g = valid();
                change(&mut g);
                write(dir.path(), &format!("case{i}.gguf"), &g.build().bytes)
            }
            Make::Cut(at) => {
                let built = valid().build();
                write(dir.path(), &format!("case{i}.gguf"), &built.bytes[..at(&built)])
            }
            Make::Bytes(change) => write(dir.path(), &format!("case{i}.gguf"), &change(valid().build())),
            Make::Path(make) => make(dir.path()),
        };
        match catch_unwind(|| inspect(&path)) {
            Err(_) => failures.push(format!("{name}: panicked")),
            Ok(Ok(info)) => failures.push(format!("{name}: accepted: {info:?}")),
            Ok(Err(e)) => {
                let message = e.to_string();
                let file = path.file_name().unwrap().to_str().unwrap();
                if !expected(&e) {
                    failures.push(format!("{name}: wrong error {e:?}"));
                } else if !message.contains(file) || !message.starts_with(|c: char| c.is_lowercase()) {
                    failures.push(format!("{name}: poor message: {message}"));
                }
                println!("{name:40} -> {message}");
            }
        }
    }
    assert!(failures.is_empty(), "{} mutation(s) failed:\n{}", failures.len(), failures.join("\n"));
}

/// Writes each damaged file under a new name: rewriting one file over and
/// over truncates it each time, which is slow on some file systems.
struct Files {
    dir: tempfile::TempDir,
    count: usize,
}

impl Files {
    fn new() -> Self {
        Files { dir: tempfile::tempdir().unwrap(), count: 0 }
    }

    /// `inspect` on these bytes must return (Ok or Err), never panic.
    fn inspect(&mut self, bytes: &[u8], what: &str) -> Result<GgufInfo, GgufError> {
        self.count += 1;
        let path = write(self.dir.path(), &format!("{}.gguf", self.count), bytes);
        match catch_unwind(AssertUnwindSafe(|| inspect(&path))) {
            Ok(result) => result,
            Err(_) => panic!("inspect panicked on {what}"),
        }
    }
}

#[test]
fn every_truncation_is_refused() {
    let mut files = Files::new();
    let bytes = valid().build().bytes;
    for len in 0..bytes.len() {
        let result = files.inspect(&bytes[..len], &format!("a cut at {len}"));
        assert!(result.is_err(), "a file cut at {len} of {} bytes was accepted", bytes.len());
    }
}

#[test]
fn damaged_bytes_never_panic() {
    let mut files = Files::new();
    let built = valid().build();
    // Every header byte, with a few patterns.
    for at in 0..built.data_start {
        for mask in [0x01, 0x80, 0xFF] {
            let mut bytes = built.bytes.clone();
            bytes[at] ^= mask;
            let _ = files.inspect(&bytes, &format!("byte {at} ^ {mask:#x}"));
        }
    }
    // Pseudo-random damage: a few bytes replaced, sometimes a cut too.
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    for round in 0..2000 {
        let mut bytes = built.bytes.clone();
        for _ in 0..1 + rng.below(4) {
            let at = rng.below(built.data_start);
            bytes[at] = rng.next() as u8;
        }
        if rng.below(4) == 0 {
            bytes.truncate(rng.below(bytes.len()));
        }
        let _ = files.inspect(&bytes, &format!("random round {round}"));
    }
    // Extreme values at every position (counts, lengths, dims and offsets
    // among them), including an aligned one that overflows offset + size.
    for at in 0..built.data_start - 8 {
        for value in [u64::MAX, u64::MAX << 8, 1 << 63, 1 << 32, 0xFFFF_FFFF] {
            let bytes = patch(built.bytes.clone(), at, &value.to_le_bytes());
            let _ = files.inspect(&bytes, &format!("{value:#x} at {at}"));
        }
    }
}

#[test]
fn the_real_gemma3_270m_model_is_described_correctly() {
    let path = crate::test_model();
    let info = inspect(&path).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(info.architecture, "gemma3");
    assert_eq!(info.embedding_length, Some(640));
    assert_eq!(info.chat_template, None);
    assert!(info.quantization.is_some());
    assert!(!info.is_projector);
    assert_eq!(info.quantization.as_deref(), Some("Q4_K_M"));
    assert_eq!(info.tensor_count, 236);
}

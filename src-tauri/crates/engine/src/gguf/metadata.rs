//! The metadata section: key/value pairs whose values are typed. Every value is checked (a bool
//! is 0 or 1, strings and arrays are bounded, arrays nest at most [`MAX_ARRAY_DEPTH`] deep); only
//! numbers, bools and the few strings the app reads are kept.

use std::collections::HashMap;

use super::GgufError;
use super::reader::Reader;

const MAX_KEY_LEN: u64 = 64 * 1024;
/// llama.cpp's `GGUF_MAX_STRING_LENGTH`.
const MAX_STRING_LEN: u64 = 1 << 30;
/// llama.cpp's `GGUF_MAX_ARRAY_ELEMENTS`.
const MAX_ARRAY_LEN: u64 = 1 << 30;
/// How deep arrays may nest (1: arrays of scalars only). The GGUF format
/// allows nesting, llama.cpp's own reader refuses any.
const MAX_ARRAY_DEPTH: u32 = 3;

/// A GGUF metadata value type (`gguf_type`), by the id stored in the file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum ValueType {
    U8 = 0,
    I8 = 1,
    U16 = 2,
    I16 = 3,
    U32 = 4,
    I32 = 5,
    F32 = 6,
    Bool = 7,
    String = 8,
    Array = 9,
    U64 = 10,
    I64 = 11,
    F64 = 12,
}

impl ValueType {
    const ALL: [ValueType; 13] = [
        Self::U8,
        Self::I8,
        Self::U16,
        Self::I16,
        Self::U32,
        Self::I32,
        Self::F32,
        Self::Bool,
        Self::String,
        Self::Array,
        Self::U64,
        Self::I64,
        Self::F64,
    ];

    /// The type stored as `id`, if GGUF has one.
    pub(super) fn from_id(id: u32) -> Option<Self> {
        Self::ALL.get(usize::try_from(id).ok()?).copied()
    }

    /// Bytes of a value of a fixed-size type; `None` for strings and arrays.
    pub(super) fn size(self) -> Option<u64> {
        match self {
            Self::U8 | Self::I8 | Self::Bool => Some(1),
            Self::U16 | Self::I16 => Some(2),
            Self::U32 | Self::I32 | Self::F32 => Some(4),
            Self::U64 | Self::I64 | Self::F64 => Some(8),
            Self::String | Self::Array => None,
        }
    }

    /// The name in error messages.
    pub(super) fn name(self) -> &'static str {
        match self {
            Self::U8 => "u8",
            Self::I8 => "i8",
            Self::U16 => "u16",
            Self::I16 => "i16",
            Self::U32 => "u32",
            Self::I32 => "i32",
            Self::F32 => "f32",
            Self::Bool => "bool",
            Self::String => "string",
            Self::Array => "array",
            Self::U64 => "u64",
            Self::I64 => "i64",
            Self::F64 => "f64",
        }
    }
}

/// A metadata value, as far as it is kept.
pub(super) enum Value {
    Unsigned(u64),
    Signed(i64),
    Bool(bool),
    Text(Vec<u8>),
    /// Floats, arrays and strings nobody asked for.
    Skipped,
}

/// A metadata value with its GGUF type.
pub(super) struct Entry {
    pub(super) vtype: ValueType,
    pub(super) value: Value,
}

impl Entry {
    pub(super) fn as_u64(&self) -> Option<u64> {
        match self.value {
            Value::Unsigned(v) => Some(v),
            Value::Signed(v) => u64::try_from(v).ok(),
            _ => None,
        }
    }

    pub(super) fn as_text(&self) -> Option<String> {
        match &self.value {
            Value::Text(b) => Some(String::from_utf8_lossy(b).into_owned()),
            _ => None,
        }
    }
}

/// Whether a string value under this key is kept rather than skipped.
fn keep_string(key: &str) -> bool {
    matches!(key, "general.architecture" | "general.name" | "tokenizer.chat_template" | "clip.projector_type")
}

impl Reader<'_> {
    /// The error for `key` holding a `found` where an `expected` belongs.
    pub(super) fn wrong_type(&self, key: &str, expected: &'static str, found: ValueType) -> GgufError {
        let (key, found) = (key.to_owned(), found.name());
        GgufError::WrongMetadataType { path: self.path(), key, expected, found }
    }

    /// Reads `count` key/value pairs.
    pub(super) fn metadata(&mut self, count: u64) -> Result<HashMap<String, Entry>, GgufError> {
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
            let type_offset = self.pos;
            let id = self.u32()?;
            let Some(vtype) = ValueType::from_id(id) else {
                return Err(self.unknown_type(&key, type_offset, id));
            };
            let value = self.value(&key, vtype, type_offset)?;
            meta.insert(key, Entry { vtype, value });
        }
        Ok(meta)
    }

    /// The error for `key`'s value (or its array's elements) having no GGUF type: `value_type`, at `offset`.
    fn unknown_type(&self, key: &str, offset: u64, value_type: u32) -> GgufError {
        let (path, key) = (self.path(), key.to_owned());
        GgufError::UnknownValueType { path, key, offset, value_type }
    }

    /// Reads (or skips) the value of `key`, of type `vtype`, whose type field was at `type_offset`.
    fn value(&mut self, key: &str, vtype: ValueType, type_offset: u64) -> Result<Value, GgufError> {
        Ok(match vtype {
            ValueType::U8 => Value::Unsigned(self.array::<1>()?[0].into()),
            ValueType::I8 => Value::Signed(i8::from_le_bytes(self.array()?).into()),
            ValueType::U16 => Value::Unsigned(u16::from_le_bytes(self.array()?).into()),
            ValueType::I16 => Value::Signed(i16::from_le_bytes(self.array()?).into()),
            ValueType::U32 => Value::Unsigned(self.u32()?.into()),
            ValueType::I32 => Value::Signed(i32::from_le_bytes(self.array()?).into()),
            ValueType::U64 => Value::Unsigned(self.u64()?),
            ValueType::I64 => Value::Signed(i64::from_le_bytes(self.array()?)),
            ValueType::F32 | ValueType::F64 => {
                self.skip(vtype.size().unwrap_or(0))?;
                Value::Skipped
            }
            ValueType::Bool => {
                let offset = self.pos;
                match self.array::<1>()?[0] {
                    b @ (0 | 1) => Value::Bool(b == 1),
                    value => {
                        let key = key.to_owned();
                        return Err(GgufError::InvalidBool { path: self.path(), key, offset, value });
                    }
                }
            }
            ValueType::String => {
                let len = self.string_len(key)?;
                if keep_string(key) {
                    Value::Text(self.bytes(len)?)
                } else {
                    self.skip(len)?;
                    Value::Skipped
                }
            }
            ValueType::Array => {
                self.array_value(key, 1, type_offset)?;
                Value::Skipped
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
        let elem_id = self.u32()?;
        let len_offset = self.pos;
        let len = self.u64()?;
        let Some(elem) = ValueType::from_id(elem_id) else {
            return Err(self.unknown_type(key, elem_offset, elem_id));
        };
        // A string is at least its length, an array its element type and length.
        let min_elem = match elem {
            ValueType::String => 8,
            ValueType::Array => 12,
            fixed => fixed.size().unwrap_or(0),
        };
        if len > MAX_ARRAY_LEN {
            let (path, key, max) = (self.path(), key.to_owned(), MAX_ARRAY_LEN);
            return Err(GgufError::ArrayTooLong { path, key, offset: len_offset, len, max });
        }
        self.ensure(len * min_elem)?; // at most 2^30 * 12: no overflow
        match elem {
            ValueType::String => {
                for _ in 0..len {
                    let n = self.string_len(key)?;
                    self.skip(n)?;
                }
            }
            ValueType::Array => {
                for _ in 0..len {
                    // Each element is itself an array: element type, length, items.
                    self.array_value(key, depth + 1, self.pos)?;
                }
            }
            ValueType::Bool => self.bools(key, len)?,
            _ => self.skip(len * min_elem)?,
        }
        Ok(())
    }

    /// Checks `len` bools of an array under `key`: each must be 0 or 1.
    fn bools(&mut self, key: &str, len: u64) -> Result<(), GgufError> {
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
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn value_types_have_the_ids_sizes_and_names_of_gguf() {
        assert_eq!(ValueType::from_id(0), Some(ValueType::U8));
        assert_eq!(ValueType::from_id(7), Some(ValueType::Bool));
        assert_eq!(ValueType::from_id(8), Some(ValueType::String));
        assert_eq!(ValueType::from_id(9), Some(ValueType::Array));
        assert_eq!(ValueType::from_id(12), Some(ValueType::F64));
        assert_eq!(ValueType::from_id(13), None);
        for (id, t) in ValueType::ALL.iter().enumerate() {
            assert_eq!(*t as usize, id, "ALL is in id order, so from_id indexes it");
        }
        assert_eq!(ValueType::U8.size(), Some(1));
        assert_eq!(ValueType::Bool.size(), Some(1));
        assert_eq!(ValueType::F32.size(), Some(4));
        assert_eq!(ValueType::F64.size(), Some(8));
        assert_eq!(ValueType::String.size(), None);
        assert_eq!(ValueType::Array.size(), None);
        assert_eq!(ValueType::String.name(), "string");
    }
}

//! The tensor infos and the data section they describe: names, shapes and ggml types are
//! checked, and every tensor's data must lie, aligned and in order, inside the file.

use std::collections::{HashMap, HashSet};

use super::GgufError;
use super::ggml_types::ggml_type;
use super::reader::Reader;

/// `GGML_MAX_NAME` (64) less the terminating NUL.
const MAX_TENSOR_NAME_LEN: u64 = 63;
/// `GGML_MAX_DIMS`.
const MAX_DIMS: u32 = 4;

/// A tensor info, once read.
pub(super) struct Tensor {
    name: String,
    data_offset: u64,
    bytes: u64,
    ggml_type: u32,
    n_dims: u32,
}

impl Reader<'_> {
    /// Reads `count` tensor infos: names unique, shapes whole blocks of a known ggml type.
    pub(super) fn tensor_infos(&mut self, count: u64) -> Result<Vec<Tensor>, GgufError> {
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
    pub(super) fn check_data(&self, tensors: &[Tensor], alignment: u32) -> Result<(), GgufError> {
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

/// The ggml type holding most bytes among the matrices (2+ dimensions).
pub(super) fn dominant_type(tensors: &[Tensor]) -> Option<&'static str> {
    let mut bytes: HashMap<u32, u64> = HashMap::new();
    for t in tensors.iter().filter(|t| t.n_dims >= 2) {
        *bytes.entry(t.ggml_type).or_default() += t.bytes;
    }
    let (id, _) = bytes.into_iter().max_by_key(|&(id, b)| (b, u32::MAX - id))?;
    ggml_type(id).map(|t| t.name)
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
}

//! The ggml tensor types a GGUF file may use, and the llama.cpp file types
//! (`general.file_type`) with their usual names.
//!
//! Ids, block sizes and type sizes are those of the ggml bundled with
//! llama-cpp-sys-2 0.1.161 (`ggml/include/ggml.h`, `type_traits` in
//! `ggml/src/ggml.c`, block structs in `ggml/src/ggml-common.h`). Ids 4, 5,
//! 31..=33 and 36..=38 were removed from ggml and are refused.

/// Layout of one ggml tensor type: `block_size` elements take `type_size` bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct GgmlType {
    /// The `ggml_type` enum value stored in the file.
    pub id: u32,
    /// The name llama.cpp prints, upper-case (`Q4_K`, `F16`).
    pub name: &'static str,
    /// Elements per block (1 for plain types, 32 or 256 for most quantizations).
    pub block_size: u64,
    /// Bytes per block.
    pub type_size: u64,
}

const fn t(id: u32, name: &'static str, block_size: u64, type_size: u64) -> GgmlType {
    GgmlType { id, name, block_size, type_size }
}

/// Every ggml type a GGUF tensor may have, by id.
pub(crate) const GGML_TYPES: &[GgmlType] = &[
    t(0, "F32", 1, 4),
    t(1, "F16", 1, 2),
    t(2, "Q4_0", 32, 18),
    t(3, "Q4_1", 32, 20),
    t(6, "Q5_0", 32, 22),
    t(7, "Q5_1", 32, 24),
    t(8, "Q8_0", 32, 34),
    t(9, "Q8_1", 32, 36),
    t(10, "Q2_K", 256, 84),
    t(11, "Q3_K", 256, 110),
    t(12, "Q4_K", 256, 144),
    t(13, "Q5_K", 256, 176),
    t(14, "Q6_K", 256, 210),
    t(15, "Q8_K", 256, 292),
    t(16, "IQ2_XXS", 256, 66),
    t(17, "IQ2_XS", 256, 74),
    t(18, "IQ3_XXS", 256, 98),
    t(19, "IQ1_S", 256, 50),
    t(20, "IQ4_NL", 32, 18),
    t(21, "IQ3_S", 256, 110),
    t(22, "IQ2_S", 256, 82),
    t(23, "IQ4_XS", 256, 136),
    t(24, "I8", 1, 1),
    t(25, "I16", 1, 2),
    t(26, "I32", 1, 4),
    t(27, "I64", 1, 8),
    t(28, "F64", 1, 8),
    t(29, "IQ1_M", 256, 56),
    t(30, "BF16", 1, 2),
    t(34, "TQ1_0", 256, 54),
    t(35, "TQ2_0", 256, 66),
    t(39, "MXFP4", 32, 17),
    t(40, "NVFP4", 64, 36),
    t(41, "Q1_0", 128, 18),
    t(42, "Q2_0", 64, 18),
];

/// The ggml type with this id, if ggml knows it.
pub(crate) fn ggml_type(id: u32) -> Option<&'static GgmlType> {
    GGML_TYPES.iter().find(|t| t.id == id)
}

impl GgmlType {
    /// Bytes taken by a tensor of this type with these dimensions, or `None`
    /// when a row is not a whole number of blocks or the size overflows
    /// (element counts must also fit in an `i64`, as ggml stores them).
    pub(crate) fn tensor_bytes(&self, dims: &[u64]) -> Option<u64> {
        let row = *dims.first()?;
        if row % self.block_size != 0 {
            return None;
        }
        let elements = dims.iter().try_fold(1u64, |acc, &d| acc.checked_mul(d))?;
        if elements > i64::MAX as u64 {
            return None;
        }
        (elements / self.block_size).checked_mul(self.type_size)
    }
}

/// The usual name of a llama.cpp file type (`general.file_type`, enum
/// `llama_ftype` in `llama.h`), e.g. 15 is "Q4_K_M".
pub(crate) fn file_type_name(file_type: u32) -> Option<&'static str> {
    Some(match file_type {
        0 => "F32",
        1 => "F16",
        2 => "Q4_0",
        3 => "Q4_1",
        7 => "Q8_0",
        8 => "Q5_0",
        9 => "Q5_1",
        10 => "Q2_K",
        11 => "Q3_K_S",
        12 => "Q3_K_M",
        13 => "Q3_K_L",
        14 => "Q4_K_S",
        15 => "Q4_K_M",
        16 => "Q5_K_S",
        17 => "Q5_K_M",
        18 => "Q6_K",
        19 => "IQ2_XXS",
        20 => "IQ2_XS",
        21 => "Q2_K_S",
        22 => "IQ3_XS",
        23 => "IQ3_XXS",
        24 => "IQ1_S",
        25 => "IQ4_NL",
        26 => "IQ3_S",
        27 => "IQ3_M",
        28 => "IQ2_S",
        29 => "IQ2_M",
        30 => "IQ4_XS",
        31 => "IQ1_M",
        32 => "BF16",
        36 => "TQ1_0",
        37 => "TQ2_0",
        38 => "MXFP4_MOE",
        39 => "NVFP4",
        40 => "Q1_0",
        41 => "Q2_0",
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_unique_and_sorted() {
        assert!(GGML_TYPES.windows(2).all(|w| w[0].id < w[1].id));
        for removed in [4, 5, 31, 32, 33, 36, 37, 38, 43] {
            assert!(ggml_type(removed).is_none(), "{removed}");
        }
    }

    #[test]
    fn sizes_match_ggml() {
        let size = |name: &str| {
            let t = GGML_TYPES.iter().find(|t| t.name == name).unwrap();
            (t.id, t.block_size, t.type_size)
        };
        assert_eq!(size("F32"), (0, 1, 4));
        assert_eq!(size("Q4_0"), (2, 32, 18));
        assert_eq!(size("Q8_0"), (8, 32, 34));
        assert_eq!(size("Q4_K"), (12, 256, 144));
        assert_eq!(size("Q6_K"), (14, 256, 210));
        assert_eq!(size("BF16"), (30, 1, 2));
        assert_eq!(size("MXFP4"), (39, 32, 17));
        // Every quantized block is smaller than its elements as f32.
        for t in GGML_TYPES {
            assert!(t.block_size >= 1 && t.type_size >= 1, "{}", t.name);
            assert!(t.type_size <= t.block_size * 8, "{}", t.name);
        }
    }

    #[test]
    fn tensor_bytes_checks_rows_and_overflow() {
        let q8 = ggml_type(8).unwrap();
        assert_eq!(q8.tensor_bytes(&[64, 3]), Some(2 * 3 * 34));
        assert_eq!(q8.tensor_bytes(&[33, 2]), None);
        let f32 = ggml_type(0).unwrap();
        assert_eq!(f32.tensor_bytes(&[5]), Some(20));
        assert_eq!(f32.tensor_bytes(&[u64::MAX / 2, 4]), None);
        assert_eq!(f32.tensor_bytes(&[1 << 62, 1]), None, "bytes overflow");
        assert_eq!(f32.tensor_bytes(&[]), None);
    }

    #[test]
    fn file_type_names() {
        assert_eq!(file_type_name(15), Some("Q4_K_M"));
        assert_eq!(file_type_name(7), Some("Q8_0"));
        assert_eq!(file_type_name(4), None);
        assert_eq!(file_type_name(1024), None);
    }
}

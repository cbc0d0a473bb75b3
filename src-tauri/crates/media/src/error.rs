//! Why an image was refused: one enum whose messages name the file and say what to do.

use std::fmt;

use crate::format::{Format, SUPPORTED};

/// Anything that keeps an image from reaching the model. Every message starts with the file's
/// name (or "the pasted image"), so it can be shown as it is.
#[derive(Debug, thiserror::Error)]
pub enum MediaError {
    /// The file holds no bytes at all.
    #[error("{name} is empty (0 bytes); was it saved completely?")]
    Empty {
        /// The file's name, or "the pasted image".
        name: String,
    },
    /// The file is larger than [`Limits::max_file_bytes`](crate::Limits::max_file_bytes); it was
    /// not read.
    #[error("{name} is too large a file: {} is more than the limit of {}; use a smaller copy", Bytes(*bytes), Bytes(*limit))]
    FileTooLarge {
        /// The file's name, or "the pasted image".
        name: String,
        /// Its size.
        bytes: u64,
        /// The limit it is over.
        limit: u64,
    },
    /// The content is no image format Gemma Desk knows (text, a PDF, random bytes), whatever the
    /// file's name says.
    #[error("{name} is not an image Gemma Desk can read; it reads {SUPPORTED} images")]
    NotAnImage {
        /// The file's name, or "the pasted image".
        name: String,
    },
    /// The content is an image in a format other than the five this crate decodes.
    #[error("{name} is an image in {format} format, which Gemma Desk cannot read; convert it to {SUPPORTED}")]
    Unsupported {
        /// The file's name, or "the pasted image".
        name: String,
        /// What it is: `TIFF`, `HEIC`, `AVIF`, ...
        format: String,
    },
    /// The image is in a supported format but uses a feature of it the decoder lacks (a 12-bit or
    /// arithmetic-coded JPEG, for one).
    #[error(
        "{name} is a {format} image of a kind Gemma Desk cannot decode ({detail}); save it again as an ordinary PNG or JPEG"
    )]
    UnsupportedFeature {
        /// The file's name, or "the pasted image".
        name: String,
        /// Its format.
        format: Format,
        /// What the decoder said.
        detail: String,
    },
    /// The data ends before the image does: an interrupted download or copy.
    #[error("{name} is cut short: its {format} data ends before the image does; was it fully downloaded or copied?")]
    Truncated {
        /// The file's name, or "the pasted image".
        name: String,
        /// Its format.
        format: Format,
    },
    /// The data is invalid for its format.
    #[error("{name} is damaged: its {format} data is invalid ({detail}); try another copy of it")]
    Damaged {
        /// The file's name, or "the pasted image".
        name: String,
        /// Its format.
        format: Format,
        /// What the decoder said.
        detail: String,
    },
    /// The image has more pixels than [`Limits::max_pixels`](crate::Limits::max_pixels), seen from
    /// its header alone: nothing was decoded.
    #[error(
        "{name} is too large an image: {width}x{height} pixels ({}) is more than the limit of {}; scale it down and try again",
        Megapixels(u64::from(*width) * u64::from(*height)),
        Megapixels(*limit)
    )]
    TooManyPixels {
        /// The file's name, or "the pasted image".
        name: String,
        /// Its width, in pixels, as its header says.
        width: u32,
        /// Its height, in pixels, as its header says.
        height: u32,
        /// The most pixels allowed.
        limit: u64,
    },
    /// The decoder would have needed more memory than allowed (the pixels at the widest colour
    /// type, plus room for the decoder's own buffers).
    #[error("{name} would need more than {} of memory to decode; scale it down and try again", Bytes(*limit))]
    TooMuchMemory {
        /// The file's name, or "the pasted image".
        name: String,
        /// The memory allowed.
        limit: u64,
    },
    /// The file could not be opened or read.
    #[error("{name} could not be read: {source}; is it still there, and readable?")]
    Unreadable {
        /// The file's name.
        name: String,
        /// What the operating system said.
        source: std::io::Error,
    },
}

/// A size in bytes the way a person says it: `100 bytes`, `12.5 KiB`, `64 MiB`.
struct Bytes(u64);

impl fmt::Display for Bytes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        const KIB: u64 = 1024;
        const MIB: u64 = 1024 * KIB;
        const GIB: u64 = 1024 * MIB;
        let (unit, size) = match self.0 {
            bytes if bytes < KIB => return write!(f, "{bytes} bytes"),
            bytes if bytes < MIB => ("KiB", bytes as f64 / KIB as f64),
            bytes if bytes < GIB => ("MiB", bytes as f64 / MIB as f64),
            bytes => ("GiB", bytes as f64 / GIB as f64),
        };
        if size.fract() == 0.0 { write!(f, "{size} {unit}") } else { write!(f, "{size:.1} {unit}") }
    }
}

/// A pixel count the way a person says it: `67.1 megapixels`, or `5000 pixels` when small.
struct Megapixels(u64);

impl fmt::Display for Megapixels {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            pixels if pixels < 100_000 => write!(f, "{pixels} pixels"),
            pixels => write!(f, "{:.1} megapixels", pixels as f64 / 1e6),
        }
    }
}

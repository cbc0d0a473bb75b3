//! Images for the vision encoder: what a user drops on the window or pastes, turned into the RGB
//! pixels llama.cpp's mtmd takes, safely and fast.
//!
//! The image is decoded here, in Rust, not by llama.cpp (whose helper decodes files with
//! stb_image), so that:
//! - a file is judged by its content, not its name: PNG, JPEG, WebP, GIF (the first frame) and BMP
//!   are read whatever they are called, anything else is refused saying what it is;
//! - nothing is allocated for pixels before the file's size and the image's pixel count (from its
//!   header) are within [`Limits`], and the decoders' own allocations are bounded too: a 50 KB
//!   PNG of 20000x20000 pixels is refused in microseconds;
//! - every refusal is a [`MediaError`] that names the file and says what is wrong (empty, cut
//!   short, damaged, not an image, too large) in words a user can act on;
//! - the result is the right way up (EXIF orientation), 8-bit RGB whatever the source (16-bit,
//!   grayscale, CMYK; transparency composited over white);
//! - it is scaled down to the size the model uses ([`Target`]) with a SIMD Lanczos3 resizer, so a
//!   12 MP photo goes from file to encoder input in a fraction of a second.
//!
//! ```no_run
//! use std::path::Path;
//! use gemma_desk_media::{Limits, Target, decode_file, prepare};
//!
//! # fn example() -> Result<(), gemma_desk_media::MediaError> {
//! let photo = decode_file(Path::new("holiday.jpg"), &Limits::default())?;
//! println!("{} {}x{}", photo.format.media_type(), photo.width, photo.height);
//! let input = prepare(&photo, Target::LongestSide(896));
//! let (width, height) = input.dimensions();
//! let rgb: Vec<u8> = input.into_raw(); // width * height * 3 bytes, for MtmdBitmap::from_image_data
//! # let _ = (width, height, rgb);
//! # Ok(())
//! # }
//! ```
#![deny(missing_docs)]

pub use decode::{Decoded, Limits, decode_bytes, decode_file, decode_rgba};
pub use error::MediaError;
pub use format::Format;
pub use image::{RgbImage, RgbaImage};
pub use prepare::{Target, prepare};

mod decode;
mod error;
mod format;
mod jpeg;
mod prepare;

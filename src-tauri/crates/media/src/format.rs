//! The five formats decoded, and what to call the others: both told from the content alone.

use std::fmt;

use image::ImageFormat;

/// The formats Gemma Desk reads, as the messages list them.
pub(crate) const SUPPORTED: &str = "PNG, JPEG, WebP, GIF or BMP";

/// A format this crate decodes, as found in the file's first bytes (never its name).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Format {
    /// PNG, any bit depth and colour type (an APNG's default image).
    Png,
    /// JPEG (JFIF or Exif), grayscale, YCbCr or CMYK.
    Jpeg,
    /// WebP, lossy or lossless (an animation's first frame).
    WebP,
    /// GIF (an animation's first frame).
    Gif,
    /// Windows bitmap.
    Bmp,
}

impl Format {
    /// The media type an attachment of this format is stored with: `image/png`, ...
    pub fn media_type(self) -> &'static str {
        match self {
            Format::Png => "image/png",
            Format::Jpeg => "image/jpeg",
            Format::WebP => "image/webp",
            Format::Gif => "image/gif",
            Format::Bmp => "image/bmp",
        }
    }

    /// The format's usual name: `PNG`, `JPEG`, `WebP`, `GIF`, `BMP`.
    pub fn name(self) -> &'static str {
        match self {
            Format::Png => "PNG",
            Format::Jpeg => "JPEG",
            Format::WebP => "WebP",
            Format::Gif => "GIF",
            Format::Bmp => "BMP",
        }
    }

    /// The format of a file by its first bytes (never its name), if it is one of the five.
    pub fn sniff(bytes: &[u8]) -> Option<Format> {
        image::guess_format(bytes).ok().and_then(Format::from_image)
    }

    /// The format for one the `image` crate detected, if it is one of the five.
    pub(crate) fn from_image(format: ImageFormat) -> Option<Format> {
        match format {
            ImageFormat::Png => Some(Format::Png),
            ImageFormat::Jpeg => Some(Format::Jpeg),
            ImageFormat::WebP => Some(Format::WebP),
            ImageFormat::Gif => Some(Format::Gif),
            ImageFormat::Bmp => Some(Format::Bmp),
            _ => None,
        }
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The name of an image format that is not one of the five, when the content shows one: what the
/// `image` crate detected (`TIFF`, `AVIF`, ...), or a format it does not know that users meet
/// often (an iPhone's HEIC, JPEG XL). `None` when the bytes are no image anyone would recognise.
pub(crate) fn foreign_format(bytes: &[u8], detected: Option<ImageFormat>) -> Option<String> {
    if let Some(format) = detected {
        let name = format.extensions_str().first().map_or_else(|| format!("{format:?}"), |ext| ext.to_uppercase());
        return Some(name);
    }
    // ISO base media files (HEIF, AVIF, MP4) start with a box `ftyp` naming their brand.
    if let Some(brand) = bytes.get(8..12).filter(|_| bytes.get(4..8) == Some(b"ftyp")) {
        if [b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx"].iter().any(|heic| brand == *heic) {
            return Some("HEIC".to_owned());
        }
        if [b"mif1", b"msf1"].iter().any(|heif| brand == *heif) {
            return Some("HEIF".to_owned());
        }
    }
    if bytes.starts_with(&[0xFF, 0x0A]) || bytes.starts_with(b"\0\0\0\x0CJXL \r\n\x87\n") {
        return Some("JPEG XL".to_owned());
    }
    None
}

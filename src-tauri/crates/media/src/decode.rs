//! From a file, pasted bytes or a clipboard's pixels to 8-bit RGB: every check that can be made
//! from the header is made before a pixel is allocated.

use std::fmt;
use std::fs::File;
use std::io::{self, Cursor, Read};
use std::path::Path;

use image::codecs::png::{CompressionType, FilterType, PngEncoder};
use image::metadata::Orientation;
use image::{
    DynamicImage, ExtendedColorType, ImageDecoder, ImageEncoder, ImageError, ImageReader, RgbImage, RgbaImage,
};

use crate::error::MediaError;
use crate::format::{Format, foreign_format};
use crate::jpeg;

/// What bytes without a file name are called in messages.
pub(crate) const PASTED: &str = "the pasted image";

/// The bytes per pixel of the widest colour type the five formats decode to (16-bit RGBA).
const WIDEST_PIXEL: u64 = 8;
/// Memory allowed to a decoder beyond its pixels: row buffers, zlib windows, palettes, metadata.
const DECODER_HEADROOM: u64 = 64 << 20;

/// How large an image may be. Both limits are checked before anything is decoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// The largest file (or pasted data) read, in bytes. Default 64 MiB.
    pub max_file_bytes: u64,
    /// The most pixels (width times height) an image may have. Default 8192 x 8192, 67 MP: more
    /// than any camera's photo, far less than a decompression bomb's.
    pub max_pixels: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits { max_file_bytes: 64 << 20, max_pixels: 8192 * 8192 }
    }
}

impl Limits {
    /// The memory a decoder may take: the pixels at the widest colour type, plus headroom.
    fn max_alloc(&self) -> u64 {
        self.max_pixels.saturating_mul(WIDEST_PIXEL).saturating_add(DECODER_HEADROOM)
    }

    /// The same bounds for the `image` crate, which enforces them inside its decoders.
    fn for_image_crate(&self) -> image::Limits {
        // No side can be longer than the pixel budget allows with the other side one pixel.
        let side = u32::try_from(self.max_pixels).unwrap_or(u32::MAX);
        let mut limits = image::Limits::default();
        limits.max_image_width = Some(side);
        limits.max_image_height = Some(side);
        limits.max_alloc = Some(self.max_alloc());
        limits
    }
}

/// An image decoded to 8-bit RGB, the right way up.
#[derive(Clone)]
pub struct Decoded {
    /// The width in pixels, after the EXIF orientation was applied.
    pub width: u32,
    /// The height in pixels, after the EXIF orientation was applied.
    pub height: u32,
    /// The format the content was in (whatever the file's name said).
    pub format: Format,
    /// The pixels, row by row, three bytes each; transparency was composited over white.
    pub pixels: RgbImage,
}

/// Without the pixels: a log line must not carry 36 MB of a photo.
impl fmt::Debug for Decoded {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (width, height) = self.pixels.dimensions();
        f.debug_struct("Decoded")
            .field("width", &self.width)
            .field("height", &self.height)
            .field("format", &self.format)
            .field("pixels", &format_args!("{width}x{height} RGB"))
            .finish()
    }
}

impl Decoded {
    /// The pixels as a PNG file, for storing an image that came without one (a clipboard's
    /// pixels). Fails only if `pixels` was replaced by an empty image.
    pub fn to_png(&self) -> Result<Vec<u8>, ImageError> {
        let mut png = Vec::new();
        // Fast compression: a pasted screenshot is stored in milliseconds, a little larger.
        PngEncoder::new_with_quality(&mut png, CompressionType::Fast, FilterType::Adaptive).write_image(
            self.pixels.as_raw(),
            self.pixels.width(),
            self.pixels.height(),
            ExtendedColorType::Rgb8,
        )?;
        Ok(png)
    }
}

/// Reads and decodes the image file at `path`. Its format is found from its content; messages
/// call it by its file name.
pub fn decode_file(path: &Path, limits: &Limits) -> Result<Decoded, MediaError> {
    let name = path.file_name().unwrap_or(path.as_os_str()).to_string_lossy().into_owned();
    let bytes = read_file(path, &name, limits)?;
    decode(&name, &bytes, limits)
}

/// Decodes an image held in memory (dropped or pasted data). Messages call it `name`, or "the
/// pasted image" without one.
pub fn decode_bytes(name: Option<&str>, bytes: &[u8], limits: &Limits) -> Result<Decoded, MediaError> {
    let name = name.unwrap_or(PASTED);
    let size = bytes.len() as u64;
    if size > limits.max_file_bytes {
        return Err(MediaError::FileTooLarge { name: name.to_owned(), bytes: size, limit: limits.max_file_bytes });
    }
    decode(name, bytes, limits)
}

/// Takes a clipboard's pixels (RGBA, as clipboards give them) to RGB over white. The result's
/// format is [`Format::Png`], the format [`Decoded::to_png`] stores it in.
pub fn decode_rgba(name: Option<&str>, rgba: &RgbaImage, limits: &Limits) -> Result<Decoded, MediaError> {
    let name = name.unwrap_or(PASTED);
    let (width, height) = rgba.dimensions();
    if width == 0 || height == 0 {
        return Err(MediaError::Empty { name: name.to_owned() });
    }
    check_pixels(name, width, height, limits)?;
    let pixels = over_white(rgba);
    Ok(Decoded { width, height, format: Format::Png, pixels })
}

/// The file's bytes, refusing a file over the limit before reading it.
fn read_file(path: &Path, name: &str, limits: &Limits) -> Result<Vec<u8>, MediaError> {
    let unreadable = |source| MediaError::Unreadable { name: name.to_owned(), source };
    let too_large = |bytes| MediaError::FileTooLarge { name: name.to_owned(), bytes, limit: limits.max_file_bytes };
    let file = File::open(path).map_err(unreadable)?;
    let size = file.metadata().map_err(unreadable)?.len();
    if size > limits.max_file_bytes {
        return Err(too_large(size));
    }
    let mut bytes = Vec::with_capacity(usize::try_from(size).unwrap_or(0));
    // A file that grows while it is read is still cut off just past the limit.
    file.take(limits.max_file_bytes.saturating_add(1)).read_to_end(&mut bytes).map_err(unreadable)?;
    if bytes.len() as u64 > limits.max_file_bytes {
        return Err(too_large(bytes.len() as u64));
    }
    Ok(bytes)
}

/// Decodes `bytes`, called `name` in messages.
fn decode(name: &str, bytes: &[u8], limits: &Limits) -> Result<Decoded, MediaError> {
    let owned = || name.to_owned();
    if bytes.is_empty() {
        return Err(MediaError::Empty { name: owned() });
    }
    let mut reader = ImageReader::new(Cursor::new(bytes))
        .with_guessed_format()
        .map_err(|source| MediaError::Unreadable { name: owned(), source })?;
    let detected = reader.format();
    let Some(format) = detected.and_then(Format::from_image) else {
        return Err(match foreign_format(bytes, detected) {
            Some(format) => MediaError::Unsupported { name: owned(), format },
            None => MediaError::NotAnImage { name: owned() },
        });
    };
    if format == Format::Jpeg && jpeg::is_cut_short(bytes) {
        return Err(MediaError::Truncated { name: owned(), format });
    }
    let refused = |error| refusal(name, format, limits, error);

    reader.limits(limits.for_image_crate());
    let mut decoder = reader.into_decoder().map_err(refused)?;
    let (width, height) = decoder.dimensions();
    check_pixels(name, width, height, limits)?;
    if width == 0 || height == 0 {
        return Err(MediaError::Damaged { name: owned(), format, detail: format!("it is {width}x{height} pixels") });
    }
    // `into_decoder` leaves the pixel buffer to the caller (`ImageReader::decode` reserves it).
    if decoder.total_bytes() > limits.max_alloc() {
        return Err(MediaError::TooMuchMemory { name: owned(), limit: limits.max_alloc() });
    }
    // A damaged Exif block costs the orientation, not the photo.
    let orientation = decoder.orientation().unwrap_or(Orientation::NoTransforms);
    let mut image = DynamicImage::from_decoder(decoder).map_err(refused)?;
    image.apply_orientation(orientation);

    let pixels = if image.color().has_alpha() { over_white(&image.into_rgba8()) } else { image.into_rgb8() };
    Ok(Decoded { width: pixels.width(), height: pixels.height(), format, pixels })
}

/// Refuses an image of more pixels than the limit.
fn check_pixels(name: &str, width: u32, height: u32, limits: &Limits) -> Result<(), MediaError> {
    if u64::from(width) * u64::from(height) > limits.max_pixels {
        return Err(MediaError::TooManyPixels { name: name.to_owned(), width, height, limit: limits.max_pixels });
    }
    Ok(())
}

/// What an error of the `image` crate means for the user.
fn refusal(name: &str, format: Format, limits: &Limits, error: ImageError) -> MediaError {
    let name = name.to_owned();
    // The data is in memory: running out of it is the only way reading it can fail.
    if ends_early(&error) {
        return MediaError::Truncated { name, format };
    }
    match error {
        ImageError::Limits(_) => MediaError::TooMuchMemory { name, limit: limits.max_alloc() },
        ImageError::Unsupported(error) => MediaError::UnsupportedFeature { name, format, detail: error.to_string() },
        error => MediaError::Damaged { name, format, detail: error.to_string() },
    }
}

/// Whether the decoder ran out of data: an `UnexpectedEof`, as the error or anywhere in its chain.
fn ends_early(error: &ImageError) -> bool {
    let is_eof = |error: &io::Error| error.kind() == io::ErrorKind::UnexpectedEof;
    // `ImageError`'s source skips the I/O error it wraps.
    if let ImageError::IoError(error) = error {
        return is_eof(error);
    }
    let mut cause = std::error::Error::source(error);
    while let Some(error) = cause {
        if error.downcast_ref::<io::Error>().is_some_and(is_eof) {
            return true;
        }
        cause = error.source();
    }
    false
}

/// RGBA composited over white, the page a transparent image is usually shown on (dropping the
/// alpha instead would show what transparent pixels happen to hold, often black).
fn over_white(rgba: &RgbaImage) -> RgbImage {
    let (width, height) = rgba.dimensions();
    let mut rgb = Vec::with_capacity(rgba.as_raw().len() / 4 * 3);
    for pixel in rgba.as_raw().chunks_exact(4) {
        let alpha = u32::from(pixel[3]);
        let white = 255 * (255 - alpha);
        // Rounded: (c * a + 255 * (255 - a)) / 255.
        rgb.extend(pixel[..3].iter().map(|&channel| ((u32::from(channel) * alpha + white + 127) / 255) as u8));
    }
    RgbImage::from_raw(width, height, rgb).expect("three bytes for each of the image's pixels")
}

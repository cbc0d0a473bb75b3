//! Image files for tests, made on the spot: good ones, and the bad ones every path that takes an
//! image (the CLI, the app's commands, the engine) must refuse with a clear message.

use std::io::Cursor;
use std::path::{Path, PathBuf};

/// A PNG of `width`x`height` whose pixels `paint` chooses.
pub fn png(width: u32, height: u32, paint: impl Fn(u32, u32) -> [u8; 3]) -> Vec<u8> {
    let pixels = image::RgbImage::from_fn(width, height, |x, y| image::Rgb(paint(x, y)));
    let mut bytes = Vec::new();
    pixels.write_to(&mut Cursor::new(&mut bytes), image::ImageFormat::Png).expect("a PNG encodes");
    bytes
}

/// A JPEG of `width`x`height` whose pixels `paint` chooses.
pub fn jpeg(width: u32, height: u32, paint: impl Fn(u32, u32) -> [u8; 3]) -> Vec<u8> {
    let pixels = image::RgbImage::from_fn(width, height, |x, y| image::Rgb(paint(x, y)));
    let mut bytes = Vec::new();
    pixels.write_to(&mut Cursor::new(&mut bytes), image::ImageFormat::Jpeg).expect("a JPEG encodes");
    bytes
}

/// A 20000x20000 PNG of one-bit pixels, all zero: a few hundred kilobytes that would decode to
/// 1.2 GB of RGB (a decompression bomb).
pub fn png_bomb() -> Vec<u8> {
    let side = 20_000;
    let mut bytes = Vec::new();
    {
        let mut encoder = png::Encoder::new(&mut bytes, side, side);
        encoder.set_color(png::ColorType::Grayscale);
        encoder.set_depth(png::BitDepth::One);
        encoder.set_compression(png::Compression::Fast);
        let mut writer = encoder.write_header().expect("the header is written");
        let row = vec![0u8; side as usize / 8];
        let mut stream = writer.stream_writer().expect("a stream opens");
        for _ in 0..side {
            std::io::Write::write_all(&mut stream, &row).expect("rows are written");
        }
        stream.finish().expect("the stream ends");
    }
    bytes
}

/// A bad image file written in `dir`, and a word its refusal must contain.
pub struct BadImage {
    /// The file.
    pub path: PathBuf,
    /// What the message must say, besides the file's name.
    pub expected: &'static str,
}

/// Writes the bad images every image path must refuse: empty, cut short, not an image, a format
/// not supported, and a decompression bomb.
pub fn bad_images(dir: &Path) -> Vec<BadImage> {
    let good = png(64, 48, |x, y| [(x * 4) as u8, (y * 5) as u8, 128]);
    let files: [(&str, Vec<u8>, &str); 5] = [
        ("empty.png", Vec::new(), "empty"),
        ("cut-short.png", good[..good.len() / 2].to_vec(), "cut short"),
        ("notes.png", b"these are my notes, not a picture\n".repeat(20), "not an image"),
        ("scan.jpg", b"II*\0\x08\0\0\0\x01\0\0\x01\x03\0\x01\0\0\0\x10\0\0\0".repeat(4), "TIFF format"),
        ("bomb.png", png_bomb(), "too large an image"),
    ];
    files
        .into_iter()
        .map(|(name, bytes, expected)| {
            let path = dir.join(name);
            std::fs::write(&path, bytes).expect("the test image is written");
            BadImage { path, expected }
        })
        .collect()
}

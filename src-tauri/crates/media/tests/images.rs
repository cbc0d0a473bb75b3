//! What the crate promises, file by file: bad files refused with the right reason and the file's
//! name, good files decoded to the right pixels, and images scaled to the model's size. Every
//! fixture is made here, with the `image` crate's encoders and a little byte work.

use std::io::{Cursor, Write};
use std::path::PathBuf;
use std::time::{Duration, Instant};

use gemma_desk_media::{
    Decoded, Format, Limits, MediaError, RgbImage, RgbaImage, Target, decode_bytes, decode_file, decode_rgba, prepare,
};
use image::codecs::bmp::BmpEncoder;
use image::codecs::gif::GifEncoder;
use image::codecs::jpeg::JpegEncoder;
use image::codecs::webp::WebPEncoder;
use image::{DynamicImage, ExtendedColorType, Frame, GrayImage, ImageBuffer, ImageFormat, Rgb, Rgba};
use tempfile::TempDir;

// ---- fixtures ----

/// An image of deterministic noise, so that it compresses badly and its data is long enough to
/// cut in the middle of.
fn noise(width: u32, height: u32) -> RgbImage {
    let mut state = 0x2545_f491_u32;
    RgbImage::from_fn(width, height, |_, _| {
        let mut channel = || {
            state ^= state << 13;
            state ^= state >> 17;
            state ^= state << 5;
            state as u8
        };
        Rgb([channel(), channel(), channel()])
    })
}

fn png(image: impl Into<DynamicImage>) -> Vec<u8> {
    let mut bytes = Cursor::new(Vec::new());
    image.into().write_to(&mut bytes, ImageFormat::Png).expect("PNG encodes");
    bytes.into_inner()
}

fn jpeg(image: &RgbImage) -> Vec<u8> {
    let mut bytes = Vec::new();
    JpegEncoder::new_with_quality(&mut bytes, 95).encode_image(image).expect("JPEG encodes");
    bytes
}

/// A 1-bit grayscale PNG of `side` x `side` black pixels: `side * side / 8` bytes of rows that
/// compress to almost nothing, and `side * side` pixels once decoded.
fn png_bomb(side: u32) -> Vec<u8> {
    let mut bytes = Vec::new();
    let mut encoder = png::Encoder::new(&mut bytes, side, side);
    encoder.set_color(png::ColorType::Grayscale);
    encoder.set_depth(png::BitDepth::One);
    let mut writer = encoder.write_header().expect("PNG header");
    let mut rows = writer.stream_writer().expect("PNG stream");
    let row = vec![0_u8; side.div_ceil(8) as usize];
    for _ in 0..side {
        rows.write_all(&row).expect("PNG row");
    }
    rows.finish().expect("PNG end");
    drop(writer);
    bytes
}

/// `jpeg` with an APP1 Exif segment right after SOI: a big-endian TIFF header and one IFD
/// holding the one tag 0x0112 Orientation = `orientation`.
fn with_exif_orientation(jpeg: &[u8], orientation: u16) -> Vec<u8> {
    let mut tiff = b"MM\0\x2A\0\0\0\x08".to_vec();
    tiff.extend_from_slice(&1_u16.to_be_bytes()); // one entry
    tiff.extend_from_slice(&0x0112_u16.to_be_bytes()); // Orientation
    tiff.extend_from_slice(&3_u16.to_be_bytes()); // SHORT
    tiff.extend_from_slice(&1_u32.to_be_bytes()); // one value
    tiff.extend_from_slice(&orientation.to_be_bytes());
    tiff.extend_from_slice(&[0, 0]); // padding of the 4-byte value field
    tiff.extend_from_slice(&0_u32.to_be_bytes()); // no next IFD
    let mut app1 = b"Exif\0\0".to_vec();
    app1.extend_from_slice(&tiff);
    let mut out = jpeg[..2].to_vec();
    out.extend_from_slice(&[0xFF, 0xE1]);
    out.extend_from_slice(&(app1.len() as u16 + 2).to_be_bytes());
    out.extend_from_slice(&app1);
    out.extend_from_slice(&jpeg[2..]);
    out
}

/// Where in a PNG the first IDAT chunk's data starts, and how long it is.
fn idat(png: &[u8]) -> (usize, usize) {
    let at = png.windows(4).position(|window| window == b"IDAT").expect("a PNG has an IDAT chunk");
    let length = u32::from_be_bytes(png[at - 4..at].try_into().unwrap()) as usize;
    (at + 4, length)
}

fn write(dir: &TempDir, name: &str, bytes: &[u8]) -> PathBuf {
    let path = dir.path().join(name);
    std::fs::write(&path, bytes).expect("fixture written");
    path
}

#[track_caller]
fn decode_good(dir: &TempDir, name: &str, bytes: &[u8]) -> Decoded {
    let path = write(dir, name, bytes);
    decode_file(&path, &Limits::default()).unwrap_or_else(|error| panic!("{name} must decode: {error}"))
}

#[track_caller]
fn assert_near(actual: &Rgb<u8>, expected: [u8; 3], tolerance: u8, what: &str) {
    let near = actual.0.iter().zip(expected).all(|(&a, e)| a.abs_diff(e) <= tolerance);
    assert!(near, "{what}: got {:?}, expected {expected:?} within {tolerance}", actual.0);
}

// ---- bad files ----

/// A bad file, and the refusal it must get.
struct Bad {
    name: &'static str,
    bytes: Vec<u8>,
    limits: Limits,
    kind: &'static str,
    is_kind: fn(&MediaError) -> bool,
    /// Words the message must hold besides the name.
    says: &'static [&'static str],
}

fn bad_files() -> Vec<Bad> {
    let small_png = png(noise(64, 64));
    let small_jpeg = jpeg(&noise(64, 64));
    let (idat_data, idat_length) = idat(&small_png);
    let mut scrambled_png = small_png.clone();
    scrambled_png[idat_data..idat_data + idat_length].iter_mut().skip(100).step_by(7).for_each(|byte| *byte ^= 0x5A);
    let defaults = Limits::default();
    let truncated = |name, bytes: &[u8]| Bad {
        name,
        bytes: bytes.to_vec(),
        limits: defaults,
        kind: "Truncated",
        is_kind: |error| matches!(error, MediaError::Truncated { .. }),
        says: &["cut short"],
    };
    vec![
        Bad {
            name: "empty.png",
            bytes: Vec::new(),
            limits: defaults,
            kind: "Empty",
            is_kind: |error| matches!(error, MediaError::Empty { .. }),
            says: &["empty"],
        },
        truncated("signature only.png", &small_png[..8]),
        truncated("half an IHDR.png", &small_png[..8 + 8 + 6]),
        truncated("half an IDAT.png", &small_png[..idat_data + idat_length / 2]),
        Bad { says: &["cut short", "JPEG"], ..truncated("half a photo.jpg", &small_jpeg[..small_jpeg.len() / 2]) },
        Bad {
            name: "scrambled.png",
            bytes: scrambled_png,
            limits: defaults,
            kind: "Damaged",
            is_kind: |error| matches!(error, MediaError::Damaged { format: Format::Png, .. }),
            says: &["is damaged", "PNG data is invalid"],
        },
        Bad {
            name: "photo.png",
            bytes: b"Dear diary, this is a note and not a picture.\n".to_vec(),
            limits: defaults,
            kind: "NotAnImage",
            is_kind: |error| matches!(error, MediaError::NotAnImage { .. }),
            says: &["not an image", "PNG, JPEG, WebP, GIF or BMP"],
        },
        Bad {
            name: "scan.jpg",
            bytes: [b"II*\0\x08\0\0\0".as_slice(), &[0; 64]].concat(),
            limits: defaults,
            kind: "Unsupported",
            is_kind: |error| matches!(error, MediaError::Unsupported { format, .. } if format == "TIFF"),
            says: &["TIFF", "convert it to PNG, JPEG, WebP, GIF or BMP"],
        },
        Bad {
            name: "IMG_0001.jpg",
            bytes: [b"\0\0\0\x18ftypheic\0\0\0\0mif1heic".as_slice(), &[0; 64]].concat(),
            limits: defaults,
            kind: "Unsupported",
            is_kind: |error| matches!(error, MediaError::Unsupported { format, .. } if format == "HEIC"),
            says: &["HEIC"],
        },
        Bad {
            name: "invoice.jpg",
            bytes: b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\n".to_vec(),
            limits: defaults,
            kind: "NotAnImage",
            is_kind: |error| matches!(error, MediaError::NotAnImage { .. }),
            says: &["not an image"],
        },
        Bad {
            name: "big.png",
            bytes: small_png.clone(),
            limits: Limits { max_file_bytes: 100, ..defaults },
            kind: "FileTooLarge",
            is_kind: |error| matches!(error, MediaError::FileTooLarge { limit: 100, .. }),
            says: &["too large a file", "KiB", "limit of 100 bytes"],
        },
        Bad {
            name: "bomb.png",
            bytes: png_bomb(20_000),
            limits: defaults,
            kind: "TooManyPixels",
            is_kind: |error| matches!(error, MediaError::TooManyPixels { width: 20_000, height: 20_000, limit, .. } if *limit == 8192 * 8192),
            says: &["20000x20000", "400.0 megapixels", "limit of 67.1 megapixels"],
        },
    ]
}

#[test]
fn every_bad_file_is_refused_for_its_reason_in_a_message_naming_it() {
    let dir = TempDir::new().unwrap();
    for bad in bad_files() {
        let path = write(&dir, bad.name, &bad.bytes);
        let refusals = [
            (bad.name, decode_file(&path, &bad.limits)),
            (bad.name, decode_bytes(Some(bad.name), &bad.bytes, &bad.limits)),
            ("the pasted image", decode_bytes(None, &bad.bytes, &bad.limits)),
        ];
        for (called, result) in refusals {
            let error = match result {
                Ok(decoded) => panic!(
                    "{} must be refused as {}, got a {}x{} image",
                    bad.name, bad.kind, decoded.width, decoded.height
                ),
                Err(error) => error,
            };
            let message = error.to_string();
            assert!((bad.is_kind)(&error), "{} must be refused as {}, got {error:?}", bad.name, bad.kind);
            assert!(message.starts_with(called), "the message must name the image ({called}): {message}");
            for words in bad.says {
                assert!(message.contains(words), "the message for {} must say {words:?}: {message}", bad.name);
            }
        }
    }
}

#[test]
fn a_decompression_bomb_is_refused_from_its_header_without_decoding() {
    let bomb = png_bomb(20_000);
    assert!(bomb.len() < 1 << 20, "the fixture must be small on disk ({} bytes) to be a bomb", bomb.len());
    let started = Instant::now();
    let result = decode_bytes(Some("bomb.png"), &bomb, &Limits::default());
    let took = started.elapsed();
    let error = result.expect_err("a 400 MP image must be refused");
    assert!(matches!(error, MediaError::TooManyPixels { .. }), "refused for its pixel count, got {error:?}");
    // Decoding it would expand 50 MB of rows into 400 MB of pixels (and 1.2 GB of RGB): seconds.
    assert!(took < Duration::from_millis(200), "reading a header takes no time, this took {took:?}");
}

#[test]
fn a_file_that_cannot_be_opened_is_unreadable_by_name() {
    let dir = TempDir::new().unwrap();
    let error = decode_file(&dir.path().join("gone.png"), &Limits::default()).expect_err("no such file");
    assert!(matches!(error, MediaError::Unreadable { .. }), "got {error:?}");
    assert!(error.to_string().starts_with("gone.png could not be read"), "{error}");
}

// ---- good files ----

#[test]
fn a_one_pixel_png_keeps_its_colour() {
    let dir = TempDir::new().unwrap();
    let decoded = decode_good(&dir, "dot.png", &png(RgbImage::from_pixel(1, 1, Rgb([10, 20, 30]))));
    assert_eq!((decoded.format, decoded.width, decoded.height), (Format::Png, 1, 1));
    assert_eq!(decoded.pixels.get_pixel(0, 0).0, [10, 20, 30]);
    assert_eq!(decoded.format.media_type(), "image/png");
}

#[test]
fn a_16_bit_png_is_scaled_to_8_bits() {
    let dir = TempDir::new().unwrap();
    // 257 * v in 16 bits is v in 8 bits, exactly.
    let wide = ImageBuffer::<Rgb<u16>, _>::from_vec(2, 1, vec![257 * 10, 257 * 128, 65535, 0, 257 * 200, 257])
        .expect("two pixels");
    let decoded = decode_good(&dir, "deep.png", &png(DynamicImage::ImageRgb16(wide)));
    assert_eq!(decoded.pixels.as_raw(), &[10, 128, 255, 0, 200, 1]);
}

#[test]
fn transparency_is_composited_over_white() {
    let dir = TempDir::new().unwrap();
    let rgba = RgbaImage::from_vec(3, 1, vec![255, 0, 0, 0, 0, 0, 255, 128, 0, 255, 0, 255]).expect("three pixels");
    let decoded = decode_good(&dir, "sticker.png", &png(rgba));
    assert_eq!(decoded.pixels.get_pixel(0, 0).0, [255, 255, 255], "a transparent pixel shows the white under it");
    assert_eq!(decoded.pixels.get_pixel(1, 0).0, [127, 127, 255], "a half-transparent blue is a light blue");
    assert_eq!(decoded.pixels.get_pixel(2, 0).0, [0, 255, 0], "an opaque pixel is itself");
}

#[test]
fn grayscale_becomes_equal_channels() {
    let dir = TempDir::new().unwrap();
    let gray = GrayImage::from_vec(2, 1, vec![77, 200]).expect("two pixels");
    let decoded = decode_good(&dir, "gray.png", &png(gray));
    assert_eq!(decoded.pixels.as_raw(), &[77, 77, 77, 200, 200, 200]);
}

#[test]
fn an_animated_gif_gives_its_first_frame() {
    let dir = TempDir::new().unwrap();
    let mut gif = Vec::new();
    {
        let frame = |colour| Frame::new(RgbaImage::from_pixel(8, 8, Rgba(colour)));
        let mut encoder = GifEncoder::new(&mut gif);
        encoder.encode_frames([frame([255, 0, 0, 255]), frame([0, 0, 255, 255])]).expect("GIF encodes");
    }
    let decoded = decode_good(&dir, "blink.gif", &gif);
    assert_eq!((decoded.format, decoded.width, decoded.height), (Format::Gif, 8, 8));
    assert_near(decoded.pixels.get_pixel(4, 4), [255, 0, 0], 8, "the first frame is red");
}

#[test]
fn a_bmp_decodes_exactly() {
    let dir = TempDir::new().unwrap();
    let image = noise(5, 3);
    let mut bmp = Vec::new();
    BmpEncoder::new(&mut bmp).encode(image.as_raw(), 5, 3, ExtendedColorType::Rgb8).expect("BMP encodes");
    let decoded = decode_good(&dir, "paint.bmp", &bmp);
    assert_eq!(decoded.format, Format::Bmp);
    assert_eq!(decoded.pixels, image);
}

#[test]
fn a_lossless_webp_decodes_exactly() {
    let dir = TempDir::new().unwrap();
    let image = noise(7, 4);
    let mut webp = Vec::new();
    WebPEncoder::new_lossless(&mut webp).encode(image.as_raw(), 7, 4, ExtendedColorType::Rgb8).expect("WebP encodes");
    let decoded = decode_good(&dir, "web.webp", &webp);
    assert_eq!(decoded.format, Format::WebP);
    assert_eq!(decoded.pixels, image);
}

#[test]
fn a_cmyk_jpeg_comes_out_in_its_colours() {
    let dir = TempDir::new().unwrap();
    // Left half cyan ink, right half magenta and yellow ink (red); no black.
    let cmyk: Vec<u8> =
        (0..16).flat_map(|_| (0..32).flat_map(|x| if x < 16 { [255, 0, 0, 0] } else { [0, 255, 255, 0] })).collect();
    let mut bytes = Vec::new();
    jpeg_encoder::Encoder::new(&mut bytes, 95)
        .encode(&cmyk, 32, 16, jpeg_encoder::ColorType::Cmyk)
        .expect("CMYK JPEG encodes");
    let decoded = decode_good(&dir, "print.jpg", &bytes);
    assert_eq!((decoded.format, decoded.width, decoded.height), (Format::Jpeg, 32, 16));
    assert_near(decoded.pixels.get_pixel(4, 8), [0, 255, 255], 40, "cyan ink is cyan");
    assert_near(decoded.pixels.get_pixel(27, 8), [255, 0, 0], 40, "magenta and yellow ink is red");
}

#[test]
fn an_exif_rotated_jpeg_is_turned_the_right_way_up() {
    let dir = TempDir::new().unwrap();
    let sideways = RgbImage::from_fn(40, 20, |x, _| if x < 20 { Rgb([255, 0, 0]) } else { Rgb([0, 0, 255]) });
    // Orientation 6: the stored image must be turned 90 degrees clockwise to be seen, so its
    // left (red) half ends up on top.
    let decoded = decode_good(&dir, "portrait.jpg", &with_exif_orientation(&jpeg(&sideways), 6));
    assert_eq!((decoded.width, decoded.height), (20, 40), "a 40x20 image turned a quarter is 20x40");
    assert_eq!(decoded.pixels.dimensions(), (20, 40));
    assert_near(decoded.pixels.get_pixel(10, 5), [255, 0, 0], 40, "the top is the red half");
    assert_near(decoded.pixels.get_pixel(10, 34), [0, 0, 255], 40, "the bottom is the blue half");
}

#[test]
fn a_jpeg_named_png_decodes_as_the_jpeg_it_is() {
    let dir = TempDir::new().unwrap();
    let decoded = decode_good(&dir, "really a photo.png", &jpeg(&noise(24, 16)));
    assert_eq!((decoded.format, decoded.width, decoded.height), (Format::Jpeg, 24, 16));
    assert_eq!(decoded.format.media_type(), "image/jpeg");
}

#[test]
fn a_clipboard_image_is_stored_as_a_png_of_the_same_pixels() {
    let rgba = RgbaImage::from_vec(2, 1, vec![10, 20, 30, 255, 0, 0, 0, 0]).expect("two pixels");
    let pasted = decode_rgba(None, &rgba, &Limits::default()).expect("clipboard pixels are an image");
    assert_eq!(pasted.pixels.as_raw(), &[10, 20, 30, 255, 255, 255]);
    let stored = pasted.to_png().expect("PNG encodes");
    let read_back = decode_bytes(None, &stored, &Limits::default()).expect("the stored PNG decodes");
    assert_eq!((read_back.format, read_back.pixels), (Format::Png, pasted.pixels));

    let huge = RgbaImage::new(100, 100);
    let error =
        decode_rgba(None, &huge, &Limits { max_pixels: 5000, ..Limits::default() }).expect_err("too many pixels");
    assert!(matches!(error, MediaError::TooManyPixels { width: 100, height: 100, limit: 5000, .. }), "{error:?}");
    assert!(error.to_string().starts_with("the pasted image is too large an image: 100x100"), "{error}");
}

// ---- prepare ----

fn decoded(pixels: RgbImage) -> Decoded {
    Decoded { width: pixels.width(), height: pixels.height(), format: Format::Png, pixels }
}

#[track_caller]
fn assert_buffer_matches(image: &RgbImage) {
    let (width, height) = image.dimensions();
    assert_eq!(image.as_raw().len(), width as usize * height as usize * 3, "exactly w*h*3 bytes for mtmd");
}

#[test]
fn a_12_mp_photo_is_scaled_to_gemma_3s_896_pixels() {
    let photo = decoded(RgbImage::new(4000, 3000));
    let input = prepare(&photo, Target::LongestSide(896));
    assert_eq!(input.dimensions(), (896, 672));
    assert_buffer_matches(&input);
    let portrait = decoded(RgbImage::new(3000, 4000));
    assert_eq!(prepare(&portrait, Target::LongestSide(896)).dimensions(), (672, 896));
}

#[test]
fn a_12_mp_photo_fits_gemma_4s_pixel_budget_with_its_aspect() {
    let budget = 560 * 48 * 48;
    let input = prepare(&decoded(RgbImage::new(4000, 3000)), Target::PixelBudget(budget));
    let (width, height) = input.dimensions();
    assert!(u64::from(width) * u64::from(height) <= budget, "{width}x{height} is over the budget of {budget}");
    assert!(u64::from(width) * u64::from(height) > budget * 99 / 100, "{width}x{height} wastes the budget");
    let exact_height = f64::from(width) * 3.0 / 4.0;
    assert!((f64::from(height) - exact_height).abs() <= 1.0, "{width}x{height} is not 4:3 within a pixel");
    assert_buffer_matches(&input);
}

#[test]
fn a_small_image_is_never_enlarged() {
    let small = decoded(noise(100, 50));
    for target in [Target::LongestSide(896), Target::PixelBudget(560 * 48 * 48), Target::LongestSide(100)] {
        assert_eq!(prepare(&small, target), small.pixels, "{target:?} must leave a 100x50 image as it is");
    }
}

#[test]
fn scaling_keeps_colours_and_channel_order() {
    let flat = decoded(RgbImage::from_pixel(1000, 750, Rgb([10, 200, 30])));
    let input = prepare(&flat, Target::LongestSide(300));
    assert_eq!(input.dimensions(), (300, 225));
    for pixel in input.pixels() {
        assert_near(pixel, [10, 200, 30], 1, "a flat colour stays that colour");
    }
}

#[test]
fn the_short_side_is_rounded_to_the_nearest_pixel() {
    // 337 * 896 / 1000 = 301.95: 302, not 301.
    assert_eq!(Target::LongestSide(896).fit(1000, 337), (896, 302));
    assert_eq!(Target::LongestSide(896).fit(337, 1000), (302, 896));
}

#[test]
fn fitting_extreme_shapes_keeps_at_least_a_pixel_and_the_budget() {
    assert_eq!(Target::PixelBudget(500).fit(100_000, 1), (500, 1));
    assert_eq!(Target::PixelBudget(500).fit(1, 100_000), (1, 500));
    assert_eq!(Target::LongestSide(896).fit(100_000, 10), (896, 1));
    assert_eq!(Target::LongestSide(0).fit(4000, 3000), (1, 1));
    assert_eq!(Target::PixelBudget(0).fit(4000, 3000), (1, 1));
    // 3000x2999 and 12345x6789 are shapes whose rounded short side first overshoots the budget.
    let shapes = [(4000, 3000), (4032, 3024), (1080, 1920), (1, 1), (7, 1_000_003), (65535, 65535), (3000, 2999)];
    for ((width, height), budget) in
        shapes.map(|shape| (shape, 560 * 48 * 48)).into_iter().chain([((12345, 6789), 280 * 48 * 48)])
    {
        let fit = Target::PixelBudget(budget).fit(width, height);
        if u64::from(width) * u64::from(height) <= budget {
            assert_eq!(fit, (width, height), "{width}x{height} fits the budget as it is");
        } else {
            assert!(u64::from(fit.0) * u64::from(fit.1) <= budget, "{width}x{height} became {fit:?}, over the budget");
            assert!(fit.0 <= width && fit.1 <= height, "{width}x{height} was enlarged to {fit:?}");
        }
    }
}

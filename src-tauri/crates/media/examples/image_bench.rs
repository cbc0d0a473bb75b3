//! How long a 12 MP photo takes from file to mtmd's input: read and decode, then scale to Gemma
//! 3's 896-pixel side and to a Gemma 4 budget of 560 tokens of 48x48 pixels.
//!
//! `cargo run --release -p gemma-desk-media --example image_bench` prints one JSON object; each
//! figure is the median of five runs, in milliseconds.

use std::time::Instant;

use gemma_desk_media::{Limits, RgbImage, Target, decode_file, prepare};
use image::Rgb;
use image::codecs::jpeg::JpegEncoder;

const WIDTH: u32 = 4000;
const HEIGHT: u32 = 3000;
const QUALITY: u8 = 90;
const RUNS: usize = 5;
const GEMMA_3: Target = Target::LongestSide(896);
const GEMMA_4: Target = Target::PixelBudget(560 * 48 * 48);

/// Something a camera could have taken: smooth gradients (sky, walls) under sensor-like noise,
/// the same every run.
fn photo() -> RgbImage {
    let mut state = 0x9E37_79B9_u32;
    RgbImage::from_fn(WIDTH, HEIGHT, |x, y| {
        state ^= state << 13;
        state ^= state >> 17;
        state ^= state << 5;
        let noise = |shift: u32| ((state >> shift) & 0x1F) as f32 - 16.0;
        let (u, v) = (x as f32 / WIDTH as f32, y as f32 / HEIGHT as f32);
        let channel = |base: f32, shift| (base * 255.0 + noise(shift)).clamp(0.0, 255.0) as u8;
        Rgb([channel(0.2 + 0.6 * u, 0), channel(0.3 + 0.5 * v, 8), channel(0.9 - 0.6 * u * v, 16)])
    })
}

/// The median of `RUNS` timings of `work`, in milliseconds, and its last result.
fn median_ms<T>(mut work: impl FnMut() -> T) -> (f64, T) {
    let mut times = Vec::with_capacity(RUNS);
    let mut result = None;
    for _ in 0..RUNS {
        let started = Instant::now();
        result = Some(std::hint::black_box(work()));
        times.push(started.elapsed().as_secs_f64() * 1000.0);
    }
    times.sort_by(f64::total_cmp);
    (times[RUNS / 2], result.expect("at least one run"))
}

/// Milliseconds to a tenth.
fn round(ms: f64) -> f64 {
    (ms * 10.0).round() / 10.0
}

/// `part` of `whole`, to a hundredth.
fn share(part: f64, whole: f64) -> f64 {
    (part / whole * 100.0).round() / 100.0
}

fn main() {
    let dir = tempfile::tempdir().expect("a temporary folder");
    let path = dir.path().join("photo.jpg");
    let mut jpeg = Vec::new();
    JpegEncoder::new_with_quality(&mut jpeg, QUALITY).encode_image(&photo()).expect("the photo encodes");
    std::fs::write(&path, &jpeg).expect("the photo is written");

    let (decode_ms, decoded) = median_ms(|| decode_file(&path, &Limits::default()).expect("the photo decodes"));
    let (gemma_3_ms, gemma_3) = median_ms(|| prepare(&decoded, GEMMA_3));
    let (gemma_4_ms, gemma_4) = median_ms(|| prepare(&decoded, GEMMA_4));

    let pipeline = |resize_ms: f64, image: &RgbImage| {
        serde_json::json!({
            "output": format!("{}x{}", image.width(), image.height()),
            "resize_ms": round(resize_ms),
            "total_ms": round(decode_ms + resize_ms),
            "decode_share": share(decode_ms, decode_ms + resize_ms),
            "resize_share": share(resize_ms, decode_ms + resize_ms),
        })
    };
    let report = serde_json::json!({
        "image": format!("{WIDTH}x{HEIGHT} JPEG, quality {QUALITY}"),
        "file_bytes": jpeg.len(),
        "runs": RUNS,
        "threads": std::thread::available_parallelism().map_or(1, usize::from),
        "read_and_decode_ms": round(decode_ms),
        "longest_side_896": pipeline(gemma_3_ms, &gemma_3),
        "pixel_budget_560x48x48": pipeline(gemma_4_ms, &gemma_4),
    });
    println!("{report}");
}

//! Scaling a decoded image down to the size the model's vision encoder takes, so that neither a
//! 12 MP photo nor its resizing crosses into llama.cpp.

use fast_image_resize::images::{Image, ImageRef};
use fast_image_resize::{FilterType, PixelType, ResizeAlg, ResizeOptions, Resizer};
use image::RgbImage;

use crate::decode::Decoded;

/// The size a model takes images at. Both keep the aspect ratio and never enlarge an image.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    /// The longer side at most this many pixels (Gemma 3: its encoder takes 896x896).
    LongestSide(u32),
    /// Width times height at most this many pixels (Gemma 4: its image tokens times 48x48).
    PixelBudget(u64),
}

impl Target {
    /// The size an image of `width` x `height` is scaled to: the largest that fits the target
    /// with the same aspect ratio (each side within a pixel of exact), at least 1x1, and never
    /// larger than the image.
    pub fn fit(self, width: u32, height: u32) -> (u32, u32) {
        let (long, short) = (width.max(height), width.min(height));
        let fitted = |long_side: u32| (long_side, scale_side(short, long_side, long));
        let (long, short) = match self {
            Target::LongestSide(most) if long > most => fitted(most.max(1)),
            Target::PixelBudget(budget) if u64::from(long) * u64::from(short) > budget => {
                let budget = budget.max(1);
                let scale = (budget as f64 / (f64::from(long) * f64::from(short))).sqrt();
                // The rounding of the short side can overshoot the budget: shorten until it fits.
                let mut long_side = ((f64::from(long) * scale) as u64).clamp(1, budget) as u32;
                while long_side > 1 && u64::from(long_side) * u64::from(fitted(long_side).1) > budget {
                    long_side -= 1;
                }
                fitted(long_side)
            }
            _ => (long, short),
        };
        if width >= height { (long, short) } else { (short, long) }
    }
}

/// `side` scaled by `to / from`, rounded, at least 1.
fn scale_side(side: u32, to: u32, from: u32) -> u32 {
    let scaled = (u64::from(side) * u64::from(to) * 2 + u64::from(from)) / (2 * u64::from(from));
    (scaled as u32).max(1)
}

/// The image at the size `target` asks for, as `MtmdBitmap::from_image_data` takes it: its raw
/// buffer is exactly width x height x 3 bytes. Downscaling uses a Lanczos3 convolution (SIMD,
/// on one thread); an image already small enough is returned as it is.
pub fn prepare(decoded: &Decoded, target: Target) -> RgbImage {
    let image = &decoded.pixels;
    let (width, height) = image.dimensions();
    let (to_width, to_height) = target.fit(width, height);
    if (to_width, to_height) == (width, height) {
        return image.clone();
    }
    let source =
        ImageRef::new(width, height, image.as_raw(), PixelType::U8x3).expect("an RgbImage holds 3 bytes a pixel");
    let mut scaled = Image::new(to_width, to_height, PixelType::U8x3);
    let lanczos = ResizeOptions::new().resize_alg(ResizeAlg::Convolution(FilterType::Lanczos3));
    Resizer::new().resize(&source, &mut scaled, &lanczos).expect("source and destination are both U8x3 and not empty");
    RgbImage::from_raw(to_width, to_height, scaled.into_vec()).expect("the resizer fills width x height x 3 bytes")
}

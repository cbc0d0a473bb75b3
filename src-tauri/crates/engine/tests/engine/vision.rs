//! Images through the real mtmd path, with the tiny generated projectors and the 270M model:
//! token counts (Gemma 4's following its image-token budget), replies that depend on the pixels,
//! KV reuse of image chunks by id, and the images llama.cpp would abort on, refused first.

use std::path::{Path, PathBuf};

use gemma_desk_engine::{ChatMessage, EngineError, LoadOptions, LoadedModel, MediaRef, RenderOptions, Session};
use gemma_desk_testing::test_projector;
use sha2::{Digest, Sha256};

use crate::session::{backend, greedy, reply};
use crate::test_model;

/// The tiny `gemma3` projector: 112-pixel images, 16 image tokens each.
const TINY_IMAGE_TOKENS: u32 = 16;

fn load_vision(projector: &str, ctx: u32) -> (LoadedModel, LoadOptions) {
    load_with(LoadOptions { mmproj: Some(test_projector(projector)), ctx: Some(ctx), ..Default::default() })
}

fn load_with(options: LoadOptions) -> (LoadedModel, LoadOptions) {
    let options = LoadOptions { model: test_model(), threads: Some(2), ..options };
    (LoadedModel::load(backend(), &options).expect("the test model loads with its projector"), options)
}

/// Writes a PNG of `width`x`height` whose pixels `paint` chooses, named by its sha256 as the
/// attachment store names files.
fn image(dir: &Path, width: u32, height: u32, paint: impl Fn(u32, u32) -> [u8; 3]) -> MediaRef {
    let pixels = image::RgbImage::from_fn(width, height, |x, y| image::Rgb(paint(x, y)));
    let mut png = Vec::new();
    pixels.write_to(&mut std::io::Cursor::new(&mut png), image::ImageFormat::Png).unwrap();
    let sha256 = format!("{:x}", Sha256::digest(&png));
    let path: PathBuf = dir.join(&sha256);
    std::fs::write(&path, &png).unwrap();
    MediaRef { sha256, path }
}

fn red(dir: &Path) -> MediaRef {
    image(dir, 64, 48, |_, _| [220, 30, 30])
}

fn stripes(dir: &Path) -> MediaRef {
    image(dir, 64, 48, |x, _| if (x / 8) % 2 == 0 { [255, 255, 255] } else { [0, 0, 90] })
}

fn asking(media: Vec<MediaRef>, text: &str) -> ChatMessage {
    ChatMessage { media, ..ChatMessage::user(text) }
}

#[test]
fn an_image_becomes_the_projectors_tokens_and_changes_the_reply() {
    let dir = tempfile::tempdir().unwrap();
    let (model, options) = load_vision("vision-gemma3", 1024);
    let mut session = Session::new(backend(), &model, &options).unwrap();
    let (without, plain) = reply(&mut session, &[ChatMessage::user("What is this?")], &greedy(12));
    assert_eq!(plain.image_tokens_encoded, 0);

    let mut session = Session::new(backend(), &model, &options).unwrap();
    let (with, figures) = reply(&mut session, &[asking(vec![red(dir.path())], "What is this?")], &greedy(12));
    assert_eq!(figures.image_tokens_encoded, TINY_IMAGE_TOKENS, "{figures:?}");
    assert_eq!(figures.image_tokens_reused, 0);
    // The image's tokens and its begin and end tokens come on top of the text's.
    assert!(figures.prompt_tokens >= plain.prompt_tokens + TINY_IMAGE_TOKENS, "{figures:?} against {plain:?}");
    assert_ne!(with, without, "the greedy reply must depend on the image");
}

#[test]
fn images_of_the_same_size_with_different_pixels_give_different_replies_and_are_not_mistaken_in_the_cache() {
    let dir = tempfile::tempdir().unwrap();
    let (model, options) = load_vision("vision-gemma3", 1024);
    let (red, stripes) = (red(dir.path()), stripes(dir.path()));
    let mut session = Session::new(backend(), &model, &options).unwrap();
    let (of_red, _) = reply(&mut session, &[asking(vec![red], "Describe it.")], &greedy(12));
    session.settle().unwrap();
    // The same place in the prompt, an image of the same size: only its id tells them apart.
    let (of_stripes, figures) = reply(&mut session, &[asking(vec![stripes.clone()], "Describe it.")], &greedy(12));
    assert_eq!(figures.image_tokens_reused, 0, "another image must not be taken from the cache: {figures:?}");
    assert_eq!(figures.image_tokens_encoded, TINY_IMAGE_TOKENS);
    assert_ne!(of_red, of_stripes, "two different images must give different replies");

    let mut cold = Session::new(backend(), &model, &options).unwrap();
    let (cold_stripes, _) = reply(&mut cold, &[asking(vec![stripes], "Describe it.")], &greedy(12));
    assert_eq!(of_stripes, cold_stripes, "the reply about the second image is the one a fresh session gives");
}

#[test]
fn a_follow_up_reuses_the_images_cached_tokens_and_replies_as_a_cold_rebuild_does() {
    let dir = tempfile::tempdir().unwrap();
    let (model, options) = load_vision("vision-gemma3", 2048);
    let mut warm = Session::new(backend(), &model, &options).unwrap();
    let mut messages = vec![
        ChatMessage::system("You describe pictures."),
        asking(vec![red(dir.path()), stripes(dir.path())], "Compare these two pictures."),
    ];
    let (first, first_figures) = reply(&mut warm, &messages, &greedy(16));
    assert_eq!(first_figures.image_tokens_encoded, 2 * TINY_IMAGE_TOKENS);
    warm.settle().unwrap();
    messages.push(ChatMessage::assistant(first));
    messages.push(ChatMessage::user("Which one is brighter?"));

    let (second, figures) = reply(&mut warm, &messages, &greedy(16));
    assert_eq!(figures.image_tokens_reused, 2 * TINY_IMAGE_TOKENS, "both images come from the cache: {figures:?}");
    assert_eq!(figures.image_tokens_encoded, 0, "no image is encoded again: {figures:?}");
    assert!(
        figures.reused_tokens >= first_figures.prompt_tokens,
        "the whole first turn is reused: {figures:?} after {first_figures:?}"
    );

    let mut cold = Session::new(backend(), &model, &options).unwrap();
    let (rebuilt, cold_figures) = reply(&mut cold, &messages, &greedy(16));
    assert_eq!(cold_figures.reused_tokens, 0);
    assert_eq!(second, rebuilt, "reusing image chunks must not change the greedy reply");
}

#[test]
fn an_image_for_a_model_that_cannot_see_is_refused_clearly() {
    let dir = tempfile::tempdir().unwrap();
    let options = LoadOptions { model: test_model(), ctx: Some(512), threads: Some(2), ..Default::default() };
    let model = LoadedModel::load(backend(), &options).unwrap();
    let mut session = Session::new(backend(), &model, &options).unwrap();
    let error = session
        .generate(&[asking(vec![red(dir.path())], "What is this?")], &RenderOptions::default(), &greedy(4), None, &|| false, &mut |_| {})
        .unwrap_err();
    assert!(matches!(error, EngineError::Media(_)), "{error:?}");
    assert!(error.to_string().contains("cannot see images"), "{error}");
}

#[test]
fn an_image_with_more_tokens_than_the_micro_batch_is_refused_and_the_session_goes_on() {
    let dir = tempfile::tempdir().unwrap();
    // 576 image tokens; a context of 512 cannot give them one micro-batch.
    let (model, options) = load_vision("vision-gemma3-672", 512);
    let mut session = Session::new(backend(), &model, &options).unwrap();
    let error = session
        .generate(&[asking(vec![red(dir.path())], "What is this?")], &RenderOptions::default(), &greedy(4), None, &|| false, &mut |_| {})
        .unwrap_err();
    assert!(matches!(error, EngineError::Media(_)), "{error:?}");
    assert!(error.to_string().contains("576 image tokens"), "{error}");
    let (text, _) = reply(&mut session, &[ChatMessage::user("Hello")], &greedy(4));
    assert!(!text.is_empty(), "the session still answers text");
}

#[test]
fn a_large_projector_gets_a_micro_batch_that_holds_its_images() {
    let dir = tempfile::tempdir().unwrap();
    let (model, options) = load_vision("vision-gemma3-672", 2048);
    let mut session = Session::new(backend(), &model, &options).unwrap();
    let (_, figures) = reply(&mut session, &[asking(vec![red(dir.path())], "What is this?")], &greedy(4));
    assert_eq!(figures.image_tokens_encoded, 576, "{figures:?}");
}

#[test]
fn a_gemma4_photo_becomes_about_its_budget_of_image_tokens_and_is_answered() {
    let dir = tempfile::tempdir().unwrap();
    let photo =
        image(dir.path(), 1600, 1200, |x, y| [(x / 7 % 256) as u8, (y / 5 % 256) as u8, ((x + y) / 11 % 256) as u8]);
    // One `gemma4v` token per 48x48 pixels. The engine scales the 4:3 photo to within the budget's
    // pixels (tokens x 48 x 48), aspect kept; mtmd then rounds each side to a multiple of 48 (its
    // 16 px patches, pooled 3x3), scaling down where the rounded size would pass the budget it was
    // given (and up to its 70-token minimum). So each side's token count is its pixels / 48, rounded:
    // - 70 tokens, 161280 px: 463x347, rounded to 480x336, is exactly 161280 px: 10 x 7 = 70;
    // - 560 tokens, 1290240 px: 1311x983 (27.3 x 20.48 tokens), rounded to 1296x960: 27 x 20 = 540,
    //   a little under the budget, never over it; more than a square image of the budget takes
    //   (23 x 23 = 529), so the micro-batch must be sized for the budget, not for a square;
    // - 1120 tokens, 2580480 px: the photo fits as it is, rounded to 1584x1200: 33 x 25 = 825.
    for (budget, expected) in [(70, 70), (560, 540), (1120, 825)] {
        let (model, options) = load_with(LoadOptions {
            mmproj: Some(test_projector("vision-gemma4")),
            ctx: Some(2048),
            image_tokens: Some(budget),
            ..Default::default()
        });
        let mut session = Session::new(backend(), &model, &options).unwrap();
        let (text, figures) = reply(&mut session, &[asking(vec![photo.clone()], "What is this?")], &greedy(8));
        assert_eq!(figures.image_tokens_encoded, expected, "a budget of {budget}: {figures:?}");
        assert!(figures.prompt_tokens > expected, "{figures:?}");
        assert!(figures.generated_tokens > 0 && !text.is_empty(), "a budget of {budget}: a reply runs: {figures:?}");
    }
}

#[test]
fn a_gemma4_image_whose_rounded_sides_pass_the_budget_is_scaled_down_to_fit_it() {
    let dir = tempfile::tempdir().unwrap();
    // 552x264 is 11.5 x 5.5 tokens of 48 px: 63.25 of them, within a budget of 70, so the engine
    // leaves it as it is. mtmd rounds the sides to 12 x 6 = 72 tokens, past the budget it was given,
    // and scales down instead (by sqrt(72.x / 70), rounding down): 12 x 5 = 60. Without the budget
    // it would keep 72.
    let (model, options) = load_with(LoadOptions {
        mmproj: Some(test_projector("vision-gemma4")),
        ctx: Some(1024),
        image_tokens: Some(70),
        ..Default::default()
    });
    let wide = image(dir.path(), 552, 264, |x, y| [(x % 256) as u8, (y % 256) as u8, 128]);
    let mut session = Session::new(backend(), &model, &options).unwrap();
    let (_, figures) = reply(&mut session, &[asking(vec![wide], "What is this?")], &greedy(2));
    assert_eq!(figures.image_tokens_encoded, 60, "{figures:?}");
}

#[test]
fn a_broken_image_file_is_a_clear_error_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("holiday.png");
    std::fs::write(&path, b"\x89PNG\r\n\x1a\n not really").unwrap();
    let broken = MediaRef { sha256: "0".repeat(64), path };
    let (model, options) = load_vision("vision-gemma3", 512);
    let mut session = Session::new(backend(), &model, &options).unwrap();
    let error = session
        .generate(&[asking(vec![broken], "What is this?")], &RenderOptions::default(), &greedy(4), None, &|| false, &mut |_| {})
        .unwrap_err();
    assert!(matches!(error, EngineError::Media(_)), "{error:?}");
    assert!(error.to_string().contains("holiday.png"), "{error}");
}

#[test]
fn the_rendered_prompt_shows_mtmds_marker_where_each_image_goes() {
    let dir = tempfile::tempdir().unwrap();
    let (model, options) = load_vision("vision-gemma3", 512);
    let session = Session::new(backend(), &model, &options).unwrap();
    let text = session
        .render(&[asking(vec![red(dir.path()), stripes(dir.path())], "Compare.")], &RenderOptions::default())
        .unwrap();
    assert_eq!(text.matches("<__media__>").count(), 2, "{text}");
    assert!(text.find("<__media__>").unwrap() < text.find("Compare.").unwrap(), "images come before the text: {text}");
}

#[test]
fn old_turns_dropped_to_fit_the_context_take_their_images_with_them_and_say_so() {
    let dir = tempfile::tempdir().unwrap();
    let (model, options) = load_vision("vision-gemma3", 256);
    let mut session = Session::new(backend(), &model, &options).unwrap();
    let mut messages = vec![asking(vec![red(dir.path()), stripes(dir.path())], "Turn 0: what are these?")];
    messages.push(ChatMessage::assistant("A red picture and a striped one."));
    for turn in 1..12 {
        messages.push(ChatMessage::user(format!("Turn {turn}: tell me something about the number {turn}.")));
        messages.push(ChatMessage::assistant(format!("The number {turn} is a fine number with many properties.")));
    }
    messages.push(ChatMessage::user("And the last one?"));
    let mut notices = Vec::new();
    let figures = session
        .generate(&messages, &RenderOptions::default(), &greedy(8), None, &|| false, &mut |event| {
            if let gemma_desk_engine::ReplyEvent::Notice(notice) = event {
                notices.push(notice);
            }
        })
        .unwrap();
    assert!(figures.dropped_messages >= 2, "{figures:?}");
    assert_eq!((figures.image_tokens_encoded, figures.image_tokens_reused), (0, 0), "the images went with their turn");
    assert!(figures.prompt_tokens <= 256, "{figures:?}");
    assert_eq!(notices.len(), 1, "{notices:?}");
    assert!(notices[0].contains("with the 2 images in them"), "the user is told the images were left out: {notices:?}");
}

//! `chat --image`: images reach the vision projector through the one conversation turn, and bad
//! image files are refused by name before anything is asked.

use std::path::Path;

use gemma_desk_testing::images::{bad_images, png};

use crate::{model_arg, run, test_projector};

fn chat_about(image: &Path, mmproj: Option<&Path>) -> std::process::Output {
    let model = model_arg();
    let image = image.to_string_lossy().into_owned();
    let mmproj = mmproj.map(|path| path.to_string_lossy().into_owned());
    let mut args = vec!["chat", "--model", &model, "--greedy", "--max-tokens", "6", "--ctx", "512", "--image", &image];
    if let Some(mmproj) = &mmproj {
        args.extend(["--mmproj", mmproj]);
    }
    args.push("What is in this picture?");
    run(&args)
}

#[test]
fn an_image_is_answered_with_a_vision_projector() {
    let dir = tempfile::tempdir().unwrap();
    let picture = dir.path().join("sunset.png");
    std::fs::write(&picture, png(80, 60, |x, _| [255, (x * 3) as u8, 40])).unwrap();
    let output = chat_about(&picture, Some(&test_projector("vision-gemma3")));
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    assert!(!output.stdout.is_empty(), "a reply is printed");
}

#[test]
fn an_image_for_a_model_without_eyes_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let picture = dir.path().join("sunset.png");
    std::fs::write(&picture, png(80, 60, |_, _| [255, 120, 40])).unwrap();
    let output = chat_about(&picture, None);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success(), "an image needs a model that can see");
    assert!(stderr.contains("cannot see images"), "{stderr}");
}

#[test]
fn bad_image_files_are_refused_by_name_and_nothing_crashes() {
    let dir = tempfile::tempdir().unwrap();
    let projector = test_projector("vision-gemma3");
    for bad in bad_images(dir.path()) {
        let output = chat_about(&bad.path, Some(&projector));
        let stderr = String::from_utf8_lossy(&output.stderr);
        let name = bad.path.file_name().unwrap().to_string_lossy();
        assert_eq!(output.status.code(), Some(1), "{name}: a clear failure, not a crash: {stderr}");
        assert!(stderr.contains(name.as_ref()), "{name}: the message names the file: {stderr}");
        assert!(stderr.contains(bad.expected), "{name}: the message says {:?}: {stderr}", bad.expected);
        assert!(output.stdout.is_empty(), "{name}: nothing was asked");
    }
}

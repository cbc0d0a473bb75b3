//! `chat --audio`: sound files of any common format and rate reach the audio projector through
//! the one conversation turn; bad files, and models that cannot hear, are refused clearly.

use std::path::Path;
use std::process::Command;

use gemma_desk_testing::sounds::{speech_wav, tone_wav};

use crate::{conversation_id, model_arg, run, test_projector};

fn chat_hearing(clips: &[&Path], mmproj: Option<&Path>) -> std::process::Output {
    let model = model_arg();
    let mut args: Vec<String> =
        ["chat", "--model", &model, "--greedy", "--max-tokens", "8", "--ctx", "1024"].map(str::to_owned).into();
    for clip in clips {
        args.extend(["--audio".to_owned(), clip.to_string_lossy().into_owned()]);
    }
    if let Some(mmproj) = mmproj {
        args.extend(["--mmproj".to_owned(), mmproj.to_string_lossy().into_owned()]);
    }
    args.push("What is said?".to_owned());
    run(&args.iter().map(String::as_str).collect::<Vec<_>>())
}

fn reply_of(output: &std::process::Output) -> String {
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    String::from_utf8_lossy(&output.stdout).into_owned()
}

#[test]
fn spoken_words_in_wav_and_flac_are_heard_and_change_the_reply() {
    let dir = tempfile::tempdir().unwrap();
    let projector = test_projector("audio-gemma4ua");
    let question = speech_wav(dir.path(), "question.wav", "what is the capital of France");
    let flac = dir.path().join("question.flac");
    let converted = Command::new("sox").arg(&question).args(["-r", "44100", "-c", "2"]).arg(&flac).status().unwrap();
    assert!(converted.success(), "sox writes FLAC");
    let other = speech_wav(dir.path(), "other.wav", "seven green bottles hanging on the wall");

    let without = reply_of(&chat_hearing(&[], Some(&projector)));
    let of_wav = reply_of(&chat_hearing(&[&question], Some(&projector)));
    let of_flac = reply_of(&chat_hearing(&[&flac], Some(&projector)));
    let of_other = reply_of(&chat_hearing(&[&other], Some(&projector)));
    assert_ne!(of_wav, without, "the greedy reply depends on the clip");
    assert_ne!(of_wav, of_other, "two different clips give different replies");
    assert!(!of_flac.trim().is_empty(), "a 44.1 kHz stereo FLAC is resampled and answered");
}

#[test]
fn a_clip_for_a_model_that_cannot_hear_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let clip = dir.path().join("tone.wav");
    std::fs::write(&clip, tone_wav(16_000, 1, 1.0, 440.0)).unwrap();
    for mmproj in [None, Some(test_projector("vision-gemma3"))] {
        let output = chat_hearing(&[&clip], mmproj.as_deref());
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(1), "{stderr}");
        assert!(stderr.contains("cannot hear sound") && stderr.contains("Gemma 4 E2B"), "{stderr}");
        assert!(output.stdout.is_empty(), "nothing was asked");
    }
}

#[test]
fn a_clip_for_a_model_that_cannot_hear_is_written_down_by_the_transcriber() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("chats.sqlite3").to_string_lossy().into_owned();
    let clip = speech_wav(dir.path(), "question.wav", "what is the capital of France");
    let model = model_arg();
    let projector = test_projector("audio-gemma4ua").to_string_lossy().into_owned();
    let clip_arg = clip.to_string_lossy();
    let output = run(&[
        "chat",
        "--db",
        &db,
        "--model",
        &model,
        "--greedy",
        "--max-tokens",
        "8",
        "--ctx",
        "1024",
        "--audio",
        &clip_arg,
        "--transcriber",
        &model,
        "--transcriber-mmproj",
        &projector,
        "What is said?",
    ]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    assert!(stderr.contains("is writing down what was said"), "the wait is explained: {stderr}");
    assert!(!output.stdout.is_empty(), "the model that cannot hear answers the transcript");

    let shown = run(&["history", "--db", &db, "show", &conversation_id(&stderr)]);
    let shown = String::from_utf8_lossy(&shown.stdout);
    let question = shown.split("[you] What is said?").nth(1).expect("the typed question is kept");
    let transcript = question.split("\n\n[").next().unwrap();
    assert!(!transcript.trim().is_empty(), "the transcript follows the typed question: {shown}");
    assert!(!shown.contains("(attached:"), "the question is stored as text, without the clip: {shown}");
}

#[test]
fn bad_sound_files_are_refused_by_name_and_nothing_crashes() {
    let dir = tempfile::tempdir().unwrap();
    let projector = test_projector("audio-gemma4ua");
    let write = |name: &str, bytes: &[u8]| {
        let path = dir.path().join(name);
        std::fs::write(&path, bytes).unwrap();
        path
    };
    let long = tone_wav(8_000, 1, 31.0, 440.0);
    let cases = [
        (write("notes.wav", b"not a sound at all, just words"), "is not a sound file"),
        (write("empty.wav", &tone_wav(16_000, 1, 0.0, 440.0)), "holds no sound"),
        (write("lecture.wav", &long), "31 s long; clips of at most 30 s"),
        (dir.path().join("missing.mp3"), "cannot read the sound file"),
    ];
    for (path, expected) in cases {
        let output = chat_hearing(&[&path], Some(&projector));
        let stderr = String::from_utf8_lossy(&output.stderr);
        let name = path.file_name().unwrap().to_string_lossy();
        assert_eq!(output.status.code(), Some(1), "{name}: a clear failure, not a crash: {stderr}");
        assert!(stderr.contains(name.as_ref()), "{name}: the message names the file: {stderr}");
        assert!(stderr.contains(expected), "{name}: the message says {expected:?}: {stderr}");
        assert!(output.stdout.is_empty(), "{name}: nothing was asked");
    }
}

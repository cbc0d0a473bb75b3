//! Voice through the commands: a question recorded for real (cpal and ALSA from a microphone
//! that plays a file, ../shared/TESTING.md), attached, sent to the audio projector and stored;
//! a dropped sound file attached as a clip; a model that cannot hear refused before recording,
//! or given the clip as text transcribed by an installed model that hears.

use std::sync::OnceLock;
use std::time::Duration;

use gemma_desk_testing::sound_devices;
use gemma_desk_testing::sounds::tone_wav;
use gemma_desk_testing::test_projector;
use serde_json::{Value, json};

use crate::{TestApp, channel, test_model};

/// The default input of this test process: spoken words read as fast as ALSA goes (so the
/// 30 s limit is reached at once), then silence. Set once, before anything reads ALSA's
/// configuration; the length of the speech in seconds.
fn microphone() -> f32 {
    static SPOKEN: OnceLock<f32> = OnceLock::new();
    *SPOKEN.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap().keep();
        let mut speech = sound_devices::speech_samples(&dir, "question", "what is the capital of France");
        let spoken = speech.len() as f32 / sound_devices::SPEECH_RATE as f32;
        speech.extend(vec![0; 3 * sound_devices::SPEECH_RATE as usize]);
        sound_devices::write_microphone_file(&dir.join("question.raw"), &speech);
        let config = sound_devices::alsa_config(&dir, &[("question", &dir.join("question.raw"))], None);
        // SAFETY: set once, before any thread of this process reads ALSA's configuration (only
        // these tests reach ALSA, and each calls this first).
        unsafe { std::env::set_var("ALSA_CONFIG_PATH", config) };
        spoken
    })
}

#[test]
fn a_recorded_question_is_attached_sent_to_the_model_and_stored() {
    let spoken = microphone();
    let app = TestApp::start();
    app.load_with_projector("audio-gemma4ua");
    app.call("start_recording", json!({ "onProgress": channel() })).unwrap();
    assert_eq!(app.error_code("start_recording", json!({ "onProgress": channel() })), "busy");
    std::thread::sleep(Duration::from_millis(500));
    let recorded = app.call("finish_recording", json!({})).unwrap();
    let clip = &recorded["clip"];
    assert_eq!(clip["name"], "recording.wav", "{recorded}");
    let seconds = clip["duration_ms"].as_f64().unwrap() as f32 / 1000.0;
    assert!(seconds > spoken - 0.1 && seconds < spoken + 0.5, "a {seconds} s clip of {spoken} s of speech");
    let note = recorded["note"].as_str().unwrap_or_default();
    assert!(note.contains("30 s limit"), "the file microphone fills the clip at once: {recorded}");
    assert_eq!(app.error_code("finish_recording", json!({})), "bad_input", "nothing is being recorded any more");

    let ask = |images: serde_json::Value| {
        let id = app.call("create_conversation", json!({ "systemPrompt": null })).unwrap()["id"].clone();
        let args = json!({ "conversationId": id, "text": "Answer.", "images": images, "onEvent": channel() });
        let reply = app.call("send_message", args).unwrap();
        assert_eq!(reply["status"], "done", "{reply}");
        (id, reply["stats"]["prompt_tokens"].as_u64().unwrap())
    };
    let (_, text_alone) = ask(json!([]));
    let (id, with_clip) = ask(json!([clip["id"]]));
    assert!(
        with_clip > text_alone + 10,
        "the clip reached the model as audio tokens: {with_clip} against {text_alone}"
    );
    let branch = app.call("open_conversation", json!({ "id": id })).unwrap()["branch"].clone();
    let stored = &branch[0]["attachments"][0];
    assert_eq!(
        (&stored["media_type"], &stored["duration_ms"]),
        (&json!("audio/wav"), &clip["duration_ms"]),
        "{branch}"
    );
}

#[test]
fn recording_for_a_model_that_cannot_hear_is_refused_before_it_starts() {
    microphone();
    let app = TestApp::start();
    app.load_test_model();
    assert_eq!(app.error_code("start_recording", json!({ "onProgress": channel() })), "cannot_hear");
    app.call("cancel_recording", json!({})).unwrap();
}

/// The test model with a projector, installed (linked) in the app's models folder; its id.
fn install_with_projector(app: &TestApp, projector: &str) -> Value {
    let files = json!({ "model": test_model(), "mmproj": test_projector(projector), "mode": "link" });
    app.call("import_model", files).unwrap()["id"].clone()
}

#[test]
fn a_recording_for_a_model_that_cannot_hear_starts_when_a_model_that_hears_is_installed() {
    microphone();
    let app = TestApp::start();
    let seeing = install_with_projector(&app, "vision-gemma3");
    app.load_test_model();
    let args = json!({ "transcriber": seeing, "onProgress": channel() });
    assert_eq!(app.error_code("start_recording", args), "cannot_hear", "a transcriber must hear");
    let hearing = install_with_projector(&app, "audio-gemma4ua");
    app.call("start_recording", json!({ "transcriber": hearing, "onProgress": channel() })).unwrap();
    app.call("cancel_recording", json!({})).unwrap();
}

#[test]
fn a_clip_for_a_model_that_cannot_hear_is_sent_as_what_an_installed_model_heard() {
    let app = TestApp::start();
    let hearing = install_with_projector(&app, "audio-gemma4ua");
    app.load_test_model();
    let tone = app.dir.path().join("tone.wav");
    std::fs::write(&tone, tone_wav(16_000, 1, 1.0, 440.0)).unwrap();
    let clip = app.call("attach_images", json!({ "paths": [tone] })).unwrap()["clips"][0]["id"].clone();
    let id = app.call("create_conversation", json!({ "systemPrompt": null })).unwrap()["id"].clone();
    let ask = |transcriber: Value| {
        let args = json!({
            "conversationId": id, "text": "Answer.", "images": [clip], "transcriber": transcriber, "onEvent": channel()
        });
        app.call("send_message", args)
    };
    assert_eq!(ask(json!(null)).unwrap_err()["code"], "cannot_hear", "no transcriber, no clip");
    assert_eq!(ask(json!("no-such-model")).unwrap_err()["code"], "not_found");
    let reply = ask(hearing).unwrap();
    assert_eq!(reply["status"], "done", "{reply}");
    let branch = app.call("open_conversation", json!({ "id": id })).unwrap()["branch"].clone();
    let question = &branch[0];
    let content = question["message"]["content"].as_str().unwrap();
    let transcript = content.strip_prefix("Answer.\n\n").unwrap_or_default();
    assert!(!transcript.trim().is_empty(), "the transcript follows the text: {content:?}");
    assert_eq!(question["attachments"], json!([]), "the clip went as words");
    let again = ask(json!(null)).unwrap_err();
    assert!(again["message"].as_str().unwrap().contains("no longer attached"), "the clip was sent: {again}");
}

#[test]
fn a_dropped_sound_file_is_attached_as_a_clip_and_a_broken_one_refused_by_name() {
    let app = TestApp::start();
    let tone = app.dir.path().join("tone.wav");
    std::fs::write(&tone, tone_wav(44_100, 2, 1.5, 440.0)).unwrap();
    let broken = app.dir.path().join("broken.wav");
    std::fs::write(&broken, b"RIFF\x10\0\0\0WAVEfmt nonsense").unwrap();
    let attached = app.call("attach_images", json!({ "paths": [tone, broken] })).unwrap();
    assert_eq!(attached["images"], json!([]), "{attached}");
    assert_eq!(attached["clips"][0]["name"], "tone.wav", "{attached}");
    assert_eq!(attached["clips"][0]["duration_ms"], 1500, "resampled to 16 kHz mono, still 1.5 s");
    let refused = attached["refused"][0].as_str().unwrap_or_default();
    assert!(refused.contains("broken.wav"), "{attached}");
}

#[test]
fn the_sound_devices_are_listed() {
    microphone();
    let app = TestApp::start();
    let devices = app.call("audio_devices", json!({})).unwrap();
    let inputs = devices["inputs"].as_array().unwrap();
    assert!(inputs.iter().any(|input| input["id"] == "alsa:question"), "{devices}");
}

//! `chat --listen`, `--speak` and `devices --audio`: questions recorded for real through cpal
//! and ALSA from microphones that play files, heard by the audio projector; replies spoken
//! through a real Speech Dispatcher into a file (../shared/TESTING.md); no microphone, a pulled
//! one, a model that cannot hear and no speech service are said clearly.

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Output, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use gemma_desk_testing::sound_devices::{self, AfterSound, PacedMicrophone, SPEECH_RATE, SpeechService};

use crate::{cli, conversation_id, model_arg, run, test_projector};

/// A folder with the test's ALSA configuration: `paced` (the default input: the speech in
/// real time, then silence) and `pulled` (the speech, then nothing, as if pulled out).
struct Microphones {
    dir: tempfile::TempDir,
    config: PathBuf,
    speech: Vec<i16>,
}

impl Microphones {
    fn new() -> Microphones {
        let dir = tempfile::tempdir().unwrap();
        let speech = sound_devices::speech_samples(dir.path(), "speech", "what is the capital of France");
        let config = sound_devices::alsa_config(
            dir.path(),
            &[("paced", &dir.path().join("paced.fifo")), ("pulled", &dir.path().join("pulled.fifo"))],
            None,
        );
        Microphones { dir, config, speech }
    }

    fn fifo(&self, name: &str) -> PathBuf {
        self.dir.path().join(format!("{name}.fifo"))
    }

    fn speech_seconds(&self) -> f32 {
        self.speech.len() as f32 / SPEECH_RATE as f32
    }
}

fn chat_args(mmproj: Option<&Path>, extra: &[&str]) -> Vec<String> {
    let model = model_arg();
    let mut args: Vec<String> =
        ["chat", "--model", &model, "--greedy", "--max-tokens", "8", "--ctx", "1024"].map(str::to_owned).into();
    if let Some(mmproj) = mmproj {
        args.extend(["--mmproj".to_owned(), mmproj.to_string_lossy().into_owned()]);
    }
    args.extend(extra.iter().map(|&arg| arg.to_owned()));
    args
}

/// Starts the CLI with the test's sound devices, stdin and stderr piped; stderr's lines come
/// through the receiver (and are kept in the output's stderr by [`finish`]).
fn start(config: &Path, args: &[String]) -> (Child, mpsc::Receiver<String>) {
    let mut child = cli()
        .args(args)
        .env("ALSA_CONFIG_PATH", config)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the CLI runs");
    let stderr = child.stderr.take().unwrap();
    let (lines, receiver) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            let _ = lines.send(line);
        }
    });
    (child, receiver)
}

/// Waits for a stderr line containing `text`, and gives every line read until then.
fn wait_for(lines: &mpsc::Receiver<String>, text: &str) -> Vec<String> {
    let mut seen = Vec::new();
    loop {
        match lines.recv_timeout(Duration::from_secs(120)) {
            Ok(line) => {
                let found = line.contains(text);
                seen.push(line);
                if found {
                    return seen;
                }
            }
            Err(_) => panic!("the CLI never said {text:?}; it said:\n{}", seen.join("\n")),
        }
    }
}

/// Presses Enter, and collects the rest: the exit status, stdout, and every stderr line.
fn press_enter_and_finish(mut child: Child, lines: mpsc::Receiver<String>, mut seen: Vec<String>) -> Output {
    child.stdin.take().unwrap().write_all(b"\n").unwrap();
    let output = child.wait_with_output().expect("the CLI finishes");
    seen.extend(lines.iter());
    Output { stderr: seen.join("\n").into_bytes(), ..output }
}

fn recorded_seconds(stderr: &str) -> f32 {
    let line = stderr
        .lines()
        .find(|line| line.starts_with("(a ") && line.ends_with(" s recording)"))
        .unwrap_or_else(|| panic!("the CLI says how long the recording is: {stderr}"));
    line["(a ".len()..line.len() - " s recording)".len()].parse().unwrap()
}

#[test]
fn a_question_asked_by_voice_is_recorded_until_enter_heard_and_stored() {
    let microphones = Microphones::new();
    let projector = test_projector("audio-gemma4ua");
    let db = microphones.dir.path().join("voice.sqlite3");
    let db = db.to_string_lossy();
    let _paced = PacedMicrophone::start(&microphones.fifo("paced"), &microphones.speech, AfterSound::Silence);
    let (child, lines) =
        start(&microphones.config, &chat_args(Some(&projector), &["--listen", "--db", &db, "Answer."]));
    let seen = wait_for(&lines, "(recording; Enter sends)");
    // Enter once the speech has played (the device starts playing when the recording opens it).
    std::thread::sleep(Duration::from_secs_f32(microphones.speech_seconds() + 0.8));
    let output = press_enter_and_finish(child, lines, seen);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    let recorded = recorded_seconds(&stderr);
    let spoken = microphones.speech_seconds();
    assert!(recorded > spoken - 0.1 && recorded < spoken + 0.5, "a {recorded} s recording of {spoken} s of speech");
    let heard = String::from_utf8_lossy(&output.stdout).into_owned();

    let without = run(&chat_args(Some(&projector), &["Answer."]).iter().map(String::as_str).collect::<Vec<_>>());
    assert!(without.status.success());
    assert_ne!(heard, String::from_utf8_lossy(&without.stdout), "the greedy reply depends on what was said");

    let id = conversation_id(&stderr);
    let shown = run(&["history", "--db", &db, "show", &id]);
    let shown = String::from_utf8_lossy(&shown.stdout);
    assert!(shown.contains(&format!("(attached: recording.wav, audio/wav, {recorded:.1} s)")), "{shown}");
}

#[test]
fn a_microphone_pulled_out_mid_question_keeps_what_was_said_and_sends_it() {
    let microphones = Microphones::new();
    let projector = test_projector("audio-gemma4ua");
    let said = &microphones.speech[..microphones.speech.len() * 2 / 3];
    let _pulled = PacedMicrophone::start(&microphones.fifo("pulled"), said, AfterSound::Nothing);
    let args = chat_args(Some(&projector), &["--listen", "--microphone", "alsa:pulled", "Answer."]);
    let (child, lines) = start(&microphones.config, &args);
    let seen = wait_for(&lines, "(recording stopped; Enter sends what was recorded)");
    let output = press_enter_and_finish(child, lines, seen);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    assert!(
        stderr.contains("note: the microphone stopped sending sound; what was recorded before is sent"),
        "{stderr}"
    );
    let recorded = recorded_seconds(&stderr);
    let spoken = said.len() as f32 / SPEECH_RATE as f32;
    assert!(recorded > spoken - 0.1 && recorded < spoken + 0.5, "a {recorded} s recording of {spoken} s of speech");
    assert!(!output.stdout.is_empty(), "the recording is answered");
}

#[test]
fn without_a_microphone_asking_by_voice_says_so_and_asks_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("asound.conf");
    std::fs::write(&config, "</usr/share/alsa/alsa.conf>\npcm.!default { type hw; card 31 }\n").unwrap();
    let projector = test_projector("audio-gemma4ua");
    let output = cli()
        .args(chat_args(Some(&projector), &["--listen", "Answer."]))
        .env("ALSA_CONFIG_PATH", &config)
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("error: cannot record: no microphone was found"), "{stderr}");
    assert!(output.stdout.is_empty(), "nothing was asked");

    let chosen = cli()
        .args(chat_args(Some(&projector), &["--listen", "--microphone", "alsa:headset", "Answer."]))
        .env("ALSA_CONFIG_PATH", &config)
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&chosen.stderr);
    assert!(stderr.contains("the microphone \"alsa:headset\" is not connected"), "{stderr}");
}

#[test]
fn a_model_that_cannot_hear_is_refused_before_anything_is_recorded() {
    let microphones = Microphones::new();
    let output = cli()
        .args(chat_args(None, &["--listen", "Answer."]))
        .env("ALSA_CONFIG_PATH", &microphones.config)
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("cannot hear sound"), "{stderr}");
    assert!(!stderr.contains("recording"), "nothing was recorded: {stderr}");
}

#[test]
fn the_sound_devices_are_listed_with_the_default_input_marked() {
    let microphones = Microphones::new();
    let output = cli().args(["devices", "--audio"]).env("ALSA_CONFIG_PATH", &microphones.config).output().unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let devices: serde_json::Value = serde_json::from_slice(&output.stdout).expect("JSON on stdout");
    let inputs = devices["inputs"].as_array().expect("a list of inputs");
    let ids: Vec<&str> = inputs.iter().filter_map(|input| input["id"].as_str()).collect();
    assert!(ids.contains(&"alsa:paced") && ids.contains(&"alsa:pulled"), "{devices}");
    let defaults: Vec<&str> =
        inputs.iter().filter(|input| input["default"] == true).filter_map(|input| input["id"].as_str()).collect();
    assert_eq!(defaults, ["alsa:default"], "the system's default input is the one marked: {devices}");
    assert!(devices["outputs"].is_array(), "{devices}");
}

#[test]
fn a_reply_is_spoken_aloud_through_the_speech_service() {
    let dir = tempfile::tempdir().unwrap();
    let service = SpeechService::start(dir.path());
    let output = cli()
        .args(chat_args(None, &["--speak", "The capital of France is Paris. It lies"]))
        .env("SPEECHD_ADDRESS", &service.address)
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    assert!(!stderr.contains("not spoken"), "{stderr}");
    // The CLI waits for the reply to be spoken before it exits.
    assert!(service.spoken_bytes() > 10_000, "{} bytes of speech for {:?}", service.spoken_bytes(), output.stdout);
}

#[test]
fn without_a_speech_service_speaking_says_so_before_anything_is_asked() {
    let dir = tempfile::tempdir().unwrap();
    let nowhere = format!("unix_socket:{}", dir.path().join("no-such.sock").display());
    let output = cli()
        .args(chat_args(None, &["--speak", "Hello"]))
        .env("SPEECHD_ADDRESS", nowhere)
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("error: spoken replies are not available"), "{stderr}");
    assert!(output.stdout.is_empty(), "nothing was asked");
}

//! A machine without a microphone (ALSA's default capture device cannot be opened): recording
//! says so, and listing devices still works.

use gemma_desk_voice::{CaptureError, Recording};

#[test]
fn without_a_microphone_recording_says_there_is_none() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("asound.conf");
    // The default device is a sound card that is not there, whatever this machine has.
    std::fs::write(&config, "</usr/share/alsa/alsa.conf>\npcm.!default { type hw; card 31 }\n").unwrap();
    // SAFETY: the only test of this process, before anything reads the environment.
    unsafe { std::env::set_var("ALSA_CONFIG_PATH", &config) };
    let error = Recording::start(None).err().expect("there is no microphone");
    assert_eq!(error, CaptureError::NoMicrophone);
    assert!(error.to_string().contains("no microphone was found"), "{error}");
    let _ = gemma_desk_voice::devices();
}

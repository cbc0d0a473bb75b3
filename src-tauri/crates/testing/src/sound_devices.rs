//! Sound devices without a sound card (../shared/TESTING.md): an ALSA configuration whose
//! microphones play files and whose speaker writes to a file, for real capture through cpal
//! and real speech through Speech Dispatcher. Select it with `ALSA_CONFIG_PATH`.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread;
use std::time::{Duration, Instant};

/// The rate of the speech the tests make and compare against: the model's.
pub const SPEECH_RATE: u32 = 16_000;
/// What the test microphones deliver, like a laptop's built-in microphone: 32-bit float stereo
/// at 48 kHz, which cpal opens as the device's default. alsa-lib's `file` plugin reads its
/// `infile` only when the client takes the device's own format (through plug's conversions it
/// delivers the first fraction of a second of the file, then silence), so the files are
/// written in that format and plug passes them through.
pub const MICROPHONE_RATE: u32 = 48_000;
pub const MICROPHONE_CHANNELS: u16 = 2;
const MICROPHONE_FRAME_BYTES: usize = 4 * MICROPHONE_CHANNELS as usize;
/// The format the test speaker is written in: 16-bit little-endian mono at 22.05 kHz.
pub const SPEAKER_RATE: u32 = 22_050;

/// Writes `dir/asound.conf`: each of `microphones` (name, a file or FIFO of
/// [`microphone_sound`]) is a capture device
/// listed under its name, the first is the default input; the default output writes raw
/// audio to `speaker` (or is discarded).
pub fn alsa_config(dir: &Path, microphones: &[(&str, &Path)], speaker: Option<&Path>) -> PathBuf {
    let mut config = String::from("</usr/share/alsa/alsa.conf>\n");
    for (name, infile) in microphones {
        config.push_str(&format!(
            "pcm.{name}_file {{ type file; slave.pcm \"null\"; file \"/dev/null\"; infile \"{infile}\"; format \"raw\" }}\n\
             pcm.{name} {{ type plug; slave {{ pcm \"{name}_file\"; format FLOAT_LE; rate {MICROPHONE_RATE}; channels {MICROPHONE_CHANNELS} }}\n\
             hint {{ show on; ioid Input; description \"{name}\" }} }}\n",
            infile = infile.display()
        ));
    }
    let playback = match speaker {
        Some(path) => {
            config.push_str(&format!(
                "pcm.speaker_file {{ type file; slave.pcm \"null\"; file \"{}\"; format \"raw\" }}\n\
                 pcm.speaker {{ type plug; slave {{ pcm \"speaker_file\"; format S16_LE; rate {SPEAKER_RATE}; channels 1 }} }}\n",
                path.display()
            ));
            "speaker"
        }
        None => "null",
    };
    let capture = microphones.first().map_or("null", |(name, _)| name);
    config.push_str(&format!("pcm.!default {{ type asym; playback.pcm \"{playback}\"; capture.pcm \"{capture}\" }}\n"));
    let path = dir.join("asound.conf");
    std::fs::write(&path, config).expect("the ALSA configuration is written");
    path
}

/// `text` spoken by espeak-ng, from its first sound to its last, as 16-bit mono samples at
/// [`SPEECH_RATE`].
pub fn speech_samples(dir: &Path, name: &str, text: &str) -> Vec<i16> {
    let wav = crate::sounds::speech_wav(dir, &format!("{name}.wav"), text);
    let raw = dir.join(format!("{name}.raw"));
    let status = Command::new("sox")
        .arg(&wav)
        .args(["-r", &SPEECH_RATE.to_string(), "-c", "1", "-b", "16", "-e", "signed-integer", "-t", "raw"])
        .arg(&raw)
        // espeak-ng's own silence before and after the words is cut, so the samples are speech.
        .args(["silence", "1", "0.01", "0.5%", "reverse", "silence", "1", "0.01", "0.5%", "reverse"])
        .status()
        .expect("sox runs (scripts/setup installs it)");
    assert!(status.success(), "sox failed: {status}");
    let bytes = std::fs::read(&raw).expect("sox wrote the raw file");
    bytes.chunks_exact(2).map(|pair| i16::from_le_bytes([pair[0], pair[1]])).collect()
}

/// `speech` (16-bit mono at [`SPEECH_RATE`]) as the test microphones deliver it, converted by
/// sox.
pub fn microphone_sound(speech: &[i16]) -> Vec<u8> {
    let mut sox = Command::new("sox")
        .args(["-t", "raw", "-r", &SPEECH_RATE.to_string(), "-c", "1", "-b", "16", "-e", "signed-integer", "-"])
        .args(["-t", "raw", "-r", &MICROPHONE_RATE.to_string(), "-c", &MICROPHONE_CHANNELS.to_string()])
        .args(["-b", "32", "-e", "floating-point", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("sox runs (scripts/setup installs it)");
    let mut stdin = sox.stdin.take().expect("sox's input");
    let bytes: Vec<u8> = speech.iter().flat_map(|sample| sample.to_le_bytes()).collect();
    let feeder = thread::spawn(move || stdin.write_all(&bytes));
    let output = sox.wait_with_output().expect("sox converts the speech");
    feeder.join().expect("the speech is fed to sox").expect("sox reads the speech");
    assert!(output.status.success(), "sox failed: {}", output.status);
    output.stdout
}

/// Writes the file a test microphone plays: `speech` as [`microphone_sound`].
pub fn write_microphone_file(path: &Path, speech: &[i16]) {
    std::fs::write(path, microphone_sound(speech)).expect("the microphone's sound is written");
}

/// What a paced microphone does once its sound has been played.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AfterSound {
    /// Goes on delivering silence, like a quiet room.
    Silence,
    /// Delivers nothing more while staying open, like a device that was pulled out.
    Nothing,
}

/// A microphone that plays sound in real time: a FIFO the ALSA file device reads, written at
/// the sound's own pace by a thread. Every time the device is opened (listing devices opens
/// it too), the sound starts again from the beginning.
pub struct PacedMicrophone {
    fifo: PathBuf,
    stop: Arc<AtomicBool>,
    writer: Option<thread::JoinHandle<()>>,
}

impl PacedMicrophone {
    /// Plays `speech` (16-bit mono at [`SPEECH_RATE`]) through `fifo`.
    pub fn start(fifo: &Path, speech: &[i16], after: AfterSound) -> PacedMicrophone {
        let sound = microphone_sound(speech);
        let _ = std::fs::remove_file(fifo);
        let status = Command::new("mkfifo").arg(fifo).status().expect("mkfifo runs");
        assert!(status.success(), "mkfifo failed");
        let stop = Arc::new(AtomicBool::new(false));
        let writer = {
            let (fifo, stop) = (fifo.to_owned(), Arc::clone(&stop));
            thread::spawn(move || {
                while !stop.load(Ordering::Relaxed) {
                    // Blocks until the device opens its end.
                    let Ok(mut file) = File::create(&fifo) else { return };
                    if stop.load(Ordering::Relaxed) {
                        return;
                    }
                    play(&mut file, &sound, after, &stop);
                }
            })
        };
        PacedMicrophone { fifo: fifo.to_owned(), stop, writer: Some(writer) }
    }
}

/// Writes `sound` in 20 ms pieces at its pace, then what `after` says, until the reader
/// closes its end or `stop` is set.
fn play(file: &mut File, sound: &[u8], after: AfterSound, stop: &AtomicBool) {
    const PIECE: usize = MICROPHONE_RATE as usize / 50 * MICROPHONE_FRAME_BYTES;
    let started = Instant::now();
    let silence = [0u8; PIECE];
    let mut written = 0usize;
    while !stop.load(Ordering::Relaxed) {
        let piece = if written < sound.len() {
            &sound[written..(written + PIECE).min(sound.len())]
        } else if after == AfterSound::Silence {
            &silence[..]
        } else {
            thread::sleep(Duration::from_millis(20));
            continue;
        };
        if file.write_all(piece).is_err() {
            return;
        }
        written += piece.len();
        let frames = written / MICROPHONE_FRAME_BYTES;
        let due = Duration::from_secs_f64(frames as f64 / f64::from(MICROPHONE_RATE));
        thread::sleep(due.saturating_sub(started.elapsed()));
    }
}

impl Drop for PacedMicrophone {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        // Opening the read end wakes a writer waiting for a reader.
        let _reader = OpenOptions::new().read(true).custom_flags(libc::O_NONBLOCK).open(&self.fifo);
        if let Some(writer) = self.writer.take() {
            let _ = writer.join();
        }
        let _ = std::fs::remove_file(&self.fifo);
    }
}

/// A Speech Dispatcher of the test's own (../shared/TESTING.md): espeak-ng speaks through ALSA
/// into a raw file (16-bit mono at [`SPEAKER_RATE`]) instead of a sound card. Clients reach it
/// with `SPEECHD_ADDRESS` set to [`SpeechService::address`].
pub struct SpeechService {
    pub address: String,
    /// What was spoken, as it is written.
    pub speaker: PathBuf,
    daemon: std::process::Child,
}

impl SpeechService {
    /// Starts the service with its configuration, socket and logs in `dir`. It quits by
    /// itself 10 s after its last client left, so one kept for a whole test process ends too.
    pub fn start(dir: &Path) -> SpeechService {
        let config_dir = dir.join("speech-dispatcher");
        let status = Command::new("cp").arg("-r").arg("/etc/speech-dispatcher").arg(&config_dir).status();
        assert!(status.is_ok_and(|status| status.success()), "scripts/setup installs speech-dispatcher");
        let speechd_conf = config_dir.join("speechd.conf");
        let conf = std::fs::read_to_string(&speechd_conf).expect("speechd.conf is read");
        let conf = conf
            .lines()
            .map(|line| {
                if line.trim_start_matches(['#', ' ']).starts_with("AudioOutputMethod") {
                    "AudioOutputMethod \"alsa\""
                } else {
                    line
                }
            })
            .collect::<Vec<_>>()
            .join("\n");
        std::fs::write(&speechd_conf, conf).expect("speechd.conf is written");
        let speaker = dir.join("speaker.raw");
        let alsa_dir = dir.join("alsa");
        std::fs::create_dir_all(&alsa_dir).expect("a folder for the ALSA configuration");
        let alsa = alsa_config(&alsa_dir, &[], Some(&speaker));
        let socket = dir.join("speechd.sock");
        let daemon = Command::new("speech-dispatcher")
            .args(["--run-single", "--timeout", "10", "--config-dir"])
            .arg(&config_dir)
            .arg("--socket-path")
            .arg(&socket)
            .arg("--pid-file")
            .arg(dir.join("speechd.pid"))
            .arg("--log-dir")
            .arg(dir.join("logs"))
            .env("ALSA_CONFIG_PATH", alsa)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("speech-dispatcher runs (scripts/setup installs it)");
        let started = Instant::now();
        while !socket.exists() {
            assert!(started.elapsed() < Duration::from_secs(20), "speech-dispatcher made no socket");
            thread::sleep(Duration::from_millis(50));
        }
        SpeechService { address: format!("unix_socket:{}", socket.display()), speaker, daemon }
    }

    /// Bytes of speech written so far.
    pub fn spoken_bytes(&self) -> u64 {
        std::fs::metadata(&self.speaker).map_or(0, |metadata| metadata.len())
    }
}

impl Drop for SpeechService {
    fn drop(&mut self) {
        let _ = self.daemon.kill();
        let _ = self.daemon.wait();
    }
}

//! Spoken replies through the real speech service: a Speech Dispatcher of the test's own with
//! espeak-ng, its sound written by ALSA to a file (../shared/TESTING.md).

use std::sync::{Mutex, OnceLock, mpsc};
use std::time::{Duration, Instant};

use gemma_desk_testing::sound_devices::SpeechService;
use gemma_desk_voice::{Speaker, SpeechEvent};

/// The service of this test process, started once before the first client connects. The
/// tests take turns with it: they measure one shared file.
fn service() -> std::sync::MutexGuard<'static, SpeechService> {
    static SERVICE: OnceLock<Mutex<SpeechService>> = OnceLock::new();
    SERVICE
        .get_or_init(|| {
            let dir = tempfile::tempdir().expect("a temporary folder").keep();
            let service = SpeechService::start(&dir);
            // SAFETY: set once, before any thread of this process connects to a speech service.
            unsafe { std::env::set_var("SPEECHD_ADDRESS", &service.address) };
            Mutex::new(service)
        })
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

fn speaker() -> (Speaker, mpsc::Receiver<SpeechEvent>) {
    let (events, received) = mpsc::channel();
    let speaker = Speaker::start(move |event| drop(events.send(event))).expect("the speech service is reached");
    (speaker, received)
}

fn next_event(events: &mpsc::Receiver<SpeechEvent>) -> SpeechEvent {
    events.recv_timeout(Duration::from_secs(30)).expect("the speaker says what it does")
}

/// The next event but [`SpeechEvent::Voiced`] (which comes when the service gets to it).
fn next_state(events: &mpsc::Receiver<SpeechEvent>) -> SpeechEvent {
    loop {
        match next_event(events) {
            SpeechEvent::Voiced => continue,
            event => return event,
        }
    }
}

/// Waits until `grown` holds for the speaker file, for at most 30 s.
fn wait_until(service: &SpeechService, grown: impl Fn(u64) -> bool) -> u64 {
    let started = Instant::now();
    loop {
        let bytes = service.spoken_bytes();
        if grown(bytes) || started.elapsed() > Duration::from_secs(30) {
            return bytes;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// The speaker file's size once it has not grown for 300 ms (at most 5 s).
fn settled(service: &SpeechService) -> u64 {
    let started = Instant::now();
    let mut last = (service.spoken_bytes(), Instant::now());
    while started.elapsed() < Duration::from_secs(5) {
        std::thread::sleep(Duration::from_millis(20));
        let bytes = service.spoken_bytes();
        if bytes != last.0 {
            last = (bytes, Instant::now());
        } else if last.1.elapsed() > Duration::from_millis(300) {
            break;
        }
    }
    last.0
}

#[test]
fn a_streaming_reply_is_spoken_from_its_first_sentence_before_the_rest_has_arrived() {
    let service = service();
    let (speaker, events) = speaker();
    let before = service.spoken_bytes();
    let mut reply = speaker.read_aloud();
    for piece in ["The capital", " of France is Paris", ". It lies on the", " Seine"] {
        reply.push(piece);
    }
    // The first sentence is complete; the second is still arriving.
    assert_eq!(next_event(&events), SpeechEvent::Started);
    assert_eq!(next_event(&events), SpeechEvent::Voiced, "the service began to speak while the reply streamed");
    let first = wait_until(&service, |bytes| bytes > before);
    assert!(first > before, "the first sentence was spoken while the reply streamed");
    reply.push(" river, and code like `rm -rf /` is not read.\n\n```sh\nls -la\n```\n");
    reply.finish();
    speaker.wait_until_quiet();
    let spoken = settled(&service);
    // About a second of speech per sentence at 22 050 samples of 2 bytes a second.
    assert!(spoken - first > 22_050, "the rest of the reply was spoken: {} bytes", spoken - first);
    assert!(!speaker.is_speaking());
    assert_eq!(events.try_iter().last(), Some(SpeechEvent::Finished), "the window hears that speech ended");
}

#[test]
fn stop_silences_speech_at_once_and_no_queued_sentence_is_heard_after_it() {
    let service = service();
    let (speaker, events) = speaker();
    let sentence = "This is one of many sentences of a long reply that nobody wants to hear.";
    let start = service.spoken_bytes();
    speaker.say(sentence);
    assert_eq!(next_state(&events), SpeechEvent::Started);
    assert_eq!(next_state(&events), SpeechEvent::Finished);
    let one_sentence = settled(&service) - start;
    assert!(one_sentence > 0, "a sentence was spoken");

    let before = service.spoken_bytes();
    for _ in 0..12 {
        speaker.say(sentence);
    }
    assert_eq!(next_state(&events), SpeechEvent::Started);
    wait_until(&service, |bytes| bytes > before);
    let at_stop = service.spoken_bytes();
    speaker.stop();
    assert!(!speaker.is_speaking(), "stopping is seen at once");
    assert_eq!(events.iter().find(|event| *event == SpeechEvent::Finished), Some(SpeechEvent::Finished));
    // The service flushes what it had already rendered (a fraction of a second), then no more.
    let stopped_at = settled(&service);
    assert!(stopped_at - at_stop < one_sentence, "{} bytes came after Stop", stopped_at - at_stop);
    std::thread::sleep(Duration::from_millis(1500));
    assert_eq!(service.spoken_bytes(), stopped_at, "nothing is spoken after Stop");
    let sentences_heard = (stopped_at - before) as f64 / one_sentence as f64;
    assert!(sentences_heard < 6.0, "{sentences_heard:.1} of the 12 sentences were spoken before Stop took hold");

    // The speaker is ready for the next reply.
    speaker.say("Next.");
    speaker.wait_until_quiet();
    assert!(settled(&service) > stopped_at);
}

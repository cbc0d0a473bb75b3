//! Recording a question from the microphone in a terminal: Enter ends it, a level meter and the
//! time show on stderr while it records.

use std::io::{BufRead, IsTerminal, Write};
use std::sync::mpsc;
use std::time::Duration;

use anyhow::Context;
use gemma_desk_chat::{CheckedAttachment, clip_attachment};
use gemma_desk_voice::{Ended, MAX_CLIP, Recording};

/// Width of the level meter in characters.
const METER: usize = 20;
/// How long before the limit the meter warns that the clip is about to end.
const WARN_BEFORE_LIMIT: Duration = Duration::from_secs(5);

/// Records from `microphone` (an id from `devices --audio`, or the default input) until Enter is
/// pressed or stdin ends, and gives the clip to attach. A recording cut short by the limit or
/// by the device going away is kept, and said so.
pub fn record_question(microphone: Option<&str>) -> anyhow::Result<CheckedAttachment> {
    let recording = Recording::start(microphone).context("cannot record")?;
    let enter = enter_pressed();
    let terminal = std::io::stderr().is_terminal();
    if !terminal {
        eprintln!("(recording; Enter sends)");
    }
    let mut said_stopped = false;
    loop {
        match enter.recv_timeout(Duration::from_millis(50)) {
            Err(mpsc::RecvTimeoutError::Timeout) => {}
            Ok(()) | Err(mpsc::RecvTimeoutError::Disconnected) => break,
        }
        let progress = recording.progress();
        if terminal {
            let lit = (progress.level * METER as f32).round() as usize;
            let warning =
                if MAX_CLIP.saturating_sub(progress.recorded) < WARN_BEFORE_LIMIT { "  (ending soon)" } else { "" };
            eprint!(
                "\r  [{}{}] {:4.1} s{warning}  (Enter sends)",
                "#".repeat(lit.min(METER)),
                " ".repeat(METER - lit.min(METER)),
                progress.recorded.as_secs_f32()
            );
            let _ = std::io::stderr().flush();
        }
        if progress.stopped && !said_stopped {
            said_stopped = true;
            eprintln!("\n(recording stopped; Enter sends what was recorded)");
        }
    }
    if terminal {
        eprintln!();
    }
    let take = recording.finish().context("nothing to send")?;
    match &take.ended {
        Ended::Released => {}
        Ended::LimitReached => {
            eprintln!("note: the clip reached the {} s limit; what came before it is sent", MAX_CLIP.as_secs())
        }
        Ended::DeviceLost(reason) => eprintln!("note: {reason}; what was recorded before is sent"),
    }
    eprintln!("(a {:.1} s recording)", take.clip.duration().as_secs_f32());
    Ok(clip_attachment(&take.clip, Some("recording.wav".to_owned()))?)
}

/// A channel that gets a message when a line (Enter) is read from stdin, and is closed when
/// stdin ends.
fn enter_pressed() -> mpsc::Receiver<()> {
    let (sender, receiver) = mpsc::channel();
    std::thread::spawn(move || {
        let mut line = String::new();
        if std::io::stdin().lock().read_line(&mut line).is_ok_and(|read| read > 0) {
            let _ = sender.send(());
        }
    });
    receiver
}

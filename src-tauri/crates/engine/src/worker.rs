//! The worker: the engine in a child process, serving [`Request`]s from stdin and writing
//! [`Event`]s to stdout, one JSON object per line. llama.cpp aborts the whole process on some
//! failures; living in a child keeps that from taking the app down.
//!
//! One thread reads stdin (so that a cancel is seen while a reply is being generated); the
//! calling thread owns the model and the context. The worker exits when stdin closes.

use std::io::{BufRead, Write};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc::{self, Receiver};
use std::sync::{Arc, Mutex};

use llama_cpp_2::llama_backend::LlamaBackend;

use crate::error::EngineError;
use crate::model::LoadedModel;
use crate::protocol::{ERROR_MARK, ErrorCode, Event, LoadOptions, Request};
use crate::session::{ReplyEvent, Session};

/// Serves requests from `input` until it closes, writing events to `output`.
pub fn serve(backend: &LlamaBackend, input: impl BufRead + Send + 'static, output: impl Write + Send + 'static) {
    let events = EventSink(Arc::new(Mutex::new(Box::new(output))));
    let stop = Arc::new(StopSignal::default());
    let requests = read_requests(input, events.clone(), stop.clone());
    events.send(&Event::Ready { pid: std::process::id() });

    let mut next = requests.recv().ok();
    while let Some(request) = next.take() {
        next = match request {
            Request::Load(options) => serve_model(backend, &options, &requests, &events, &stop),
            Request::Cancel { .. } => requests.recv().ok(),
            Request::Generate { id, .. } => {
                events.error(Some(id), ErrorCode::NoModel, "no model is loaded; load one first");
                requests.recv().ok()
            }
            Request::Render { .. } | Request::Bench { .. } => {
                events.error(None, ErrorCode::NoModel, "no model is loaded; load one first");
                requests.recv().ok()
            }
        };
    }
}

/// Loads a model and serves requests with it until another load arrives (returned) or input ends.
fn serve_model(
    backend: &LlamaBackend,
    options: &LoadOptions,
    requests: &Receiver<Request>,
    events: &EventSink,
    stop: &StopSignal,
) -> Option<Request> {
    let loaded = match LoadedModel::load(backend, options) {
        Ok(loaded) => loaded,
        Err(error) => {
            events.engine_error(None, &error);
            return requests.recv().ok();
        }
    };
    let mut session = match Session::new(backend, &loaded, options) {
        Ok(session) => session,
        Err(error) => {
            events.engine_error(None, &error);
            return requests.recv().ok();
        }
    };
    events.send(&Event::Loaded(session.info()));

    loop {
        match requests.recv().ok()? {
            request @ Request::Load(_) => return Some(request),
            Request::Cancel { .. } => {}
            Request::Generate { id, messages, options, sampling, grammar } => {
                let cancelled = || stop.is_cancelled(id);
                let mut on_event = |event| match event {
                    ReplyEvent::Text(text) => events.send(&Event::Token { id, text }),
                    ReplyEvent::Notice(message) => events.send(&Event::Notice { id, message }),
                };
                match session.generate(&messages, &options, &sampling, grammar.as_deref(), &cancelled, &mut on_event) {
                    Ok(figures) => events.send(&Event::Done { id, figures }),
                    Err(error) => events.engine_error(Some(id), &error),
                }
                // While the user reads the reply, make its tokens reusable for the next turn.
                if let Err(error) = session.settle() {
                    eprintln!("gemma-desk worker: could not settle the reply in the cache: {error}");
                }
            }
            Request::Render { messages, options } => match session.render(&messages, &options) {
                Ok(text) => events.send(&Event::Rendered { text }),
                Err(error) => events.engine_error(None, &error),
            },
            Request::Bench { prompt_tokens, gen_tokens } => match session.bench(prompt_tokens, gen_tokens) {
                Ok(figures) => events.send(&Event::BenchResult(figures)),
                Err(error) => events.engine_error(None, &error),
            },
        }
    }
}

/// Reads requests on a thread of its own. Cancels take effect at once (the model thread may be
/// busy generating); everything else is queued for the model thread.
fn read_requests(input: impl BufRead + Send + 'static, events: EventSink, stop: Arc<StopSignal>) -> Receiver<Request> {
    let (sender, receiver) = mpsc::channel();
    std::thread::spawn(move || {
        for line in input.lines() {
            let Ok(line) = line else { break };
            if line.trim().is_empty() {
                continue;
            }
            match serde_json::from_str::<Request>(&line) {
                Ok(Request::Cancel { id }) => stop.cancel(id),
                Ok(request) => {
                    if sender.send(request).is_err() {
                        break;
                    }
                }
                Err(error) => events.error(None, ErrorCode::BadRequest, &format!("malformed request: {error}")),
            }
        }
        stop.close();
    });
    receiver
}

/// Which reply the client asked to stop, and whether stdin has closed (which stops everything).
struct StopSignal {
    cancelled_id: AtomicU64,
    closed: AtomicBool,
}

impl Default for StopSignal {
    fn default() -> Self {
        StopSignal { cancelled_id: AtomicU64::new(u64::MAX), closed: AtomicBool::new(false) }
    }
}

impl StopSignal {
    fn cancel(&self, id: u64) {
        self.cancelled_id.store(id, Ordering::SeqCst);
    }

    fn close(&self) {
        self.closed.store(true, Ordering::SeqCst);
    }

    fn is_cancelled(&self, id: u64) -> bool {
        self.closed.load(Ordering::SeqCst) || self.cancelled_id.load(Ordering::SeqCst) == id
    }
}

/// Writes events as JSON lines; shared by the model thread and the request reader.
#[derive(Clone)]
struct EventSink(Arc<Mutex<Box<dyn Write + Send>>>);

impl EventSink {
    fn send(&self, event: &Event) {
        let line = serde_json::to_string(event).expect("events always serialize");
        let mut output = self.0.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        if writeln!(output, "{line}").and_then(|()| output.flush()).is_err() {
            // Nobody is listening any more: the client is gone.
            std::process::exit(0);
        }
    }

    fn error(&self, id: Option<u64>, code: ErrorCode, message: &str) {
        // Whatever llama.cpp wrote to stderr about this error is before the mark, so the client
        // knows when it has read all of it.
        eprintln!("{ERROR_MARK}");
        self.send(&Event::Error { id, code, message: message.to_string() });
    }

    fn engine_error(&self, id: Option<u64>, error: &EngineError) {
        self.error(id, error.code(), &error.to_string());
    }
}

//! The client side of the worker: starts the worker process, speaks the protocol, and restarts
//! a dead worker on the next request, saying why it died.

use std::collections::VecDeque;
use std::ffi::OsString;
use std::fmt;
use std::io::{BufRead, BufReader, Write};
use std::path::PathBuf;
use std::process::{Child, ChildStdin, Command, ExitStatus, Stdio};
use std::sync::mpsc::{self, Receiver};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use crate::failure::Failure;
use crate::protocol::{
    BenchFigures, ERROR_MARK, ErrorCode, Event, LoadOptions, ModelInfo, ReplyFigures, Request, StopReason,
};
use crate::sampling::SamplingParams;
use crate::template::{ChatMessage, RenderOptions};

/// Lines of the worker's stderr kept to explain a crash.
pub(crate) const STDERR_TAIL: usize = 20;
/// How long an error's stderr lines may trail the error itself.
const STDERR_GRACE: Duration = Duration::from_secs(1);

/// How to start a worker: usually the running executable with a `worker` subcommand.
#[derive(Debug, Clone)]
pub struct WorkerCommand {
    /// The program.
    pub program: PathBuf,
    /// Its arguments.
    pub args: Vec<OsString>,
}

impl WorkerCommand {
    /// The current executable run with `args` (the same binary serves as its own worker).
    pub fn current_exe(args: &[&str]) -> std::io::Result<Self> {
        Ok(WorkerCommand { program: std::env::current_exe()?, args: args.iter().map(OsString::from).collect() })
    }
}

/// How a worker died: its exit status and the last lines it wrote to stderr.
#[derive(Debug, Clone, PartialEq)]
pub struct WorkerDeath {
    /// The exit code or signal, in words.
    pub status: String,
    /// The last lines of its stderr (llama.cpp writes its assertion failures there).
    pub stderr_tail: Vec<String>,
}

impl WorkerDeath {
    /// What its last words say went wrong, when they say.
    pub fn failure(&self) -> Option<Failure> {
        Failure::classify(self.stderr_tail.iter().map(String::as_str))
    }
}

impl fmt::Display for WorkerDeath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "the engine process stopped ({})", self.status)?;
        // llama.cpp logs a lot at info level; only an error line explains a death.
        let explains = |line: &&String| {
            let line = line.to_lowercase();
            ["error", "assert", "abort", "fail", "out of memory"].iter().any(|word| line.contains(word))
        };
        if let Some(last) = self.stderr_tail.iter().rev().find(explains) {
            write!(f, "; its last words: {}", last.trim())?;
        }
        Ok(())
    }
}

/// What can go wrong talking to the worker.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// The worker process could not be started.
    #[error("could not start the engine process {program}: {source}")]
    Spawn {
        /// The program.
        program: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The worker died while handling a request.
    #[error("{0}")]
    WorkerDied(WorkerDeath),
    /// The engine answered with an error.
    #[error("{message}")]
    Engine {
        /// Its class.
        code: ErrorCode,
        /// In words.
        message: String,
        /// What llama.cpp's stderr said went wrong, when it did.
        failure: Option<Failure>,
    },
    /// A request needs a model and none was loaded.
    #[error("no model is loaded; load one first")]
    NoModel,
    /// The worker said something that does not fit the protocol.
    #[error("the engine process broke the protocol: {0}")]
    Protocol(String),
}

/// A finished (or interrupted) reply.
#[derive(Debug, Clone, PartialEq)]
pub struct Reply {
    /// The text generated (so far, when interrupted).
    pub text: String,
    /// Why it stopped.
    pub stop_reason: StopReason,
    /// The engine's figures; `None` when the worker died before sending them.
    pub figures: Option<ReplyFigures>,
    /// Notices about the reply, such as dropped turns.
    pub notices: Vec<String>,
    /// Why the worker died, when the reply was interrupted.
    pub worker_death: Option<WorkerDeath>,
}

impl ClientError {
    /// What llama.cpp said went wrong, when it said.
    pub fn failure(&self) -> Option<Failure> {
        match self {
            ClientError::Engine { failure, .. } => *failure,
            ClientError::WorkerDied(death) => death.failure(),
            _ => None,
        }
    }
}

/// The reply in progress, and the turns about to ask for one.
#[derive(Default)]
struct CurrentReply {
    /// The reply's request id and the stdin of the worker generating it.
    running: Option<(u64, Arc<Mutex<ChildStdin>>)>,
    /// Turns begun that will generate a reply ([`CancelHandle::arm`]).
    armed: u32,
    /// A stop asked for while armed, before the reply's request reached the worker.
    asked: bool,
}

/// Stops the reply in progress, from any thread.
#[derive(Clone, Default)]
pub struct CancelHandle(Arc<Mutex<CurrentReply>>);

impl CancelHandle {
    /// Asks the worker to stop the current reply after the token it is working on. Between
    /// [`CancelHandle::arm`] and the reply's request, the stop is kept and sent with the request;
    /// with no turn at all it does nothing.
    pub fn cancel(&self) {
        let mut current = self.lock();
        match &current.running {
            Some((id, stdin)) => {
                let _ = send_line(stdin, &Request::Cancel { id: *id });
            }
            None if current.armed > 0 => current.asked = true,
            None => {}
        }
    }

    /// Marks a turn that is about to generate (storing the question, rendering the prompt,
    /// waiting for the model to load), so that a stop pressed right after Send stops its reply
    /// instead of being lost. Disarmed when the returned guard is dropped.
    pub fn arm(&self) -> ArmedTurn {
        self.lock().armed += 1;
        ArmedTurn(self.clone())
    }

    /// The reply `id` has been asked of the worker behind `stdin`; a stop kept for it goes now.
    fn begin_reply(&self, id: u64, stdin: Arc<Mutex<ChildStdin>>) {
        let mut current = self.lock();
        if std::mem::take(&mut current.asked) {
            let _ = send_line(&stdin, &Request::Cancel { id });
        }
        current.running = Some((id, stdin));
    }

    fn end_reply(&self) {
        self.lock().running = None;
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, CurrentReply> {
        self.0.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// A turn armed for stops ([`CancelHandle::arm`]), until dropped.
pub struct ArmedTurn(CancelHandle);

impl Drop for ArmedTurn {
    fn drop(&mut self) {
        let mut current = self.0.lock();
        current.armed -= 1;
        if current.armed == 0 {
            current.asked = false;
        }
    }
}

struct RunningWorker {
    child: Child,
    stdin: Arc<Mutex<ChildStdin>>,
    events: Receiver<Event>,
    stderr: Arc<Mutex<Stderr>>,
    stderr_reader: Option<JoinHandle<()>>,
}

/// What a worker wrote to stderr since its current request began.
#[derive(Default)]
struct Stderr {
    /// The last lines.
    tail: VecDeque<String>,
    /// Errors it has marked ([`ERROR_MARK`]) in its life.
    errors: u64,
    /// How many of the last lines came since the current request began.
    fresh: usize,
}

impl RunningWorker {
    /// Starts a request's window on stderr; returns the errors marked so far.
    fn begin_request(&self) -> u64 {
        let mut stderr = self.stderr.lock().unwrap_or_else(|p| p.into_inner());
        stderr.fresh = 0;
        stderr.errors
    }

    /// The engine's error with what llama.cpp wrote about it (the request's stderr up to the
    /// error's mark, waited for briefly since stderr is another pipe).
    fn engine_error(&self, errors_before: u64, code: ErrorCode, message: String) -> ClientError {
        let started = std::time::Instant::now();
        let failure = loop {
            let stderr = self.stderr.lock().unwrap_or_else(|p| p.into_inner());
            if stderr.errors > errors_before || started.elapsed() > STDERR_GRACE {
                let skip = stderr.tail.len() - stderr.fresh;
                break Failure::classify(stderr.tail.iter().skip(skip).map(String::as_str));
            }
            drop(stderr);
            std::thread::sleep(Duration::from_millis(2));
        };
        let failure = failure.filter(|_| matches!(code, ErrorCode::LoadFailed | ErrorCode::DecodeFailed));
        ClientError::Engine { code, message, failure }
    }
}

/// Talks to one worker process at a time, starting (and restarting) it as needed.
pub struct WorkerClient {
    command: WorkerCommand,
    running: Option<RunningWorker>,
    model: Option<(LoadOptions, ModelInfo)>,
    next_id: u64,
    current: CancelHandle,
}

impl WorkerClient {
    /// A client that starts workers with `command`; nothing is started yet.
    pub fn new(command: WorkerCommand) -> Self {
        WorkerClient { command, running: None, model: None, next_id: 1, current: CancelHandle::default() }
    }

    /// A handle that cancels whichever reply is in progress.
    pub fn cancel_handle(&self) -> CancelHandle {
        self.current.clone()
    }

    /// The worker's process id, if one is running.
    pub fn worker_pid(&self) -> Option<u32> {
        self.running.as_ref().map(|worker| worker.child.id())
    }

    /// The loaded model, if any.
    pub fn model(&self) -> Option<&ModelInfo> {
        self.model.as_ref().map(|(_, info)| info)
    }

    /// Loads a model; it is loaded again automatically if the worker has to be restarted.
    pub fn load(&mut self, options: LoadOptions) -> Result<ModelInfo, ClientError> {
        self.model = None;
        self.ensure_running()?;
        let info = self.load_in_running_worker(&options)?;
        self.model = Some((options, info.clone()));
        Ok(info)
    }

    /// Generates a reply to `messages`, calling `on_text` with each piece as it arrives. A worker
    /// that dies mid-reply gives an [`StopReason::Interrupted`] reply with the text so far; the
    /// next request starts a fresh worker.
    pub fn generate(
        &mut self,
        messages: &[ChatMessage],
        options: &RenderOptions,
        sampling: &SamplingParams,
        on_text: impl FnMut(&str),
    ) -> Result<Reply, ClientError> {
        self.generate_constrained(messages, options, sampling, None, on_text)
    }

    /// Generates a reply like [`WorkerClient::generate`] that follows the GBNF `grammar` (root
    /// rule `root`), when one is given.
    pub fn generate_constrained(
        &mut self,
        messages: &[ChatMessage],
        options: &RenderOptions,
        sampling: &SamplingParams,
        grammar: Option<&str>,
        mut on_text: impl FnMut(&str),
    ) -> Result<Reply, ClientError> {
        self.ensure_model()?;
        let id = self.next_id;
        self.next_id += 1;
        let request = Request::Generate {
            id,
            messages: messages.to_vec(),
            options: options.clone(),
            sampling: sampling.clone(),
            grammar: grammar.map(str::to_owned),
        };
        let worker = self.running.as_mut().expect("ensure_model starts a worker");
        let mut text = String::new();
        let mut notices = Vec::new();
        let errors_before = worker.begin_request();
        let current = &self.current;
        let outcome = (|| {
            // Asked first: a stop sent before the worker knows the request would be lost.
            send_line(&worker.stdin, &request).map_err(|_| ())?;
            current.begin_reply(id, worker.stdin.clone());
            loop {
                match worker.events.recv().map_err(|_| ())? {
                    Event::Token { id: got, text: piece } if got == id => {
                        on_text(&piece);
                        text.push_str(&piece);
                    }
                    Event::Notice { id: got, message } if got == id => notices.push(message),
                    Event::Done { id: got, figures } if got == id => return Ok(Ok(figures)),
                    Event::Error { id: Some(got), code, message } if got == id => {
                        return Ok(Err(worker.engine_error(errors_before, code, message)));
                    }
                    _ => {}
                }
            }
        })();
        self.current.end_reply();
        match outcome {
            Ok(Ok(figures)) => Ok(Reply {
                text,
                stop_reason: figures.stop_reason,
                figures: Some(figures),
                notices,
                worker_death: None,
            }),
            Ok(Err(error)) => Err(error),
            Err(()) => {
                let death = self.bury_worker();
                Ok(Reply {
                    text,
                    stop_reason: StopReason::Interrupted,
                    figures: None,
                    notices,
                    worker_death: Some(death),
                })
            }
        }
    }

    /// The exact prompt text the engine would tokenize for `messages`.
    pub fn render(&mut self, messages: &[ChatMessage], options: &RenderOptions) -> Result<String, ClientError> {
        self.ensure_model()?;
        let request = Request::Render { messages: messages.to_vec(), options: options.clone() };
        match self.request(&request)? {
            Event::Rendered { text } => Ok(text),
            other => Err(ClientError::Protocol(format!("expected a rendered prompt, got {other:?}"))),
        }
    }

    /// llama-bench style prefill and decode figures, measured inside the worker.
    pub fn bench(&mut self, prompt_tokens: u32, gen_tokens: u32) -> Result<BenchFigures, ClientError> {
        self.ensure_model()?;
        match self.request(&Request::Bench { prompt_tokens, gen_tokens })? {
            Event::BenchResult(figures) => Ok(figures),
            other => Err(ClientError::Protocol(format!("expected benchmark figures, got {other:?}"))),
        }
    }

    /// Sends a request and waits for its single answer (not for replies).
    fn request(&mut self, request: &Request) -> Result<Event, ClientError> {
        let worker = self.running.as_mut().ok_or(ClientError::NoModel)?;
        let errors_before = worker.begin_request();
        let answer = send_line(&worker.stdin, request).ok().and_then(|()| worker.events.recv().ok());
        match answer {
            Some(Event::Error { code, message, .. }) => Err(worker.engine_error(errors_before, code, message)),
            Some(event) => Ok(event),
            None => Err(ClientError::WorkerDied(self.bury_worker())),
        }
    }

    /// Makes sure a live worker holds the model, restarting a dead one.
    fn ensure_model(&mut self) -> Result<(), ClientError> {
        let (options, _) = self.model.clone().ok_or(ClientError::NoModel)?;
        if self.ensure_running()? {
            let info = self.load_in_running_worker(&options)?;
            self.model = Some((options, info));
        }
        Ok(())
    }

    fn load_in_running_worker(&mut self, options: &LoadOptions) -> Result<ModelInfo, ClientError> {
        match self.request(&Request::Load(options.clone()))? {
            Event::Loaded(info) => Ok(info),
            other => Err(ClientError::Protocol(format!("expected the loaded model, got {other:?}"))),
        }
    }

    /// Starts a worker unless a live one is running; true when it started one.
    fn ensure_running(&mut self) -> Result<bool, ClientError> {
        if self.running.as_mut().is_some_and(|worker| matches!(worker.child.try_wait(), Ok(None))) {
            return Ok(false);
        }
        if self.running.is_some() {
            self.bury_worker();
        }
        let spawn_error = |source| ClientError::Spawn { program: self.command.program.clone(), source };
        let mut command = Command::new(&self.command.program);
        command.args(&self.command.args).stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped());
        // Its own process group: a Ctrl-C in the terminal stops the reply, not the engine.
        #[cfg(unix)]
        std::os::unix::process::CommandExt::process_group(&mut command, 0);
        let mut child = command.spawn().map_err(spawn_error)?;

        let stdout = child.stdout.take().expect("stdout is piped");
        let (sender, events) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                // A line that is not an event (llama.cpp printing to stdout) is ignored.
                if let Ok(event) = serde_json::from_str::<Event>(&line)
                    && sender.send(event).is_err()
                {
                    break;
                }
            }
        });
        let stderr_pipe = child.stderr.take().expect("stderr is piped");
        let stderr = Arc::new(Mutex::new(Stderr::default()));
        let written = stderr.clone();
        let stderr_reader = std::thread::spawn(move || {
            for line in BufReader::new(stderr_pipe).lines().map_while(Result::ok) {
                let mut stderr = written.lock().unwrap_or_else(|p| p.into_inner());
                if line == ERROR_MARK {
                    stderr.errors += 1;
                    continue;
                }
                if stderr.tail.len() == STDERR_TAIL {
                    stderr.tail.pop_front();
                }
                stderr.tail.push_back(line);
                stderr.fresh = (stderr.fresh + 1).min(stderr.tail.len());
            }
        });
        let stdin = Arc::new(Mutex::new(child.stdin.take().expect("stdin is piped")));
        let worker = RunningWorker { child, stdin, events, stderr, stderr_reader: Some(stderr_reader) };
        match worker.events.recv() {
            Ok(Event::Ready { .. }) => {
                self.running = Some(worker);
                Ok(true)
            }
            _ => {
                self.running = Some(worker);
                Err(ClientError::WorkerDied(self.bury_worker()))
            }
        }
    }

    /// Collects a dead (or broken) worker: its exit status and last stderr lines.
    fn bury_worker(&mut self) -> WorkerDeath {
        let Some(mut worker) = self.running.take() else {
            return WorkerDeath { status: "not running".into(), stderr_tail: Vec::new() };
        };
        let status = match wait_briefly(&mut worker.child) {
            Some(status) => describe_exit(status),
            None => {
                let _ = worker.child.kill();
                let _ = worker.child.wait();
                "stopped answering and was killed".to_string()
            }
        };
        if let Some(reader) = worker.stderr_reader.take() {
            let _ = reader.join();
        }
        let stderr_tail = worker.stderr.lock().unwrap_or_else(|p| p.into_inner()).tail.iter().cloned().collect();
        WorkerDeath { status, stderr_tail }
    }
}

impl Drop for WorkerClient {
    /// Closing stdin tells the worker to exit; one that does not is killed.
    fn drop(&mut self) {
        if let Some(mut worker) = self.running.take() {
            drop(worker.stdin);
            if wait_briefly(&mut worker.child).is_none() {
                let _ = worker.child.kill();
                let _ = worker.child.wait();
            }
        }
    }
}

fn wait_briefly(child: &mut Child) -> Option<ExitStatus> {
    for _ in 0..50 {
        if let Ok(Some(status)) = child.try_wait() {
            return Some(status);
        }
        std::thread::sleep(Duration::from_millis(40));
    }
    None
}

pub(crate) fn describe_exit(status: ExitStatus) -> String {
    #[cfg(unix)]
    if let Some(signal) = std::os::unix::process::ExitStatusExt::signal(&status) {
        let name = match signal {
            6 => " (SIGABRT: llama.cpp aborted)",
            9 => " (SIGKILL: killed, perhaps for lack of memory)",
            11 => " (SIGSEGV: crashed)",
            15 => " (SIGTERM)",
            _ => "",
        };
        return format!("killed by signal {signal}{name}");
    }
    match status.code() {
        Some(code) => format!("exit code {code}"),
        None => "exited".to_string(),
    }
}

fn send_line(stdin: &Mutex<ChildStdin>, request: &Request) -> std::io::Result<()> {
    let line = serde_json::to_string(request).expect("requests always serialize");
    let mut stdin = stdin.lock().unwrap_or_else(|p| p.into_inner());
    writeln!(stdin, "{line}")?;
    stdin.flush()
}

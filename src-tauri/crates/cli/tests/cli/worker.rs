//! The engine in its own process: crashes are survived, explained, and recovered from.

use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use gemma_desk_engine::{
    ChatMessage, ClientError, DeviceKind, Event, LoadOptions, RenderOptions, Request, SamplingParams, StopReason,
    WorkerClient, WorkerCommand, probe_devices,
};

use crate::test_model;

fn client() -> WorkerClient {
    let command = WorkerCommand { program: env!("CARGO_BIN_EXE_gemma-desk-cli").into(), args: vec!["worker".into()] };
    WorkerClient::new(command)
}

fn loaded_client() -> WorkerClient {
    let mut client = client();
    client
        .load(LoadOptions { model: test_model(), ctx: Some(1024), threads: Some(2), ..Default::default() })
        .expect("the model loads");
    client
}

fn greedy(max_tokens: u32) -> SamplingParams {
    SamplingParams { greedy: true, max_tokens: Some(max_tokens), ..Default::default() }
}

fn poem() -> Vec<ChatMessage> {
    vec![ChatMessage::user("Write a long story about a lighthouse keeper.")]
}

/// SIGKILL, as the kernel's out-of-memory killer sends it.
#[cfg(unix)]
fn kill(pid: u32) {
    let status = std::process::Command::new("kill").args(["-9", &pid.to_string()]).status().unwrap();
    assert!(status.success());
}

#[test]
#[cfg(unix)]
fn killing_the_worker_mid_reply_gives_an_interrupted_reply_and_the_next_request_works() {
    let mut client = loaded_client();
    let pid = client.worker_pid().unwrap();
    let mut pieces = 0;
    let reply = client
        .generate(&poem(), &RenderOptions::default(), &greedy(400), |_| {
            pieces += 1;
            if pieces == 5 {
                kill(pid);
            }
        })
        .expect("an interrupted reply is still a reply");
    assert_eq!(reply.stop_reason, StopReason::Interrupted);
    assert!(!reply.text.is_empty(), "the text streamed before the crash is kept");
    let death = reply.worker_death.expect("the cause is reported");
    assert!(death.status.contains("signal 9"), "{}", death.status);
    assert!(!death.stderr_tail.is_empty(), "llama.cpp's last stderr lines are kept");

    let next = client.generate(&poem(), &RenderOptions::default(), &greedy(8), |_| {}).expect("a fresh worker answers");
    assert_eq!(next.stop_reason, StopReason::MaxTokens);
    assert_ne!(client.worker_pid(), Some(pid), "a new worker process serves the next request");
    assert_eq!(next.figures.unwrap().reused_tokens, 0, "the new worker starts with an empty cache");
}

#[test]
#[cfg(unix)]
fn a_worker_that_died_between_requests_is_restarted_with_its_model() {
    let mut client = loaded_client();
    let pid = client.worker_pid().unwrap();
    kill(pid);
    std::thread::sleep(Duration::from_millis(200));
    let reply = client.generate(&poem(), &RenderOptions::default(), &greedy(4), |_| {}).unwrap();
    assert_eq!(reply.stop_reason, StopReason::MaxTokens);
    assert_ne!(client.worker_pid(), Some(pid), "a new worker process answered");
}

#[test]
fn cancelling_from_another_thread_stops_the_reply() {
    let mut client = loaded_client();
    let cancel = client.cancel_handle();
    let mut pieces = 0;
    let reply = client
        .generate(&poem(), &RenderOptions::default(), &greedy(400), |_| {
            pieces += 1;
            if pieces == 3 {
                let cancel = cancel.clone();
                std::thread::spawn(move || cancel.cancel()).join().unwrap();
            }
        })
        .unwrap();
    assert_eq!(reply.stop_reason, StopReason::Cancelled);
    let figures = reply.figures.unwrap();
    assert!(figures.generated_tokens <= 5, "stopped within a token or two, generated {}", figures.generated_tokens);

    let next = client.generate(&poem(), &RenderOptions::default(), &greedy(4), |_| {}).unwrap();
    assert_eq!(next.stop_reason, StopReason::MaxTokens, "a cancel does not leak into the next reply");
}

#[test]
fn the_worker_exits_by_itself_when_its_stdin_closes() {
    // The worker process itself, not through the client, which kills a worker that lingers.
    let mut worker = Command::new(env!("CARGO_BIN_EXE_gemma-desk-cli"))
        .arg("worker")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut stdin = worker.stdin.take().unwrap();
    let load =
        Request::Load(LoadOptions { model: test_model(), ctx: Some(512), threads: Some(2), ..Default::default() });
    writeln!(stdin, "{}", serde_json::to_string(&load).unwrap()).unwrap();
    // Its stdout stays open throughout: a worker also exits when nobody reads its events.
    let mut events = BufReader::new(worker.stdout.take().unwrap()).lines();
    let loaded = events
        .by_ref()
        .map_while(Result::ok)
        .filter_map(|line| serde_json::from_str::<Event>(&line).ok())
        .find(|event| matches!(event, Event::Loaded(_) | Event::Error { .. }));
    assert!(matches!(loaded, Some(Event::Loaded(_))), "the worker loads the model first: {loaded:?}");

    drop(stdin);
    let deadline = Instant::now() + Duration::from_secs(10);
    let status = loop {
        if let Some(status) = worker.try_wait().unwrap() {
            break status;
        }
        if Instant::now() > deadline {
            worker.kill().unwrap();
            worker.wait().unwrap();
            panic!("the worker must exit when its stdin closes; it still ran 10 s later");
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(status.success(), "the worker exits cleanly when its stdin closes: {status}");
    drop(events);
}

#[test]
fn a_bad_model_is_an_error_and_the_worker_stays_usable() {
    let dir = tempfile::tempdir().unwrap();
    let bogus = dir.path().join("not-a-model.gguf");
    std::fs::write(&bogus, b"this is not a gguf file at all").unwrap();
    let mut client = client();
    let error = client.load(LoadOptions { model: bogus, ..Default::default() }).unwrap_err();
    assert!(matches!(error, ClientError::Engine { .. }), "{error}");
    assert!(error.to_string().contains("not-a-model.gguf"), "{error}");
    client
        .load(LoadOptions { model: test_model(), ctx: Some(512), ..Default::default() })
        .expect("the same worker loads a good model next");
}

#[test]
fn requests_before_a_model_is_loaded_are_refused() {
    let mut client = client();
    let error = client.generate(&poem(), &RenderOptions::default(), &greedy(4), |_| {}).unwrap_err();
    assert!(matches!(error, ClientError::NoModel));
}

#[test]
fn the_device_probe_lists_the_cpu() {
    let probe = WorkerCommand { program: env!("CARGO_BIN_EXE_gemma-desk-cli").into(), args: vec!["devices".into()] };
    let devices = probe_devices(&probe, Duration::from_secs(60)).expect("the probe answers");
    let cpu = devices.iter().find(|device| device.kind == DeviceKind::Cpu).expect("a CPU device");
    assert!(cpu.memory_total > 0, "{cpu:?}");
}

/// Stands in for a dying and a hanging probe with `sh` and `sleep`, and a death by signal.
#[test]
#[cfg(unix)]
fn a_probe_that_dies_or_hangs_is_explained() {
    // A GPU driver that aborts the probe: the caller hears how it died and what it said last.
    let crash = WorkerCommand {
        program: "sh".into(),
        args: vec!["-c".into(), "echo 'ggml_vulkan: error: device lost' >&2; kill -ABRT $$".into()],
    };
    let death = probe_devices(&crash, Duration::from_secs(10)).unwrap_err().to_string();
    assert!(death.contains("SIGABRT") && death.contains("device lost"), "{death}");

    let hang = WorkerCommand { program: "sleep".into(), args: vec!["30".into()] };
    let started = Instant::now();
    let death = probe_devices(&hang, Duration::from_millis(300)).unwrap_err().to_string();
    assert!(death.contains("did not answer") && started.elapsed() < Duration::from_secs(10), "{death}");
}

/// llama.cpp failures come back classified, so the window can offer what helps.
mod failures {
    use gemma_desk_engine::{ClientError, ErrorCode, Failure, LoadOptions, WorkerClient, WorkerCommand};

    use crate::{test_model, test_projector};

    /// The worker run through `sh` with `before` ahead of it (a resource limit, a recorded death).
    fn client_after(before: &str) -> WorkerClient {
        let worker = env!("CARGO_BIN_EXE_gemma-desk-cli");
        let script = format!("{before} exec \"$0\" worker");
        WorkerClient::new(WorkerCommand { program: "sh".into(), args: vec!["-c".into(), script.into(), worker.into()] })
    }

    #[test]
    #[cfg(target_os = "linux")]
    fn a_context_too_large_for_the_memory_is_out_of_memory() {
        // 1.4 GB of address space: a 512-token context fits, the KV cache of the model's whole
        // 32768-token context (about 600 MB more) does not.
        let mut client = client_after("ulimit -v 1400000;");
        // First another failure, whose words must not be taken for the next one's.
        let mismatch = LoadOptions {
            model: test_model(),
            mmproj: Some(test_projector("vision-gemma3-320")),
            ctx: Some(512),
            ..Default::default()
        };
        assert_eq!(client.load(mismatch).unwrap_err().failure(), Some(Failure::ProjectorMismatch));
        let options = LoadOptions { model: test_model(), ctx: Some(32_768), threads: Some(2), ..Default::default() };
        let error = client.load(options).unwrap_err();
        assert_eq!(error.failure(), Some(Failure::OutOfMemory), "{error:?}");
        assert!(matches!(error, ClientError::Engine { code: ErrorCode::LoadFailed, .. }), "{error:?}");
        let options = LoadOptions { model: test_model(), ctx: Some(512), threads: Some(2), ..Default::default() };
        client.load(options).expect("a context that fits loads in the same worker");
    }

    #[test]
    fn a_projector_made_for_another_model_is_a_mismatch() {
        let mut client = client_after("");
        let options = LoadOptions {
            model: test_model(),
            mmproj: Some(test_projector("vision-gemma3-320")),
            ctx: Some(512),
            threads: Some(2),
            ..Default::default()
        };
        let error = client.load(options).unwrap_err();
        assert_eq!(error.failure(), Some(Failure::ProjectorMismatch), "{error:?}");
    }

    #[test]
    #[cfg(unix)]
    fn a_worker_that_dies_saying_its_gpu_is_lost_is_a_lost_device() {
        // Recorded from a Vulkan driver reset: the worker's last words, then an abort.
        let mut client = client_after("echo 'ggml_vulkan: error: device lost' >&2; kill -ABRT $$;");
        let error = client.load(LoadOptions { model: test_model(), ..Default::default() }).unwrap_err();
        assert!(matches!(&error, ClientError::WorkerDied(death) if death.status.contains("SIGABRT")), "{error:?}");
        assert_eq!(error.failure(), Some(Failure::DeviceLost), "{error:?}");
    }
}

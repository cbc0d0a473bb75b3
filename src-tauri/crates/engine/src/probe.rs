//! The device probe: llama.cpp's device list read in a child process, so that a GPU driver that
//! aborts or hangs costs only that child.

use std::process::{Command, Stdio};
use std::time::Duration;

use crate::client::{STDERR_TAIL, WorkerCommand, WorkerDeath, describe_exit};

/// Runs the device probe (`command` is the executable with its `devices` subcommand) and returns
/// what it found. A probe that fails, crashes or hangs for `timeout` is an error that says why;
/// the caller then treats the machine as CPU only.
pub fn probe_devices(command: &WorkerCommand, timeout: Duration) -> Result<Vec<crate::Device>, WorkerDeath> {
    let mut child = Command::new(&command.program)
        .args(&command.args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|error| WorkerDeath { status: format!("could not start ({error})"), stderr_tail: Vec::new() })?;
    let read_all = |mut pipe: Box<dyn std::io::Read + Send>| {
        std::thread::spawn(move || {
            let mut text = String::new();
            let _ = pipe.read_to_string(&mut text);
            text
        })
    };
    let stdout = read_all(Box::new(child.stdout.take().expect("stdout is piped")));
    let stderr = read_all(Box::new(child.stderr.take().expect("stderr is piped")));
    let started = std::time::Instant::now();
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break describe_exit(status),
            Ok(None) if started.elapsed() < timeout => std::thread::sleep(Duration::from_millis(10)),
            _ => {
                let _ = child.kill();
                let _ = child.wait();
                break format!("did not answer within {} s and was killed", timeout.as_secs());
            }
        }
    };
    let (stdout, stderr) = (stdout.join().unwrap_or_default(), stderr.join().unwrap_or_default());
    let tail = || {
        let lines: Vec<String> = stderr.lines().map(str::to_owned).collect();
        lines[lines.len().saturating_sub(STDERR_TAIL)..].to_vec()
    };
    match serde_json::from_str(stdout.trim()) {
        Ok(devices) => Ok(devices),
        Err(_) => Err(WorkerDeath { status, stderr_tail: tail() }),
    }
}

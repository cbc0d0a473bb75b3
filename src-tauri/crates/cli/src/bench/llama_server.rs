//! Upstream llama-server as a same-run reference for time to first token: the conversation the
//! worker just had, replayed prompt by prompt on `/completion` with prompt caching, the way a
//! client of llama-server would send it.

use std::io::{BufRead, BufReader};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use gemma_desk_engine::ModelInfo;
use serde_json::{Value, json};

/// What llama-server reported for one turn.
pub struct ServerTurn {
    /// From sending the request to the first streamed token.
    pub client_ttft_ms: f64,
    /// llama-server's own prompt processing time (`timings.prompt_ms`).
    pub prompt_ms: f64,
    /// Prompt tokens it decoded (`timings.prompt_n`).
    pub prompt_tokens: u64,
    /// Prompt tokens it took from its cache (`timings.cache_n`).
    pub cached_tokens: u64,
}

/// A llama-server child process with the engine's model and settings, killed on drop.
pub struct LlamaServer {
    program: PathBuf,
    child: Child,
    url: String,
    log: tempfile::NamedTempFile,
    http: reqwest::blocking::Client,
}

impl LlamaServer {
    /// Starts `program` on a free local port with `info`'s model, context, threads and GPU
    /// layers, a 512-token batch like the engine's, and the full-size sliding-window cache the
    /// engine keeps (so both can rewind the cache the same way), and waits until it is ready.
    pub fn start(program: &Path, info: &ModelInfo) -> anyhow::Result<Self> {
        let port = TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
        let log = tempfile::NamedTempFile::new()?;
        let child = Command::new(program)
            .args(["--model".as_ref(), info.path.as_os_str()])
            .args(["--host", "127.0.0.1", "--port", &port.to_string(), "--parallel", "1"])
            .args(["--ctx-size", &info.n_ctx.to_string(), "--batch-size", "512", "--ubatch-size", "512"])
            .args(["--threads", &info.threads.to_string(), "--threads-batch", &info.threads.to_string()])
            .args(["--n-gpu-layers", &info.gpu_layers.to_string(), "--swa-full"])
            .stdin(Stdio::null())
            .stdout(log.reopen()?)
            .stderr(log.reopen()?)
            .spawn()
            .with_context(|| format!("could not start {}", program.display()))?;
        let http = reqwest::blocking::Client::builder().no_proxy().timeout(Duration::from_secs(600)).build()?;
        let mut server = LlamaServer { program: program.to_path_buf(), child, url: format!("http://127.0.0.1:{port}"), log, http };
        server.wait_until_ready()?;
        Ok(server)
    }

    pub fn program(&self) -> &Path {
        &self.program
    }

    fn wait_until_ready(&mut self) -> anyhow::Result<()> {
        let deadline = Instant::now() + Duration::from_secs(120);
        while Instant::now() < deadline {
            if let Some(status) = self.child.try_wait()? {
                bail!("llama-server exited ({status}) before it was ready:\n{}", self.log_tail());
            }
            let health = self.http.get(format!("{}/health", self.url)).send();
            if health.is_ok_and(|response| response.status().is_success()) {
                return Ok(());
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        bail!("llama-server was not ready after two minutes:\n{}", self.log_tail())
    }

    /// Sends `prompt` raw (it is already rendered with the chat template), streams the greedy
    /// reply of at most `max_tokens`, and returns the figures of the turn.
    pub fn complete(&self, prompt: &str, max_tokens: u32) -> anyhow::Result<ServerTurn> {
        let request = json!({
            "prompt": prompt, "n_predict": max_tokens, "top_k": 1, "temperature": 0.0,
            "cache_prompt": true, "stream": true,
        });
        let sent = Instant::now();
        let response = self.http.post(format!("{}/completion", self.url)).json(&request).send()?.error_for_status()?;
        let mut first_token = None;
        let mut timings = None;
        for line in BufReader::new(response).lines() {
            let line = line?;
            let Some(data) = line.strip_prefix("data: ") else { continue };
            let event: Value = serde_json::from_str(data).context("llama-server sent an event that is not JSON")?;
            if event["content"].as_str().is_some_and(|text| !text.is_empty()) {
                first_token.get_or_insert_with(|| sent.elapsed().as_secs_f64() * 1000.0);
            }
            if event["stop"].as_bool() == Some(true) {
                timings = Some(event["timings"].clone());
            }
        }
        let timings = timings.context("llama-server's reply ended without its timings")?;
        Ok(ServerTurn {
            client_ttft_ms: first_token.context("llama-server replied with no text")?,
            prompt_ms: timings["prompt_ms"].as_f64().context("no timings.prompt_ms")?,
            prompt_tokens: timings["prompt_n"].as_u64().context("no timings.prompt_n")?,
            cached_tokens: timings["cache_n"].as_u64().context("no timings.cache_n")?,
        })
    }

    fn log_tail(&self) -> String {
        let log = std::fs::read_to_string(self.log.path()).unwrap_or_default();
        let lines: Vec<&str> = log.lines().collect();
        lines[lines.len().saturating_sub(20)..].join("\n")
    }
}

impl Drop for LlamaServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

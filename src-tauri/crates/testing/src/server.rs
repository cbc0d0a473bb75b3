//! A local HTTP/1.1 file server for download tests. It honours `Range` and can misbehave on
//! purpose: drop the connection at an offset, answer slowly or stall, answer an error status,
//! ignore ranges, or lie about the length. Every request is recorded.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// How the server misbehaves for one path, for the next `times` requests (then it behaves).
#[derive(Debug, Clone)]
pub enum Fault {
    /// Close the connection after this many body bytes.
    DropAfter(u64),
    /// Answer with this status and no body.
    Status(u16),
    /// Send the headers, then nothing for this long.
    Stall(Duration),
    /// Pause this long between 64 KiB pieces.
    Slow(Duration),
    /// Answer a ranged request with the whole file (200).
    IgnoreRange,
    /// Announce this many more bytes than are sent, then close.
    LongerContentLength(u64),
}

/// A request the server received.
#[derive(Debug, Clone)]
pub struct Request {
    /// The path asked for.
    pub path: String,
    /// Its `Range` header.
    pub range: Option<String>,
    /// Its `Authorization` header.
    pub authorization: Option<String>,
}

#[derive(Default)]
struct State {
    files: HashMap<String, Arc<Vec<u8>>>,
    faults: HashMap<String, Vec<Fault>>,
    requests: Vec<Request>,
}

/// The server; it stops when dropped (its thread is detached and idle).
pub struct Server {
    /// `http://127.0.0.1:<port>`.
    pub base: String,
    state: Arc<Mutex<State>>,
}

impl Server {
    /// Starts serving on a free loopback port.
    pub fn start() -> Server {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind on loopback");
        let base = format!("http://{}", listener.local_addr().unwrap());
        let state = Arc::new(Mutex::new(State::default()));
        let shared = state.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let state = shared.clone();
                std::thread::spawn(move || {
                    let _ = serve(stream, &state);
                });
            }
        });
        Server { base, state }
    }

    /// Serves `body` at `path` and returns the URL.
    pub fn file(&self, path: &str, body: Vec<u8>) -> String {
        self.state.lock().unwrap().files.insert(path.to_owned(), Arc::new(body));
        format!("{}{path}", self.base)
    }

    /// Misbehaves on `path` in these ways, one per request, in order.
    pub fn faults(&self, path: &str, faults: Vec<Fault>) {
        self.state.lock().unwrap().faults.insert(path.to_owned(), faults);
    }

    /// The requests for `path` so far.
    pub fn requests(&self, path: &str) -> Vec<Request> {
        self.state.lock().unwrap().requests.iter().filter(|r| r.path == path).cloned().collect()
    }
}

fn serve(stream: TcpStream, state: &Mutex<State>) -> std::io::Result<()> {
    let mut reader = BufReader::new(stream.try_clone()?);
    let mut line = String::new();
    reader.read_line(&mut line)?;
    let target = line.split_whitespace().nth(1).unwrap_or("/").to_owned();
    let (mut range, mut authorization) = (None, None);
    loop {
        let mut header = String::new();
        if reader.read_line(&mut header)? == 0 || header == "\r\n" {
            break;
        }
        if let Some((name, value)) = header.split_once(':') {
            match name.trim().to_ascii_lowercase().as_str() {
                "range" => range = Some(value.trim().to_owned()),
                "authorization" => authorization = Some(value.trim().to_owned()),
                _ => {}
            }
        }
    }
    // A proxy receives absolute URLs: serve them by their path.
    let path = match target.strip_prefix("http://") {
        Some(rest) => rest.find('/').map_or("/".to_owned(), |i| rest[i..].to_owned()),
        None => target,
    };
    let (body, fault) = {
        let mut state = state.lock().unwrap();
        state.requests.push(Request { path: path.clone(), range: range.clone(), authorization });
        let fault = state.faults.get_mut(&path).and_then(|faults| (!faults.is_empty()).then(|| faults.remove(0)));
        (state.files.get(&path).cloned(), fault)
    };
    let mut out = stream;
    let Some(body) = body else {
        return out.write_all(b"HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\nconnection: close\r\n\r\n");
    };
    if let Some(Fault::Status(status)) = fault {
        return write!(out, "HTTP/1.1 {status} Error\r\ncontent-length: 0\r\nconnection: close\r\n\r\n");
    }
    let total = body.len() as u64;
    let start = match (&range, &fault) {
        (_, Some(Fault::IgnoreRange)) | (None, _) => None,
        (Some(range), _) => range.strip_prefix("bytes=").and_then(|r| r.trim_end_matches('-').parse::<u64>().ok()),
    };
    let (status, from) = match start {
        Some(start) if start >= total => {
            return write!(
                out,
                "HTTP/1.1 416 Range Not Satisfiable\r\ncontent-range: bytes */{total}\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"
            );
        }
        Some(start) => (206, start),
        None => (200, 0),
    };
    let slice = &body[from as usize..];
    let announced = slice.len() as u64 + if let Some(Fault::LongerContentLength(extra)) = fault { extra } else { 0 };
    let mut head =
        format!("HTTP/1.1 {status} OK\r\ncontent-length: {announced}\r\naccept-ranges: bytes\r\nconnection: close\r\n");
    if status == 206 {
        head.push_str(&format!("content-range: bytes {from}-{}/{total}\r\n", total - 1));
    }
    head.push_str("\r\n");
    out.write_all(head.as_bytes())?;
    match fault {
        Some(Fault::Stall(pause)) => {
            out.flush()?;
            std::thread::sleep(pause);
            Ok(())
        }
        Some(Fault::DropAfter(bytes)) => {
            out.write_all(&slice[..(bytes as usize).min(slice.len())])?;
            out.flush()
        }
        Some(Fault::Slow(pause)) => {
            for piece in slice.chunks(64 << 10) {
                out.write_all(piece)?;
                out.flush()?;
                std::thread::sleep(pause);
            }
            Ok(())
        }
        _ => out.write_all(slice),
    }
}

impl Server {
    /// Serves the test model and the vision test projector as the files of the one-model test
    /// catalog (`tests/fixtures/tiny-catalog.toml`: `tiny-it`, Hugging Face layout, revision
    /// `abc123`), and returns that catalog's TOML.
    pub fn serve_test_catalog(&self) -> String {
        let model = std::fs::read(crate::test_model()).expect("the test model is readable");
        let projector = std::fs::read(crate::test_projector("vision-gemma3")).expect("the projector is readable");
        let model_sha256 = sha256_hex(&model);
        let model_bytes = model.len();
        self.file("/test/tiny-GGUF/resolve/abc123/tiny.gguf", model);
        self.file("/test/tiny-GGUF/resolve/abc123/mmproj-tiny.gguf", projector);
        include_str!("../../../../tests/fixtures/tiny-catalog.toml")
            .replace("@ENDPOINT@", &self.base)
            .replace("@MODEL_BYTES@", &model_bytes.to_string())
            .replace("@MODEL_SHA256@", &model_sha256)
    }
}

fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest;
    sha2::Sha256::digest(bytes).iter().map(|b| format!("{b:02x}")).collect()
}

//! What llama.cpp's last words say went wrong, in the classes a user can act on.
//!
//! llama.cpp reports most failures only on stderr (a null model, an aborted process); the
//! client reads the worker's stderr since the request began and classifies it here.

use serde::{Deserialize, Serialize};
use ts_rs::TS;

/// A llama.cpp failure the user can do something about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum Failure {
    /// RAM or GPU memory ran out: a smaller context, fewer GPU layers or a smaller model fit.
    OutOfMemory,
    /// This build of llama.cpp does not know the model's architecture: an update may.
    UnsupportedArchitecture,
    /// The projector (mmproj) was not made for this model.
    ProjectorMismatch,
    /// The GPU stopped answering (a driver reset, an unplugged external GPU).
    DeviceLost,
}

/// Words llama.cpp, ggml and their GPU backends use for each failure, lowercase, checked in
/// this order: a lost device also fails its allocations, and a projector that does not fit is
/// also "unknown" to some checks.
const SIGNS: &[(Failure, &[&str])] = &[
    (Failure::DeviceLost, &["device lost", "devicelost", "fallen off the bus", "device removed", "device_removed"]),
    (Failure::ProjectorMismatch, &["mismatch between text model", "wrong mmproj", "unsupported projector"]),
    (
        Failure::OutOfMemory,
        &[
            "out of memory",
            "outofdevicememory",
            "outofhostmemory",
            "failed to allocate",
            "unable to allocate",
            "cannot allocate memory",
            "not enough memory",
            "bad_alloc",
        ],
    ),
    (Failure::UnsupportedArchitecture, &["unknown model architecture", "unsupported model architecture"]),
];

impl Failure {
    /// The failure llama.cpp's stderr lines describe, if any.
    pub fn classify<'a>(lines: impl IntoIterator<Item = &'a str>) -> Option<Failure> {
        let text = lines.into_iter().map(str::to_lowercase).collect::<Vec<_>>().join("\n");
        SIGNS.iter().find(|(_, signs)| signs.iter().any(|sign| text.contains(sign))).map(|(failure, _)| *failure)
    }

    /// What the user can do, in words.
    pub fn advice(self) -> &'static str {
        match self {
            Failure::OutOfMemory => {
                "the model ran out of memory; choose a smaller context, fewer GPU layers or a smaller model"
            }
            Failure::UnsupportedArchitecture => {
                "this version of Gemma Desk cannot run this model's architecture; an update of the app may"
            }
            Failure::ProjectorMismatch => {
                "the projector (mmproj) was not made for this model; choose the one published with it"
            }
            Failure::DeviceLost => "the GPU stopped answering; the next message starts the engine again",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Lines as llama.cpp and its backends print them (recorded from their sources and logs).
    #[test]
    fn recorded_llama_cpp_messages_are_classified() {
        let cases: &[(&str, Option<Failure>)] = &[
            (
                "ggml_backend_cpu_buffer_type_alloc_buffer: failed to allocate buffer of size 68719476736",
                Some(Failure::OutOfMemory),
            ),
            (
                "llama_init_from_model: failed to initialize the context: failed to allocate buffer for kv cache",
                Some(Failure::OutOfMemory),
            ),
            (
                "ggml_cuda_host_malloc: failed to allocate 512.00 MiB of pinned memory: out of memory",
                Some(Failure::OutOfMemory),
            ),
            (
                "ggml_vulkan: Device memory allocation of size 4294967296 failed. ErrorOutOfDeviceMemory",
                Some(Failure::OutOfMemory),
            ),
            ("terminate called after throwing an instance of 'std::bad_alloc'", Some(Failure::OutOfMemory)),
            (
                "llama_model_load: error loading model: error loading model architecture: unknown model architecture: 'gemma9'",
                Some(Failure::UnsupportedArchitecture),
            ),
            (
                "clip_init: mismatch between text model (n_embd = 640) and mmproj (n_embd = 320)",
                Some(Failure::ProjectorMismatch),
            ),
            ("hint: you may be using wrong mmproj", Some(Failure::ProjectorMismatch)),
            ("ggml_vulkan: error: device lost", Some(Failure::DeviceLost)),
            ("vk::Queue::submit: ErrorDeviceLost", Some(Failure::DeviceLost)),
            ("NVRM: GPU at PCI:0000:01:00: GPU has fallen off the bus.", Some(Failure::DeviceLost)),
            ("llama_model_loader: loaded meta data with 34 key-value pairs", None),
            ("GGML_ASSERT(n_tokens_all <= cparams.n_batch) failed", None),
        ];
        for (line, expected) in cases {
            assert_eq!(Failure::classify([*line]), *expected, "{line}");
        }
    }

    #[test]
    fn a_lost_device_wins_over_the_allocations_that_fail_after_it() {
        let lines = ["ggml_vulkan: error: device lost", "failed to allocate compute buffers"];
        assert_eq!(Failure::classify(lines), Some(Failure::DeviceLost));
    }
}

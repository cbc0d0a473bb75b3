//! Starting llama.cpp. The build compiles ggml's CPU kernels once per instruction-set level
//! (SSE4.2, AVX2, AVX-512, ...) as loadable modules, and llama.cpp picks the best one this CPU
//! runs at start-up, so one portable binary still uses the machine's vector units.

use std::path::{Path, PathBuf};

use llama_cpp_2::llama_backend::LlamaBackend;

use crate::error::EngineError;

/// Where the backend modules are looked for first (a packaged app sets it, tests may too).
pub const BACKENDS_DIR_ENV: &str = "GEMMA_DESK_BACKENDS_DIR";

/// Loads the compute backends and initialises llama.cpp (once per process).
pub fn init_backend() -> Result<LlamaBackend, EngineError> {
    let dir = backends_dir();
    match &dir {
        Some(dir) => llama_cpp_2::llama_backend::load_backends_from_path(dir),
        None => llama_cpp_2::llama_backend::load_backends(),
    }
    if llama_cpp_2::list_llama_ggml_backend_devices().is_empty() {
        return Err(EngineError::LoadFailed(format!(
            "no llama.cpp compute backend could be loaded (looked in {}); reinstall the app or set {BACKENDS_DIR_ENV}",
            dir.map_or_else(|| "the build directory".into(), |d| d.display().to_string())
        )));
    }
    LlamaBackend::init().map_err(|error| EngineError::LoadFailed(format!("llama.cpp failed to start: {error}")))
}

/// The first of: the environment variable, a `backends` folder beside the executable, the
/// executable's own folder if it holds the modules, `../backends` from it (a test binary in
/// `target/<profile>/deps` run as the worker), `../lib/gemma-desk/backends` (where the Linux
/// packages install them); `None` means llama.cpp's own search (the folder it was built in).
fn backends_dir() -> Option<PathBuf> {
    if let Some(dir) = std::env::var_os(BACKENDS_DIR_ENV) {
        return Some(dir.into());
    }
    let exe_dir = std::env::current_exe().ok()?.parent()?.to_path_buf();
    let beside_deps = exe_dir.join("../backends");
    let installed = exe_dir.join("../lib/gemma-desk/backends");
    [exe_dir.join("backends"), exe_dir, beside_deps, installed].into_iter().find(|dir| holds_cpu_backend(dir))
}

fn holds_cpu_backend(dir: &Path) -> bool {
    std::fs::read_dir(dir)
        .is_ok_and(|entries| entries.flatten().any(|entry| entry.file_name().to_string_lossy().contains("ggml-cpu")))
}

/// The names of the compute devices llama.cpp found, e.g. `CPU (Intel Xeon)`.
pub fn device_names() -> Vec<String> {
    llama_cpp_2::list_llama_ggml_backend_devices()
        .into_iter()
        .map(|device| format!("{} ({})", device.name, device.description))
        .collect()
}

/// A compute device llama.cpp can use, with its memory.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Device {
    /// llama.cpp's name, e.g. `Vulkan0` or `CPU`.
    pub name: String,
    /// What it is, e.g. `NVIDIA GeForce RTX 4070`.
    pub description: String,
    /// The backend that drives it: `CPU`, `CUDA`, `Vulkan`, `Metal`, ...
    pub backend: String,
    /// What kind of device it is.
    pub kind: DeviceKind,
    /// Its memory in bytes (for the CPU: the system's).
    pub memory_total: u64,
    /// Its free memory in bytes, as the driver reports it now.
    pub memory_free: u64,
}

/// The kind of a [`Device`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DeviceKind {
    /// The processor itself.
    Cpu,
    /// A discrete GPU with its own memory.
    Gpu,
    /// A GPU that shares the system's memory.
    IntegratedGpu,
    /// Another accelerator (BLAS and the like); it holds no layers.
    Accelerator,
}

/// The devices of the loaded backends; call after [`init_backend`].
pub fn devices() -> Vec<Device> {
    use llama_cpp_2::LlamaBackendDeviceType as Type;
    llama_cpp_2::list_llama_ggml_backend_devices()
        .into_iter()
        .map(|device| Device {
            kind: match device.device_type {
                Type::Cpu => DeviceKind::Cpu,
                Type::Gpu => DeviceKind::Gpu,
                Type::IntegratedGpu => DeviceKind::IntegratedGpu,
                Type::Accelerator | Type::Unknown => DeviceKind::Accelerator,
            },
            name: device.name,
            description: device.description,
            backend: device.backend,
            memory_total: device.memory_total as u64,
            memory_free: device.memory_free as u64,
        })
        .collect()
}

/// Loads the backends and prints [`devices`] as one JSON line: the body of the probe process.
/// The probe runs apart from the app because a broken GPU driver can abort the process that
/// initialises it; the app then carries on with the CPU.
pub fn run_device_probe() -> i32 {
    match init_backend() {
        Ok(_backend) => {
            println!("{}", serde_json::to_string(&devices()).expect("devices serialize"));
            0
        }
        Err(error) => {
            eprintln!("gemma-desk devices: {error}");
            1
        }
    }
}

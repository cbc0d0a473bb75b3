//! What this machine has to run a model with: memory, processor, and the GPUs llama.cpp can use
//! with their free memory.

use gemma_desk_engine::{Device, DeviceKind};
use serde::{Deserialize, Serialize};
use ts_rs::TS;

/// The machine, as far as running a model goes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct Hardware {
    /// Installed memory in bytes.
    pub ram_total: u64,
    /// Memory other programs leave free now, in bytes.
    pub ram_available: u64,
    /// The processor's name.
    pub cpu: String,
    /// Its logical cores.
    pub cpu_threads: u32,
    /// Its physical cores: the threads llama.cpp decodes with by default.
    pub cpu_cores: u32,
    /// How fast its cores together read memory, in bytes per second, measured at the probe:
    /// what bounds decoding on the CPU.
    pub memory_read_bytes_per_second: f64,
    /// The bytes of weights per second decoding has really read here: the median over recent
    /// replies of their tokens per second times their model's bytes per token. `None` before the
    /// first reply.
    pub decode_bytes_per_second_seen: Option<f64>,
    /// The GPUs llama.cpp can offload to.
    pub gpus: Vec<Gpu>,
    /// Why no GPU can be used although the probe was asked, e.g. a driver that failed.
    pub gpu_problem: Option<String>,
}

/// A GPU llama.cpp can offload layers to.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct Gpu {
    /// llama.cpp's device name, e.g. `CUDA0`.
    pub name: String,
    /// What it is, e.g. `NVIDIA GeForce RTX 4070`.
    pub description: String,
    /// `CUDA`, `Vulkan`, `Metal`, ...
    pub backend: String,
    /// It shares the system's memory (integrated graphics, Apple silicon).
    pub integrated: bool,
    /// Its memory in bytes.
    pub memory_total: u64,
    /// Its free memory in bytes.
    pub memory_free: u64,
}

/// Memory other programs leave free now, in bytes.
pub fn available_ram() -> u64 {
    use sysinfo::{MemoryRefreshKind, RefreshKind, System};
    System::new_with_specifics(RefreshKind::nothing().with_memory(MemoryRefreshKind::nothing().with_ram()))
        .available_memory()
}

impl Hardware {
    /// Measures the system, taking the GPUs from llama.cpp's device list (the device probe's
    /// answer) or, when the probe failed, no GPUs and the reason.
    pub fn probe(devices: Result<Vec<Device>, String>) -> Hardware {
        use sysinfo::{CpuRefreshKind, MemoryRefreshKind, RefreshKind, System};
        let system = System::new_with_specifics(
            RefreshKind::nothing()
                .with_memory(MemoryRefreshKind::nothing().with_ram())
                .with_cpu(CpuRefreshKind::nothing()),
        );
        let cpu = system.cpus().first().map(|cpu| cpu.brand().trim().to_owned()).filter(|b| !b.is_empty());
        let (gpus, gpu_problem) = match devices {
            Ok(devices) => (gpus_of(devices), None),
            Err(problem) => (Vec::new(), Some(problem)),
        };
        let cpu_threads = system.cpus().len().max(1) as u32;
        let cpu_cores = System::physical_core_count().map_or(cpu_threads, |cores| cores.max(1) as u32);
        Hardware {
            ram_total: system.total_memory(),
            ram_available: system.available_memory(),
            cpu: cpu.unwrap_or_else(|| "unknown processor".into()),
            cpu_threads,
            cpu_cores,
            memory_read_bytes_per_second: measure_memory_reads(cpu_cores),
            decode_bytes_per_second_seen: None,
            gpus,
            gpu_problem,
        }
    }

    /// The GPU with the most free memory.
    pub fn best_gpu(&self) -> Option<&Gpu> {
        self.gpus.iter().max_by_key(|gpu| gpu.memory_free)
    }
}

/// Bytes read per pass of [`measure_memory_reads`]: far beyond any CPU cache.
const PROBE_BYTES: usize = 256 << 20;
/// Passes of [`measure_memory_reads`]; the fastest counts (the others met other programs).
const PROBE_PASSES: usize = 4;

/// Measures how fast `threads` threads together read memory, in bytes per second, as decoding
/// reads weights: each sums its share of a buffer much larger than the caches. About a tenth of a
/// second on a desktop; the buffer is freed after.
pub fn measure_memory_reads(threads: u32) -> f64 {
    let threads = threads.clamp(1, 64) as usize;
    let words = PROBE_BYTES / size_of::<u64>();
    // Written first, so that every page is really there before the clock starts.
    let buffer: Vec<u64> = (0..words as u64).collect();
    let share = words.div_ceil(threads);
    let mut best = f64::MAX;
    for _ in 0..PROBE_PASSES {
        let started = std::time::Instant::now();
        std::thread::scope(|scope| {
            for part in buffer.chunks(share) {
                scope.spawn(move || std::hint::black_box(part.iter().fold(0u64, |sum, &word| sum.wrapping_add(word))));
            }
        });
        best = best.min(started.elapsed().as_secs_f64());
    }
    (words * size_of::<u64>()) as f64 / best.max(1e-9)
}

/// The devices that can hold layers: GPUs, integrated or not.
pub fn gpus_of(devices: Vec<Device>) -> Vec<Gpu> {
    devices
        .into_iter()
        .filter(|device| matches!(device.kind, DeviceKind::Gpu | DeviceKind::IntegratedGpu))
        .map(|device| Gpu {
            integrated: device.kind == DeviceKind::IntegratedGpu,
            name: device.name,
            description: device.description,
            backend: device.backend,
            memory_total: device.memory_total,
            memory_free: device.memory_free,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn probe_reads_this_machine() {
        let hardware = Hardware::probe(Ok(Vec::new()));
        assert!(hardware.ram_total > 512 << 20, "{hardware:?}");
        assert!(hardware.ram_available <= hardware.ram_total);
        assert!(hardware.cpu_threads >= 1 && (1..=hardware.cpu_threads).contains(&hardware.cpu_cores));
        // Any machine that runs a model reads memory at more than 1 GB/s, and none at 2 TB/s.
        assert!((1e9..2e12).contains(&hardware.memory_read_bytes_per_second), "{hardware:?}");
        assert!(hardware.gpus.is_empty() && hardware.gpu_problem.is_none());
        let failed = Hardware::probe(Err("the Vulkan driver crashed".into()));
        assert_eq!(failed.gpu_problem.as_deref(), Some("the Vulkan driver crashed"));
    }

    #[test]
    fn only_gpus_hold_layers() {
        let device = |name: &str, kind| Device {
            name: name.into(),
            description: String::new(),
            backend: String::new(),
            kind,
            memory_total: 8 << 30,
            memory_free: 6 << 30,
        };
        let gpus = gpus_of(vec![
            device("CPU", DeviceKind::Cpu),
            device("BLAS", DeviceKind::Accelerator),
            device("CUDA0", DeviceKind::Gpu),
            device("Vulkan1", DeviceKind::IntegratedGpu),
        ]);
        let names: Vec<(&str, bool)> = gpus.iter().map(|g| (g.name.as_str(), g.integrated)).collect();
        assert_eq!(names, [("CUDA0", false), ("Vulkan1", true)]);
    }
}

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
        Hardware {
            ram_total: system.total_memory(),
            ram_available: system.available_memory(),
            cpu: cpu.unwrap_or_else(|| "unknown processor".into()),
            cpu_threads: system.cpus().len().max(1) as u32,
            gpus,
            gpu_problem,
        }
    }

    /// The GPU with the most free memory.
    pub fn best_gpu(&self) -> Option<&Gpu> {
        self.gpus.iter().max_by_key(|gpu| gpu.memory_free)
    }
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
        assert!(hardware.cpu_threads >= 1);
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

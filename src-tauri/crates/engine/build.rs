//! Puts llama.cpp's shared libraries and its CPU backend modules beside the binaries of this
//! build (`target/<profile>/`), as real files, so that a binary finds them through its
//! `$ORIGIN` rpath and the folder can be copied elsewhere as a whole. (llama-cpp-sys-2 tries
//! this too but leaves dangling symlinks to the versioned names.)
//!
//! The CPU module for AMX (Intel's matrix tiles, Sapphire Rapids and later Xeons) is left out:
//! its kernels in this llama.cpp die of an illegal instruction on the first matrix product
//! (`tilezero` on a tile whose configuration the compiler dropped; upstream llama.cpp pull
//! request 26954), and ggml picks it by CPUID alone. Those CPUs run the AVX-512 module instead.

use std::fs;
use std::path::{Path, PathBuf};

fn main() {
    // Set by llama-cpp-sys-2 (`links = "llama"`) when built with dynamic backends.
    let Some(backends) = std::env::var_os("DEP_LLAMA_BACKENDS_DIR").map(PathBuf::from) else {
        return;
    };
    println!("cargo:rerun-if-changed={}", backends.display());
    let out_dir = PathBuf::from(std::env::var_os("OUT_DIR").expect("cargo sets OUT_DIR"));
    // OUT_DIR is target/<profile>/build/<this crate>-<hash>/out.
    let profile_dir = out_dir.ancestors().nth(3).expect("OUT_DIR lies inside the target directory");
    let shared_libs = backends.parent().expect("backends has a parent").join(if cfg!(windows) { "bin" } else { "lib" });

    for entry in fs::read_dir(&shared_libs).into_iter().flatten().flatten() {
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if is_shared_library(&name) {
            // `examples` too: llama-cpp-sys-2 links there as well, and its next build (a new
            // feature set) panics on a dangling link it left ("File exists").
            for dir in [profile_dir.to_path_buf(), profile_dir.join("deps"), profile_dir.join("examples")] {
                copy_dereferenced(&entry.path(), &dir.join(&*name));
            }
        }
    }
    let backends_dst = profile_dir.join("backends");
    fs::create_dir_all(&backends_dst).expect("can create the backends folder");
    for entry in fs::read_dir(&backends).into_iter().flatten().flatten() {
        let destination = backends_dst.join(entry.file_name());
        if entry.file_name().to_string_lossy().contains(AMX_MODULE) {
            let _ = fs::remove_file(&destination);
        } else {
            copy_dereferenced(&entry.path(), &destination);
        }
    }
}

/// The name that marks the CPU module using AMX (`libggml-cpu-sapphirerapids.so`).
const AMX_MODULE: &str = "sapphirerapids";

fn is_shared_library(name: &str) -> bool {
    name.contains(".so") || name.ends_with(".dylib") || name.ends_with(".dll")
}

fn copy_dereferenced(source: &Path, destination: &Path) {
    let Ok(real) = fs::canonicalize(source) else { return };
    if destination.parent().is_some_and(|dir| !dir.is_dir()) {
        return;
    }
    let same = fs::metadata(destination)
        .ok()
        .zip(fs::metadata(&real).ok())
        .is_some_and(|(d, r)| d.len() == r.len() && d.modified().ok() >= r.modified().ok());
    if same {
        return;
    }
    let _ = fs::remove_file(destination);
    fs::copy(&real, destination)
        .unwrap_or_else(|error| panic!("cannot copy {} to {}: {error}", real.display(), destination.display()));
}

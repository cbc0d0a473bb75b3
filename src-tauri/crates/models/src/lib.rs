//! Getting the right Gemma onto this machine.
//!
//! - [`Catalog`]: the Gemma models on offer, their files, pinned revisions, sizes, hashes,
//!   capabilities and licences (`models/catalog.toml`, or a file named by [`CATALOG_ENV`]);
//! - [`Hardware`]: RAM, CPU and the GPUs llama.cpp can use, with their free memory;
//! - [`recommend`] and [`ModelShape`]: the memory a model needs and where it would run, the GPU
//!   layers that fit, and the model to recommend for a use;
//! - [`download`]: verified, resumable, pausable downloads;
//! - [`Library`]: the installed models, downloaded or imported.
#![deny(missing_docs)]

pub mod catalog;
pub mod download;
pub mod fit;
pub mod hardware;
pub mod library;
pub mod registry;

pub use catalog::{CATALOG_ENV, Capability, Catalog, CatalogError, CatalogModel, Licence, RemoteFile};
pub use download::{Control, DownloadError, DownloadOptions, Phase, Progress, Signal};
pub use fit::{
    DEFAULT_CONTEXT, Fit, MemoryEstimate, ModelShape, Placement, Recommendation, Use, Verdict, fit, recommend,
};
pub use hardware::{Gpu, Hardware, available_ram};
pub use library::{ImportMode, Installed, InstalledModel, Library, LibraryError, PartialDownload, Source};
pub use registry::{DownloadOutcome, DownloadStatus, Downloads, hf_token};

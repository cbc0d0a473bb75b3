//! The engine crate's integration tests; modules mirror `src/`.

mod audio;
mod gguf;
mod session;
mod template;
mod tools;
mod vision;

pub use gemma_desk_testing::test_model;

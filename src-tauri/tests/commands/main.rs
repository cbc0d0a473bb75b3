//! The app's commands through Tauri's IPC layer (mock runtime, no window): arguments are
//! checked, bad input gets a clear `{code, message}`, conversations are kept, and models are
//! downloaded and used, with the real model, the real store and a real engine worker (the app
//! binary itself). A conversation's whole life, through the file dialogs, is the `replies` binary.

mod app;
mod contract;
mod conversations;
mod images;
mod invalid;
mod models;
mod startup;
mod tools;
mod voice;

pub use app::{TestApp, channel, test_model};

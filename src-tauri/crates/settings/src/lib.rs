//! The user's preferences, as the desktop app keeps them.
//!
//! [`Settings`] live in one JSON file in the platform's config folder: validated on the way in,
//! replaced atomically on the way out, and never the reason the app fails to start. [`Preset`]s
//! are the system prompts a new chat can start with, built in or the user's own.
#![deny(missing_docs)]

pub use presets::{Preset, builtin_presets};
pub use settings::{DEFAULT_PUSH_TO_TALK_KEY, Settings, SettingsError, SettingsNotice, Theme, first_free_path};

mod presets;
mod settings;

//! The user's preferences: one JSON file, validated on the way in, replaced atomically on the
//! way out, and never the reason the app fails to start (a damaged file is set aside).

use std::io::Write;
use std::path::{Path, PathBuf};

use gemma_desk_engine::SamplingParams;
use serde::{Deserialize, Serialize};
use ts_rs::TS;

use crate::presets::{Preset, builtin_presets};
use gemma_desk_chat::{EngineTuning, ModelChoice};

/// Longest system prompt a preset may hold, in characters.
const MAX_PRESET_CHARS: usize = 20_000;
/// Most user-defined presets.
const MAX_CUSTOM_PRESETS: usize = 100;

/// Light, dark, or whatever the system uses.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum Theme {
    /// Follow the system.
    #[default]
    System,
    /// Always light.
    Light,
    /// Always dark.
    Dark,
}

/// Everything the user can set.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(default, deny_unknown_fields)]
pub struct Settings {
    /// The colour theme.
    pub theme: Theme,
    /// The model to load at start, remembered from the last choice.
    pub model: Option<ModelChoice>,
    /// The preset whose prompt new conversations get (`""`: none).
    pub preset_id: String,
    /// The user's own presets.
    pub custom_presets: Vec<Preset>,
    /// Sampling overrides (unset values take the model family's defaults).
    pub sampling: SamplingParams,
    /// Context size in tokens (unset: automatic).
    pub context_size: Option<u32>,
    /// CPU threads (unset: one per physical core).
    pub threads: Option<u32>,
    /// Layers offloaded to the GPU (unset: automatic).
    pub gpu_layers: Option<u32>,
    /// Where conversations are kept (unset: the platform's data folder); read at start.
    pub data_dir: Option<PathBuf>,
    /// A Hugging Face access token, for downloads from gated repositories.
    pub hf_token: Option<String>,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            theme: Theme::System,
            model: None,
            preset_id: "general".into(),
            custom_presets: Vec::new(),
            sampling: SamplingParams::default(),
            context_size: None,
            threads: None,
            gpu_layers: None,
            data_dir: None,
            hf_token: None,
        }
    }
}

/// The settings file could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum SettingsError {
    /// A value is out of range; nothing was saved.
    #[error("{0}")]
    Invalid(String),
    /// The file could not be written.
    #[error("could not save the settings to {path}: {source}")]
    Io {
        /// The settings file.
        path: PathBuf,
        /// What the system said.
        source: std::io::Error,
    },
}

impl Settings {
    /// Reads the settings at `path`. A missing file gives the defaults; a damaged one is renamed
    /// to `<name>.damaged` (so the user's values can still be recovered by hand) and gives the
    /// defaults with a warning to show.
    pub fn load(path: &Path) -> (Settings, Option<String>) {
        let text = match std::fs::read_to_string(path) {
            Ok(text) => text,
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => return (Settings::default(), None),
            Err(error) => {
                return (
                    Settings::default(),
                    Some(format!("could not read the settings ({}): {error}", path.display())),
                );
            }
        };
        match serde_json::from_str::<Settings>(&text).map_err(|e| e.to_string()).and_then(|s| {
            s.validate().map_err(|e| e.to_string())?;
            Ok(s)
        }) {
            Ok(settings) => (settings, None),
            Err(error) => {
                let aside = path.with_extension("json.damaged");
                let _ = std::fs::rename(path, &aside);
                let warning = format!(
                    "the settings file was damaged ({error}); it was kept as {} and the defaults are in use",
                    aside.display()
                );
                (Settings::default(), Some(warning))
            }
        }
    }

    /// Checks every value; the message names the setting and the allowed range.
    pub fn validate(&self) -> Result<(), SettingsError> {
        let invalid = |message: String| Err(SettingsError::Invalid(message));
        if let Err(error) = self.sampling.validate() {
            return invalid(error.to_string());
        }
        if let Some(ctx) = self.context_size
            && !(256..=1_048_576).contains(&ctx)
        {
            return invalid(format!("the context size must be between 256 and 1048576 tokens, got {ctx}"));
        }
        if let Some(threads) = self.threads
            && !(1..=1024).contains(&threads)
        {
            return invalid(format!("threads must be between 1 and 1024, got {threads}"));
        }
        if let Some(layers) = self.gpu_layers
            && layers > 10_000
        {
            return invalid(format!("GPU layers must be at most 10000, got {layers}"));
        }
        if self.custom_presets.len() > MAX_CUSTOM_PRESETS {
            return invalid(format!("at most {MAX_CUSTOM_PRESETS} presets of your own can be kept"));
        }
        let builtin = builtin_presets();
        for (index, preset) in self.custom_presets.iter().enumerate() {
            if !preset.id.starts_with("custom-") || preset.id.len() > 100 {
                return invalid(format!("a preset of your own needs an id starting with custom-, got {:?}", preset.id));
            }
            if self.custom_presets[..index].iter().any(|other| other.id == preset.id) {
                return invalid(format!("two presets share the id {:?}", preset.id));
            }
            if preset.name.trim().is_empty() || preset.name.chars().count() > 100 {
                return invalid("a preset needs a name of 1 to 100 characters".into());
            }
            if preset.prompt.chars().count() > MAX_PRESET_CHARS {
                return invalid(format!("the preset {:?} is longer than {MAX_PRESET_CHARS} characters", preset.name));
            }
        }
        let known = |id: &str| builtin.iter().chain(&self.custom_presets).any(|preset| preset.id == id);
        if !self.preset_id.is_empty() && !known(&self.preset_id) {
            return invalid(format!("there is no preset {:?}", self.preset_id));
        }
        if let Some(token) = &self.hf_token
            && (token.len() > 512 || token.chars().any(|c| c.is_whitespace() || c.is_control()))
        {
            return invalid("the Hugging Face token must be one word of at most 512 characters".into());
        }
        if let Some(dir) = &self.data_dir
            && !dir.is_absolute()
        {
            return invalid(format!("the data folder must be an absolute path, got {}", dir.display()));
        }
        Ok(())
    }

    /// Validates and writes the settings: to a temporary file first, then renamed over the old
    /// one, so that a crash or a full disk never leaves half a file.
    pub fn save(&self, path: &Path) -> Result<(), SettingsError> {
        self.validate()?;
        let io = |source| SettingsError::Io { path: path.to_path_buf(), source };
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(io)?;
        }
        let json = serde_json::to_vec_pretty(self).expect("settings always serialize");
        let temporary = path.with_extension("json.tmp");
        let mut file = std::fs::File::create(&temporary).map_err(io)?;
        file.write_all(&json).and_then(|()| file.sync_all()).map_err(io)?;
        std::fs::rename(&temporary, path).map_err(io)
    }

    /// The system prompt of the chosen preset, if any.
    pub fn system_prompt(&self) -> Option<String> {
        builtin_presets()
            .into_iter()
            .chain(self.custom_presets.iter().cloned())
            .find(|preset| preset.id == self.preset_id)
            .map(|preset| preset.prompt)
    }

    /// The engine's part of the settings.
    pub fn tuning(&self) -> EngineTuning {
        EngineTuning { context_size: self.context_size, threads: self.threads, gpu_layers: self.gpu_layers }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_file_gives_defaults() {
        let dir = tempfile::tempdir().unwrap();
        let (settings, warning) = Settings::load(&dir.path().join("settings.json"));
        assert_eq!(settings, Settings::default());
        assert_eq!(warning, None);
    }

    #[test]
    fn saved_settings_load_back() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("nested/settings.json");
        let settings = Settings {
            theme: Theme::Dark,
            model: Some(ModelChoice { model: "/m/a.gguf".into(), mmproj: Some("/m/p.gguf".into()) }),
            custom_presets: vec![Preset { id: "custom-1".into(), name: "Pirate".into(), prompt: "Arr.".into() }],
            preset_id: "custom-1".into(),
            sampling: SamplingParams { temperature: Some(0.3), ..Default::default() },
            context_size: Some(4096),
            ..Default::default()
        };
        settings.save(&path).unwrap();
        assert_eq!(Settings::load(&path), (settings.clone(), None));
        assert_eq!(settings.system_prompt().as_deref(), Some("Arr."));
        assert!(!path.with_extension("json.tmp").exists());
    }

    #[test]
    fn damaged_file_is_set_aside_not_lost() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("settings.json");
        std::fs::write(&path, b"{\"theme\": \"dark\", \"sampl").unwrap();
        let (settings, warning) = Settings::load(&path);
        assert_eq!(settings, Settings::default());
        assert!(warning.unwrap().contains("damaged"));
        assert_eq!(std::fs::read(path.with_extension("json.damaged")).unwrap(), b"{\"theme\": \"dark\", \"sampl");
    }

    #[test]
    fn out_of_range_values_are_refused_and_nothing_is_written() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("settings.json");
        let cases = [
            Settings {
                sampling: SamplingParams { temperature: Some(9.0), ..Default::default() },
                ..Default::default()
            },
            Settings { context_size: Some(10), ..Default::default() },
            Settings { threads: Some(0), ..Default::default() },
            Settings { preset_id: "nope".into(), ..Default::default() },
            Settings { data_dir: Some("relative/dir".into()), ..Default::default() },
            Settings {
                custom_presets: vec![Preset { id: "general".into(), name: "x".into(), prompt: String::new() }],
                ..Default::default()
            },
        ];
        for settings in cases {
            let error = settings.save(&path).unwrap_err();
            assert!(matches!(error, SettingsError::Invalid(_)), "{error}");
        }
        assert!(!path.exists());
    }

    #[test]
    fn unknown_fields_are_refused() {
        assert!(serde_json::from_str::<Settings>(r#"{"theme":"dark","colour":"red"}"#).is_err());
        assert!(serde_json::from_str::<Settings>(r#"{"theme":"purple"}"#).is_err());
    }
}

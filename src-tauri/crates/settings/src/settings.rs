//! The user's preferences: one JSON file, validated on the way in, replaced atomically on the
//! way out, and never the reason the app fails to start (a damaged file is set aside).

use std::io::Write;
use std::path::{Path, PathBuf};

use gemma_desk_engine::{DEFAULT_IMAGE_TOKENS, IMAGE_TOKEN_BUDGETS, SamplingParams};
use serde::{Deserialize, Serialize};
use ts_rs::TS;

use crate::presets::{Preset, builtin_presets};
use gemma_desk_chat::{EngineTuning, ModelChoice, ToolChoice, ToolSettings};

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
    /// The most tokens Gemma 4 spends on one image: 70, 140, 280, 560 or 1120 (more reads text
    /// better and costs context and time). Gemma 3 always spends 256.
    pub image_tokens: u32,
    /// Where conversations are kept (unset: the platform's data folder); read at start.
    pub data_dir: Option<PathBuf>,
    /// A Hugging Face access token, for downloads from gated repositories.
    pub hf_token: Option<String>,
    /// The microphone to record from, by its device id (unset: the system's default input).
    pub microphone: Option<String>,
    /// The key held to talk: modifiers and a key code joined by `+`, as `KeyboardEvent.code`
    /// names keys (`Ctrl+Space`, `Alt+KeyM`, `F9`). It needs a modifier unless it is a function
    /// key, so that holding it never types.
    pub push_to_talk_key: String,
    /// Replies are read aloud as they stream.
    pub spoken_replies: bool,
    /// Replies are offered the tools (the built-in ones); each call is shown and confirmed.
    pub tools_enabled: bool,
    /// Tools whose calls run without asking, in every conversation (by name).
    pub always_allowed_tools: Vec<String>,
}

/// The most tools that may be allowed always.
const MAX_ALWAYS_ALLOWED_TOOLS: usize = 256;

/// The push-to-talk key a new install gets.
pub const DEFAULT_PUSH_TO_TALK_KEY: &str = "Ctrl+Space";

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
            image_tokens: DEFAULT_IMAGE_TOKENS,
            data_dir: None,
            hf_token: None,
            microphone: None,
            push_to_talk_key: DEFAULT_PUSH_TO_TALK_KEY.into(),
            spoken_replies: false,
            tools_enabled: false,
            always_allowed_tools: Vec::new(),
        }
    }
}

/// What loading the settings file had to repair, for the window to say once.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
pub struct SettingsNotice {
    /// The settings that fell back to their defaults, by their names in the file
    /// (`context_size`, `sampling.temperature`, `custom_presets[2]`); empty when the whole file
    /// could not be read.
    pub reset: Vec<String>,
    /// What was wrong, in words.
    pub reason: String,
    /// Where the old file is kept.
    pub old_file: PathBuf,
}

/// A name a tool may have: 1 to 128 letters, digits, `_`, `-` or `.`.
fn is_tool_name(name: &str) -> bool {
    (1..=128).contains(&name.len()) && name.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'))
}

/// Checks a push-to-talk key: `[Ctrl+][Alt+][Shift+][Meta+]CODE`, each modifier at most once,
/// with a modifier other than Shift unless CODE is a function key (F1 to F24), so that holding
/// it never types a character.
fn check_push_to_talk_key(key: &str) -> Result<(), String> {
    let mut parts: Vec<&str> = key.split('+').collect();
    let code = parts.pop().unwrap_or_default();
    let mut seen = Vec::new();
    for modifier in &parts {
        if !["Ctrl", "Alt", "Shift", "Meta"].contains(modifier) || seen.contains(modifier) {
            return Err(format!("the push-to-talk key {key:?} has an unknown or repeated modifier {modifier:?}"));
        }
        seen.push(*modifier);
    }
    let is_code = !code.is_empty() && code.len() <= 32 && code.chars().all(|c| c.is_ascii_alphanumeric());
    if !is_code || ["Control", "Alt", "Shift", "Meta"].iter().any(|name| code.starts_with(name)) {
        return Err(format!("the push-to-talk key {key:?} needs a key after its modifiers"));
    }
    let function_key = code.strip_prefix('F').and_then(|n| n.parse::<u8>().ok()).is_some_and(|n| (1..=24).contains(&n));
    if !function_key && !seen.iter().any(|modifier| *modifier != "Shift") {
        return Err(format!(
            "the push-to-talk key {key:?} would type while held; add Ctrl, Alt or Meta, or use a function key"
        ));
    }
    Ok(())
}

/// The first of `candidate(1)`, `candidate(2)`, ... that names nothing on disk: where to set a
/// file aside without overwriting an earlier one.
pub fn first_free_path(candidate: impl Fn(u32) -> PathBuf) -> PathBuf {
    (1..).map(candidate).find(|path| std::fs::symlink_metadata(path).is_err()).expect("some name is free")
}

/// Builds settings from the fields of a settings file, keeping each value with which the whole
/// is still valid; the names of the others. Objects (sampling) are taken key by key and lists
/// (custom presets) item by item. A plain value refused at first is tried again once the rest is
/// in, since it may name what comes after it (the chosen custom preset).
fn adopt_fields(fields: serde_json::Map<String, serde_json::Value>) -> (Settings, Vec<String>) {
    let mut adopted = serde_json::to_value(Settings::default()).expect("settings always serialize");
    let mut refused = Vec::new();
    for (name, value) in &fields {
        if !adopt(&mut adopted, &[name], value) && !adopt_parts(&mut adopted, name, value) {
            refused.push(name.clone());
        }
    }
    let mut reset = Vec::new();
    for name in refused {
        if !adopt(&mut adopted, &[&name], &fields[&name]) {
            reset.push(name);
        }
    }
    for (name, value) in &fields {
        collect_partial_resets(&adopted, name, value, &mut reset);
    }
    let settings = serde_json::from_value(adopted).expect("only valid values were adopted");
    (settings, reset)
}

/// Adopts an object's keys or a list's items one by one; false when `value` is neither.
fn adopt_parts(adopted: &mut serde_json::Value, name: &str, value: &serde_json::Value) -> bool {
    match value {
        serde_json::Value::Object(object) if adopted.get(name).is_some_and(serde_json::Value::is_object) => {
            for (key, inner) in object {
                adopt(adopted, &[name, key], inner);
            }
            true
        }
        serde_json::Value::Array(items) if adopted.get(name).is_some_and(serde_json::Value::is_array) => {
            for item in items {
                let mut candidate = adopted.clone();
                candidate[name].as_array_mut().expect("checked above").push(item.clone());
                if is_valid(&candidate) {
                    *adopted = candidate;
                }
            }
            true
        }
        _ => false,
    }
}

/// Names the keys and items of an object or list field that [`adopt_parts`] left out.
fn collect_partial_resets(adopted: &serde_json::Value, name: &str, value: &serde_json::Value, reset: &mut Vec<String>) {
    let kept = &adopted[name];
    match value {
        serde_json::Value::Object(object) if kept.is_object() => {
            for (key, inner) in object {
                if kept.get(key) != Some(inner) {
                    reset.push(format!("{name}.{key}"));
                }
            }
        }
        serde_json::Value::Array(items) if kept.is_array() => {
            let kept = kept.as_array().expect("checked above");
            for (index, item) in items.iter().enumerate() {
                if !kept.contains(item) {
                    reset.push(format!("{name}[{index}]"));
                }
            }
        }
        _ => {}
    }
}

/// Sets `adopted[path]` to `value` if the whole is still valid settings; whether it did.
fn adopt(adopted: &mut serde_json::Value, path: &[&str], value: &serde_json::Value) -> bool {
    let mut candidate = adopted.clone();
    let mut slot = &mut candidate;
    for key in path {
        let Some(object) = slot.as_object_mut() else { return false };
        slot = object.entry(key.to_string()).or_insert(serde_json::Value::Null);
    }
    *slot = value.clone();
    if !is_valid(&candidate) {
        return false;
    }
    *adopted = candidate;
    true
}

/// Whether `value` reads as settings and passes [`Settings::validate`].
fn is_valid(value: &serde_json::Value) -> bool {
    serde_json::from_value::<Settings>(value.clone()).is_ok_and(|settings| settings.validate().is_ok())
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
    /// Reads the settings at `path`. A missing file gives the defaults. One that is not valid
    /// keeps every value that is: only the others fall back to their defaults. The old file is
    /// then set aside as `settings.before-reset.json` (or `-2`, `-3`...) and the repaired one
    /// saved in its place, and the notice says what was reset and where the old file is, to be
    /// shown once.
    pub fn load(path: &Path) -> (Settings, Option<SettingsNotice>) {
        let bytes = match std::fs::read(path) {
            Ok(bytes) => bytes,
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => return (Settings::default(), None),
            Err(error) => {
                let reason = format!("the settings file could not be read ({error})");
                return (
                    Settings::default(),
                    Some(SettingsNotice { reset: Vec::new(), reason, old_file: path.into() }),
                );
            }
        };
        let parsed = match std::str::from_utf8(&bytes) {
            Err(_) => Err("the settings file is not text".to_owned()),
            Ok(text) => match serde_json::from_str::<serde_json::Value>(text) {
                Ok(serde_json::Value::Object(fields)) => Ok(fields),
                Ok(_) => Err("the settings file does not hold settings".to_owned()),
                Err(error) => Err(format!("the settings file is not valid JSON ({error})")),
            },
        };
        let (settings, reset, reason) = match parsed {
            Ok(fields) => {
                let (settings, reset) = adopt_fields(fields);
                if reset.is_empty() {
                    return (settings, None);
                }
                (settings, reset, "the file held values for them that are not valid".to_owned())
            }
            Err(reason) => (Settings::default(), Vec::new(), reason),
        };
        let old_file = first_free_path(|n| {
            let suffix = if n == 1 { String::new() } else { format!("-{n}") };
            path.with_file_name(format!("settings.before-reset{suffix}.json"))
        });
        let notice = match std::fs::rename(path, &old_file) {
            Ok(()) => {
                let saved = settings.save(path).map_err(|error| error.to_string());
                let reason = match saved {
                    Ok(()) => reason,
                    Err(error) => format!("{reason}; the repaired settings could not be saved: {error}"),
                };
                SettingsNotice { reset, reason, old_file }
            }
            // Left where it is; the app then keeps the values here until the user saves.
            Err(error) => SettingsNotice {
                reset,
                reason: format!("{reason}; the file could not be set aside ({error})"),
                old_file: path.into(),
            },
        };
        (settings, Some(notice))
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
        if !IMAGE_TOKEN_BUDGETS.contains(&self.image_tokens) {
            return invalid(format!(
                "the image-token budget must be one of {IMAGE_TOKEN_BUDGETS:?}, got {}",
                self.image_tokens
            ));
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
        if let Some(microphone) = &self.microphone
            && (microphone.is_empty() || microphone.len() > 512)
        {
            return invalid("a microphone is named by its device id of 1 to 512 characters".into());
        }
        if self.always_allowed_tools.len() > MAX_ALWAYS_ALLOWED_TOOLS {
            return invalid(format!("at most {MAX_ALWAYS_ALLOWED_TOOLS} tools can be allowed always"));
        }
        if let Some(name) = self.always_allowed_tools.iter().find(|name| !is_tool_name(name)) {
            return invalid(format!("{name:?} is not a tool name"));
        }
        check_push_to_talk_key(&self.push_to_talk_key).map_err(SettingsError::Invalid)
    }

    /// The chat's tool settings from these.
    pub fn tools(&self) -> ToolSettings {
        ToolSettings {
            enabled: self.tools_enabled,
            always_allowed: self.always_allowed_tools.iter().cloned().collect(),
            choice: ToolChoice::Auto,
        }
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
        EngineTuning {
            context_size: self.context_size,
            threads: self.threads,
            gpu_layers: self.gpu_layers,
            image_tokens: Some(self.image_tokens),
        }
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
            microphone: Some("alsa:headset".into()),
            push_to_talk_key: "Alt+KeyM".into(),
            spoken_replies: true,
            tools_enabled: true,
            always_allowed_tools: vec!["calculator".into()],
            ..Default::default()
        };
        settings.save(&path).unwrap();
        assert_eq!(Settings::load(&path), (settings.clone(), None));
        assert_eq!(settings.system_prompt().as_deref(), Some("Arr."));
        assert!(!path.with_extension("json.tmp").exists());
    }

    #[test]
    fn a_push_to_talk_key_that_would_type_while_held_is_refused() {
        for good in ["Ctrl+Space", "Alt+KeyM", "Ctrl+Shift+KeyT", "Meta+Space", "F9", "Shift+F2"] {
            assert_eq!(check_push_to_talk_key(good), Ok(()), "{good}");
        }
        for (bad, why) in [
            ("Space", "would type while held"),
            ("Shift+KeyA", "would type while held"),
            ("F25", "would type while held"),
            ("Ctrl+", "needs a key"),
            ("Ctrl+ControlLeft", "needs a key"),
            ("Hyper+KeyA", "unknown or repeated modifier"),
            ("Ctrl+Ctrl+KeyA", "unknown or repeated modifier"),
        ] {
            let error = check_push_to_talk_key(bad).unwrap_err();
            assert!(error.contains(why), "{bad}: {error}");
        }
        let settings = Settings { push_to_talk_key: "KeyQ".into(), ..Default::default() };
        assert!(settings.validate().is_err());
    }

    #[test]
    fn an_always_allowed_tool_must_have_a_tool_name() {
        let allowed = |names: &[&str]| Settings {
            always_allowed_tools: names.iter().map(|name| name.to_string()).collect(),
            ..Default::default()
        };
        assert!(allowed(&["calculator", "mcp.files-read"]).validate().is_ok());
        for bad in ["", "rm -rf", "a\nb", &"x".repeat(129)] {
            assert!(allowed(&[bad]).validate().is_err(), "{bad:?}");
        }
    }

    /// Loads `text` as the settings file in a fresh folder: the settings, the notice, the folder.
    fn load_file(text: &[u8]) -> (Settings, Option<SettingsNotice>, tempfile::TempDir) {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("settings.json"), text).unwrap();
        let (settings, notice) = Settings::load(&dir.path().join("settings.json"));
        (settings, notice, dir)
    }

    #[test]
    fn one_bad_value_resets_only_itself_and_the_old_file_is_kept() {
        let text = br#"{"theme": "dark", "model": {"model": "/m/a.gguf", "mmproj": null}, "context_size": 40960000,
            "sampling": {"temperature": 0.3, "top_p": 7}}"#;
        let (settings, notice, dir) = load_file(text);
        assert_eq!(settings.theme, Theme::Dark, "the theme is kept");
        assert_eq!(settings.model.unwrap().model, PathBuf::from("/m/a.gguf"), "the model is kept");
        assert_eq!(
            (settings.context_size, settings.sampling.temperature, settings.sampling.top_p),
            (None, Some(0.3), None)
        );
        let notice = notice.expect("the window is told");
        assert_eq!(notice.reset, ["context_size", "sampling.top_p"]);
        assert_eq!(notice.old_file, dir.path().join("settings.before-reset.json"));
        assert_eq!(std::fs::read(&notice.old_file).unwrap(), text, "the old file is kept byte for byte");
        let (again, said) = Settings::load(&dir.path().join("settings.json"));
        assert_eq!(
            (again.theme, said),
            (Theme::Dark, None),
            "the repaired file was saved: the next start says nothing"
        );
    }

    #[test]
    fn a_bad_preset_is_dropped_and_a_good_one_stays_chosen() {
        let long = "x".repeat(MAX_PRESET_CHARS + 1);
        let text = format!(
            r#"{{"preset_id": "custom-2", "custom_presets": [{{"id": "custom-1", "name": "Long", "prompt": "{long}"}},
               {{"id": "custom-2", "name": "Pirate", "prompt": "Arr."}}]}}"#
        );
        let (settings, notice, _dir) = load_file(text.as_bytes());
        assert_eq!(settings.custom_presets.len(), 1);
        assert_eq!(settings.preset_id, "custom-2", "the chosen preset, named before it in the file, is kept");
        assert_eq!(notice.unwrap().reset, ["custom_presets[0]"]);
    }

    #[test]
    fn garbage_gives_the_defaults_and_is_set_aside_whole() {
        for (garbage, reason) in [
            (&b"{\"theme\": \"dark\", \"sampl"[..], "not valid JSON"),
            (&[0xff, 0xfe, 0x00, 0x9c, 0x01][..], "not text"),
            (&b"[1, 2, 3]"[..], "does not hold settings"),
        ] {
            let (settings, notice, dir) = load_file(garbage);
            assert_eq!(settings, Settings::default());
            let notice = notice.unwrap();
            assert!(notice.reason.contains(reason), "{}", notice.reason);
            assert_eq!(std::fs::read(&notice.old_file).unwrap(), garbage, "kept byte for byte");
            let saved = std::fs::read_to_string(dir.path().join("settings.json")).unwrap();
            assert_eq!(serde_json::from_str::<Settings>(&saved).unwrap(), Settings::default());
        }
    }

    #[test]
    fn a_second_reset_never_overwrites_the_first_old_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("settings.json");
        std::fs::write(&path, r#"{"threads": 0}"#).unwrap();
        Settings::load(&path);
        std::fs::write(&path, r#"{"theme": "purple"}"#).unwrap();
        let notice = Settings::load(&path).1.unwrap();
        assert_eq!(notice.old_file, dir.path().join("settings.before-reset-2.json"));
        assert_eq!(
            std::fs::read_to_string(dir.path().join("settings.before-reset.json")).unwrap(),
            r#"{"threads": 0}"#
        );
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

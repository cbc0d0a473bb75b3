//! The catalog of Gemma models to download: `models/catalog.toml`, built into the app, or a file
//! named by [`CATALOG_ENV`] (tests point it at a local server).

use std::path::Path;

use serde::{Deserialize, Serialize};
use ts_rs::TS;


/// Names a catalog file to use instead of the built-in one.
pub const CATALOG_ENV: &str = "GEMMA_DESK_CATALOG";

const BUILT_IN: &str = include_str!("../../../../models/catalog.toml");

/// The models on offer, least capable first.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Catalog {
    /// Where files are fetched from: `<endpoint>/<repo>/resolve/<rev>/<file>`.
    pub endpoint: String,
    /// The models.
    #[serde(rename = "model")]
    pub models: Vec<CatalogModel>,
}

/// One model on offer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CatalogModel {
    /// Stable id, e.g. `gemma-3-4b-it`; also the folder it is installed in.
    pub id: String,
    /// What people call it, e.g. `Gemma 3 4B`.
    pub name: String,
    /// `gemma3`, `gemma3n` or `gemma4`.
    pub family: String,
    /// The Hugging Face repository.
    pub repo: String,
    /// The pinned commit; empty for the main branch.
    #[serde(default)]
    pub rev: String,
    /// The model GGUF.
    pub file: RemoteFile,
    /// The projector GGUF that adds vision (and audio), if the model has one.
    #[serde(default)]
    pub mmproj: Option<RemoteFile>,
    /// The context length it was trained for, in tokens.
    pub context: u32,
    /// What it can do.
    pub caps: Vec<Capability>,
    /// The licence it is published under.
    pub licence: Licence,
    /// The least RAM (GB) the publisher says it needs, when they say.
    #[serde(default)]
    pub min_ram_gb: Option<u32>,
    /// The share of the weights read for each token (below 1 for a mixture of experts).
    #[serde(default = "one")]
    pub active_fraction: f64,
    /// Transformer layers.
    pub layers: u32,
    /// The shape of its KV cache.
    pub kv: KvShape,
}

fn one() -> f64 {
    1.0
}

/// A file in the model's repository.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RemoteFile {
    /// The file name in the repository (and on disk).
    pub name: String,
    /// Its size, when published.
    #[serde(default)]
    pub bytes: Option<u64>,
    /// Its sha256 in lowercase hex, when published; empty when not.
    #[serde(default)]
    pub sha256: String,
}

impl RemoteFile {
    /// The published hash, if there is one.
    pub fn sha256(&self) -> Option<&str> {
        Some(self.sha256.as_str()).filter(|hash| !hash.is_empty())
    }
}

/// The layers that keep a KV cache of their own, and their attention shapes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KvShape {
    /// Sliding-window layers with their own cache.
    pub swa_layers: u32,
    /// Global layers with their own cache.
    pub global_layers: u32,
    /// KV heads of a sliding-window layer.
    pub kv_heads: u32,
    /// Width of one head of a sliding-window layer.
    pub head_dim: u32,
    /// KV heads of a global layer; as `kv_heads` when unset.
    #[serde(default)]
    pub global_kv_heads: Option<u32>,
    /// Width of one head of a global layer; as `head_dim` when unset.
    #[serde(default)]
    pub global_head_dim: Option<u32>,
}

impl KvShape {
    /// Bytes of f16 keys and values one token takes in every layer with a cache (the engine keeps
    /// full-size caches in the sliding-window layers too, so that its prompt cache stays valid).
    pub fn bytes_per_token(&self) -> u64 {
        let swa = u64::from(self.swa_layers) * u64::from(self.kv_heads) * u64::from(self.head_dim);
        let global = u64::from(self.global_layers)
            * u64::from(self.global_kv_heads.unwrap_or(self.kv_heads))
            * u64::from(self.global_head_dim.unwrap_or(self.head_dim));
        2 * 2 * (swa + global)
    }
}

/// Something a model can do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "lowercase")]
pub enum Capability {
    /// Reads and writes text.
    Text,
    /// Understands images (with its mmproj).
    Vision,
    /// Understands speech and sounds (with its mmproj).
    Audio,
    /// Calls functions.
    Tools,
    /// Thinks before answering.
    Thinking,
}

/// The licence a model is published under.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
pub enum Licence {
    /// Gemma Terms of Use (Gemma 3 and 3n).
    #[serde(rename = "gemma")]
    GemmaTerms,
    /// Apache License 2.0 (Gemma 4).
    #[serde(rename = "apache-2.0")]
    Apache2,
}

impl Licence {
    /// Its name.
    pub fn name(self) -> &'static str {
        match self {
            Licence::GemmaTerms => "Gemma Terms of Use",
            Licence::Apache2 => "Apache License 2.0",
        }
    }

    /// Where to read it.
    pub fn url(self) -> &'static str {
        match self {
            Licence::GemmaTerms => "https://ai.google.dev/gemma/terms",
            Licence::Apache2 => "https://www.apache.org/licenses/LICENSE-2.0",
        }
    }
}

/// A catalog that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum CatalogError {
    /// The file could not be read.
    #[error("cannot read the model catalog {path}: {source}")]
    Read {
        /// The file.
        path: String,
        /// Why.
        source: std::io::Error,
    },
    /// The file is not a valid catalog.
    #[error("the model catalog {path} is not valid: {message}")]
    Invalid {
        /// The file.
        path: String,
        /// What is wrong.
        message: String,
    },
}

impl Catalog {
    /// The built-in catalog, or the one named by [`CATALOG_ENV`].
    pub fn load() -> Result<Catalog, CatalogError> {
        match std::env::var_os(CATALOG_ENV) {
            Some(path) => Catalog::from_file(Path::new(&path)),
            None => Ok(Catalog::built_in()),
        }
    }

    /// The catalog built into the app.
    pub fn built_in() -> Catalog {
        Catalog::parse(BUILT_IN, "built-in").expect("the built-in catalog is valid (checked by a test)")
    }

    /// Reads a catalog file.
    pub fn from_file(path: &Path) -> Result<Catalog, CatalogError> {
        let text = std::fs::read_to_string(path)
            .map_err(|source| CatalogError::Read { path: path.display().to_string(), source })?;
        Catalog::parse(&text, &path.display().to_string())
    }

    /// Parses and checks a catalog.
    pub fn parse(text: &str, origin: &str) -> Result<Catalog, CatalogError> {
        let invalid = |message: String| CatalogError::Invalid { path: origin.to_owned(), message };
        let catalog: Catalog = toml::from_str(text).map_err(|error| invalid(error.to_string()))?;
        let mut ids = std::collections::HashSet::new();
        for model in &catalog.models {
            let safe_name = |name: &str| {
                !name.is_empty() && !name.starts_with('.') && !name.contains(['/', '\\']) && name.ends_with(".gguf")
            };
            let ok_id = !model.id.is_empty()
                && model.id.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.')
                && !model.id.starts_with('.');
            if !ok_id || !ids.insert(model.id.as_str()) {
                return Err(invalid(format!("model id {:?} is not a unique plain name", model.id)));
            }
            for file in std::iter::once(&model.file).chain(&model.mmproj) {
                if !safe_name(&file.name) {
                    return Err(invalid(format!("{}: file name {:?} is not a plain .gguf name", model.id, file.name)));
                }
                if !file.sha256.is_empty()
                    && (file.sha256.len() != 64 || !file.sha256.chars().all(|c| c.is_ascii_hexdigit()))
                {
                    return Err(invalid(format!("{}: {} has a malformed sha256", model.id, file.name)));
                }
            }
            if model.mmproj.is_none() && model.caps.iter().any(|c| matches!(c, Capability::Vision | Capability::Audio))
            {
                return Err(invalid(format!("{}: vision or audio needs an mmproj file", model.id)));
            }
            if !(0.0..=1.0).contains(&model.active_fraction) || model.active_fraction == 0.0 {
                return Err(invalid(format!("{}: active_fraction must lie in (0, 1]", model.id)));
            }
        }
        Ok(catalog)
    }

    /// The model with this id.
    pub fn get(&self, id: &str) -> Option<&CatalogModel> {
        self.models.iter().find(|model| model.id == id)
    }

    /// Where a file of a model is downloaded from.
    pub fn url(&self, model: &CatalogModel, file: &RemoteFile) -> String {
        let rev = if model.rev.is_empty() { "main" } else { &model.rev };
        format!("{}/{}/resolve/{rev}/{}", self.endpoint.trim_end_matches('/'), model.repo, file.name)
    }
}

impl CatalogModel {
    /// Whether it has this capability.
    pub fn can(&self, capability: Capability) -> bool {
        self.caps.contains(&capability)
    }

    /// The bytes to download (model and projector), as far as they are known.
    pub fn download_bytes(&self) -> u64 {
        self.file.bytes.unwrap_or(0) + self.mmproj.as_ref().and_then(|m| m.bytes).unwrap_or(0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn built_in_catalog_is_valid_and_covers_the_gemma_line_up() {
        let catalog = Catalog::parse(BUILT_IN, "built-in").unwrap();
        let ids: Vec<&str> = catalog.models.iter().map(|m| m.id.as_str()).collect();
        for id in [
            "gemma-3-270m-it",
            "gemma-3-1b-it",
            "gemma-3-4b-it",
            "gemma-3-12b-it",
            "gemma-3-27b-it",
            "gemma-3n-e2b-it",
            "gemma-3n-e4b-it",
            "gemma-4-e2b-it",
            "gemma-4-e4b-it",
            "gemma-4-12b-it",
            "gemma-4-26b-a4b-it",
            "gemma-4-31b-it",
        ] {
            assert!(ids.contains(&id), "{id} is missing");
        }
        for model in &catalog.models {
            let expected = if model.family == "gemma4" { Licence::Apache2 } else { Licence::GemmaTerms };
            assert_eq!(model.licence, expected, "{}", model.id);
            assert!(model.kv.swa_layers + model.kv.global_layers <= model.layers, "{}", model.id);
        }
        let e4b = catalog.get("gemma-4-e4b-it").unwrap();
        assert_eq!(
            catalog.url(e4b, &e4b.file),
            "https://huggingface.co/ggml-org/gemma-4-E4B-it-GGUF/resolve/b8093469224f83f5c38f691eb906c380e9e63114/gemma-4-E4B-it-Q4_0.gguf"
        );
        let unpinned = catalog.get("gemma-3n-e4b-it").unwrap();
        assert!(catalog.url(unpinned, &unpinned.file).contains("/resolve/main/"));
    }

    #[test]
    fn kv_bytes_per_token_follow_the_attention_shapes() {
        let catalog = Catalog::built_in();
        // Gemma 3 270M: 18 layers x 1 KV head x 256 wide x (K and V) x 2 bytes.
        assert_eq!(catalog.get("gemma-3-270m-it").unwrap().kv.bytes_per_token(), 18 * 256 * 4);
        // Gemma 4 31B: 50 sliding layers of 16 x 256 and 10 global layers of 4 x 512.
        assert_eq!(catalog.get("gemma-4-31b-it").unwrap().kv.bytes_per_token(), (50 * 16 * 256 + 10 * 4 * 512) * 4);
    }

    #[test]
    fn unsafe_or_inconsistent_entries_are_refused() {
        let entry = |id: &str, file: &str, extra: &str| {
            format!(
                "endpoint = \"http://x\"\n[[model]]\nid = \"{id}\"\nname = \"n\"\nfamily = \"gemma3\"\nrepo = \"r\"\n\
                 file = {{ name = \"{file}\" }}\ncontext = 1\ncaps = [\"text\"{extra}]\nlicence = \"gemma\"\nlayers = 1\n\
                 kv = {{ swa_layers = 0, global_layers = 1, kv_heads = 1, head_dim = 1 }}\n"
            )
        };
        assert!(Catalog::parse(&entry("ok", "a.gguf", ""), "t").is_ok());
        for bad in [
            entry("../up", "a.gguf", ""),
            entry("ok", "../a.gguf", ""),
            entry("ok", "a.bin", ""),
            entry("ok", "a.gguf", ", \"vision\""),
        ] {
            assert!(Catalog::parse(&bad, "t").is_err(), "accepted:\n{bad}");
        }
    }
}

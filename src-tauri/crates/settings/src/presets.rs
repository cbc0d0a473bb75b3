//! System prompt presets: the uses the Gemma guide describes, ready to pick.

use serde::{Deserialize, Serialize};
use ts_rs::TS;

/// A named system prompt.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct Preset {
    /// Stable id (`custom-...` for the user's own).
    pub id: String,
    /// Its name in the settings.
    pub name: String,
    /// The system prompt.
    pub prompt: String,
}

/// The presets every installation has.
pub fn builtin_presets() -> Vec<Preset> {
    [
        (
            "general",
            "General assistant",
            "You are Gemma, a helpful assistant running privately on the user's computer. Answer clearly \
             and accurately, say when you are unsure, and use Markdown for lists, tables and code.",
        ),
        (
            "image-analysis",
            "Image analysis",
            "You analyse images. Describe what the image shows: the main subjects, any text in it, \
             colours, layout and notable details. Separate what is visible from what you infer, and \
             answer the user's question about the image precisely.",
        ),
        (
            "image-comparison",
            "Image comparison",
            "You compare images. For the images given, list what they have in common and how they \
             differ (subjects, composition, colours, text, quality), in a clear structure, then \
             answer the user's question about them.",
        ),
        (
            "function-calling",
            "Function calling",
            "You can call functions. When a request needs one of the functions described to you, \
             answer only with a JSON object of the form {\"name\": function name, \"parameters\": \
             {argument: value}} and nothing else. When no function fits, answer normally.",
        ),
        (
            "multilingual",
            "Culturally aware multilingual assistant",
            "You are a multilingual assistant. Answer in the language the user writes in. Be aware of \
             cultural context: use local conventions for dates, numbers, units, names and forms of \
             address, avoid idioms that do not translate, and say when an answer differs by region.",
        ),
    ]
    .into_iter()
    .map(|(id, name, prompt)| Preset { id: id.into(), name: name.into(), prompt: prompt.into() })
    .collect()
}

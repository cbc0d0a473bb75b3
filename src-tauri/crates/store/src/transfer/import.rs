//! An import file (a JSON export document, see `document`) read and checked before anything
//! touches the database.
//!
//! Reading goes through a `serde_json::Value` and takes each field by name, so that every refusal
//! says where the problem is (`messages[3].attachments[0].sha256: ...`): serde's own errors name
//! neither the message nor, for a wrong type, the field.

use std::collections::HashMap;
use std::fmt::Display;

use super::document::{FORMAT, VERSION};
use super::markdown::size;
use crate::attachments::{is_sha256_hex, sha256_hex};
use crate::error::StoreError;
use crate::types::{ConversationSettings, MessageStatus, Millis, ReplyStats, Role, ToolPart};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

/// The largest import file, in bytes.
pub(crate) const MAX_FILE_BYTES: usize = 256 << 20;
/// The longest text of one message (its content, its error) or system prompt, in bytes.
pub(crate) const MAX_CONTENT_BYTES: usize = 16 << 20;
/// The longest title, model name or attachment name, in characters.
pub(crate) const MAX_NAME_CHARS: usize = 1_000;
/// The most messages one import may hold.
pub(crate) const MAX_MESSAGES: usize = 100_000;
/// The largest attachment, decoded, in bytes.
pub(crate) const MAX_ATTACHMENT_BYTES: usize = 64 << 20;
/// The largest sampling settings, as JSON, in bytes.
const MAX_SAMPLING_BYTES: usize = 1 << 20;

/// A checked import file, ready to insert: parents are indexes of earlier messages.
#[derive(Debug)]
pub(crate) struct Import {
    pub title: String,
    pub created_at: Millis,
    pub pinned: bool,
    pub model: Option<String>,
    pub settings: ConversationSettings,
    /// Index into `messages`; `None` only when there are no messages.
    pub current_leaf: Option<usize>,
    pub messages: Vec<ImportMessage>,
}

/// A checked message of an [`Import`].
#[derive(Debug)]
pub(crate) struct ImportMessage {
    /// Index of an earlier message.
    pub parent: Option<usize>,
    pub role: Role,
    pub content: String,
    /// Never `Streaming`: nothing is writing an imported reply.
    pub status: MessageStatus,
    pub error: Option<String>,
    pub model: Option<String>,
    pub stats: ReplyStats,
    pub tool: Option<ToolPart>,
    pub created_at: Millis,
    pub updated_at: Millis,
    pub attachments: Vec<ImportAttachment>,
}

/// A checked attachment of an [`ImportMessage`]: `data` hashes to `sha256`.
#[derive(Debug)]
pub(crate) struct ImportAttachment {
    pub sha256: String,
    pub media_type: String,
    pub name: Option<String>,
    pub width: Option<i64>,
    pub height: Option<i64>,
    pub duration_ms: Option<i64>,
    pub created_at: Millis,
    pub data: Vec<u8>,
}

/// Reads and checks an import file. Every refusal is [`StoreError::InvalidImport`] saying where.
pub(crate) fn parse(json: &str) -> Result<Import, StoreError> {
    check_file_size(json.len())?;
    let root: Value = serde_json::from_str(json).map_err(|e| refuse(format!("the file is not valid JSON: {e}")))?;
    let mut root = Fields::of(root, "", &["format", "version", "conversation", "current_leaf", "messages"])
        .map_err(|_| refuse("this is not a Gemma Desk conversation export: the document is not a JSON object"))?;
    check_header(&mut root)?;
    root.check_unknown()?;

    let conversation = root.required::<Value>("conversation")?;
    let current_leaf = root.optional::<u64>("current_leaf")?;
    let messages = root.required::<Vec<Value>>("messages")?;
    if messages.len() > MAX_MESSAGES {
        return Err(refuse(format!("the file has {} messages; the limit is {MAX_MESSAGES}", messages.len())));
    }

    let mut conversation = Fields::of(
        conversation,
        "conversation",
        &["title", "created_at", "updated_at", "pinned", "model", "settings"],
    )?;
    conversation.check_unknown()?;
    let title: String = conversation.required("title")?;
    conversation.check_chars("title", &title, MAX_NAME_CHARS)?;
    let model: Option<String> = conversation.optional("model")?;
    if let Some(model) = &model {
        conversation.check_chars("model", model, MAX_NAME_CHARS)?;
    }
    let created_at = conversation.required("created_at")?;
    // Checked, then left: an imported conversation was last changed when it was imported.
    conversation.optional::<Millis>("updated_at")?;
    let pinned = conversation.optional("pinned")?.unwrap_or(false);
    let settings = match conversation.optional::<Value>("settings")? {
        Some(settings) => read_settings(settings)?,
        None => ConversationSettings::default(),
    };

    let mut ids: HashMap<u64, usize> = HashMap::with_capacity(messages.len());
    let mut read = Vec::with_capacity(messages.len());
    for (index, message) in messages.into_iter().enumerate() {
        let (id, parent, message) = read_message(message, index)?;
        if let Some(first) = ids.insert(id, index) {
            return Err(refuse(format!("messages[{index}].id: {id} is already the id of messages[{first}]")));
        }
        read.push((id, parent, message));
    }
    let mut messages = Vec::with_capacity(read.len());
    for (index, (id, parent, mut message)) in read.into_iter().enumerate() {
        message.parent = match parent {
            None => None,
            Some(parent) => Some(match ids.get(&parent) {
                Some(&at) if at < index => at,
                _ if parent == id => {
                    return Err(refuse(format!("messages[{index}].parent: a message cannot be its own parent")));
                }
                Some(&at) => {
                    return Err(refuse(format!(
                        "messages[{index}].parent: {parent} is the id of a later message (messages[{at}]); \
                         a parent must come before its replies"
                    )));
                }
                None => return Err(refuse(format!("messages[{index}].parent: no message has the id {parent}"))),
            }),
        };
        messages.push(message);
    }
    let current_leaf = match current_leaf {
        Some(leaf) => {
            Some(*ids.get(&leaf).ok_or_else(|| refuse(format!("current_leaf: no message has the id {leaf}")))?)
        }
        // A file written by hand may leave it out; the newest message is the likeliest choice.
        None => messages.len().checked_sub(1),
    };
    Ok(Import { title, created_at, pinned, model, settings, current_leaf, messages })
}

/// Refuses a file over [`MAX_FILE_BYTES`] before it is read.
pub(crate) fn check_file_size(bytes: usize) -> Result<(), StoreError> {
    if bytes > MAX_FILE_BYTES {
        return Err(refuse(format!("the file {}", over(bytes, MAX_FILE_BYTES))));
    }
    Ok(())
}

/// Refuses files that are not ours, or from a version this one cannot read, before looking
/// closer (a newer version may well have fields this one does not know).
fn check_header(root: &mut Fields) -> Result<(), StoreError> {
    let not_ours = |why: String| refuse(format!("this is not a Gemma Desk conversation export: {why}"));
    match root.map.remove("format") {
        Some(Value::String(format)) if format == FORMAT => {}
        Some(other) => return Err(not_ours(format!("`format` is {other}, expected \"{FORMAT}\""))),
        None => return Err(not_ours("it has no `format` field".to_owned())),
    }
    match root.map.remove("version") {
        Some(Value::Number(version)) if version.as_u64() == Some(VERSION) => Ok(()),
        Some(Value::Number(version)) => Err(refuse(format!(
            "it is version {version} of the export format, and this version of Gemma Desk reads only version \
             {VERSION}; was it written by a newer Gemma Desk?"
        ))),
        Some(other) => Err(refuse(format!("version: {other} is not a version number"))),
        None => Err(refuse("the document has no `version` field")),
    }
}

fn read_settings(settings: Value) -> Result<ConversationSettings, StoreError> {
    let mut fields = Fields::of(settings, "conversation.settings", &["system_prompt", "sampling"])?;
    fields.check_unknown()?;
    let system_prompt: Option<String> = fields.optional("system_prompt")?;
    if let Some(prompt) = &system_prompt {
        fields.check_bytes("system_prompt", prompt, MAX_CONTENT_BYTES)?;
    }
    let sampling = fields.optional::<Value>("sampling")?.unwrap_or(Value::Null);
    if !(sampling.is_null() || sampling.is_object()) {
        return Err(fields.problem("sampling", "must be an object or null"));
    }
    if serde_json::to_string(&sampling).map_or(0, |json| json.len()) > MAX_SAMPLING_BYTES {
        return Err(fields.problem("sampling", format!("is over the limit of {}", size(MAX_SAMPLING_BYTES))));
    }
    Ok(ConversationSettings { system_prompt, sampling })
}

/// One message: its local id, its parent's local id, and the rest (parent not yet resolved).
fn read_message(message: Value, index: usize) -> Result<(u64, Option<u64>, ImportMessage), StoreError> {
    const KNOWN: &[&str] = &[
        "id",
        "parent",
        "role",
        "content",
        "status",
        "error",
        "model",
        "stats",
        "tool",
        "created_at",
        "updated_at",
        "attachments",
    ];
    let mut fields = Fields::of(message, format!("messages[{index}]"), KNOWN)?;
    fields.check_unknown()?;
    let id = fields.required("id")?;
    let parent = fields.optional("parent")?;
    let role = fields.required("role")?;
    let content: String = fields.required("content")?;
    fields.check_bytes("content", &content, MAX_CONTENT_BYTES)?;
    let status = match fields.required("status")? {
        // Whatever was writing it is not coming back.
        MessageStatus::Streaming => MessageStatus::Interrupted,
        status => status,
    };
    let error: Option<String> = fields.optional("error")?;
    if let Some(error) = &error {
        fields.check_bytes("error", error, MAX_CONTENT_BYTES)?;
    }
    let model: Option<String> = fields.optional("model")?;
    if let Some(model) = &model {
        fields.check_chars("model", model, MAX_NAME_CHARS)?;
    }
    let stats = match fields.optional::<Value>("stats")? {
        Some(stats) => read_stats(stats, index)?,
        None => ReplyStats::default(),
    };
    let tool: Option<ToolPart> = fields.optional("tool")?;
    let created_at = fields.required("created_at")?;
    let updated_at = fields.required("updated_at")?;
    let attachments = fields.optional::<Vec<Value>>("attachments")?.unwrap_or_default();
    let attachments = attachments
        .into_iter()
        .enumerate()
        .map(|(at, attachment)| read_attachment(attachment, &format!("messages[{index}].attachments[{at}]")))
        .collect::<Result<_, _>>()?;
    let message = ImportMessage {
        parent: None,
        role,
        content,
        status,
        error,
        model,
        stats,
        tool,
        created_at,
        updated_at,
        attachments,
    };
    Ok((id, parent, message))
}

fn read_stats(stats: Value, index: usize) -> Result<ReplyStats, StoreError> {
    const KNOWN: &[&str] = &[
        "ttft_ms",
        "prefill_tps",
        "decode_tps",
        "prompt_tokens",
        "generated_tokens",
        "reused_tokens",
        "image_tokens_reused",
        "image_tokens_encoded",
    ];
    let mut fields = Fields::of(stats, format!("messages[{index}].stats"), KNOWN)?;
    fields.check_unknown()?;
    Ok(ReplyStats {
        ttft_ms: fields.optional("ttft_ms")?,
        prefill_tps: fields.optional("prefill_tps")?,
        decode_tps: fields.optional("decode_tps")?,
        prompt_tokens: fields.optional("prompt_tokens")?,
        generated_tokens: fields.optional("generated_tokens")?,
        reused_tokens: fields.optional("reused_tokens")?,
        // Written since images were stored; files from before have neither.
        image_tokens_reused: fields.optional("image_tokens_reused")?,
        image_tokens_encoded: fields.optional("image_tokens_encoded")?,
    })
}

fn read_attachment(attachment: Value, at: &str) -> Result<ImportAttachment, StoreError> {
    const KNOWN: &[&str] = &["media_type", "name", "width", "height", "duration_ms", "created_at", "sha256", "data"];
    let mut fields = Fields::of(attachment, at, KNOWN)?;
    fields.check_unknown()?;
    let media_type: String = fields.required("media_type")?;
    if !is_media_type(&media_type) {
        return Err(fields.problem("media_type", format!("{media_type:?} is not a media type like \"image/png\"")));
    }
    let name: Option<String> = fields.optional("name")?;
    if let Some(name) = &name {
        fields.check_chars("name", name, MAX_NAME_CHARS)?;
    }
    let mut dimension = |name: &str| -> Result<Option<i64>, StoreError> {
        match fields.optional::<i64>(name)? {
            Some(value) if value < 0 => Err(fields.problem(name, format!("{value} is negative"))),
            value => Ok(value),
        }
    };
    let width = dimension("width")?;
    let height = dimension("height")?;
    let duration_ms = dimension("duration_ms")?;
    let created_at = fields.required("created_at")?;
    let sha256: String = fields.required("sha256")?;
    if !is_sha256_hex(&sha256) {
        return Err(fields.problem("sha256", "must be 64 lowercase hexadecimal digits"));
    }
    let data: String = fields.required("data")?;
    // Refuse before decoding, so a huge field costs no allocation.
    if data.len() / 4 * 3 > MAX_ATTACHMENT_BYTES + 2 {
        return Err(
            fields.problem("data", format!("is over the limit of {} per attachment", size(MAX_ATTACHMENT_BYTES)))
        );
    }
    let data =
        BASE64.decode(data.as_bytes()).map_err(|e| fields.problem("data", format!("is not valid base64 ({e})")))?;
    if data.len() > MAX_ATTACHMENT_BYTES {
        return Err(fields.problem(
            "data",
            format!("decodes to {} bytes; the limit is {} per attachment", data.len(), size(MAX_ATTACHMENT_BYTES)),
        ));
    }
    let actual = sha256_hex(&data);
    if actual != sha256 {
        let of_name = name.as_ref().map(|name| format!(" of the attachment {name:?}")).unwrap_or_default();
        return Err(fields.problem(
            "sha256",
            format!("does not match the data{of_name}, which hashes to {actual}; the file was altered or damaged"),
        ));
    }
    Ok(ImportAttachment { sha256, media_type, name, width, height, duration_ms, created_at, data })
}

/// `type/subtype` with RFC 6838's restricted names, no parameters.
fn is_media_type(media_type: &str) -> bool {
    let name = |part: &str| {
        (1..=127).contains(&part.len())
            && part.as_bytes()[0].is_ascii_alphanumeric()
            && part.bytes().all(|b| b.is_ascii_alphanumeric() || b"!#$&-^_.+".contains(&b))
    };
    matches!(media_type.split_once('/'), Some((kind, sub)) if name(kind) && name(sub))
}

/// The fields of one JSON object, taken out one by one, each refusal naming `at.field`.
struct Fields {
    map: Map<String, Value>,
    /// `messages[3]`, `messages[3].stats`, ...; empty for the document itself.
    at: String,
    known: &'static [&'static str],
}

impl Fields {
    fn of(value: Value, at: impl Into<String>, known: &'static [&'static str]) -> Result<Fields, StoreError> {
        let at = at.into();
        match value {
            Value::Object(map) => Ok(Fields { map, at, known }),
            other => Err(refuse(format!("{}: must be an object, not {}", place(&at), kind(&other)))),
        }
    }

    fn check_unknown(&self) -> Result<(), StoreError> {
        match self.map.keys().find(|key| !self.known.contains(&key.as_str())) {
            Some(unknown) => Err(refuse(format!(
                "{}: unknown field `{unknown}` (the fields are {})",
                place(&self.at),
                self.known.iter().map(|k| format!("`{k}`")).collect::<Vec<_>>().join(", ")
            ))),
            None => Ok(()),
        }
    }

    fn required<T: DeserializeOwned>(&mut self, name: &str) -> Result<T, StoreError> {
        match self.map.remove(name) {
            Some(value) => serde_json::from_value(value).map_err(|e| self.problem(name, e)),
            None => Err(refuse(format!("{}: the field `{name}` is missing", place(&self.at)))),
        }
    }

    /// Missing and `null` are both `None`.
    fn optional<T: DeserializeOwned>(&mut self, name: &str) -> Result<Option<T>, StoreError> {
        match self.map.remove(name) {
            Some(value) => serde_json::from_value(value).map_err(|e| self.problem(name, e)),
            None => Ok(None),
        }
    }

    fn check_bytes(&self, name: &str, text: &str, limit: usize) -> Result<(), StoreError> {
        if text.len() > limit {
            return Err(self.problem(name, over(text.len(), limit)));
        }
        Ok(())
    }

    fn check_chars(&self, name: &str, text: &str, limit: usize) -> Result<(), StoreError> {
        let chars = text.chars().count();
        if chars > limit {
            return Err(self.problem(name, format!("is {chars} characters long, over the limit of {limit}")));
        }
        Ok(())
    }

    fn problem(&self, name: &str, problem: impl Display) -> StoreError {
        match self.at.as_str() {
            "" => refuse(format!("{name}: {problem}")),
            at => refuse(format!("{at}.{name}: {problem}")),
        }
    }
}

/// Where an object is, for a message: `messages[3]`, or the document itself.
fn place(at: &str) -> &str {
    if at.is_empty() { "the document" } else { at }
}

/// `is 16777217 bytes long; the limit is 16.0 MiB (16777216 bytes)`.
fn over(bytes: usize, limit: usize) -> String {
    format!("is {bytes} bytes long; the limit is {} ({limit} bytes)", size(limit))
}

fn refuse(why: impl Into<String>) -> StoreError {
    StoreError::InvalidImport(why.into())
}

fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn media_types_are_type_slash_subtype() {
        for good in ["image/png", "audio/wav", "application/vnd.ms-excel", "image/svg+xml"] {
            assert!(is_media_type(good), "{good} is a media type");
        }
        for bad in ["", "png", "image/", "/png", "image/png; q=1", "image/png/x", "ima ge/png", "-image/png"] {
            assert!(!is_media_type(bad), "{bad:?} is not a media type");
        }
    }
}

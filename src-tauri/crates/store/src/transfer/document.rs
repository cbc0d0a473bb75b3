//! The JSON export document, version 1, as it is written: field order is the order in the
//! file. Reading one back is `import`'s job.

use crate::types::{ConversationSettings, MessageStatus, Millis, ReplyStats, Role, ToolPart};
use serde::Serialize;

/// The `format` of every export document.
pub(crate) const FORMAT: &str = "gemma-desk-conversation";
/// The version written, and the only one read.
pub(crate) const VERSION: u64 = 1;

/// An export document, borrowing from the records it is written from. Field order is the order
/// in the file.
#[derive(Serialize)]
pub(crate) struct Document<'a> {
    pub format: &'static str,
    pub version: u64,
    pub conversation: DocConversation<'a>,
    /// The local id (index) of the leaf of the branch shown.
    pub current_leaf: Option<usize>,
    /// Parents before their replies; `id` is the position in this list.
    pub messages: Vec<DocMessage<'a>>,
}

/// The conversation's own fields in a [`Document`].
#[derive(Serialize)]
pub(crate) struct DocConversation<'a> {
    pub title: &'a str,
    pub created_at: Millis,
    pub updated_at: Millis,
    pub pinned: bool,
    pub model: Option<&'a str>,
    pub settings: &'a ConversationSettings,
}

/// One message in a [`Document`].
#[derive(Serialize)]
pub(crate) struct DocMessage<'a> {
    pub id: usize,
    pub parent: Option<usize>,
    pub role: Role,
    pub content: &'a str,
    pub status: MessageStatus,
    pub error: Option<&'a str>,
    pub model: Option<&'a str>,
    pub stats: DocStats,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tool: Option<&'a ToolPart>,
    pub created_at: Millis,
    pub updated_at: Millis,
    pub attachments: Vec<DocAttachment<'a>>,
}

/// A reply's figures in a [`Document`]. The image-token figures came later than the others: left
/// out when there are none (a prompt without images), so that such files still import into
/// versions that do not know them.
#[derive(Serialize)]
pub(crate) struct DocStats {
    pub ttft_ms: Option<f64>,
    pub prefill_tps: Option<f64>,
    pub decode_tps: Option<f64>,
    pub prompt_tokens: Option<i64>,
    pub generated_tokens: Option<i64>,
    pub reused_tokens: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub image_tokens_reused: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub image_tokens_encoded: Option<i64>,
}

impl From<&ReplyStats> for DocStats {
    fn from(stats: &ReplyStats) -> DocStats {
        DocStats {
            ttft_ms: stats.ttft_ms,
            prefill_tps: stats.prefill_tps,
            decode_tps: stats.decode_tps,
            prompt_tokens: stats.prompt_tokens,
            generated_tokens: stats.generated_tokens,
            reused_tokens: stats.reused_tokens,
            image_tokens_reused: stats.image_tokens_reused,
            image_tokens_encoded: stats.image_tokens_encoded,
        }
    }
}

/// One attachment in a [`Document`], its bytes in standard base64.
#[derive(Serialize)]
pub(crate) struct DocAttachment<'a> {
    pub media_type: &'a str,
    pub name: Option<&'a str>,
    pub width: Option<i64>,
    pub height: Option<i64>,
    pub duration_ms: Option<i64>,
    pub created_at: Millis,
    pub sha256: &'a str,
    pub data: String,
}

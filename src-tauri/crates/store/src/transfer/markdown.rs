//! The Markdown export, for people: a heading, a line of facts, then each message under its
//! role, texts verbatim, then its images and sound clips (files in a folder beside the Markdown,
//! see [`files`]) and its other attachments. A whole tree is written depth first, every branch
//! introduced by a line saying which of its siblings it is and what it follows.

use std::collections::{HashMap, HashSet};
use std::fmt::Write as _;

use super::Exported;
use crate::messages::title_from;
use crate::types::{
    Attachment, ExportScope, MarkdownExport, Message, MessageId, MessageStatus, Millis, Role, ToolOutcome, ToolPart,
};

mod files;

use files::{AttachmentFiles, is_kept_as_file};

/// The conversation as Markdown, its images and clips linked into `files_folder` (listed when
/// there is none).
pub(crate) fn render(export: &Exported, files_folder: Option<&str>) -> MarkdownExport {
    let mut images = files_folder.map(AttachmentFiles::new);
    let mut out = String::new();
    let conversation = &export.conversation;
    let title = conversation.title.split_whitespace().collect::<Vec<_>>().join(" ");
    let title = if title.is_empty() { "Untitled conversation" } else { &title };
    let _ = writeln!(out, "# {title}\n");

    let mut facts = vec![format!("Created {}", utc(conversation.created_at))];
    facts.push(format!("last changed {}", utc(conversation.updated_at)));
    if let Some(model) = &conversation.model {
        facts.push(model.clone());
    }
    if conversation.pinned {
        facts.push("pinned".to_owned());
    }
    if let Some(deleted) = conversation.deleted_at {
        facts.push(format!("deleted {}", utc(deleted)));
    }
    let tree = Tree::of(&export.messages);
    facts.push(match export.scope {
        ExportScope::CurrentBranch => format!("the branch shown, {}", count(export.messages.len(), "message")),
        ExportScope::WholeTree => {
            format!("every branch: {} in {}", count(export.messages.len(), "message"), count(tree.leaves(), "branch"))
        }
    });
    let _ = writeln!(out, "*{}*\n", one_line(&facts.join(" · ")));
    if let Some(prompt) = conversation.settings.system_prompt.as_deref().filter(|p| !p.trim().is_empty()) {
        let _ = writeln!(out, "**System prompt:**\n\n{}\n", prompt.trim_end());
    }

    match export.scope {
        ExportScope::CurrentBranch => {
            for message in &export.messages {
                write_message(&mut out, message, export, &mut images);
            }
        }
        ExportScope::WholeTree => write_tree(&mut out, &tree, export, &mut images),
    }
    let trimmed = out.trim_end().len();
    out.truncate(trimmed);
    out.push('\n');
    MarkdownExport { text: out, files: images.map(AttachmentFiles::into_files).unwrap_or_default() }
}

/// Depth first, oldest sibling first, without recursion: a chain of 100,000 messages is fine.
fn write_tree(out: &mut String, tree: &Tree, export: &Exported, images: &mut Option<AttachmentFiles>) {
    let shown = shown_path(export);
    let mut stack: Vec<usize> = tree.roots.iter().rev().copied().collect();
    while let Some(index) = stack.pop() {
        let message = &export.messages[index];
        let (place, of) = tree.place[index];
        if of > 1 {
            let after = match tree.parent[index] {
                Some(parent) => match title_from(&export.messages[parent].content) {
                    excerpt if excerpt.is_empty() => {
                        format!("after an empty {} message", export.messages[parent].role.as_str())
                    }
                    excerpt => format!("after “{}”", one_line(&excerpt)),
                },
                None => "at the start of the conversation".to_owned(),
            };
            let current = if shown.contains(&message.id) { " (the branch shown)" } else { "" };
            let _ = writeln!(out, "---\n\n**Branch {place} of {of}**{current} · {after}\n");
        }
        write_message(out, message, export, images);
        stack.extend(tree.children[index].iter().rev());
    }
}

fn write_message(out: &mut String, message: &Message, export: &Exported, images: &mut Option<AttachmentFiles>) {
    let _ = writeln!(out, "## {}\n", role_name(message.role));
    if let Some(figures) = figures(message, export.conversation.model.as_deref()) {
        let _ = writeln!(out, "*{}*\n", one_line(&figures));
    }
    if message.content.is_empty() {
        out.push_str("*(no text)*\n\n");
    } else {
        let _ = writeln!(out, "{}", message.content);
        if let Some(fence) = unclosed_fence(&message.content) {
            let _ = writeln!(out, "{fence}");
        }
        out.push('\n');
    }
    write_tool_part(out, message.tool.as_ref());
    let attachments = export.attachments.get(&message.id).map_or(&[][..], Vec::as_slice);
    let mut listed = Vec::new();
    for attachment in attachments {
        match images.as_mut().filter(|_| is_kept_as_file(attachment)) {
            Some(images) => {
                let _ = writeln!(out, "{}\n", images.markdown(attachment));
            }
            None => listed.push(attachment),
        }
    }
    if !listed.is_empty() {
        out.push_str("Attachments:\n");
        for attachment in listed {
            let _ = writeln!(out, "- {}", describe(attachment));
        }
        out.push('\n');
    }
}

/// A reply's calls (tool and arguments as JSON) or how a tool message's call went.
fn write_tool_part(out: &mut String, tool: Option<&ToolPart>) {
    match tool {
        Some(ToolPart::Calls { calls }) => {
            for call in calls {
                let arguments = serde_json::to_string(&call.arguments).expect("arguments are plain JSON");
                let _ = match &call.malformed {
                    Some(raw) => writeln!(out, "Malformed tool call `{}`: {}\n", call.id, fenced_inline(raw)),
                    None => {
                        writeln!(out, "Tool call `{}`: `{}` with {}\n", call.id, call.name, fenced_inline(&arguments))
                    }
                };
            }
        }
        Some(ToolPart::Result(result)) => {
            let outcome = match result.outcome {
                ToolOutcome::Answered => "answered",
                ToolOutcome::Failed => "failed",
                ToolOutcome::Declined => "declined by the user",
                ToolOutcome::Refused => "refused",
            };
            let _ = match result.name.as_str() {
                "" => writeln!(out, "*Result of `{}`: {outcome}*\n", result.call_id),
                name => writeln!(out, "*Result of `{}` ({name}): {outcome}*\n", result.call_id),
            };
        }
        None => {}
    }
}

/// `text` as inline code, fenced with more backticks than it holds in a row.
fn fenced_inline(text: &str) -> String {
    let longest = text.split(|c| c != '`').map(str::len).max().unwrap_or(0);
    let fence = "`".repeat(longest + 1);
    format!("{fence} {} {fence}", text.replace('\n', " "))
}

/// The fence that closes a code block left open at the end of `text` (a reply stopped half-way
/// through one), so that it does not swallow the messages after it.
fn unclosed_fence(text: &str) -> Option<String> {
    let mut open: Option<(char, usize)> = None;
    for line in text.lines() {
        let line = line.trim_start_matches(' ');
        let Some(mark) = line.chars().next().filter(|c| *c == '`' || *c == '~') else { continue };
        let run = line.chars().take_while(|c| *c == mark).count();
        match open {
            _ if run < 3 => {}
            None => open = Some((mark, run)),
            // A fence is one ASCII character repeated, so `run` is also a byte offset.
            Some((open_mark, open_run)) if mark == open_mark && run >= open_run && line[run..].trim().is_empty() => {
                open = None;
            }
            Some(_) => {}
        }
    }
    open.map(|(mark, run)| mark.to_string().repeat(run))
}

/// The italic line under a reply's heading: its model (when not the conversation's), tokens,
/// speed, time to first token, and its status unless it is `done`.
fn figures(message: &Message, conversation_model: Option<&str>) -> Option<String> {
    let mut parts = Vec::new();
    if let Some(model) = message.model.as_deref().filter(|m| Some(*m) != conversation_model) {
        parts.push(model.to_owned());
    }
    let stats = &message.stats;
    if let Some(tokens) = stats.generated_tokens {
        parts.push(count(tokens, "token"));
    }
    if let Some(tps) = stats.decode_tps {
        parts.push(format!("{tps:.1} tokens/s"));
    }
    if let Some(ttft) = stats.ttft_ms {
        parts.push(format!("first token after {:.2} s", ttft / 1000.0));
    }
    match message.status {
        MessageStatus::Done => {}
        MessageStatus::Streaming => parts.push("still being written".to_owned()),
        MessageStatus::Stopped => parts.push("stopped".to_owned()),
        MessageStatus::Interrupted => parts.push("interrupted".to_owned()),
        MessageStatus::Error => parts.push(match &message.error {
            Some(error) => format!("failed: {error}"),
            None => "failed".to_owned(),
        }),
    }
    (!parts.is_empty()).then(|| parts.join(" · "))
}

/// `photo.png (image/png, 1.2 MiB, 640×480)`.
fn describe(attachment: &Attachment) -> String {
    let mut facts = vec![attachment.media_type.clone(), size(usize::try_from(attachment.size).unwrap_or(0))];
    if let (Some(width), Some(height)) = (attachment.width, attachment.height) {
        facts.push(format!("{width}×{height}"));
    }
    if let Some(duration) = attachment.duration_ms {
        facts.push(format!("{:.1} s", duration as f64 / 1000.0));
    }
    let name = attachment.name.as_deref().map(one_line).filter(|n| !n.is_empty()).unwrap_or_else(|| "unnamed".into());
    format!("{name} ({})", facts.join(", "))
}

/// The messages on the path from the root to the current leaf.
fn shown_path(export: &Exported) -> HashSet<MessageId> {
    let parents: HashMap<MessageId, Option<MessageId>> = export.messages.iter().map(|m| (m.id, m.parent_id)).collect();
    let mut shown = HashSet::new();
    let mut at = export.conversation.current_leaf_id;
    while let Some(id) = at.filter(|id| parents.contains_key(id) && shown.insert(*id)) {
        at = parents[&id];
    }
    shown
}

/// The shape of the exported messages (parents before replies), by index.
struct Tree {
    roots: Vec<usize>,
    parent: Vec<Option<usize>>,
    children: Vec<Vec<usize>>,
    /// 1-based place among its siblings, and how many there are.
    place: Vec<(usize, usize)>,
}

impl Tree {
    fn of(messages: &[Message]) -> Tree {
        let index: HashMap<MessageId, usize> = messages.iter().enumerate().map(|(i, m)| (m.id, i)).collect();
        let parent: Vec<Option<usize>> =
            messages.iter().map(|m| m.parent_id.and_then(|p| index.get(&p).copied())).collect();
        let mut roots = Vec::new();
        let mut children = vec![Vec::new(); messages.len()];
        for (i, p) in parent.iter().enumerate() {
            match p {
                Some(p) => children[*p].push(i),
                None => roots.push(i),
            }
        }
        let mut place = vec![(1, 1); messages.len()];
        for siblings in children.iter().chain([&roots]) {
            for (at, &i) in siblings.iter().enumerate() {
                place[i] = (at + 1, siblings.len());
            }
        }
        Tree { roots, parent, children, place }
    }

    fn leaves(&self) -> usize {
        self.children.iter().filter(|c| c.is_empty()).count()
    }
}

fn role_name(role: Role) -> &'static str {
    match role {
        Role::System => "System",
        Role::User => "User",
        Role::Assistant => "Assistant",
        Role::Tool => "Tool",
    }
}

/// `1 message`, `3 messages`; `1 branch`, `2 branches`.
fn count(n: impl TryInto<i64> + Copy, noun: &str) -> String {
    let n: i64 = n.try_into().unwrap_or(i64::MAX);
    match (n, noun.ends_with("ch")) {
        (1, _) => format!("1 {noun}"),
        (_, true) => format!("{n} {noun}es"),
        (_, false) => format!("{n} {noun}s"),
    }
}

/// Text that must stay on one line (inside `*...*`), without control characters.
pub(super) fn one_line(text: &str) -> String {
    let text: String = text.chars().map(|c| if c.is_control() { ' ' } else { c }).collect();
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// `2024-05-01 12:34 UTC`.
fn utc(ms: Millis) -> String {
    let seconds = ms.div_euclid(1000);
    let (year, month, day) = civil_from_days(seconds.div_euclid(86_400));
    let second_of_day = seconds.rem_euclid(86_400);
    format!("{year:04}-{month:02}-{day:02} {:02}:{:02} UTC", second_of_day / 3600, second_of_day % 3600 / 60)
}

/// The proleptic Gregorian date of a day counted from 1970-01-01 (Howard Hinnant's algorithm).
fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let day_of_era = z.rem_euclid(146_097);
    let year_of_era = (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let shifted_month = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * shifted_month + 2) / 5 + 1;
    let month = if shifted_month < 10 { shifted_month + 3 } else { shifted_month - 9 };
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

/// Bytes for people: `512 bytes`, `3.4 KiB`, `16.0 MiB`.
pub(crate) fn size(bytes: usize) -> String {
    const KIB: f64 = 1024.0;
    let b = bytes as f64;
    if b < KIB {
        format!("{bytes} bytes")
    } else if b < KIB * KIB {
        format!("{:.1} KiB", b / KIB)
    } else if b < KIB * KIB * KIB {
        format!("{:.1} MiB", b / (KIB * KIB))
    } else {
        format!("{:.1} GiB", b / (KIB * KIB * KIB))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_are_written_as_utc_dates() {
        assert_eq!(utc(0), "1970-01-01 00:00 UTC");
        assert_eq!(utc(1_714_565_640_000), "2024-05-01 12:14 UTC");
        assert_eq!(utc(951_782_400_000), "2000-02-29 00:00 UTC", "a leap day");
        assert_eq!(utc(-1), "1969-12-31 23:59 UTC", "times before 1970 count back");
    }

    #[test]
    fn a_code_block_left_open_by_a_stopped_reply_is_closed() {
        assert_eq!(unclosed_fence("Here:\n```rust\nfn main() {"), Some("```".to_owned()));
        assert_eq!(unclosed_fence("````\n```\nstill code"), Some("````".to_owned()), "a shorter fence is text");
        assert_eq!(unclosed_fence("~~~\ncode\n~~~\n"), None);
        assert_eq!(unclosed_fence("```\na\n```\nand `inline` code"), None);
    }

    #[test]
    fn counts_agree_with_their_nouns() {
        assert_eq!(count(1usize, "message"), "1 message");
        assert_eq!(count(3usize, "message"), "3 messages");
        assert_eq!(count(2usize, "branch"), "2 branches");
    }

    #[test]
    fn sizes_read_naturally() {
        assert_eq!(size(512), "512 bytes");
        assert_eq!(size(3 * 1024 + 400), "3.4 KiB");
        assert_eq!(size(16 << 20), "16.0 MiB");
    }
}

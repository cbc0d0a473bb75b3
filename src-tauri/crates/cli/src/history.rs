//! `history`: the stored conversations, from the terminal.

use std::path::PathBuf;

use anyhow::Context;
use clap::{Args, Subcommand, ValueEnum};
use gemma_desk_store::{ConversationId, ExportScope, Role, SNIPPET_END, SNIPPET_START, Store};
use tokio::runtime::Runtime;

use crate::options::{StoreArgs, runtime};
use gemma_desk_chat::now;

/// Arguments of `history`.
#[derive(Args, Debug)]
pub struct HistoryArgs {
    #[command(flatten)]
    store: StoreArgs,
    #[command(subcommand)]
    command: HistoryCommand,
}

#[derive(Subcommand, Debug)]
enum HistoryCommand {
    /// One conversation per line, newest first (pinned on top): id, then title.
    List {
        /// How many.
        #[arg(long, default_value_t = 50)]
        limit: u32,
    },
    /// A conversation's current branch.
    Show {
        /// The conversation.
        id: ConversationId,
    },
    /// Full-text search over every message, best first.
    Search {
        /// Words to look for.
        text: String,
        /// How many results.
        #[arg(long, default_value_t = 20)]
        limit: u32,
    },
    /// Export a conversation as Markdown or JSON (to stdout, or --output).
    Export {
        /// The conversation.
        id: ConversationId,
        /// Markdown for people, JSON for importing again.
        #[arg(long, value_enum, default_value_t = Format::Md)]
        format: Format,
        /// The branch shown, or every branch.
        #[arg(long, value_enum, default_value_t = Scope::Branch)]
        scope: Scope,
        /// Write here instead of stdout.
        #[arg(long, value_name = "FILE")]
        output: Option<PathBuf>,
    },
    /// Import a JSON export as a new conversation; prints its id.
    Import {
        /// The JSON file.
        file: PathBuf,
    },
    /// Write a consistent copy of every conversation (and their attachments, in
    /// `<FILE stem>.attachments/` beside it), also while the app runs. Restore it by putting it
    /// in the data folder as gemma-desk.sqlite3, its attachments folder as attachments/.
    Backup {
        /// The copy to write (replaced if it exists).
        file: PathBuf,
    },
}

#[derive(Clone, Copy, Debug, ValueEnum)]
enum Format {
    Md,
    Json,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
enum Scope {
    Branch,
    Tree,
}

pub fn run(args: HistoryArgs) -> anyhow::Result<()> {
    let runtime = runtime()?;
    // Importing writes; everything else only reads, and may while the app runs.
    let writable = match args.command {
        HistoryCommand::Import { .. } => Some(args.store.open_to_write(&runtime)?),
        _ => None,
    };
    let store = match &writable {
        Some(writable) => writable.store.clone(),
        None => args.store.open_to_read(&runtime)?,
    };
    let done = run_command(&runtime, &store, args.command);
    // Closing checkpoints the WAL into the database file when this was its only user.
    let closed = runtime.block_on(store.close());
    done?;
    Ok(closed?)
}

fn run_command(runtime: &Runtime, store: &Store, command: HistoryCommand) -> anyhow::Result<()> {
    match command {
        HistoryCommand::List { limit } => list(runtime, store, limit),
        HistoryCommand::Show { id } => show(runtime, store, id),
        HistoryCommand::Search { text, limit } => search(runtime, store, &text, limit),
        HistoryCommand::Export { id, format, scope, output } => {
            let scope = match scope {
                Scope::Branch => ExportScope::CurrentBranch,
                Scope::Tree => ExportScope::WholeTree,
            };
            let text = match format {
                Format::Md => runtime.block_on(store.export_markdown(id, scope, None))?.text,
                Format::Json => runtime.block_on(store.export_json(id, scope))?,
            };
            match output {
                Some(path) => std::fs::write(&path, text).with_context(|| format!("cannot write {}", path.display())),
                None => {
                    print!("{text}");
                    Ok(())
                }
            }
        }
        HistoryCommand::Import { file } => {
            let json = std::fs::read_to_string(&file).with_context(|| format!("cannot read {}", file.display()))?;
            let conversation = runtime.block_on(store.import_json(&json, now()))?;
            println!("{}\t{}", conversation.id, conversation.title);
            Ok(())
        }
        HistoryCommand::Backup { file } => {
            let backup = runtime.block_on(store.backup_to(&file))?;
            println!(
                "backed up {} conversations and {} attachment files to {} (attachments in {})",
                backup.conversations,
                backup.attachment_files,
                backup.database.display(),
                backup.attachments.display()
            );
            Ok(())
        }
    }
}

fn list(runtime: &Runtime, store: &Store, limit: u32) -> anyhow::Result<()> {
    for conversation in runtime.block_on(store.list_conversations(limit, 0))? {
        let pin = if conversation.pinned { "📌 " } else { "" };
        println!("{}\t{pin}{}", conversation.id, one_line(&conversation.title));
    }
    Ok(())
}

fn show(runtime: &Runtime, store: &Store, id: ConversationId) -> anyhow::Result<()> {
    let conversation = runtime.block_on(store.conversation(id))?;
    println!("# {}", conversation.title);
    if let Some(system) = &conversation.settings.system_prompt {
        println!("\n[system] {system}");
    }
    for entry in runtime.block_on(store.current_branch(id))? {
        let message = &entry.message;
        let branch = if entry.sibling_count > 1 {
            format!(" ({} / {})", entry.sibling_index, entry.sibling_count)
        } else {
            String::new()
        };
        println!("\n[{}{branch}] {}", role_label(message.role), message.content);
        for attachment in &entry.attachments {
            println!("(attached: {})", describe_attachment(attachment));
        }
        if message.status != gemma_desk_store::MessageStatus::Done {
            println!(
                "({:?}{})",
                message.status,
                message.error.as_deref().map(|e| format!(": {e}")).unwrap_or_default()
            );
        }
    }
    Ok(())
}

/// An attachment in words: `recording.wav, audio/wav, 1.3 s` or `photo.jpg, image/jpeg, 640×480`.
fn describe_attachment(attachment: &gemma_desk_store::Attachment) -> String {
    let name = attachment.name.as_deref().unwrap_or("pasted");
    let extent = match (attachment.duration_ms, attachment.width, attachment.height) {
        (Some(ms), _, _) => format!(", {:.1} s", ms as f64 / 1000.0),
        (None, Some(width), Some(height)) => format!(", {width}×{height}"),
        _ => String::new(),
    };
    format!("{name}, {}{extent}", attachment.media_type)
}

fn search(runtime: &Runtime, store: &Store, text: &str, limit: u32) -> anyhow::Result<()> {
    for hit in runtime.block_on(store.search(text, limit))? {
        let snippet: String = one_line(&hit.snippet).replace(SNIPPET_START, "[").replace(SNIPPET_END, "]");
        println!("{}\t{}\t{}\t{snippet}", hit.conversation_id, hit.message_id, one_line(&hit.title));
    }
    Ok(())
}

fn role_label(role: Role) -> &'static str {
    match role {
        Role::System => "system",
        Role::User => "you",
        Role::Assistant => "gemma",
        Role::Tool => "tool",
    }
}

fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

//! `prompt`: the exact text the engine would tokenize, for debugging chat templates.

use std::path::PathBuf;

use anyhow::{Context, bail};
use clap::Args;
use gemma_desk_engine::{ChatMessage, RenderOptions};
use serde::Deserialize;

use crate::options::ModelArgs;

/// Arguments of `prompt`.
#[derive(Args, Debug)]
pub struct PromptArgs {
    #[command(flatten)]
    model: ModelArgs,
    /// A JSON file: a list of {"role", "content"} messages, or an object with "messages" and
    /// optionally "tools" and "enable_thinking".
    #[arg(long, value_name = "FILE.json")]
    messages: PathBuf,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum MessagesFile {
    List(Vec<ChatMessage>),
    Request {
        messages: Vec<ChatMessage>,
        #[serde(default)]
        tools: Option<Vec<serde_json::Value>>,
        #[serde(default)]
        enable_thinking: Option<bool>,
    },
}

const ROLES: [&str; 5] = ["system", "developer", "user", "assistant", "tool"];

pub fn run(args: PromptArgs) -> anyhow::Result<()> {
    let (messages, options) = read_messages(&args.messages)?;
    let mut model = args.model.clone();
    // Rendering needs the model's vocabulary and template, not a big context.
    model.ctx = Some(model.ctx.unwrap_or(256));
    model.gpu_layers = Some(model.gpu_layers.unwrap_or(0));
    let (mut engine, _) = model.start_engine()?;
    print!("{}", engine.render(&messages, &options)?);
    Ok(())
}

fn read_messages(path: &PathBuf) -> anyhow::Result<(Vec<ChatMessage>, RenderOptions)> {
    let text = std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    let parsed: MessagesFile = serde_json::from_str(&text).map_err(|_| {
        let detail = serde_json::from_str::<serde_json::Value>(&text)
            .err()
            .map_or_else(|| "each message needs a \"role\" and a string \"content\"".to_string(), |e| e.to_string());
        anyhow::anyhow!("{} is not a valid messages file: {detail}", path.display())
    })?;
    let (messages, options) = match parsed {
        MessagesFile::List(messages) => (messages, RenderOptions::default()),
        MessagesFile::Request { messages, tools, enable_thinking } => {
            (messages, RenderOptions { tools, enable_thinking, ..RenderOptions::default() })
        }
    };
    if messages.is_empty() {
        bail!("{} holds no messages", path.display());
    }
    if let Some(bad) = messages.iter().find(|m| !ROLES.contains(&m.role.as_str())) {
        bail!("{}: unknown role {:?}; use one of {}", path.display(), bad.role, ROLES.join(", "));
    }
    Ok((messages, options))
}

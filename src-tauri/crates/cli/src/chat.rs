//! `chat`: one reply to a prompt, or an interactive chat that keeps the conversation (and the
//! engine's KV cache) across turns.

use std::io::Write;

use anyhow::{Context, bail};
use clap::Args;
use gemma_desk_engine::{ChatMessage, RenderOptions, Reply, SamplingParams, StopReason, WorkerClient};
use rustyline::error::ReadlineError;

use crate::options::{ModelArgs, SamplingArgs};

/// Arguments of `chat`.
#[derive(Args, Debug)]
pub struct ChatArgs {
    #[command(flatten)]
    model: ModelArgs,
    #[command(flatten)]
    sampling: SamplingArgs,
    /// A system prompt for the conversation.
    #[arg(long)]
    system: Option<String>,
    /// Answer this prompt and exit (the reply on stdout, figures on stderr).
    prompt: Option<String>,
}

pub fn run(args: ChatArgs) -> anyhow::Result<()> {
    let sampling = args.sampling.params()?;
    if args.prompt.as_deref().is_some_and(|p| p.trim().is_empty()) {
        bail!("the prompt is empty; type something to ask");
    }
    let mut conversation: Vec<ChatMessage> = args.system.iter().map(ChatMessage::system).collect();
    let (mut engine, info) = args.model.start_engine()?;

    if let Some(prompt) = args.prompt {
        conversation.push(ChatMessage::user(prompt));
        let reply = reply(&mut engine, &conversation, &sampling)?;
        println!();
        report(&reply);
        if reply.stop_reason == StopReason::Interrupted {
            bail!("the reply was interrupted");
        }
        return Ok(());
    }

    eprintln!(
        "{} ({}), context {} tokens, {} threads. Enter sends; Ctrl-C stops a reply; /clear starts over; Ctrl-D quits.",
        info.name.as_deref().unwrap_or(&info.architecture),
        info.path.display(),
        info.n_ctx,
        info.threads
    );
    let cancel = engine.cancel_handle();
    ctrlc::set_handler(move || cancel.cancel()).context("cannot install the Ctrl-C handler")?;
    let mut editor = rustyline::DefaultEditor::new()?;
    let system_messages = conversation.len();
    loop {
        let line = match editor.readline("> ") {
            Ok(line) => line,
            Err(ReadlineError::Interrupted) => continue,
            Err(ReadlineError::Eof) => return Ok(()),
            Err(error) => return Err(error.into()),
        };
        let text = line.trim();
        match text {
            "" => continue,
            "/exit" | "/quit" => return Ok(()),
            "/clear" => {
                conversation.truncate(system_messages);
                eprintln!("(new conversation)");
                continue;
            }
            _ => {}
        }
        let _ = editor.add_history_entry(text);
        conversation.push(ChatMessage::user(text));
        match reply(&mut engine, &conversation, &sampling) {
            Ok(reply) => {
                println!();
                report(&reply);
                conversation.push(ChatMessage::assistant(reply.text));
            }
            Err(error) => {
                conversation.pop();
                eprintln!("error: {error:#}");
            }
        }
    }
}

fn reply(engine: &mut WorkerClient, conversation: &[ChatMessage], sampling: &SamplingParams) -> anyhow::Result<Reply> {
    let mut stdout = std::io::stdout();
    let reply = engine.generate(conversation, &RenderOptions::default(), sampling, |text| {
        let _ = stdout.write_all(text.as_bytes());
        let _ = stdout.flush();
    })?;
    Ok(reply)
}

/// The figures of a reply, on stderr so that stdout holds only the reply.
fn report(reply: &Reply) {
    for notice in &reply.notices {
        eprintln!("note: {notice}");
    }
    if let Some(death) = &reply.worker_death {
        eprintln!("{death}; the text so far is kept and the next message starts a fresh engine");
    }
    if let Some(f) = &reply.figures {
        eprintln!(
            "[{} tokens; time to first token {:.0} ms; prefill {:.1} t/s ({} of {} prompt tokens reused); decode {:.1} t/s; stop: {}]",
            f.generated_tokens,
            f.ttft_ms,
            f.prefill_tps,
            f.reused_tokens,
            f.prompt_tokens,
            f.decode_tps,
            f.stop_reason.describe()
        );
    }
}

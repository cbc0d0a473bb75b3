//! `chat`: one reply to a prompt, or an interactive chat that keeps the conversation (and the
//! engine's KV cache) across turns; with `--db` or `--continue`, the conversation is stored.

use anyhow::{Context, bail};
use clap::Args;
use gemma_desk_engine::{Reply, StopReason};
use gemma_desk_store::ConversationId;
use rustyline::error::ReadlineError;

use crate::options::{ModelArgs, SamplingArgs, StoreArgs};
use crate::transcript::Transcript;

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
    /// Store the conversation in this database (see `history`).
    #[command(flatten)]
    store: StoreArgs,
    /// Continue a stored conversation (its current branch); the engine re-reads its history.
    #[arg(long = "continue", value_name = "ID")]
    continue_id: Option<ConversationId>,
    /// Answer this prompt and exit (the reply on stdout, figures on stderr).
    prompt: Option<String>,
}

pub fn run(args: ChatArgs) -> anyhow::Result<()> {
    let sampling = args.sampling.params()?;
    if args.prompt.as_deref().is_some_and(|p| p.trim().is_empty()) {
        bail!("the prompt is empty; type something to ask");
    }
    let load = args.model.load_options()?;
    let mut transcript = if args.store.db.is_some() || args.continue_id.is_some() {
        let (runtime, store) = args.store.open()?;
        let model = model_name(&load.model);
        match args.continue_id {
            Some(id) => Transcript::resume(runtime, store, id, args.system.clone(), model)?,
            None => Transcript::create(runtime, store, args.system.clone(), model, &sampling)?,
        }
    } else {
        Transcript::in_memory(args.system.clone())
    };

    if let Some(prompt) = args.prompt {
        // Committed before the engine starts: a crash from here on keeps the question.
        transcript.add_user(&prompt)?;
        let (mut engine, _) = args.model.start_engine()?;
        let reply = transcript.reply(&mut engine, &sampling)?;
        println!();
        report(&reply);
        announce(&transcript);
        if reply.stop_reason == StopReason::Interrupted {
            bail!("the reply was interrupted");
        }
        return Ok(());
    }

    let (mut engine, info) = args.model.start_engine()?;
    eprintln!(
        "{} ({}), context {} tokens, {} threads. Enter sends; Ctrl-C stops a reply; /clear starts over; Ctrl-D quits.",
        info.name.as_deref().unwrap_or(&info.architecture),
        info.path.display(),
        info.n_ctx,
        info.threads
    );
    if transcript.len() > 0 {
        eprintln!("(continuing with {} messages)", transcript.len());
    }
    announce(&transcript);
    let cancel = engine.cancel_handle();
    ctrlc::set_handler(move || cancel.cancel()).context("cannot install the Ctrl-C handler")?;
    let mut editor = rustyline::DefaultEditor::new()?;
    // Lines typed in earlier chats come back with Up, as in a shell.
    let history_file = gemma_desk_store::Store::default_data_dir().map(|dir| dir.join("cli-history.txt"));
    if let Some(file) = &history_file {
        let _ = editor.load_history(file);
    }
    loop {
        let line = match editor.readline("> ") {
            Ok(line) => line,
            Err(ReadlineError::Interrupted) => continue,
            Err(ReadlineError::Eof) => break,
            Err(error) => return Err(error.into()),
        };
        let text = line.trim();
        match text {
            "" => continue,
            "/exit" | "/quit" => break,
            "/clear" => {
                transcript.clear()?;
                eprintln!("(new conversation)");
                announce(&transcript);
                continue;
            }
            _ => {}
        }
        let _ = editor.add_history_entry(text);
        if let Some(file) = &history_file
            && file.parent().is_some_and(|dir| std::fs::create_dir_all(dir).is_ok())
        {
            let _ = editor.save_history(file);
        }
        transcript.add_user(text)?;
        match transcript.reply(&mut engine, &sampling) {
            Ok(reply) => {
                println!();
                report(&reply);
            }
            Err(error) => eprintln!("error: {error:#}"),
        }
    }
    announce(&transcript);
    Ok(())
}

/// The model as the store names it: its file name.
fn model_name(path: &std::path::Path) -> String {
    path.file_name().map_or_else(|| path.display().to_string(), |name| name.to_string_lossy().into_owned())
}

/// Tells where a stored conversation is.
fn announce(transcript: &Transcript) {
    if let Some(id) = transcript.conversation_id() {
        eprintln!("(conversation {id}; resume it with --continue {id})");
    }
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

//! `chat`: one reply to a prompt, or an interactive chat that keeps the conversation (and the
//! engine's KV cache) across turns. Every turn is the app's own ([`Chat::send`]): the question
//! is committed before the engine is asked, the reply is saved while it streams. With `--db` or
//! `--continue` the conversation is kept in that database; otherwise in a scratch database that
//! is deleted on exit.

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use clap::Args;
use gemma_desk_chat::{
    Chat, ChatError, ChatEvent, CheckedAttachment, MAX_CLIPS, MAX_IMAGES, ModelChoice, ToolChoice, ToolDecision,
    ToolSettings, Transcriber, check_clip, check_image, now, tool_names,
};
use gemma_desk_engine::{SamplingParams, StopReason};
use gemma_desk_store::{
    ConversationId, ConversationSettings, Message, MessageStatus, Store, StoredToolCall, ToolOutcome, ToolPart,
};
use gemma_desk_voice::{Speaker, SpeechEvent};
use rustyline::error::ReadlineError;
use tokio::runtime::Runtime;

use crate::listen;
use crate::options::{ModelArgs, SamplingArgs, StoreArgs, runtime, worker_command};

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
    /// Attach an image to the prompt (PNG, JPEG, WebP, GIF or BMP; repeat for several, up to 10).
    /// Needs a vision model and its `--mmproj`. In a chat, `/image FILE` attaches one to the next
    /// message.
    #[arg(long = "image", value_name = "FILE")]
    images: Vec<PathBuf>,
    /// Attach a sound clip to the prompt (WAV, FLAC or MP3 at any rate, up to 30 s; repeat for
    /// several, up to 4). Needs Gemma 4 E2B or E4B and its `--mmproj`. In a chat, `/audio FILE`
    /// attaches one to the next message.
    #[arg(long = "audio", value_name = "FILE")]
    clips: Vec<PathBuf>,
    /// Ask by voice: record the question from the microphone until Enter (with PROMPT, sent
    /// with it; in a chat, an empty line starts a recording). Needs a model that hears. In any
    /// chat, `/listen` records one.
    #[arg(long)]
    listen: bool,
    /// The microphone to record from (an input id from `devices --audio`) [default: the
    /// system's default input].
    #[arg(long, value_name = "ID")]
    microphone: Option<String>,
    /// A model that hears (Gemma 4 E2B or E4B) to write down sound clips and recorded questions
    /// for a `--model` that cannot hear: it is loaded beside it for each question (when the free
    /// memory holds it) and the question goes as text. Needs `--transcriber-mmproj`.
    #[arg(long, value_name = "FILE", requires = "transcriber_mmproj")]
    transcriber: Option<PathBuf>,
    /// The projector (mmproj) of `--transcriber`, which gives it ears.
    #[arg(long, value_name = "FILE", requires = "transcriber")]
    transcriber_mmproj: Option<PathBuf>,
    /// Speak each reply aloud as it streams, sentence by sentence, through the system's speech
    /// service (code, tables and links are not read). Ctrl-C or a new question stops it.
    #[arg(long)]
    speak: bool,
    /// Offer the model the built-in tools (date and time, an exact calculator, unit conversion,
    /// a search of the stored conversations, a text file you name when it asks). Each call is
    /// shown and asked about on the terminal before it runs: y (run it), n (do not), c (run this
    /// tool without asking for the rest of the conversation), a (as c, said as "always"; the CLI
    /// keeps no settings).
    #[arg(long)]
    tools: bool,
    /// A tool that runs without asking (repeat for several).
    #[arg(long = "allow-tool", value_name = "NAME", requires = "tools")]
    allowed_tools: Vec<String>,
    /// Make the first reply of each turn call a tool (llama.cpp's grammar, what
    /// `tool_choice: "required"` does).
    #[arg(long, requires = "tools", conflicts_with = "require_tool")]
    require_tool_call: bool,
    /// Make the first reply of each turn call this tool.
    #[arg(long, value_name = "NAME", requires = "tools")]
    require_tool: Option<String>,
    /// Answer this prompt and exit (the reply on stdout, figures on stderr).
    prompt: Option<String>,
}

/// The conversation being had, and where it is kept.
struct Session {
    chat: Chat,
    runtime: Runtime,
    conversation: ConversationId,
    settings: ConversationSettings,
    model: String,
    /// Whether the user asked for it to be kept (otherwise it lives in a scratch database).
    kept: bool,
    /// Reads replies aloud (`--speak`).
    speaker: Option<Speaker>,
    /// Writes down clips for a model that cannot hear (`--transcriber`).
    transcriber: Option<Transcriber>,
    _lock: Option<gemma_desk_store::DatabaseLock>,
    _scratch: Option<tempfile::TempDir>,
}

impl Drop for Session {
    /// Checkpoints the conversations into the database file while the lock is still held.
    fn drop(&mut self) {
        if let Err(error) = self.runtime.block_on(self.chat.store().clone().close()) {
            eprintln!("warning: could not close the conversations database: {error}");
        }
    }
}

pub fn run(args: ChatArgs) -> anyhow::Result<()> {
    let sampling = args.sampling.params()?;
    if args.prompt.as_deref().is_some_and(|p| p.trim().is_empty()) {
        bail!("the prompt is empty; type something to ask");
    }
    // Chat::load_model checks the files' headers before the engine sees them.
    let choice = args.model.unchecked_choice();
    let runtime = runtime()?;
    let kept = args.store.db.is_some() || args.continue_id.is_some();
    let (store, lock, scratch) = if kept {
        let writable = args.store.open_to_write(&runtime)?;
        (writable.store, Some(writable.lock), None)
    } else {
        let scratch = tempfile::Builder::new()
            .prefix("gemma-desk-chat-")
            .tempdir()
            .context("cannot create a scratch folder for the conversation")?;
        let store = runtime.block_on(Store::open(scratch.path()))?;
        (store, None, Some(scratch))
    };
    let model = choice.name();
    let resumed = match args.continue_id {
        Some(id) => Some(resume(&runtime, &store, id)?),
        None => None,
    };
    let chat = Chat::new(store, worker_command()?);
    let names = tool_names();
    if let Some(unknown) =
        args.allowed_tools.iter().chain(&args.require_tool).find(|name| !names.contains(&name.as_str()))
    {
        bail!("there is no tool named {unknown:?}; the tools are {}", names.join(", "));
    }
    let tool_choice = match (&args.require_tool, args.require_tool_call) {
        (Some(name), _) => ToolChoice::Tool(name.clone()),
        (None, true) => ToolChoice::Required,
        (None, false) => ToolChoice::Auto,
    };
    chat.set_tools(ToolSettings {
        enabled: args.tools,
        always_allowed: args.allowed_tools.iter().cloned().collect(),
        choice: tool_choice,
    });
    let info = runtime.block_on(chat.load_model(&choice, args.model.tuning()))?;
    // Nothing is written until the model has loaded: a bad model file leaves no new conversation
    // and no changed system prompt behind.
    let (conversation, settings) = match resumed {
        Some((id, mut settings)) => {
            if args.system.is_some() {
                settings.system_prompt = args.system.clone();
                runtime.block_on(chat.store().update_settings(id, Some(&model), &settings, now()))?;
            }
            (id, settings)
        }
        None => {
            let settings =
                ConversationSettings { system_prompt: args.system.clone(), sampling: serde_json::to_value(&sampling)? };
            let store = chat.store();
            let conversation = runtime.block_on(store.create_conversation(None, Some(&model), &settings, now()))?;
            (conversation.id, settings)
        }
    };
    let speaker = if args.speak { Some(start_speaker()?) } else { None };
    let transcriber = match (&args.transcriber, &args.transcriber_mmproj) {
        (Some(model), Some(mmproj)) => {
            let choice = ModelChoice { model: model.clone(), mmproj: Some(mmproj.clone()) };
            let name = choice.name();
            Some(Transcriber::new(choice, name)?)
        }
        _ => None,
    };
    let mut session = Session {
        chat,
        runtime,
        conversation,
        settings,
        model,
        kept,
        speaker,
        transcriber,
        _lock: lock,
        _scratch: scratch,
    };

    let mut attached = args.images.iter().map(|path| read_image(path)).collect::<anyhow::Result<Vec<_>>>()?;
    for path in &args.clips {
        attached.push(read_clip(path)?);
    }
    let microphone = args.microphone.as_deref();
    if let Some(prompt) = args.prompt {
        if args.listen {
            session.check_can_hear()?;
            attached.push(listen::record_question(microphone)?);
        }
        let reply = session.ask(&prompt, std::mem::take(&mut attached), &sampling)?;
        if let Some(speaker) = &session.speaker {
            speaker.wait_until_quiet();
        }
        session.announce();
        match reply.status {
            MessageStatus::Interrupted => bail!("the reply was interrupted"),
            MessageStatus::Error => bail!("{}", reply.error.as_deref().unwrap_or("the reply failed")),
            _ => return Ok(()),
        }
    }

    eprintln!(
        "{} ({}), context {} tokens, {} threads. Enter sends; Ctrl-C stops a reply; /image FILE or /audio FILE attaches an image or a sound clip; /listen [TEXT] asks by voice{}; /clear starts over; Ctrl-D quits.",
        info.name.as_deref().unwrap_or(&info.architecture),
        info.path.display(),
        info.n_ctx,
        info.threads,
        if args.listen { " (or Enter on an empty line)" } else { "" }
    );
    let earlier = session.runtime.block_on(session.chat.store().current_branch(session.conversation))?.len();
    if earlier > 0 {
        eprintln!("(continuing with {earlier} messages)");
    }
    session.announce();
    let stop = session.chat.stop_handle();
    let silence = session.speaker.clone();
    ctrlc::set_handler(move || {
        stop.stop();
        if let Some(speaker) = &silence {
            speaker.stop();
        }
    })
    .context("cannot install the Ctrl-C handler")?;
    let mut editor = rustyline::DefaultEditor::new()?;
    // Lines typed in earlier chats come back with Up, as in a shell.
    let history_file = Store::default_data_dir().map(|dir| dir.join("cli-history.txt"));
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
        let spoken = if text == "/listen" || text.starts_with("/listen ") {
            Some(text["/listen".len()..].trim())
        } else if text.is_empty() && args.listen {
            Some("")
        } else {
            None
        };
        if let Some(text) = spoken {
            // Starting to talk silences the last reply.
            if let Some(speaker) = &session.speaker {
                speaker.stop();
            }
            let recorded = session.check_can_hear().and_then(|()| {
                let clip = listen::record_question(microphone)?;
                room_for(&attached, &clip)?;
                Ok(clip)
            });
            match recorded {
                Ok(clip) => {
                    attached.push(clip);
                    session.ask_in_chat(text, std::mem::take(&mut attached), &sampling);
                }
                Err(error) => eprintln!("error: {error:#}"),
            }
            continue;
        }
        match text {
            "" => continue,
            "/exit" | "/quit" => break,
            "/clear" => {
                session.start_over()?;
                attached.clear();
                eprintln!("(new conversation)");
                session.announce();
                continue;
            }
            _ => {}
        }
        let attachment = if let Some(file) = text.strip_prefix("/image ") {
            Some(read_image(Path::new(file.trim())))
        } else {
            text.strip_prefix("/audio ").map(|file| read_clip(Path::new(file.trim())))
        };
        if let Some(attachment) = attachment {
            match attachment.and_then(|attachment| room_for(&attached, &attachment).map(|()| attachment)) {
                Ok(attachment) => {
                    attached.push(attachment);
                    eprintln!("({} attached to the next message)", attachments_in_words(&attached));
                }
                Err(error) => eprintln!("error: {error:#}"),
            }
            continue;
        }
        let _ = editor.add_history_entry(text);
        if let Some(file) = &history_file
            && file.parent().is_some_and(|dir| std::fs::create_dir_all(dir).is_ok())
        {
            let _ = editor.save_history(file);
        }
        session.ask_in_chat(text, std::mem::take(&mut attached), &sampling);
    }
    session.announce();
    Ok(())
}

/// A stored conversation to resume on its current branch, and its settings; a deleted one is refused.
fn resume(
    runtime: &Runtime,
    store: &Store,
    id: ConversationId,
) -> anyhow::Result<(ConversationId, ConversationSettings)> {
    let conversation = runtime.block_on(store.conversation(id))?;
    if conversation.deleted_at.is_some() {
        bail!("conversation {id} is deleted; restore it before continuing it");
    }
    Ok((id, conversation.settings))
}

impl Session {
    /// One turn: the question stored, the reply streamed to stdout (and stored), its figures on
    /// stderr.
    fn ask(
        &mut self,
        text: &str,
        attachments: Vec<CheckedAttachment>,
        sampling: &SamplingParams,
    ) -> anyhow::Result<Message> {
        let mut stdout = std::io::stdout();
        let mut stop_reason = None;
        let chat = &self.chat;
        // A new question silences the last reply.
        let mut aloud = self.speaker.as_ref().map(|speaker| {
            speaker.stop();
            speaker.read_aloud()
        });
        let on_event = |event| match event {
            ChatEvent::Token { text } => {
                let _ = stdout.write_all(text.as_bytes());
                let _ = stdout.flush();
                if let Some(aloud) = &mut aloud {
                    aloud.push(&text);
                }
            }
            ChatEvent::Notice { message } => eprintln!("\nnote: {message}"),
            ChatEvent::Finished { engine_died, stop_reason: reason, .. } => {
                if let Some(death) = engine_died {
                    eprintln!("\n{death}; the text so far is kept and the next message starts a fresh engine");
                }
                stop_reason = reason;
            }
            ChatEvent::Transcribing { model } => eprintln!("({model} is writing down what was said)"),
            ChatEvent::ToolCalls { .. } => println!(),
            ChatEvent::ConfirmTool { call, picks_file } => {
                let (decision, file) = if picks_file { ask_for_file(&call) } else { (ask_about(&call), None) };
                // The call waits for exactly this answer.
                let _ = chat.answer_tool_call(&call.id, decision, file);
            }
            ChatEvent::ToolResult { message } => {
                if let Some(ToolPart::Result(result)) = &message.tool {
                    eprintln!("[{} {}: {}]", result.name, outcome_word(result.outcome), one_line(&message.content));
                }
            }
            ChatEvent::Started { .. } | ChatEvent::Continued { .. } | ChatEvent::Loading => {}
        };
        let reply = match &self.transcriber {
            Some(transcriber) => self.runtime.block_on(self.chat.send_transcribed(
                self.conversation,
                text,
                attachments,
                transcriber,
                gemma_desk_models::available_ram(),
                sampling,
                on_event,
            )),
            None => self.runtime.block_on(self.chat.send_with_attachments(
                self.conversation,
                text,
                attachments,
                sampling,
                on_event,
            )),
        }?;
        if let Some(aloud) = aloud {
            aloud.finish();
        }
        println!();
        report(&reply, stop_reason);
        Ok(reply)
    }

    /// Refuses to record a question nobody would hear: the model cannot, and no `--transcriber`.
    fn check_can_hear(&self) -> anyhow::Result<()> {
        if self.transcriber.is_none() {
            self.chat.check_can_hear()?;
        }
        Ok(())
    }

    /// [`Session::ask`] in an interactive chat: a failure is told and the chat goes on.
    fn ask_in_chat(&mut self, text: &str, attachments: Vec<CheckedAttachment>, sampling: &SamplingParams) {
        match self.ask(text, attachments, sampling) {
            Ok(reply) if reply.status == MessageStatus::Error => {
                eprintln!("error: {}", reply.error.as_deref().unwrap_or("the reply failed"));
            }
            Ok(_) => {}
            Err(error) if matches!(error.downcast_ref(), Some(ChatError::Cancelled)) => {
                eprintln!("(stopped while the clip was written down; nothing was asked)");
            }
            Err(error) => eprintln!("error: {error:#}"),
        }
    }

    /// A new, empty conversation with the same settings.
    fn start_over(&mut self) -> anyhow::Result<()> {
        let store = self.chat.store();
        let conversation =
            self.runtime.block_on(store.create_conversation(None, Some(&self.model), &self.settings, now()))?;
        self.conversation = conversation.id;
        Ok(())
    }

    /// Tells where a kept conversation is.
    fn announce(&self) {
        if self.kept {
            let id = self.conversation;
            eprintln!("(conversation {id}; resume it with --continue {id})");
        }
    }
}

/// The system's speech service, its failures told on stderr.
fn start_speaker() -> anyhow::Result<Speaker> {
    Ok(Speaker::start(|event| {
        if let SpeechEvent::Failed(message) = event {
            eprintln!("\nnote: {message}; the reply is not spoken");
        }
    })?)
}

/// An image file to attach, read whole and checked (decoded) now.
fn read_image(path: &Path) -> anyhow::Result<CheckedAttachment> {
    let bytes = std::fs::read(path).with_context(|| format!("cannot read the image {}", path.display()))?;
    let name = path.file_name().map(|name| name.to_string_lossy().into_owned());
    Ok(check_image(name, bytes)?.0)
}

/// A sound file to attach, decoded and resampled to the model's rate now.
fn read_clip(path: &Path) -> anyhow::Result<CheckedAttachment> {
    let bytes = std::fs::read(path).with_context(|| format!("cannot read the sound file {}", path.display()))?;
    let name = path.file_name().map(|name| name.to_string_lossy().into_owned());
    Ok(check_clip(name, bytes)?.0)
}

/// Refuses an attachment past what one message may carry.
fn room_for(attached: &[CheckedAttachment], attachment: &CheckedAttachment) -> anyhow::Result<()> {
    let same_kind = attached.iter().filter(|other| other.is_clip() == attachment.is_clip()).count();
    match attachment.is_clip() {
        true if same_kind == MAX_CLIPS => bail!("one message may carry at most {MAX_CLIPS} sound clips"),
        false if same_kind == MAX_IMAGES => bail!("one message may carry at most {MAX_IMAGES} images"),
        _ => Ok(()),
    }
}

fn attachments_in_words(attached: &[CheckedAttachment]) -> String {
    let clips = attached.iter().filter(|attachment| attachment.is_clip()).count();
    let counted = |count: usize, one: &str, many: &str| match count {
        0 => None,
        1 => Some(format!("1 {one}")),
        _ => Some(format!("{count} {many}")),
    };
    [counted(attached.len() - clips, "image", "images"), counted(clips, "sound clip", "sound clips")]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join(" and ")
}

/// The figures of a reply, on stderr so that stdout holds only the reply.
/// Asks on the terminal whether `call` may run; no answer (stdin closed) declines it.
fn ask_about(call: &StoredToolCall) -> ToolDecision {
    let arguments = serde_json::to_string(&call.arguments).unwrap_or_default();
    loop {
        eprint!(
            "\n{} wants to run with {arguments}. Run it? [y]es, [n]o, for this [c]onversation, [a]lways: ",
            call.name
        );
        let mut answer = String::new();
        match std::io::stdin().read_line(&mut answer) {
            Ok(0) | Err(_) => return ToolDecision::Decline,
            Ok(_) => {}
        }
        match answer.trim().to_lowercase().as_str() {
            "y" | "yes" => return ToolDecision::Run,
            "n" | "no" => return ToolDecision::Decline,
            "c" | "conversation" => return ToolDecision::AllowInConversation,
            "a" | "always" => return ToolDecision::AlwaysAllow,
            _ => eprintln!("answer y, n, c or a"),
        }
    }
}

/// Asks on the terminal for the file a call is to read; none (an empty line, stdin closed)
/// declines it.
fn ask_for_file(call: &StoredToolCall) -> (ToolDecision, Option<PathBuf>) {
    let purpose = call.arguments.get("purpose").and_then(serde_json::Value::as_str).unwrap_or_default();
    let why = if purpose.is_empty() { String::new() } else { format!(" ({})", one_line(purpose)) };
    eprint!("\n{} wants to read a text file{why}. Which file? (a path; empty declines): ", call.name);
    let mut answer = String::new();
    match std::io::stdin().read_line(&mut answer) {
        Ok(0) | Err(_) => (ToolDecision::Decline, None),
        Ok(_) if answer.trim().is_empty() => (ToolDecision::Decline, None),
        Ok(_) => (ToolDecision::Run, Some(PathBuf::from(answer.trim()))),
    }
}

fn outcome_word(outcome: ToolOutcome) -> &'static str {
    match outcome {
        ToolOutcome::Answered => "answered",
        ToolOutcome::Failed => "failed",
        ToolOutcome::Declined => "declined",
        ToolOutcome::Refused => "refused",
    }
}

/// `text` on one line, at most 200 characters.
fn one_line(text: &str) -> String {
    let line: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
    match line.char_indices().nth(200) {
        Some((cut, _)) => format!("{}…", &line[..cut]),
        None => line,
    }
}

fn report(reply: &Message, stop_reason: Option<StopReason>) {
    let stats = &reply.stats;
    let (Some(generated), Some(reason)) = (stats.generated_tokens, stop_reason) else { return };
    eprintln!(
        "[{generated} tokens; time to first token {:.0} ms; prefill {:.1} t/s ({} of {} prompt tokens reused); decode {:.1} t/s; stop: {}]",
        stats.ttft_ms.unwrap_or_default(),
        stats.prefill_tps.unwrap_or_default(),
        stats.reused_tokens.unwrap_or_default(),
        stats.prompt_tokens.unwrap_or_default(),
        stats.decode_tps.unwrap_or_default(),
        reason.describe()
    );
}

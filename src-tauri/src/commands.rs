//! The commands the window calls. Each checks its arguments, calls the core crates, and
//! answers with data or an [`AppError`]; none holds logic of its own.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use gemma_desk_chat::{ChatEvent, EngineStatus, MAX_IMAGES, ModelChoice, ToolDecision, Transcriber, now};
use gemma_desk_engine::Sampling;
use gemma_desk_settings::{Preset, Settings, SettingsNotice, builtin_presets};
use gemma_desk_store::{BranchMessage, Conversation, ConversationSettings, ExportScope, Message, SearchHit, Store};
use serde::{Deserialize, Serialize};
use tauri::ipc::Channel;
use tauri::{AppHandle, Runtime, State};
use tauri_plugin_opener::OpenerExt;
use ts_rs::TS;

use crate::dialogs::{self, FileKind};
use crate::error::{AppError, CommandResult};
use crate::images::{Attached, Images, PendingImage, clipboard_image, rgba_to_png};
use crate::state::AppState;
use crate::voice::{RecordedClip, RecordingProgress, Voice};

const MAX_TITLE_CHARS: usize = 200;
const MAX_SYSTEM_PROMPT_CHARS: usize = 20_000;
const MAX_QUERY_CHARS: usize = 500;
const MAX_LIST: u32 = 500;
/// The longest text `speak_text` reads aloud (a long reply).
const MAX_SPOKEN_CHARS: usize = 200_000;

/// Everything the window needs to start.
#[derive(Serialize, TS)]
pub struct AppView {
    version: &'static str,
    settings: Settings,
    builtin_presets: Vec<Preset>,
    sampling_defaults: Sampling,
    engine: EngineStatus,
    data_dir: PathBuf,
    log_file: PathBuf,
    /// The most characters (Unicode scalar values, as Rust counts them) one message may hold.
    max_message_chars: usize,
    /// The image-token budgets Gemma 4 offers (the `image_tokens` setting).
    image_token_budgets: &'static [u32],
    /// What loading the settings file repaired, to say once.
    settings_notice: Option<SettingsNotice>,
}

/// A conversation with the branch shown.
#[derive(Serialize, TS)]
pub struct OpenConversation {
    conversation: Conversation,
    branch: Vec<BranchMessage>,
}

/// Export formats.
#[derive(Debug, Clone, Copy, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum ExportFormat {
    /// For people.
    Markdown,
    /// For importing again.
    Json,
}

#[tauri::command]
pub fn app_state(state: State<'_, AppState>) -> AppView {
    let engine = state.chat.engine_status();
    let architecture = engine.info.as_ref().map_or("gemma3", |info| info.architecture.as_str());
    AppView {
        version: env!("CARGO_PKG_VERSION"),
        settings: state.settings(),
        builtin_presets: builtin_presets(),
        sampling_defaults: Sampling::defaults_for(architecture),
        engine,
        data_dir: state.data_dir.clone(),
        log_file: state.paths.logs.clone(),
        max_message_chars: gemma_desk_chat::MAX_TEXT_CHARS,
        image_token_budgets: &gemma_desk_engine::IMAGE_TOKEN_BUDGETS,
        settings_notice: state.settings_notice.clone(),
    }
}

#[tauri::command]
pub fn save_settings(state: State<'_, AppState>, settings: Settings) -> CommandResult<AppView> {
    state.save_settings(settings)?;
    Ok(app_state(state))
}

#[tauri::command]
pub async fn pick_model_file<R: Runtime>(app: AppHandle<R>, kind: FileKind) -> CommandResult<Option<PathBuf>> {
    dialogs::pick_gguf(&app, kind).await
}

#[tauri::command]
pub async fn load_model(state: State<'_, AppState>, choice: ModelChoice) -> CommandResult<EngineStatus> {
    check_absolute("model", std::iter::once(&choice.model).chain(&choice.mmproj))?;
    // Remembered once the files check out, so that closing the app mid-load keeps the choice.
    state.chat.check_model(&choice)?;
    let mut settings = state.settings();
    if settings.model.as_ref() != Some(&choice) {
        settings.model = Some(choice.clone());
        state.save_settings(settings)?;
    }
    let tuning = state.tuning_for(&choice).await;
    state.chat.load_model(&choice, tuning).await?;
    Ok(state.chat.engine_status())
}

#[tauri::command]
pub fn engine_status(state: State<'_, AppState>) -> EngineStatus {
    state.chat.engine_status()
}

#[tauri::command]
pub async fn list_conversations(
    state: State<'_, AppState>,
    limit: u32,
    offset: u32,
) -> CommandResult<Vec<Conversation>> {
    check_limit(limit)?;
    Ok(state.chat.store().list_conversations(limit, offset).await?)
}

#[tauri::command]
pub async fn create_conversation(
    state: State<'_, AppState>,
    system_prompt: Option<String>,
) -> CommandResult<Conversation> {
    if let Some(prompt) = &system_prompt {
        check_length("the system prompt", prompt, MAX_SYSTEM_PROMPT_CHARS)?;
    }
    let settings = ConversationSettings {
        system_prompt: system_prompt.filter(|p| !p.trim().is_empty()),
        sampling: serde_json::to_value(&state.settings().sampling).unwrap_or_default(),
    };
    let model = state.chat.engine_status().choice.map(|choice| choice.name());
    Ok(state.chat.store().create_conversation(None, model.as_deref(), &settings, now()).await?)
}

#[tauri::command]
pub async fn open_conversation(state: State<'_, AppState>, id: i64) -> CommandResult<OpenConversation> {
    let store = state.chat.store();
    let conversation = store.conversation(id).await?;
    let branch = store.current_branch(id).await?;
    Ok(OpenConversation { conversation, branch })
}

#[tauri::command]
pub async fn rename_conversation(state: State<'_, AppState>, id: i64, title: String) -> CommandResult<Conversation> {
    let title = title.trim();
    if title.is_empty() {
        return Err(AppError::bad_input("a conversation needs a title"));
    }
    check_length("the title", title, MAX_TITLE_CHARS)?;
    let store = state.chat.store();
    store.rename_conversation(id, title, now()).await?;
    Ok(store.conversation(id).await?)
}

#[tauri::command]
pub async fn set_pinned(state: State<'_, AppState>, id: i64, pinned: bool) -> CommandResult<Conversation> {
    let store = state.chat.store();
    store.set_pinned(id, pinned, now()).await?;
    Ok(store.conversation(id).await?)
}

/// Sets the system prompt the conversation's next replies are written with (`None` or blank:
/// none); the model and sampling it runs with stay as they are.
#[tauri::command]
pub async fn set_system_prompt(
    state: State<'_, AppState>,
    conversation_id: i64,
    prompt: Option<String>,
) -> CommandResult<Conversation> {
    if let Some(prompt) = &prompt {
        check_length("the system prompt", prompt, MAX_SYSTEM_PROMPT_CHARS)?;
    }
    let store = state.chat.store();
    let conversation = store.conversation(conversation_id).await?;
    let settings =
        ConversationSettings { system_prompt: prompt.filter(|p| !p.trim().is_empty()), ..conversation.settings };
    store.update_settings(conversation_id, conversation.model.as_deref(), &settings, now()).await?;
    Ok(store.conversation(conversation_id).await?)
}

#[tauri::command]
pub async fn delete_conversation(state: State<'_, AppState>, id: i64) -> CommandResult<()> {
    Ok(state.chat.store().delete_conversation(id, now()).await?)
}

#[tauri::command]
pub async fn restore_conversation(state: State<'_, AppState>, id: i64) -> CommandResult<Conversation> {
    let store = state.chat.store();
    store.restore_conversation(id, now()).await?;
    Ok(store.conversation(id).await?)
}

#[tauri::command]
pub async fn search_messages(state: State<'_, AppState>, query: String, limit: u32) -> CommandResult<Vec<SearchHit>> {
    check_length("the search", &query, MAX_QUERY_CHARS)?;
    check_limit(limit)?;
    Ok(state.chat.store().search(&query, limit).await?)
}

/// Sends `text` with the attached images and clips `images` (ids from `attach_images`,
/// `pick_images`, `paste_image` or `finish_recording`); they stay attached if the message cannot
/// be stored. The reply is read aloud when `speak` says so (conversation mode), or else when
/// spoken replies are on. With `transcriber` (an installed model that hears), clips for a loaded
/// model that cannot hear are transcribed by it first and sent as text.
#[tauri::command]
#[allow(clippy::too_many_arguments)] // Each is a command argument or state Tauri hands over.
pub async fn send_message<R: Runtime>(
    app: AppHandle<R>,
    state: State<'_, AppState>,
    attached: State<'_, Arc<Images>>,
    voice: State<'_, Arc<Voice>>,
    conversation_id: i64,
    text: String,
    images: Option<Vec<u64>>,
    speak: Option<bool>,
    transcriber: Option<String>,
    require_tool: Option<bool>,
    on_event: Channel<ChatEvent>,
) -> CommandResult<Message> {
    let _required = require_tool.unwrap_or(false).then(|| state.chat.require_tool_call());
    let images = images.unwrap_or_default();
    let settings = state.settings();
    let inputs = attached.inputs(&images)?;
    let speak = speak.unwrap_or(settings.spoken_replies);
    let sampling = settings.sampling;
    let mut sink = reply_sink(&app, speak, &voice, &on_event);
    let sink = |event| {
        if matches!(event, ChatEvent::Started { .. }) {
            attached.sent(&images);
        }
        sink(event);
    };
    let Some(transcriber) = transcriber else {
        return Ok(state.chat.send_with_attachments(conversation_id, &text, inputs, &sampling, sink).await?);
    };
    let transcriber = installed_transcriber(&state, &transcriber)?;
    let available = gemma_desk_models::available_ram();
    Ok(state.chat.send_transcribed(conversation_id, &text, inputs, &transcriber, available, &sampling, sink).await?)
}

/// The installed model `id`, to transcribe clips for a loaded model that cannot hear.
fn installed_transcriber(state: &AppState, id: &str) -> CommandResult<Transcriber> {
    let model = state.models.library.get(id)?;
    let choice = ModelChoice { model: model.model_path, mmproj: model.mmproj_path };
    Ok(Transcriber::new(choice, model.manifest.name)?)
}

/// Reads and checks the image files at `paths` (a native drop) and attaches the good ones.
#[tauri::command]
pub async fn attach_images(attached: State<'_, Arc<Images>>, paths: Vec<PathBuf>) -> CommandResult<Attached> {
    check_absolute("image", &paths)?;
    if paths.len() > MAX_IMAGES {
        return Err(AppError::bad_input(format!(
            "{} files were dropped; one message may carry at most {MAX_IMAGES} images",
            paths.len()
        )));
    }
    Ok(attach_files(&attached, paths).await)
}

/// Attaches images chosen in the native file dialog.
#[tauri::command]
pub async fn pick_images<R: Runtime>(app: AppHandle<R>, attached: State<'_, Arc<Images>>) -> CommandResult<Attached> {
    let paths = dialogs::pick_images(&app).await?;
    Ok(attach_files(&attached, paths).await)
}

/// Runs `work` off the async threads.
async fn blocking<T: Send + 'static>(work: impl FnOnce() -> T + Send + 'static) -> T {
    tokio::task::spawn_blocking(work).await.unwrap_or_else(|panic| std::panic::resume_unwind(panic.into_panic()))
}

/// Reads and decodes the files off the async threads (a 12 MP photo takes a while).
async fn attach_files(attached: &Arc<Images>, paths: Vec<PathBuf>) -> Attached {
    let images = Arc::clone(attached);
    tokio::task::spawn_blocking(move || images.attach_files(&paths))
        .await
        .unwrap_or_else(|panic| std::panic::resume_unwind(panic.into_panic()))
}

/// Attaches the image on the system clipboard, read natively; null when it holds none.
#[tauri::command]
pub async fn paste_image(attached: State<'_, Arc<Images>>) -> CommandResult<Option<PendingImage>> {
    let images = attached.inner().clone();
    tokio::task::spawn_blocking(move || {
        let Some((width, height, rgba)) = clipboard_image()? else { return Ok(None) };
        let png = rgba_to_png(width, height, rgba)?;
        images.attach(None, png).map(Some)
    })
    .await
    .unwrap_or_else(|panic| std::panic::resume_unwind(panic.into_panic()))
}

/// Removes an attached image before sending.
#[tauri::command]
pub fn discard_image(attached: State<'_, Arc<Images>>, id: u64) {
    attached.discard(id);
}

#[tauri::command]
pub async fn regenerate_reply<R: Runtime>(
    app: AppHandle<R>,
    state: State<'_, AppState>,
    voice: State<'_, Arc<Voice>>,
    message_id: i64,
    on_event: Channel<ChatEvent>,
) -> CommandResult<Message> {
    let sampling = state.settings().sampling;
    let speak = state.settings().spoken_replies;
    Ok(state.chat.regenerate(message_id, &sampling, reply_sink(&app, speak, &voice, &on_event)).await?)
}

#[tauri::command]
pub async fn edit_message<R: Runtime>(
    app: AppHandle<R>,
    state: State<'_, AppState>,
    voice: State<'_, Arc<Voice>>,
    message_id: i64,
    text: String,
    on_event: Channel<ChatEvent>,
) -> CommandResult<Message> {
    let sampling = state.settings().sampling;
    let speak = state.settings().spoken_replies;
    Ok(state.chat.edit(message_id, &text, &sampling, reply_sink(&app, speak, &voice, &on_event)).await?)
}

/// Stops the reply being written, and silences it.
/// Answers the tool call waiting for the user (a `confirm_tool` event); a tool allowed always is
/// kept in the settings. A call that reads a file runs on the one the user picks in the native
/// dialog (the window never names a path); none picked declines it.
#[tauri::command]
pub async fn answer_tool_call<R: Runtime>(
    app: AppHandle<R>,
    state: State<'_, AppState>,
    call_id: String,
    decision: ToolDecision,
) -> CommandResult<()> {
    let mut file = None;
    let mut decision = decision;
    if decision != ToolDecision::Decline && state.chat.waiting_call_picks_file(&call_id) {
        file = dialogs::open_any_file(&app, "Choose a text file for Gemma to read").await?;
        if file.is_none() {
            decision = ToolDecision::Decline;
        }
    }
    let tool = state.chat.answer_tool_call(&call_id, decision, file)?;
    if decision == ToolDecision::AlwaysAllow {
        let mut settings = state.settings();
        if !settings.always_allowed_tools.contains(&tool) {
            settings.always_allowed_tools.push(tool);
            state.save_settings(settings)?;
        }
    }
    Ok(())
}

#[tauri::command]
pub fn stop_reply(state: State<'_, AppState>, voice: State<'_, Arc<Voice>>) {
    state.chat.stop();
    voice.stop_speaking();
}

/// The microphones and speakers the system has.
#[tauri::command]
pub async fn audio_devices() -> gemma_desk_voice::AudioDevices {
    // Listing opens ALSA's configuration and probes devices: off the async threads.
    blocking(gemma_desk_voice::devices).await
}

/// Starts recording a question from the chosen microphone (push-to-talk pressed); its progress
/// comes every 50 ms on `on_progress`. Refused, before anything is recorded, when the loaded
/// model cannot hear and `transcriber` (the installed model that will transcribe the clip for
/// it) is not given or cannot hear either.
#[tauri::command]
pub async fn start_recording(
    state: State<'_, AppState>,
    voice: State<'_, Arc<Voice>>,
    transcriber: Option<String>,
    on_progress: Channel<RecordingProgress>,
) -> CommandResult<()> {
    match transcriber {
        Some(id) if state.chat.check_can_hear().is_err() => {
            installed_transcriber(&state, &id)?;
        }
        _ => state.chat.check_can_hear()?,
    }
    let microphone = state.settings().microphone;
    let voice = Arc::clone(&voice);
    // Opening a device may wait for it (up to a few seconds for a busy one).
    blocking(move || voice.start_recording(microphone.as_deref(), on_progress)).await
}

/// Ends the recording (push-to-talk released) and attaches its clip to the next message.
#[tauri::command]
pub async fn finish_recording(
    voice: State<'_, Arc<Voice>>,
    attached: State<'_, Arc<Images>>,
) -> CommandResult<RecordedClip> {
    let (voice, attached) = (Arc::clone(&voice), Arc::clone(&attached));
    // Resampling and trimming a 30 s clip takes a moment.
    blocking(move || voice.finish_recording(&attached)).await
}

/// Ends the recording and throws it away (Esc).
#[tauri::command]
pub fn cancel_recording(voice: State<'_, Arc<Voice>>) {
    voice.cancel_recording();
}

/// Reads a reply (its Markdown) aloud, in place of anything being read.
#[tauri::command]
pub fn speak_text<R: Runtime>(app: AppHandle<R>, voice: State<'_, Arc<Voice>>, text: String) -> CommandResult<()> {
    if text.chars().count() > MAX_SPOKEN_CHARS {
        return Err(AppError::bad_input(format!("at most {MAX_SPOKEN_CHARS} characters are read aloud at once")));
    }
    voice.speak(&app, &text)
}

/// Silences speech at once (Esc, or the speaker button).
#[tauri::command]
pub fn stop_speaking(voice: State<'_, Arc<Voice>>) {
    voice.stop_speaking();
}

#[tauri::command]
pub async fn switch_branch(
    state: State<'_, AppState>,
    conversation_id: i64,
    message_id: i64,
) -> CommandResult<Vec<BranchMessage>> {
    let store = state.chat.store();
    store.switch_branch(conversation_id, message_id, now()).await?;
    Ok(store.current_branch(conversation_id).await?)
}

#[tauri::command]
pub async fn sibling_ids(state: State<'_, AppState>, message_id: i64) -> CommandResult<Vec<i64>> {
    Ok(state.chat.store().siblings(message_id).await?)
}

#[tauri::command]
pub async fn export_conversation<R: Runtime>(
    app: AppHandle<R>,
    state: State<'_, AppState>,
    id: i64,
    format: ExportFormat,
) -> CommandResult<Option<PathBuf>> {
    let store = state.chat.store();
    let conversation = store.conversation(id).await?;
    let extension = match format {
        ExportFormat::Markdown => "md",
        ExportFormat::Json => "json",
    };
    let name = format!("{}.{extension}", dialogs::file_name_from(&conversation.title));
    let Some(path) = dialogs::save_file(&app, "Export conversation", &name).await? else { return Ok(None) };
    let text = match format {
        ExportFormat::Markdown => markdown_with_files_beside(store, id, &path).await?,
        ExportFormat::Json => store.export_json(id, ExportScope::WholeTree).await?,
    };
    std::fs::write(&path, text).map_err(|e| AppError::io(format!("could not write {}: {e}", path.display())))?;
    tracing::info!(conversation = id, path = %path.display(), "exported");
    Ok(Some(path))
}

/// The Markdown export to write at `path`, its images and sound clips copied into the folder its
/// links name, beside it (`Trip files` for `Trip.md`; made only when there are such files).
async fn markdown_with_files_beside(store: &Store, id: i64, path: &Path) -> CommandResult<String> {
    let stem = path.file_stem().map(|stem| stem.to_string_lossy().into_owned()).filter(|stem| !stem.is_empty());
    let folder_name = format!("{} files", stem.as_deref().unwrap_or("conversation"));
    let export = store.export_markdown(id, ExportScope::CurrentBranch, Some(&folder_name)).await?;
    if !export.files.is_empty() {
        let folder = path.with_file_name(&folder_name);
        std::fs::create_dir_all(&folder).map_err(|e| {
            AppError::io(format!(
                "could not create the folder {} for the conversation's images and clips: {e}",
                folder.display()
            ))
        })?;
        for file in &export.files {
            std::fs::copy(store.attachment_path(&file.sha256), folder.join(&file.name))
                .map_err(|e| AppError::io(format!("could not copy {} into {}: {e}", file.name, folder.display())))?;
        }
    }
    Ok(export.text)
}

#[tauri::command]
pub async fn import_conversation<R: Runtime>(
    app: AppHandle<R>,
    state: State<'_, AppState>,
) -> CommandResult<Option<Conversation>> {
    let Some(path) = dialogs::open_file(&app, "Conversation (JSON)", &["json"]).await? else { return Ok(None) };
    let json =
        std::fs::read_to_string(&path).map_err(|e| AppError::io(format!("could not read {}: {e}", path.display())))?;
    Ok(Some(state.chat.store().import_json(&json, now()).await?))
}

/// What a backup wrote, for the window to say.
#[derive(Serialize, TS)]
pub struct BackupDone {
    /// The copy of the database.
    database: PathBuf,
    /// Its attachments folder.
    attachments: PathBuf,
    /// How many conversations it holds.
    conversations: u64,
}

/// Writes a consistent copy of every conversation where the user chooses (a save dialog), while
/// replies stream; `None` when the dialog was cancelled.
#[tauri::command]
pub async fn backup_conversations<R: Runtime>(
    app: AppHandle<R>,
    state: State<'_, AppState>,
) -> CommandResult<Option<BackupDone>> {
    let name = format!("gemma-desk-backup-{}.sqlite3", chrono::Local::now().format("%Y-%m-%d"));
    let Some(path) = dialogs::save_file(&app, "Back up conversations", &name).await? else { return Ok(None) };
    let backup = state.chat.store().backup_to(&path).await?;
    tracing::info!(path = %backup.database.display(), conversations = backup.conversations, "backed up");
    Ok(Some(BackupDone {
        database: backup.database,
        attachments: backup.attachments,
        conversations: backup.conversations,
    }))
}

#[tauri::command]
pub fn open_external<R: Runtime>(app: AppHandle<R>, url: String) -> CommandResult<()> {
    let parsed = tauri::Url::parse(&url).map_err(|e| AppError::bad_input(format!("not a link: {e}")))?;
    if !matches!(parsed.scheme(), "http" | "https" | "mailto") {
        return Err(AppError::bad_input(format!("only web and mail links open, not {}: links", parsed.scheme())));
    }
    app.opener()
        .open_url(parsed.as_str(), None::<&str>)
        .map_err(|e| AppError::io(format!("could not open the link: {e}")))
}

#[tauri::command]
pub fn open_log<R: Runtime>(app: AppHandle<R>, state: State<'_, AppState>) -> CommandResult<()> {
    crate::logging::open_log_folder(&app, &state.paths.logs)
}

/// Sends chat events to the window; a closed window only stops the forwarding, not the reply.
/// A reply's events to the window; read aloud as well when `speak`.
fn reply_sink<'a, R: Runtime>(
    app: &AppHandle<R>,
    speak: bool,
    voice: &Voice,
    channel: &'a Channel<ChatEvent>,
) -> Box<dyn FnMut(ChatEvent) + Send + 'a> {
    if speak { Box::new(voice.read_aloud(app, forward(channel))) } else { Box::new(forward(channel)) }
}

fn forward(channel: &Channel<ChatEvent>) -> impl FnMut(ChatEvent) + Send + '_ {
    move |event| {
        let _ = channel.send(event);
    }
}

/// Refuses a relative path: what it names would depend on the folder the app was started in.
pub(crate) fn check_absolute<'a>(what: &str, paths: impl IntoIterator<Item = &'a PathBuf>) -> CommandResult<()> {
    for path in paths {
        if !path.is_absolute() {
            return Err(AppError::bad_input(format!("the {what} path must be absolute, got {}", path.display())));
        }
    }
    Ok(())
}

fn check_limit(limit: u32) -> CommandResult<()> {
    if limit == 0 || limit > MAX_LIST {
        return Err(AppError::bad_input(format!("limit must be between 1 and {MAX_LIST}, got {limit}")));
    }
    Ok(())
}

fn check_length(what: &str, text: &str, max: usize) -> CommandResult<()> {
    let length = text.chars().count();
    if length > max {
        return Err(AppError::bad_input(format!("{what} has {length} characters; at most {max} fit")));
    }
    Ok(())
}

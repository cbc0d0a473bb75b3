//! The Gemma Desk desktop shell: the window, its menu, and the commands it calls over the core
//! crates (`gemma-desk-chat`, `-store`, `-engine`). No business logic lives here.

pub mod commands;
pub mod contract;
mod dialogs;
pub mod error;
pub mod images;
mod logging;
pub mod models;
pub mod startup;
pub mod state;
pub mod voice;

use std::process::ExitCode;
use std::sync::Arc;

use gemma_desk_chat::ModelChoice;
use gemma_desk_engine::WorkerCommand;
use gemma_desk_settings::Settings;
use tauri::menu::{Menu, MenuItem, PredefinedMenuItem, Submenu};
use tauri::{AppHandle, Emitter, Manager, Runtime};
use tauri_plugin_opener::OpenerExt;

use crate::images::Images;
use crate::startup::Startup;
use crate::state::{AppPaths, AppState};
use crate::voice::Voice;

/// How the app was started.
#[derive(Debug, Default)]
pub struct Launch {
    /// A model to load at start (`--model`), remembered as the chosen one.
    pub model: Option<ModelChoice>,
}

/// The command handler of every command the window may call (see `src-tauri/build.rs`).
pub fn with_commands<R: Runtime>(builder: tauri::Builder<R>) -> tauri::Builder<R> {
    builder.manage(Arc::new(Images::default())).manage(Arc::new(Voice::default())).invoke_handler(
        tauri::generate_handler![
            commands::app_state,
            commands::save_settings,
            commands::pick_model_file,
            commands::load_model,
            commands::engine_status,
            commands::list_conversations,
            commands::create_conversation,
            commands::open_conversation,
            commands::rename_conversation,
            commands::set_pinned,
            commands::set_system_prompt,
            commands::delete_conversation,
            commands::restore_conversation,
            commands::search_messages,
            commands::send_message,
            commands::attach_images,
            commands::pick_images,
            commands::paste_image,
            commands::discard_image,
            commands::regenerate_reply,
            commands::edit_message,
            commands::answer_tool_call,
            commands::stop_reply,
            commands::switch_branch,
            commands::sibling_ids,
            commands::export_conversation,
            commands::import_conversation,
            commands::open_external,
            commands::open_log,
            commands::backup_conversations,
            commands::audio_devices,
            commands::start_recording,
            commands::finish_recording,
            commands::cancel_recording,
            commands::speak_text,
            commands::stop_speaking,
            startup::startup_problem,
            startup::recover_startup,
            models::models_overview,
            models::download_model,
            models::pause_download,
            models::cancel_download,
            models::use_model,
            models::delete_model,
            models::import_model,
        ],
    )
}

/// Runs the app until its window closes.
pub fn run(launch: Launch) -> ExitCode {
    let mut builder = tauri::Builder::default();
    if session_bus_reachable() {
        // A second start brings the running window forward instead of opening another.
        builder = builder.plugin(tauri_plugin_single_instance::init(|app, _args, _cwd| show_main_window(app)));
    }
    let builder = with_commands(builder)
        .plugin(tauri_plugin_window_state::Builder::default().build())
        .plugin(tauri_plugin_opener::init())
        .plugin(links_open_in_the_browser())
        .register_asynchronous_uri_scheme_protocol("attachment", |context, request, responder| {
            let app = context.app_handle().clone();
            // Files are read and thumbnails made off the event loop's thread.
            tauri::async_runtime::spawn_blocking(move || {
                let state = app.try_state::<AppState>();
                responder.respond(
                    app.state::<Arc<Images>>().serve(&request, state.as_ref().map(|state| state.chat.store())),
                );
            });
        })
        .menu(app_menu)
        .on_menu_event(|app, event| match event.id().as_ref() {
            "open-log" => {
                if let Some(state) = app.try_state::<AppState>() {
                    let _ = logging::open_log_folder(app, &state.paths.logs);
                }
            }
            id => {
                let _ = app.emit(&format!("menu://{id}"), ());
            }
        })
        // Tauri panics when setup returns an error, so a failure is shown here and ends the app.
        .setup(move |app| {
            if let Err(error) = setup(app, launch) {
                could_not_start(&error);
                std::process::exit(1);
            }
            Ok(())
        });
    match builder.build(tauri::generate_context!()) {
        Ok(app) => {
            app.run(|app, event| {
                if let tauri::RunEvent::Exit = event {
                    close_store(app);
                }
            });
            ExitCode::SUCCESS
        }
        Err(error) => {
            could_not_start(&error.to_string());
            ExitCode::FAILURE
        }
    }
}

/// Says in a native dialog (and on stderr and in the log) why the app cannot start.
fn could_not_start(error: &str) {
    tracing::error!("the app could not start: {error}");
    eprintln!("Gemma Desk could not start: {error}");
    let _ = rfd::MessageDialog::new()
        .set_level(rfd::MessageLevel::Error)
        .set_title("Gemma Desk could not start")
        .set_description(error)
        .show();
}

/// How long quitting waits for the conversations to be checkpointed and closed.
const CLOSE_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(5);

/// On quit: stops the reply in progress and closes the store, which checkpoints its WAL into the
/// database file, so that the file alone holds every conversation.
fn close_store<R: Runtime>(app: &AppHandle<R>) {
    let Some(state) = app.try_state::<AppState>() else { return };
    state.chat.stop();
    let store = state.chat.store().clone();
    let (closed, finished) = std::sync::mpsc::channel();
    // Waited for on this thread with a plain channel: the event loop's thread has no Tokio
    // reactor for a timer.
    tauri::async_runtime::spawn(async move {
        let _ = closed.send(store.close().await);
    });
    match finished.recv_timeout(CLOSE_TIMEOUT) {
        Ok(Ok(())) => tracing::info!("the conversations were closed"),
        Ok(Err(error)) => tracing::warn!("the conversations could not be checkpointed on quit: {error}"),
        Err(_) => {
            tracing::warn!("closing the conversations took longer than {CLOSE_TIMEOUT:?}; left to SQLite's recovery")
        }
    }
}

fn setup<R: Runtime>(app: &mut tauri::App<R>, launch: Launch) -> Result<(), String> {
    let paths = app.path();
    let logs = paths.app_log_dir().map_err(|e| format!("no log folder: {e}"))?;
    let config = paths.app_config_dir().map_err(|e| format!("no settings folder: {e}"))?;
    let guard = logging::init(&logs)?;
    app.manage(guard);
    tracing::info!(version = env!("CARGO_PKG_VERSION"), "starting");

    let settings_path = config.join("settings.json");
    let (settings, notice) = Settings::load(&settings_path);
    if let Some(notice) = &notice {
        tracing::warn!(reset = ?notice.reset, old_file = %notice.old_file.display(), "{}", notice.reason);
    }
    // A model given at start is remembered once it has loaded, like one chosen in the window.
    let startup_model = launch.model.or_else(|| settings.model.clone());
    let worker = WorkerCommand::current_exe(&["worker"]).map_err(|e| format!("cannot find this program: {e}"))?;
    let paths = AppPaths { settings: settings_path, logs };
    let startup = Startup::new(paths, settings, notice, worker, startup_model);
    // A problem is shown by the window, on its recovery screen.
    tauri::async_runtime::block_on(startup.open(app.handle()));
    app.manage(startup);

    // The window opens only now, so that its first call finds the state in place.
    let window = app.config().app.windows.first().ok_or("tauri.conf.json describes no window")?.clone();
    tauri::WebviewWindowBuilder::from_config(app.handle(), &window)
        .and_then(tauri::WebviewWindowBuilder::build)
        .map_err(|e| format!("cannot open the window: {e}"))?;
    Ok(())
}

fn app_menu<R: Runtime>(app: &AppHandle<R>) -> tauri::Result<Menu<R>> {
    let file = Submenu::with_items(
        app,
        "File",
        true,
        &[
            &MenuItem::with_id(app, "new-chat", "New chat", true, Some("CmdOrCtrl+N"))?,
            &MenuItem::with_id(app, "search", "Search conversations", true, Some("CmdOrCtrl+K"))?,
            &PredefinedMenuItem::separator(app)?,
            &MenuItem::with_id(app, "settings", "Settings…", true, Some("CmdOrCtrl+Comma"))?,
            &PredefinedMenuItem::separator(app)?,
            &PredefinedMenuItem::quit(app, None)?,
        ],
    )?;
    let edit = Submenu::with_items(
        app,
        "Edit",
        true,
        &[
            &PredefinedMenuItem::undo(app, None)?,
            &PredefinedMenuItem::redo(app, None)?,
            &PredefinedMenuItem::separator(app)?,
            &PredefinedMenuItem::cut(app, None)?,
            &PredefinedMenuItem::copy(app, None)?,
            &PredefinedMenuItem::paste(app, None)?,
            &PredefinedMenuItem::select_all(app, None)?,
        ],
    )?;
    let help = Submenu::with_items(
        app,
        "Help",
        true,
        &[&MenuItem::with_id(app, "open-log", "Open log folder", true, None::<&str>)?],
    )?;
    Menu::with_items(app, &[&file, &edit, &help])
}

/// The window never navigates away from the app: web links open in the system browser and
/// anything else is refused.
fn links_open_in_the_browser<R: Runtime>() -> tauri::plugin::TauriPlugin<R> {
    tauri::plugin::Builder::new("navigation-guard")
        .on_navigation(|webview, url| {
            let own = matches!(url.scheme(), "tauri" | "asset")
                || url.host_str() == Some("tauri.localhost")
                || (cfg!(debug_assertions) && url.host_str() == Some("localhost"));
            if own {
                return true;
            }
            if matches!(url.scheme(), "http" | "https" | "mailto") {
                let _ = webview.opener().open_url(url.as_str(), None::<&str>);
            }
            tracing::info!(%url, "navigation refused");
            false
        })
        .build()
}

fn show_main_window<R: Runtime>(app: &AppHandle<R>) {
    if let Some(window) = app.get_webview_window("main") {
        let _ = window.unminimize();
        let _ = window.show();
        let _ = window.set_focus();
    }
}

/// The single-instance plugin talks over the D-Bus session bus on Linux and cannot start
/// without one (a bare X session, some containers); the data folder lock still keeps a second
/// app away from the conversations there.
fn session_bus_reachable() -> bool {
    if !cfg!(target_os = "linux") {
        return true;
    }
    match std::env::var("DBUS_SESSION_BUS_ADDRESS") {
        Ok(address) => address.split(';').any(|part| part.starts_with("unix:") || part.starts_with("tcp:")),
        Err(_) => {
            std::env::var_os("XDG_RUNTIME_DIR").is_some_and(|dir| std::path::Path::new(&dir).join("bus").exists())
        }
    }
}

//! Logs go to a file in the platform's log folder, a new one each day, the last week kept.

use std::path::Path;

use tauri::{AppHandle, Runtime};
use tauri_plugin_opener::OpenerExt;
use tracing_appender::non_blocking::WorkerGuard;
use tracing_appender::rolling::{RollingFileAppender, Rotation};
use tracing_subscriber::EnvFilter;

use crate::error::{AppError, CommandResult};

const LOG_FILES_KEPT: usize = 7;

/// Starts writing logs under `dir` (`gemma-desk.<date>.log`); the guard flushes them on exit.
/// `GEMMA_DESK_LOG` sets the filter (default `info`).
pub fn init(dir: &Path) -> Result<WorkerGuard, String> {
    let appender = RollingFileAppender::builder()
        .rotation(Rotation::DAILY)
        .filename_prefix("gemma-desk")
        .filename_suffix("log")
        .max_log_files(LOG_FILES_KEPT)
        .build(dir)
        .map_err(|e| format!("cannot write logs in {}: {e}", dir.display()))?;
    let (writer, guard) = tracing_appender::non_blocking(appender);
    let filter = EnvFilter::try_from_env("GEMMA_DESK_LOG").unwrap_or_else(|_| EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt().with_env_filter(filter).with_writer(writer).with_ansi(false).try_init();
    let print = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |panic| {
        tracing::error!("panic: {panic}");
        print(panic);
    }));
    Ok(guard)
}

/// Shows the log folder in the file manager.
pub fn open_log_folder<R: Runtime>(app: &AppHandle<R>, dir: &Path) -> CommandResult<()> {
    app.opener()
        .open_path(dir.to_string_lossy(), None::<&str>)
        .map_err(|e| AppError::io(format!("could not open the log folder {}: {e}", dir.display())))
}

//! Native file dialogs (rfd), shown on the main thread as GTK requires.
//!
//! WebDriver cannot reach a native dialog, so tests that drive the window answer them through
//! environment variables instead: `GEMMA_DESK_DIALOG_SAVE_DIR` (save dialogs write the
//! suggested file name there), `GEMMA_DESK_DIALOG_OPEN_FILE` (open dialogs pick that file) and
//! `GEMMA_DESK_DIALOG_FOLDER` (folder dialogs pick that folder).

use std::path::PathBuf;

use serde::Deserialize;
use tauri::{AppHandle, Runtime};
use ts_rs::TS;

use crate::error::{AppError, CommandResult};

const SAVE_DIR_ENV: &str = "GEMMA_DESK_DIALOG_SAVE_DIR";
const OPEN_FILE_ENV: &str = "GEMMA_DESK_DIALOG_OPEN_FILE";
const FOLDER_ENV: &str = "GEMMA_DESK_DIALOG_FOLDER";

/// Which GGUF the user is choosing.
#[derive(Debug, Clone, Copy, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum FileKind {
    /// The model.
    Model,
    /// The multimodal projector.
    Mmproj,
}

/// Asks for a GGUF file.
pub async fn pick_gguf<R: Runtime>(app: &AppHandle<R>, kind: FileKind) -> CommandResult<Option<PathBuf>> {
    let title = match kind {
        FileKind::Model => "Choose a Gemma model (GGUF)",
        FileKind::Mmproj => "Choose the model's projector (mmproj GGUF)",
    };
    open_with_title(app, title, "GGUF model", &["gguf"]).await
}

/// Asks for a file to open.
pub async fn open_file<R: Runtime>(
    app: &AppHandle<R>,
    filter: &str,
    extensions: &[&str],
) -> CommandResult<Option<PathBuf>> {
    open_with_title(app, "Open", filter, extensions).await
}

async fn open_with_title<R: Runtime>(
    app: &AppHandle<R>,
    title: &str,
    filter: &str,
    extensions: &[&str],
) -> CommandResult<Option<PathBuf>> {
    if let Some(file) = std::env::var_os(OPEN_FILE_ENV) {
        return Ok(Some(file.into()));
    }
    let dialog = rfd::FileDialog::new().set_title(title).add_filter(filter, extensions);
    on_main_thread(app, move || dialog.pick_file()).await
}

/// Asks for any one file, titled `title`.
pub async fn open_any_file<R: Runtime>(app: &AppHandle<R>, title: &str) -> CommandResult<Option<PathBuf>> {
    if let Some(file) = std::env::var_os(OPEN_FILE_ENV) {
        return Ok(Some(file.into()));
    }
    let dialog = rfd::FileDialog::new().set_title(title);
    on_main_thread(app, move || dialog.pick_file()).await
}

/// Asks for one or more images. Tests answer it with `GEMMA_DESK_DIALOG_OPEN_FILE`.
pub async fn pick_images<R: Runtime>(app: &AppHandle<R>) -> CommandResult<Vec<PathBuf>> {
    if let Some(file) = std::env::var_os(OPEN_FILE_ENV) {
        return Ok(vec![file.into()]);
    }
    let dialog = rfd::FileDialog::new()
        .set_title("Attach images")
        .add_filter("Images", &["png", "jpg", "jpeg", "webp", "gif", "bmp"]);
    Ok(on_main_thread(app, move || dialog.pick_files()).await?.unwrap_or_default())
}

/// Asks where to save a file, suggesting `name`.
pub async fn save_file<R: Runtime>(app: &AppHandle<R>, title: &str, name: &str) -> CommandResult<Option<PathBuf>> {
    if let Some(dir) = std::env::var_os(SAVE_DIR_ENV) {
        return Ok(Some(PathBuf::from(dir).join(name)));
    }
    let dialog = rfd::FileDialog::new().set_title(title).set_file_name(name);
    on_main_thread(app, move || dialog.save_file()).await
}

/// Asks for a folder.
pub async fn pick_folder<R: Runtime>(app: &AppHandle<R>, title: &str) -> CommandResult<Option<PathBuf>> {
    if let Some(folder) = std::env::var_os(FOLDER_ENV) {
        return Ok(Some(folder.into()));
    }
    let dialog = rfd::FileDialog::new().set_title(title);
    on_main_thread(app, move || dialog.pick_folder()).await
}

async fn on_main_thread<R: Runtime, T: Send + 'static>(
    app: &AppHandle<R>,
    show: impl FnOnce() -> T + Send + 'static,
) -> CommandResult<T> {
    let (answer, answered) = tokio::sync::oneshot::channel();
    app.run_on_main_thread(move || {
        let _ = answer.send(show());
    })
    .map_err(|e| AppError::io(format!("could not show the file dialog: {e}")))?;
    answered.await.map_err(|_| AppError::io("the file dialog closed without an answer"))
}

/// A file name made from a conversation title: no path separators or control characters.
pub fn file_name_from(title: &str) -> String {
    let cleaned: String =
        title.chars().map(|c| if c.is_control() || "/\\:*?\"<>|".contains(c) { '_' } else { c }).take(80).collect();
    let cleaned = cleaned.trim().trim_matches('.');
    if cleaned.is_empty() { "conversation".into() } else { cleaned.into() }
}

#[cfg(test)]
mod tests {
    use super::file_name_from;

    #[test]
    fn titles_become_safe_file_names() {
        assert_eq!(file_name_from("Trip to Paris"), "Trip to Paris");
        assert_eq!(file_name_from("../../etc/passwd"), "_.._etc_passwd");
        assert_eq!(file_name_from("a\nb:c"), "a_b_c");
        assert_eq!(file_name_from("..."), "conversation");
        assert_eq!(file_name_from(&"x".repeat(300)).len(), 80);
    }
}

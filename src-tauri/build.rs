// Declares the app's commands so that capabilities (src-tauri/capabilities/) must grant each one
// the window may call: a command left out of them is refused.
const COMMANDS: &[&str] = &[
    "app_state",
    "save_settings",
    "pick_model_file",
    "load_model",
    "engine_status",
    "list_conversations",
    "create_conversation",
    "open_conversation",
    "rename_conversation",
    "set_pinned",
    "set_system_prompt",
    "delete_conversation",
    "restore_conversation",
    "search_messages",
    "send_message",
    "attach_images",
    "pick_images",
    "paste_image",
    "discard_image",
    "regenerate_reply",
    "edit_message",
    "answer_tool_call",
    "stop_reply",
    "switch_branch",
    "sibling_ids",
    "export_conversation",
    "import_conversation",
    "open_external",
    "open_log",
    "backup_conversations",
    "audio_devices",
    "start_recording",
    "finish_recording",
    "cancel_recording",
    "speak_text",
    "stop_speaking",
    "startup_problem",
    "recover_startup",
    "models_overview",
    "download_model",
    "pause_download",
    "cancel_download",
    "use_model",
    "delete_model",
    "import_model",
];

fn main() {
    let attributes = tauri_build::Attributes::new()
        .capabilities_path_pattern("src-tauri/capabilities/*.json")
        .app_manifest(tauri_build::AppManifest::new().commands(COMMANDS));
    tauri_build::try_build(attributes).expect("the Tauri build step succeeds");
    // llama.cpp's shared libraries lie beside the executable in a build (see the engine's build
    // script), and in /usr/lib/gemma-desk when installed from a Linux package.
    match std::env::var("CARGO_CFG_TARGET_OS").as_deref() {
        Ok("linux") => println!("cargo:rustc-link-arg-bins=-Wl,-rpath,$ORIGIN:$ORIGIN/../lib/gemma-desk"),
        Ok("macos") => println!("cargo:rustc-link-arg-bins=-Wl,-rpath,@executable_path"),
        _ => {}
    }
}

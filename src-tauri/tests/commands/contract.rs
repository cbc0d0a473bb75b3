//! The contract between the shell and the window is written down once and checked: the
//! TypeScript types are generated from the Rust ones, and every place that names the commands
//! names the same ones.

use std::collections::BTreeSet;
use std::path::Path;

use gemma_desk_app::contract::{TYPESCRIPT_FILE, typescript};

/// Set to rewrite the generated TypeScript instead of comparing it.
const WRITE_ENV: &str = "GEMMA_DESK_WRITE_TS";

fn repository_file(path: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(path);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()))
}

#[test]
fn the_generated_typescript_matches_the_rust_types() {
    let generated = typescript();
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(TYPESCRIPT_FILE);
    if std::env::var_os(WRITE_ENV).is_some_and(|value| value == "1") {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, &generated).unwrap();
        return;
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    if committed != generated {
        let first = committed.lines().zip(generated.lines()).position(|(a, b)| a != b);
        let line = first.unwrap_or(committed.lines().count().min(generated.lines().count()));
        panic!(
            "{TYPESCRIPT_FILE} is not what the Rust types generate (first difference at line {}: {:?} \
             where the Rust types give {:?}); run the test with {WRITE_ENV}=1 to write it again",
            line + 1,
            committed.lines().nth(line).unwrap_or("<end of file>"),
            generated.lines().nth(line).unwrap_or("<end of file>"),
        );
    }
}

#[test]
fn every_list_of_commands_names_the_same_commands() {
    let registered = registered_commands(&repository_file("src-tauri/src/lib.rs"));
    assert!(registered.len() > 20, "the shell registers the app's commands: {registered:?}");
    let lists = [
        ("src-tauri/build.rs (COMMANDS)", build_script_commands(&repository_file("src-tauri/build.rs"))),
        (
            "src-tauri/capabilities/main-window.json (allow-...)",
            granted_commands(&repository_file("src-tauri/capabilities/main-window.json")),
        ),
        ("ui/src/lib/ipc.ts (COMMANDS)", ui_commands(&repository_file("ui/src/lib/ipc.ts"))),
    ];
    for (place, commands) in lists {
        // A command missing from build.rs or the capability is refused as "not allowed" at run
        // time; one missing from the UI's list cannot be called from the window.
        let missing: Vec<_> = registered.difference(&commands).collect();
        let extra: Vec<_> = commands.difference(&registered).collect();
        assert!(
            missing.is_empty() && extra.is_empty(),
            "{place} disagrees with the commands registered in src-tauri/src/lib.rs \
             (tauri::generate_handler!): missing {missing:?}, not registered {extra:?}"
        );
    }
}

#[test]
fn the_window_calls_every_command_it_lists() {
    let ipc = repository_file("ui/src/lib/ipc.ts");
    let (before, list) = ipc.split_once("export const COMMANDS = [").expect("ipc.ts exports COMMANDS");
    let (_, after) = list.split_once("] as const").expect("COMMANDS ends with `] as const`");
    let calls = [before, after].concat();
    for command in ui_commands(&ipc) {
        assert!(
            calls.contains(&format!("('{command}'")),
            "ui/src/lib/ipc.ts lists {command} in COMMANDS but no function there calls it"
        );
    }
}

/// The last path segment of each entry of `tauri::generate_handler![...]`.
fn registered_commands(lib: &str) -> BTreeSet<String> {
    let (_, list) = lib.split_once("generate_handler![").expect("lib.rs calls tauri::generate_handler!");
    let (list, _) = list.split_once(']').unwrap();
    list.split(',')
        .map(str::trim)
        .filter(|entry| !entry.is_empty())
        .map(|entry| entry.rsplit("::").next().unwrap().to_owned())
        .collect()
}

fn build_script_commands(build: &str) -> BTreeSet<String> {
    let (_, list) = build.split_once("const COMMANDS: &[&str] = &[").expect("build.rs declares COMMANDS");
    quoted(list.split_once("];").unwrap().0, '"')
}

/// The app's own commands that the capability grants (`allow-send-message`: `send_message`).
fn granted_commands(capability: &str) -> BTreeSet<String> {
    let capability: serde_json::Value = serde_json::from_str(capability).expect("the capability is JSON");
    let permissions = capability["permissions"].as_array().expect("the capability lists permissions");
    permissions
        .iter()
        .filter_map(|permission| permission.as_str()?.strip_prefix("allow-"))
        .map(|command| command.replace('-', "_"))
        .collect()
}

fn ui_commands(ipc: &str) -> BTreeSet<String> {
    let (_, list) = ipc.split_once("export const COMMANDS = [").expect("ipc.ts exports COMMANDS");
    quoted(list.split_once("] as const").unwrap().0, '\'')
}

/// Every string between two `quote`s.
fn quoted(text: &str, quote: char) -> BTreeSet<String> {
    text.split(quote).skip(1).step_by(2).map(str::to_owned).collect()
}

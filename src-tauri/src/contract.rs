//! The IPC contract in TypeScript: every type that crosses between the shell and the window
//! (the commands' arguments and answers, the channels' events, the error), rendered by ts-rs from
//! the Rust definitions into one file, [`TYPESCRIPT_FILE`].
//!
//! Nothing writes it during a build or an ordinary test run: the test `contract` in the app's
//! command tests (`src-tauri/tests/commands/contract.rs`) fails while the committed file differs
//! from [`typescript`], and rewrites it when `GEMMA_DESK_WRITE_TS=1` is set.

use std::any::TypeId;
use std::collections::{BTreeMap, HashSet};

use gemma_desk_chat::{ChatEvent, EngineStatus, ModelChoice, ToolDecision};
use gemma_desk_models::library::InstalledModel;
use gemma_desk_models::{DownloadOutcome, ImportMode, Progress};
use gemma_desk_settings::Settings;
use gemma_desk_store::{BranchMessage, Conversation, Message, SearchHit};
use ts_rs::{Config, TS, TypeVisitor};

use crate::commands::{AppView, BackupDone, ExportFormat, OpenConversation};
use crate::dialogs::FileKind;
use crate::error::AppError;
use crate::images::{Attached, PendingClip, PendingImage};
use crate::models::ModelsOverview;
use crate::startup::{Recovery, StartupProblem};
use crate::voice::{RecordedClip, RecordingProgress, SpeechState};

/// Where the generated file lies, from the repository root.
pub const TYPESCRIPT_FILE: &str = "ui/src/lib/generated/ipc.ts";

/// How to write the file again, as its header says.
const REGENERATE: &str = "GEMMA_DESK_WRITE_TS=1 cargo test --release -p gemma-desk --features gemma-desk/custom-protocol --test commands contract";

/// The generated file's text: a header, then every type of the contract and every type they
/// use, in alphabetical order.
pub fn typescript() -> String {
    let mut types = Types::new();
    // Arguments of the commands.
    types.add::<Settings>();
    types.add::<ModelChoice>();
    types.add::<FileKind>();
    types.add::<ExportFormat>();
    types.add::<ImportMode>();
    types.add::<Recovery>();
    types.add::<ToolDecision>();
    // Answers.
    types.add::<AppView>();
    types.add::<EngineStatus>();
    types.add::<Conversation>();
    types.add::<OpenConversation>();
    types.add::<BranchMessage>();
    types.add::<SearchHit>();
    types.add::<Message>();
    types.add::<ModelsOverview>();
    types.add::<DownloadOutcome>();
    types.add::<InstalledModel>();
    types.add::<StartupProblem>();
    types.add::<BackupDone>();
    types.add::<Attached>();
    types.add::<PendingImage>();
    types.add::<PendingClip>();
    types.add::<RecordedClip>();
    types.add::<gemma_desk_voice::AudioDevices>();
    // What the channels and events carry: a reply's events, a download's progress, a
    // recording's progress, the speaker's state.
    types.add::<ChatEvent>();
    types.add::<Progress>();
    types.add::<RecordingProgress>();
    types.add::<SpeechState>();
    // Every failure.
    types.add::<AppError>();

    let mut text = format!(
        "// Generated from the Rust types that cross IPC (src-tauri/src/contract.rs); do not edit.\n\
         // After changing one of them, write this file again:\n\
         //   {REGENERATE}\n"
    );
    for declaration in types.declarations.values() {
        text.push('\n');
        text.push_str(declaration);
        text.push('\n');
    }
    text
}

/// The declarations collected so far, by TypeScript name.
struct Types {
    config: Config,
    seen: HashSet<TypeId>,
    declarations: BTreeMap<String, String>,
}

impl Types {
    fn new() -> Types {
        // Ids, sizes and times are i64/u64 in Rust but never beyond 2^53: plain numbers.
        let config = Config::new().with_large_int("number");
        Types { config, seen: HashSet::new(), declarations: BTreeMap::new() }
    }

    fn add<T: TS + 'static>(&mut self) {
        self.visit::<T>();
    }
}

impl TypeVisitor for Types {
    fn visit<T: TS + 'static + ?Sized>(&mut self) {
        // Types without a declaration of their own (numbers, strings, Option, Vec) are written
        // inline; only their parameters matter, and ts-rs visits those separately.
        if T::output_path().is_none() || !self.seen.insert(TypeId::of::<T>()) {
            return;
        }
        let name = T::ident(&self.config);
        let declaration = format!("{}export {}", T::docs().unwrap_or_default(), indented(&T::decl(&self.config)));
        // The same declaration under two Rust types is one type (ts-rs declares serde_json's
        // `Value` through a stand-in); two different ones would overwrite each other.
        if let Some(other) = self.declarations.insert(name.clone(), declaration.clone())
            && other != declaration
        {
            panic!("two Rust types are both called {name} in TypeScript; give one a #[ts(rename)]");
        }
        T::visit_dependencies(self);
    }
}

/// ts-rs writes a record's field documentation on lines of their own, at the margin: indent
/// them under the declaration's first line (and drop the trailing spaces).
fn indented(declaration: &str) -> String {
    let mut lines = declaration.lines().map(str::trim_end);
    let mut text = lines.next().unwrap_or_default().to_owned();
    for line in lines {
        text.push_str("\n  ");
        text.push_str(line);
    }
    text
}

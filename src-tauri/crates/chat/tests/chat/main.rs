//! The chat service over the real store, the real worker process and the real model.
//!
//! This test binary is also the engine worker: started as `chat worker`, it serves the engine
//! protocol, so the tests drive the same two-process setup the app runs.

mod audio;
mod branches;
mod failures;
mod replies;
mod tools;
mod transcription;

use std::sync::Arc;

use gemma_desk_chat::{Chat, ChatEvent, EngineTuning, ModelChoice};
use gemma_desk_engine::{SamplingParams, WorkerCommand};
use gemma_desk_store::{Conversation, Store};
use libtest_mimic::{Arguments, Trial};

fn main() {
    if std::env::args().nth(1).as_deref() == Some("worker") {
        std::process::exit(gemma_desk_engine::run_worker());
    }
    let tests = [replies::tests(), branches::tests(), failures::tests(), audio::tests(), transcription::tests(), tools::tests()].into_iter().flatten().collect();
    libtest_mimic::run(&Arguments::from_args(), tests).exit();
}

/// A test that runs on its own Tokio runtime.
pub fn trial<F: Future<Output = ()> + 'static>(name: &'static str, test: fn() -> F) -> Trial {
    Trial::test(name, move || {
        tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap().block_on(test());
        Ok(())
    })
}

pub use gemma_desk_testing::test_model;

/// A chat over a fresh store in a temporary folder; workers are this test binary.
pub struct Fixture {
    pub chat: Arc<Chat>,
    pub _dir: tempfile::TempDir,
}

impl Fixture {
    pub async fn new() -> Fixture {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).await.unwrap();
        let worker = WorkerCommand::current_exe(&["worker"]).unwrap();
        Fixture { chat: Arc::new(Chat::new(store, worker)), _dir: dir }
    }

    /// With the test model loaded.
    pub async fn loaded() -> Fixture {
        let fixture = Fixture::new().await;
        let choice = ModelChoice { model: test_model(), mmproj: None };
        let tuning = EngineTuning { context_size: Some(2048), threads: Some(2), gpu_layers: None, image_tokens: None };
        fixture.chat.load_model(&choice, tuning).await.expect("the test model loads");
        fixture
    }

    pub async fn conversation(&self, system: Option<&str>) -> Conversation {
        let settings =
            gemma_desk_store::ConversationSettings { system_prompt: system.map(str::to_owned), ..Default::default() };
        self.chat.store().create_conversation(None, Some("test"), &settings, gemma_desk_chat::now()).await.unwrap()
    }
}

pub fn greedy(max_tokens: u32) -> SamplingParams {
    SamplingParams { greedy: true, max_tokens: Some(max_tokens), ..Default::default() }
}

/// The text of the `Token` events.
pub fn streamed_text(events: &[ChatEvent]) -> String {
    events
        .iter()
        .filter_map(|event| match event {
            ChatEvent::Token { text } => Some(text.as_str()),
            _ => None,
        })
        .collect()
}

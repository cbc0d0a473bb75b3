//! The conversation a chat keeps: in memory for the engine, and, with a store, on disk as it
//! happens: the user's message is committed before the reply starts, and the reply is saved
//! while it streams.

use std::io::Write;

use anyhow::Context;
use gemma_desk_chat::{reply_stats, reply_status};
use gemma_desk_engine::{ChatMessage, RenderOptions, Reply, SamplingParams, WorkerClient};
use gemma_desk_store::{
    ConversationId, ConversationSettings, MessageId, MessageStatus, ReplyRecorder, ReplyStats, Role, Store,
};
use tokio::runtime::Runtime;

use gemma_desk_chat::now;

/// A conversation being had.
pub struct Transcript {
    system: Option<String>,
    messages: Vec<ChatMessage>,
    stored: Option<Stored>,
}

/// Where a stored conversation is.
struct Stored {
    runtime: Runtime,
    store: Store,
    conversation: ConversationId,
    leaf: Option<MessageId>,
    model: String,
    settings: ConversationSettings,
}

impl Transcript {
    /// A conversation kept in memory only.
    pub fn in_memory(system: Option<String>) -> Self {
        Transcript { system, messages: Vec::new(), stored: None }
    }

    /// A new conversation in `store`.
    pub fn create(
        runtime: Runtime,
        store: Store,
        system: Option<String>,
        model: String,
        sampling: &SamplingParams,
    ) -> anyhow::Result<Self> {
        let settings =
            ConversationSettings { system_prompt: system.clone(), sampling: serde_json::to_value(sampling)? };
        let conversation = runtime.block_on(store.create_conversation(None, Some(&model), &settings, now()))?;
        let stored = Stored { runtime, store, conversation: conversation.id, leaf: None, model, settings };
        Ok(Transcript { system, messages: Vec::new(), stored: Some(stored) })
    }

    /// A stored conversation, resumed on its current branch. `system` replaces its system prompt.
    pub fn resume(
        runtime: Runtime,
        store: Store,
        id: ConversationId,
        system: Option<String>,
        model: String,
    ) -> anyhow::Result<Self> {
        let conversation = runtime.block_on(store.conversation(id))?;
        if conversation.deleted_at.is_some() {
            anyhow::bail!("conversation {id} is deleted; restore it before continuing it");
        }
        let branch = runtime.block_on(store.current_branch(id))?;
        let mut settings = conversation.settings;
        if system.is_some() {
            settings.system_prompt = system;
            runtime.block_on(store.update_settings(id, Some(&model), &settings, now()))?;
        }
        let messages = branch
            .iter()
            .map(|entry| ChatMessage::new(entry.message.role.as_str(), entry.message.content.clone()))
            .collect();
        let leaf = branch.last().map(|entry| entry.message.id);
        let system = settings.system_prompt.clone();
        let stored = Stored { runtime, store, conversation: id, leaf, model, settings };
        Ok(Transcript { system, messages, stored: Some(stored) })
    }

    /// The stored conversation's id, if stored.
    pub fn conversation_id(&self) -> Option<ConversationId> {
        self.stored.as_ref().map(|stored| stored.conversation)
    }

    /// Messages so far (without the system prompt).
    pub fn len(&self) -> usize {
        self.messages.len()
    }

    /// Starts over: an empty conversation (a new one in the store).
    pub fn clear(&mut self) -> anyhow::Result<()> {
        self.messages.clear();
        if let Some(stored) = &mut self.stored {
            let conversation = stored.runtime.block_on(stored.store.create_conversation(
                None,
                Some(&stored.model),
                &stored.settings,
                now(),
            ))?;
            stored.conversation = conversation.id;
            stored.leaf = None;
        }
        Ok(())
    }

    /// Adds the user's message (committed to the store before anything else happens).
    pub fn add_user(&mut self, text: &str) -> anyhow::Result<()> {
        if let Some(stored) = &mut self.stored {
            let message = stored.runtime.block_on(stored.store.add_message(
                stored.conversation,
                stored.leaf,
                Role::User,
                text,
                now(),
            ))?;
            stored.leaf = Some(message.id);
        }
        self.messages.push(ChatMessage::user(text));
        Ok(())
    }

    /// Generates the reply to the conversation, printing it as it streams (and saving it).
    pub fn reply(&mut self, engine: &mut WorkerClient, sampling: &SamplingParams) -> anyhow::Result<Reply> {
        let prompt: Vec<ChatMessage> =
            self.system.iter().map(ChatMessage::system).chain(self.messages.iter().cloned()).collect();
        let mut stdout = std::io::stdout();
        let mut print = |text: &str| {
            let _ = stdout.write_all(text.as_bytes());
            let _ = stdout.flush();
        };
        let result = match &mut self.stored {
            None => engine.generate(&prompt, &RenderOptions::default(), sampling, print).map_err(anyhow::Error::from),
            Some(stored) => {
                let parent = stored.leaf.context("a reply needs a user message first")?;
                let runtime = &stored.runtime;
                let mut recorder = runtime.block_on(ReplyRecorder::begin(
                    &stored.store,
                    stored.conversation,
                    parent,
                    Some(&stored.model),
                    now(),
                ))?;
                let mut save_error = None;
                let generated = engine.generate(&prompt, &RenderOptions::default(), sampling, |text| {
                    print(text);
                    if let Err(error) = runtime.block_on(recorder.push(text, now())) {
                        save_error.get_or_insert(error);
                    }
                });
                stored.leaf = Some(recorder.message_id());
                let (status, error, stats) = match &generated {
                    Ok(reply) => (reply_status(reply.stop_reason), None, reply_stats(reply.figures.as_ref())),
                    Err(error) => (MessageStatus::Error, Some(error.to_string()), ReplyStats::default()),
                };
                runtime.block_on(recorder.finish(status, error.as_deref(), &stats, now()))?;
                if let Some(error) = save_error {
                    return Err(anyhow::Error::from(error).context("the reply could not be saved as it streamed"));
                }
                generated.map_err(anyhow::Error::from)
            }
        };
        match result {
            Ok(reply) => {
                self.messages.push(ChatMessage::assistant(reply.text.clone()));
                Ok(reply)
            }
            Err(error) => {
                if self.stored.is_some() {
                    // The stored branch now ends with the failed (empty) reply: mirror it so
                    // that roles keep alternating.
                    self.messages.push(ChatMessage::assistant(""));
                } else {
                    self.messages.pop();
                }
                Err(error)
            }
        }
    }
}

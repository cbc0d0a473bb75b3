// Generated from the Rust types that cross IPC (src-tauri/src/contract.rs); do not edit.
// After changing one of them, write this file again:
//   GEMMA_DESK_WRITE_TS=1 cargo test --release -p gemma-desk --features gemma-desk/custom-protocol --test commands contract

/**
 * A command's failure, as the UI receives it.
 */
export type AppError = {
  /**
   * What kind of failure, for the UI to act on.
   */
  code: ErrorCode,
  /**
   * What happened and what to do, in words.
   */
  message: string, };

/**
 * Everything the window needs to start.
 */
export type AppView = { version: string, settings: Settings, builtin_presets: Array<Preset>, sampling_defaults: Sampling, engine: EngineStatus, data_dir: string, log_file: string,
  /**
   * The most characters (Unicode scalar values, as Rust counts them) one message may hold.
   */
  max_message_chars: number,
  /**
   * The image-token budgets Gemma 4 offers (the `image_tokens` setting).
   */
  image_token_budgets: Array<number>,
  /**
   * What loading the settings file repaired, to say once.
   */
  settings_notice: SettingsNotice | null, };

/**
 * What attaching a set of files gave: the images and clips, and why the others were refused.
 */
export type Attached = {
  /**
   * The images now attached.
   */
  images: Array<PendingImage>,
  /**
   * The sound clips now attached.
   */
  clips: Array<PendingClip>,
  /**
   * One message per file refused, naming it.
   */
  refused: Array<string>, };

/**
 * A file attached to a message (an image or an audio clip), stored once by content.
 */
export type Attachment = {
  /**
   * Its id.
   */
  id: number,
  /**
   * The message it belongs to.
   */
  message_id: number,
  /**
   * The file's sha256 (hex), which is also its file name.
   */
  sha256: string,
  /**
   * e.g. `image/png`, `audio/wav`.
   */
  media_type: string,
  /**
   * Bytes.
   */
  size: number,
  /**
   * Pixels (images).
   */
  width: number | null,
  /**
   * Pixels (images).
   */
  height: number | null,
  /**
   * Milliseconds (audio).
   */
  duration_ms: number | null,
  /**
   * The name it was given (e.g. the dropped file's).
   */
  name: string | null,
  /**
   * When it was added.
   */
  created_at: number, };

/**
 * An input or output device as the system names it.
 */
export type AudioDevice = {
  /**
   * Stable across runs; what Settings keeps.
   */
  id: string, name: string, is_default: boolean, };

/**
 * The system's sound devices. A host that cannot be reached gives empty lists, not an error:
 * a machine without sound hardware is an ordinary case.
 */
export type AudioDevices = { inputs: Array<AudioDevice>, outputs: Array<AudioDevice>, };

/**
 * What a backup wrote, for the window to say.
 */
export type BackupDone = {
  /**
   * The copy of the database.
   */
  database: string,
  /**
   * Its attachments folder.
   */
  attachments: string,
  /**
   * How many conversations it holds.
   */
  conversations: number, };

/**
 * A message of the current branch, with its place among its siblings ("2 / 3").
 */
export type BranchMessage = {
  /**
   * The message.
   */
  message: Message,
  /**
   * Its 1-based position among the messages sharing its parent, oldest first.
   */
  sibling_index: number,
  /**
   * How many messages share its parent (1 when there is no branch).
   */
  sibling_count: number,
  /**
   * Its attachments.
   */
  attachments: Array<Attachment>, };

/**
 * Something a model can do.
 */
export type Capability = "text" | "vision" | "audio" | "tools" | "thinking";

/**
 * A catalog model with its verdict for this machine.
 */
export type CatalogView = { id: string, name: string, family: string, caps: Array<Capability>, context: number, licence: LicenceView, download_bytes: number, files: Array<FileView>,
  /**
   * Judged with its projector, which is downloaded with it.
   */
  fit: Fit, };

/**
 * What the caller hears while a reply is made, in this order: maybe `Transcribing`, `Started`,
 * maybe `Loading`, `Token`s (and `Notice`s), then `Finished`. A reply that calls tools ends
 * with `ToolCalls` instead; each call then has maybe `ConfirmTool` and its `ToolResult`, and
 * the next reply begins with `Continued`.
 */
export type ChatEvent = { "event": "transcribing",
  /**
   * The model transcribing.
   */
  model: string, } | { "event": "started",
  /**
   * The stored user message (`None` when regenerating).
   */
  user: Message | null,
  /**
   * The images and sound clips stored with the user message.
   */
  user_attachments: Array<Attachment>,
  /**
   * The reply, status `streaming`.
   */
  reply: Message, } | { "event": "loading" } | { "event": "token",
  /**
   * Complete UTF-8 text.
   */
  text: string, } | { "event": "notice",
  /**
   * In words.
   */
  message: string, } | { "event": "tool_calls",
  /**
   * The stored reply.
   */
  reply: Message, } | { "event": "confirm_tool",
  /**
   * The call.
   */
  call: StoredToolCall,
  /**
   * The call runs on a file the user picks (given with the answer); asked every time.
   */
  picks_file: boolean, } | { "event": "tool_result",
  /**
   * The tool message.
   */
  message: Message, } | { "event": "continued",
  /**
   * The reply.
   */
  reply: Message, } | { "event": "finished",
  /**
   * The stored reply.
   */
  reply: Message,
  /**
   * Why the engine died, when it did (the text so far is kept; the next reply starts a
   * fresh engine).
   */
  engine_died: string | null,
  /**
   * Why the engine stopped the reply (`None` when it failed before generating).
   */
  stop_reason: StopReason | null,
  /**
   * What llama.cpp said went wrong, when the reply failed or the engine died.
   */
  failure: Failure | null, };

/**
 * A conversation (without its messages).
 */
export type Conversation = {
  /**
   * Its id.
   */
  id: number,
  /**
   * Its title (by default the start of the first user message).
   */
  title: string,
  /**
   * When it was created.
   */
  created_at: number,
  /**
   * When it last changed.
   */
  updated_at: number,
  /**
   * Pinned conversations are listed first.
   */
  pinned: boolean,
  /**
   * The model last used.
   */
  model: string | null,
  /**
   * System prompt and sampling.
   */
  settings: ConversationSettings,
  /**
   * The leaf of the branch shown.
   */
  current_leaf_id: number | null,
  /**
   * Set while the conversation is deleted (undoable until purged).
   */
  deleted_at: number | null, };

/**
 * A conversation's settings: what it was run with.
 */
export type ConversationSettings = {
  /**
   * The system prompt, if any.
   */
  system_prompt: string | null,
  /**
   * Sampling overrides, as the engine's `SamplingParams` JSON.
   */
  sampling: JsonValue, };

/**
 * What a model is, from its GGUF header (and the catalog, for catalog models).
 */
export type Description = {
  /**
   * `general.architecture`, e.g. `gemma3`.
   */
  architecture: string,
  /**
   * The quantisation, e.g. `Q4_K_M`.
   */
  quantization: string | null,
  /**
   * Training context length, in tokens.
   */
  context_length: number | null,
  /**
   * Layers.
   */
  layers: number | null,
  /**
   * What it can do.
   */
  caps: Array<Capability>,
  /**
   * Its licence, when known.
   */
  licence: Licence | null, };

/**
 * How a download ended, when it did not fail.
 */
export type DownloadOutcome = {
  /**
   * Where it stopped.
   */
  status: DownloadStatus,
  /**
   * The installed model, when it was installed.
   */
  model: InstalledModel | null, };

/**
 * Where a download that did not fail stopped.
 */
export type DownloadStatus = "installed" | "paused" | "cancelled";

/**
 * Where the engine is.
 */
export type EngineState = "none" | "loading" | "ready" | "failed";

/**
 * The engine's state as the UI shows it.
 */
export type EngineStatus = {
  /**
   * Where it is.
   */
  state: EngineState,
  /**
   * The model chosen.
   */
  choice: ModelChoice | null,
  /**
   * The loaded model.
   */
  info: ModelInfo | null,
  /**
   * Why the last load failed.
   */
  error: string | null,
  /**
   * What llama.cpp said went wrong in the last load, when it said.
   */
  failure: Failure | null, };

/**
 * The classes of failure the UI tells apart. `ui/src/lib/errors.ts` has one row for each, and
 * its check fails until a new one has its row.
 */
export type ErrorCode = "bad_input" | "not_found" | "busy" | "no_model" | "cannot_see" | "cannot_hear" | "microphone" | "nothing_recorded" | "speech" | "engine" | "out_of_memory" | "unsupported_architecture" | "projector_mismatch" | "gpu_lost" | "store" | "io" | "download" | "unauthorized" | "no_space" | "network" | "hash_mismatch" | "cancelled";

/**
 * Export formats.
 */
export type ExportFormat = "markdown" | "json";

/**
 * A llama.cpp failure the user can do something about.
 */
export type Failure = "out_of_memory" | "unsupported_architecture" | "projector_mismatch" | "device_lost";

/**
 * Which GGUF the user is choosing.
 */
export type FileKind = "model" | "mmproj";

/**
 * A file of a catalog model, with its published size and hash when known.
 */
export type FileView = { name: string, bytes: number | null, sha256: string | null, };

/**
 * One model judged against this machine.
 */
export type Fit = {
  /**
   * The catalog id.
   */
  model: string,
  /**
   * Memory it needs.
   */
  estimate: MemoryEstimate,
  /**
   * Where it would run.
   */
  placement: Placement,
  /**
   * The verdict.
   */
  verdict: Verdict,
  /**
   * A rough decode speed, tokens per second, when it runs on the CPU.
   */
  cpu_tokens_per_second: number | null,
  /**
   * The verdict in plain words.
   */
  explanation: string, };

/**
 * A GPU llama.cpp can offload layers to.
 */
export type Gpu = {
  /**
   * llama.cpp's device name, e.g. `CUDA0`.
   */
  name: string,
  /**
   * What it is, e.g. `NVIDIA GeForce RTX 4070`.
   */
  description: string,
  /**
   * `CUDA`, `Vulkan`, `Metal`, ...
   */
  backend: string,
  /**
   * It shares the system's memory (integrated graphics, Apple silicon).
   */
  integrated: boolean,
  /**
   * Its memory in bytes.
   */
  memory_total: number,
  /**
   * Its free memory in bytes.
   */
  memory_free: number, };

/**
 * The machine, as far as running a model goes.
 */
export type Hardware = {
  /**
   * Installed memory in bytes.
   */
  ram_total: number,
  /**
   * Memory other programs leave free now, in bytes.
   */
  ram_available: number,
  /**
   * The processor's name.
   */
  cpu: string,
  /**
   * Its logical cores.
   */
  cpu_threads: number,
  /**
   * Its physical cores: the threads llama.cpp decodes with by default.
   */
  cpu_cores: number,
  /**
   * How fast its cores together read memory, in bytes per second, measured at the probe:
   * what bounds decoding on the CPU.
   */
  memory_read_bytes_per_second: number,
  /**
   * The bytes of weights per second decoding has really read here: the median over recent
   * replies of their tokens per second times their model's bytes per token. `None` before the
   * first reply.
   */
  decode_bytes_per_second_seen: number | null,
  /**
   * The GPUs llama.cpp can offload to.
   */
  gpus: Array<Gpu>,
  /**
   * Why no GPU can be used although the probe was asked, e.g. a driver that failed.
   */
  gpu_problem: string | null, };

/**
 * How an imported file is kept.
 */
export type ImportMode = "copy" | "link";

/**
 * One file of an installed model.
 */
export type InstalledFile = {
  /**
   * The file: a name inside the model's folder, or an absolute path for a linked import.
   */
  path: string,
  /**
   * Its size.
   */
  bytes: number,
  /**
   * Its sha256, when known (always for downloads).
   */
  sha256: string | null,
  /**
   * The hash was checked against a published one.
   */
  sha256_published: boolean, };

/**
 * An installed model with where its files are now.
 */
export type InstalledModel = {
  /**
   * The model file's full path.
   */
  model_path: string,
  /**
   * The projector's full path.
   */
  mmproj_path: string | null,
  /**
   * Bytes this model takes in the models folder (a linked import's files are not counted).
   */
  disk_bytes: number,
  /**
   * Files of a linked import that are gone.
   */
  missing: Array<string>,
  /**
   * The folder name: the catalog id, or a name made from an imported file.
   */
  id: string,
  /**
   * What people call it.
   */
  name: string,
  /**
   * Where it came from.
   */
  source: Source,
  /**
   * The model GGUF.
   */
  model: InstalledFile,
  /**
   * Its projector (mmproj), if any.
   */
  mmproj: InstalledFile | null,
  /**
   * What its files say about it.
   */
  description: Description,
  /**
   * Seconds since 1970 when it was installed: when its manifest was written.
   */
  installed_at: number, };

/**
 * An installed model, and whether it is the one chosen.
 */
export type InstalledView = { is_default: boolean,
  /**
   * The model file's full path.
   */
  model_path: string,
  /**
   * The projector's full path.
   */
  mmproj_path: string | null,
  /**
   * Bytes this model takes in the models folder (a linked import's files are not counted).
   */
  disk_bytes: number,
  /**
   * Files of a linked import that are gone.
   */
  missing: Array<string>,
  /**
   * The folder name: the catalog id, or a name made from an imported file.
   */
  id: string,
  /**
   * What people call it.
   */
  name: string,
  /**
   * Where it came from.
   */
  source: Source,
  /**
   * The model GGUF.
   */
  model: InstalledFile,
  /**
   * Its projector (mmproj), if any.
   */
  mmproj: InstalledFile | null,
  /**
   * What its files say about it.
   */
  description: Description,
  /**
   * Seconds since 1970 when it was installed: when its manifest was written.
   */
  installed_at: number, };

export type JsonValue = number | string | boolean | Array<JsonValue> | { [key in string]: JsonValue } | null;

/**
 * The licence a model is published under.
 */
export type Licence = "gemma" | "apache-2.0";

/**
 * A model's licence: its id, its name and where to read it.
 */
export type LicenceView = { id: Licence, name: string, url: string, };

/**
 * Memory a model needs, in bytes.
 */
export type MemoryEstimate = {
  /**
   * The context the KV cache is sized for.
   */
  context: number,
  /**
   * The model's weights.
   */
  weights: number,
  /**
   * The projector (mmproj).
   */
  projector: number,
  /**
   * Keys and values for the whole context.
   */
  kv_cache: number,
  /**
   * Compute buffers and the runtime.
   */
  overhead: number,
  /**
   * All of it.
   */
  total: number, };

/**
 * One message in a conversation's tree.
 */
export type Message = {
  /**
   * Its id.
   */
  id: number,
  /**
   * Its conversation.
   */
  conversation_id: number,
  /**
   * The message it follows (None for the first).
   */
  parent_id: number | null,
  /**
   * Who wrote it.
   */
  role: Role,
  /**
   * Its text.
   */
  content: string,
  /**
   * Where it is in its life.
   */
  status: MessageStatus,
  /**
   * Why it failed, when `status` is `Error`.
   */
  error: string | null,
  /**
   * The model that wrote it (assistant messages).
   */
  model: string | null,
  /**
   * Generation figures (assistant messages).
   */
  stats: ReplyStats,
  /**
   * The tool calls of a reply that called tools, or the result of one call (a tool message).
   */
  tool: ToolPart | null,
  /**
   * When it was created.
   */
  created_at: number,
  /**
   * When it last changed.
   */
  updated_at: number, };

/**
 * Where a message is in its life.
 */
export type MessageStatus = "streaming" | "done" | "stopped" | "interrupted" | "error";

/**
 * A model file and, optionally, the projector that gives it eyes or ears.
 */
export type ModelChoice = {
  /**
   * The model GGUF.
   */
  model: string,
  /**
   * Its multimodal projector GGUF.
   */
  mmproj: string | null, };

/**
 * What the worker says about a loaded model.
 */
export type ModelInfo = {
  /**
   * The file loaded.
   */
  path: string,
  /**
   * `general.architecture`, e.g. `gemma3`.
   */
  architecture: string,
  /**
   * `general.name`, if set.
   */
  name: string | null,
  /**
   * Context size in use.
   */
  n_ctx: number,
  /**
   * Context size the model was trained for.
   */
  n_ctx_train: number,
  /**
   * CPU threads in use.
   */
  threads: number,
  /**
   * Layers offloaded to a GPU.
   */
  gpu_layers: number,
  /**
   * Which chat template renders prompts: `builtin gemma` or `jinja`.
   */
  template: string,
  /**
   * The compute devices llama.cpp sees, e.g. `CPU (AVX512)`.
   */
  devices: Array<string>,
  /**
   * A projector is loaded and accepts images.
   */
  vision: boolean,
  /**
   * A projector is loaded and accepts audio.
   */
  audio: boolean,
  /**
   * The chat template declares tools and writes calls in Gemma 4's native tool tokens; when
   * false, tools follow Gemma 3's prompt convention.
   */
  native_tool_calls: boolean,
  /**
   * Milliseconds spent loading.
   */
  load_ms: number,
  /**
   * Set when GPU layers were asked for but the model had to be loaded on the CPU: why.
   */
  cpu_fallback: string | null, };

/**
 * Everything the model screens show.
 */
export type ModelsOverview = { hardware: Hardware, recommendations: Recommendations, catalog: Array<CatalogView>, installed: Array<InstalledView>, partial: Array<PartialDownload>, downloading: Array<string>, models_dir: string, };

/**
 * A conversation with the branch shown.
 */
export type OpenConversation = { conversation: Conversation, branch: Array<BranchMessage>, };

/**
 * A download that stopped before it finished; it resumes from here.
 */
export type PartialDownload = {
  /**
   * The catalog id.
   */
  id: string,
  /**
   * Bytes already on disk.
   */
  bytes: number,
  /**
   * Whether the projector was asked for too (unknown for downloads older than the record).
   */
  with_mmproj: boolean | null, };

/**
 * A sound clip attached to the next message (a dropped sound file, or a recording).
 */
export type PendingClip = {
  /**
   * Names it in `send_message` and `discard_image`.
   */
  id: number,
  /**
   * The file's name (`recording.wav` for a recording).
   */
  name: string | null,
  /**
   * Its length in milliseconds, as the model hears it.
   */
  duration_ms: number, };

/**
 * An image attached to the next message, as the window shows it.
 */
export type PendingImage = {
  /**
   * Names it in `send_message` and `discard_image`.
   */
  id: number,
  /**
   * The file's name; none for a pasted image.
   */
  name: string | null,
  /**
   * Pixels, after the EXIF orientation.
   */
  width: number,
  /**
   * Pixels, after the EXIF orientation.
   */
  height: number,
  /**
   * e.g. `image/jpeg`.
   */
  media_type: string, };

/**
 * What a download is doing.
 */
export type Phase = "resuming" | "downloading" | "retrying" | "verifying";

/**
 * Where a model would run.
 */
export type Placement = { "kind": "gpu",
  /**
   * The GPU's description.
   */
  device: string, } | { "kind": "partial",
  /**
   * The GPU's description.
   */
  device: string,
  /**
   * Layers on the GPU (llama.cpp's `n_gpu_layers`).
   */
  gpu_layers: number,
  /**
   * All layers, with the output layer.
   */
  of: number, } | { "kind": "cpu" } | { "kind": "none" };

/**
 * A named system prompt.
 */
export type Preset = {
  /**
   * Stable id (`custom-...` for the user's own).
   */
  id: string,
  /**
   * Its name in the settings.
   */
  name: string,
  /**
   * The system prompt.
   */
  prompt: string, };

/**
 * Progress of a download task, sent a few times a second.
 */
export type Progress = {
  /**
   * What it is doing.
   */
  phase: Phase,
  /**
   * The file being fetched (0-based) and how many there are.
   */
  file: number,
  /**
   * Files in the task.
   */
  files: number,
  /**
   * The file's name.
   */
  file_name: string,
  /**
   * Bytes on disk for the whole task.
   */
  done: number,
  /**
   * Bytes of the whole task, as far as known.
   */
  total: number,
  /**
   * Recent speed.
   */
  bytes_per_second: number,
  /**
   * Time left at that speed.
   */
  seconds_left: number | null,
  /**
   * Why it is retrying.
   */
  note: string | null, };

/**
 * The model chosen for a use, and every candidate judged.
 */
export type Recommendation = {
  /**
   * What the model is for.
   */
  usage: Use,
  /**
   * The recommended model's id; `None` when no model for the use fits.
   */
  choice: string | null,
  /**
   * The reason, in plain words.
   */
  summary: string,
  /**
   * Every model that serves the use, least capable first.
   */
  candidates: Array<Fit>, };

/**
 * The recommended model for each use.
 */
export type Recommendations = { text: Recommendation, vision: Recommendation, voice: Recommendation, };

/**
 * A finished recording, attached to the next message.
 */
export type RecordedClip = {
  /**
   * The clip, as attached.
   */
  clip: PendingClip,
  /**
   * Why it ended before it was released, in words; none when it was released.
   */
  note: string | null, };

/**
 * How a recording goes, sent every 50 ms while it lasts.
 */
export type RecordingProgress = {
  /**
   * Sound recorded so far, in milliseconds.
   */
  recorded_ms: number,
  /**
   * Loudness of the latest sound, 0 (silence) to 1 (full scale).
   */
  level: number,
  /**
   * The 30 s limit is less than 5 s away.
   */
  ending_soon: boolean,
  /**
   * Recording stopped on its own (the limit, or the device went away): finishing sends
   * what was recorded.
   */
  stopped: boolean,
  /**
   * The speaker has paused after speaking (conversation mode finishes the turn on it).
   */
  speech_ended: boolean, };

/**
 * A way out of a [`StartupProblem`].
 */
export type Recovery = "retry" | "other_folder" | "set_aside" | "quit";

/**
 * The figures of a generated reply.
 */
export type ReplyStats = {
  /**
   * Time to first token.
   */
  ttft_ms: number | null,
  /**
   * Prompt tokens decoded per second.
   */
  prefill_tps: number | null,
  /**
   * Generated tokens per second.
   */
  decode_tps: number | null,
  /**
   * Tokens in the prompt.
   */
  prompt_tokens: number | null,
  /**
   * Tokens generated.
   */
  generated_tokens: number | null,
  /**
   * Prompt tokens reused from the KV cache.
   */
  reused_tokens: number | null,
  /**
   * Image tokens among the prompt tokens reused from the KV cache (`None` when the prompt held
   * no image).
   */
  image_tokens_reused: number | null,
  /**
   * Image tokens among the prompt tokens encoded for this reply (`None` when the prompt held no
   * image).
   */
  image_tokens_encoded: number | null, };

/**
 * Who wrote a message.
 */
export type Role = "system" | "user" | "assistant" | "tool";

/**
 * Resolved sampling settings, every value decided.
 */
export type Sampling = {
  /**
   * Softmax temperature; 0 means greedy decoding.
   */
  temperature: number,
  /**
   * Top-k cut-off (0 disables).
   */
  top_k: number,
  /**
   * Top-p cut-off (1 disables).
   */
  top_p: number,
  /**
   * Min-p cut-off (0 disables).
   */
  min_p: number,
  /**
   * Repetition penalty (1 disables).
   */
  repeat_penalty: number,
  /**
   * Seed of the random sampler.
   */
  seed: number,
  /**
   * Maximum number of generated tokens, if any.
   */
  max_tokens: number | null, };

/**
 * Sampling settings as a user or a caller gives them: every field left `None` takes the model
 * family's default (see [`Sampling::defaults_for`]).
 */
export type SamplingParams = {
  /**
   * Softmax temperature; 0 means greedy decoding.
   */
  temperature: number | null,
  /**
   * Keep only the k most likely tokens (0 disables).
   */
  top_k: number | null,
  /**
   * Nucleus sampling: keep the smallest set whose probability reaches p (1 disables).
   */
  top_p: number | null,
  /**
   * Drop tokens less likely than min_p times the most likely one (0 disables).
   */
  min_p: number | null,
  /**
   * Penalty for tokens seen in the last 64 tokens (1 disables).
   */
  repeat_penalty: number | null,
  /**
   * Seed of the random sampler; a random one when unset.
   */
  seed: number | null,
  /**
   * Stop after this many generated tokens; unlimited (up to the context) when unset.
   */
  max_tokens: number | null,
  /**
   * Forces greedy decoding whatever the temperature.
   */
  greedy: boolean, };

/**
 * One full-text search result.
 */
export type SearchHit = {
  /**
   * The conversation.
   */
  conversation_id: number,
  /**
   * Its title.
   */
  title: string,
  /**
   * The matching message.
   */
  message_id: number,
  /**
   * Who wrote it.
   */
  role: Role,
  /**
   * The text around the match, each matched word between [`SNIPPET_START`] and
   * [`SNIPPET_END`] (control characters that never occur in text, so a UI can split on them
   * and escape the rest).
   */
  snippet: string,
  /**
   * How many images are attached to the matching message.
   */
  image_count: number, };

/**
 * Everything the user can set.
 */
export type Settings = {
  /**
   * The colour theme.
   */
  theme: Theme,
  /**
   * The model to load at start, remembered from the last choice.
   */
  model: ModelChoice | null,
  /**
   * The preset whose prompt new conversations get (`""`: none).
   */
  preset_id: string,
  /**
   * The user's own presets.
   */
  custom_presets: Array<Preset>,
  /**
   * Sampling overrides (unset values take the model family's defaults).
   */
  sampling: SamplingParams,
  /**
   * Context size in tokens (unset: automatic).
   */
  context_size: number | null,
  /**
   * CPU threads (unset: one per physical core).
   */
  threads: number | null,
  /**
   * Layers offloaded to the GPU (unset: automatic).
   */
  gpu_layers: number | null,
  /**
   * The most tokens Gemma 4 spends on one image: 70, 140, 280, 560 or 1120 (more reads text
   * better and costs context and time). Gemma 3 always spends 256.
   */
  image_tokens: number,
  /**
   * Where conversations are kept (unset: the platform's data folder); read at start.
   */
  data_dir: string | null,
  /**
   * A Hugging Face access token, for downloads from gated repositories.
   */
  hf_token: string | null,
  /**
   * The microphone to record from, by its device id (unset: the system's default input).
   */
  microphone: string | null,
  /**
   * The key held to talk: modifiers and a key code joined by `+`, as `KeyboardEvent.code`
   * names keys (`Ctrl+Space`, `Alt+KeyM`, `F9`). It needs a modifier unless it is a function
   * key, so that holding it never types.
   */
  push_to_talk_key: string,
  /**
   * Replies are read aloud as they stream.
   */
  spoken_replies: boolean,
  /**
   * Replies are offered the tools (the built-in ones); each call is shown and confirmed.
   */
  tools_enabled: boolean,
  /**
   * Tools whose calls run without asking, in every conversation (by name).
   */
  always_allowed_tools: Array<string>, };

/**
 * What loading the settings file had to repair, for the window to say once.
 */
export type SettingsNotice = {
  /**
   * The settings that fell back to their defaults, by their names in the file
   * (`context_size`, `sampling.temperature`, `custom_presets[2]`); empty when the whole file
   * could not be read.
   */
  reset: Array<string>,
  /**
   * What was wrong, in words.
   */
  reason: string,
  /**
   * Where the old file is kept.
   */
  old_file: string, };

/**
 * Where an installed model came from.
 */
export type Source = "catalog" | "copied" | "linked";

/**
 * What the speaker is doing, as the window shows it.
 */
export type SpeechState = { "state": "speaking" } | { "state": "quiet" } | { "state": "failed",
  /**
   * Why, in words.
   */
  message: string, };

/**
 * Why the conversations could not be opened, as the recovery screen shows it.
 */
export type StartupProblem = {
  /**
   * What went wrong and what it means, in words.
   */
  message: string,
  /**
   * The data folder that was being opened, when there is one.
   */
  data_dir: string | null,
  /**
   * The database file that can be set aside, when the file itself is the problem.
   */
  damaged_file: string | null, };

/**
 * Why a reply stopped.
 */
export type StopReason = "end_of_turn" | "tool_call" | "max_tokens" | "context_full" | "cancelled" | "interrupted";

/**
 * A call a reply made.
 */
export type StoredToolCall = {
  /**
   * Its id in the conversation, which its result names (`call_1`, ...).
   */
  id: string,
  /**
   * The tool called (for a malformed call, what could be read of the name, maybe empty).
   */
  name: string,
  /**
   * The named arguments.
   */
  arguments: Record<string, unknown>,
  /**
   * Set when the call did not follow the tool syntax: what the model wrote.
   */
  malformed?: string | null, };

/**
 * Light, dark, or whatever the system uses.
 */
export type Theme = "system" | "light" | "dark";

/**
 * What the user says to a call.
 */
export type ToolDecision = "run" | "allow_in_conversation" | "always_allow" | "decline";

/**
 * How a tool call went.
 */
export type ToolOutcome = "answered" | "failed" | "declined" | "refused";

/**
 * What a message holds of function calling.
 */
export type ToolPart = { "kind": "calls",
  /**
   * The calls.
   */
  calls: Array<StoredToolCall>, } | { "kind": "result" } & ToolResult;

/**
 * The result of one call.
 */
export type ToolResult = {
  /**
   * The call answered ([`StoredToolCall::id`]).
   */
  call_id: string,
  /**
   * The tool.
   */
  name: string,
  /**
   * How the call went.
   */
  outcome: ToolOutcome, };

/**
 * What the model is for; each use needs certain capabilities.
 */
export type Use = "text" | "vision" | "voice";

/**
 * How well a model suits this machine.
 */
export type Verdict = "good" | "slow" | "too_big";

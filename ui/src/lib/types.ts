// The records the Rust shell sends, as in the IPC contract (field names stay snake_case).

export type Millis = number;
export type Role = 'system' | 'user' | 'assistant' | 'tool';
export type MessageStatus = 'streaming' | 'done' | 'stopped' | 'interrupted' | 'error';
export type ErrorCode =
  | 'bad_input'
  | 'not_found'
  | 'busy'
  | 'no_model'
  | 'engine'
  | 'store'
  | 'io'
  | 'cancelled'
  | 'download';

export interface SamplingParams {
  temperature?: number | null;
  top_k?: number | null;
  top_p?: number | null;
  min_p?: number | null;
  repeat_penalty?: number | null;
  seed?: number | null;
  max_tokens?: number | null;
}

export interface Conversation {
  id: number;
  title: string;
  created_at: Millis;
  updated_at: Millis;
  pinned: boolean;
  model: string | null;
  settings: { system_prompt: string | null; sampling: SamplingParams };
  current_leaf_id: number | null;
  deleted_at: Millis | null;
}

export interface ReplyStats {
  ttft_ms: number | null;
  prefill_tps: number | null;
  decode_tps: number | null;
  prompt_tokens: number | null;
  generated_tokens: number | null;
  reused_tokens: number | null;
}

export interface Message {
  id: number;
  conversation_id: number;
  parent_id: number | null;
  role: Role;
  content: string;
  status: MessageStatus;
  error: string | null;
  model: string | null;
  stats: ReplyStats;
  created_at: Millis;
  updated_at: Millis;
}

export interface Attachment {
  id: number;
  message_id: number;
  sha256: string;
  media_type: string;
  size: number;
  width: number | null;
  height: number | null;
  duration_ms: number | null;
  name: string | null;
  created_at: Millis;
}

export interface BranchMessage {
  message: Message;
  /** 1-based position among the messages sharing its parent, oldest first. */
  sibling_index: number;
  sibling_count: number;
  attachments: Attachment[];
}

export interface SearchHit {
  conversation_id: number;
  title: string;
  message_id: number;
  role: Role;
  /** Each matched word sits between '\u0002' and '\u0003'. */
  snippet: string;
}

export interface ModelInfo {
  path: string;
  architecture: string;
  name: string | null;
  n_ctx: number;
  n_ctx_train: number;
  threads: number;
  gpu_layers: number;
  template: string;
  devices: string[];
  vision: boolean;
  audio: boolean;
  load_ms: number;
  /** Set when the GPU could not take the model and it runs on the CPU: why. */
  cpu_fallback: string | null;
}

export interface ModelChoice {
  model: string;
  mmproj: string | null;
}

export type EngineState = 'none' | 'loading' | 'ready' | 'failed';

export interface EngineStatus {
  state: EngineState;
  choice: ModelChoice | null;
  info: ModelInfo | null;
  error: string | null;
}

export type Theme = 'system' | 'light' | 'dark';

export interface Preset {
  id: string;
  name: string;
  prompt: string;
}

export interface Settings {
  theme: Theme;
  model: ModelChoice | null;
  /** The system prompt preset used for new chats ('' = none). */
  preset_id: string;
  /** User-defined presets; their ids start with 'custom-'. */
  custom_presets: Preset[];
  sampling: SamplingParams;
  context_size: number | null;
  threads: number | null;
  gpu_layers: number | null;
  data_dir: string | null;
  /** A Hugging Face access token, for downloads from gated repositories. */
  hf_token: string | null;
}

export interface AppState {
  version: string;
  settings: Settings;
  builtin_presets: Preset[];
  sampling_defaults: Required<SamplingParams>;
  engine: EngineStatus;
  data_dir: string;
  log_file: string;
}

export interface OpenedConversation {
  conversation: Conversation;
  branch: BranchMessage[];
}

export type ReplyEvent =
  | { event: 'started'; user: Message | null; reply: Message }
  | { event: 'loading' }
  | { event: 'token'; text: string }
  | { event: 'notice'; message: string }
  | { event: 'finished'; reply: Message; engine_died: string | null };

export type ExportFormat = 'markdown' | 'json';
export type ModelFileKind = 'model' | 'mmproj';

// Getting a model: the machine, the catalog judged against it, the installed models, downloads.

export type Bytes = number;
export type Usage = 'text' | 'vision' | 'voice';
export type Capability = 'text' | 'vision' | 'audio' | 'tools' | 'thinking';
export type LicenceId = 'gemma' | 'apache-2.0';

export interface Gpu {
  name: string;
  description: string;
  backend: string;
  integrated: boolean;
  memory_total: Bytes;
  memory_free: Bytes;
}

export interface Hardware {
  ram_total: Bytes;
  ram_available: Bytes;
  cpu: string;
  cpu_threads: number;
  gpus: Gpu[];
  /** Why no GPU can be used although one may be there (plain English). */
  gpu_problem: string | null;
}

export interface MemoryEstimate {
  context: number;
  weights: Bytes;
  projector: Bytes;
  kv_cache: Bytes;
  overhead: Bytes;
  total: Bytes;
}

export type Placement =
  | { kind: 'gpu'; device: string }
  | { kind: 'partial'; device: string; gpu_layers: number; of: number }
  | { kind: 'cpu' }
  | { kind: 'none' };

export type Verdict = 'good' | 'slow' | 'too_big';

/** One catalog model judged against this machine. */
export interface Fit {
  /** The catalog id. */
  model: string;
  estimate: MemoryEstimate;
  placement: Placement;
  verdict: Verdict;
  cpu_tokens_per_second: number | null;
  /** The verdict in plain English. */
  explanation: string;
}

export interface Recommendation {
  usage: Usage;
  /** The catalog id to offer, or null when nothing suits this machine. */
  choice: string | null;
  summary: string;
  candidates: Fit[];
}

export interface Licence {
  id: LicenceId;
  name: string;
  url: string;
}

export interface RemoteFile {
  name: string;
  bytes: Bytes | null;
  sha256: string | null;
}

export interface CatalogView {
  id: string;
  name: string;
  family: string;
  caps: Capability[];
  context: number;
  licence: Licence;
  /** Model and projector, as far as their sizes are known. */
  download_bytes: Bytes;
  /** The model file first, then its projector (mmproj) if it has one. */
  files: RemoteFile[];
  fit: Fit;
}

export interface InstalledFile {
  path: string;
  bytes: Bytes;
  sha256: string | null;
  sha256_published: boolean;
}

export interface InstalledModel {
  id: string;
  name: string;
  source: 'catalog' | 'copied' | 'linked';
  model: InstalledFile;
  mmproj: InstalledFile | null;
  description: {
    architecture: string;
    quantization: string | null;
    context_length: number | null;
    layers: number | null;
    caps: string[];
    licence: LicenceId | null;
  };
  /** Seconds since the Unix epoch (not Millis, unlike the conversation records). */
  installed_at: number;
  model_path: string;
  mmproj_path: string | null;
  disk_bytes: Bytes;
  /** Files that are gone (a linked import whose file was moved or deleted). */
  missing: string[];
  is_default: boolean;
}

export interface PartialDownload {
  id: string;
  bytes: Bytes;
  /** Whether the projector was asked for too; null for downloads begun before this was recorded. */
  with_mmproj: boolean | null;
}

export interface ModelsOverview {
  hardware: Hardware;
  recommendations: Record<Usage, Recommendation>;
  catalog: CatalogView[];
  installed: InstalledModel[];
  /** Downloads paused or interrupted earlier; download_model resumes them. */
  partial: PartialDownload[];
  /** Catalog ids being downloaded now. */
  downloading: string[];
  models_dir: string;
}

export interface DownloadProgress {
  phase: 'resuming' | 'downloading' | 'retrying' | 'verifying';
  /** The file being fetched (0-based) of `files`. */
  file: number;
  files: number;
  file_name: string;
  /** Bytes on disk for the whole download, and its size as far as known. */
  done: Bytes;
  total: Bytes;
  bytes_per_second: number;
  seconds_left: number | null;
  /** Why it is retrying. */
  note: string | null;
}

export interface DownloadOutcome {
  status: 'installed' | 'paused' | 'cancelled';
  model: InstalledModel | null;
}

export type ImportMode = 'copy' | 'link';

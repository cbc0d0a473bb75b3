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
  | 'cancelled';

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

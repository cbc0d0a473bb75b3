// Records for tests and the development harness.
import type { Stores } from './context';
import type { Ipc } from './ipc';
import { AppStore } from './stores/app.svelte';
import { AttachmentsStore } from './stores/attachments.svelte';
import { ChatStore } from './stores/chat.svelte';
import { ConversationsStore } from './stores/conversations.svelte';
import { ModelsStore } from './stores/models.svelte';
import { ToastStore } from './stores/toasts.svelte';
import { VoiceStore, voiceHooks } from './stores/voice.svelte';
import type {
  AppView,
  BranchMessage,
  CatalogView,
  Conversation,
  Fit,
  Hardware,
  InstalledModel,
  InstalledView,
  Message,
  ModelInfo,
  ModelsOverview,
  PendingImage,
  Recommendation,
  SamplingParams,
  Settings,
  Use,
} from './types';

/** An image attached to the next message: a 64x64 PNG unless `fields` say otherwise. */
export function pendingImage(id: number, fields: Partial<PendingImage> = {}): PendingImage {
  return { id, name: `${id}.png`, width: 64, height: 64, media_type: 'image/png', ...fields };
}

/** What `app_state` answers: a ready model, default settings and the shell's message limit. */
export function appView(fields: Partial<AppView> = {}): AppView {
  return {
    version: '0.1.0',
    settings: settings(),
    builtin_presets: [{ id: 'general', name: 'General assistant', prompt: 'You are a helpful assistant.' }],
    sampling_defaults: { temperature: 1, top_k: 64, top_p: 0.95, min_p: 0, repeat_penalty: 1, seed: 0, max_tokens: null },
    engine: { state: 'ready', choice: { model: '/home/me/models/gemma-3-4b-it-Q4_K_M.gguf', mmproj: null }, info: null, error: null, failure: null },
    data_dir: '/home/me/.local/share/gemma-desk',
    log_file: '/home/me/.local/share/gemma-desk/gemma-desk.log',
    // MAX_TEXT_CHARS in the chat crate.
    max_message_chars: 100_000,
    image_token_budgets: [70, 140, 280, 560, 1120],
    settings_notice: null,
    ...fields,
  };
}

/** What the engine says of a model it loaded (without a projector unless `fields` say so). */
export function modelInfo(fields: Partial<ModelInfo> = {}): ModelInfo {
  return {
    path: '/home/me/models/gemma-3-4b-it-Q4_K_M.gguf',
    architecture: 'gemma3',
    name: 'Gemma 3 4b It',
    n_ctx: 8192,
    n_ctx_train: 131072,
    threads: 8,
    gpu_layers: 0,
    template: 'builtin gemma',
    devices: ['CPU'],
    vision: false,
    audio: false,
    native_tool_calls: false,
    load_ms: 900,
    cpu_fallback: null,
    ...fields,
  };
}

export function settings(fields: Partial<Settings> = {}): Settings {
  return {
    theme: 'system',
    model: { model: '/home/me/models/gemma-3-4b-it-Q4_K_M.gguf', mmproj: null },
    preset_id: 'general',
    custom_presets: [],
    sampling: samplingParams(),
    context_size: null,
    threads: null,
    gpu_layers: null,
    image_tokens: 560,
    data_dir: null,
    hf_token: null,
    microphone: null,
    push_to_talk_key: 'Ctrl+Space',
    spoken_replies: false,
    tools_enabled: false,
    always_allowed_tools: [],
    ...fields,
  };
}

export function conversation(id: number, fields: Partial<Conversation> = {}): Conversation {
  return {
    id,
    title: `Conversation ${id}`,
    created_at: id * 1000,
    updated_at: id * 1000,
    pinned: false,
    model: null,
    settings: { system_prompt: null, sampling: {} },
    current_leaf_id: null,
    deleted_at: null,
    ...fields,
  };
}

export function message(id: number, fields: Partial<Message> = {}): Message {
  return {
    id,
    conversation_id: 1,
    parent_id: id > 1 ? id - 1 : null,
    role: 'user',
    content: `message ${id}`,
    status: 'done',
    error: null,
    model: null,
    stats: {
      ttft_ms: null,
      prefill_tps: null,
      decode_tps: null,
      prompt_tokens: null,
      generated_tokens: null,
      reused_tokens: null,
      image_tokens_reused: null,
      image_tokens_encoded: null,
    },
    tool: null,
    created_at: id * 1000,
    updated_at: id * 1000,
    ...fields,
  };
}

export function entry(m: Message, siblingIndex = 1, siblingCount = 1): BranchMessage {
  return { message: m, sibling_index: siblingIndex, sibling_count: siblingCount, attachments: [] };
}

const GB = 1024 ** 3;

export function hardware(fields: Partial<Hardware> = {}): Hardware {
  return { ram_total: 16 * GB, ram_available: 9 * GB, cpu: 'AMD Ryzen 7 5800U', cpu_threads: 16, cpu_cores: 8, memory_read_bytes_per_second: 40e9, decode_bytes_per_second_seen: null, gpus: [], gpu_problem: null, ...fields };
}

export function fit(model: string, fields: Partial<Fit> = {}): Fit {
  return {
    model,
    estimate: { context: 8192, weights: 2.3 * GB, projector: 0, kv_cache: 0.3 * GB, overhead: 0.2 * GB, total: 2.8 * GB },
    placement: { kind: 'cpu' },
    verdict: 'good',
    cpu_tokens_per_second: 14,
    explanation: `${model} needs about 2.8 GB of the 9 GB free; on the CPU it writes about 14 words a second.`,
    ...fields,
  };
}

export function catalogModel(id: string, fields: Partial<CatalogView> = {}): CatalogView {
  return {
    id,
    name: id.replace(/^gemma-/, 'Gemma ').replace(/-it$/, ''),
    family: 'gemma3',
    caps: ['text', 'vision'],
    context: 131072,
    licence: { id: 'gemma', name: 'Gemma Terms of Use', url: 'https://ai.google.dev/gemma/terms' },
    download_bytes: 3.3 * GB,
    files: [
      { name: `${id}-Q4_K_M.gguf`, bytes: 2.5 * GB, sha256: null },
      { name: 'mmproj-model-f16.gguf', bytes: 0.8 * GB, sha256: null },
    ],
    fit: fit(id),
    ...fields,
  };
}

export function installedModel(id: string, fields: Partial<InstalledModel> = {}): InstalledModel {
  const path = `/home/me/.local/share/gemma-desk/models/${id}/${id}-Q4_K_M.gguf`;
  return {
    id,
    name: id,
    source: 'catalog',
    model: { path, bytes: 2.5 * GB, sha256: null, sha256_published: true },
    mmproj: null,
    description: { architecture: 'gemma3', quantization: 'Q4_K_M', context_length: 131072, layers: 34, caps: ['text'], licence: 'gemma' },
    installed_at: 1_700_000_000,
    model_path: path,
    mmproj_path: null,
    disk_bytes: 2.5 * GB,
    missing: [],
    ...fields,
  };
}

/** An installed model as the overview lists it. */
export function installedView(id: string, fields: Partial<InstalledView> = {}): InstalledView {
  return { ...installedModel(id), is_default: false, ...fields };
}

/** Sampling settings with no overrides but `fields`. */
export function samplingParams(fields: Partial<SamplingParams> = {}): SamplingParams {
  return { temperature: null, top_k: null, top_p: null, min_p: null, repeat_penalty: null, seed: null, max_tokens: null, greedy: false, ...fields };
}

function recommendation(usage: Use, choice: string | null): Recommendation {
  return { usage, choice, summary: `For ${usage}, ${choice ?? 'nothing'} suits this computer best.`, candidates: choice ? [fit(choice)] : [] };
}

export function modelsOverview(fields: Partial<ModelsOverview> = {}): ModelsOverview {
  return {
    hardware: hardware(),
    recommendations: {
      text: recommendation('text', 'gemma-3-4b-it'),
      vision: recommendation('vision', 'gemma-3-4b-it'),
      voice: recommendation('voice', 'gemma-4-e2b-it'),
    },
    catalog: [
      catalogModel('gemma-3-1b-it', { caps: ['text'], files: [{ name: 'gemma-3-1b-it-Q4_K_M.gguf', bytes: 0.75 * GB, sha256: null }], download_bytes: 0.75 * GB }),
      catalogModel('gemma-3-4b-it'),
      catalogModel('gemma-4-e2b-it', { name: 'Gemma 4 E2B', caps: ['text', 'vision', 'audio'] }),
      catalogModel('gemma-3-27b-it', { download_bytes: 17 * GB, fit: fit('gemma-3-27b-it', { verdict: 'too_big', placement: { kind: 'none' }, explanation: 'It needs about 18 GB; this computer has 9 GB free.' }) }),
    ],
    installed: [],
    partial: [],
    downloading: [],
    models_dir: '/home/me/.local/share/gemma-desk/models',
    ...fields,
  };
}

/** Every store over `ipc`, wired to each other as main.ts wires them: for mounting components in tests. */
export function storesOver(ipc: Ipc): Stores {
  const toasts = new ToastStore();
  const attachments = new AttachmentsStore(ipc, {
    onRefused: (title, text) => toasts.show(text, { kind: 'warning', title }),
    onError: (error) => toasts.error(error),
  });
  const chat = new ChatStore(ipc, { onError: (error) => toasts.error(error), onImagesSent: (ids) => attachments.sent(ids) });
  const voice = new VoiceStore(ipc, voiceHooks(toasts, attachments, chat));
  return { ipc, app: new AppStore(ipc), conversations: new ConversationsStore(ipc), chat, models: new ModelsStore(ipc), toasts, attachments, voice };
}

/** A ResizeObserver that observes nothing: jsdom has none, and lays nothing out anyway. */
export class InertResizeObserver {
  observe(): void {}
  unobserve(): void {}
  disconnect(): void {}
}

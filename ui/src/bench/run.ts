import { mount } from 'svelte';
import { AppError, type Ipc } from '../lib/ipc';
import { AppStore } from '../lib/stores/app.svelte';
import { AttachmentsStore } from '../lib/stores/attachments.svelte';
import { ChatStore } from '../lib/stores/chat.svelte';
import { ConversationsStore } from '../lib/stores/conversations.svelte';
import { ModelsStore } from '../lib/stores/models.svelte';
import { VoiceStore } from '../lib/stores/voice.svelte';
import { ToastStore } from '../lib/stores/toasts.svelte';
import { conversation, entry, message } from '../lib/testing';
import type { AppView, BranchMessage, ChatEvent, Message } from '../lib/types';
import Bench from './Bench.svelte';
import { syntheticTokens } from './stream';

export const RATE = 1000;
export const SECONDS = 10;

/** Stands in for the shell: one conversation, and a reply streamed at RATE tokens per second. */
function benchIpc(): Ipc {
  const branch: BranchMessage[] = [
    entry(message(1, { role: 'user', content: 'Write me a long answer with code and tables.' })),
  ];
  const state = {
    version: 'bench',
    settings: { theme: 'system', model: null, preset_id: '', custom_presets: [], sampling: {}, context_size: null, threads: null, gpu_layers: null, image_tokens: 560, data_dir: null, hf_token: null },
    builtin_presets: [],
    sampling_defaults: { temperature: 1, top_k: 64, top_p: 0.95, min_p: 0, repeat_penalty: 1, seed: null, max_tokens: null },
    engine: { state: 'ready', choice: { model: 'bench.gguf', mmproj: null }, info: null, error: null },
    data_dir: '',
    log_file: '',
  } as unknown as AppView;
  const fake: Partial<Ipc> = {
    appState: async () => state,
    listConversations: async () => [conversation(1, { title: 'Streaming benchmark' })],
    openConversation: async (id) => ({ conversation: conversation(id, { title: 'Streaming benchmark' }), branch }),
    sendMessage: (_id, _text, _images, onEvent: (event: ChatEvent) => void) =>
      new Promise<Message>((resolve) => {
        const tokens = syntheticTokens(RATE * SECONDS);
        const user = message(2, { role: 'user', content: 'Again, please.', parent_id: 1 });
        const reply = message(3, { role: 'assistant', content: '', status: 'streaming', parent_id: 2 });
        onEvent({ event: 'started', user, user_attachments: [], reply });
        const started = performance.now();
        let sent = 0;
        const timer = setInterval(() => {
          const due = Math.min(tokens.length, Math.floor(((performance.now() - started) / 1000) * RATE));
          for (; sent < due; sent++) onEvent({ event: 'token', text: tokens[sent] });
          if (sent >= tokens.length) {
            clearInterval(timer);
            const done = { ...reply, content: tokens.join(''), status: 'done' as const };
            branch.push(entry(user), entry(done));
            onEvent({ event: 'finished', reply: done, engine_died: null, stop_reason: 'end_of_turn', failure: null });
            resolve(done);
          }
        }, 4);
      }),
    stopReply: async () => null,
    openExternal: async () => null,
  };
  return new Proxy(fake as Ipc, {
    get: (target, key: string) =>
      key in target ? target[key as keyof Ipc] : async () => Promise.reject(new AppError('io', `${key} is not available in the benchmark`)),
  });
}

export interface BenchResult {
  tokens_per_second: number;
  seconds: number;
  frames: number;
  fps_mean: number;
  fps_p5: number;
  longest_frame_ms: number;
  fps_per_second: number[];
  chars: number;
}

/** Counts frames with requestAnimationFrame for `seconds`. */
export function measureFrames(seconds: number): Promise<Omit<BenchResult, 'tokens_per_second' | 'chars'>> {
  return new Promise((resolve) => {
    const times: number[] = [];
    const tick = (now: number) => {
      times.push(now);
      if (now - times[0] < seconds * 1000) requestAnimationFrame(tick);
      else resolve(summarize(times, seconds));
    };
    requestAnimationFrame(tick);
  });
}

export function summarize(times: number[], seconds: number) {
  const start = times[0];
  const perSecond = new Array<number>(seconds).fill(0);
  let longest = 0;
  for (let i = 1; i < times.length; i++) {
    const bucket = Math.floor((times[i] - start) / 1000);
    if (bucket < seconds) perSecond[bucket]++;
    longest = Math.max(longest, times[i] - times[i - 1]);
  }
  const sorted = [...perSecond].sort((a, b) => a - b);
  const elapsed = (times[times.length - 1] - start) / 1000;
  return {
    seconds,
    frames: times.length - 1,
    fps_mean: Math.round(((times.length - 1) / elapsed) * 10) / 10,
    fps_p5: sorted[Math.floor(0.05 * (sorted.length - 1))],
    longest_frame_ms: Math.round(longest * 10) / 10,
    fps_per_second: perSecond,
  };
}

export function mountBench(target: HTMLElement): void {
  const ipc = benchIpc();
  const toasts = new ToastStore();
  const conversations = new ConversationsStore(ipc);
  const chat = new ChatStore(ipc, { onError: (error) => toasts.error(error) });
  const app = new AppStore(ipc);
  const models = new ModelsStore(ipc);
  const attachments = new AttachmentsStore(ipc);
  const voice = new VoiceStore(ipc);
  mount(Bench, { target, props: { stores: { ipc, app, conversations, chat, models, toasts, attachments, voice } } });
}

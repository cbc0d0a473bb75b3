// Development only: the real UI with mockIPC standing in for the Rust shell, for screenshots.
import { mockIPC } from '@tauri-apps/api/mocks';
import { catalogModel, conversation, entry, installedView, message, modelsOverview, samplingParams } from '../src/lib/testing';
import type { AppView, ChatEvent, Progress } from '../src/lib/types';

const params = new URLSearchParams(location.search);
const firstRun = params.has('first-run');
const theme = (params.get('theme') ?? 'light') as 'light' | 'dark';

const reply = `Here is how to sort a vector in **Rust**:

\`\`\`rust
fn main() {
    let mut v = vec![3, 1, 2];
    v.sort();
    println!("{v:?}");
}
\`\`\`

| method | stable |
| --- | --- |
| \`sort\` | yes |
| \`sort_unstable\` | no |

See [the docs](https://doc.rust-lang.org/std/primitive.slice.html#method.sort).`;

const stats = { ttft_ms: 312, prefill_tps: 850.2, decode_tps: 42.7, prompt_tokens: 128, generated_tokens: 96, reused_tokens: 64, image_tokens_reused: null, image_tokens_encoded: null };
const branch = [
  entry(message(1, { role: 'user', content: 'How do I sort a vector in Rust?' })),
  entry(message(2, { role: 'assistant', content: reply, model: 'gemma-3-4b-it', stats }), 2, 3),
  entry(message(3, { role: 'user', content: 'And in reverse?' })),
  entry(message(4, { role: 'assistant', content: 'Use `v.sort_by(|a, b| b.cmp(a))` or sort and then `v.reverse()`. The partial', status: 'interrupted', error: 'the worker was killed by signal 9 (SIGKILL)' })),
];
const state: AppView = {
  version: '0.1.0',
  settings: { theme, model: firstRun ? null : { model: '/home/me/models/gemma-3-4b-it-Q4_K_M.gguf', mmproj: null }, preset_id: 'general', custom_presets: [{ id: 'custom-1', name: 'Terse', prompt: 'Be terse.' }], sampling: samplingParams({ temperature: 0.7 }), context_size: null, threads: null, gpu_layers: null, image_tokens: 560, data_dir: null, hf_token: null, microphone: null, push_to_talk_key: 'Ctrl+Space', spoken_replies: false, tools_enabled: false, always_allowed_tools: [] },
  builtin_presets: [
    { id: 'general', name: 'General assistant', prompt: 'You are a helpful assistant.' },
    { id: 'multilingual', name: 'Multilingual', prompt: 'Answer in the language of the question.' },
  ],
  sampling_defaults: { temperature: 1, top_k: 64, top_p: 0.95, min_p: 0, repeat_penalty: 1, seed: 0, max_tokens: null },
  engine: firstRun
    ? { state: 'none', choice: null, info: null, error: null, failure: null }
    : { state: 'ready', choice: { model: '/home/me/models/gemma-3-4b-it-Q4_K_M.gguf', mmproj: null }, info: null, error: null, failure: null },
  data_dir: '/home/me/.local/share/gemma-desk',
  log_file: '/home/me/.local/share/gemma-desk/gemma-desk.log',
  max_message_chars: 100_000,
  image_token_budgets: [70, 140, 280, 560, 1120],
  settings_notice: null,
};
const conversations = [
  conversation(3, { title: 'Sorting in Rust', updated_at: 3000 }),
  conversation(2, { title: 'Trip to Lisbon: a three-day plan with a rather long title', updated_at: 2000, pinned: true }),
  conversation(1, { title: 'Sourdough starter', updated_at: 1000 }),
];

const overview = modelsOverview({
  installed: firstRun ? [] : [installedView('gemma-3-4b-it', { name: 'Gemma 3 4B', is_default: true }), installedView('my-gemma', { name: 'my-gemma-Q8_0', source: 'linked', missing: ['/mnt/usb/my-gemma-Q8_0.gguf'] })],
  partial: [{ id: 'gemma-3-1b-it', bytes: 300 * 1024 ** 2, with_mmproj: false }],
});
overview.catalog.push(catalogModel('gemma-3-12b-it', { fit: { ...overview.catalog[1].fit, model: 'gemma-3-12b-it', verdict: 'slow', explanation: 'It fits, but on the CPU it writes about 3 words a second.' } }));

function send(channel: unknown, index: number, event: ChatEvent | Progress) {
  const internals = (window as unknown as { __TAURI_INTERNALS__: { runCallback: (id: number, data: unknown) => void } }).__TAURI_INTERNALS__;
  internals.runCallback((channel as { id: number }).id, { index, message: event });
}

mockIPC(async (cmd, args) => {
  const a = args as Record<string, unknown>;
  switch (cmd) {
    case 'app_state':
    case 'save_settings':
      return state;
    case 'engine_status':
      return state.engine;
    case 'list_conversations':
      return conversations;
    case 'open_conversation':
      return { conversation: conversations.find((c) => c.id === a.id) ?? conversations[0], branch };
    case 'search_messages':
      return [{ conversation_id: 3, title: 'Sorting in Rust', message_id: 2, role: 'assistant', snippet: 'how to \u0002sort\u0003 a vector <b>not bold</b>', image_count: 0 }];
    case 'models_overview':
      return overview;
    case 'download_model': {
      // Stays at 42 % for the screenshot.
      const total = 3.3 * 1024 ** 3;
      send(a.onProgress, 0, { phase: 'downloading', file: 0, files: 2, file_name: 'gemma-3-4b-it-Q4_K_M.gguf', done: 0.42 * total, total, bytes_per_second: 12.3 * 1024 ** 2, seconds_left: 160, note: null });
      return new Promise(() => {});
    }
    case 'send_message': {
      const user = message(10, { role: 'user', content: String(a.text) });
      const r = message(11, { role: 'assistant', content: '', status: 'streaming' });
      send(a.onEvent, 0, { event: 'started', user, user_attachments: [], reply: r });
      return new Promise(() => {}); // stays "Reading the prompt…" for the screenshot
    }
    default:
      return null;
  }
}, { shouldMockEvents: true });

await import('../src/main');
if (params.has('settings')) setTimeout(() => document.querySelector<HTMLButtonElement>('[data-testid=settings-button]')?.click(), 300);

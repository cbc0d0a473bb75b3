import { mount } from 'svelte';
import './app.css';
import App from './App.svelte';
import Recovery from './lib/components/startup/Recovery.svelte';
import { ipc } from './lib/ipc';
import { AppStore } from './lib/stores/app.svelte';
import { AttachmentsStore } from './lib/stores/attachments.svelte';
import { ChatStore } from './lib/stores/chat.svelte';
import { ConversationsStore } from './lib/stores/conversations.svelte';
import { ModelsStore } from './lib/stores/models.svelte';
import { ToastStore } from './lib/stores/toasts.svelte';
import { VoiceStore, voiceHooks } from './lib/stores/voice.svelte';
import { applyTheme } from './lib/theme';

const target = document.getElementById('app')!;
applyTheme('system');

if (location.hash === '#bench-stream') {
  // The benchmark page: the real chat view fed by a synthetic stream, no IPC at all.
  import('./bench/run').then(({ mountBench }) => mountBench(target));
} else {
  void start();
}

/** The app, or the recovery screen first when the conversations could not be opened. */
async function start(): Promise<void> {
  const problem = await ipc.startupProblem().catch(() => null);
  if (problem) {
    // Once recovered, the page starts again and finds the app's state open.
    mount(Recovery, { target, props: { ipc, problem, onRecovered: () => location.reload() } });
    return;
  }
  const toasts = new ToastStore();
  const conversations = new ConversationsStore(ipc);
  const attachments = new AttachmentsStore(ipc, {
    onRefused: (title, text) => toasts.show(text, { kind: 'warning', title, ms: 8000 }),
    onError: (error) => toasts.error(error),
  });
  const app = new AppStore(ipc);
  const chat = new ChatStore(ipc, {
    onNotice: (message) => toasts.show(message),
    onError: (error) => toasts.error(error),
    onQuestionStored: () => void conversations.load().catch(() => {}),
    onFinished: () => void conversations.load().catch(() => {}),
    onImagesSent: (ids) => attachments.sent(ids),
    onToolAllowedAlways: () => void app.reloadSettings().catch((error) => toasts.error(error)),
  });
  const voice = new VoiceStore(ipc, voiceHooks(toasts, attachments, chat));
  const models = new ModelsStore(ipc);
  mount(App, { target, props: { stores: { ipc, app, conversations, chat, models, toasts, attachments, voice } } });
}

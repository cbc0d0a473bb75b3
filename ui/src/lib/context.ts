// The stores are made once (App.svelte or the benchmark page) and handed down through context.
import { getContext, setContext } from 'svelte';
import type { Ipc } from './ipc';
import type { AppStore } from './stores/app.svelte';
import type { AttachmentsStore } from './stores/attachments.svelte';
import type { ChatStore } from './stores/chat.svelte';
import type { ConversationsStore } from './stores/conversations.svelte';
import type { ModelsStore } from './stores/models.svelte';
import type { ToastStore } from './stores/toasts.svelte';
import type { VoiceStore } from './stores/voice.svelte';

export interface Stores {
  ipc: Ipc;
  app: AppStore;
  conversations: ConversationsStore;
  chat: ChatStore;
  models: ModelsStore;
  toasts: ToastStore;
  attachments: AttachmentsStore;
  voice: VoiceStore;
}

const KEY = Symbol('stores');

export function provideStores(stores: Stores): void {
  setContext(KEY, stores);
}

export function useStores(): Stores {
  return getContext<Stores>(KEY);
}

/** The context that holds `stores`, for mounting a component on its own (tests). */
export function storesContext(stores: Stores): Map<symbol, Stores> {
  return new Map([[KEY, stores]]);
}

import { clearMocks, mockConvertFileSrc } from '@tauri-apps/api/mocks';
import { flushSync, mount, unmount } from 'svelte';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import App from './App.svelte';
import type { Ipc } from './lib/ipc';
import { appView, conversation, entry, InertResizeObserver, message, modelInfo, modelsOverview, storesOver } from './lib/testing';
import type { Attachment, ChatEvent } from './lib/types';

let shown: Record<string, unknown> | null = null;

beforeEach(() => {
  mockConvertFileSrc('linux');
  vi.stubGlobal('ResizeObserver', InertResizeObserver);
});
afterEach(() => {
  if (shown) unmount(shown);
  shown = null;
  document.body.replaceChildren();
  clearMocks();
  vi.unstubAllGlobals();
});

const photo: Attachment = {
  id: 1, message_id: 1, sha256: 'e'.repeat(64), media_type: 'image/png', size: 1000,
  width: 800, height: 600, duration_ms: null, name: 'chart.png', created_at: 0,
};

describe('Esc while an image is shown enlarged', () => {
  it('closes the view and leaves the reply being written alone', async () => {
    let emit!: (event: ChatEvent) => void;
    const ipc = {
      appState: vi.fn(async () => appView()),
      listConversations: vi.fn(async () => [conversation(1)]),
      openConversation: vi.fn(async (id: number) => ({ conversation: conversation(id), branch: [{ ...entry(message(1)), attachments: [photo] }] })),
      sendMessage: vi.fn((_id: number, _text: string, _images: number[], onEvent: (event: ChatEvent) => void) => {
        emit = onEvent;
        return new Promise(() => {});
      }),
      stopReply: vi.fn(async () => null),
      onMenu: vi.fn(async () => () => {}),
      onSpeech: vi.fn(async () => () => {}),
      onDragDrop: vi.fn(async () => () => {}),
    } as unknown as Ipc;
    const stores = storesOver(ipc);
    const { chat } = stores;
    shown = mount(App, { target: document.body, props: { stores } });
    await vi.waitFor(() => expect(document.querySelector('[data-testid=message-image]')).not.toBeNull());
    void chat.send('and this?');
    emit({ event: 'started', user: message(2, { parent_id: 1 }), user_attachments: [], reply: message(3, { role: 'assistant', status: 'streaming', content: '' }) });
    flushSync();

    document.querySelector<HTMLElement>('[data-testid=message-image]')!.click();
    flushSync();
    expect(document.querySelector('[data-testid=image-viewer]')).not.toBeNull();
    window.dispatchEvent(new KeyboardEvent('keydown', { key: 'Escape' }));
    flushSync();
    expect(document.querySelector('[data-testid=image-viewer]')).toBeNull();
    expect(ipc.stopReply, 'Esc meant the view, not the reply').not.toHaveBeenCalled();

    window.dispatchEvent(new KeyboardEvent('keydown', { key: 'Escape' }));
    expect(ipc.stopReply, 'with the view closed, Esc stops the reply as before').toHaveBeenCalledOnce();
  });
});

describe('a send refused because the model cannot see', () => {
  it('offers, from its toast, a model that can see at the attached images', async () => {
    const engine = { state: 'ready' as const, choice: { model: '/m.gguf', mmproj: '/p.gguf' }, info: modelInfo({ vision: true }), error: null, failure: null };
    const ipc = {
      appState: vi.fn(async () => appView({ engine })),
      listConversations: vi.fn(async () => [conversation(1)]),
      openConversation: vi.fn(async (id: number) => ({ conversation: conversation(id), branch: [] })),
      sendMessage: vi.fn(async () => {
        throw { code: 'cannot_see', message: 'gemma-3-1b-it cannot see images: switch to a vision model' };
      }),
      modelsOverview: vi.fn(async () => modelsOverview()),
      onMenu: vi.fn(async () => () => {}),
      onSpeech: vi.fn(async () => () => {}),
      onDragDrop: vi.fn(async () => () => {}),
    } as unknown as Ipc;
    const stores = storesOver(ipc);
    shown = mount(App, { target: document.body, props: { stores } });
    await vi.waitFor(() => expect(stores.chat.conversation?.id).toBe(1));
    stores.attachments.add({ images: [{ id: 4, name: 'cat.png', width: 1, height: 1, media_type: 'image/png' }], clips: [], refused: [] });
    await stores.chat.send('What is this?', [4]);
    flushSync();
    expect(document.querySelector('[data-testid=cannot-see]'), 'the window thought the model could see').toBeNull();
    const action = document.querySelector<HTMLButtonElement>('[data-testid=toast-action]')!;
    expect(action.textContent?.trim()).toBe('Choose a model that can see');
    action.click();
    flushSync();
    expect(document.querySelector('[data-testid=cannot-see]')).not.toBeNull();
    expect(stores.app.settingsOpen, 'the offer, not only the settings').toBe(false);
  });
});

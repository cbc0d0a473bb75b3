import { clearMocks, mockConvertFileSrc } from '@tauri-apps/api/mocks';
import type { DragDropEvent } from '@tauri-apps/api/webview';
import { flushSync, mount, unmount } from 'svelte';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { storesContext } from '../../context';
import type { Ipc } from '../../ipc';
import { appView, conversation, entry, InertResizeObserver, message, storesOver } from '../../testing';
import type { Attachment } from '../../types';
import ChatView from './ChatView.svelte';

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

const sha = 'c'.repeat(64);
const photo: Attachment = {
  id: 1, message_id: 1, sha256: sha, media_type: 'image/jpeg', size: 1000,
  width: 800, height: 600, duration_ms: null, name: 'harbour.jpg', created_at: 0,
};
const clip: Attachment = { ...photo, id: 2, sha256: 'd'.repeat(64), media_type: 'audio/wav', name: 'note.wav' };

/** The chat of a conversation whose question carries a photo (and a clip), over a fake shell. */
async function chatView() {
  let dropped: ((event: DragDropEvent) => void) | undefined;
  const unlisten = vi.fn();
  const question = { ...entry(message(1, { role: 'user', content: 'Where is this?' })), attachments: [photo, clip] };
  const ipc = {
    openConversation: vi.fn(async (id: number) => ({ conversation: conversation(id), branch: [question] })),
    attachImages: vi.fn(async () => ({ images: [{ id: 5, name: 'cat.png', width: 1, height: 1, media_type: 'image/png' }], clips: [], refused: [] })),
    onDragDrop: vi.fn(async (handler: (event: DragDropEvent) => void) => {
      dropped = handler;
      return unlisten;
    }),
  } as unknown as Ipc;
  const stores = storesOver(ipc);
  const { attachments } = stores;
  await stores.chat.open(1);
  shown = mount(ChatView, { target: document.body, props: { onOpen: () => {} }, context: storesContext(stores) });
  flushSync();
  await vi.waitFor(() => expect(dropped, 'the drop listener is set up').toBeDefined());
  const drag = (event: DragDropEvent) => {
    dropped!(event);
    flushSync();
  };
  return { ipc, attachments, drag, unlisten };
}

const position = { x: 0, y: 0 } as never;
const find = (testid: string) => document.querySelector<HTMLElement>(`[data-testid=${testid}]`);

describe('files dropped on the chat', () => {
  it('show the drop target while dragged over and are attached on drop', async () => {
    const { ipc, attachments, drag } = await chatView();
    expect(find('drop-target')).toBeNull();
    drag({ type: 'enter', paths: ['/home/me/cat.png'], position });
    expect(find('drop-target')?.textContent).toContain('Drop images to attach them');
    drag({ type: 'drop', paths: ['/home/me/cat.png'], position });
    expect(find('drop-target')).toBeNull();
    expect(ipc.attachImages).toHaveBeenCalledWith(['/home/me/cat.png']);
    await vi.waitFor(() => expect(attachments.ids).toEqual([5]));
  });

  it('stop being listened to when the chat goes', async () => {
    const { unlisten } = await chatView();
    unmount(shown!);
    shown = null;
    expect(unlisten).toHaveBeenCalledOnce();
  });
});

describe('a message’s images', () => {
  it('show as thumbnails above the text; audio does not', async () => {
    await chatView();
    const thumbnails = document.querySelectorAll<HTMLElement>('[data-testid=message-image]');
    expect(thumbnails).toHaveLength(1);
    const img = thumbnails[0].querySelector('img')!;
    expect(img.getAttribute('src')).toBe(`attachment://localhost/thumb%2F${sha}`);
    expect(img.alt).toBe('harbour.jpg');
    expect(thumbnails[0].tagName, 'Enter and Space open it too').toBe('BUTTON');
  });

  it('open enlarged on a click, and Esc closes the view, giving the focus back to the thumbnail', async () => {
    await chatView();
    const thumbnail = find('message-image')!;
    thumbnail.click();
    flushSync();
    const viewer = find('image-viewer')!;
    expect(viewer.querySelector('img')?.getAttribute('src')).toBe(`attachment://localhost/full%2F${sha}`);
    expect(viewer.contains(document.activeElement), 'the focus moved into the view').toBe(true);
    window.dispatchEvent(new KeyboardEvent('keydown', { key: 'Escape' }));
    flushSync();
    expect(find('image-viewer')).toBeNull();
    expect(document.activeElement, 'back where it was').toBe(thumbnail);
  });
});

describe('the open conversation’s system prompt', () => {
  it('is named in the header: a preset by its name, any other as the user’s own, none not at all', async () => {
    const analysis = { id: 'image-analysis', name: 'Image analysis', prompt: 'You analyse images.' };
    const withPrompt = (system_prompt: string | null) => conversation(1, { settings: { system_prompt, sampling: {} } });
    const ipc = {
      openConversation: vi.fn(async () => ({ conversation: withPrompt(analysis.prompt), branch: [] })),
      onDragDrop: vi.fn(async () => () => {}),
    } as unknown as Ipc;
    const stores = storesOver(ipc);
    stores.app.state = appView({ builtin_presets: [analysis] });
    await stores.chat.open(1);
    shown = mount(ChatView, { target: document.body, props: { onOpen: () => {} }, context: storesContext(stores) });
    flushSync();
    expect(find('system-prompt')?.textContent?.trim()).toBe('System prompt: Image analysis');
    expect(find('system-prompt')?.title, 'the whole prompt on hover').toBe('You analyse images.');
    stores.chat.conversation = withPrompt('Answer like a pirate.');
    flushSync();
    expect(find('system-prompt')?.textContent?.trim()).toBe('System prompt: Own system prompt');
    stores.chat.conversation = withPrompt(null);
    flushSync();
    expect(find('system-prompt')).toBeNull();
  });
});

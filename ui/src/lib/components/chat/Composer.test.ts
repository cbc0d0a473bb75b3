import { clearMocks, mockConvertFileSrc } from '@tauri-apps/api/mocks';
import { flushSync, mount, unmount } from 'svelte';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { storesContext } from '../../context';
import type { Ipc } from '../../ipc';
import { conversation, pendingImage, storesOver } from '../../testing';
import Composer from './Composer.svelte';

let shown: Record<string, unknown> | null = null;

beforeEach(() => mockConvertFileSrc('linux'));
afterEach(() => {
  if (shown) unmount(shown);
  shown = null;
  document.body.replaceChildren();
  clearMocks();
});

/** The composer of an open conversation, over a shell whose replies never start. */
async function composer() {
  const ipc = {
    openConversation: vi.fn(async (id: number) => ({ conversation: conversation(id), branch: [] })),
    sendMessage: vi.fn(() => new Promise(() => {})),
    pasteImage: vi.fn(async () => pendingImage(9, { name: null })),
    discardImage: vi.fn(async () => null),
  } as unknown as Ipc;
  const stores = storesOver(ipc);
  const { attachments } = stores;
  await stores.chat.open(1);
  shown = mount(Composer, { target: document.body, context: storesContext(stores) });
  flushSync();
  const get = <T extends HTMLElement>(testid: string) => document.querySelector<T>(`[data-testid=${testid}]`);
  return { ipc, attachments, get };
}

function paste(target: HTMLElement, text: string): ClipboardEvent {
  const event = new Event('paste', { bubbles: true, cancelable: true }) as ClipboardEvent;
  Object.defineProperty(event, 'clipboardData', { value: { types: text ? ['text/plain'] : [], getData: () => text } });
  target.dispatchEvent(event);
  return event;
}

describe('the composer with images', () => {
  it('shows each attached image with a button that removes it', async () => {
    const { attachments, get, ipc } = await composer();
    attachments.add({ images: [pendingImage(1, { name: 'cat.png' }), pendingImage(2, { name: null })], refused: [] });
    flushSync();
    const shownImages = [...document.querySelectorAll<HTMLElement>('[data-testid=composer-image]')];
    expect(shownImages.map((li) => li.querySelector('img')?.alt)).toEqual(['cat.png', 'Pasted image']);
    expect(shownImages[0].querySelector('img')?.getAttribute('src')).toBe('attachment://localhost/pending%2F1');
    const remove = shownImages[0].querySelector<HTMLButtonElement>('[data-testid=remove-image]')!;
    expect(remove.getAttribute('aria-label')).toBe('Remove cat.png');
    remove.click();
    flushSync();
    expect(ipc.discardImage).toHaveBeenCalledWith(1);
    expect(document.querySelectorAll('[data-testid=composer-image]')).toHaveLength(1);
    expect(get('attach-images')?.getAttribute('aria-label')).toBe('Attach images');
  });

  it('sends images without text, by id, and keeps them shown until the shell has stored them', async () => {
    const { attachments, get, ipc } = await composer();
    const send = get<HTMLButtonElement>('send-button')!;
    expect(send.disabled, 'nothing to send yet').toBe(true);
    attachments.add({ images: [pendingImage(4, { name: 'a.png' }), pendingImage(2, { name: 'b.png' })], refused: [] });
    flushSync();
    expect(send.disabled, 'images alone make a message').toBe(false);
    get('composer')!.dispatchEvent(new KeyboardEvent('keydown', { key: 'Enter', bubbles: true, cancelable: true }));
    flushSync();
    expect(ipc.sendMessage).toHaveBeenCalledWith(1, '', [4, 2], expect.any(Function));
    expect(document.querySelectorAll('[data-testid=composer-image]'), 'still there until started').toHaveLength(2);
    expect(document.querySelector('[data-testid=remove-image]'), 'removing one now would not unsend it').toBeNull();
  });

  it('leaves pasted text to the browser and asks the shell for a pasted image', async () => {
    const { ipc, get, attachments } = await composer();
    const textarea = get<HTMLTextAreaElement>('composer')!;
    expect(paste(textarea, 'hello').defaultPrevented, 'the browser pastes text').toBe(false);
    expect(ipc.pasteImage).not.toHaveBeenCalled();
    expect(paste(textarea, '').defaultPrevented).toBe(true);
    expect(ipc.pasteImage).toHaveBeenCalledOnce();
    await vi.waitFor(() => expect(attachments.ids).toEqual([9]));
  });
});

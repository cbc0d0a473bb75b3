import { clearMocks, mockConvertFileSrc } from '@tauri-apps/api/mocks';
import { flushSync, mount, unmount } from 'svelte';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { storesContext } from '../../context';
import type { Ipc } from '../../ipc';
import { appView, conversation, modelInfo, pendingImage, storesOver } from '../../testing';
import type { Preset } from '../../types';
import Composer from './Composer.svelte';

let shown: Record<string, unknown> | null = null;

beforeEach(() => mockConvertFileSrc('linux'));
afterEach(() => {
  if (shown) unmount(shown);
  shown = null;
  document.body.replaceChildren();
  clearMocks();
});

const general: Preset = { id: 'general', name: 'General assistant', prompt: 'You are Gemma.' };
const analysis: Preset = { id: 'image-analysis', name: 'Image analysis', prompt: 'You analyse images.' };
const comparison: Preset = { id: 'image-comparison', name: 'Image comparison', prompt: 'You compare images.' };

/**
 * The composer over a shell whose model can see; the open conversation (none when `open` is
 * false) starts without a system prompt, and the shell keeps the prompts it is given.
 */
async function composer({ open = true } = {}) {
  let stored = conversation(1);
  const ipc = {
    openConversation: vi.fn(async (id: number) => ({ conversation: id === stored.id ? stored : conversation(id), branch: [] })),
    createConversation: vi.fn(async (prompt: string | null) => {
      stored = conversation(7, { settings: { system_prompt: prompt, sampling: {} } });
      return stored;
    }),
    setSystemPrompt: vi.fn(async (id: number, prompt: string | null) => {
      stored = { ...stored, id, settings: { ...stored.settings, system_prompt: prompt } };
      return stored;
    }),
  } as unknown as Ipc;
  const stores = storesOver(ipc);
  const engine = { state: 'ready' as const, choice: { model: '/m.gguf', mmproj: '/p.gguf' }, info: modelInfo({ vision: true }), error: null, failure: null };
  stores.app.state = appView({ builtin_presets: [general, analysis, comparison], engine });
  if (open) await stores.chat.open(1);
  shown = mount(Composer, { target: document.body, context: storesContext(stores) });
  flushSync();
  let attached = 0;
  const attach = (count: number) => {
    stores.attachments.add({ images: Array.from({ length: count }, () => pendingImage(++attached)), clips: [], refused: [] });
    flushSync();
  };
  return { ipc, stores, attach };
}

const chips = () => [...document.querySelectorAll<HTMLButtonElement>('[data-testid=preset-chip]')];
const chip = (id: string) => document.querySelector<HTMLButtonElement>(`[data-testid=preset-chip][data-preset-id=${id}]`)!;
const pressed = () => chips().filter((button) => button.getAttribute('aria-pressed') === 'true').map((button) => button.dataset.presetId);

async function click(button: HTMLButtonElement): Promise<void> {
  button.click();
  flushSync();
  expect(button.disabled, 'one change at a time').toBe(true);
  await vi.waitFor(() => expect(button.disabled, 'the change has landed').toBe(false));
  flushSync();
}

describe('the image presets by the composer', () => {
  it('are hidden without images, offer analysis for one and comparison too from two', async () => {
    const { attach } = await composer();
    expect(document.querySelector('[data-testid=preset-chips]'), 'nothing attached').toBeNull();
    attach(1);
    expect(chips().map((button) => button.textContent?.trim())).toEqual(['Image analysis']);
    attach(1);
    expect(chips().map((button) => button.textContent?.trim())).toEqual(['Image analysis', 'Image comparison']);
  });

  it('set the open conversation’s system prompt in one click and show the chip as chosen', async () => {
    const { ipc, stores, attach } = await composer();
    attach(2);
    expect(pressed()).toEqual([]);
    await click(chip('image-analysis'));
    expect(ipc.setSystemPrompt).toHaveBeenCalledWith(1, 'You analyse images.');
    expect(stores.chat.conversation?.settings.system_prompt).toBe('You analyse images.');
    expect(pressed()).toEqual(['image-analysis']);
    expect(stores.conversations.get(1)?.settings.system_prompt, 'the sidebar’s record follows').toBe('You analyse images.');
  });

  it('switch to the other preset, and clicked again go back to the prompt the conversation had', async () => {
    const { ipc, attach } = await composer();
    attach(2);
    await click(chip('image-analysis'));
    await click(chip('image-comparison'));
    expect(ipc.setSystemPrompt).toHaveBeenLastCalledWith(1, 'You compare images.');
    expect(pressed()).toEqual(['image-comparison']);
    await click(chip('image-comparison'));
    expect(ipc.setSystemPrompt, 'it had none before either chip').toHaveBeenLastCalledWith(1, null);
    expect(pressed()).toEqual([]);
  });

  it('start a chat with the preset when none is open, for the message about to be sent', async () => {
    const { ipc, stores, attach } = await composer({ open: false });
    attach(1);
    await click(chip('image-analysis'));
    expect(ipc.createConversation).toHaveBeenCalledWith('You analyse images.');
    expect(ipc.setSystemPrompt).not.toHaveBeenCalled();
    expect(stores.chat.conversation?.id, 'the new chat is open').toBe(7);
    expect(pressed()).toEqual(['image-analysis']);
  });
});

import { clearMocks, mockConvertFileSrc } from '@tauri-apps/api/mocks';
import { flushSync, mount, unmount } from 'svelte';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { storesContext } from '../../context';
import type { Ipc } from '../../ipc';
import { appView, conversation, installedView, message, modelInfo, modelsOverview, pendingImage, settings, storesOver } from '../../testing';
import type { ChatEvent, EngineStatus, InstalledView, RecordingProgress } from '../../types';
import Composer from './Composer.svelte';

let shown: Record<string, unknown> | null = null;

beforeEach(() => mockConvertFileSrc('linux'));
afterEach(() => {
  if (shown) unmount(shown);
  shown = null;
  document.body.replaceChildren();
  clearMocks();
});

/** The composer of an open conversation, over a shell whose replies never start unless `sendMessage` says. */
async function composer(
  sendMessage: (...args: never[]) => Promise<unknown> = () => new Promise(() => {}),
  view: ReturnType<typeof appView> | null = null,
) {
  const ipc = {
    openConversation: vi.fn(async (id: number) => ({ conversation: conversation(id), branch: [] })),
    sendMessage: vi.fn(sendMessage),
    pasteImage: vi.fn(async () => pendingImage(9, { name: null })),
    discardImage: vi.fn(async () => null),
  } as unknown as Ipc;
  const stores = storesOver(ipc);
  const { attachments } = stores;
  if (view) stores.app.state = view;
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
    attachments.add({ images: [pendingImage(1, { name: 'cat.png' }), pendingImage(2, { name: null })], clips: [], refused: [] });
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
    attachments.add({ images: [pendingImage(4, { name: 'a.png' }), pendingImage(2, { name: 'b.png' })], clips: [], refused: [] });
    flushSync();
    expect(send.disabled, 'images alone make a message').toBe(false);
    get('composer')!.dispatchEvent(new KeyboardEvent('keydown', { key: 'Enter', bubbles: true, cancelable: true }));
    flushSync();
    expect(ipc.sendMessage).toHaveBeenCalledWith(1, '', [4, 2], expect.any(Function), null, null, false);
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

/** Gemma 4 E2B installed with its projector: it hears. */
const hearing = installedView('gemma-4-e2b-it', {
  name: 'Gemma 4 E2B',
  mmproj_path: '/home/me/.local/share/gemma-desk/models/gemma-4-e2b-it/mmproj.gguf',
  description: { ...installedView('gemma-4-e2b-it').description, caps: ['text', 'vision', 'audio'] },
});
/** Gemma 3 1B: it cannot hear. */
const small = installedView('gemma-3-1b-it', { name: 'Gemma 3 1B', is_default: true });

/** The engine with `model` loaded, hearing or not. */
function engine(model: InstalledView, audio: boolean): EngineStatus {
  const info = modelInfo({ path: model.model_path, audio });
  return { state: 'ready', choice: { model: model.model_path, mmproj: model.mmproj_path }, info, error: null, failure: null };
}

describe('a send that fails', () => {
  function type(textarea: HTMLTextAreaElement, text: string): void {
    textarea.value = text;
    textarea.dispatchEvent(new Event('input', { bubbles: true }));
    textarea.dispatchEvent(new KeyboardEvent('keydown', { key: 'Enter', bubbles: true, cancelable: true }));
    flushSync();
  }

  it('gives back what was typed when nothing was stored', async () => {
    const { get, ipc } = await composer(() => Promise.reject({ code: 'out_of_memory', message: 'Too little free memory.' }));
    const textarea = get<HTMLTextAreaElement>('composer')!;
    type(textarea, '  What is in this recording?');
    expect(ipc.sendMessage).toHaveBeenCalledWith(1, 'What is in this recording?', [], expect.any(Function), null, null, false);
    await vi.waitFor(() => expect(textarea.value).toBe('  What is in this recording?'));
  });

  it('keeps the composer empty once the question was stored', async () => {
    let failed = false;
    const { get } = await composer(async (...args: never[]) => {
      const onEvent = (args as unknown[])[3] as (event: ChatEvent) => void;
      const user = message(11, { content: 'Tell me more' });
      onEvent({ event: 'started', user, user_attachments: [], reply: message(12, { role: 'assistant', status: 'streaming', content: '' }) });
      failed = true;
      throw { code: 'engine', message: 'The engine stopped.' };
    });
    const textarea = get<HTMLTextAreaElement>('composer')!;
    type(textarea, 'Tell me more');
    await vi.waitFor(() => expect(failed).toBe(true));
    await new Promise((resolve) => setTimeout(resolve, 0));
    flushSync();
    expect(textarea.value, 'the question is in the conversation; typing it again would send it twice').toBe('');
  });
});

describe('push-to-talk in the composer', () => {
  /**
   * The composer over a shell that records on request and whose replies never start, with
   * `loaded` as the engine (by default a model that hears) and `installed` as the models.
   */
  async function talking(loaded: EngineStatus = engine(hearing, true), installed: InstalledView[] = [hearing]) {
    let report: (progress: RecordingProgress) => void = () => {};
    const ipc = {
      appState: vi.fn(async () => appView({ engine: loaded })),
      modelsOverview: vi.fn(async () => modelsOverview({ installed })),
      openConversation: vi.fn(async (id: number) => ({ conversation: conversation(id), branch: [] })),
      sendMessage: vi.fn(() => new Promise(() => {})),
      startRecording: vi.fn(async (onProgress: (progress: RecordingProgress) => void) => {
        report = onProgress;
        return null;
      }),
      finishRecording: vi.fn(async () => ({ clip: { id: 5, name: 'recording.wav', duration_ms: 2300 }, note: null })),
      cancelRecording: vi.fn(async () => null),
      discardImage: vi.fn(async () => null),
    } as unknown as Ipc;
    const stores = storesOver(ipc);
    await stores.app.load();
    await stores.chat.open(1);
    shown = mount(Composer, { target: document.body, context: storesContext(stores) });
    flushSync();
    const get = <T extends HTMLElement>(testid: string) => document.querySelector<T>(`[data-testid=${testid}]`);
    const progress = (level: number) => {
      report({ recorded_ms: 1500, level, ending_soon: false, stopped: false, speech_ended: false });
      flushSync();
    };
    return { ipc, stores, get, progress };
  }

  const key = (type: 'keydown' | 'keyup', code: string, ctrlKey: boolean) =>
    window.dispatchEvent(new KeyboardEvent(type, { code, key: code === 'Space' ? ' ' : code, ctrlKey, bubbles: true, cancelable: true }));

  it('records while the shortcut is held, shows the meter, and sends the clip with the typed text on release', async () => {
    const { ipc, get, progress } = await talking();
    const textarea = get<HTMLTextAreaElement>('composer')!;
    textarea.value = 'What did I say?';
    textarea.dispatchEvent(new Event('input', { bubbles: true }));
    key('keydown', 'Space', true);
    await vi.waitFor(() => expect(ipc.startRecording).toHaveBeenCalledTimes(1));
    flushSync();
    progress(0.8);
    expect(get('recording')?.dataset.level).toBe('0.80');
    expect(get('recording-time')?.textContent).toContain('1.5 s');
    key('keyup', 'Space', false);
    await vi.waitFor(() => expect(ipc.finishRecording).toHaveBeenCalledTimes(1));
    await vi.waitFor(() => expect(ipc.sendMessage).toHaveBeenCalledWith(1, 'What did I say?', [5], expect.any(Function), null, null, false));
  });

  it('ignores the key without its modifier (typing a space) and cancels on Esc', async () => {
    const { ipc, get } = await talking();
    key('keydown', 'Space', false);
    expect(ipc.startRecording).not.toHaveBeenCalled();
    get<HTMLButtonElement>('talk-button')!.dispatchEvent(new PointerEvent('pointerdown', { bubbles: true }));
    await vi.waitFor(() => expect(ipc.startRecording).toHaveBeenCalledTimes(1));
    flushSync();
    expect(get('recording')).not.toBeNull();
    window.dispatchEvent(new KeyboardEvent('keydown', { key: 'Escape', code: 'Escape', bubbles: true }));
    await vi.waitFor(() => expect(ipc.cancelRecording).toHaveBeenCalledTimes(1));
    flushSync();
    expect(get('recording')).toBeNull();
    expect(ipc.finishRecording).not.toHaveBeenCalled();
    expect(ipc.sendMessage).not.toHaveBeenCalled();
  });

  it('records for a model that cannot hear, and sends what the installed model that hears writes down', async () => {
    const { ipc, get } = await talking(engine(small, false), [small, hearing]);
    await vi.waitFor(() => expect(ipc.modelsOverview).toHaveBeenCalled());
    await vi.waitFor(() => expect(get('talk-button')?.title).toContain('Gemma 4 E2B will write down what you say'));
    key('keydown', 'Space', true);
    await vi.waitFor(() => expect(ipc.startRecording).toHaveBeenCalledWith(expect.any(Function), 'gemma-4-e2b-it'));
    key('keyup', 'Space', false);
    await vi.waitFor(() =>
      expect(ipc.sendMessage).toHaveBeenCalledWith(1, '', [5], expect.any(Function), null, 'gemma-4-e2b-it', false),
    );
  });

  it('shows the ways out instead of recording when no installed model can hear', async () => {
    const { ipc, get } = await talking(engine(small, false), [small]);
    await vi.waitFor(() => expect(ipc.modelsOverview).toHaveBeenCalled());
    key('keydown', 'Space', true);
    await vi.waitFor(() => expect(get('cannot-hear')?.textContent).toContain('Gemma 3 1B cannot hear sound.'));
    await vi.waitFor(() => expect(get('download-audio')?.textContent).toContain('Gemma 4 E2B'));
    expect(get('transcribe-with'), 'nothing to transcribe yet, and nothing that could').toBeNull();
    expect(ipc.startRecording).not.toHaveBeenCalled();
    expect(document.activeElement).toBe(get('cannot-hear'));
  });
});

describe('the composer with tools', () => {
  it('offers "Use a tool" only when tools are on, for the next send alone', async () => {
    const off = await composer();
    expect(off.get('use-tool'), 'tools are off in Settings').toBeNull();
    clearAll();
    let finish!: () => void;
    const { get, ipc } = await composer(
      () => new Promise<void>((resolve) => (finish = resolve)),
      appView({ settings: settings({ tools_enabled: true }) }),
    );
    const toggle = get<HTMLButtonElement>('use-tool')!;
    toggle.click();
    flushSync();
    expect(toggle.getAttribute('aria-pressed')).toBe('true');
    const box = get<HTMLTextAreaElement>('composer')!;
    box.value = 'What is 2 + 3?';
    box.dispatchEvent(new Event('input', { bubbles: true }));
    box.dispatchEvent(new KeyboardEvent('keydown', { key: 'Enter', bubbles: true, cancelable: true }));
    flushSync();
    expect(ipc.sendMessage).toHaveBeenCalledWith(1, 'What is 2 + 3?', [], expect.any(Function), null, null, true);
    expect(toggle.getAttribute('aria-pressed'), 'for that send alone').toBe('false');
    finish();
  });
});

function clearAll(): void {
  if (shown) unmount(shown);
  shown = null;
  document.body.replaceChildren();
}

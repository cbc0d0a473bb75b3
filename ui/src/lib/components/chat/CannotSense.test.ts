import { clearMocks, mockConvertFileSrc } from '@tauri-apps/api/mocks';
import { flushSync, mount, unmount } from 'svelte';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { storesContext } from '../../context';
import type { Ipc } from '../../ipc';
import { appView, conversation, installedModel, installedView, modelInfo, modelsOverview, pendingImage, storesOver } from '../../testing';
import type { EngineStatus, ModelsOverview } from '../../types';
import Composer from './Composer.svelte';

let shown: Record<string, unknown> | null = null;

beforeEach(() => mockConvertFileSrc('linux'));
afterEach(() => {
  if (shown) unmount(shown);
  shown = null;
  document.body.replaceChildren();
  clearMocks();
});

const models = '/home/me/.local/share/gemma-desk/models';
/** Gemma 3 1B as installed: it has no projector, so it cannot see. */
const small = installedView('gemma-3-1b-it', { name: 'Gemma 3 1B', is_default: true });
/** Gemma 3 4B installed with its vision projector. */
const seeing = installedView('gemma-3-4b-it', {
  name: 'Gemma 3 4B',
  mmproj_path: `${models}/gemma-3-4b-it/mmproj-model-f16.gguf`,
  description: { architecture: 'gemma3', quantization: 'Q4_K_M', context_length: 131072, layers: 34, caps: ['text', 'vision'], licence: 'gemma' },
});
/** Gemma 3 4B installed without its projector. */
const blind4b = installedView('gemma-3-4b-it', { name: 'Gemma 3 4B' });

function loaded(model: { model_path: string; mmproj_path: string | null }, vision: boolean): EngineStatus {
  const info = modelInfo({ path: model.model_path, vision });
  return { state: 'ready', choice: { model: model.model_path, mmproj: model.mmproj_path }, info, error: null, failure: null };
}

/** The composer of an open conversation with `engine` loaded and `overview` as the models. */
async function composer(engine: EngineStatus, overview: ModelsOverview) {
  const ipc = {
    openConversation: vi.fn(async (id: number) => ({ conversation: conversation(id), branch: [] })),
    sendMessage: vi.fn(() => new Promise(() => {})),
    modelsOverview: vi.fn(async () => overview),
    useModel: vi.fn(async () => loaded(seeing, true)),
    appState: vi.fn(async () => appView({ engine: loaded(seeing, true) })),
    downloadModel: vi.fn(async (id: string) => ({ status: 'installed', model: { ...installedModel(id), mmproj_path: '/p.gguf' } })),
    discardImage: vi.fn(async () => null),
  } as unknown as Ipc;
  const stores = storesOver(ipc);
  stores.app.state = appView({ engine });
  await stores.chat.open(1);
  const component = mount(Composer, { target: document.body, context: storesContext(stores) });
  shown = component;
  flushSync();
  const attach = () => {
    stores.attachments.add({ images: [pendingImage(3, { name: 'harbour.jpg', media_type: 'image/jpeg' })], clips: [], refused: [] });
    flushSync();
  };
  const attachClip = () => {
    stores.attachments.addClip({ id: 6, name: 'question.wav', duration_ms: 2000 });
    flushSync();
  };
  return { ipc, stores, attach, attachClip, component: component as unknown as { offerVision: () => boolean } };
}

const find = <T extends HTMLElement = HTMLElement>(testid: string) => document.querySelector<T>(`[data-testid=${testid}]`);

describe('images for a model that cannot see', () => {
  it('are answered at the attachments, naming the model, and only once images are attached', async () => {
    const { attach } = await composer(loaded(small, false), modelsOverview({ installed: [small, seeing] }));
    expect(find('cannot-see'), 'no images, nothing to say').toBeNull();
    attach();
    await vi.waitFor(() => expect(find('switch-to-vision')).not.toBeNull());
    expect(find('cannot-see')?.textContent).toContain('Gemma 3 1B cannot see images.');
  });

  it('are not sent with the text alone: Send waits and Enter goes to the notice', async () => {
    const { ipc, attach } = await composer(loaded(small, false), modelsOverview({ installed: [small, seeing] }));
    attach();
    const textarea = find<HTMLTextAreaElement>('composer')!;
    textarea.value = 'Where is this?';
    textarea.dispatchEvent(new Event('input', { bubbles: true }));
    flushSync();
    expect(find<HTMLButtonElement>('send-button')!.disabled).toBe(true);
    textarea.dispatchEvent(new KeyboardEvent('keydown', { key: 'Enter', bubbles: true, cancelable: true }));
    flushSync();
    expect(ipc.sendMessage).not.toHaveBeenCalled();
    expect(document.activeElement, 'the way out has the focus').toBe(find('cannot-see'));
  });

  it('offer the installed models that can see, and switch to one with use_model', async () => {
    const { ipc, attach } = await composer(loaded(small, false), modelsOverview({ installed: [small, seeing] }));
    attach();
    await vi.waitFor(() => expect(find('switch-to-vision')).not.toBeNull());
    const offered = [...document.querySelectorAll<HTMLButtonElement>('[data-testid=switch-to-vision]')];
    expect(offered.map((button) => button.dataset.modelId), 'not the model that cannot see').toEqual(['gemma-3-4b-it']);
    expect(offered[0].textContent?.trim()).toBe('Use Gemma 3 4B');
    offered[0].click();
    expect(ipc.useModel).toHaveBeenCalledWith('gemma-3-4b-it');
    await vi.waitFor(() => expect(find('cannot-see'), 'the new model sees').toBeNull());
    expect(find<HTMLButtonElement>('send-button')!.disabled).toBe(false);
  });

  it('offer the recommended vision model to download with its projector, once its licence is accepted', async () => {
    const overview = modelsOverview({ installed: [small] });
    const { ipc, attach } = await composer(loaded(small, false), overview);
    attach();
    await vi.waitFor(() => expect(find('download-vision')).not.toBeNull());
    expect(find('switch-to-vision'), 'none installed').toBeNull();
    const download = find<HTMLButtonElement>('download-vision')!;
    expect(download.textContent?.trim()).toBe('Download Gemma 3-4b with its projector (3.3 GB)');
    expect(download.disabled, 'the licence first').toBe(true);
    const accept = find('cannot-see')!.querySelector<HTMLInputElement>('[data-testid=licence-accept]')!;
    accept.click();
    flushSync();
    download.click();
    expect(ipc.downloadModel).toHaveBeenCalledWith('gemma-3-4b-it', true, true, expect.any(Function));
    await vi.waitFor(() => expect(ipc.useModel, 'used once installed').toHaveBeenCalledWith('gemma-3-4b-it'));
  });

  it('offer no download of a model that is installed already, without its projector', async () => {
    const { attach } = await composer(loaded(blind4b, false), modelsOverview({ installed: [blind4b] }));
    attach();
    await vi.waitFor(() => expect(find('cannot-see')?.textContent, 'the models are known').toContain('Gemma 3 4B cannot see images.'));
    expect(find('download-vision'), 'the shell would refuse: it is installed').toBeNull();
  });

  it('say nothing when the model can see, until a refused send asks for the offer', async () => {
    const { attach, component, stores } = await composer(loaded(seeing, true), modelsOverview({ installed: [small, seeing] }));
    expect(component.offerVision(), 'no images, no offer').toBe(false);
    attach();
    expect(find('cannot-see')).toBeNull();
    expect(find<HTMLButtonElement>('send-button')!.disabled).toBe(false);
    expect(component.offerVision()).toBe(true);
    flushSync();
    expect(find('cannot-see'), 'the cannot_see toast leads here').not.toBeNull();
    stores.app.setEngine(loaded(seeing, true));
    flushSync();
    expect(find('cannot-see'), 'another model was loaded: it is asked again').toBeNull();
  });
});

/** Gemma 4 E2B installed with its projector, which hears. */
const hearing = installedView('gemma-4-e2b-it', {
  name: 'Gemma 4 E2B',
  mmproj_path: `${models}/gemma-4-e2b-it/mmproj.gguf`,
  description: { ...installedView('gemma-4-e2b-it').description, caps: ['text', 'vision', 'audio'] },
});

describe('sound for a model that cannot hear', () => {
  it('is not sent as it is: the offer names the model and Enter goes to it', async () => {
    const { ipc, attachClip } = await composer(loaded(small, false), modelsOverview({ installed: [small, hearing] }));
    expect(find('cannot-hear'), 'no clip, nothing to say').toBeNull();
    attachClip();
    await vi.waitFor(() => expect(find('transcribe-with')).not.toBeNull());
    expect(find('cannot-hear')?.textContent).toContain('Gemma 3 1B cannot hear sound.');
    expect(find<HTMLButtonElement>('send-button')!.disabled).toBe(true);
    const textarea = find<HTMLTextAreaElement>('composer')!;
    textarea.dispatchEvent(new KeyboardEvent('keydown', { key: 'Enter', bubbles: true, cancelable: true }));
    flushSync();
    expect(ipc.sendMessage).not.toHaveBeenCalled();
    expect(document.activeElement).toBe(find('cannot-hear'));
  });

  it('is sent as the text the installed model that hears writes down, with what was typed', async () => {
    const { ipc, attachClip } = await composer(loaded(small, false), modelsOverview({ installed: [small, hearing] }));
    attachClip();
    const textarea = find<HTMLTextAreaElement>('composer')!;
    textarea.value = 'Answer briefly.';
    textarea.dispatchEvent(new Event('input', { bubbles: true }));
    await vi.waitFor(() => expect(find('transcribe-with')).not.toBeNull());
    const transcribe = find<HTMLButtonElement>('transcribe-with')!;
    expect(transcribe.textContent?.trim()).toBe('Send as text, written down by Gemma 4 E2B');
    transcribe.click();
    expect(ipc.sendMessage).toHaveBeenCalledWith(1, 'Answer briefly.', [6], expect.any(Function), null, 'gemma-4-e2b-it', false);
  });

  it('offers a switch to the model that hears, and the voice model to download', async () => {
    const { ipc, attachClip } = await composer(loaded(small, false), modelsOverview({ installed: [small, hearing] }));
    attachClip();
    await vi.waitFor(() => expect(find('switch-to-audio')).not.toBeNull());
    find<HTMLButtonElement>('switch-to-audio')!.click();
    expect(ipc.useModel).toHaveBeenCalledWith('gemma-4-e2b-it');
    shown && unmount(shown);
    shown = null;
    document.body.replaceChildren();
    const none = await composer(loaded(small, false), modelsOverview({ installed: [small] }));
    none.attachClip();
    await vi.waitFor(() => expect(find('download-audio')).not.toBeNull());
    expect(find('transcribe-with'), 'no installed model hears').toBeNull();
  });
});

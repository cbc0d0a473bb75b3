import { clearMocks, mockIPC } from '@tauri-apps/api/mocks';
import { emit } from '@tauri-apps/api/event';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { AppError, ipc } from './ipc';
import { conversation, message } from './testing';
import type { ChatEvent, Progress } from './types';

afterEach(() => clearMocks());

/** Sends `message` on a channel the way the shell does: with its index, possibly out of order. */
function sendOnChannel(channel: unknown, index: number, payload: ChatEvent | Progress): void {
  const id = (channel as { id: number }).id;
  const internals = (window as unknown as { __TAURI_INTERNALS__: { runCallback: (id: number, data: unknown) => void } })
    .__TAURI_INTERNALS__;
  internals.runCallback(id, { index, message: payload });
}

describe('the IPC module', () => {
  it('sends the contract argument names (camelCase keys)', async () => {
    const calls: [string, unknown][] = [];
    mockIPC((cmd, args) => {
      calls.push([cmd, args]);
      if (cmd === 'create_conversation') return conversation(1);
      if (cmd === 'list_conversations') return [];
      return null;
    });
    await ipc.listConversations(50, 10);
    await ipc.createConversation('Be brief.');
    await ipc.renameConversation(3, 'New');
    await ipc.setPinned(3, true);
    await ipc.setSystemPrompt(3, 'You analyse images.');
    await ipc.switchBranch(3, 8);
    await ipc.siblingIds(8);
    await ipc.searchMessages('rust', 20);
    await ipc.exportConversation(3, 'markdown');
    await ipc.pickModelFile('mmproj');
    await ipc.loadModel({ model: '/m.gguf', mmproj: null });
    await ipc.openExternal('https://example.com');
    await ipc.stopReply();
    expect(calls).toEqual([
      ['list_conversations', { limit: 50, offset: 10 }],
      ['create_conversation', { systemPrompt: 'Be brief.' }],
      ['rename_conversation', { id: 3, title: 'New' }],
      ['set_pinned', { id: 3, pinned: true }],
      ['set_system_prompt', { conversationId: 3, prompt: 'You analyse images.' }],
      ['switch_branch', { conversationId: 3, messageId: 8 }],
      ['sibling_ids', { messageId: 8 }],
      ['search_messages', { query: 'rust', limit: 20 }],
      ['export_conversation', { id: 3, format: 'markdown' }],
      ['pick_model_file', { kind: 'mmproj' }],
      ['load_model', { choice: { model: '/m.gguf', mmproj: null } }],
      ['open_external', { url: 'https://example.com' }],
      ['stop_reply', {}],
    ]);
  });

  it('turns a rejected { code, message } into an AppError', async () => {
    mockIPC(() => {
      throw { code: 'not_found', message: 'conversation 9 not found; was it deleted?' };
    });
    const failure = await ipc.openConversation(9).catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(AppError);
    expect(failure).toMatchObject({ code: 'not_found', message: 'conversation 9 not found; was it deleted?' });
  });

  it('maps unknown codes and plain strings to io errors', () => {
    expect(AppError.from({ code: 'weird', message: 'x' }).code).toBe('io');
    expect(AppError.from('boom')).toMatchObject({ code: 'io', message: 'boom' });
  });

  it('delivers reply events in order, even when they arrive out of order', async () => {
    const reply = message(2, { role: 'assistant', content: 'ab', status: 'done' });
    let received: Record<string, unknown> = {};
    mockIPC((cmd, args) => {
      if (cmd !== 'send_message') return null;
      received = args as Record<string, unknown>;
      const channel = received.onEvent;
      sendOnChannel(channel, 0, { event: 'started', user: message(1), user_attachments: [], reply: { ...reply, content: '', status: 'streaming' } });
      sendOnChannel(channel, 2, { event: 'token', text: 'b' });
      sendOnChannel(channel, 1, { event: 'token', text: 'a' });
      sendOnChannel(channel, 3, { event: 'finished', reply, engine_died: null, stop_reason: 'end_of_turn', failure: null });
      return reply;
    });
    const events: ChatEvent[] = [];
    const result = await ipc.sendMessage(7, 'hello', [4, 2], (event) => events.push(event));
    expect(received.conversationId).toBe(7);
    expect(received.text).toBe('hello');
    expect(received.images, 'the attached images, in the order shown').toEqual([4, 2]);
    expect(events.map((e) => e.event)).toEqual(['started', 'token', 'token', 'finished']);
    expect(events.filter((e) => e.event === 'token').map((e) => (e as { text: string }).text).join('')).toBe('ab');
    expect(result).toEqual(reply);
  });

  it('sends the image commands their contract argument names', async () => {
    const calls: [string, unknown][] = [];
    mockIPC((cmd, args) => {
      calls.push([cmd, args]);
      return cmd === 'paste_image' ? null : { images: [], clips: [], refused: [] };
    });
    await ipc.attachImages(['/home/me/cat.png', '/home/me/dog.jpg']);
    await ipc.pickImages();
    await expect(ipc.pasteImage()).resolves.toBeNull();
    await ipc.discardImage(3);
    expect(calls).toEqual([
      ['attach_images', { paths: ['/home/me/cat.png', '/home/me/dog.jpg'] }],
      ['pick_images', {}],
      ['paste_image', {}],
      ['discard_image', { id: 3 }],
    ]);
  });

  it('keeps the cannot_see code, for the toast to offer another model', async () => {
    mockIPC(() => {
      throw { code: 'cannot_see', message: 'gemma-3-1b-it cannot see images: switch to a vision model' };
    });
    const failure = await ipc.sendMessage(1, '', [1], () => {}).catch((e: unknown) => e);
    expect(failure).toMatchObject({ code: 'cannot_see' });
  });

  it('passes messageId and the channel to regenerate and edit', async () => {
    const seen: [string, string[]][] = [];
    mockIPC((cmd, args) => {
      seen.push([cmd, Object.keys(args as object).sort()]);
      return message(5);
    });
    await ipc.regenerateReply(4, () => {});
    await ipc.editMessage(3, 'again', () => {});
    expect(seen).toEqual([
      ['regenerate_reply', ['messageId', 'onEvent']],
      ['edit_message', ['messageId', 'onEvent', 'text']],
    ]);
  });

  it('listens to the menu events', async () => {
    mockIPC(() => null, { shouldMockEvents: true });
    const handler = vi.fn();
    const stop = await ipc.onMenu(handler);
    await emit('menu://search');
    await emit('menu://new-chat');
    expect(handler.mock.calls).toEqual([['menu://search'], ['menu://new-chat']]);
    stop();
    await emit('menu://settings');
    expect(handler).toHaveBeenCalledTimes(2);
  });

  it('sends the model commands their contract argument names', async () => {
    const calls: [string, unknown][] = [];
    mockIPC((cmd, args) => {
      calls.push([cmd, args]);
      return null;
    });
    await ipc.modelsOverview();
    await ipc.pauseDownload('gemma-3-4b-it');
    await ipc.cancelDownload('gemma-3-4b-it');
    await ipc.useModel('gemma-3-4b-it');
    await ipc.deleteModel('gemma-3-1b-it');
    await ipc.importModel('/m.gguf', null, 'link');
    expect(calls).toEqual([
      ['models_overview', {}],
      ['pause_download', { id: 'gemma-3-4b-it' }],
      ['cancel_download', { id: 'gemma-3-4b-it' }],
      ['use_model', { id: 'gemma-3-4b-it' }],
      ['delete_model', { id: 'gemma-3-1b-it' }],
      ['import_model', { model: '/m.gguf', mmproj: null, mode: 'link' }],
    ]);
  });

  it('hands download progress from the channel to the caller and resolves with the outcome', async () => {
    let received: Record<string, unknown> = {};
    const progress = (done: number): Progress => ({
      phase: 'downloading',
      file: 0,
      files: 1,
      file_name: 'gemma-3-1b-it-Q4_K_M.gguf',
      done,
      total: 800,
      bytes_per_second: 100,
      seconds_left: (800 - done) / 100,
      note: null,
    });
    mockIPC((cmd, args) => {
      if (cmd !== 'download_model') return null;
      received = args as Record<string, unknown>;
      sendOnChannel(received.onProgress, 1, progress(400));
      sendOnChannel(received.onProgress, 0, progress(200));
      return { status: 'paused', model: null };
    });
    const seen: number[] = [];
    const outcome = await ipc.downloadModel('gemma-3-1b-it', false, true, (p) => seen.push(p.done));
    expect(received).toMatchObject({ id: 'gemma-3-1b-it', withMmproj: false, acceptLicence: true });
    expect(seen, 'progress arrives in the order it was sent').toEqual([200, 400]);
    expect(outcome).toEqual({ status: 'paused', model: null });
  });

  it('keeps the download error code so the failure can be shown as a failed download', async () => {
    mockIPC(() => {
      throw { code: 'download', message: 'the server refused the file (401); is a Hugging Face token needed?' };
    });
    const failure = await ipc.downloadModel('x', false, true, () => {}).catch((e: unknown) => e);
    expect(failure).toMatchObject({ code: 'download' });
  });
});

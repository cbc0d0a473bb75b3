import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { AppError, type Ipc } from '../ipc';
import { conversation, entry, message, pendingImage } from '../testing';
import type { Attachment, ChatEvent, Message } from '../types';
import { AttachmentsStore } from './attachments.svelte';
import { ChatStore, STOP_CLICK_GUARD_MS, type FrameScheduler } from './chat.svelte';
import { ConversationsStore, sortConversations } from './conversations.svelte';
import { ToastStore } from './toasts.svelte';

describe('conversation list ordering', () => {
  it('puts pinned conversations first, then the most recently updated', () => {
    const sorted = sortConversations([
      conversation(1, { updated_at: 10 }),
      conversation(2, { updated_at: 30 }),
      conversation(3, { updated_at: 5, pinned: true }),
      conversation(4, { updated_at: 20 }),
      conversation(5, { updated_at: 1, pinned: true }),
    ]);
    expect(sorted.map((c) => c.id)).toEqual([3, 5, 2, 4, 1]);
  });

  it('moves a conversation to its new place when it is pinned, renamed or updated', async () => {
    const ipc = {
      listConversations: vi.fn(async () => [conversation(2, { updated_at: 20 }), conversation(1, { updated_at: 10 })]),
      setPinned: vi.fn(async (id: number, pinned: boolean) => conversation(id, { updated_at: 10, pinned })),
    } as unknown as Ipc;
    const store = new ConversationsStore(ipc);
    await store.load();
    expect(store.items.map((c) => c.id)).toEqual([2, 1]);
    await store.togglePin(1);
    expect(ipc.setPinned).toHaveBeenCalledWith(1, true);
    expect(store.items.map((c) => c.id), 'the pinned one goes on top').toEqual([1, 2]);
    store.upsert(conversation(3, { updated_at: 99 }));
    expect(store.items.map((c) => c.id), 'a new one goes under the pinned').toEqual([1, 3, 2]);
  });

  it('takes a deleted conversation out and puts it back on restore', async () => {
    const ipc = {
      listConversations: vi.fn(async () => [conversation(2), conversation(1)]),
      deleteConversation: vi.fn(async () => null),
      restoreConversation: vi.fn(async (id: number) => conversation(id)),
    } as unknown as Ipc;
    const store = new ConversationsStore(ipc);
    await store.load();
    const removed = await store.remove(2);
    expect(removed?.id).toBe(2);
    expect(store.items.map((c) => c.id)).toEqual([1]);
    await store.restore(2);
    expect(store.items.map((c) => c.id)).toEqual([2, 1]);
  });
});

/** A frame scheduler the test advances by hand. */
function manualFrames(): FrameScheduler & { run: () => void; pending: number } {
  let queued: (() => void) | null = null;
  const frames = {
    pending: 0,
    request(flush: () => void) {
      queued = flush;
      frames.pending++;
      return frames.pending;
    },
    cancel() {
      queued = null;
    },
    run() {
      const flush = queued;
      queued = null;
      flush?.();
    },
  };
  return frames;
}

function attachment(id: number, messageId: number, name: string | null): Attachment {
  return { id, message_id: messageId, sha256: String(id).repeat(64).slice(0, 64), media_type: 'image/png', size: 100, width: 64, height: 64, duration_ms: null, name, created_at: 0 };
}

function chatIpc(reply: (emit: (event: ChatEvent) => void) => Promise<Message>, stored: Message[] = []) {
  const user = message(11, { role: 'user', content: 'hi' });
  return {
    user,
    ipc: {
      openConversation: vi.fn(async (id: number) => ({ conversation: conversation(id), branch: stored.map((m) => entry(m)) })),
      sendMessage: vi.fn((_id: number, _text: string, _images: number[], onEvent: (event: ChatEvent) => void) => reply(onEvent)),
      stopReply: vi.fn(async () => null),
    } as unknown as Ipc,
  };
}

describe('the streaming reply', () => {
  it('goes started → tokens (flushed once per frame) → finished', async () => {
    const frames = manualFrames();
    const streaming = message(12, { role: 'assistant', content: '', status: 'streaming' });
    const done = message(12, { role: 'assistant', content: 'Hello there', status: 'done' });
    let emit!: (event: ChatEvent) => void;
    let resolve!: (m: Message) => void;
    const { ipc, user } = chatIpc((onEvent) => {
      emit = onEvent;
      return new Promise((r) => (resolve = r));
    });
    const onFinished = vi.fn();
    const onQuestionStored = vi.fn();
    const chat = new ChatStore(ipc, { onFinished, onQuestionStored }, frames);
    await chat.open(1);
    const sent = chat.send('hi');
    expect(chat.phase).toBe('waiting');

    emit({ event: 'started', user, user_attachments: [], reply: streaming });
    expect(onQuestionStored, 'the sidebar learns the new title at once').toHaveBeenCalledWith(1);
    expect(chat.phase, 'the prompt is being read').toBe('prompt');
    expect(chat.branch.map((e) => e.message.id)).toEqual([11, 12]);

    emit({ event: 'token', text: 'Hel' });
    emit({ event: 'token', text: 'lo' });
    expect(chat.phase).toBe('generating');
    expect(chat.streamText, 'tokens wait for the next frame').toBe('');
    expect(frames.pending, 'one frame requested for many tokens').toBe(1);
    frames.run();
    expect(chat.textOf(streaming)).toBe('Hello');

    emit({ event: 'token', text: ' there' });
    emit({ event: 'finished', reply: done, engine_died: null, stop_reason: 'end_of_turn', failure: null });
    expect(chat.phase).toBe('idle');
    expect(chat.branch[1].message.content, 'the final reply replaces the streamed one').toBe('Hello there');
    resolve(done);
    await expect(sent).resolves.toEqual(done);
    expect(onFinished).toHaveBeenCalledWith(1);
  });

  it('shows the engine loading before the reply starts', async () => {
    let emit!: (event: ChatEvent) => void;
    const { ipc, user } = chatIpc((onEvent) => {
      emit = onEvent;
      return new Promise(() => {});
    });
    const chat = new ChatStore(ipc, {}, manualFrames());
    await chat.open(1);
    void chat.send('hi');
    emit({ event: 'loading' });
    expect(chat.phase).toBe('loading');
    emit({ event: 'started', user, user_attachments: [], reply: message(12, { role: 'assistant', status: 'streaming', content: '' }) });
    emit({ event: 'token', text: 'x' });
    expect(chat.phase).toBe('generating');
  });

  it('keeps the partial reply and the cause when the engine dies', async () => {
    const interrupted = message(12, { role: 'assistant', content: 'Partial', status: 'interrupted' });
    const { ipc, user } = chatIpc(async (emit) => {
      emit({ event: 'started', user, user_attachments: [], reply: message(12, { role: 'assistant', status: 'streaming', content: '' }) });
      emit({ event: 'token', text: 'Partial' });
      emit({ event: 'finished', reply: interrupted, engine_died: 'killed by signal 9', stop_reason: 'interrupted', failure: null });
      return interrupted;
    });
    const stored: Message[] = [];
    Object.assign(ipc, { openConversation: vi.fn(async () => ({ conversation: conversation(1), branch: stored.map((m) => entry(m)) })) });
    stored.push(message(11), interrupted);
    const chat = new ChatStore(ipc, {}, manualFrames());
    await chat.open(1);
    await chat.send('hi');
    expect(chat.phase).toBe('idle');
    expect(chat.deaths.get(12)).toBe('killed by signal 9');
    expect(chat.branch[1].message.status).toBe('interrupted');
  });

  it('reports busy and goes back to idle when the shell refuses a second reply', async () => {
    const { ipc } = chatIpc(async () => {
      throw { code: 'busy', message: 'a reply is already running; stop it first' };
    });
    const onError = vi.fn();
    const chat = new ChatStore(ipc, { onError }, manualFrames());
    await chat.open(1);
    await expect(chat.send('hi')).resolves.toBeNull();
    expect(chat.phase).toBe('idle');
    expect(onError).toHaveBeenCalledTimes(1);
    const error = onError.mock.calls[0][0];
    expect(error).toBeInstanceOf(AppError);
    expect(error.code).toBe('busy');
  });

  it('does not start a second reply while one runs', async () => {
    const { ipc } = chatIpc(() => new Promise(() => {}));
    const onError = vi.fn();
    const chat = new ChatStore(ipc, { onError }, manualFrames());
    await chat.open(1);
    void chat.send('one');
    await expect(chat.send('two')).resolves.toBeNull();
    expect(ipc.sendMessage).toHaveBeenCalledTimes(1);
    expect(onError.mock.calls[0][0].code).toBe('busy');
  });

  it('keeps a stop pressed right after the send until the shell has taken the turn (issue 10)', async () => {
    let emit!: (event: ChatEvent) => void;
    const { ipc, user } = chatIpc((onEvent) => {
      emit = onEvent;
      return new Promise(() => {});
    });
    const chat = new ChatStore(ipc, {}, manualFrames());
    await chat.open(1);
    void chat.send('hi');
    expect(chat.busy, 'busy from the moment the send is invoked').toBe(true);
    void chat.stop();
    expect(ipc.stopReply, 'before started the shell may not have the turn yet').not.toHaveBeenCalled();
    emit({ event: 'started', user, user_attachments: [], reply: message(12, { role: 'assistant', status: 'streaming', content: '' }) });
    expect(ipc.stopReply, 'sent once the shell has the turn').toHaveBeenCalledTimes(1);
    emit({ event: 'loading' });
    emit({ event: 'token', text: 'x' });
    expect(ipc.stopReply, 'the stop is not sent again on later events').toHaveBeenCalledTimes(1);
  });

  it('says which model writes down a clip, and stops the transcription at once', async () => {
    let emit!: (event: ChatEvent) => void;
    let fail!: (error: unknown) => void;
    const { ipc } = chatIpc((onEvent) => {
      emit = onEvent;
      return new Promise((_, reject) => (fail = reject));
    });
    const onError = vi.fn();
    const chat = new ChatStore(ipc, { onError }, manualFrames());
    await chat.open(1);
    const sent = chat.send('', [6], { transcriber: 'gemma-4-e2b-it' });
    expect(ipc.sendMessage).toHaveBeenCalledWith(1, '', [6], expect.any(Function), null, 'gemma-4-e2b-it', false);
    emit({ event: 'transcribing', model: 'Gemma 4 E2B' });
    expect([chat.phase, chat.transcribingWith]).toEqual(['transcribing', 'Gemma 4 E2B']);
    void chat.stop();
    expect(ipc.stopReply, 'the shell has the turn: the stop goes now').toHaveBeenCalledTimes(1);
    fail({ code: 'cancelled', message: 'stopped' });
    expect(await sent).toBeNull();
    expect(chat.busy).toBe(false);
    expect(onError, 'a stop the user asked for is no error').not.toHaveBeenCalled();
  });

  it('forgets a stop kept for a turn that never started', async () => {
    let emit!: (event: ChatEvent) => void;
    let calls = 0;
    const { ipc, user } = chatIpc((onEvent) => {
      emit = onEvent;
      calls += 1;
      return calls === 1 ? Promise.reject({ code: 'no_model', message: 'no model' }) : new Promise(() => {});
    });
    const chat = new ChatStore(ipc, {}, manualFrames());
    await chat.open(1);
    const first = chat.send('hi');
    void chat.stop();
    await first;
    void chat.send('again');
    emit({ event: 'started', user, user_attachments: [], reply: message(12, { role: 'assistant', status: 'streaming', content: '' }) });
    expect(ipc.stopReply, 'the stop belonged to the turn that failed').not.toHaveBeenCalled();
  });

  it('ignores a pointer click on Stop right after Send, the second click of a double-click (issue 10)', async () => {
    let now = 1000;
    let emit!: (event: ChatEvent) => void;
    const { ipc, user } = chatIpc((onEvent) => {
      emit = onEvent;
      return new Promise(() => {});
    });
    const chat = new ChatStore(ipc, {}, manualFrames(), () => now);
    await chat.open(1);
    void chat.send('hi');
    emit({ event: 'started', user, user_attachments: [], reply: message(12, { role: 'assistant', status: 'streaming', content: '' }) });
    now += 120;
    await chat.stopFromPointer();
    expect(ipc.stopReply, 'a double-click on Send must not stop the reply it started').not.toHaveBeenCalled();
    await chat.stop();
    expect(ipc.stopReply, 'a key (Esc, or Enter on Stop) stops at once').toHaveBeenCalledTimes(1);
    now += STOP_CLICK_GUARD_MS;
    await chat.stopFromPointer();
    expect(ipc.stopReply, 'a click once Stop has been there a while stops').toHaveBeenCalledTimes(2);
  });

  it('places a regenerated reply as the newest sibling of the old one', async () => {
    const old = message(12, { role: 'assistant' });
    let emit!: (event: ChatEvent) => void;
    const ipc = {
      openConversation: vi.fn(async () => ({ conversation: conversation(1), branch: [entry(message(11)), entry(old)] })),
      regenerateReply: vi.fn((_id: number, onEvent: (event: ChatEvent) => void) => {
        emit = onEvent;
        return new Promise(() => {});
      }),
    } as unknown as Ipc;
    const chat = new ChatStore(ipc, {}, manualFrames());
    await chat.open(1);
    void chat.regenerate(12);
    emit({ event: 'started', user: null, user_attachments: [], reply: message(13, { role: 'assistant', status: 'streaming', content: '' }) });
    expect(chat.branch.map((e) => [e.message.id, e.sibling_index, e.sibling_count])).toEqual([
      [11, 1, 1],
      [13, 2, 2],
    ]);
  });

  it('sends the attached images by id, in order, and forgets them once the message is stored', async () => {
    let emit!: (event: ChatEvent) => void;
    const { ipc, user } = chatIpc((onEvent) => {
      emit = onEvent;
      return new Promise(() => {});
    });
    const attachments = new AttachmentsStore(ipc);
    attachments.add({ images: [pendingImage(4), pendingImage(2)], clips: [], refused: [] });
    const chat = new ChatStore(ipc, { onImagesSent: (ids) => attachments.sent(ids) }, manualFrames());
    await chat.open(1);
    void chat.send('', attachments.ids);
    expect(ipc.sendMessage, 'no text is needed beside images').toHaveBeenCalledWith(1, '', [4, 2], expect.any(Function), null, null, false);
    expect(attachments.ids, 'still shown until the shell has stored the message').toEqual([4, 2]);

    const stored = [attachment(4, user.id, 'cat.png'), attachment(2, user.id, null)];
    emit({ event: 'started', user, user_attachments: stored, reply: message(12, { role: 'assistant', status: 'streaming', content: '' }) });
    expect(attachments.ids, 'the shell forgot them at started').toEqual([]);
    expect(chat.branch[0].attachments, 'the question shows its images at once').toEqual(stored);
  });

  it('keeps the attached images when the send fails before the message is stored', async () => {
    const { ipc } = chatIpc(async () => {
      throw { code: 'cannot_see', message: 'gemma-3-1b-it cannot see images: switch to a vision model' };
    });
    const attachments = new AttachmentsStore(ipc);
    attachments.add({ images: [pendingImage(1)], clips: [], refused: [] });
    const onError = vi.fn();
    const chat = new ChatStore(ipc, { onError, onImagesSent: (ids) => attachments.sent(ids) }, manualFrames());
    await chat.open(1);
    await expect(chat.send('what is this?', attachments.ids)).resolves.toBeNull();
    expect(attachments.ids, 'to send again with a model that can see').toEqual([1]);
    expect(onError.mock.calls[0][0].code).toBe('cannot_see');
  });

  it('switches to a sibling by the ids the shell lists', async () => {
    const ipc = {
      openConversation: vi.fn(async () => ({ conversation: conversation(1), branch: [] })),
      siblingIds: vi.fn(async () => [5, 9, 14]),
      switchBranch: vi.fn(async () => [entry(message(14), 3, 3)]),
    } as unknown as Ipc;
    const chat = new ChatStore(ipc, {}, manualFrames());
    await chat.open(1);
    await chat.switchSibling(9, 1);
    expect(ipc.switchBranch).toHaveBeenCalledWith(1, 14);
    await chat.switchSibling(5, -1);
    expect(ipc.switchBranch, 'no sibling before the first').toHaveBeenCalledTimes(1);
  });
});

describe('toasts (issue 10: the same notice is not stacked)', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('counts a notice shown again instead of stacking it', () => {
    const toasts = new ToastStore();
    const first = toasts.show('Settings saved.');
    expect(toasts.show('Settings saved.'), 'the same toast').toBe(first);
    toasts.show('Settings saved.');
    expect(toasts.items).toHaveLength(1);
    expect(toasts.items[0].count, 'shown as ×3').toBe(3);
  });

  it('keeps notices of another kind, title, text or button apart', () => {
    const toasts = new ToastStore();
    toasts.show('Disk full.');
    toasts.show('Disk full.', { kind: 'error' });
    toasts.show('Disk full.', { kind: 'error', title: 'Download failed' });
    toasts.show('Disk nearly full.');
    toasts.show('Disk full.', { kind: 'error', action: { label: 'Retry', run: () => {} } });
    expect(toasts.items.map((toast) => toast.count), 'a button makes another notice').toEqual([1, 1, 1, 1, 1]);
  });

  it('starts the time of a merged notice again', () => {
    const toasts = new ToastStore();
    toasts.show('Settings saved.');
    vi.advanceTimersByTime(4000);
    toasts.show('Settings saved.');
    vi.advanceTimersByTime(4000);
    expect(toasts.items, 'still there 4 s after it was shown again').toHaveLength(1);
    vi.advanceTimersByTime(1000);
    expect(toasts.items, 'gone 5 s after the last time').toHaveLength(0);
  });

  it('runs the undo of every merged notice', () => {
    const toasts = new ToastStore();
    const undos = [vi.fn(), vi.fn(), vi.fn()];
    for (const run of undos) toasts.show('Deleted “Untitled”.', { action: { label: 'Undo', run } });
    expect(toasts.items).toHaveLength(1);
    toasts.items[0].action?.run();
    for (const undo of undos) expect(undo, 'each deleted conversation comes back').toHaveBeenCalledTimes(1);
  });

  it('shows a notice anew once the earlier one has gone', () => {
    const toasts = new ToastStore();
    const first = toasts.show('Settings saved.');
    toasts.dismiss(first);
    const second = toasts.show('Settings saved.');
    expect(second).not.toBe(first);
    expect(toasts.items.map((toast) => toast.count)).toEqual([1]);
    vi.advanceTimersByTime(4999);
    expect(toasts.items, "the first one's timer does not take the new one away").toHaveLength(1);
  });
});

describe('a turn that calls tools', () => {
  const call = { id: 'call_1', name: 'calculator', arguments: { expression: '2+3' } };

  it('shows the calls, waits for the user, adds the result and streams the next reply', async () => {
    const frames = manualFrames();
    let emit!: (event: ChatEvent) => void;
    let resolve!: (m: Message) => void;
    const { ipc, user } = chatIpc((onEvent) => {
      emit = onEvent;
      return new Promise((r) => (resolve = r));
    });
    (ipc as unknown as { answerToolCall: unknown }).answerToolCall = vi.fn(async () => null);
    const onToolAllowedAlways = vi.fn();
    const chat = new ChatStore(ipc, { onToolAllowedAlways }, frames);
    await chat.open(1);
    void chat.send('What is 2 + 3?');
    emit({ event: 'started', user, user_attachments: [], reply: message(12, { role: 'assistant', status: 'streaming', content: '' }) });
    emit({ event: 'token', text: '<|tool_call>call:calculator{' });
    frames.run();
    const called = message(12, { role: 'assistant', content: '', tool: { kind: 'calls', calls: [call] } });
    emit({ event: 'tool_calls', reply: called });
    expect(chat.textOf(called), 'the stored text, without the call').toBe('');
    expect(chat.branch.map((e) => e.message.tool?.kind ?? null)).toEqual([null, 'calls']);

    emit({ event: 'confirm_tool', call, picks_file: false });
    expect(chat.toolCall).toEqual(call);
    await chat.answerToolCall('always_allow');
    expect(ipc.answerToolCall).toHaveBeenCalledWith('call_1', 'always_allow');
    expect(onToolAllowedAlways).toHaveBeenCalledTimes(1);
    expect(chat.toolCall).toBeNull();

    const result = message(13, {
      role: 'tool',
      content: '5',
      tool: { kind: 'result', call_id: 'call_1', name: 'calculator', outcome: 'answered' },
    });
    emit({ event: 'tool_result', message: result });
    const next = message(14, { role: 'assistant', status: 'streaming', content: '' });
    emit({ event: 'continued', reply: next });
    emit({ event: 'token', text: 'It is 5.' });
    frames.run();
    expect(chat.textOf(next)).toBe('It is 5.');
    expect(chat.branch.map((e) => e.message.role)).toEqual(['user', 'assistant', 'tool', 'assistant']);
    const done = { ...next, status: 'done' as const, content: 'It is 5.' };
    emit({ event: 'finished', reply: done, engine_died: null, stop_reason: 'end_of_turn', failure: null });
    resolve(done);
    expect(chat.busy).toBe(false);
  });

  it('forgets a waiting call when the turn ends', async () => {
    let emit!: (event: ChatEvent) => void;
    const { ipc, user } = chatIpc((onEvent) => {
      emit = onEvent;
      return new Promise(() => {});
    });
    const chat = new ChatStore(ipc, {}, manualFrames());
    await chat.open(1);
    void chat.send('hi');
    const reply = message(12, { role: 'assistant', status: 'streaming', content: '' });
    emit({ event: 'started', user, user_attachments: [], reply });
    emit({ event: 'confirm_tool', call, picks_file: false });
    emit({ event: 'finished', reply: { ...reply, status: 'done' }, engine_died: null, stop_reason: 'cancelled', failure: null });
    expect(chat.toolCall).toBeNull();
  });
});

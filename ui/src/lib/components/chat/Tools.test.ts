import { clearMocks, mockConvertFileSrc } from '@tauri-apps/api/mocks';
import { flushSync, mount, unmount } from 'svelte';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { storesContext } from '../../context';
import type { Ipc } from '../../ipc';
import { conversation, entry, InertResizeObserver, message, storesOver } from '../../testing';
import type { ChatEvent, Message } from '../../types';
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

const hostile = '<img src=x onerror=alert(1)>';
const call = { id: 'call_1', name: 'calculator', arguments: { expression: hostile } };
const question = message(1, { role: 'user', content: 'What is 2 + 3?' });
const called = message(2, { role: 'assistant', content: '', tool: { kind: 'calls', calls: [call] } });
const result = message(3, {
  role: 'tool',
  content: `error: ${hostile}`,
  tool: { kind: 'result', call_id: 'call_1', name: 'calculator', outcome: 'failed' },
});
const find = (testid: string) => document.querySelector<HTMLElement>(`[data-testid=${testid}]`);

/** The chat of a conversation whose reply called the calculator, over a fake shell. */
async function chatView(branch: Message[]) {
  let emit!: (event: ChatEvent) => void;
  const ipc = {
    openConversation: vi.fn(async (id: number) => ({ conversation: conversation(id), branch: branch.map((m) => entry(m)) })),
    sendMessage: vi.fn((_id: number, _text: string, _images: number[], onEvent: (event: ChatEvent) => void) => {
      emit = onEvent;
      return new Promise(() => {});
    }),
    answerToolCall: vi.fn(async () => null),
    onDragDrop: vi.fn(async () => () => {}),
  } as unknown as Ipc;
  const stores = storesOver(ipc);
  await stores.chat.open(1);
  shown = mount(ChatView, { target: document.body, props: { onOpen: () => {} }, context: storesContext(stores) });
  flushSync();
  return { ipc, stores, emit: (event: ChatEvent) => (emit(event), flushSync()) };
}

describe('tool calls in the window', () => {
  it('shows a stored call and its folded result as text, never as HTML', async () => {
    await chatView([question, called, result]);
    const shownCall = find('tool-call')!;
    expect(shownCall.dataset.tool).toBe('calculator');
    expect(shownCall.textContent).toContain(hostile);
    const folded = find('tool-result') as HTMLDetailsElement;
    expect(folded.open, 'folded').toBe(false);
    expect(folded.dataset.outcome).toBe('failed');
    expect(folded.querySelector('summary')!.textContent).toContain('Result of calculator · failed');
    expect(folded.querySelector('pre')!.textContent).toBe(`error: ${hostile}`);
    expect(document.querySelector('img'), 'no element from model output').toBeNull();
  });

  it('asks before a call runs and sends the answer', async () => {
    const { ipc, stores, emit } = await chatView([]);
    void stores.chat.send('What is 2 + 3?');
    emit({ event: 'started', user: question, user_attachments: [], reply: message(2, { role: 'assistant', status: 'streaming', content: '' }) });
    emit({ event: 'tool_calls', reply: called });
    expect(find('tool-confirmation')).toBeNull();
    emit({ event: 'confirm_tool', call, picks_file: false });
    const card = find('tool-confirmation')!;
    expect(card.dataset.tool).toBe('calculator');
    expect(JSON.parse(find('tool-arguments')!.textContent!)).toEqual(call.arguments);
    expect(card.querySelector('img')).toBeNull();
    find('tool-allow-conversation')!.click();
    flushSync();
    expect(ipc.answerToolCall).toHaveBeenCalledWith('call_1', 'allow_in_conversation');
    expect(find('tool-confirmation'), 'gone once answered').toBeNull();
  });
});

describe('a call that reads a file', () => {
  it('asks the user to choose the file, not to run a path', async () => {
    const { ipc, stores, emit } = await chatView([]);
    void stores.chat.send('Summarise my notes');
    emit({ event: 'started', user: question, user_attachments: [], reply: message(2, { role: 'assistant', status: 'streaming', content: '' }) });
    const reading = { id: 'call_1', name: 'read_text_file', arguments: { purpose: 'Your notes, to summarise them' } };
    emit({ event: 'confirm_tool', call: reading, picks_file: true });
    expect(find('tool-purpose')!.textContent).toBe('Your notes, to summarise them');
    expect(find('tool-run'), 'no plain Run: the file is the answer').toBeNull();
    expect(find('tool-allow-always')).toBeNull();
    find('tool-pick-file')!.click();
    flushSync();
    expect(ipc.answerToolCall).toHaveBeenCalledWith('call_1', 'run');
  });
});

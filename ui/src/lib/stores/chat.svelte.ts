// The open conversation and the reply being streamed into it.
//
// A reply moves through explicit phases:
//   idle → waiting (request sent) → [loading (engine loading the model)] → prompt (started, the
//   prompt is being read) → generating (tokens arriving) → idle (finished: done, stopped,
//   interrupted or error; or the request rejected, e.g. `busy`).
// Tokens are buffered and flushed into `streamText` on an animation frame, at most every
// STREAM_INTERVAL_MS: in WebKitGTK with software rendering every frame that changes the page costs
// a full composite (~25 ms on 2 cores), so re-rendering the reply on every frame both drops the
// frame rate and takes the CPU the engine needs to decode.
import { SvelteMap } from 'svelte/reactivity';
import { AppError, type Ipc } from '../ipc';
import type { Attachment, BranchMessage, ChatEvent, Conversation, Message, StoredToolCall, ToolDecision } from '../types';

export type ReplyPhase = 'idle' | 'waiting' | 'transcribing' | 'loading' | 'prompt' | 'generating' | 'tools';

type ChatIpc = Pick<
  Ipc,
  | 'openConversation'
  | 'sendMessage'
  | 'regenerateReply'
  | 'editMessage'
  | 'stopReply'
  | 'answerToolCall'
  | 'switchBranch'
  | 'siblingIds'
  | 'setSystemPrompt'
>;

export interface ChatHooks {
  /** A notice from the engine (e.g. old turns left out to fit the context). */
  onNotice?: (message: string) => void;
  /** A request failed (not counting a user's own stop). */
  onError?: (error: AppError) => void;
  /** A question was stored; the conversation's title (from its first question) or time changed. */
  onQuestionStored?: (conversationId: number) => void;
  /** A reply ended; the conversation's title or time may have changed. */
  onFinished?: (conversationId: number) => void;
  /** The message carrying the attached images `ids` was stored: the shell no longer holds them. */
  onImagesSent?: (ids: number[]) => void;
  /** The user allowed a tool always: the shell changed the settings. */
  onToolAllowedAlways?: () => void;
}

/** Schedules `flush` for the next frame; returns a handle for `cancel`. */
export interface FrameScheduler {
  request: (flush: () => void) => number;
  cancel: (handle: number) => void;
}

/** How often at most the streamed text reaches the view (10 updates a second). */
export const STREAM_INTERVAL_MS = 100;

/**
 * How long after a reply starts a pointer click on Stop is taken for the second click of a
 * double-click on Send (Stop takes Send's place) and ignored (issue 10). Keys always stop.
 */
export const STOP_CLICK_GUARD_MS = 500;

export interface Clock {
  now: () => number;
  timeout: (run: () => void, ms: number) => number;
  clearTimeout: (handle: number) => void;
  frame: (run: () => void) => number;
  cancelFrame: (handle: number) => void;
}

const browserClock: Clock = {
  now: () => performance.now(),
  timeout: (run, ms) => setTimeout(run, ms) as unknown as number,
  clearTimeout: (handle) => clearTimeout(handle),
  frame: (run) => requestAnimationFrame(run),
  cancelFrame: (handle) => cancelAnimationFrame(handle),
};

/**
 * A scheduler that runs each flush on an animation frame, but no sooner than `interval` ms after
 * the previous one ran: waits with a timer (no frames are requested meanwhile), then takes the
 * next frame.
 */
export function pacedFrames(interval: number, clock: Clock = browserClock): FrameScheduler {
  let last = -Infinity;
  let next = 1;
  const live = new Map<number, { timer: number | null; frame: number | null }>();
  return {
    request(flush) {
      const handle = next++;
      const entry = { timer: null as number | null, frame: null as number | null };
      live.set(handle, entry);
      const onFrame = () => {
        entry.frame = clock.frame(() => {
          live.delete(handle);
          last = clock.now();
          flush();
        });
      };
      const wait = last + interval - clock.now();
      if (wait > 0) {
        entry.timer = clock.timeout(() => {
          entry.timer = null;
          onFrame();
        }, wait);
      } else {
        onFrame();
      }
      return handle;
    },
    cancel(handle) {
      const entry = live.get(handle);
      if (!entry) return;
      live.delete(handle);
      if (entry.timer !== null) clock.clearTimeout(entry.timer);
      if (entry.frame !== null) clock.cancelFrame(entry.frame);
    },
  };
}

const streamFrames = pacedFrames(STREAM_INTERVAL_MS);

type Mode =
  | { kind: 'send'; images: number[]; onStored?: () => void }
  | { kind: 'edit'; messageId: number }
  | { kind: 'regenerate'; messageId: number };

/** How a message is sent: `speak` and `transcriber` as `Ipc.sendMessage` takes them. */
export interface SendOptions {
  speak?: boolean | null;
  transcriber?: string | null;
  /** The reply must call one of the tools (`tool_choice: "required"`). */
  requireTool?: boolean;
  /** Called when the shell has stored the message (`started`). */
  onStored?: () => void;
}

function asBranchEntry(message: Message, siblingIndex = 1, siblingCount = 1, attachments: Attachment[] = []): BranchMessage {
  return { message, sibling_index: siblingIndex, sibling_count: siblingCount, attachments };
}

export class ChatStore {
  conversation = $state<Conversation | null>(null);
  branch = $state<BranchMessage[]>([]);
  phase = $state<ReplyPhase>('idle');
  /** The conversation the running reply belongs to. */
  streamConversationId = $state<number | null>(null);
  /** The model writing down the question's clips, while the phase is 'transcribing'. */
  transcribingWith = $state<string | null>(null);
  /** The tool call waiting for the user's word (answer it with `answerToolCall`). */
  toolCall = $state<StoredToolCall | null>(null);
  /** The waiting call runs on a file the user picks (the shell asks for it with the answer). */
  toolCallPicksFile = $state(false);
  /** The id of the reply being streamed, once 'started' has named it. */
  streamReplyId = $state<number | null>(null);
  /** The streamed text so far (flushed once per frame). */
  streamText = $state('');
  /** The user message being edited in place, if any. */
  editingId = $state<number | null>(null);
  /** Why the engine died, for replies that came back interrupted in this session. */
  readonly deaths = new SvelteMap<number, string>();

  /** A stop pressed before `started`, sent when it comes. */
  private stopAsked = false;
  private pending = '';
  private frame: number | null = null;
  /** When the running request was made (the moment Stop replaced Send). */
  private busySince = -Infinity;
  private readonly ipc: ChatIpc;
  private readonly hooks: ChatHooks;
  private readonly frames: FrameScheduler;
  private readonly now: () => number;

  constructor(
    ipc: ChatIpc,
    hooks: ChatHooks = {},
    frames: FrameScheduler = streamFrames,
    now: () => number = () => performance.now(),
  ) {
    this.ipc = ipc;
    this.hooks = hooks;
    this.frames = frames;
    this.now = now;
  }

  get busy(): boolean {
    return this.phase !== 'idle';
  }

  async open(id: number): Promise<void> {
    const opened = await this.ipc.openConversation(id);
    this.conversation = opened.conversation;
    this.branch = opened.branch;
  }

  close(): void {
    this.conversation = null;
    this.branch = [];
  }

  /** Re-reads the open conversation (after a reply, to learn the real sibling counts). */
  async refresh(): Promise<void> {
    if (this.conversation) await this.open(this.conversation.id);
  }

  /** Sets the open conversation's system prompt (null: none) for its next replies; the changed record. */
  async setSystemPrompt(prompt: string | null): Promise<Conversation | null> {
    const conversation = this.conversation;
    if (!conversation) return null;
    const changed = await this.ipc.setSystemPrompt(conversation.id, prompt);
    if (this.showing(changed.id)) this.conversation = changed;
    return changed;
  }

  /** Answers the tool call waiting for the user. */
  async answerToolCall(decision: ToolDecision): Promise<void> {
    const call = this.toolCall;
    if (!call) return;
    this.toolCall = null;
    try {
      await this.ipc.answerToolCall(call.id, decision);
      if (decision === 'always_allow') this.hooks.onToolAllowedAlways?.();
    } catch (raw) {
      this.hooks.onError?.(AppError.from(raw));
    }
  }

  /** The text to show for a message: the live stream for the reply being written. */
  textOf(message: Message): string {
    return message.id === this.streamReplyId ? this.streamText : message.content;
  }

  /**
   * Sends `text` with the attached images and clips `images` (their ids, in order; `text` may
   * then be empty). They stay attached until `started` says the message is stored, when
   * `onStored` is called: a send that fails before then stored nothing.
   */
  send(text: string, images: number[] = [], options: SendOptions = {}): Promise<Message | null> {
    const conversation = this.conversation;
    if (!conversation) return Promise.resolve(null);
    const { speak = null, transcriber = null, requireTool = false, onStored } = options;
    return this.run(conversation.id, { kind: 'send', images, onStored }, (onEvent) =>
      this.ipc.sendMessage(conversation.id, text, images, onEvent, speak, transcriber, requireTool),
    );
  }

  regenerate(messageId: number): Promise<Message | null> {
    const conversation = this.conversation;
    if (!conversation) return Promise.resolve(null);
    return this.run(conversation.id, { kind: 'regenerate', messageId }, (onEvent) =>
      this.ipc.regenerateReply(messageId, onEvent),
    );
  }

  edit(messageId: number, text: string): Promise<Message | null> {
    const conversation = this.conversation;
    if (!conversation) return Promise.resolve(null);
    return this.run(conversation.id, { kind: 'edit', messageId }, (onEvent) =>
      this.ipc.editMessage(messageId, text, onEvent),
    );
  }

  /**
   * Stops the running reply. Busy from the moment the request is made, but the shell only knows
   * the turn once it has taken it, which it says with `started`: a stop pressed before that (Esc in
   * the same breath as Enter) could reach the shell first and stop nothing, so it is kept and sent
   * when `started` comes. From then on the shell stops the turn whenever the stop arrives, even
   * before its reply has begun.
   */
  async stop(): Promise<void> {
    if (!this.busy) return;
    // A transcription has the turn already: the shell stops it (and nothing is stored).
    if (this.streamReplyId === null && this.phase !== 'transcribing') {
      this.stopAsked = true;
      return;
    }
    await this.ipc.stopReply();
  }

  /** Stop clicked with a pointer: ignored in the first STOP_CLICK_GUARD_MS of the reply. */
  stopFromPointer(): Promise<void> {
    if (this.now() - this.busySince < STOP_CLICK_GUARD_MS) return Promise.resolve();
    return this.stop();
  }

  /** Shows the previous (-1) or next (+1) sibling of a message of the branch. */
  async switchSibling(messageId: number, step: -1 | 1): Promise<void> {
    const conversation = this.conversation;
    if (!conversation || this.busy) return;
    const ids = await this.ipc.siblingIds(messageId);
    const target = ids[ids.indexOf(messageId) + step];
    if (target === undefined) return;
    const branch = await this.ipc.switchBranch(conversation.id, target);
    if (this.conversation?.id === conversation.id) this.branch = branch;
  }

  private async run(
    conversationId: number,
    mode: Mode,
    start: (onEvent: (event: ChatEvent) => void) => Promise<Message>,
  ): Promise<Message | null> {
    if (this.busy) {
      this.hooks.onError?.(new AppError('busy', 'A reply is still being written; stop it first or wait.'));
      return null;
    }
    this.phase = 'waiting';
    this.busySince = this.now();
    this.streamConversationId = conversationId;
    this.streamReplyId = null;
    this.streamText = '';
    this.pending = '';
    this.stopAsked = false;
    let finished = false;
    try {
      const reply = await start((event) => {
        if (event.event === 'finished') finished = true;
        this.handle(conversationId, mode, event);
      });
      if (!finished) this.finish(conversationId, reply, null);
      return reply;
    } catch (raw) {
      const error = AppError.from(raw);
      this.endStream();
      if (error.code !== 'cancelled') this.hooks.onError?.(error);
      await this.refreshIfShowing(conversationId);
      return null;
    }
  }

  /** Applies one event of the running reply. */
  private handle(conversationId: number, mode: Mode, event: ChatEvent): void {
    switch (event.event) {
      case 'started':
        if (mode.kind === 'send') mode.onStored?.();
        this.streamReplyId = event.reply.id;
        this.streamText = event.reply.content;
        if (this.stopAsked) {
          this.stopAsked = false;
          void this.ipc.stopReply();
        }
        if (this.phase !== 'loading') this.phase = 'prompt';
        if (this.showing(conversationId)) this.placeStarted(mode, event.user, event.user_attachments, event.reply);
        if (event.user) this.hooks.onQuestionStored?.(conversationId);
        if (mode.kind === 'send' && mode.images.length) this.hooks.onImagesSent?.(mode.images);
        break;
      case 'transcribing':
        this.phase = 'transcribing';
        this.transcribingWith = event.model;
        if (this.stopAsked) {
          this.stopAsked = false;
          void this.ipc.stopReply();
        }
        break;
      case 'loading':
        this.phase = 'loading';
        break;
      case 'token':
        this.phase = 'generating';
        this.pending += event.text;
        this.frame ??= this.frames.request(() => this.flush());
        break;
      case 'notice':
        this.hooks.onNotice?.(event.message);
        break;
      case 'tool_calls':
        // The reply as stored: its text without the calls, and the calls.
        this.flush();
        this.phase = 'tools';
        this.streamReplyId = null;
        this.streamText = '';
        this.replace(conversationId, event.reply);
        break;
      case 'confirm_tool':
        this.toolCall = event.call;
        this.toolCallPicksFile = event.picks_file;
        break;
      case 'tool_result':
        this.toolCall = null;
        if (this.showing(conversationId)) this.branch = [...this.branch, asBranchEntry(event.message)];
        break;
      case 'continued':
        this.phase = 'prompt';
        this.streamReplyId = event.reply.id;
        this.streamText = '';
        if (this.showing(conversationId)) this.branch = [...this.branch, asBranchEntry(event.reply)];
        break;
      case 'finished':
        this.finish(conversationId, event.reply, event.engine_died);
        break;
    }
  }

  private replace(conversationId: number, message: Message): void {
    if (this.showing(conversationId)) {
      this.branch = this.branch.map((entry) => (entry.message.id === message.id ? { ...entry, message } : entry));
    }
  }

  private placeStarted(mode: Mode, user: Message | null, userAttachments: Attachment[], reply: Message): void {
    if (mode.kind === 'send') {
      const added = user ? [asBranchEntry(user, 1, 1, userAttachments), asBranchEntry(reply)] : [asBranchEntry(reply)];
      this.branch = [...this.branch, ...added];
      return;
    }
    const at = this.branch.findIndex((entry) => entry.message.id === mode.messageId);
    const cut = at < 0 ? this.branch.length : at;
    const old = this.branch[at];
    const count = old ? old.sibling_count + 1 : 1;
    const head = this.branch.slice(0, cut);
    if (mode.kind === 'edit' && user) {
      this.branch = [...head, asBranchEntry(user, count, count, userAttachments), asBranchEntry(reply)];
    } else {
      this.branch = [...head, asBranchEntry(reply, count, count)];
    }
  }

  private flush(): void {
    if (this.frame !== null) this.frames.cancel(this.frame);
    this.frame = null;
    if (this.pending) {
      this.streamText += this.pending;
      this.pending = '';
    }
  }

  private finish(conversationId: number, reply: Message, engineDied: string | null): void {
    this.flush();
    if (engineDied) this.deaths.set(reply.id, engineDied);
    this.replace(conversationId, reply);
    this.endStream();
    this.hooks.onFinished?.(conversationId);
    void this.refreshIfShowing(conversationId);
  }

  private endStream(): void {
    this.flush();
    this.toolCall = null;
    this.phase = 'idle';
    this.streamConversationId = null;
    this.streamReplyId = null;
    this.streamText = '';
  }

  private showing(conversationId: number): boolean {
    return this.conversation?.id === conversationId;
  }

  private async refreshIfShowing(conversationId: number): Promise<void> {
    if (!this.showing(conversationId)) return;
    try {
      await this.open(conversationId);
    } catch {
      // The branch already shows the reply; the sibling counts catch up on the next open.
    }
  }
}

// Push-to-talk, conversation mode and spoken replies, as the window sees them.
//
// The shell records and speaks; this store follows it. A recording moves through
//   idle → starting (the device opening) → recording (progress every 50 ms) → finishing → idle,
// and a release that comes while the device is still opening finishes it as soon as it is open.
// Conversation mode listens, lets the shell's voice-activity detection end the turn, sends it,
// and listens again once the reply has been written and read aloud, until it is turned off.
import { AppError, type Ipc } from '../ipc';
import type { PendingClip, RecordingProgress, SpeechState } from '../types';
import type { AttachmentsStore } from './attachments.svelte';
import type { ChatStore } from './chat.svelte';
import type { ToastStore } from './toasts.svelte';

type VoiceIpc = Pick<Ipc, 'startRecording' | 'finishRecording' | 'cancelRecording' | 'speakText' | 'stopSpeaking'>;

/** How long conversation mode waits after a reply before it listens again. */
export const LISTEN_AGAIN_MS = 400;

export type RecorderPhase = 'idle' | 'starting' | 'recording' | 'finishing';

export interface VoiceHooks {
  /** A request failed: no microphone, nothing recorded, speech unavailable. */
  onError?: (error: AppError) => void;
  /** A recording ended before it was released (the limit, a device that went away). */
  onNote?: (message: string) => void;
  /**
   * A finished recording was attached; `turn` when conversation mode ended it (send it, written
   * down by `transcriber` when that is not null).
   */
  onClip?: (clip: PendingClip, turn: boolean, transcriber: string | null) => void;
}

/**
 * The hooks the app gives the voice store: failures and notes as toasts, recordings attached, and
 * a turn of conversation mode sent as it is and answered aloud.
 */
export function voiceHooks(toasts: ToastStore, attachments: AttachmentsStore, chat: ChatStore): VoiceHooks {
  return {
    onError: (error) => toasts.error(error),
    onNote: (note) => toasts.show(note, { kind: 'warning', ms: 8000 }),
    onClip: (clip, turn, transcriber) => {
      attachments.addClip(clip);
      if (turn) void chat.send('', attachments.ids, { speak: true, transcriber });
    },
  };
}

export class VoiceStore {
  phase = $state<RecorderPhase>('idle');
  progress = $state.raw<RecordingProgress | null>(null);
  /** The shell is reading a reply aloud. */
  speaking = $state(false);
  /** Hands-free: listen, answer aloud, listen again. */
  conversation = $state(false);
  /**
   * The installed model that writes down what is recorded, for a loaded model that cannot hear
   * (null when the model hears); set by each start, kept by conversation mode's turns.
   */
  transcriber = $state<string | null>(null);
  /** Released while the device was opening: finished once it is open (as a turn, or not). */
  private listenTimer: ReturnType<typeof setTimeout> | null = null;
  private releaseAsked: { turn: boolean; done: (clip: PendingClip | null) => void } | null = null;
  private readonly ipc: VoiceIpc;
  private readonly hooks: VoiceHooks;

  constructor(ipc: VoiceIpc, hooks: VoiceHooks = {}) {
    this.ipc = ipc;
    this.hooks = hooks;
  }

  get recording(): boolean {
    return this.phase !== 'idle';
  }

  /**
   * Push-to-talk pressed (or conversation mode listening): starts recording, for `transcriber`
   * to write down when the loaded model cannot hear.
   */
  async start(transcriber: string | null = this.transcriber): Promise<void> {
    if (this.phase !== 'idle') return;
    this.phase = 'starting';
    this.transcriber = transcriber;
    this.releaseAsked = null;
    this.speaking = false;
    try {
      await this.ipc.startRecording((progress) => this.follow(progress), transcriber);
    } catch (error) {
      this.phase = 'idle';
      this.conversation = false;
      this.takeRelease()?.done(null);
      this.hooks.onError?.(AppError.from(error));
      return;
    }
    if (this.phase !== 'starting') {
      // Cancelled while the device was opening.
      this.takeRelease()?.done(null);
      await this.ipc.cancelRecording().catch(() => {});
      return;
    }
    this.phase = 'recording';
    const release = this.takeRelease();
    if (release) release.done(await this.finish(release.turn));
  }

  private takeRelease(): { turn: boolean; done: (clip: PendingClip | null) => void } | null {
    const release = this.releaseAsked;
    this.releaseAsked = null;
    return release;
  }

  /**
   * Push-to-talk released: the clip is attached (the caller sends it); null when none was made.
   * Released while the device is still opening, it resolves once the recording could be finished.
   */
  async finish(turn = false): Promise<PendingClip | null> {
    if (this.phase === 'starting') {
      return new Promise((done) => (this.releaseAsked = { turn, done }));
    }
    if (this.phase !== 'recording') return null;
    this.phase = 'finishing';
    try {
      const recorded = await this.ipc.finishRecording();
      if (recorded.note) this.hooks.onNote?.(recorded.note);
      this.hooks.onClip?.(recorded.clip, turn, this.transcriber);
      return recorded.clip;
    } catch (error) {
      const failure = AppError.from(error);
      // A silent turn in conversation mode is the room, not a mistake: listen again.
      if (!(turn && failure.code === 'nothing_recorded')) this.hooks.onError?.(failure);
      return null;
    } finally {
      this.phase = 'idle';
      this.progress = null;
    }
  }

  /** Esc while recording: the recording is thrown away. */
  async cancel(): Promise<void> {
    if (this.phase === 'idle') return;
    this.phase = 'idle';
    this.progress = null;
    await this.ipc.cancelRecording().catch(() => {});
  }

  /** Reads a reply aloud (the play button). */
  async speak(text: string): Promise<void> {
    try {
      await this.ipc.speakText(text);
    } catch (error) {
      this.hooks.onError?.(AppError.from(error));
    }
  }

  /** Silences speech at once (Esc, Stop, or starting to talk). */
  async stopSpeaking(): Promise<void> {
    this.speaking = false;
    await this.ipc.stopSpeaking().catch(() => {});
  }

  /** What the shell's speaker says it is doing. */
  speech(state: SpeechState): void {
    this.speaking = state.state === 'speaking';
    if (state.state === 'failed') this.hooks.onError?.(new AppError('speech', state.message));
  }

  /**
   * Turns conversation mode on (it starts listening, for `transcriber` to write down when the
   * loaded model cannot hear) or off (it stops listening and speaking).
   */
  async setConversation(on: boolean, transcriber: string | null = null): Promise<void> {
    this.conversation = on;
    if (on) {
      await this.start(transcriber);
    } else {
      await this.cancel();
      await this.stopSpeaking();
    }
  }

  /**
   * Conversation mode listens again once the reply has been written (`replying` false) and read
   * aloud; called whenever either changes. It waits a moment first: the shell's word that it has
   * begun reading the reply's last sentences may arrive just after the reply itself, and
   * listening would silence them.
   */
  listenAgain(replying: boolean): void {
    const ready = () => this.conversation && !replying && !this.speaking && this.phase === 'idle';
    if (!ready() || this.listenTimer !== null) return;
    this.listenTimer = setTimeout(() => {
      this.listenTimer = null;
      if (ready()) void this.start();
    }, LISTEN_AGAIN_MS);
  }

  private follow(progress: RecordingProgress): void {
    if (this.phase === 'idle') return;
    this.progress = progress;
    if (this.conversation && (progress.speech_ended || progress.stopped)) void this.finish(true);
  }
}

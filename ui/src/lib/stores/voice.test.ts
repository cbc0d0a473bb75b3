import { describe, expect, it, vi } from 'vitest';
import { AppError, type Ipc } from '../ipc';
import type { PendingClip, RecordingProgress } from '../types';
import { LISTEN_AGAIN_MS, VoiceStore } from './voice.svelte';

const clip: PendingClip = { id: 7, name: 'recording.wav', duration_ms: 1800 };

function progress(fields: Partial<RecordingProgress> = {}): RecordingProgress {
  return { recorded_ms: 500, level: 0.6, ending_soon: false, stopped: false, speech_ended: false, ...fields };
}

/** A shell whose recording opens when `open` is called; `report` sends progress. */
function shell() {
  let report: (progress: RecordingProgress) => void = () => {};
  let open: () => void = () => {};
  const ipc = {
    startRecording: vi.fn((onProgress: (progress: RecordingProgress) => void) => {
      report = onProgress;
      return new Promise<null>((resolve) => (open = () => resolve(null)));
    }),
    finishRecording: vi.fn(async () => ({ clip, note: null as string | null })),
    cancelRecording: vi.fn(async () => null),
    speakText: vi.fn(async () => null),
    stopSpeaking: vi.fn(async () => null),
  };
  const hooks = { onError: vi.fn(), onNote: vi.fn(), onClip: vi.fn() };
  const voice = new VoiceStore(ipc as unknown as Ipc, hooks);
  return { ipc, hooks, voice, report: (p: RecordingProgress) => report(p), open: () => open() };
}

describe('push-to-talk', () => {
  it('records while held, follows the meter, and attaches the clip on release', async () => {
    const { ipc, hooks, voice, report, open } = shell();
    const started = voice.start();
    expect(voice.phase).toBe('starting');
    open();
    await started;
    expect(voice.phase).toBe('recording');
    report(progress({ level: 0.7, recorded_ms: 1200 }));
    expect(voice.progress?.level).toBe(0.7);
    expect(await voice.finish()).toEqual(clip);
    expect(ipc.finishRecording).toHaveBeenCalledTimes(1);
    expect(hooks.onClip).toHaveBeenCalledWith(clip, false, null);
    expect(voice.phase).toBe('idle');
    expect(voice.progress).toBeNull();
  });

  it('finishes as soon as the device is open when released while it was opening', async () => {
    const { ipc, hooks, voice, open } = shell();
    const started = voice.start();
    const released = voice.finish();
    expect(ipc.finishRecording).not.toHaveBeenCalled();
    open();
    await started;
    expect(await released).toEqual(clip);
    expect(ipc.finishRecording).toHaveBeenCalledTimes(1);
    expect(hooks.onClip).toHaveBeenCalledWith(clip, false, null);
  });

  it('throws the recording away on Esc, also while the device was opening', async () => {
    const { ipc, hooks, voice, open } = shell();
    const started = voice.start();
    const released = voice.finish();
    await voice.cancel();
    open();
    await started;
    expect(await released).toBeNull();
    expect(voice.phase).toBe('idle');
    expect(ipc.cancelRecording).toHaveBeenCalledTimes(2);
    expect(ipc.finishRecording).not.toHaveBeenCalled();
    expect(hooks.onClip).not.toHaveBeenCalled();
  });

  it('says why a recording ended early, and why none could be made', async () => {
    const { ipc, hooks, voice, open } = shell();
    ipc.finishRecording.mockResolvedValueOnce({ clip, note: 'Recording stopped: the microphone was disconnected.' });
    let started = voice.start();
    open();
    await started;
    await voice.finish();
    expect(hooks.onNote).toHaveBeenCalledWith('Recording stopped: the microphone was disconnected.');

    ipc.startRecording.mockRejectedValueOnce({ code: 'microphone', message: 'no microphone was found' });
    await voice.start();
    expect(voice.phase).toBe('idle');
    expect(hooks.onError).toHaveBeenLastCalledWith(new AppError('microphone', 'no microphone was found'));

    ipc.finishRecording.mockRejectedValueOnce({ code: 'nothing_recorded', message: 'nothing was said' });
    started = voice.start();
    open();
    await started;
    expect(await voice.finish()).toBeNull();
    expect(hooks.onError).toHaveBeenLastCalledWith(new AppError('nothing_recorded', 'nothing was said'));
  });
});

describe('conversation mode', () => {
  it('ends the turn when the speaker pauses, sends it, and listens again once answered', async () => {
    const { ipc, hooks, voice, report, open } = shell();
    const on = voice.setConversation(true);
    open();
    await on;
    report(progress({ speech_ended: false }));
    expect(ipc.finishRecording).not.toHaveBeenCalled();
    report(progress({ speech_ended: true }));
    await vi.waitFor(() => expect(hooks.onClip).toHaveBeenCalledWith(clip, true, null));
    // While the reply is written, and while it is read aloud, it does not listen.
    voice.listenAgain(true);
    voice.speech({ state: 'speaking' });
    voice.listenAgain(false);
    expect(ipc.startRecording).toHaveBeenCalledTimes(1);
    await new Promise((done) => setTimeout(done, LISTEN_AGAIN_MS + 50));
    expect(ipc.startRecording, 'not while the reply is read aloud').toHaveBeenCalledTimes(1);
    voice.speech({ state: 'quiet' });
    voice.listenAgain(false);
    await vi.waitFor(() => expect(ipc.startRecording).toHaveBeenCalledTimes(2));
  });

  it('takes a silent turn for the room and ends on Esc, silencing speech', async () => {
    const { ipc, hooks, voice, report, open } = shell();
    const on = voice.setConversation(true);
    open();
    await on;
    ipc.finishRecording.mockRejectedValueOnce({ code: 'nothing_recorded', message: 'silent' });
    report(progress({ stopped: true }));
    await vi.waitFor(() => expect(voice.phase).toBe('idle'));
    expect(hooks.onError).not.toHaveBeenCalled();
    await voice.setConversation(false);
    expect(ipc.stopSpeaking).toHaveBeenCalled();
    voice.listenAgain(false);
    await new Promise((done) => setTimeout(done, LISTEN_AGAIN_MS + 50));
    expect(ipc.startRecording).toHaveBeenCalledTimes(1);
  });
});

describe('spoken replies', () => {
  it('follows the speaker and shows its failure', () => {
    const { hooks, voice } = shell();
    voice.speech({ state: 'speaking' });
    expect(voice.speaking).toBe(true);
    voice.speech({ state: 'failed', message: 'the speech service failed' });
    expect(voice.speaking).toBe(false);
    expect(hooks.onError).toHaveBeenCalledWith(new AppError('speech', 'the speech service failed'));
  });
});

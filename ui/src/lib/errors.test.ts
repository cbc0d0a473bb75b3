import { describe, expect, it, vi } from 'vitest';
import { describeError, describeLoadFailure } from './errors';
import { AppError } from './ipc';
import { ToastStore } from './stores/toasts.svelte';

describe('the error table', () => {
  it('offers what helps for each llama.cpp failure', () => {
    expect(describeError({ code: 'out_of_memory', message: 'no room' }).action?.kind).toBe('engine_settings');
    expect(describeError({ code: 'projector_mismatch', message: 'wrong mmproj' }).action?.kind).toBe('models');
    expect(describeError({ code: 'unauthorized', message: 'gated' }).action?.kind).toBe('token');
    expect(describeError({ code: 'network', message: 'dropped' }).action?.kind).toBe('retry');
    expect(describeError({ code: 'bad_input', message: 'empty' }).action).toBeUndefined();
  });

  it('shows a failed load by what llama.cpp said went wrong', () => {
    expect(describeLoadFailure('device_lost', 'vk::DeviceLostError')).toMatchObject({
      code: 'gpu_lost',
      message: 'vk::DeviceLostError',
      action: { kind: 'engine_settings' },
    });
    expect(describeLoadFailure('projector_mismatch', 'mmproj').action?.kind).toBe('models');
    expect(describeLoadFailure(null, 'it exited')).toMatchObject({ code: 'engine', message: 'it exited' });
    expect(describeLoadFailure(null, 'it exited').action).toBeUndefined();
  });

  it('keeps Rust’s sentence and shows an unknown code as an io error', () => {
    const shown = describeError({ code: 'something_new', message: 'what happened' });
    expect(shown).toMatchObject({ code: 'io', message: 'what happened', severity: 'error' });
    expect(describeError(new Error('plain')).code).toBe('io');
  });
});

describe('toasts for failures', () => {
  it('carry the action the app handles, and none it does not', () => {
    vi.useFakeTimers();
    const toasts = new ToastStore();
    const openSettings = vi.fn();
    toasts.handle({ engine_settings: openSettings });
    toasts.error(new AppError('out_of_memory', 'the model ran out of memory'));
    toasts.error(new AppError('projector_mismatch', 'not this model’s projector'));
    const [oom, mismatch] = toasts.items;
    expect(oom.kind).toBe('error');
    oom.action?.run();
    expect(openSettings).toHaveBeenCalledOnce();
    expect(mismatch.action, 'no handler for models was given').toBeUndefined();
    vi.useRealTimers();
  });

  it('offer a model that can see when images were sent to one that cannot', () => {
    const toasts = new ToastStore();
    const openSettings = vi.fn();
    const offerVision = vi.fn();
    toasts.handle({ models: openSettings, vision: offerVision });
    toasts.error(new AppError('cannot_see', 'gemma-3-1b-it cannot see images: switch to a vision model'));
    const [toast] = toasts.items;
    expect(toast).toMatchObject({ title: 'This model cannot see images', text: 'gemma-3-1b-it cannot see images: switch to a vision model' });
    expect(toast.action?.label).toBe('Choose a model that can see');
    toast.action?.run();
    expect(offerVision, 'the composer’s offer of a model that can see').toHaveBeenCalledOnce();
    expect(openSettings, 'not only the settings').not.toHaveBeenCalled();
  });

  it('give panels the same buttons as the toasts', () => {
    const toasts = new ToastStore();
    const openSettings = vi.fn();
    toasts.handle({ token: openSettings });
    const gated = toasts.actionFor(describeError(new AppError('unauthorized', 'gated')));
    gated?.run();
    expect(openSettings).toHaveBeenCalledOnce();
    expect(toasts.actionFor(describeError(new AppError('no_space', 'full'))), 'nothing to offer').toBeUndefined();
  });

  it('offer a retry only where the caller can retry', () => {
    vi.useFakeTimers();
    const toasts = new ToastStore();
    const resume = vi.fn();
    toasts.error(new AppError('network', 'the connection dropped'));
    toasts.error(new AppError('network', 'the connection dropped'), { retry: resume });
    expect(toasts.items[0].action).toBeUndefined();
    toasts.items[1].action?.run();
    expect(resume).toHaveBeenCalledOnce();
    vi.useRealTimers();
  });
});

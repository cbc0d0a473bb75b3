import { describe, expect, it } from 'vitest';
import { pacedFrames, type Clock } from './chat.svelte';

/** A clock the test advances by hand: timers and animation frames run only when told. */
function fakeClock() {
  let now = 0;
  let next = 1;
  const timers = new Map<number, { at: number; run: () => void }>();
  const frames = new Map<number, () => void>();
  const clock: Clock & { advance: (ms: number) => void; frame_: () => void; frames: Map<number, () => void>; timers: typeof timers } = {
    now: () => now,
    timeout: (run, ms) => {
      timers.set(next, { at: now + ms, run });
      return next++;
    },
    clearTimeout: (handle) => void timers.delete(handle),
    frame: (run) => {
      frames.set(next, run);
      return next++;
    },
    cancelFrame: (handle) => void frames.delete(handle),
    advance(ms) {
      now += ms;
      for (const [handle, timer] of [...timers]) {
        if (timer.at <= now) {
          timers.delete(handle);
          timer.run();
        }
      }
    },
    frame_() {
      const due = [...frames.values()];
      frames.clear();
      for (const run of due) run();
    },
    frames,
    timers,
  };
  return clock;
}

describe('paced frames', () => {
  it('runs the first flush on the next frame', () => {
    const clock = fakeClock();
    const paced = pacedFrames(100, clock);
    let runs = 0;
    paced.request(() => runs++);
    expect(clock.timers.size, 'no timer for the first flush').toBe(0);
    clock.frame_();
    expect(runs).toBe(1);
  });

  it('waits until the interval has passed since the last flush, without requesting frames meanwhile', () => {
    const clock = fakeClock();
    const paced = pacedFrames(100, clock);
    let runs = 0;
    paced.request(() => runs++);
    clock.frame_();
    clock.advance(16);
    paced.request(() => runs++);
    expect(clock.frames.size, 'no frame requested while waiting').toBe(0);
    clock.advance(50);
    clock.frame_();
    expect(runs).toBe(1);
    clock.advance(34);
    expect(clock.frames.size, 'the frame is requested once the interval is over').toBe(1);
    clock.frame_();
    expect(runs).toBe(2);
  });

  it('does not wait when the last flush is long past', () => {
    const clock = fakeClock();
    const paced = pacedFrames(100, clock);
    let runs = 0;
    paced.request(() => runs++);
    clock.frame_();
    clock.advance(500);
    paced.request(() => runs++);
    expect(clock.frames.size).toBe(1);
    clock.frame_();
    expect(runs).toBe(2);
  });

  it('cancels a waiting flush and a flush waiting for its frame', () => {
    const clock = fakeClock();
    const paced = pacedFrames(100, clock);
    let runs = 0;
    paced.cancel(paced.request(() => runs++));
    clock.frame_();
    expect(runs).toBe(0);
    const handle = paced.request(() => runs++);
    clock.frame_();
    expect(runs).toBe(1);
    paced.cancel(handle); // already ran: nothing happens
    paced.cancel(paced.request(() => runs++));
    expect(clock.timers.size).toBe(0);
    clock.advance(200);
    clock.frame_();
    expect(runs).toBe(1);
  });
});

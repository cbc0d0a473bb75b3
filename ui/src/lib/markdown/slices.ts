// Renders a finished message a slice at a time, each slice about SLICE_MS long and one animation
// frame apart, so that a long message never keeps the window from painting or answering input.
// Finished renders are cached for messages that scroll in and out of view.
import type { Links } from 'marked';
import { planMarkdown, type Piece } from './plan';
import { linksOf, renderPiece, type Part } from './render';

/** Rendering per frame, in milliseconds; the rest of the frame is left for layout and paint. */
export const SLICE_MS = 25;
/** Source per frame, in code units, so that a frame's new parts are quick to lay out too. */
const SLICE_SIZE = 64 * 1024;

/** A message's parts, rendered a few pieces per step. */
export class SlicedMarkdown {
  readonly parts: Part[] = [];
  private readonly pieces: Piece[];
  private readonly links: Links;

  constructor(source: string) {
    const plan = planMarkdown(source);
    this.pieces = plan.pieces;
    this.links = linksOf(plan.definitions);
  }

  get done(): boolean {
    return this.parts.length === this.pieces.length;
  }

  /** Renders the next pieces, at least one, for up to SLICE_MS or SLICE_SIZE of source. */
  step(): void {
    const started = performance.now();
    let size = 0;
    while (!this.done && performance.now() - started < SLICE_MS && size < SLICE_SIZE) {
      const piece = this.pieces[this.parts.length];
      this.parts.push(renderPiece(piece, this.links));
      size += piece.source.length;
    }
  }
}

/** Runs `callback` at the next animation frame; the result cancels it. */
export type Schedule = (callback: () => void) => () => void;

const nextFrame: Schedule = (callback) => {
  const frame = requestAnimationFrame(callback);
  return () => cancelAnimationFrame(frame);
};

const cache = new Map<string, Part[]>();
const CACHE_LIMIT = 400;

/**
 * Renders `source` in slices: `show` gets the parts so far after each one, the first of them
 * before this returns. The result stops the rendering (when the message leaves the view).
 */
export function renderInSlices(source: string, show: (parts: Part[]) => void, schedule: Schedule = nextFrame): () => void {
  const hit = cache.get(source);
  if (hit) {
    cache.delete(source);
    cache.set(source, hit);
    show(hit);
    return () => {};
  }
  const sliced = new SlicedMarkdown(source);
  let cancel = () => {};
  const step = () => {
    sliced.step();
    show([...sliced.parts]);
    if (!sliced.done) cancel = schedule(step);
    else {
      cache.set(source, sliced.parts);
      if (cache.size > CACHE_LIMIT) cache.delete(cache.keys().next().value as string);
    }
  };
  step();
  return () => cancel();
}

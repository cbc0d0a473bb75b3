// Plain text (a user's message, an imported one) laid out in parts, so that no message of any
// size keeps the window from painting (issue 10). WebKitGTK lays one long text node out in time
// that grows faster than its length; parts of about PLAIN_PART, each laid out on its own
// (`contain: layout`), cost time linear in the whole, and are added a few per animation frame.
import type { Schedule } from './markdown/slices';

/** The most code units in one part. */
export const PLAIN_PART = 16 * 1024;
/** Past this length a message is shown in parts; a shorter one is one text node, as it always was. */
export const PLAIN_LONG = 32 * 1024;
/** Code units of parts added per animation frame. */
export const PLAIN_FRAME = 16 * 1024;

const HIGH_SURROGATE = /[\uD800-\uDBFF]/;

/** Just after the last `char` in `text` from `start` to `last`, or `start` where there is none. */
function after(text: string, char: string, start: number, last: number): number {
  // Not lastIndexOf: that looks on to the start of the text, which made cutting quadratic.
  for (let at = last; at >= start; at--) if (text[at] === char) return at + 1;
  return start;
}

/**
 * Cuts `text` into parts of at most `bound` code units (at least 2) that join back to `text`.
 * A part ends just after its last line break, else after its last space, else at the bound, one
 * sooner where that would split a surrogate pair. Linear in the length of `text`.
 */
export function plainParts(text: string, bound = PLAIN_PART): string[] {
  const parts: string[] = [];
  let start = 0;
  while (text.length - start > bound) {
    const last = start + bound - 1; // the last code unit the part may hold
    let end = after(text, '\n', start, last);
    if (end === start) end = after(text, ' ', start, last);
    if (end === start) {
      end = start + bound;
      if (HIGH_SURROGATE.test(text[end - 1])) end--;
    }
    parts.push(text.slice(start, end));
    start = end;
  }
  parts.push(text.slice(start));
  return parts;
}

/**
 * Whether part `index` may be laid out as a block of its own: only where `parts` has a line break
 * on each side of it, since WebKit's innerText (which tests and copying read) adds one at a block's
 * edges where the text has none. A part cut within a long line is an inline block as wide as the
 * line: as cheap to lay out, but its neighbours' layout grows with their number.
 */
export function standsAlone(parts: string[], index: number): boolean {
  const before = index === 0 || parts[index - 1].endsWith('\n');
  const after = index === parts.length - 1 || parts[index].endsWith('\n');
  return before && after;
}

const nextFrame: Schedule = (callback) => {
  const frame = requestAnimationFrame(callback);
  return () => cancelAnimationFrame(frame);
};

/**
 * Shows `parts` a frame's worth (PLAIN_FRAME, at least one part) at a time: `show` gets how many
 * to show, the first time before this returns. The result stops the showing (when the message
 * leaves the view).
 */
export function showInFrames(parts: string[], show: (count: number) => void, schedule: Schedule = nextFrame): () => void {
  let count = 0;
  let cancel = () => {};
  const step = () => {
    let size = 0;
    do size += parts[count++].length;
    while (count < parts.length && size + parts[count].length <= PLAIN_FRAME);
    show(count);
    if (count < parts.length) cancel = schedule(step);
  };
  if (parts.length) step();
  return () => cancel();
}

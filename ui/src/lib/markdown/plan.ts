// Cuts a message into the pieces that are rendered one at a time: runs of whole markdown blocks
// small enough for marked, and plain text for every block past a limit (limits.ts). Link
// definitions are gathered from the whole message first, so that a reference link still finds a
// definition that lives in another run. Linear in the length of the message.
import { isFenced, splitBlocks } from './blocks';
import { MAX_BLOCK, MAX_DEPTH, MAX_FENCE, MAX_ITEMS, MAX_RUN, measureBlock } from './limits';

export interface Piece {
  source: string;
  /** Shown as the text it is, never given to marked. */
  plain: boolean;
}

export interface Plan {
  pieces: Piece[];
  /** The link definition lines of the whole message, for every run to resolve references by. */
  definitions: string[];
}

/** Plain text is laid out in parts of about this size, so that no part is slow to lay out. */
const PLAIN_PART = 16 * 1024;

/** Cuts plain text into parts of at most PLAIN_PART, at a line end or a space where there is one. */
function plainParts(text: string): string[] {
  const parts: string[] = [];
  let start = 0;
  while (text.length - start > PLAIN_PART) {
    let end = text.lastIndexOf('\n', start + PLAIN_PART);
    if (end <= start) end = text.lastIndexOf(' ', start + PLAIN_PART);
    if (end <= start) {
      end = start + PLAIN_PART;
      if (/[\uD800-\uDBFF]/.test(text[end - 1])) end--; // never split a surrogate pair
    } else end++;
    parts.push(text.slice(start, end));
    start = end;
  }
  parts.push(text.slice(start));
  return parts;
}

/** The pieces of `source`, in order; joined, their sources are `source` again. */
export function planMarkdown(source: string): Plan {
  const pieces: Piece[] = [];
  const definitions: string[] = [];
  let budget = MAX_ITEMS;
  let run = '';
  let plain = '';
  const flushRun = () => {
    if (run) pieces.push({ source: run, plain: false });
    run = '';
  };
  const flushPlain = () => {
    if (plain) for (const part of plainParts(plain)) pieces.push({ source: part, plain: true });
    plain = '';
  };
  for (const block of splitBlocks(source)) {
    let fits: boolean;
    if (isFenced(block)) fits = block.length <= MAX_FENCE;
    else if (block.length > MAX_BLOCK) fits = false;
    else {
      const measure = measureBlock(block);
      const cost = measure.items + measure.definitions.length;
      fits = measure.containers <= MAX_DEPTH && measure.inline <= MAX_DEPTH && cost <= budget;
      if (fits) {
        budget -= cost;
        definitions.push(...measure.definitions);
      }
    }
    if (!fits) {
      flushRun();
      plain += block;
      continue;
    }
    flushPlain();
    if (run && run.length + block.length > MAX_RUN) flushRun();
    run += block;
  }
  flushRun();
  flushPlain();
  return { pieces, definitions };
}

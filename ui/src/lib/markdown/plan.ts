// Cuts a message into the pieces that are rendered one at a time: runs of whole markdown blocks
// small enough for marked, and plain text for every block past a limit (limits.ts). Link
// definitions are gathered from the whole message first, so that a reference link still finds a
// definition that lives in another run. Linear in the length of the message.
import { isFenced, splitBlocks } from './blocks';
import { plainParts } from '../plain-parts';
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

// Finds where the finished markdown blocks of a growing text end, so that only the last, still
// open block has to be rendered again when more text arrives.
//
// A boundary is an offset where a new top-level block starts and nothing after it can change how
// the text before it renders. Conservative on purpose: a blank line followed by a complete,
// unindented line that is not a list item (lists may continue after blank lines); the end of an
// ATX heading or of a code fence that began a block. Nothing inside a code fence is a boundary.

const FENCE = /^\s*(`{3,}|~{3,})(.*)$/;
const LIST_ITEM = /^([-*+]|\d{1,9}[.)])(\s|$)/;
const HEADING = /^#{1,6}(\s|$)/;

interface Fence {
  char: string;
  length: number;
  startsBlock: boolean;
  indented: boolean;
}

/**
 * The offsets of the block boundaries in `text` after `from`, in order. `from` must be a
 * boundary: the start of a block, outside any code fence. Linear in the length of the text: each
 * line is looked at once, by patterns that cannot backtrack.
 */
export function* boundaries(text: string, from: number): Generator<number> {
  let fence: Fence | null = null;
  let afterBlank = false;
  let sawContent = false;
  let boundary = from;
  let start = from;
  for (;;) {
    const end = text.indexOf('\n', start);
    if (end < 0) break; // the last line is not complete yet
    const line = text.slice(start, end);
    const next = end + 1;
    const fenceMatch = FENCE.exec(line);
    if (fence) {
      if (fenceMatch && fenceMatch[1][0] === fence.char && fenceMatch[1].length >= fence.length && !fenceMatch[2].trim()) {
        if (fence.startsBlock && !fence.indented) yield (boundary = next);
        fence = null;
      }
    } else if (!line.trim()) {
      if (sawContent) afterBlank = true;
    } else {
      const indented = /^\s/.test(line);
      if (afterBlank && !indented && !LIST_ITEM.test(line) && start > boundary) yield (boundary = start);
      const startsBlock = start === boundary;
      if (fenceMatch && !(fenceMatch[1][0] === '`' && fenceMatch[2].includes('`'))) {
        fence = { char: fenceMatch[1][0], length: fenceMatch[1].length, startsBlock, indented };
      } else if (startsBlock && HEADING.test(line)) {
        yield (boundary = next);
      }
      afterBlank = false;
      sawContent = true;
    }
    start = next;
  }
}

/** The offset of the last block boundary in `text` at or after `from` (`from` itself when there is none). */
export function lastBoundary(text: string, from: number): number {
  let last = from;
  for (const boundary of boundaries(text, from)) last = boundary;
  return last;
}

/** Finished `text` cut at its block boundaries: every piece is one or more whole blocks, in order. */
export function splitBlocks(text: string): string[] {
  const pieces: string[] = [];
  let start = 0;
  // The text is finished, so its last line is complete too.
  for (const boundary of boundaries(`${text}\n`, 0)) {
    if (boundary >= text.length) break;
    pieces.push(text.slice(start, boundary));
    start = boundary;
  }
  if (start < text.length) pieces.push(text.slice(start));
  return pieces;
}

/** Whether a block (a piece of splitBlocks) is a fenced code block, open or closed. */
export function isFenced(block: string): boolean {
  const end = block.indexOf('\n');
  const match = FENCE.exec(end < 0 ? block : block.slice(0, end));
  return match !== null && !(match[1][0] === '`' && match[2].includes('`'));
}

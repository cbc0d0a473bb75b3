// What marked is allowed to see. marked's rules backtrack: some shapes of text cost time quadratic
// in the length of a block (in JavaScriptCore even ordinary long paragraphs do), deep nesting
// recurses until the stack overflows, and every reference link is looked up among all
// definitions. So a message is cut into whole blocks (blocks.ts), each block is measured by one
// pass that cannot backtrack, and a block past any limit is shown as the plain text it is.

/** Markdown blocks are given to marked in runs of whole blocks of at most this many code units. */
export const MAX_RUN = 4 * 1024;
/** A longer block (a paragraph, a list, a table, a quote) is shown as plain text. */
export const MAX_BLOCK = 16 * 1024;
/** A longer fenced code block is shown as plain text. */
export const MAX_FENCE = 256 * 1024;
/** Deeper nesting of quotes and lists, or of brackets and emphasis, is shown as plain text. */
export const MAX_DEPTH = 16;
/** List items and link definitions, together, in one message. */
export const MAX_ITEMS = 512;

export interface BlockMeasure {
  /** The deepest nesting of block quotes and lists on one line. */
  containers: number;
  /** The deepest nesting of unclosed brackets and emphasis openers within one paragraph. */
  inline: number;
  /** List items begun in the block. */
  items: number;
  /** The link definition lines the block begins with. */
  definitions: string[];
}

const SPACE = /\s/;
const PUNCTUATION = /[\p{P}\p{S}]/u;

function isSpace(char: string | undefined): boolean {
  return char === undefined || SPACE.test(char);
}

/** The end of a list marker (`-`, `+`, `*`, `1.`, `1)`) at `at` followed by a space, or -1. */
function listMarkerEnd(line: string, at: number): number {
  let end = at;
  if ('-+*'.includes(line[end] ?? '_')) end++;
  else {
    while (end < line.length && end - at < 9 && line[end] >= '0' && line[end] <= '9') end++;
    if (end === at || (line[end] !== '.' && line[end] !== ')')) return -1;
    end++;
  }
  return end === line.length || line[end] === ' ' || line[end] === '\t' ? end : -1;
}

/** Whether `line` is a link definition's first line: up to 3 spaces, `[label]:`. */
function isDefinition(line: string): boolean {
  let at = 0;
  while (at < 3 && line[at] === ' ') at++;
  if (line[at] !== '[') return false;
  const close = line.indexOf(']', at + 1);
  return close > at + 1 && line[close + 1] === ':';
}

/** Measures one block (not a fenced code block) in one pass over its characters. */
export function measureBlock(block: string): BlockMeasure {
  const measure: BlockMeasure = { containers: 0, inline: 0, items: 0, definitions: [] };
  let leading = true; // still among the definitions the block begins with
  let brackets = 0;
  let emphasis = 0;
  for (const line of block.split('\n')) {
    if (!line.trim()) {
      brackets = emphasis = 0;
      leading = false;
      continue;
    }
    if (leading && isDefinition(line)) {
      measure.definitions.push(line);
      continue;
    }
    leading = false;
    let at = 0;
    let indent = 0;
    while (line[at] === ' ' || line[at] === '\t') indent += line[at++] === '\t' ? 4 : 1;
    // Nested lists by indentation: each level is indented by at least two more columns.
    let containers = listMarkerEnd(line, at) >= 0 ? Math.floor(indent / 2) : 0;
    for (;;) {
      const marker = line[at] === '>' ? at + 1 : listMarkerEnd(line, at);
      if (marker < 0) break;
      containers++;
      if (line[at] !== '>') measure.items++;
      at = marker;
      while (line[at] === ' ' || line[at] === '\t') at++;
    }
    measure.containers = Math.max(measure.containers, containers);
    for (; at < line.length; at++) {
      const char = line[at];
      if (char === '\\') at++;
      else if (char === '[') brackets++;
      else if (char === ']') brackets = Math.max(0, brackets - 1);
      else if (char === '*' || char === '_' || char === '~') {
        let end = at;
        while (line[end + 1] === char) end++;
        const before = line[at - 1];
        const after = line[end + 1];
        const opens = !isSpace(after) && (at === 0 || isSpace(before) || PUNCTUATION.test(before));
        const closes = at > 0 && !isSpace(before) && (isSpace(after) || PUNCTUATION.test(after));
        if (opens && !closes) emphasis++;
        else if (closes && !opens) emphasis = Math.max(0, emphasis - 1);
        at = end;
      }
      measure.inline = Math.max(measure.inline, brackets + emphasis);
    }
  }
  return measure;
}

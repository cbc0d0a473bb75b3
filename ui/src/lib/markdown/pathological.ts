// Markdown written to be slow, after cmark's test/pathological_tests.py (plus GFM tables and the
// shapes that were slow in marked): each case repeats a small pattern up to a requested size, so a
// test or benchmark can ask for 64 KiB or 2 MiB of the same hostility. Model output and imported
// files are untrusted: any of these may arrive as one reply.

export interface PathologicalCase {
  name: string;
  /** The case at about `bytes` UTF-16 code units (never more, never much less). */
  make(bytes: number): string;
}

/** `unit` repeated until the text would pass `bytes`, between `head` and `tail`. */
function repeat(unit: string, bytes: number, head = '', tail = ''): string {
  const count = Math.max(1, Math.floor((bytes - head.length - tail.length) / unit.length));
  return head + unit.repeat(count) + tail;
}

/** `open` n times, then `middle`, then `close` n times: one nesting n deep. */
function nest(open: string, middle: string, close: string, bytes: number): string {
  const count = Math.max(1, Math.floor((bytes - middle.length) / (open.length + close.length)));
  return open.repeat(count) + middle + close.repeat(count);
}

/** Lines from `line(i)` until the text would pass `bytes`. */
function lines(line: (i: number) => string, bytes: number): string {
  const out: string[] = [];
  let size = 0;
  for (let i = 0; ; i++) {
    const next = line(i);
    if (size + next.length > bytes && out.length > 0) break;
    out.push(next);
    size += next.length;
  }
  return out.join('');
}

/** A header, a delimiter row and two rows, each with as many columns as fit. */
function wideTable(bytes: number): string {
  const row = `|${'a|'.repeat(Math.max(1, Math.floor(bytes / 8)))}\n`;
  return row + row.replace(/a/g, '-') + row + row;
}

export const PATHOLOGICAL: PathologicalCase[] = [
  // The case of issue 10: one line of inline tags, which marked's bare-URL rule rescanned per token.
  { name: 'inline html tags', make: (n) => repeat('<b>x</b> ', n) },
  { name: 'nested strong emph', make: (n) => nest('*a **a ', 'b', ' a** a*', n) },
  { name: 'many emph closers with no openers', make: (n) => repeat('a_ ', n) },
  { name: 'many emph openers with no closers', make: (n) => repeat('_a ', n) },
  { name: 'many link closers with no openers', make: (n) => repeat('a]', n) },
  { name: 'many link openers with no closers', make: (n) => repeat('[a', n) },
  { name: 'mismatched openers and closers', make: (n) => repeat('*a_ ', n) },
  { name: 'openers and closers multiple of 3', make: (n) => repeat('c* ', n, 'a**b') },
  { name: 'link openers and emph closers', make: (n) => repeat('[ a_', n) },
  { name: 'pattern [ (]( repeated', make: (n) => repeat('[ (](', n) },
  { name: 'pattern ![[]() repeated', make: (n) => repeat('![[]()', n) },
  { name: 'hard link/emph case', make: (n) => repeat('**x [**y](z)', n) },
  { name: 'nested brackets', make: (n) => nest('[', 'a', ']', n) },
  { name: 'nested block quotes', make: (n) => repeat('> ', n, '', 'a\n') },
  { name: 'deeply nested lists', make: (n) => lines((i) => `${'  '.repeat(i % 4096)}- a\n`, n) },
  { name: 'long flat list', make: (n) => repeat('- item\n', n) },
  { name: 'U+0000 in input', make: (n) => repeat('abc\u0000de\u0000', n) },
  { name: 'backticks', make: (n) => lines((i) => `e${'`'.repeat(1 + (i % 500))}`, n) },
  { name: 'unclosed links A', make: (n) => repeat('[a](<b', n) },
  { name: 'unclosed links B', make: (n) => repeat('[a](b', n) },
  { name: 'unclosed <!--', make: (n) => repeat('<!--', n, '</') },
  { name: 'unclosed <?', make: (n) => repeat('a', n, '<?') },
  { name: 'unclosed <!X', make: (n) => repeat('a', n, '<!A') },
  { name: 'unclosed <![CDATA[', make: (n) => repeat('a', n, '<![CDATA[') },
  { name: 'many < with no >', make: (n) => repeat('<', n) },
  { name: 'escaped punctuation', make: (n) => repeat('\\*\\_\\[\\]\\`\\<\\>', n) },
  { name: 'many link definitions', make: (n) => lines((i) => `[${i}]: https://e.example/${i}\n`, n) },
  { name: 'reference collisions', make: (n) => lines((i) => `[x${i % 8}]: u\n[x${i % 8}] `, n) },
  { name: 'many bare URLs', make: (n) => repeat('www.a.b http://c.d/e?f ', n) },
  { name: 'wide table', make: wideTable },
  { name: 'many table rows', make: (n) => repeat('|a|b|c|\n', n, '|a|b|c|\n|-|-|-|\n') },
  { name: 'one long paragraph of prose', make: (n) => repeat('Some **bold** and *em* and `code`, a [link](https://x.y) and more words. ', n) },
  { name: 'many short paragraphs', make: (n) => repeat('A short paragraph with *some* `markup`.\n\n', n) },
  { name: 'unclosed code fence', make: (n) => repeat('let x = [1, 2];\n', n, '```rust\n') },
];

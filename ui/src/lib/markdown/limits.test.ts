// Issue 10: rendering markdown costs time linear in its size, whatever its shape; what would not
// is shown as plain text.
import { describe, expect, it } from 'vitest';
import { IncrementalMarkdown } from './incremental';
import { MAX_BLOCK, MAX_DEPTH, MAX_FENCE, MAX_ITEMS, MAX_RUN } from './limits';
import { PATHOLOGICAL } from './pathological';
import { planMarkdown } from './plan';
import { partHtml, renderMarkdown } from './render';
import { renderInSlices, SlicedMarkdown } from './slices';

const MIB = 1024 * 1024;
const ALLOWED = new Set([
  'A', 'BLOCKQUOTE', 'BR', 'BUTTON', 'CODE', 'DEL', 'DIV', 'EM', 'H1', 'H2', 'H3', 'H4', 'H5', 'H6', 'HR',
  'INPUT', 'LI', 'OL', 'P', 'PRE', 'SPAN', 'STRONG', 'TABLE', 'TBODY', 'TD', 'TH', 'THEAD', 'TR', 'UL',
]);

function parse(html: string): HTMLElement {
  const host = document.createElement('div');
  host.innerHTML = html;
  return host;
}

/** The text of the plain-text parts, consecutive ones joined. */
function plainTexts(html: string): string[] {
  const texts: string[] = [];
  let previous: Element | null = null;
  for (const element of parse(html).querySelectorAll('.md-plain')) {
    if (previous && previous.nextElementSibling === element) texts[texts.length - 1] += element.textContent;
    else texts.push(element.textContent ?? '');
    previous = element;
  }
  return texts;
}

const VOID = new Set(['br', 'hr', 'input']);

/**
 * The tags of `html` that are not allowed or not balanced (one pass, no DOM: jsdom takes minutes
 * to parse a megabyte of paragraphs). The renderer's HTML comes from DOMPurify's serializer or is
 * escaped text, so it must balance.
 */
function malformedTags(html: string): string[] {
  const stack: string[] = [];
  const wrong: string[] = [];
  for (const [, closing, name] of html.matchAll(/<(\/?)([a-zA-Z][a-zA-Z0-9]*)[^>]*>/g)) {
    const tag = name.toLowerCase();
    if (!ALLOWED.has(tag.toUpperCase())) wrong.push(tag);
    else if (closing) {
      if (stack.pop() !== tag) wrong.push(`/${tag}`);
    } else if (!VOID.has(tag)) stack.push(tag);
  }
  return [...wrong, ...stack.map((tag) => `unclosed ${tag}`)];
}

describe('pathological markdown (issue 10)', () => {
  for (const { name, make } of PATHOLOGICAL) {
    it(`renders 1 MiB of "${name}" in bounded time, as well-formed, safe HTML`, () => {
      const source = make(MIB);
      const started = performance.now();
      const html = renderMarkdown(source);
      const elapsed = performance.now() - started;
      expect(elapsed, 'linear: 1 MiB of any shape renders in seconds (jsdom is slow to sanitize), not minutes').toBeLessThan(30_000);
      expect(malformedTags(html), 'only the sanitizer’s tags, each closed').toEqual([]);
      expect(html.replace(/<[^>]*>/g, '').trim().length, 'the text is shown, one way or the other').toBeGreaterThan(0);
    });
  }
});

describe('the renderer’s limits', () => {
  it('gives marked runs of whole blocks of at most MAX_RUN', () => {
    const source = 'A short paragraph with *some* `markup`.\n\n'.repeat(1000);
    const { pieces } = planMarkdown(source);
    expect(pieces.length).toBeGreaterThan(1);
    for (const piece of pieces) expect(piece.source.length).toBeLessThanOrEqual(MAX_RUN);
    expect(pieces.map((piece) => piece.source).join('')).toBe(source);
    expect(renderMarkdown(source), 'cut into runs, rendered the same').toBe(
      '<p>A short paragraph with <em>some</em> <code>markup</code>.</p>\n'.repeat(1000),
    );
  });

  it('shows a block longer than MAX_BLOCK as plain text, and a shorter one as markdown', () => {
    const line = (length: number) => `*a* ${'b'.repeat(length - 4)}`;
    expect(plainTexts(renderMarkdown(line(MAX_BLOCK)))).toEqual([]);
    expect(plainTexts(renderMarkdown(`intro\n\n${line(MAX_BLOCK + 1)}`))).toEqual([line(MAX_BLOCK + 1)]);
  });

  it('allows a fenced code block up to MAX_FENCE', () => {
    const fence = (length: number) => `\`\`\`\n${'x'.repeat(length - 9)}\n\`\`\`\n`;
    expect(parse(renderMarkdown(fence(MAX_FENCE))).querySelector('pre code')).not.toBeNull();
    expect(plainTexts(renderMarkdown(fence(MAX_FENCE + 1)))).toEqual([fence(MAX_FENCE + 1)]);
  });

  it('shows quotes and lists nested deeper than MAX_DEPTH as plain text', () => {
    expect(parse(renderMarkdown(`${'> '.repeat(MAX_DEPTH)}a`)).querySelectorAll('blockquote')).toHaveLength(MAX_DEPTH);
    expect(plainTexts(renderMarkdown(`${'> '.repeat(MAX_DEPTH + 1)}a`))).toHaveLength(1);
    expect(plainTexts(renderMarkdown(`${'- '.repeat(MAX_DEPTH + 1)}a`))).toHaveLength(1);
    const indented = Array.from({ length: MAX_DEPTH + 2 }, (_, depth) => `${'  '.repeat(depth)}- a`).join('\n');
    expect(plainTexts(renderMarkdown(indented))).toHaveLength(1);
  });

  it('shows brackets and emphasis nested deeper than MAX_DEPTH as plain text', () => {
    const brackets = (depth: number) => `${'['.repeat(depth)}a${']'.repeat(depth)}`;
    expect(plainTexts(renderMarkdown(brackets(MAX_DEPTH)))).toEqual([]);
    expect(plainTexts(renderMarkdown(brackets(MAX_DEPTH + 1)))).toEqual([brackets(MAX_DEPTH + 1)]);
    const emphasis = (depth: number) => `${'*a '.repeat(depth)}b${' a*'.repeat(depth)}`;
    expect(plainTexts(renderMarkdown(emphasis(MAX_DEPTH)))).toEqual([]);
    expect(plainTexts(renderMarkdown(emphasis(MAX_DEPTH + 1)))).toHaveLength(1);
    expect(plainTexts(renderMarkdown('snake_case and a*b*c and 2 * 3 * 4, '.repeat(100))), 'intraword and spaced delimiters open nothing').toEqual([]);
  });

  it('renders at most MAX_ITEMS list items and link definitions in one message', () => {
    const lists = (count: number) => '- item\n\nnext\n\n'.repeat(count);
    expect(plainTexts(renderMarkdown(lists(MAX_ITEMS)))).toEqual([]);
    expect(plainTexts(renderMarkdown(lists(MAX_ITEMS + 1))), 'the block past the budget').toEqual(['next\n\n- item\n\n']);
    const definitions = Array.from({ length: MAX_ITEMS + 1 }, (_, i) => `[d${i}]: https://e.example/${i}\n\npara\n\n`).join('');
    expect(plainTexts(renderMarkdown(definitions))).toEqual([`[d${MAX_ITEMS}]: https://e.example/${MAX_ITEMS}\n\n`]);
  });

  it('resolves a reference link whose definition is in another run', () => {
    const filler = 'Filler paragraph.\n\n'.repeat(Math.ceil((2 * MAX_RUN) / 19));
    const source = `See [the docs][docs] and [Docs].\n\n${filler}[docs]: https://docs.example "Docs"\n`;
    expect(planMarkdown(source).pieces.length, 'the reference and its definition are in different runs').toBeGreaterThan(2);
    const links = [...parse(renderMarkdown(source)).querySelectorAll('a')];
    expect(links.map((a) => a.getAttribute('href'))).toEqual(['https://docs.example', 'https://docs.example']);
    expect(links[0].getAttribute('title')).toBe('Docs');
  });

  it('still links bare URLs and addresses (the sticky copy of marked’s rule)', () => {
    const links = [...parse(renderMarkdown('see www.example.com, https://a.example/b?c and me@x.example')).querySelectorAll('a')];
    expect(links.map((a) => a.getAttribute('href'))).toEqual(['http://www.example.com', 'https://a.example/b?c', 'mailto:me@x.example']);
  });

  it('shows plain text as text, never as HTML', () => {
    const hostile = `<img src=x onerror=alert(1)> ${'['.repeat(MAX_DEPTH + 1)}`;
    const host = parse(renderMarkdown(hostile));
    expect(host.querySelector('img, [onerror]')).toBeNull();
    expect(host.querySelector('.md-plain')?.textContent).toBe(hostile);
  });

  it('shows the open tail of a streaming reply past MAX_BLOCK as plain text', () => {
    const incremental = new IncrementalMarkdown();
    const long = '<b>x</b> '.repeat(Math.ceil(MAX_BLOCK / 9) + 1);
    incremental.update(`# Title\n\n${long}`);
    expect(plainTexts(incremental.tail), 'the tail begins after the heading’s line').toEqual([`\n${long}`]);
  });
});

describe('rendering a finished message in slices', () => {
  const source = PATHOLOGICAL.find((c) => c.name === 'one long paragraph of prose')!.make(MIB / 4) + '\n\n' + 'Text.\n\n'.repeat(20_000);

  it('renders a long message over several frames, ending with the whole render', () => {
    const frames: (() => void)[] = [];
    let shown: string[] = [];
    renderInSlices(source, (parts) => (shown = parts.map(partHtml)), (callback) => {
      frames.push(callback);
      return () => {};
    });
    expect(shown.length, 'something is shown at once').toBeGreaterThan(0);
    let count = 0;
    while (frames.length) {
      frames.shift()!();
      count++;
    }
    expect(count, 'the rest came a slice per frame').toBeGreaterThan(0);
    expect(shown.join('')).toBe(renderMarkdown(source));
  });

  it('keeps each slice short', () => {
    const sliced = new SlicedMarkdown(source);
    let longest = 0;
    while (!sliced.done) {
      const started = performance.now();
      sliced.step();
      longest = Math.max(longest, performance.now() - started);
    }
    expect(longest, 'about SLICE_MS, with room for one slow piece').toBeLessThan(250);
  });

  it('stops when cancelled', () => {
    let pending: (() => void) | null = null;
    let shows = 0;
    const cancel = renderInSlices(`${source}\n\ncancelled`, () => shows++, (callback) => {
      pending = callback;
      return () => (pending = null);
    });
    cancel();
    expect(pending).toBeNull();
    expect(shows).toBe(1);
  });
});

import { describe, expect, it } from 'vitest';
import { lastBoundary } from './blocks';
import { IncrementalMarkdown } from './incremental';
import { renderMarkdown, renderOpenTail } from './render';

const DOCUMENT = [
  '# Sorting in Rust',
  'Rust sorts slices **in place** with `sort` — stable — and `sort_unstable`. 🦀 Ünïcödé 日本語 😀👍🏽.',
  '',
  '## Steps',
  '',
  '1. Make a vector',
  '2. Call `sort`',
  '   - nested item',
  '',
  '3. Print it',
  '',
  '```rust',
  'fn main() {',
  '    let mut v = vec![3, 1, 2];',
  '',
  '    v.sort(); // "quoted" <tags> & 😀',
  '}',
  '```',
  'Right after the fence.',
  '',
  '| name | cost |',
  '| :--- | ---: |',
  '| sort | n log n |',
  '| 🦀 | 1 |',
  '',
  '> A quote',
  '> over two lines',
  '',
  '- [x] done',
  '- [ ] todo',
  '',
  '~~~',
  'plain fence',
  '',
  '```',
  'still inside the tilde fence',
  '~~~',
  '',
  'A [link](https://example.com) and <b>raw html</b> and a final line without newline',
].join('\n');

const EXTRA = [
  'Text before\n```python\nprint("hi")\n\n\nprint("bye")\n```\n\nafter',
  '### Heading\nparagraph right under it\n\n---\n\n* a\n\n* b\n\nend',
  'unclosed fence at the end\n\n```js\nconst x = 1;\n\nconst y = 2;',
  '    indented code\n\n    more\n\nplain',
  'Title\n=====\n\nSubtitle\n--------\n\n1) one\n2) two\n\n10. ten',
];

function feed(text: string, cuts: number[]): string {
  const incremental = new IncrementalMarkdown();
  let last = 0;
  for (const cut of [...cuts, text.length]) {
    incremental.update(text.slice(0, cut));
    last = cut;
  }
  expect(last).toBe(text.length);
  return incremental.html;
}

describe('incremental markdown rendering', () => {
  for (const [index, text] of [DOCUMENT, ...EXTRA].entries()) {
    it(`matches the whole render at every single split point (document ${index})`, () => {
      const whole = renderMarkdown(text);
      for (let cut = 0; cut <= text.length; cut++) {
        expect(feed(text, [cut]), `split at ${cut}`).toBe(whole);
      }
    });
  }

  it('matches the whole render when fed token by token, including halves of surrogate pairs', () => {
    const whole = renderMarkdown(DOCUMENT);
    for (const size of [1, 2, 3, 4, 7]) {
      const cuts = [];
      for (let at = size; at < DOCUMENT.length; at += size) cuts.push(at);
      expect(feed(DOCUMENT, cuts), `tokens of ${size} code units`).toBe(whole);
    }
  });

  it('matches the whole render for random chunkings', () => {
    let seed = 42;
    const random = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648);
    for (let round = 0; round < 25; round++) {
      const cuts = [];
      for (let at = 0; at < DOCUMENT.length; at += 1 + Math.floor(random() * 12)) cuts.push(at);
      expect(feed(DOCUMENT, cuts)).toBe(renderMarkdown(DOCUMENT));
    }
  });

  it('renders each finished block once and only re-renders the open tail', () => {
    const rendered: string[] = [];
    const incremental = new IncrementalMarkdown((md) => {
      rendered.push(md);
      return renderMarkdown(md);
    });
    let text = '';
    for (const piece of ['# Title\n', 'First para', 'graph.\n\n', 'Second ', 'one.\n\n', 'Third']) {
      text += piece;
      incremental.update(text);
    }
    expect(incremental.blocks.length).toBeGreaterThanOrEqual(2);
    const renderedTitle = rendered.filter((md) => md.includes('# Title'));
    expect(renderedTitle, 'a finished block is rendered exactly once').toHaveLength(1);
    expect(rendered.some((md) => md.includes('# Title') && md.includes('Second')), 'never the whole text again').toBe(false);
  });

  it('starts over when the text is replaced rather than extended', () => {
    const incremental = new IncrementalMarkdown();
    incremental.update('# One\n\nalpha\n\nbeta');
    incremental.update('Completely different');
    expect(incremental.html).toBe(renderMarkdown('Completely different'));
  });
});

describe('block boundaries', () => {
  it('never falls inside a code fence', () => {
    const text = '```\na\n\nb\n\nc\n';
    expect(lastBoundary(text, 0)).toBe(0);
  });

  it('waits for the line after a blank line to be complete', () => {
    expect(lastBoundary('para\n\n- it', 0)).toBe(0);
    expect(lastBoundary('para\n\nnext\n', 0)).toBe(6);
  });

  it('keeps list items separated by blank lines together', () => {
    expect(lastBoundary('- a\n\n- b\n', 0)).toBe(0);
  });
});

describe('code blocks and links', () => {
  it('labels code blocks with their language and gives them a copy button', () => {
    const html = renderMarkdown('```python\nprint(1)\n```\n');
    const host = document.createElement('div');
    host.innerHTML = html;
    expect(host.querySelector('.code-lang')?.textContent).toBe('python');
    expect(host.querySelector('button.code-copy')).not.toBeNull();
    expect(host.querySelector('code.language-python span.hljs-built_in')).not.toBeNull();
  });

  it('keeps http, https and mailto links and drops other targets', () => {
    const host = document.createElement('div');
    host.innerHTML = renderMarkdown(
      '[a](https://a.example) [b](mailto:x@y.z) [c](javascript:alert(1)) [d](file:///etc/passwd) [e](ftp://x)',
    );
    const hrefs = [...host.querySelectorAll('a')].map((a) => a.getAttribute('href'));
    expect(hrefs).toEqual(['https://a.example', 'mailto:x@y.z', null, null, null]);
  });

  it('never renders images from model output', () => {
    const host = document.createElement('div');
    host.innerHTML = renderMarkdown('![tracking pixel](https://evil.example/p.png) ![x](data:image/png;base64,AAAA)');
    expect(host.querySelector('img')).toBeNull();
    expect(host.textContent).toContain('tracking pixel');
  });
});

describe('the open tail of a streaming reply', () => {
  const OPEN = 'Intro.\n\n```rust\nfn main() {\n    let x = 1;';

  it('renders code without highlighting when asked, otherwise the same', () => {
    const plain = renderOpenTail(OPEN);
    expect(renderMarkdown(OPEN)).toContain('hljs-keyword');
    expect(plain).not.toContain('hljs-keyword');
    expect(plain).toContain('fn main() {');
    expect(plain).toContain('class="code-lang">rust<');
    expect(renderOpenTail('# Title\n\n*em* and `code`')).toBe(renderMarkdown('# Title\n\n*em* and `code`'));
    expect(renderMarkdown(OPEN), 'highlighting is back on afterwards').toContain('hljs-keyword');
  });

  it('is sanitized like everything else', () => {
    const html = renderOpenTail('<img src=x onerror=alert(1)> [x](javascript:alert(1))\n\n```js\n</code><script>alert(1)</script>');
    const template = document.createElement('template');
    template.innerHTML = html;
    expect(template.content.querySelectorAll('img, script, [onerror]')).toHaveLength(0);
    expect(html).not.toMatch(/href="javascript:/i);
    expect(template.content.querySelector('code')?.textContent).toBe('</code><script>alert(1)</script>');
  });

  it('highlights a code block once it is finished, and keeps the tail plain meanwhile', () => {
    const incremental = new IncrementalMarkdown(renderMarkdown, renderOpenTail);
    incremental.update(OPEN);
    expect(incremental.html).not.toContain('hljs-keyword');
    incremental.update(`${OPEN}\n}\n\`\`\`\n\nAfter.`);
    expect(incremental.blocks.map((block) => block.html).join('')).toContain('hljs-keyword');
    expect(incremental.tail).toBe(renderMarkdown('After.'));
  });
});

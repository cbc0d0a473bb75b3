// Payloads: the OWASP XSS Filter Evasion Cheat Sheet
// (https://cheatsheetseries.owasp.org/cheatsheets/XSS_Filter_Evasion_Cheat_Sheet.html), the
// single-line vectors, followed by a few from PortSwigger's Cross-site scripting cheat sheet
// (https://portswigger.net/web-security/cross-site-scripting/cheat-sheet): form/button formaction,
// autofocus/ontoggle handlers, media onerror, mXSS through <math>/<style>, SVG xlink, data: URLs.
// Stored one per line in xss-payloads.txt.
import { describe, expect, it } from 'vitest';
import { renderMarkdown } from './render';
import { sanitizeHtml } from './sanitize';

import payloadText from './xss-payloads.txt?raw';

const payloads = payloadText
  .split('\n')
  .filter((line) => line.trim() !== '');

// Markdown's own ways to make links and images.
const markdownPayloads = [
  '[click](javascript:alert(1))',
  '[click](JaVaScRiPt:alert(1))',
  '[click](  javascript:alert(1))',
  '[click](vbscript:msgbox(1))',
  '[click](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)',
  '[click][ref]\n\n[ref]: javascript:alert(1)',
  '<javascript:alert(1)>',
  '![x](javascript:alert(1))',
  '![x](x" onerror="alert(1))',
  '[x](https://a.example "title\\" onmouseover=\\"alert(1)")',
  '```html\n<script>alert(1)</script>\n```',
  '`<img src=x onerror=alert(1)>`',
];

const FORBIDDEN = 'script, iframe, object, embed, form, base, meta, link, style, frame, frameset, svg, math, img, video, audio, source';
const URL_ATTRIBUTES = ['href', 'src', 'action', 'formaction', 'xlink:href', 'data', 'background', 'lowsrc', 'dynsrc'];
const DANGEROUS_URL = /^\s*(javascript|vbscript|livescript):|^\s*data:text\/html/i;

function expectInert(html: string, payload: string): void {
  const host = document.createElement('div');
  host.innerHTML = html;
  expect(host.querySelector(FORBIDDEN), `no active element from ${payload}`).toBeNull();
  for (const element of host.querySelectorAll('*')) {
    for (const attribute of element.attributes) {
      expect(attribute.name.toLowerCase().startsWith('on'), `no ${attribute.name} handler from ${payload}`).toBe(false);
      expect(attribute.name.toLowerCase(), `no style attribute from ${payload}`).not.toBe('style');
      if (URL_ATTRIBUTES.includes(attribute.name.toLowerCase())) {
        expect(DANGEROUS_URL.test(attribute.value), `no script URL in ${attribute.name} from ${payload}`).toBe(false);
      }
    }
  }
}

describe('model output never executes', () => {
  it('has at least 50 published payloads to try', () => {
    expect(payloads.length).toBeGreaterThanOrEqual(50);
  });

  it.each(payloads)('renders markdown containing %s inert', (payload) => {
    expectInert(renderMarkdown(payload), payload);
    expectInert(renderMarkdown(`Some text\n\n${payload}\n\nmore text`), payload);
  });

  it.each(payloads)('sanitizes the raw HTML %s inert even without the markdown step', (payload) => {
    expectInert(sanitizeHtml(payload), payload);
  });

  it.each(markdownPayloads)('renders the markdown payload %s inert', (payload) => {
    expectInert(renderMarkdown(payload), payload);
  });

  it('shows raw HTML from the model as text', () => {
    const host = document.createElement('div');
    host.innerHTML = renderMarkdown('Use <b>bold</b> and <script>alert(1)</script>');
    expect(host.querySelector('b')).toBeNull();
    expect(host.textContent).toContain('<script>alert(1)</script>');
  });
});

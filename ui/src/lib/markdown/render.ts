// Markdown to safe HTML: marked (GFM) for structure, highlight.js for code, DOMPurify last.
import { Marked, type Tokens } from 'marked';
import { t } from '../i18n';
import { highlight } from './highlight';
import { sanitizeHtml } from './sanitize';

export function escapeHtml(text: string): string {
  return text
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;');
}

/** Off while rendering the open tail of a streaming reply (see renderMarkdown's options). */
let highlightCode = true;

const marked = new Marked({
  gfm: true,
  breaks: false,
  async: false,
  renderer: {
    code({ text, lang }: Tokens.Code): string {
      const language = (lang ?? '').trim().split(/\s+/)[0].toLowerCase();
      const highlighted = highlightCode ? highlight(text, language) : null;
      const body = highlighted ?? escapeHtml(text);
      const label = escapeHtml(language || t('code.plain'));
      const codeClass = highlighted === null ? 'hljs' : `hljs language-${escapeHtml(language)}`;
      return (
        `<div class="code-block"><div class="code-head"><span class="code-lang">${label}</span>` +
        `<button type="button" class="code-copy" data-copy="">${escapeHtml(t('code.copy'))}</button></div>` +
        `<pre><code class="${codeClass}">${body}</code></pre></div>\n`
      );
    },
    // Models talk about HTML far more often than they mean to lay a page out with it: raw HTML is
    // shown as the text it is, never interpreted.
    html({ text, block }: Tokens.HTML | Tokens.Tag): string {
      return block ? `<p>${escapeHtml(text.trim())}</p>\n` : escapeHtml(text);
    },
    // Images in model output are never loaded (the CSP would block remote ones anyway).
    image({ text }: Tokens.Image): string {
      return text ? `<span class="md-image-alt">${escapeHtml(text)}</span>` : '';
    },
  },
});

export interface RenderOptions {
  /**
   * Highlight code blocks (default). Off for the open tail of a streaming reply: a code block
   * still being written would be highlighted again on every update; it is shown plain until it
   * is finished, then highlighted once.
   */
  highlight?: boolean;
}

/** Renders one markdown document (or any run of whole blocks of one) to sanitized HTML. */
export function renderMarkdown(source: string, options: RenderOptions = {}): string {
  if (!source) return '';
  highlightCode = options.highlight ?? true;
  try {
    return sanitizeHtml(marked.parse(source, { async: false }) as string);
  } finally {
    highlightCode = true;
  }
}

/** renderMarkdown for the open tail of a streaming reply: code is not highlighted yet. */
export function renderOpenTail(source: string): string {
  return renderMarkdown(source, { highlight: false });
}

const cache = new Map<string, string>();
const CACHE_LIMIT = 400;

/** renderMarkdown with a small cache, for finished messages that scroll in and out of view. */
export function renderMarkdownCached(source: string): string {
  const hit = cache.get(source);
  if (hit !== undefined) {
    cache.delete(source);
    cache.set(source, hit);
    return hit;
  }
  const html = renderMarkdown(source);
  cache.set(source, html);
  if (cache.size > CACHE_LIMIT) cache.delete(cache.keys().next().value as string);
  return html;
}

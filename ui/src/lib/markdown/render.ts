// Markdown to safe HTML: marked (GFM) for structure, highlight.js for code, DOMPurify last. A
// message reaches marked only in pieces it renders in time linear in their size (plan.ts).
import { Lexer, Marked, type Links, type Tokens } from 'marked';
import { t } from '../i18n';
import { highlight } from './highlight';
import { planMarkdown, type Piece } from './plan';
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

// marked's GFM bare-URL rule has three `^` alternatives, which JavaScriptCore does not treat as
// anchored: each failed match searched the rest of the paragraph, once per inline token, so one
// long line took minutes in the window. The same rule made sticky tries the start of the text
// only; marked's own rule runs only when the sticky one matches, and then it matches at once.
const BARE_URL = new RegExp(Lexer.rules.inline.gfm.url.source, 'y');

/** How marked's tokens become HTML here: code labelled and highlighted, raw HTML and images as text. */
export const RENDERER = {
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
};

const marked = new Marked({
  gfm: true,
  breaks: false,
  async: false,
  tokenizer: {
    url(src: string): false | undefined {
      BARE_URL.lastIndex = 0;
      return BARE_URL.test(src) ? false : undefined;
    },
  },
  renderer: RENDERER,
});

export interface RenderOptions {
  /**
   * Highlight code blocks (default). Off for the open tail of a streaming reply: a code block
   * still being written would be highlighted again on every update; it is shown plain until it
   * is finished, then highlighted once.
   */
  highlight?: boolean;
}

/** One rendered piece of a message: sanitized HTML, or text to show as it is. */
export type Part = { html: string } | { text: string };

/** The link definitions among `lines`, as marked resolves references by them. */
export function linksOf(lines: string[]): Links {
  if (lines.length === 0) return Object.create(null) as Links;
  const lexer = new Lexer(marked.defaults);
  return lexer.lex(lines.join('\n\n')).links;
}

/** Renders one piece of a plan; `links` are the definitions of the whole message. */
export function renderPiece(piece: Piece, links: Links, options: RenderOptions = {}): Part {
  if (piece.plain) return { text: piece.source };
  highlightCode = options.highlight ?? true;
  try {
    const lexer = new Lexer(marked.defaults);
    Object.assign(lexer.tokens.links, links);
    return { html: sanitizeHtml(marked.parser(lexer.lex(piece.source))) };
  } finally {
    highlightCode = true;
  }
}

/** The HTML of a part; plain text becomes an `.md-plain` element holding just that text. */
export function partHtml(part: Part): string {
  return 'html' in part ? part.html : `<div class="md-plain">${escapeHtml(part.text)}</div>`;
}

/** Renders one markdown document (or any run of whole blocks of one) to sanitized HTML. */
export function renderMarkdown(source: string, options: RenderOptions = {}): string {
  if (!source) return '';
  const plan = planMarkdown(source);
  const links = linksOf(plan.definitions);
  return plan.pieces.map((piece) => partHtml(renderPiece(piece, links, options))).join('');
}

/** renderMarkdown for the open tail of a streaming reply: code is not highlighted yet. */
export function renderOpenTail(source: string): string {
  return renderMarkdown(source, { highlight: false });
}

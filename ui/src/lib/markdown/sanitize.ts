// The last line of defence between model output and the DOM. Model text is markdown; raw HTML in it
// is already shown as text by the renderer, and whatever markdown produces passes this allow-list.
import DOMPurify from 'dompurify';

const ALLOWED_TAGS = [
  'a', 'blockquote', 'br', 'button', 'code', 'del', 'div', 'em', 'h1', 'h2', 'h3', 'h4', 'h5',
  'h6', 'hr', 'input', 'li', 'ol', 'p', 'pre', 'span', 'strong', 'sub', 'sup', 'table', 'tbody',
  'td', 'th', 'thead', 'tr', 'ul',
];
const ALLOWED_ATTR = ['href', 'title', 'class', 'start', 'type', 'checked', 'disabled', 'align', 'data-copy'];
const SAFE_LINK = /^(https?:|mailto:)/i;

let purifier: ReturnType<typeof DOMPurify> | null = null;

function setUp(): ReturnType<typeof DOMPurify> {
  const purify = DOMPurify(window);
  purify.addHook('afterSanitizeAttributes', (node) => {
    const element = node as Element;
    if (element.tagName === 'A') {
      const href = element.getAttribute('href') ?? '';
      if (!SAFE_LINK.test(href.trim())) element.removeAttribute('href');
      element.setAttribute('rel', 'noopener noreferrer');
    }
    // Only the task-list checkboxes marked writes may stay, and only as read-only ones.
    if (element.tagName === 'INPUT') {
      if (element.getAttribute('type') !== 'checkbox') element.remove();
      else element.setAttribute('disabled', '');
    }
    if (element.tagName === 'BUTTON') element.setAttribute('type', 'button');
  });
  return purify;
}

/** Sanitizes HTML made from model output: no scripts, handlers, styles, forms, frames or images. */
export function sanitizeHtml(html: string): string {
  purifier ??= setUp();
  return purifier.sanitize(html, {
    ALLOWED_TAGS,
    ALLOWED_ATTR: [...ALLOWED_ATTR, 'rel'],
    ALLOW_DATA_ATTR: false,
    ALLOW_ARIA_ATTR: false,
    ALLOW_UNKNOWN_PROTOCOLS: false,
  }) as string;
}

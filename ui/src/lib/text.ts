// Text as the user sees it: counted the way Rust counts it, and shown without the invisible
// characters that could make it read as something else.
import { t } from './i18n';
import type { Conversation } from './types';

/**
 * The characters of `text` as Rust counts them (`str::chars().count()`, Unicode scalar values):
 * an emoji outside the Basic Multilingual Plane is one, not the two UTF-16 units of
 * `text.length`. A lone surrogate counts as one (it reaches Rust as U+FFFD). One pass over the
 * string, no array: the composer counts up to 100,000 characters on every keystroke.
 */
export function charCount(text: string): number {
  let count = text.length;
  for (let i = 0; i < text.length - 1; i++) {
    const unit = text.charCodeAt(i);
    if (unit >= 0xd800 && unit <= 0xdbff) {
      const next = text.charCodeAt(i + 1);
      if (next >= 0xdc00 && next <= 0xdfff) {
        count--;
        i++;
      }
    }
  }
  return count;
}

/**
 * The bidirectional controls: embeddings and overrides (U+202A–U+202E), isolates (U+2066–U+2069)
 * and the marks (U+200E, U+200F, U+061C). An override turns "report\u202Egnp.exe" into what reads
 * "reportexe.png"; a name or title never needs them.
 */
const BIDI_CONTROLS = /[\u202A-\u202E\u2066-\u2069\u200E\u200F\u061C]/g;

/** `text` for display: a title, file or model name or notice, without bidirectional controls. */
export function displayText(text: string): string {
  return text.replace(BIDI_CONTROLS, '');
}

/**
 * A conversation's title as the sidebar and the header show it: one function, so that both say
 * the same thing at the same moment (issue 10: the header lagged until the reply ended).
 */
export function conversationTitle(conversation: Pick<Conversation, 'title'>): string {
  return displayText(conversation.title).trim() || t('sidebar.untitled');
}

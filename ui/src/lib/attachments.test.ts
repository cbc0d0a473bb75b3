import { clearMocks, mockConvertFileSrc } from '@tauri-apps/api/mocks';
import { afterEach, describe, expect, it } from 'vitest';
import { fullImageUrl, isImage, pasteIsImage, pendingImageUrl, thumbnailUrl } from './attachments';
import type { Attachment } from './types';

afterEach(() => clearMocks());

/** What the page sees of the clipboard when pasting: `text` as text/plain, and maybe files. */
function clipboard(text: string, types: string[] = text ? ['text/plain'] : []): DataTransfer {
  return { types, getData: (type: string) => (type === 'text/plain' ? text : '') } as unknown as DataTransfer;
}

describe('a paste into the composer', () => {
  it('is left to the browser when the clipboard has text', () => {
    expect(pasteIsImage(clipboard('hello'))).toBe(false);
    expect(pasteIsImage(clipboard('https://example.com/cat.png', ['text/plain', 'Files'])), 'text wins over files').toBe(false);
  });

  it('is an image for the shell to read when the clipboard gives the page no text', () => {
    expect(pasteIsImage(clipboard('')), 'WebKitGTK shows a copied image as nothing at all').toBe(true);
    expect(pasteIsImage(clipboard('', ['Files'])), 'other engines show it as Files').toBe(true);
    expect(pasteIsImage(clipboard('', ['text/html', 'Files'])), 'an image copied from a page: html, no text').toBe(true);
    expect(pasteIsImage(null)).toBe(true);
  });
});

describe('image addresses', () => {
  const sha = 'ab'.repeat(32);

  it('are on the shell’s attachment protocol', () => {
    mockConvertFileSrc('linux');
    expect(pendingImageUrl(7)).toBe('attachment://localhost/pending%2F7');
    expect(thumbnailUrl(sha)).toBe(`attachment://localhost/thumb%2F${sha}`);
    expect(fullImageUrl(sha)).toBe(`attachment://localhost/full%2F${sha}`);
  });

  it('are http on Windows', () => {
    mockConvertFileSrc('windows');
    expect(thumbnailUrl(sha)).toBe(`http://attachment.localhost/thumb%2F${sha}`);
  });
});

describe('a message’s attachments', () => {
  it('show as pictures only when they are images', () => {
    const attachment = (media_type: string) => ({ media_type }) as Attachment;
    expect(isImage(attachment('image/jpeg'))).toBe(true);
    expect(isImage(attachment('audio/wav'))).toBe(false);
  });
});

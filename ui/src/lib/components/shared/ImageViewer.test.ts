import { flushSync, mount, unmount } from 'svelte';
import { afterEach, describe, expect, it, vi } from 'vitest';
import ImageViewer from './ImageViewer.svelte';

let shown: Record<string, unknown> | null = null;

afterEach(() => {
  if (shown) unmount(shown);
  shown = null;
  document.body.replaceChildren();
});

function open() {
  const onClose = vi.fn();
  shown = mount(ImageViewer, { target: document.body, props: { src: 'attachment://localhost/full%2Fabc', alt: 'cat.png', onClose } });
  flushSync();
  const dialog = document.querySelector<HTMLElement>('[data-testid=image-viewer]')!;
  return { onClose, dialog };
}

describe('the enlarged image', () => {
  it('is a modal dialog showing the whole image, with the focus in it', () => {
    const { dialog } = open();
    expect(dialog.getAttribute('role')).toBe('dialog');
    expect(dialog.getAttribute('aria-modal')).toBe('true');
    expect(dialog.querySelector('img')?.getAttribute('src')).toBe('attachment://localhost/full%2Fabc');
    expect(dialog.querySelector('img')?.getAttribute('alt')).toBe('cat.png');
    expect(dialog.contains(document.activeElement), 'the focus moved into the dialog').toBe(true);
  });

  it('closes on Esc', () => {
    const { onClose } = open();
    window.dispatchEvent(new KeyboardEvent('keydown', { key: 'Escape', bubbles: true }));
    expect(onClose).toHaveBeenCalledOnce();
  });

  it('closes by its button and by a click beside the image, not by a click on it', () => {
    const { onClose, dialog } = open();
    dialog.querySelector('img')!.click();
    expect(onClose, 'a click on the image keeps it open').not.toHaveBeenCalled();
    document.querySelector<HTMLElement>('[data-testid=image-viewer-backdrop]')!.click();
    expect(onClose).toHaveBeenCalledTimes(1);
    document.querySelector<HTMLElement>('[data-testid=image-viewer-close]')!.click();
    expect(onClose).toHaveBeenCalledTimes(2);
  });
});

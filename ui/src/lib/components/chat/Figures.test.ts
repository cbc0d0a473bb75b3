import { flushSync, mount, unmount } from 'svelte';
import { afterEach, describe, expect, it } from 'vitest';
import { message } from '../../testing';
import type { ReplyStats } from '../../types';
import Figures from './Figures.svelte';

let shown: Record<string, unknown> | null = null;

function clear(): void {
  if (shown) unmount(shown);
  shown = null;
  document.body.replaceChildren();
}

afterEach(clear);

/** The figures panel of a reply with `stats`, as label → value. */
function figures(stats: Partial<ReplyStats>): Map<string, string> {
  clear();
  const reply = message(2, { role: 'assistant' });
  reply.stats = { ...reply.stats, prompt_tokens: 600, reused_tokens: 12, ...stats };
  shown = mount(Figures, { target: document.body, props: { message: reply } });
  flushSync();
  const rows = [...document.querySelectorAll('[data-testid=figures-panel] div')];
  return new Map(rows.map((row) => [row.querySelector('dt')!.textContent!, row.querySelector('dd')!.textContent!]));
}

describe('a reply’s figures', () => {
  it('count the image tokens reused and encoded beside the prompt tokens', () => {
    const panel = figures({ image_tokens_reused: 256, image_tokens_encoded: 1120 });
    expect(panel.get('Prompt tokens')).toBe('600');
    expect(panel.get('Image tokens reused')).toBe('256');
    expect(panel.get('Image tokens encoded')).toBe('1,120');
  });

  it('leave out image tokens that are none', () => {
    const panel = figures({ image_tokens_reused: 0, image_tokens_encoded: 576 });
    expect(panel.has('Image tokens reused'), 'no image came from the cache').toBe(false);
    expect(panel.get('Image tokens encoded')).toBe('576');
    const text = figures({ image_tokens_reused: null, image_tokens_encoded: null });
    expect([...text.keys()].some((label) => label.startsWith('Image')), 'a prompt without images').toBe(false);
  });
});

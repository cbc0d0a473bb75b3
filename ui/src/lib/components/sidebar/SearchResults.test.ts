import { flushSync, mount, unmount } from 'svelte';
import { afterEach, describe, expect, it } from 'vitest';
import type { SearchHit } from '../../types';
import SearchResults from './SearchResults.svelte';

let shown: Record<string, unknown> | null = null;

afterEach(() => {
  if (shown) unmount(shown);
  shown = null;
  document.body.replaceChildren();
});

function hit(message_id: number, image_count: number): SearchHit {
  return { conversation_id: 1, title: 'Harbours', message_id, role: 'user', snippet: 'the \u0002harbour\u0003 at dusk', image_count };
}

function show(hits: SearchHit[]): HTMLElement[] {
  shown = mount(SearchResults, { target: document.body, props: { hits, onOpen: () => {} } });
  flushSync();
  return [...document.querySelectorAll<HTMLElement>('[data-testid=search-hit]')];
}

describe('search results', () => {
  it('mark a hit whose message carries images, saying how many', () => {
    const [two, one, none] = show([hit(1, 2), hit(2, 1), hit(3, 0)]);
    const marker = (result: HTMLElement) => result.querySelector<HTMLElement>('[data-testid=search-hit-images]');
    expect(marker(two)?.getAttribute('role')).toBe('img');
    expect(marker(two)?.getAttribute('aria-label')).toBe('2 images');
    expect(marker(two)?.textContent?.trim(), 'the count is shown beside the picture').toBe('2');
    expect(marker(one)?.getAttribute('aria-label')).toBe('1 image');
    expect(marker(none), 'a message without images has no marker').toBeNull();
  });
});

import { flushSync, mount, unmount } from 'svelte';
import { afterEach, describe, expect, it } from 'vitest';
import ToolsSection from './ToolsSection.svelte';

let shown: Record<string, unknown> | null = null;

afterEach(() => {
  if (shown) unmount(shown);
  shown = null;
  document.body.replaceChildren();
});

describe('the tools settings', () => {
  it('turn tools on and take a tool off the always-allowed list', () => {
    const props = $state({ enabled: false, allowed: ['calculator', 'current_datetime'] });
    shown = mount(ToolsSection, { target: document.body, props });
    flushSync();
    const box = document.querySelector<HTMLInputElement>('[data-testid=tools-enabled]')!;
    box.click();
    flushSync();
    expect(props.enabled).toBe(true);
    const rows = [...document.querySelectorAll('[data-testid=always-allowed-tools] li')];
    expect(rows.map((row) => row.querySelector('code')!.textContent)).toEqual(['calculator', 'current_datetime']);
    rows[0].querySelector('button')!.click();
    flushSync();
    expect(props.allowed).toEqual(['current_datetime']);
  });
});

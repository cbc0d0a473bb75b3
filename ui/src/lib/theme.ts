import type { Theme } from './types';

const dark = () => window.matchMedia?.('(prefers-color-scheme: dark)');
let chosen: Theme = 'system';
let watching = false;

function paint(): void {
  const resolved = chosen === 'system' ? (dark()?.matches ? 'dark' : 'light') : chosen;
  document.documentElement.dataset.theme = resolved;
}

/** Applies a theme now; 'system' keeps following the operating system's preference. */
export function applyTheme(theme: Theme): void {
  chosen = theme;
  if (!watching) {
    dark()?.addEventListener?.('change', paint);
    watching = true;
  }
  paint();
}

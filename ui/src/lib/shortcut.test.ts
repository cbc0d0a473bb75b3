import { describe, expect, it } from 'vitest';
import { parseShortcut, pressesShortcut, releasesShortcut, shortcutLabel, shortcutOf } from './shortcut';

const key = (code: string, held: Partial<KeyboardEventInit> = {}) => new KeyboardEvent('keydown', { code, ...held });

describe('the push-to-talk shortcut', () => {
  it('is pressed by its key with exactly its modifiers, not by a repeat', () => {
    const shortcut = parseShortcut('Ctrl+Space')!;
    expect(pressesShortcut(shortcut, key('Space', { ctrlKey: true }))).toBe(true);
    expect(pressesShortcut(shortcut, key('Space'))).toBe(false);
    expect(pressesShortcut(shortcut, key('Space', { ctrlKey: true, shiftKey: true }))).toBe(false);
    expect(pressesShortcut(shortcut, key('Space', { ctrlKey: true, repeat: true }))).toBe(false);
    expect(pressesShortcut(shortcut, key('KeyA', { ctrlKey: true }))).toBe(false);
  });

  it('is let go when its key or one of its modifiers comes up', () => {
    const shortcut = parseShortcut('Ctrl+Space')!;
    expect(releasesShortcut(shortcut, key('Space'))).toBe(true);
    expect(releasesShortcut(shortcut, key('ControlRight'))).toBe(true);
    expect(releasesShortcut(shortcut, key('AltLeft'))).toBe(false);
    expect(releasesShortcut(shortcut, key('KeyA'))).toBe(false);
  });

  it('is read from the settings and refused when it is not one', () => {
    expect(parseShortcut('Alt+Shift+KeyM')).toEqual({ code: 'KeyM', ctrl: false, alt: true, shift: true, meta: false });
    expect(parseShortcut('F9')).toEqual({ code: 'F9', ctrl: false, alt: false, shift: false, meta: false });
    expect(parseShortcut('Ctrl+')).toBeNull();
    expect(parseShortcut('Ctrl+ControlLeft')).toBeNull();
    expect(parseShortcut('Hyper+KeyA')).toBeNull();
  });

  it('is recorded from the keys held, once a key other than a modifier is pressed', () => {
    expect(shortcutOf(key('ControlLeft', { ctrlKey: true }))).toBeNull();
    expect(shortcutOf(key('KeyT', { ctrlKey: true, shiftKey: true }))).toBe('Ctrl+Shift+KeyT');
    expect(shortcutOf(key('F9'))).toBe('F9');
  });

  it('reads as people name keys', () => {
    expect(shortcutLabel('Ctrl+Space')).toBe('Ctrl + Space');
    expect(shortcutLabel('Alt+KeyM')).toBe('Alt + M');
    expect(shortcutLabel('Meta+Digit1')).toBe('Meta + 1');
  });
});

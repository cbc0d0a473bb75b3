import { describe, expect, it, vi } from 'vitest';
import { conversation } from './testing';
import { charCount, conversationTitle, displayText } from './text';

describe('counting characters the way Rust does (issue 10)', () => {
  it('counts an emoji outside the BMP as one character, as str::chars() does', () => {
    expect(charCount('😀'), '"😀".chars().count() is 1').toBe(1);
    expect(charCount('a😀b'), 'letters around a surrogate pair').toBe(3);
    expect(charCount('😀'.repeat(60_000)), '60,000 emoji are 60,000 characters, not 120,000').toBe(60_000);
  });

  it('counts letters, accents and a flag by their scalar values', () => {
    expect(charCount('')).toBe(0);
    expect(charCount('hello')).toBe(5);
    expect(charCount('e\u0301'), 'a combining accent is a scalar value of its own in Rust').toBe(2);
    expect(charCount('🇵🇹'), 'a flag is two regional indicators').toBe(2);
  });

  it('counts a lone surrogate as one character (it reaches Rust as U+FFFD)', () => {
    expect(charCount('\ud83d')).toBe(1);
    expect(charCount('a\ude00b')).toBe(3);
    expect(charCount('\ude00\ud83d'), 'a low surrogate before a high one is no pair').toBe(2);
  });

  it('counts 100,001 emoji without iterating the string into an array', () => {
    const iterate = vi.spyOn(String.prototype, Symbol.iterator);
    const from = vi.spyOn(Array, 'from');
    try {
      expect(charCount('😀'.repeat(100_001))).toBe(100_001);
      expect(iterate, 'the composer counts on every keystroke: no [...text]').not.toHaveBeenCalled();
      expect(from, 'no Array.from(text)').not.toHaveBeenCalled();
    } finally {
      iterate.mockRestore();
      from.mockRestore();
    }
  });
});

describe('text for display (issue 10)', () => {
  it('removes the override that makes a name ending in .exe read as .png', () => {
    const name = 'invoice\u202Egnp.exe';
    expect(displayText(name)).toBe('invoicegnp.exe');
    expect(displayText(name).endsWith('.exe'), 'what is shown ends as the name does').toBe(true);
  });

  it('removes every bidirectional control and nothing else', () => {
    const controls = ['\u202A', '\u202B', '\u202C', '\u202D', '\u202E', '\u2066', '\u2067', '\u2068', '\u2069', '\u200E', '\u200F', '\u061C'];
    for (const control of controls) {
      expect(displayText(`a${control}b`), `U+${control.codePointAt(0)!.toString(16).toUpperCase()}`).toBe('ab');
    }
    const plain = 'שלום, مرحبا, 😀, e\u0301, a\u200Bb';
    expect(displayText(plain), 'right-to-left letters, emoji, accents and other invisibles stay').toBe(plain);
  });

  it('gives the sidebar and the header one title', () => {
    expect(conversationTitle(conversation(1, { title: 'Sorting in Rust' }))).toBe('Sorting in Rust');
    expect(conversationTitle(conversation(1, { title: 'photo\u202Egnp.exe' }))).toBe('photognp.exe');
    expect(conversationTitle(conversation(1, { title: '' })), 'an empty title reads as a new conversation').toBe('New conversation');
    expect(conversationTitle(conversation(1, { title: '\u202E' })), 'a title of controls only is empty').toBe('New conversation');
  });
});

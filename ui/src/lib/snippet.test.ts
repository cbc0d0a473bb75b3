import { describe, expect, it } from 'vitest';
import { splitSnippet } from './snippet';

describe('search snippets', () => {
  it('marks the words between \\u0002 and \\u0003', () => {
    expect(splitSnippet('…the \u0002sky\u0003 is \u0002blue\u0003…')).toEqual([
      { text: '…the ', hit: false },
      { text: 'sky', hit: true },
      { text: ' is ', hit: false },
      { text: 'blue', hit: true },
      { text: '…', hit: false },
    ]);
  });

  it('keeps markup in the snippet as plain text', () => {
    expect(splitSnippet('<img src=x onerror=alert(1)> \u0002<b>\u0003')).toEqual([
      { text: '<img src=x onerror=alert(1)> ', hit: false },
      { text: '<b>', hit: true },
    ]);
  });
});

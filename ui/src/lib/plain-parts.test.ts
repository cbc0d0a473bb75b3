// Issue 10: a long plain message (a user's, an imported one) is laid out in parts that are each
// quick to lay out, a frame's worth at a time, and reads as the same text.
import { describe, expect, it } from 'vitest';
import { PLAIN_FRAME, PLAIN_PART, plainParts, showInFrames, standsAlone } from './plain-parts';

const MIB = 1024 * 1024;

function lines(size: number): string {
  let text = '';
  for (let i = 0; text.length < size; i++) text += `line ${i} ${'word '.repeat(i % 17)}\n`;
  return text.slice(0, size);
}

/** Checks what every cut must hold, whatever the text. */
function checkParts(text: string, bound = PLAIN_PART): string[] {
  const parts = plainParts(text, bound);
  expect(parts.join(''), 'the parts are the whole text, in order, nothing added').toBe(text);
  for (const [index, part] of parts.entries()) {
    expect(part.length, `part ${index} is within the bound`).toBeLessThanOrEqual(bound);
    if (index < parts.length - 1) {
      expect(part.length, `part ${index} is not empty`).toBeGreaterThan(0);
      expect(/[\uD800-\uDBFF]$/.test(part), `part ${index} does not end in half a surrogate pair`).toBe(false);
    }
  }
  return parts;
}

describe('plainParts', () => {
  it('keeps a text within the bound whole', () => {
    expect(plainParts('')).toEqual(['']);
    expect(plainParts('a\nb')).toEqual(['a\nb']);
    expect(plainParts('x'.repeat(PLAIN_PART)), 'exactly the bound is one part').toHaveLength(1);
  });

  it('cuts 2 MiB of lines into parts of at most PLAIN_PART, each just after a line break', () => {
    const parts = checkParts(lines(2 * MIB));
    expect(parts.length, 'about 2 MiB / 16 KiB parts').toBeLessThan(140);
    for (const part of parts.slice(0, -1)) expect(part.endsWith('\n'), 'a part ends with its last line').toBe(true);
  });

  it('cuts after the last line break within the part', () => {
    expect(checkParts('aaa\nbb\ncc', 8)).toEqual(['aaa\nbb\n', 'cc']);
    expect(checkParts('aaaaaaa\nbb', 8), 'a break as the last code unit the part may hold').toEqual(['aaaaaaa\n', 'bb']);
    expect(checkParts('a\n\n\n\n\n\n\n\n\nb', 4), 'blank lines are kept').toEqual(['a\n\n\n', '\n\n\n\n', '\n\nb']);
  });

  it('cuts a line longer than the bound after a space, else at the bound', () => {
    expect(checkParts('one two three', 8)).toEqual(['one two ', 'three']);
    expect(checkParts('abcdefghij', 4)).toEqual(['abcd', 'efgh', 'ij']);
  });

  it('never splits a surrogate pair', () => {
    expect(checkParts('abc😀def', 4), 'the pair moves to the next part').toEqual(['abc', '😀de', 'f']);
    checkParts('😀'.repeat(3 * PLAIN_PART));
    checkParts(`x${'😀'.repeat(3 * PLAIN_PART)}`);
  });

  it('is linear: 8 MiB on one line is cut at once', () => {
    const started = performance.now();
    checkParts('y'.repeat(8 * MIB));
    expect(performance.now() - started, 'no rescanning of the text').toBeLessThan(500);
  });
});

describe('standsAlone', () => {
  it('makes a block of a part only between line breaks, so innerText gains none', () => {
    const parts = ['a\n', 'bcd', 'ef\n', 'g\n', 'h'];
    expect(parts.map((_, index) => standsAlone(parts, index))).toEqual([true, false, false, true, true]);
    expect(standsAlone(['one line'], 0), 'a single part').toBe(true);
  });
});

describe('showInFrames', () => {
  it('shows a frame of parts at once and the rest one frame at a time, until stopped', () => {
    const parts = plainParts(lines(2 * MIB));
    const frames: (() => void)[] = [];
    const counts: number[] = [];
    const stop = showInFrames(parts, (count) => counts.push(count), (callback) => {
      frames.push(callback);
      return () => frames.splice(frames.indexOf(callback), 1);
    });
    expect(counts, 'the first frame is shown before it returns').toEqual([Math.floor(PLAIN_FRAME / PLAIN_PART)]);
    frames.shift()!();
    expect(counts).toHaveLength(2);
    stop();
    expect(frames, 'stopping cancels the next frame').toHaveLength(0);
  });

  it('shows every part in the end, never more than a frame at a time past the first part', () => {
    const parts = plainParts(lines(MIB));
    const frames: (() => void)[] = [];
    let shown = 0;
    showInFrames(parts, (count) => {
      const added = parts.slice(shown, count).join('').length;
      expect(count - shown === 1 || added <= PLAIN_FRAME, 'a frame adds one part or up to PLAIN_FRAME').toBe(true);
      shown = count;
    }, (callback) => (frames.push(callback), () => {}));
    while (frames.length) frames.shift()!();
    expect(shown, 'all parts shown').toBe(parts.length);
  });
});

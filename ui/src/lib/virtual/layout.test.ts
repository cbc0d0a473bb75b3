import { describe, expect, it } from 'vitest';
import { offsetsOf, rowAt, visibleRange } from './layout';

describe('virtual list layout', () => {
  const heights = [100, 50, 200, 30, 120];
  const offsets = offsetsOf(heights);

  it('stacks rows of different heights', () => {
    expect(offsets).toEqual([0, 100, 150, 350, 380, 500]);
  });

  it('finds the row under a position, clamped to the rows that exist', () => {
    expect(rowAt(offsets, 0)).toBe(0);
    expect(rowAt(offsets, 99)).toBe(0);
    expect(rowAt(offsets, 100)).toBe(1);
    expect(rowAt(offsets, 360)).toBe(3);
    expect(rowAt(offsets, 10_000)).toBe(4);
    expect(rowAt(offsets, -5)).toBe(0);
  });

  it('draws only the rows in the viewport plus the overscan', () => {
    expect(visibleRange(offsets, 120, 100, 0)).toEqual({ start: 1, end: 3 });
    expect(visibleRange(offsets, 120, 100, 40)).toEqual({ start: 0, end: 3 });
    expect(visibleRange(offsets, 120, 100, 150)).toEqual({ start: 0, end: 4 });
    expect(visibleRange(offsets, 0, 10_000, 0)).toEqual({ start: 0, end: 5 });
  });

  it('draws nothing for an empty list', () => {
    expect(visibleRange(offsetsOf([]), 0, 500, 100)).toEqual({ start: 0, end: 0 });
  });

  it('handles ten thousand rows quickly', () => {
    const many = offsetsOf(Array.from({ length: 10_000 }, (_, i) => 40 + (i % 7) * 13));
    const started = performance.now();
    for (let y = 0; y < many[many.length - 1]; y += 997) visibleRange(many, y, 800, 400);
    expect(performance.now() - started).toBeLessThan(200);
  });
});

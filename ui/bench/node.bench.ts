// `npm run bench:markdown`: the markdown benchmark in node (V8), jsdom standing in for the DOM
// that DOMPurify needs. BENCH_CASE=<part of a name> measures only the matching cases.
import { it } from 'vitest';
import { PATHOLOGICAL } from '../src/lib/markdown/pathological';
import { benchCase, TABLE_HEAD, tableRow, warmUp } from './markdown';

it('measures every pathological case, old renderer against new', () => {
  warmUp();
  console.log(TABLE_HEAD);
  for (const sample of PATHOLOGICAL.filter((c) => c.name.includes(process.env.BENCH_CASE ?? ''))) {
    console.log(tableRow(benchCase(sample)));
  }
});

// The markdown benchmark as a page, for a real engine (webkit.py loads it in WebKitGTK's
// MiniBrowser). Rows go into #result one case at a time, the page free in between; `?case=`
// measures only the cases whose names contain it. The last line is "done".
import { PATHOLOGICAL } from '../src/lib/markdown/pathological';
import { benchCase, TABLE_HEAD, tableRow, warmUp } from './markdown';

const result = document.getElementById('result')!;
const only = new URLSearchParams(location.search).get('case') ?? '';

async function run(): Promise<void> {
  warmUp();
  result.textContent = `${TABLE_HEAD}\n`;
  for (const sample of PATHOLOGICAL.filter((c) => c.name.includes(only))) {
    await new Promise((resolve) => setTimeout(resolve, 0));
    result.textContent += `${tableRow(benchCase(sample))}\n`;
  }
  result.textContent += 'done\n';
}

void run();

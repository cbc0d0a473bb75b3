// Render time per MiB of every pathological case (src/lib/markdown/pathological.ts), the old
// renderer (the whole message given to marked, as before issue 10) against the new one. Shared by
// the node run (node.bench.ts) and the WebKit page (page.ts).
import { Marked } from 'marked';
import { PATHOLOGICAL, type PathologicalCase } from '../src/lib/markdown/pathological';
import { RENDERER, renderMarkdown } from '../src/lib/markdown/render';
import { sanitizeHtml } from '../src/lib/markdown/sanitize';

const KIB = 1024;
const MIB = 1024 * KIB;
/** The old renderer is measured up these sizes while the next one is not expected to pass LONG_MS. */
const SIZES = [16 * KIB, 64 * KIB, 256 * KIB, MIB];
const LONG_MS = 8000;

const oldMarked = new Marked({ gfm: true, breaks: false, async: false, renderer: RENDERER });

function oldRender(source: string): string {
  return sanitizeHtml(oldMarked.parse(source, { async: false }) as string);
}

export interface Figure {
  bytes: number;
  /** Milliseconds per MiB at `bytes`, or why there is none. */
  msPerMiB: number | string;
}

export interface Row {
  name: string;
  old: Figure[];
  new: Figure;
}

function measure(render: (source: string) => string, source: string): Figure {
  const started = performance.now();
  try {
    render(source);
  } catch (error) {
    return { bytes: source.length, msPerMiB: error instanceof RangeError ? 'stack overflow' : String(error) };
  }
  return { bytes: source.length, msPerMiB: Math.round(((performance.now() - started) * MIB) / source.length) };
}

/** Renders a common message a few times, so that neither renderer is measured cold. */
export function warmUp(): void {
  const message = PATHOLOGICAL.find((c) => c.name === 'many short paragraphs')!.make(64 * KIB);
  for (let round = 0; round < 3; round++) {
    oldRender(message);
    renderMarkdown(message);
  }
}

/** Measures one case: the old renderer up the sizes, the new one at 1 MiB. */
export function benchCase({ name, make }: PathologicalCase): Row {
  const old: Figure[] = [];
  for (const [index, bytes] of SIZES.entries()) {
    const figure = measure(oldRender, make(bytes));
    old.push(figure);
    if (typeof figure.msPerMiB === 'string') break;
    // Expect the worst (quadratic) growth before trying the next size.
    const next = SIZES[index + 1];
    if (next && (figure.msPerMiB * next * next) / (bytes * MIB) > LONG_MS) break;
  }
  return { name, old, new: measure(renderMarkdown, make(MIB)) };
}

function size(bytes: number): string {
  return bytes >= MIB ? `${Math.round(bytes / MIB)} MiB` : `${Math.round(bytes / KIB)} KiB`;
}

/** One markdown table row: the case, the old figures at each size measured, the new at 1 MiB. */
export function tableRow(row: Row): string {
  const old = row.old.map((figure) => `${figure.msPerMiB} (${size(figure.bytes)})`).join(', ');
  return `| ${row.name} | ${old} | ${row.new.msPerMiB} |`;
}

export const TABLE_HEAD = '| case | old: ms per MiB (at size) | new: ms per MiB (at 1 MiB) |\n| --- | --- | --- |';

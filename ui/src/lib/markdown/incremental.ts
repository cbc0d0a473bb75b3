// Renders a streaming reply block by block: finished blocks are rendered once and kept; only the
// open tail is rendered again, and only when update() is called (the caller does so at most once
// per animation frame).
import { lastBoundary } from './blocks';
import { renderMarkdown } from './render';

export interface RenderedBlock {
  id: number;
  html: string;
}

export class IncrementalMarkdown {
  /** The finished blocks, in order; their HTML never changes once here. */
  blocks: RenderedBlock[] = [];
  /** The HTML of the open tail (the block still being written). */
  tail = '';
  private source = '';
  private committed = 0;
  private tailSource = '';
  private nextId = 0;
  private readonly render: (markdown: string) => string;
  private readonly renderTail: (markdown: string) => string;

  /** `render` renders finished blocks; `renderTail` the open tail (by default the same). */
  constructor(render: (markdown: string) => string = renderMarkdown, renderTail: (markdown: string) => string = render) {
    this.render = render;
    this.renderTail = renderTail;
  }

  /**
   * Brings the rendering up to `text`. When `text` extends what came before, the finished blocks
   * are kept and only the new part is looked at; otherwise everything starts over.
   */
  update(text: string): void {
    if (!text.startsWith(this.source.slice(0, this.committed))) this.reset();
    this.source = text;
    const boundary = lastBoundary(text, this.committed);
    if (boundary > this.committed) {
      this.blocks.push({ id: this.nextId++, html: this.render(text.slice(this.committed, boundary)) });
      this.committed = boundary;
    }
    const tailSource = text.slice(this.committed);
    if (tailSource !== this.tailSource) {
      this.tailSource = tailSource;
      this.tail = this.renderTail(tailSource);
    }
  }

  /** All the HTML: the finished blocks, then the tail. */
  get html(): string {
    return this.blocks.map((block) => block.html).join('') + this.tail;
  }

  private reset(): void {
    this.blocks = [];
    this.tail = '';
    this.source = '';
    this.committed = 0;
    this.tailSource = '';
  }
}

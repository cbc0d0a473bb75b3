// The images and sound clips attached to the next message, the drop target while files are
// dragged over the window, and the image shown enlarged.
//
// The shell holds the attached images and clips (it read and checked them, or recorded them);
// the window keeps their ids in the order they came and shows their thumbnails and players. They stay attached, across conversations, until
// they are removed or a message carrying them is stored (the shell says so with `started`).
import type { DragDropEvent } from '@tauri-apps/api/webview';
import { MAX_CLIPS, MAX_IMAGES } from '../attachments';
import { t } from '../i18n';
import { AppError, type Ipc } from '../ipc';
import type { Attached, Attachment, PendingClip, PendingImage } from '../types';

type AttachmentsIpc = Pick<Ipc, 'attachImages' | 'pickImages' | 'pasteImage' | 'discardImage'>;

export interface AttachmentsHooks {
  /** Files or images were not attached: a heading, and why in words. */
  onRefused?: (title: string, text: string) => void;
  /** A request failed. */
  onError?: (error: AppError) => void;
}

/** A stored image shown enlarged, and the element to give the focus back to. */
export interface ViewedImage {
  image: Attachment;
  opener: HTMLElement | null;
}

export class AttachmentsStore {
  /** The images attached to the next message, in order. */
  images = $state<PendingImage[]>([]);
  /** The sound clips attached to the next message (dropped files and recordings), in order. */
  clips = $state<PendingClip[]>([]);
  /** Files are being dragged over the window. */
  dragging = $state(false);
  viewing = $state.raw<ViewedImage | null>(null);
  private readonly ipc: AttachmentsIpc;
  private readonly hooks: AttachmentsHooks;

  constructor(ipc: AttachmentsIpc, hooks: AttachmentsHooks = {}) {
    this.ipc = ipc;
    this.hooks = hooks;
  }

  /** The ids to send, in order: the images, then the clips. */
  get ids(): number[] {
    return [...this.images.map((image) => image.id), ...this.clips.map((clip) => clip.id)];
  }

  get full(): boolean {
    return this.images.length >= MAX_IMAGES;
  }

  get clipsFull(): boolean {
    return this.clips.length >= MAX_CLIPS;
  }

  /** Attaches a recording the shell made (it already holds it). */
  addClip(clip: PendingClip): void {
    this.add({ images: [], clips: [clip], refused: [] });
  }

  /**
   * Takes what attaching gave: the images up to MAX_IMAGES (the others are discarded again), and
   * says why any file was refused.
   */
  add(attached: Attached): void {
    const room = Math.max(0, MAX_IMAGES - this.images.length);
    const extra = attached.images.slice(room);
    this.images = [...this.images, ...attached.images.slice(0, room)];
    const clipRoom = Math.max(0, MAX_CLIPS - this.clips.length);
    const extraClips = attached.clips.slice(clipRoom);
    this.clips = [...this.clips, ...attached.clips.slice(0, clipRoom)];
    if (attached.refused.length) this.hooks.onRefused?.(t('attach.notAttached'), attached.refused.join('; '));
    if (extra.length) {
      for (const image of extra) void this.discard(image.id);
      this.tooMany(extra.length);
    }
    if (extraClips.length) {
      for (const clip of extraClips) void this.discard(clip.id);
      this.hooks.onRefused?.(
        t('attach.notAttached'),
        t('attach.tooManyClips', { max: MAX_CLIPS, count: extraClips.length }),
      );
    }
  }

  /** Attaches the files at `paths` (dropped on the window). */
  async attach(paths: string[]): Promise<void> {
    if (!paths.length) return;
    if (this.full) return this.tooMany(paths.length);
    await this.run(() => this.ipc.attachImages(paths));
  }

  /** Attaches the files chosen in the native dialog. */
  async pick(): Promise<void> {
    if (this.full) return this.tooMany(1);
    await this.run(() => this.ipc.pickImages());
  }

  /** Attaches the image on the system clipboard; nothing when it holds none. */
  async paste(): Promise<void> {
    if (this.full) return this.tooMany(1);
    await this.run(async () => {
      const image = await this.ipc.pasteImage();
      return { images: image ? [image] : [], clips: [], refused: [] };
    });
  }

  /** Removes an image or clip before sending. */
  async remove(id: number): Promise<void> {
    this.images = this.images.filter((image) => image.id !== id);
    this.clips = this.clips.filter((clip) => clip.id !== id);
    await this.discard(id);
  }

  /** A message carrying `ids` was stored: the shell no longer holds them. */
  sent(ids: number[]): void {
    this.images = this.images.filter((image) => !ids.includes(image.id));
    this.clips = this.clips.filter((clip) => !ids.includes(clip.id));
  }

  /** Follows a native drag: the drop target while files are over the window, attached on drop. */
  dragDrop(event: DragDropEvent): void {
    switch (event.type) {
      case 'enter':
        this.dragging = event.paths.length > 0;
        break;
      case 'over':
        break;
      case 'leave':
        this.dragging = false;
        break;
      case 'drop':
        this.dragging = false;
        void this.attach(event.paths);
        break;
    }
  }

  /** Shows a stored image enlarged; closing gives the focus back to `opener`. */
  view(image: Attachment, opener: HTMLElement | null = null): void {
    this.viewing = { image, opener };
  }

  closeViewer(): void {
    const opener = this.viewing?.opener;
    this.viewing = null;
    if (opener?.isConnected) opener.focus();
  }

  private async run(attach: () => Promise<Attached>): Promise<void> {
    try {
      this.add(await attach());
    } catch (error) {
      this.hooks.onError?.(AppError.from(error));
    }
  }

  private async discard(id: number): Promise<void> {
    try {
      await this.ipc.discardImage(id);
    } catch (error) {
      this.hooks.onError?.(AppError.from(error));
    }
  }

  private tooMany(count: number): void {
    this.hooks.onRefused?.(t('attach.notAttached'), t('attach.tooMany', { max: MAX_IMAGES, count }));
  }
}

// The models on offer and on this computer, and the downloads this window runs.
import { SvelteMap } from 'svelte/reactivity';
import { t, type MessageKey } from '../i18n';
import { AppError, type Ipc } from '../ipc';
import type { CatalogView, ImportMode, InstalledModel, ModelsOverview, Progress } from '../types';

type ModelsIpc = Pick<
  Ipc,
  'modelsOverview' | 'downloadModel' | 'pauseDownload' | 'cancelDownload' | 'deleteModel' | 'importModel'
>;

/** A download as the UI shows it. */
export interface Download {
  status: 'running' | 'paused' | 'failed';
  /** The latest report; null before the first, and for a download paused before this window opened. */
  progress: Progress | null;
  /** Bytes on disk so far. */
  done: number;
  /** Why it failed: the shell's code (what the panel offers) and sentence. */
  error: AppError | null;
  /** Whether it fetches the projector too; null when it was begun before this window opened. */
  withMmproj: boolean | null;
}

export class ModelsStore {
  overview = $state<ModelsOverview | null>(null);
  /** Downloads started, paused or failed in this window, by catalog id. */
  private readonly downloads = new SvelteMap<string, Download>();
  private readonly ipc: ModelsIpc;

  constructor(ipc: ModelsIpc) {
    this.ipc = ipc;
  }

  /** Fetches the overview; the first call of a session probes the hardware (about a second). */
  async load(): Promise<void> {
    this.overview = await this.ipc.modelsOverview();
  }

  catalogModel(id: string): CatalogView | undefined {
    return this.overview?.catalog.find((model) => model.id === id);
  }

  /** The download of `id`: one of ours, or one the shell reports (paused earlier, or still running). */
  downloadOf(id: string): Download | null {
    const ours = this.downloads.get(id);
    if (ours) return ours;
    const partial = this.overview?.partial.find((p) => p.id === id);
    if (partial) return { status: 'paused', progress: null, done: partial.bytes, error: null, withMmproj: partial.with_mmproj };
    if (this.overview?.downloading.includes(id)) {
      return { status: 'running', progress: null, done: 0, error: null, withMmproj: null };
    }
    return null;
  }

  /** Catalog ids with a download running, paused or failed. */
  get pendingIds(): string[] {
    const overview = this.overview;
    const ids = new Set([...this.downloads.keys(), ...(overview?.partial.map((p) => p.id) ?? []), ...(overview?.downloading ?? [])]);
    return [...ids];
  }

  /**
   * Starts or resumes a download. Call it only once the user has accepted the model's licence (a
   * paused download was accepted when it began). Resolves to the installed model, or null when the
   * download was paused, cancelled or failed (the failure is kept in its `error`).
   */
  async download(id: string, withMmproj: boolean): Promise<InstalledModel | null> {
    if (this.downloads.get(id)?.status === 'running') return null;
    const before = this.downloadOf(id);
    this.downloads.set(id, { status: 'running', progress: before?.progress ?? null, done: before?.done ?? 0, error: null, withMmproj });
    try {
      const outcome = await this.ipc.downloadModel(id, withMmproj, true, (progress) =>
        this.patch(id, { progress, done: progress.done }),
      );
      if (outcome.status === 'paused') this.patch(id, { status: 'paused' });
      else this.downloads.delete(id);
      return outcome.model;
    } catch (raw) {
      this.patch(id, { status: 'failed', error: AppError.from(raw) });
      return null;
    } finally {
      await this.refresh();
    }
  }

  /** Asks a running download to stop; its `download` call then resolves as paused. */
  async pause(id: string): Promise<void> {
    await this.ipc.pauseDownload(id);
    if (!this.downloads.has(id)) await this.refresh();
  }

  /** Stops a running download, or discards a paused or failed one, with its files. */
  async cancel(id: string): Promise<void> {
    const running = this.downloads.get(id)?.status === 'running';
    try {
      await this.ipc.cancelDownload(id);
    } catch (raw) {
      // A download that failed before writing anything has nothing to discard.
      if (running || AppError.from(raw).code !== 'not_found') throw raw;
    }
    if (running) return; // its download call ends and cleans up
    this.downloads.delete(id);
    await this.refresh();
  }

  async remove(id: string): Promise<void> {
    await this.ipc.deleteModel(id);
    await this.refresh();
  }

  async importFile(model: string, mmproj: string | null, mode: ImportMode): Promise<InstalledModel> {
    const installed = await this.ipc.importModel(model, mmproj, mode);
    await this.refresh();
    return installed;
  }

  /** Reloads the overview after a change; if that fails, the last one stays on screen. */
  async refresh(): Promise<void> {
    await this.load().catch(() => {});
  }

  private patch(id: string, fields: Partial<Download>): void {
    const current = this.downloads.get(id);
    if (current) this.downloads.set(id, { ...current, ...fields });
  }
}

/** The bytes to download for a catalog model: its file, and its projector when asked for. */
export function downloadSize(model: CatalogView, withMmproj: boolean): { bytes: number; exact: boolean } {
  const files = withMmproj ? model.files : model.files.slice(0, 1);
  return {
    bytes: files.reduce((sum, file) => sum + (file.bytes ?? 0), 0),
    exact: files.every((file) => file.bytes !== null),
  };
}

/** "2.4 GB", or "at least 2.4 GB" when a file's size is not published. */
export function formatDownloadSize(size: { bytes: number; exact: boolean }): string {
  const text = formatBytes(size.bytes);
  return size.exact ? text : t('models.sizeAtLeast', { size: text });
}

const UNITS = ['B', 'KB', 'MB', 'GB', 'TB'] as const;

/**
 * "769 MB", "1.2 GB", "16 GB". Powers of 1024, so that RAM reads as the size it was sold as (16 GB, not
 * 17.2) and a model's size compares with it directly.
 */
export function formatBytes(bytes: number): string {
  let value = Math.max(0, bytes);
  let unit = 0;
  while (value >= 1000 && unit < UNITS.length - 1) {
    value /= 1024;
    unit++;
  }
  const shown = unit === 0 || value >= 100 ? String(Math.round(value)) : value.toFixed(1).replace(/\.0$/, '');
  return t(`size.${UNITS[unit]}` as MessageKey, { value: shown });
}

/** "12.3 MB/s". */
export function formatSpeed(bytesPerSecond: number): string {
  return t('size.perSecond', { size: formatBytes(bytesPerSecond) });
}

/** "45 s", "3 min 20 s", "1 h 5 min". */
export function formatTimeLeft(seconds: number): string {
  const whole = Math.max(0, Math.round(seconds));
  if (whole < 60) return t('time.seconds', { s: whole });
  if (whole < 3600) return t('time.minutes', { m: Math.floor(whole / 60), s: whole % 60 });
  return t('time.hours', { h: Math.floor(whole / 3600), m: Math.floor((whole % 3600) / 60) });
}

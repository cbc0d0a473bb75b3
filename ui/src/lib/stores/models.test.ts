import { describe, expect, it, vi } from 'vitest';
import { AppError, type Ipc } from '../ipc';
import { catalogModel, installedModel, modelsOverview } from '../testing';
import type { DownloadOutcome, Progress } from '../types';
import { ModelsStore, downloadSize, formatBytes, formatSpeed, formatTimeLeft } from './models.svelte';

function progress(done: number, fields: Partial<Progress> = {}): Progress {
  return {
    phase: 'downloading',
    file: 0,
    files: 1,
    file_name: 'gemma-3-1b-it-Q4_K_M.gguf',
    done,
    total: 1000,
    bytes_per_second: 100,
    seconds_left: (1000 - done) / 100,
    note: null,
    ...fields,
  };
}

/** A shell whose download runs until the test ends it with `finish`. */
function downloadingShell() {
  let report: (p: Progress) => void = () => {};
  let finish: (outcome: DownloadOutcome) => void = () => {};
  let fail: (error: AppError) => void = () => {};
  const ipc = {
    modelsOverview: vi.fn(async () => modelsOverview()),
    downloadModel: vi.fn(
      (_id: string, _withMmproj: boolean, _accept: boolean, onProgress: (p: Progress) => void) =>
        new Promise<DownloadOutcome>((resolve, reject) => {
          report = onProgress;
          finish = resolve;
          fail = reject;
        }),
    ),
    pauseDownload: vi.fn(async () => null),
    cancelDownload: vi.fn(async () => null),
  };
  const store = new ModelsStore(ipc as unknown as Ipc);
  return { ipc, store, report: (p: Progress) => report(p), finish: (o: DownloadOutcome) => finish(o), fail: (e: AppError) => fail(e) };
}

describe('sizes, speeds and times', () => {
  it('writes sizes in powers of 1024 with one decimal below 100', () => {
    expect(formatBytes(512)).toBe('512 B');
    expect(formatBytes(806_058_240)).toBe('769 MB');
    expect(formatBytes(1.2 * 1024 ** 3)).toBe('1.2 GB');
    expect(formatBytes(16 * 1024 ** 3), 'RAM reads as the size it was sold as').toBe('16 GB');
    expect(formatBytes(1000 * 1024 ** 2), 'never four digits').toBe('1 GB');
  });

  it('writes a speed per second', () => {
    expect(formatSpeed(12.3 * 1024 ** 2)).toBe('12.3 MB/s');
  });

  it('writes time left in seconds, then minutes and seconds, then hours and minutes', () => {
    expect(formatTimeLeft(44.6)).toBe('45 s');
    expect(formatTimeLeft(200)).toBe('3 min 20 s');
    expect(formatTimeLeft(3900)).toBe('1 h 5 min');
    expect(formatTimeLeft(-3)).toBe('0 s');
  });

  it('counts the projector in the download size only when it is asked for', () => {
    const model = catalogModel('gemma-3-4b-it', { files: [{ name: 'm.gguf', bytes: 1000, sha256: null }, { name: 'mmproj.gguf', bytes: null, sha256: null }] });
    expect(downloadSize(model, false)).toEqual({ bytes: 1000, exact: true });
    expect(downloadSize(model, true), 'a file of unpublished size makes the total a lower bound').toEqual({ bytes: 1000, exact: false });
  });
});

describe('the models store', () => {
  it('follows a download from its progress reports to the installed model', async () => {
    const shell = downloadingShell();
    const installed = installedModel('gemma-3-1b-it');
    const result = shell.store.download('gemma-3-1b-it', false);
    expect(shell.ipc.downloadModel).toHaveBeenCalledWith('gemma-3-1b-it', false, true, expect.any(Function));
    expect(shell.store.downloadOf('gemma-3-1b-it')?.status).toBe('running');
    shell.report(progress(400));
    expect(shell.store.downloadOf('gemma-3-1b-it')).toMatchObject({ done: 400, progress: { bytes_per_second: 100 } });
    shell.finish({ status: 'installed', model: installed });
    expect(await result).toEqual(installed);
    expect(shell.store.downloadOf('gemma-3-1b-it'), 'an installed model has no download left').toBeNull();
    expect(shell.ipc.modelsOverview, 'the overview is fetched again to list the new model').toHaveBeenCalled();
  });

  it('keeps a paused download with where it stopped, and resumes it by downloading again', async () => {
    const shell = downloadingShell();
    const first = shell.store.download('gemma-3-1b-it', true);
    shell.report(progress(300));
    await shell.store.pause('gemma-3-1b-it');
    expect(shell.ipc.pauseDownload).toHaveBeenCalledWith('gemma-3-1b-it');
    shell.finish({ status: 'paused', model: null });
    expect(await first).toBeNull();
    expect(shell.store.downloadOf('gemma-3-1b-it')).toMatchObject({ status: 'paused', done: 300, withMmproj: true });

    const again = shell.store.download('gemma-3-1b-it', true);
    expect(shell.store.downloadOf('gemma-3-1b-it'), 'the bar stays where it was until the first report').toMatchObject({ status: 'running', done: 300 });
    expect(shell.ipc.downloadModel).toHaveBeenCalledTimes(2);
    shell.finish({ status: 'cancelled', model: null });
    await again;
  });

  it('does not start a second download of a model that is downloading', async () => {
    const shell = downloadingShell();
    void shell.store.download('gemma-3-1b-it', false);
    expect(await shell.store.download('gemma-3-1b-it', false)).toBeNull();
    expect(shell.ipc.downloadModel).toHaveBeenCalledTimes(1);
  });

  it('keeps the shell’s code and sentence when a download fails', async () => {
    const shell = downloadingShell();
    const result = shell.store.download('gemma-3-1b-it', false);
    shell.fail(new AppError('unauthorized', 'the server refused the file (401); is a Hugging Face token needed?'));
    expect(await result).toBeNull();
    expect(shell.store.downloadOf('gemma-3-1b-it')).toMatchObject({
      status: 'failed',
      error: { code: 'unauthorized', message: 'the server refused the file (401); is a Hugging Face token needed?' },
    });
  });

  it('discards a paused download at once, and leaves a running one to end its own call', async () => {
    const shell = downloadingShell();
    const running = shell.store.download('gemma-3-1b-it', false);
    await shell.store.cancel('gemma-3-1b-it');
    expect(shell.store.downloadOf('gemma-3-1b-it')?.status, 'still running until the shell answers').toBe('running');
    shell.finish({ status: 'cancelled', model: null });
    await running;
    expect(shell.store.downloadOf('gemma-3-1b-it')).toBeNull();

    const paused = shell.store.download('gemma-3-4b-it', false);
    shell.finish({ status: 'paused', model: null });
    await paused;
    await shell.store.cancel('gemma-3-4b-it');
    expect(shell.ipc.cancelDownload).toHaveBeenLastCalledWith('gemma-3-4b-it');
    expect(shell.store.downloadOf('gemma-3-4b-it')).toBeNull();
  });

  it('forgets a failed download that left nothing to discard', async () => {
    const shell = downloadingShell();
    const result = shell.store.download('gemma-3-1b-it', false);
    shell.fail(new AppError('download', 'no connection'));
    await result;
    shell.ipc.cancelDownload.mockRejectedValueOnce(new AppError('not_found', '"gemma-3-1b-it" is not downloading'));
    await shell.store.cancel('gemma-3-1b-it');
    expect(shell.store.downloadOf('gemma-3-1b-it')).toBeNull();
  });

  it('shows a download paused before this window opened (overview.partial) as paused', async () => {
    const ipc = { modelsOverview: vi.fn(async () => modelsOverview({ partial: [{ id: 'gemma-3-4b-it', bytes: 1234, with_mmproj: true }] })) };
    const store = new ModelsStore(ipc as unknown as Ipc);
    await store.load();
    expect(store.downloadOf('gemma-3-4b-it')).toMatchObject({ status: 'paused', done: 1234, progress: null, withMmproj: true });
    expect(store.pendingIds).toEqual(['gemma-3-4b-it']);
    expect(store.downloadOf('gemma-3-1b-it')).toBeNull();
  });

  it('refreshes the overview after a delete and an import', async () => {
    const ipc = {
      modelsOverview: vi.fn(async () => modelsOverview()),
      deleteModel: vi.fn(async () => null),
      importModel: vi.fn(async () => installedModel('my-model')),
    };
    const store = new ModelsStore(ipc as unknown as Ipc);
    await store.remove('gemma-3-1b-it');
    expect(ipc.deleteModel).toHaveBeenCalledWith('gemma-3-1b-it');
    expect((await store.importFile('/m.gguf', null, 'copy')).id).toBe('my-model');
    expect(ipc.importModel).toHaveBeenCalledWith('/m.gguf', null, 'copy');
    expect(ipc.modelsOverview).toHaveBeenCalledTimes(2);
  });
});

// Which models can see images: the one loaded, those installed, and the one to download.
import type { CatalogView, EngineStatus, InstalledView, ModelsOverview } from './types';

/**
 * Whether the loaded model takes images, as the shell judges it before a send: only a model
 * loaded with a vision projector does. Null while that is not known yet: before the shell has
 * said how the engine is, and while a model loads.
 */
export function engineCanSee(engine: EngineStatus | null): boolean | null {
  if (!engine || engine.state === 'loading') return null;
  return engine.info?.vision === true;
}

/** An installed model sees when its projector is there and has a vision encoder. */
export function installedCanSee(model: InstalledView): boolean {
  return model.mmproj_path !== null && model.missing.length === 0 && model.description.caps.includes('vision');
}

/** The installed models that can see, the default first. */
export function installedVisionModels(overview: ModelsOverview): InstalledView[] {
  return overview.installed.filter(installedCanSee).sort((a, b) => Number(b.is_default) - Number(a.is_default));
}

/**
 * The catalog model the first-run screen recommends for images, when it can be downloaded: not
 * installed yet (an installed one is used, or gets its projector in Settings).
 */
export function recommendedVisionDownload(overview: ModelsOverview): CatalogView | undefined {
  const id = overview.recommendations.vision.choice;
  if (id === null || overview.installed.some((model) => model.id === id)) return undefined;
  return overview.catalog.find((model) => model.id === id && model.caps.includes('vision') && model.files.length > 1);
}

/** The loaded (or chosen) model's name: its installed name, else the name in its file, else its file name. */
export function engineModelName(engine: EngineStatus | null, overview: ModelsOverview | null): string | null {
  const path = engine?.choice?.model;
  if (!path) return null;
  const installed = overview?.installed.find((model) => model.model_path === path);
  if (installed) return installed.name;
  if (engine?.info?.name) return engine.info.name;
  return path.split(/[\\/]/).pop()!.replace(/\.gguf$/i, '');
}

// Which models can see images and hear sound: the one loaded, those installed, and the one to
// download.
import type { CatalogView, EngineStatus, InstalledView, ModelsOverview } from './types';

/** What a projector may give a model: eyes (`vision`) or ears (`audio`). */
export type Sense = 'vision' | 'audio';

/** The first-run recommendation that names the model for each sense. */
const USE_OF: Record<Sense, 'vision' | 'voice'> = { vision: 'vision', audio: 'voice' };

/**
 * Whether the loaded model sees or hears, as the shell judges it before a send: only a model
 * loaded with a projector for it does. Null while that is not known yet: before the shell has
 * said how the engine is, and while a model loads.
 */
export function engineCan(engine: EngineStatus | null, sense: Sense): boolean | null {
  if (!engine || engine.state === 'loading') return null;
  return engine.info?.[sense] === true;
}

/** An installed model sees or hears when its projector is there and has the encoder for it. */
export function installedCan(model: InstalledView, sense: Sense): boolean {
  return model.mmproj_path !== null && model.missing.length === 0 && model.description.caps.includes(sense);
}

/** The installed models that see or hear, the default first. */
export function installedThatCan(overview: ModelsOverview, sense: Sense): InstalledView[] {
  return overview.installed
    .filter((model) => installedCan(model, sense))
    .sort((a, b) => Number(b.is_default) - Number(a.is_default));
}

/**
 * The catalog model the first-run screen recommends for images (or voice), when it can be
 * downloaded: not installed yet (an installed one is used, or gets its projector in Settings).
 */
export function recommendedDownload(overview: ModelsOverview, sense: Sense): CatalogView | undefined {
  const id = overview.recommendations[USE_OF[sense]].choice;
  if (id === null || overview.installed.some((model) => model.id === id)) return undefined;
  return overview.catalog.find((model) => model.id === id && model.caps.includes(sense) && model.files.length > 1);
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

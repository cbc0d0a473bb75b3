import { describe, expect, it } from 'vitest';
import { engineCan, installedThatCan, recommendedDownload } from './senses';
import { installedView, modelInfo, modelsOverview } from './testing';
import type { EngineStatus } from './types';

const choice = { model: '/home/me/models/gemma-3-4b-it-Q4_K_M.gguf', mmproj: '/home/me/models/mmproj-model-f16.gguf' };
const status = (fields: Partial<EngineStatus>): EngineStatus => ({ state: 'ready', choice, info: null, error: null, failure: null, ...fields });

describe('whether the loaded model can see or hear', () => {
  it('is what the engine says of the model it loaded, sense by sense', () => {
    expect(engineCan(status({ info: modelInfo({ vision: true }) }), 'vision')).toBe(true);
    expect(engineCan(status({ info: modelInfo({ vision: true }) }), 'audio')).toBe(false);
    expect(engineCan(status({ info: modelInfo({ vision: false, audio: true }) }), 'audio')).toBe(true);
    expect(engineCan(status({ info: modelInfo({ vision: false }) }), 'vision')).toBe(false);
  });

  it('is no, as the shell judges it, while nothing is loaded, even with a projector chosen', () => {
    expect(engineCan(status({ state: 'none' }), 'vision')).toBe(false);
    expect(engineCan(status({ state: 'failed', error: 'out of memory' }), 'audio')).toBe(false);
  });

  it('is not known while a model loads or before the shell has said', () => {
    expect(engineCan(status({ state: 'loading' }), 'audio')).toBeNull();
    expect(engineCan(null, 'vision')).toBeNull();
  });
});

describe('the models that can hear', () => {
  const models = '/home/me/.local/share/gemma-desk/models';
  type Caps = ReturnType<typeof installedView>['description']['caps'];
  const caps = (id: string, list: Caps) => ({ ...installedView(id).description, caps: list });
  const hearing = installedView('gemma-4-e2b-it', {
    name: 'Gemma 4 E2B',
    mmproj_path: `${models}/gemma-4-e2b-it/mmproj.gguf`,
    description: caps('gemma-4-e2b-it', ['text', 'vision', 'audio']),
  });
  const seeing = installedView('gemma-3-4b-it', { mmproj_path: `${models}/gemma-3-4b-it/mmproj.gguf`, description: caps('gemma-3-4b-it', ['text', 'vision']) });
  const withoutProjector = installedView('gemma-4-e4b-it', { description: caps('gemma-4-e4b-it', ['text', 'vision', 'audio']) });

  it('are the installed ones whose projector has an audio encoder', () => {
    const overview = modelsOverview({ installed: [seeing, withoutProjector, hearing] });
    expect(installedThatCan(overview, 'audio').map((model) => model.id)).toEqual(['gemma-4-e2b-it']);
    expect(installedThatCan(overview, 'vision').map((model) => model.id)).toEqual(['gemma-3-4b-it', 'gemma-4-e2b-it']);
  });

  it('are offered for download as the voice recommendation, unless it is installed', () => {
    expect(recommendedDownload(modelsOverview({ installed: [seeing] }), 'audio')?.id).toBe('gemma-4-e2b-it');
    expect(recommendedDownload(modelsOverview({ installed: [seeing] }), 'vision')).toBeUndefined();
    expect(recommendedDownload(modelsOverview({ installed: [hearing] }), 'audio')).toBeUndefined();
  });
});

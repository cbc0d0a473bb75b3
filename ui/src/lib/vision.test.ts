import { describe, expect, it } from 'vitest';
import { modelInfo } from './testing';
import type { EngineStatus } from './types';
import { engineCanSee } from './vision';

const choice = { model: '/home/me/models/gemma-3-4b-it-Q4_K_M.gguf', mmproj: '/home/me/models/mmproj-model-f16.gguf' };
const status = (fields: Partial<EngineStatus>): EngineStatus => ({ state: 'ready', choice, info: null, error: null, failure: null, ...fields });

describe('whether the loaded model can see', () => {
  it('is what the engine says of the model it loaded', () => {
    expect(engineCanSee(status({ info: modelInfo({ vision: true }) }))).toBe(true);
    expect(engineCanSee(status({ info: modelInfo({ vision: false }) }))).toBe(false);
  });

  it('is no, as the shell judges it, while nothing is loaded, even with a projector chosen', () => {
    expect(engineCanSee(status({ state: 'none' }))).toBe(false);
    expect(engineCanSee(status({ state: 'failed', error: 'out of memory' }))).toBe(false);
  });

  it('is not known while a model loads or before the shell has said', () => {
    expect(engineCanSee(status({ state: 'loading' }))).toBeNull();
    expect(engineCanSee(null)).toBeNull();
  });
});

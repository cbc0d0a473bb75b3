// The application's settings and the engine's state, as the shell reports them.
import type { Ipc } from '../ipc';
import { applyTheme } from '../theme';
import type { AppView, EngineStatus, InstalledModel, Preset, Settings } from '../types';

type AppIpc = Pick<Ipc, 'appState' | 'saveSettings' | 'useModel' | 'engineStatus' | 'pickModelFile' | 'openLog'>;

const POLL_MS = 500;

export class AppStore {
  state = $state<AppView | null>(null);
  /** A use_model call of ours is running. */
  loadingModel = $state(false);
  settingsOpen = $state(false);
  private readonly ipc: AppIpc;
  private polling = false;

  constructor(ipc: AppIpc) {
    this.ipc = ipc;
  }

  get engine(): EngineStatus | null {
    return this.state?.engine ?? null;
  }

  /** First run: no model chosen yet and none loaded; or the last load failed. */
  get needsModel(): boolean {
    const state = this.state;
    if (!state) return false;
    if (this.loadingModel) return false;
    return state.engine.state === 'failed' || (state.engine.state === 'none' && state.settings.model === null);
  }

  get presets(): Preset[] {
    return this.state ? [...this.state.builtin_presets, ...this.state.settings.custom_presets] : [];
  }

  /** The system prompt new chats start with (null when the preset is '' or unknown). */
  get newChatPrompt(): string | null {
    const id = this.state?.settings.preset_id;
    return this.presets.find((preset) => preset.id === id)?.prompt ?? null;
  }

  async load(): Promise<void> {
    this.state = await this.ipc.appState();
    applyTheme(this.state.settings.theme);
    this.watchEngine();
  }

  /** Reads the settings again after the shell changed them (a tool allowed always). */
  async reloadSettings(): Promise<void> {
    this.state = await this.ipc.appState();
  }

  async save(settings: Settings): Promise<void> {
    this.state = await this.ipc.saveSettings(settings);
    applyTheme(this.state.settings.theme);
  }

  pickModelFile(kind: 'model' | 'mmproj'): Promise<string | null> {
    return this.ipc.pickModelFile(kind);
  }

  /** Makes an installed model the default and loads it; the engine status (ready or failed) is kept either way. */
  async useModel(model: InstalledModel): Promise<EngineStatus> {
    const choice = { model: model.model_path, mmproj: model.mmproj_path };
    this.loadingModel = true;
    this.setEngine({ state: 'loading', choice, info: null, error: null, failure: null });
    try {
      const engine = await this.ipc.useModel(model.id);
      this.setEngine(engine);
      this.state = await this.ipc.appState();
      return engine;
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      this.setEngine({ state: 'failed', choice, info: null, error: message, failure: null });
      throw error;
    } finally {
      this.loadingModel = false;
    }
  }

  openLog(): Promise<null> {
    return this.ipc.openLog();
  }

  setEngine(engine: EngineStatus): void {
    if (this.state) this.state = { ...this.state, engine };
  }

  /** While the shell loads a model on its own (e.g. at start-up), follows it until it settles. */
  private watchEngine(): void {
    if (this.polling || this.state?.engine.state !== 'loading' || this.loadingModel) return;
    this.polling = true;
    const poll = async () => {
      try {
        const engine = await this.ipc.engineStatus();
        this.setEngine(engine);
        if (engine.state === 'loading') {
          setTimeout(poll, POLL_MS);
          return;
        }
        this.state = await this.ipc.appState();
      } catch {
        // engine_status failing leaves the last known state on screen
      }
      this.polling = false;
    };
    setTimeout(poll, POLL_MS);
  }
}

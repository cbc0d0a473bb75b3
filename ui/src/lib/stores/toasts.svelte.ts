import { describeError, type ErrorAction, type ShownError } from '../errors';

export interface ToastAction {
  label: string;
  run: () => void;
}

export interface Toast {
  id: number;
  kind: 'info' | 'warning' | 'error';
  title?: string;
  text: string;
  action?: ToastAction;
}

/** Short notices at the bottom of the window; each goes away by itself after a while. */
export class ToastStore {
  items = $state<Toast[]>([]);
  private nextId = 1;
  private handlers: Partial<Record<ErrorAction, () => void>> = {};

  show(text: string, options: { kind?: Toast['kind']; title?: string; action?: ToastAction; ms?: number } = {}): number {
    const id = this.nextId++;
    this.items.push({ id, kind: options.kind ?? 'info', title: options.title, text, action: options.action });
    const ms = options.ms ?? (options.action ? 8000 : 5000);
    setTimeout(() => this.dismiss(id), ms);
    return id;
  }

  /** What the app does for each action of the error table; failures offer those it has. */
  handle(handlers: Partial<Record<ErrorAction, () => void>>): void {
    this.handlers = { ...this.handlers, ...handlers };
  }

  /** Shows a failure the way the error table says, with its action when it can be taken here. */
  error(raw: unknown, options: { retry?: () => void } = {}): void {
    const shown = describeError(raw);
    this.show(shown.message, { kind: shown.severity, title: shown.title, ms: 8000, action: this.actionFor(shown, options.retry) });
  }

  /** The button for a shown failure's action, when the app (or, for a retry, the caller) can take it. */
  actionFor(shown: ShownError, retry?: () => void): ToastAction | undefined {
    const kind = shown.action?.kind;
    const run = kind === 'retry' ? retry : kind && this.handlers[kind];
    return run && shown.action ? { label: shown.action.label, run } : undefined;
  }

  dismiss(id: number): void {
    this.items = this.items.filter((toast) => toast.id !== id);
  }
}

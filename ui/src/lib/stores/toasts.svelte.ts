import { describeError } from '../errors';

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

  show(text: string, options: { kind?: Toast['kind']; title?: string; action?: ToastAction; ms?: number } = {}): number {
    const id = this.nextId++;
    this.items.push({ id, kind: options.kind ?? 'info', title: options.title, text, action: options.action });
    const ms = options.ms ?? (options.action ? 8000 : 5000);
    setTimeout(() => this.dismiss(id), ms);
    return id;
  }

  /** Shows a failure the way the error table says. */
  error(raw: unknown): void {
    const shown = describeError(raw);
    this.show(shown.message, { kind: shown.severity, title: shown.title, ms: 8000 });
  }

  dismiss(id: number): void {
    this.items = this.items.filter((toast) => toast.id !== id);
  }
}

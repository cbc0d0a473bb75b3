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
  /** How many times this notice was shown while it was on screen ("×3" from 2 on). */
  count: number;
}

export interface ToastOptions {
  kind?: Toast['kind'];
  title?: string;
  action?: ToastAction;
  ms?: number;
}

/**
 * Short notices at the bottom of the window; each goes away by itself after a while. A notice
 * shown again while it is still there (same kind, title, text and button) is not stacked: the
 * one on screen counts it and starts its time again, and its button does what each of them
 * offered (an undo of three deletions undoes all three). A failure offered with a retry stays
 * apart from the same failure without one.
 */
export class ToastStore {
  items = $state<Toast[]>([]);
  private nextId = 1;
  private handlers: Partial<Record<ErrorAction, () => void>> = {};
  private readonly timers = new Map<number, ReturnType<typeof setTimeout>>();

  show(text: string, options: ToastOptions = {}): number {
    const kind = options.kind ?? 'info';
    const same = this.items.find(
      (toast) =>
        toast.kind === kind &&
        toast.title === options.title &&
        toast.text === text &&
        toast.action?.label === options.action?.label,
    );
    const toast = same ?? { id: this.nextId++, kind, title: options.title, text, count: 0 };
    toast.count++;
    toast.action = merged(toast.action, options.action);
    if (!same) this.items.push(toast);
    this.expire(toast.id, options.ms ?? (toast.action ? 8000 : 5000));
    return toast.id;
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
    clearTimeout(this.timers.get(id));
    this.timers.delete(id);
    this.items = this.items.filter((toast) => toast.id !== id);
  }

  private expire(id: number, ms: number): void {
    clearTimeout(this.timers.get(id));
    this.timers.set(id, setTimeout(() => this.dismiss(id), ms));
  }
}

/** One button for a notice shown again: the first label, and every action run in turn. */
function merged(shown: ToastAction | undefined, added: ToastAction | undefined): ToastAction | undefined {
  if (!shown || !added) return shown ?? added;
  return {
    label: shown.label,
    run: () => {
      try {
        shown.run();
      } finally {
        added.run();
      }
    },
  };
}

// One table from error code to how the UI treats it: severity and the heading shown above Rust's
// own sentence. Components never invent their own error wording.
import { AppError } from './ipc';
import { t, type MessageKey } from './i18n';
import type { ErrorCode } from './types';

export type Severity = 'info' | 'warning' | 'error';

const TABLE: Record<ErrorCode, { severity: Severity; title: MessageKey }> = {
  bad_input: { severity: 'warning', title: 'error.bad_input' },
  not_found: { severity: 'warning', title: 'error.not_found' },
  busy: { severity: 'info', title: 'error.busy' },
  no_model: { severity: 'warning', title: 'error.no_model' },
  engine: { severity: 'error', title: 'error.engine' },
  store: { severity: 'error', title: 'error.store' },
  io: { severity: 'error', title: 'error.io' },
  cancelled: { severity: 'info', title: 'error.cancelled' },
  download: { severity: 'error', title: 'error.download' },
};

export interface ShownError {
  severity: Severity;
  title: string;
  message: string;
}

/** How to show any failure: AppErrors by their code, anything else as an io error. */
export function describeError(raw: unknown): ShownError {
  const error = AppError.from(raw);
  const row = TABLE[error.code];
  return { severity: row.severity, title: t(row.title), message: error.message };
}

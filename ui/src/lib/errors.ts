// One table from error code to how the UI treats it: severity, the heading shown above Rust's
// own sentence, and what the window offers to do about it. Components never invent their own
// error wording.
import { AppError } from './ipc';
import { t, type MessageKey } from './i18n';
import type { ErrorCode, Failure } from './types';

export type Severity = 'info' | 'warning' | 'error';

/**
 * What the window can do about a failure; whoever shows errors (the toasts) is handed one
 * handler per action by the app.
 * - `engine_settings`: a smaller context, fewer GPU layers (Settings).
 * - `models`: another model, or the projector published with this one (Settings → Models).
 * - `vision`: the composer's offer of a model that can see (installed, or the recommended download).
 * - `token`: the Hugging Face token setting, for gated repositories.
 * - `retry`: resume the download or send again (offered only where the caller can).
 */
export type ErrorAction = 'engine_settings' | 'models' | 'vision' | 'hearing' | 'token' | 'retry';

interface Row {
  severity: Severity;
  title: MessageKey;
  action?: ErrorAction;
}

const TABLE: Record<ErrorCode, Row> = {
  bad_input: { severity: 'warning', title: 'error.bad_input' },
  not_found: { severity: 'warning', title: 'error.not_found' },
  busy: { severity: 'info', title: 'error.busy' },
  no_model: { severity: 'warning', title: 'error.no_model', action: 'models' },
  cannot_see: { severity: 'warning', title: 'error.cannot_see', action: 'vision' },
  cannot_hear: { severity: 'warning', title: 'error.cannot_hear', action: 'hearing' },
  microphone: { severity: 'warning', title: 'error.microphone' },
  nothing_recorded: { severity: 'info', title: 'error.nothing_recorded' },
  speech: { severity: 'warning', title: 'error.speech' },
  engine: { severity: 'error', title: 'error.engine' },
  store: { severity: 'error', title: 'error.store' },
  io: { severity: 'error', title: 'error.io' },
  cancelled: { severity: 'info', title: 'error.cancelled' },
  download: { severity: 'error', title: 'error.download', action: 'retry' },
  out_of_memory: { severity: 'error', title: 'error.out_of_memory', action: 'engine_settings' },
  unsupported_architecture: { severity: 'error', title: 'error.unsupported_architecture' },
  projector_mismatch: { severity: 'error', title: 'error.projector_mismatch', action: 'models' },
  gpu_lost: { severity: 'error', title: 'error.gpu_lost', action: 'engine_settings' },
  unauthorized: { severity: 'warning', title: 'error.unauthorized', action: 'token' },
  no_space: { severity: 'error', title: 'error.no_space' },
  network: { severity: 'warning', title: 'error.network', action: 'retry' },
  hash_mismatch: { severity: 'error', title: 'error.hash_mismatch', action: 'retry' },
};

const ACTION_LABELS: Record<ErrorAction, MessageKey> = {
  engine_settings: 'error.action.engine_settings',
  models: 'error.action.models',
  vision: 'error.action.vision',
  hearing: 'error.action.hearing',
  token: 'error.action.token',
  retry: 'error.action.retry',
};

export interface ShownError {
  code: ErrorCode;
  severity: Severity;
  title: string;
  message: string;
  /** What the window offers, with its button label. */
  action?: { kind: ErrorAction; label: string };
}

/** The row of each class of llama.cpp failure that an engine status can carry. */
const FAILURE_CODES: Record<Failure, ErrorCode> = {
  out_of_memory: 'out_of_memory',
  unsupported_architecture: 'unsupported_architecture',
  projector_mismatch: 'projector_mismatch',
  device_lost: 'gpu_lost',
};

/** How to show a failed model load: by what llama.cpp said went wrong when it said, else as an engine error. */
export function describeLoadFailure(failure: Failure | null, message: string): ShownError {
  return describeError(new AppError(failure ? FAILURE_CODES[failure] : 'engine', message));
}

/** How to show any failure: AppErrors by their code, anything else as an io error. */
export function describeError(raw: unknown): ShownError {
  const error = AppError.from(raw);
  const row = TABLE[error.code];
  const action = row.action && { kind: row.action, label: t(ACTION_LABELS[row.action]) };
  return { code: error.code, severity: row.severity, title: t(row.title), message: error.message, action };
}

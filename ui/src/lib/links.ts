// Links in replies open in the system's browser; when none can be opened, the user gets the
// address instead of the launcher's exit status.
import { t } from './i18n';
import { AppError } from './ipc';

export interface LinkOpener {
  /** Hands the address to the system (`ipc.openExternal`). */
  open: (url: string) => Promise<unknown>;
  /** Puts the address on the clipboard (`navigator.clipboard.writeText`). */
  copy: (text: string) => Promise<void>;
  /** Tells the user what happened instead (a warning toast). */
  warn: (text: string) => void;
  /** The shell refused the link itself (not a web or mail link): its own message says why. */
  refused: (error: AppError) => void;
}

/** Opens `url`; if no browser can be opened, copies it and says so in words. */
export async function followLink(url: string, opener: LinkOpener): Promise<void> {
  try {
    await opener.open(url);
    return;
  } catch (raw) {
    const error = AppError.from(raw);
    if (error.code === 'bad_input') {
      opener.refused(error);
      return;
    }
  }
  let copied = true;
  try {
    await opener.copy(url);
  } catch {
    copied = false;
  }
  opener.warn(t(copied ? 'link.copied' : 'link.notCopied', { url }));
}

/** The clipboard of the page; a rejection when there is none (an insecure or old webview). */
export function copyToClipboard(text: string): Promise<void> {
  if (!navigator.clipboard) return Promise.reject(new Error('no clipboard'));
  return navigator.clipboard.writeText(text);
}

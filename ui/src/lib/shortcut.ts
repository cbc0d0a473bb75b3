// The push-to-talk key: a setting written as modifiers and a key code joined by `+`
// (`Ctrl+Space`, `Alt+KeyM`, `F9`), as `KeyboardEvent.code` names keys, so that it is the same
// physical key whatever the keyboard layout. The shell checks that it has a modifier (or is a
// function key), so that holding it never types.

export interface Shortcut {
  code: string;
  ctrl: boolean;
  alt: boolean;
  shift: boolean;
  meta: boolean;
}

const MODIFIERS = ['Ctrl', 'Alt', 'Shift', 'Meta'] as const;
/** Key codes of the modifier keys themselves: pressing one alone is not a shortcut yet. */
const MODIFIER_CODE = /^(Control|Alt|Shift|Meta|OS)(Left|Right)?$/;

export function parseShortcut(text: string): Shortcut | null {
  const parts = text.split('+');
  const code = parts.pop() ?? '';
  if (!code || MODIFIER_CODE.test(code) || parts.some((part) => !(MODIFIERS as readonly string[]).includes(part))) {
    return null;
  }
  return {
    code,
    ctrl: parts.includes('Ctrl'),
    alt: parts.includes('Alt'),
    shift: parts.includes('Shift'),
    meta: parts.includes('Meta'),
  };
}

/** Whether a keydown presses the shortcut (exactly its modifiers, not a repeat). */
export function pressesShortcut(shortcut: Shortcut, event: KeyboardEvent): boolean {
  return (
    !event.repeat &&
    event.code === shortcut.code &&
    event.ctrlKey === shortcut.ctrl &&
    event.altKey === shortcut.alt &&
    event.shiftKey === shortcut.shift &&
    event.metaKey === shortcut.meta
  );
}

/** Whether a keyup lets go of the shortcut: its key, or one of its modifiers. */
export function releasesShortcut(shortcut: Shortcut, event: KeyboardEvent): boolean {
  const modifier = MODIFIER_CODE.exec(event.code)?.[1];
  return (
    event.code === shortcut.code ||
    (modifier === 'Control' && shortcut.ctrl) ||
    (modifier === 'Alt' && shortcut.alt) ||
    (modifier === 'Shift' && shortcut.shift) ||
    ((modifier === 'Meta' || modifier === 'OS') && shortcut.meta)
  );
}

/** The shortcut a keydown makes (for Settings to record); null while only modifiers are held. */
export function shortcutOf(event: KeyboardEvent): string | null {
  if (MODIFIER_CODE.test(event.code) || !event.code) return null;
  const held = [event.ctrlKey && 'Ctrl', event.altKey && 'Alt', event.shiftKey && 'Shift', event.metaKey && 'Meta'];
  return [...held.filter(Boolean), event.code].join('+');
}

/** The shortcut as people read it: `Ctrl + Space`, `Alt + M`, `F9`. */
export function shortcutLabel(text: string): string {
  return text
    .split('+')
    .map((part) => part.replace(/^Key(?=[A-Z]$)/, '').replace(/^Digit(?=\d$)/, ''))
    .join(' + ');
}

import { en, type MessageKey } from './en';

export type { MessageKey };

/** The UI text for `key`, with each {name} replaced by `params.name`. */
export function t(key: MessageKey, params?: Record<string, string | number>): string {
  const text: string = en[key] ?? key;
  if (!params) return text;
  return text.replace(/\{(\w+)\}/g, (whole, name: string) =>
    name in params ? String(params[name]) : whole,
  );
}

/** One run of a search snippet: `hit` runs are the matched words. */
export interface SnippetPart {
  text: string;
  hit: boolean;
}

/** Splits a snippet on the \u0002 … \u0003 markers the store puts around matched words. */
export function splitSnippet(snippet: string): SnippetPart[] {
  const parts: SnippetPart[] = [];
  let hit = false;
  let text = '';
  for (const char of snippet) {
    if (char === '\u0002' || char === '\u0003') {
      if (text) parts.push({ text, hit });
      text = '';
      hit = char === '\u0002';
    } else {
      text += char;
    }
  }
  if (text) parts.push({ text, hit });
  return parts;
}

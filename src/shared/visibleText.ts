// Strings from peers (addresses, connection and message types) are untrusted. Characters that are invisible
// or change how text around them is laid out (C0/C1 controls, bidi overrides and isolates, zero-width and
// other format characters, line/paragraph separators, lone surrogates) are shown as literal escapes such as
// "\u202E", so they cannot reorder or hide table contents.

const INVISIBLE_OR_REORDERING = /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}\p{Cs}]/gu;

export function escapeCodePoint(codePoint: number): string {
  const hex = codePoint.toString(16).toUpperCase();
  return codePoint <= 0xffff ? `\\u${hex.padStart(4, '0')}` : `\\u{${hex}}`;
}

/** The string with every invisible or reordering character replaced by its escape. */
export function escapeInvisible(text: string): string {
  return text.replace(INVISIBLE_OR_REORDERING, (ch) => escapeCodePoint(ch.codePointAt(0) ?? 0));
}

export interface VisibleTextPart {
  readonly text: string;
  /** true: an escape standing for an invisible character (render it styled apart). */
  readonly escaped: boolean;
}

/** Splits a string into plain runs and escapes, for rendering with text nodes (never as HTML). */
export function splitVisibleText(text: string): VisibleTextPart[] {
  const parts: VisibleTextPart[] = [];
  let last = 0;
  for (const match of text.matchAll(INVISIBLE_OR_REORDERING)) {
    const index = match.index ?? 0;
    if (index > last) parts.push({ text: text.slice(last, index), escaped: false });
    parts.push({ text: escapeCodePoint(match[0].codePointAt(0) ?? 0), escaped: true });
    last = index + match[0].length;
  }
  if (last < text.length) parts.push({ text: text.slice(last), escaped: false });
  return parts;
}

export function hasInvisible(text: string): boolean {
  INVISIBLE_OR_REORDERING.lastIndex = 0;
  const found = INVISIBLE_OR_REORDERING.test(text);
  INVISIBLE_OR_REORDERING.lastIndex = 0;
  return found;
}

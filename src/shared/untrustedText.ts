// Strings from outside (a binary's notes, peers, recordings, settings, bpftrace's error text) escaped for
// the place they are shown, so none of them becomes markup there: a webview gets them only as DOM text
// (visibleText.ts); a Markdown tooltip or hover gets markdownText/markdownCode; a notification gets
// notificationText. Each turns invisible and reordering characters into visible escapes.

import { escapeInvisible } from './visibleText';

/** Text as literal Markdown (tooltips, hovers): nothing in it is markup, no link, no theme icon. */
export function markdownText(text: string): string {
  return escapeInvisible(text.replace(/\r?\n/g, ' ')).replace(/[\\`*_{}[\]()#+\-.!|<>~&$]/g, (character) => `\\${character}`);
}

/** A Markdown code span holding `text` literally, whatever backticks it contains. */
export function markdownCode(text: string): string {
  const singleLine = escapeInvisible(text.replace(/\r?\n/g, ' '));
  const longestRun = Math.max(0, ...(singleLine.match(/`+/g) ?? []).map((run) => run.length));
  const fence = '`'.repeat(longestRun + 1);
  const padding = singleLine.startsWith('`') || singleLine.endsWith('`') ? ' ' : '';
  return `${fence}${padding}${singleLine}${padding}${fence}`;
}

/**
 * Text for a VS Code notification (showErrorMessage and the like). Notifications are not Markdown, but VS Code
 * turns `[label](command:…)`, `[label](https:…)` and `[label](file:…)` in them into clickable links (its
 * linked-text parser wants `](` with nothing between). A space there keeps the text readable and no link.
 */
export function notificationText(text: string): string {
  return escapeInvisible(text).replace(/\]\s*\(/g, '] (');
}

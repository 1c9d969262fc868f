/** Text from a binary (provider names, argument specs, paths) as literal Markdown: nothing in it is markup. */
export function markdownText(text: string): string {
  return text.replace(/[\\`*_{}[\]()#+\-.!|<>~&]/g, (character) => `\\${character}`).replace(/\r?\n/g, ' ');
}

/** A Markdown code span holding `text` literally, whatever backticks it contains. */
export function markdownCode(text: string): string {
  const singleLine = text.replace(/\r?\n/g, ' ');
  const longestRun = Math.max(0, ...(singleLine.match(/`+/g) ?? []).map((run) => run.length));
  const fence = '`'.repeat(longestRun + 1);
  const padding = singleLine.startsWith('`') || singleLine.endsWith('`') ? ' ' : '';
  return `${fence}${padding}${singleLine}${padding}${fence}`;
}

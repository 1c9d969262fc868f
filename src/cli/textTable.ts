// Plain-text table with left-aligned columns separated by two spaces; the last column is not padded.

export function formatTextTable(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = header.map((title, column) =>
    Math.max(title.length, ...rows.map((row) => (row[column] ?? '').length)),
  );
  const formatRow = (row: readonly string[]): string =>
    header
      .map((_, column) => {
        const cell = row[column] ?? '';
        return column === header.length - 1 ? cell : cell.padEnd(widths[column]);
      })
      .join('  ')
      .trimEnd();
  return [formatRow(header), ...rows.map(formatRow)].join('\n') + '\n';
}

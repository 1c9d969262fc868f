// Repeated figures, their median and range, and the printed table.

export interface Figure {
  /** One value per run, in run order. */
  values: number[];
  median: number;
  min: number;
  max: number;
  unit: string;
}

export function figure(values: readonly number[], unit: string): Figure {
  const finite = values.filter((v) => Number.isFinite(v));
  const sorted = [...finite].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  const median =
    sorted.length === 0 ? NaN : sorted.length % 2 === 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
  return { values: [...values], median, min: sorted[0] ?? NaN, max: sorted[sorted.length - 1] ?? NaN, unit };
}

export interface TableRow {
  section: string;
  name: string;
  figure: Figure;
  /** Extra column: ratio to a reference, a verdict, … */
  note?: string;
}

/** 1234567 → "1,234,567"; 0.123 → "0.123"; large units get thousands separators. */
export function formatNumber(value: number, unit = ''): string {
  if (!Number.isFinite(value)) return '—';
  if (unit === '%') return value.toFixed(value >= 99.95 && value < 100 ? 2 : 1);
  if (unit === 'ratio') return value.toFixed(value < 0.1 ? 4 : 3);
  const abs = Math.abs(value);
  const whole = unit === 'events' || unit === 'bytes' || unit === 'events/s' || unit === 'events/CPU-s';
  const digits = whole || abs >= 100 ? 0 : abs >= 10 ? 1 : abs >= 1 ? 2 : 3;
  return value.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

function formatRange(f: Figure): string {
  if (f.values.length <= 1) return '';
  return `${formatNumber(f.min, f.unit)}–${formatNumber(f.max, f.unit)}`;
}

export function formatTable(rows: readonly TableRow[]): string {
  const header = ['measurement', 'median', 'min–max', 'unit', 'note'];
  const lines: string[][] = [];
  let section = '';
  const sectionLines = new Set<number>();
  for (const row of rows) {
    if (row.section !== section) {
      section = row.section;
      sectionLines.add(lines.length);
      lines.push([`[${section}]`, '', '', '', '']);
    }
    lines.push([`  ${row.name}`, formatNumber(row.figure.median, row.figure.unit), formatRange(row.figure), row.figure.unit, row.note ?? '']);
  }
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i].length)));
  const render = (cells: string[]): string =>
    cells
      .map((cell, i) => (i === 1 || i === 2 ? cell.padStart(widths[i]) : cell.padEnd(widths[i])))
      .join('  ')
      .trimEnd();
  const out = [render(header), widths.map((w) => '-'.repeat(w)).join('  ')];
  lines.forEach((l, i) => out.push(sectionLines.has(i) ? l[0] : render(l)));
  return out.join('\n');
}

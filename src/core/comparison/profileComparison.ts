// Two runs' profiles (runProfile.ts) side by side: every count table on the union of both runs' keys with the
// delta, the ratio and each key's share; every rate series on one axis of whole seconds since each run's start
// (seconds only one run has are null for the other); every distribution on the union of both runs' power-of-2
// buckets with its quantiles. What differs by at least THRESHOLD is marked.

import type {
  ComparedDistribution,
  ComparedRate,
  ComparedRow,
  ComparedRunInfo,
  ComparedTable,
  RunComparison,
} from '../../shared/panelProtocol';
import type { ProfileDistribution, ProfileSeries, ProfileTable, RunProfile } from './runProfile';

/** A count differs when one run has at least 1.5 times the other's (and the larger is at least 5). */
export const COMPARISON_THRESHOLD = { ratio: 1.5, minCount: 5 } as const;
/** Rows per compared table (the largest by the larger count). */
export const MAX_COMPARED_ROWS = 40;

function ratioOf(a: number, b: number): number | null {
  return a === 0 ? null : b / a;
}

function differs(a: number, b: number, minCount: number): boolean {
  if (Math.max(Math.abs(a), Math.abs(b)) < minCount) return false;
  if (a === 0 || b === 0) return a !== b;
  const ratio = b / a;
  return ratio >= COMPARISON_THRESHOLD.ratio || ratio <= 1 / COMPARISON_THRESHOLD.ratio;
}

export function compareCounts(key: string, a: number, b: number, totals: { a: number; b: number }, amounts: { a: number | null; b: number | null } = { a: null, b: null }): ComparedRow {
  let highlight: ComparedRow['highlight'] = null;
  if (a === 0 && b > 0) highlight = 'onlyB';
  else if (b === 0 && a > 0) highlight = 'onlyA';
  else if (differs(a, b, COMPARISON_THRESHOLD.minCount)) highlight = b > a ? 'more' : 'fewer';
  return {
    key,
    a,
    b,
    delta: b - a,
    ratio: ratioOf(a, b),
    shareA: totals.a > 0 ? a / totals.a : 0,
    shareB: totals.b > 0 ? b / totals.b : 0,
    amountA: amounts.a,
    amountB: amounts.b,
    highlight,
  };
}

function compareTable(title: string, a: ProfileTable | undefined, b: ProfileTable | undefined, amountUnit: string | null): ComparedTable {
  const keys = new Set([...(a?.rows.keys() ?? []), ...(b?.rows.keys() ?? [])]);
  const sum = (table: ProfileTable | undefined): number => [...(table?.rows.values() ?? [])].reduce((s, r) => s + r.count, 0);
  const totals = { a: sum(a), b: sum(b) };
  const hasAmount = amountUnit !== null && ((a?.hasAmount ?? false) || (b?.hasAmount ?? false));
  const rows = [...keys].map((key) => {
    const ra = a?.rows.get(key);
    const rb = b?.rows.get(key);
    return compareCounts(key, ra?.count ?? 0, rb?.count ?? 0, totals, hasAmount ? { a: ra?.amount ?? 0, b: rb?.amount ?? 0 } : undefined);
  });
  rows.sort((x, y) => Math.max(y.a, y.b) - Math.max(x.a, x.b) || x.key.localeCompare(y.key));
  return { title, amountUnit: hasAmount ? amountUnit : null, rows: rows.slice(0, MAX_COMPARED_ROWS), omittedRows: Math.max(0, rows.length - MAX_COMPARED_ROWS) };
}

/** Per-second values of two series on the union of their slots (the wider slot width of the two). */
export function alignSeries(title: string, a: ProfileSeries | undefined, b: ProfileSeries | undefined, durations: { a: number; b: number }): ComparedRate {
  const width = Math.max(a?.width ?? 1, b?.width ?? 1);
  const regroup = (series: ProfileSeries | undefined): Map<number, number> => {
    const out = new Map<number, number>();
    for (const [slot, value] of series?.slots ?? []) {
      const wide = Math.max(width, Math.ceil(slot / width) * width);
      out.set(wide, (out.get(wide) ?? 0) + value);
    }
    return out;
  };
  const slotsA = regroup(a);
  const slotsB = regroup(b);
  // Every slot up to each run's end: a second without events is a rate of 0, after a run's end it is null.
  const lastA = a ? Math.max(durations.a, ...slotsA.keys()) : 0;
  const lastB = b ? Math.max(durations.b, ...slotsB.keys()) : 0;
  const seconds: number[] = [];
  for (let s = width; s < Math.max(lastA, lastB) + width; s += width) seconds.push(s);
  const column = (slots: Map<number, number>, last: number, present: boolean): (number | null)[] =>
    seconds.map((s) => (present && s < last + width ? (slots.get(s) ?? 0) / width : null));
  const meanA = durations.a > 0 ? (a?.total ?? 0) / durations.a : 0;
  const meanB = durations.b > 0 ? (b?.total ?? 0) / durations.b : 0;
  return {
    title,
    unit: `${title}/s`,
    seconds,
    a: column(slotsA, lastA, a !== undefined),
    b: column(slotsB, lastB, b !== undefined),
    meanA,
    meanB,
    highlight: differs(meanA, meanB, 0) && Math.max(a?.total ?? 0, b?.total ?? 0) >= COMPARISON_THRESHOLD.minCount,
  };
}

/** The power-of-2 bucket of a value: [0, 1) for values below 1, else [2^(k-1), 2^k). */
function bucketOf(value: number): { min: number; max: number } {
  if (value < 1) return { min: 0, max: 1 };
  const k = Math.floor(Math.log2(value)) + 1;
  return { min: 2 ** (k - 1), max: 2 ** k };
}

/** The q-quantile (nearest rank) of sorted values; null when there are none. */
export function quantile(sorted: readonly number[], q: number): number | null {
  if (sorted.length === 0) return null;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))];
}

function compareDistribution(title: string, a: ProfileDistribution | undefined, b: ProfileDistribution | undefined): ComparedDistribution {
  const buckets = new Map<number, { min: number; max: number; a: number; b: number }>();
  const add = (d: ProfileDistribution | undefined, which: 'a' | 'b'): void => {
    if (!d) return;
    // The kept samples stand for all of them: scaled up when a reservoir kept only some.
    const scale = d.samples.length > 0 ? d.count / d.samples.length : 0;
    for (const value of d.samples) {
      const bucket = bucketOf(value);
      const entry = buckets.get(bucket.min) ?? { ...bucket, a: 0, b: 0 };
      entry[which] += scale;
      buckets.set(bucket.min, entry);
    }
  };
  add(a, 'a');
  add(b, 'b');
  const sortedA = [...(a?.samples ?? [])].sort((x, y) => x - y);
  const sortedB = [...(b?.samples ?? [])].sort((x, y) => x - y);
  const mark = (x: number | null, y: number | null): boolean => x !== null && y !== null && differs(x, y, 0);
  const p50 = { a: quantile(sortedA, 0.5), b: quantile(sortedB, 0.5) };
  const p90 = { a: quantile(sortedA, 0.9), b: quantile(sortedB, 0.9) };
  const max = { a: a && a.count > 0 ? a.max : null, b: b && b.count > 0 ? b.max : null };
  return {
    title,
    unit: a?.unit || b?.unit || '',
    buckets: [...buckets.values()].sort((x, y) => x.min - y.min).map((e) => ({ ...e, a: Math.round(e.a), b: Math.round(e.b) })),
    quantiles: [
      { name: 'p50', ...p50, highlight: mark(p50.a, p50.b) },
      { name: 'p90', ...p90, highlight: mark(p90.a, p90.b) },
      { name: 'max', ...max, highlight: mark(max.a, max.b) },
    ],
  };
}

function byTitle<T extends { readonly title: string }>(list: readonly T[]): Map<string, T> {
  return new Map(list.map((item) => [item.title, item]));
}

/** Titles of both runs in A's order, then B's new ones. */
function unionTitles(a: readonly { readonly title: string }[], b: readonly { readonly title: string }[]): string[] {
  return [...new Set([...a.map((x) => x.title), ...b.map((x) => x.title)])];
}

export function compareProfiles(a: RunProfile, b: RunProfile, infoA: Omit<ComparedRunInfo, 'durationSeconds'>, infoB: Omit<ComparedRunInfo, 'durationSeconds'>): RunComparison {
  const durations = { a: a.durationSeconds, b: b.durationSeconds };
  const seriesA = a.seriesList();
  const seriesB = b.seriesList();
  const mapA = byTitle(seriesA);
  const mapB = byTitle(seriesB);
  const seriesTitles = unionTitles(seriesA, seriesB);
  const rates = seriesTitles.map((title) => alignSeries(title, mapA.get(title), mapB.get(title), durations));
  const totals: ComparedRow[] = [];
  for (const title of seriesTitles) {
    const ta = mapA.get(title)?.total ?? 0;
    const tb = mapB.get(title)?.total ?? 0;
    totals.push(compareCounts(title, ta, tb, { a: 0, b: 0 }));
  }
  for (const rate of rates) {
    const row = compareCounts(rate.unit, rate.meanA, rate.meanB, { a: 0, b: 0 });
    totals.push({ ...row, highlight: rate.highlight ? (rate.meanB > rate.meanA ? 'more' : 'fewer') : null });
  }
  const tablesA = a.tableList();
  const tablesB = b.tableList();
  const tableA = byTitle(tablesA);
  const tableB = byTitle(tablesB);
  const distA = byTitle(a.distributionList());
  const distB = byTitle(b.distributionList());
  return {
    a: { ...infoA, durationSeconds: durations.a },
    b: { ...infoB, durationSeconds: durations.b },
    threshold: COMPARISON_THRESHOLD,
    totals,
    tables: unionTitles(tablesA, tablesB).map((title) => compareTable(title, tableA.get(title), tableB.get(title), a.spec.amountUnit ?? b.spec.amountUnit)),
    rates,
    distributions: unionTitles([...distA.values()], [...distB.values()]).map((title) => compareDistribution(title, distA.get(title), distB.get(title))),
  };
}

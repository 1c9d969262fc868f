// Puts two benchmark runs on common axes: rates by whole seconds since each run's first block (a run's
// point lands on the second it ends in; seconds only one run has get null for the other), histograms on the
// union of both runs' buckets (0 where a run has none).

import type { BenchmarkComparison, BenchmarkRunView, HistogramBucket, RateSeries } from '../../shared/benchmarkProtocol';

type RateKey = 'blocksPerS' | 'transactionsPerS' | 'inputsPerS' | 'sigopsPerS';
const RATE_KEYS: readonly RateKey[] = ['blocksPerS', 'transactionsPerS', 'inputsPerS', 'sigopsPerS'];

/**
 * The time slot of a point: its end rounded up to the series' point width (1 s normally), with a tenth of
 * the width of slack for timer jitter (a snapshot printed at 3.01 s closes the third second, not the fourth).
 */
function slotOf(seconds: number, width: number): number {
  return Math.max(width, Math.ceil(seconds / width - 0.1) * width);
}

export function alignRates(a: RateSeries, b: RateSeries): Pick<BenchmarkComparison, 'seconds' | RateKey> {
  const width = Math.max(a.pointSeconds, b.pointSeconds, 1);
  const slots = new Map<number, { a: Map<RateKey, number[]>; b: Map<RateKey, number[]> }>();
  const add = (series: RateSeries, which: 'a' | 'b'): void => {
    for (let i = 0; i < series.seconds.length; i++) {
      const slot = slotOf(series.seconds[i], width);
      let entry = slots.get(slot);
      if (!entry) {
        entry = { a: new Map(), b: new Map() };
        slots.set(slot, entry);
      }
      for (const key of RATE_KEYS) {
        const list = entry[which].get(key) ?? [];
        list.push(series[key][i]);
        entry[which].set(key, list);
      }
    }
  };
  add(a, 'a');
  add(b, 'b');
  const seconds = [...slots.keys()].sort((x, y) => x - y);
  const mean = (values: number[] | undefined): number | null => (values && values.length > 0 ? values.reduce((s, v) => s + v, 0) / values.length : null);
  const column = (key: RateKey, which: 'a' | 'b'): (number | null)[] => seconds.map((s) => mean(slots.get(s)?.[which].get(key)));
  return {
    seconds,
    blocksPerS: [column('blocksPerS', 'a'), column('blocksPerS', 'b')],
    transactionsPerS: [column('transactionsPerS', 'a'), column('transactionsPerS', 'b')],
    inputsPerS: [column('inputsPerS', 'a'), column('inputsPerS', 'b')],
    sigopsPerS: [column('sigopsPerS', 'a'), column('sigopsPerS', 'b')],
  };
}

export function alignHistograms(a: readonly HistogramBucket[], b: readonly HistogramBucket[]): BenchmarkComparison['histogram'] {
  const key = (bucket: HistogramBucket): string => `${bucket.min === null ? '-' : bucket.min}:${bucket.max}`;
  const merged = new Map<string, { min: number | null; max: number; countA: number; countB: number }>();
  for (const bucket of a) {
    const entry = merged.get(key(bucket)) ?? { min: bucket.min, max: bucket.max, countA: 0, countB: 0 };
    entry.countA += bucket.count;
    merged.set(key(bucket), entry);
  }
  for (const bucket of b) {
    const entry = merged.get(key(bucket)) ?? { min: bucket.min, max: bucket.max, countA: 0, countB: 0 };
    entry.countB += bucket.count;
    merged.set(key(bucket), entry);
  }
  return [...merged.values()].sort((x, y) => (x.min ?? -Infinity) - (y.min ?? -Infinity) || x.max - y.max);
}

export function compareRuns(a: BenchmarkRunView, b: BenchmarkRunView): BenchmarkComparison {
  return { ...alignRates(a.rates, b.rates), histogram: alignHistograms(a.histogram, b.histogram) };
}

// What the panels' charts show beside their lines (pure, so that unit tests check the same code the pages run).

/**
 * The y axis' ticks from 0 to `max`: whole-number steps of 1, 2 or 5 × 10^n, at most `maxTicks` + 1 of them.
 * Every chart counts something (events, bytes, blocks per second) and its scale reaches at least 1, so whole
 * steps never label two ticks alike (fractional steps of a low-rate chart read "1, 1, 0").
 */
export function wholeAxisSplits(max: number, maxTicks = 5): number[] {
  if (!Number.isFinite(max) || max <= 0) return [0];
  const target = max / Math.max(1, maxTicks);
  let step = 1;
  for (let magnitude = 1; step < target; magnitude *= 10) {
    step = [1, 2, 5].map((m) => m * magnitude).find((candidate) => candidate >= target) ?? 10 * magnitude;
  }
  const splits: number[] = [];
  for (let value = 0; value <= max + step * 1e-9; value += step) splits.push(value);
  return splits;
}

/** Tick steps of a time axis in whole seconds (a run of two seconds once read "0:02, 0:02, 0:02"). */
export const WHOLE_SECOND_STEPS: readonly number[] = [1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 14_400, 28_800, 86_400];

/**
 * The newest point that has a value in any of the series (−1: none). A legend shows it while the cursor is not on
 * the chart, so the latest values read without a hover.
 */
export function latestIndex(series: readonly (readonly (number | null | undefined)[])[]): number {
  let latest = -1;
  for (const values of series) {
    for (let i = values.length - 1; i > latest; i--) {
      const value = values[i];
      if (value !== null && value !== undefined) {
        latest = i;
        break;
      }
    }
  }
  return latest;
}

/** What a chart shows, for render reports: its legend (label and value of each series) and its y axis' labels. */
export interface ChartReport {
  readonly title: string;
  readonly legend: string;
  readonly yLabels: readonly string[];
}

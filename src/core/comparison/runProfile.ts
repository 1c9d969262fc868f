// What a panel compares of a run, kept beside the panel's own model for every session it tracks: counts per key
// in named tables (message type, peer, event kind, reason, …), per-second rates of named series (messages,
// bytes, …) by whole seconds since the run's start, and distributions of sampled values (message size, flush
// duration, fee rate, …). Each panel supplies only a ProfileSpec: what of each event it counts. Bounded: keys
// per table (the rest fold into "(other)"), seconds per series (the slot width doubles past the limit) and
// samples per distribution (a fixed-seed reservoir past the limit; the maximum stays exact).

import type { NormalizedEvent } from '../events/eventTypes';
import { fieldsOf, numberField } from '../toolViews/eventFields';

/** One event counted once in each of its tables. */
export interface EventMeasure {
  /** table title → the event's key in it ("message type (in)" → "inv"). */
  readonly keys: Readonly<Record<string, string>>;
  /** An amount the event carries (bytes), summed per key and, per second, in the spec's amount series. */
  readonly amount?: number;
  /** Values whose distributions are compared (distribution title → value). */
  readonly samples?: Readonly<Record<string, number>>;
}

/** Cumulative totals counted elsewhere (in the kernel): they replace the table's rows. */
export interface TotalsMeasure {
  readonly totals: string;
  readonly rows: readonly { readonly key: string; readonly count: number; readonly amount?: number }[];
  /** The series the increase of the rows' sums goes to, per second (count and amount). */
  readonly rate?: { readonly count: string; readonly amount?: string };
}

export type ProfileMeasure = EventMeasure | TotalsMeasure;

export interface ProfileSpec {
  /** The series every counted event adds one to ("messages", "events"). */
  readonly events: string;
  /** The unit of EventMeasure.amount and of its series ("bytes"); null: none. */
  readonly amountUnit: string | null;
  /** distribution title → unit ("message size" → "bytes"). */
  readonly distributions: Readonly<Record<string, string>>;
  /** What the panel compares of one event; empty: the event is not counted. */
  measure(event: NormalizedEvent): readonly ProfileMeasure[];
}

export interface ProfileLimits {
  readonly maxKeysPerTable: number;
  readonly maxSlots: number;
  readonly maxSamples: number;
}

export const DEFAULT_PROFILE_LIMITS: ProfileLimits = { maxKeysPerTable: 500, maxSlots: 3_600, maxSamples: 20_000 };
export const OTHER_KEY = '(other)';

interface Tally {
  count: number;
  amount: number;
}

export interface ProfileTable {
  readonly title: string;
  /** true: cumulative totals counted elsewhere (TotalsMeasure), false: counted from events. */
  readonly cumulative: boolean;
  readonly hasAmount: boolean;
  readonly rows: ReadonlyMap<string, Readonly<Tally>>;
}

export interface ProfileSeries {
  readonly title: string;
  /** Seconds per slot (1 unless the run outgrew the slot limit). */
  readonly width: number;
  /** slot end (seconds since the start) → sum in that slot. */
  readonly slots: ReadonlyMap<number, number>;
  readonly total: number;
}

export interface ProfileDistribution {
  readonly title: string;
  readonly unit: string;
  readonly count: number;
  readonly max: number;
  /** Kept samples (all of them up to the limit, then a uniform reservoir). */
  readonly samples: readonly number[];
}

class Series {
  width = 1;
  slots = new Map<number, number>();
  total = 0;

  constructor(private readonly maxSlots: number) {}

  add(slotEnd: number, value: number): void {
    this.total += value;
    const slot = Math.max(this.width, Math.ceil(slotEnd / this.width) * this.width);
    this.slots.set(slot, (this.slots.get(slot) ?? 0) + value);
    while (this.slots.size > this.maxSlots) this.widen();
  }

  private widen(): void {
    this.width *= 2;
    const merged = new Map<number, number>();
    for (const [slot, value] of this.slots) {
      const wide = Math.ceil(slot / this.width) * this.width;
      merged.set(wide, (merged.get(wide) ?? 0) + value);
    }
    this.slots = merged;
  }
}

class Distribution {
  count = 0;
  max = -Infinity;
  readonly samples: number[] = [];
  private seed = 0x2545f491;

  constructor(private readonly maxSamples: number) {}

  add(value: number): void {
    this.count++;
    if (value > this.max) this.max = value;
    if (this.samples.length < this.maxSamples) {
      this.samples.push(value);
      return;
    }
    // Reservoir sampling with a fixed-seed xorshift: the same run always keeps the same samples.
    this.seed ^= this.seed << 13;
    this.seed ^= this.seed >>> 17;
    this.seed ^= this.seed << 5;
    const slot = (this.seed >>> 0) % this.count;
    if (slot < this.maxSamples) this.samples[slot] = value;
  }
}

function isTotals(measure: ProfileMeasure): measure is TotalsMeasure {
  return 'totals' in measure;
}

/** The slot a streamed event falls in: the second it happened in, by its end (an event at 0.4 s is in second 1). */
function streamedSlot(elapsedNs: number): number {
  return Math.floor(elapsedNs / 1e9) + 1;
}

/**
 * The slot of a cumulative total printed at `elapsedNs`: the second it closes, with a tenth of a second of
 * slack for timer jitter (a total printed at 3.01 s closes the third second).
 */
function totalsSlot(elapsedNs: number): number {
  return Math.max(1, Math.ceil(elapsedNs / 1e9 - 0.1));
}

export class RunProfile {
  private readonly tables = new Map<string, { cumulative: boolean; hasAmount: boolean; rows: Map<string, Tally> }>();
  private readonly series = new Map<string, Series>();
  private readonly distributions = new Map<string, Distribution>();
  /** The sums of each totals table as last seen (their increase goes to the rate series). */
  private readonly lastTotals = new Map<string, Tally>();
  private lastElapsedNs = 0;
  private changed = true;

  constructor(
    readonly spec: ProfileSpec,
    private readonly limits: ProfileLimits = DEFAULT_PROFILE_LIMITS,
  ) {}

  /** Something was counted since the last takeChanged(). */
  takeChanged(): boolean {
    const changed = this.changed;
    this.changed = false;
    return changed;
  }

  ingestAll(events: readonly NormalizedEvent[]): void {
    for (const event of events) this.ingest(event);
  }

  ingest(event: NormalizedEvent): void {
    const measures = this.spec.measure(event);
    if (measures.length === 0) return;
    const elapsed = numberField(fieldsOf(event).elapsed_ns);
    if (elapsed !== null && elapsed > this.lastElapsedNs) this.lastElapsedNs = elapsed;
    const at = elapsed ?? this.lastElapsedNs;
    this.changed = true;
    let counted = false;
    for (const measure of measures) {
      if (isTotals(measure)) {
        this.takeTotals(measure, at);
        continue;
      }
      counted = true;
      const amount = measure.amount !== undefined && Number.isFinite(measure.amount) ? measure.amount : null;
      for (const [title, key] of Object.entries(measure.keys)) {
        const tally = this.row(title, key, false, amount !== null);
        tally.count++;
        if (amount !== null) tally.amount += amount;
      }
      if (amount !== null && this.spec.amountUnit !== null) this.seriesOf(this.spec.amountUnit).add(streamedSlot(at), amount);
      for (const [title, value] of Object.entries(measure.samples ?? {})) {
        if (!Number.isFinite(value)) continue;
        let distribution = this.distributions.get(title);
        if (!distribution) this.distributions.set(title, (distribution = new Distribution(this.limits.maxSamples)));
        distribution.add(value);
      }
    }
    if (counted) this.seriesOf(this.spec.events).add(streamedSlot(at), 1);
  }

  private takeTotals(measure: TotalsMeasure, elapsedNs: number): void {
    const table = this.tableOf(measure.totals, true, measure.rows.some((r) => r.amount !== undefined));
    table.rows.clear();
    const sum: Tally = { count: 0, amount: 0 };
    for (const { key, count, amount } of measure.rows) {
      const tally = this.row(measure.totals, key, true, amount !== undefined);
      tally.count += count;
      tally.amount += amount ?? 0;
      sum.count += count;
      sum.amount += amount ?? 0;
    }
    if (!measure.rate) return;
    const last = this.lastTotals.get(measure.totals) ?? { count: 0, amount: 0 };
    this.lastTotals.set(measure.totals, sum);
    // Totals restart at 0 when bpftrace re-attaches: what is counted after that is all new.
    const increase = (now: number, before: number): number => (now >= before ? now - before : now);
    const slot = totalsSlot(elapsedNs);
    this.seriesOf(measure.rate.count).add(slot, increase(sum.count, last.count));
    if (measure.rate.amount) this.seriesOf(measure.rate.amount).add(slot, increase(sum.amount, last.amount));
  }

  private tableOf(title: string, cumulative: boolean, hasAmount: boolean): { cumulative: boolean; hasAmount: boolean; rows: Map<string, Tally> } {
    let table = this.tables.get(title);
    if (!table) this.tables.set(title, (table = { cumulative, hasAmount, rows: new Map() }));
    if (hasAmount) table.hasAmount = true;
    return table;
  }

  private row(title: string, key: string, cumulative: boolean, hasAmount: boolean): Tally {
    const rows = this.tableOf(title, cumulative, hasAmount).rows;
    let tally = rows.get(key);
    if (tally) return tally;
    const folded = rows.size >= this.limits.maxKeysPerTable ? OTHER_KEY : key;
    tally = rows.get(folded);
    if (!tally) rows.set(folded, (tally = { count: 0, amount: 0 }));
    return tally;
  }

  private seriesOf(title: string): Series {
    let series = this.series.get(title);
    if (!series) this.series.set(title, (series = new Series(this.limits.maxSlots)));
    return series;
  }

  /** Seconds from the run's start to its last counted event. */
  get durationSeconds(): number {
    return this.lastElapsedNs / 1e9;
  }

  tableList(): ProfileTable[] {
    return [...this.tables].map(([title, t]) => ({ title, cumulative: t.cumulative, hasAmount: t.hasAmount, rows: t.rows }));
  }

  seriesList(): ProfileSeries[] {
    return [...this.series].map(([title, s]) => ({ title, width: s.width, slots: s.slots, total: s.total }));
  }

  distributionList(): ProfileDistribution[] {
    return [...this.distributions].map(([title, d]) => ({ title, unit: this.spec.distributions[title] ?? '', count: d.count, max: d.max, samples: d.samples }));
  }
}

// Aggregates one connectblock-benchmark session (live or replayed) into the benchmark panel's model: the
// per-second rates the kernel counted, the connect-time histogram, the slowest blocks over the threshold,
// the totals and the final summary. Memory is bounded: rate points are thinned (neighbours averaged) past
// `maxRatePoints`, and only the `maxSlowBlocks` slowest blocks are kept.

import type { Int64Field } from '../events/eventTypes';
import { DEFAULT_ACCOUNT_LIMITS, SessionAccount } from '../session/sessionAccount';

/** A session note longer than this is shown cut. */
const MAX_NOTE_CHARS = 2_000;
import type {
  BenchmarkParams,
  BenchmarkRunView,
  BenchmarkSummary,
  BenchmarkTotals,
  HistogramBucket,
  RateSeries,
  SlowBlock,
} from '../../shared/benchmarkProtocol';

export interface BenchmarkLimits {
  readonly maxRatePoints: number;
  readonly maxSlowBlocks: number;
  readonly maxNotes: number;
}

export const DEFAULT_BENCHMARK_LIMITS: BenchmarkLimits = { maxRatePoints: 1_800, maxSlowBlocks: 500, maxNotes: 50 };

/** The fields this aggregator reads; anything else about the event is ignored. */
export interface BenchmarkInputEvent {
  readonly event: string;
}

type Fields = Record<string, unknown>;

function isRecord(value: unknown): value is Fields {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** An Int64Field (number or decimal string) as a number; undefined for anything else. */
function int64Number(value: unknown): number | undefined {
  if (typeof value === 'number' && Number.isFinite(value)) return value;
  if (typeof value === 'string' && /^-?\d{1,20}$/.test(value)) return Number(value);
  return undefined;
}

function finiteNumber(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isFinite(value) ? value : undefined;
}

function parseTotals(value: unknown): BenchmarkTotals | undefined {
  if (!isRecord(value)) return undefined;
  const blocks = int64Number(value.blocks);
  const transactions = int64Number(value.transactions);
  const inputs = int64Number(value.inputs);
  const sigops = int64Number(value.sigops);
  const duration = int64Number(value.duration_ns);
  if (blocks === undefined || transactions === undefined || inputs === undefined || sigops === undefined || duration === undefined) return undefined;
  return { blocks, transactions, inputs, sigops, connectTimeNs: duration, printed: int64Number(value.printed) ?? 0 };
}

/**
 * The heights and threshold of a connectblock-benchmark launch from its parameters (`start`, `end`,
 * `threshold_ms`, each 0 when not given); null for anything that is not a plain decimal.
 */
export function benchmarkParamsOf(params: Readonly<Record<string, string>> | undefined): BenchmarkParams | null {
  if (params === undefined) return null;
  const value = (name: string): number | undefined => {
    const text = params[name] ?? '0';
    return /^\d{1,10}$/.test(text) ? Number(text) : undefined;
  };
  const startHeight = value('start');
  const endHeight = value('end');
  const thresholdMs = value('threshold_ms');
  if (startHeight === undefined || endHeight === undefined || thresholdMs === undefined) return null;
  return { startHeight, endHeight, thresholdMs };
}

/** Power-of-2 bucket (µs) that holds `us`, as bpftrace's hist() makes them: [0,1), [1,2), [2,4), … */
export function histogramBucketOf(us: number): { min: number; max: number } {
  if (us < 1) return { min: 0, max: 0 };
  const exponent = Math.floor(Math.log2(us));
  const min = 2 ** exponent;
  return { min, max: 2 * min - 1 };
}

interface MutableRates {
  seconds: number[];
  blocks: number[];
  transactions: number[];
  inputs: number[];
  sigops: number[];
  /** Snapshots (about a second each) averaged into one point; doubles each time the points are thinned. */
  pointSeconds: number;
}

/** Snapshots waiting to fill the next point once points stand for more than one snapshot. */
interface PendingPoint {
  count: number;
  seconds: number;
  sums: [number, number, number, number];
}

export class BenchmarkRun {
  private readonly rates: MutableRates = { seconds: [], blocks: [], transactions: [], inputs: [], sigops: [], pointSeconds: 1 };
  private pending: PendingPoint = { count: 0, seconds: 0, sums: [0, 0, 0, 0] };
  /** elapsed_ns when the run's first block connected (the rate axis starts there). */
  private originNs: number | null = null;
  /** elapsed_ns of the newest counted block seen (a streamed block, or the end of a rate snapshot with blocks). */
  private newestBlockNs: number | null = null;
  private kernelHistogram: HistogramBucket[] | null = null;
  /** Histogram of the streamed blocks, for recordings without kernel histograms. */
  private readonly blockHistogram = new Map<number, { min: number; max: number; count: number }>();
  private slowBlocks: SlowBlock[] = [];
  private slowBlocksReceived = 0;
  private totals: BenchmarkTotals | null = null;
  private summary: BenchmarkSummary | null = null;
  /** Losses, kernel counts, events with fields of the wrong types, notes and the end of the session. */
  private readonly account: SessionAccount;
  private lastElapsedNs = 0;
  private changed = true;

  constructor(
    readonly sessionId: string,
    readonly label: string,
    readonly source: 'live' | 'recording',
    private readonly limits: BenchmarkLimits = DEFAULT_BENCHMARK_LIMITS,
    /** The probe's parameters as launched (live sessions); recordings bring them in their summary. */
    private readonly launchParams: BenchmarkParams | null = null,
  ) {
    this.account = new SessionAccount({ maxNamedCounters: DEFAULT_ACCOUNT_LIMITS.maxNamedCounters, maxSessionNotes: limits.maxNotes });
  }

  /** Something changed since the last `takeChanged()`. */
  takeChanged(): boolean {
    const was = this.changed;
    this.changed = false;
    return was;
  }

  get isEnded(): boolean {
    return this.account.ended;
  }

  ingestAll(events: readonly BenchmarkInputEvent[]): void {
    for (const event of events) this.ingest(event);
  }

  ingest(event: BenchmarkInputEvent): void {
    const fields = event as unknown as Fields;
    const elapsed = finiteNumber(fields.elapsed_ns);
    if (elapsed !== undefined && elapsed > this.lastElapsedNs) this.lastElapsedNs = elapsed;
    switch (event.event) {
      case 'validation:block_connected':
        this.ingestBlock(fields);
        break;
      case 'validation:block_rates':
        this.ingestRates(fields);
        break;
      case 'validation:connect_histogram':
        this.ingestHistogram(fields);
        break;
      case 'validation:connect_summary':
        this.ingestSummary(fields);
        break;
      default:
        if (!this.account.take(event)) return;
    }
    this.changed = true;
  }

  markEnded(reason: string): void {
    if (this.account.ended) return;
    this.account.markEnded(reason);
    this.changed = true;
  }

  private ingestBlock(fields: Fields): void {
    const height = finiteNumber(fields.height);
    const transactions = int64Number(fields.transactions);
    const inputs = int64Number(fields.inputs);
    const sigops = int64Number(fields.sigops);
    const durationNs = int64Number(fields.duration_ns);
    const hash = typeof fields.block_hash === 'string' ? fields.block_hash : undefined;
    if (height === undefined || transactions === undefined || inputs === undefined || sigops === undefined || durationNs === undefined || hash === undefined) {
      this.account.ignore();
      return;
    }
    const elapsedNs = finiteNumber(fields.elapsed_ns) ?? this.lastElapsedNs;
    this.noteRunStart(elapsedNs - durationNs);
    this.noteBlockSeen(elapsedNs);
    this.slowBlocksReceived++;
    this.slowBlocks.push({ height, hash, transactions, inputs, sigops, durationNs, elapsedNs });
    // Amortized: sort and cut once the list holds twice the limit.
    if (this.slowBlocks.length >= 2 * this.limits.maxSlowBlocks) this.trimSlowBlocks();
    const bucket = histogramBucketOf(durationNs / 1_000);
    const entry = this.blockHistogram.get(bucket.min) ?? { ...bucket, count: 0 };
    entry.count++;
    this.blockHistogram.set(bucket.min, entry);
  }

  private trimSlowBlocks(): void {
    this.slowBlocks.sort((a, b) => b.durationNs - a.durationNs || a.height - b.height);
    if (this.slowBlocks.length > this.limits.maxSlowBlocks) this.slowBlocks.length = this.limits.maxSlowBlocks;
  }

  private ingestRates(fields: Fields): void {
    const totals = parseTotals(fields.totals);
    if (totals) this.totals = totals;
    const interval = finiteNumber(fields.interval_ns);
    const elapsedNs = finiteNumber(fields.elapsed_ns);
    const values = [fields.blocks_per_s, fields.transactions_per_s, fields.inputs_per_s, fields.sigops_per_s].map(finiteNumber);
    if (interval === undefined || elapsedNs === undefined || values.some((v) => v === undefined)) {
      this.account.ignore();
      return;
    }
    // The first snapshot of a bpftrace run covers no interval: nothing to plot.
    if (interval <= 0) return;
    const [blocks, transactions, inputs, sigops] = values as number[];
    if (blocks > 0) {
      this.noteRunStart(elapsedNs - interval);
      this.noteBlockSeen(elapsedNs);
    }
    const p = this.pending;
    p.count++;
    p.seconds = elapsedNs / 1e9;
    p.sums[0] += blocks;
    p.sums[1] += transactions;
    p.sums[2] += inputs;
    p.sums[3] += sigops;
    if (p.count < this.rates.pointSeconds) return;
    this.pushPoint(p);
    this.pending = { count: 0, seconds: 0, sums: [0, 0, 0, 0] };
    if (this.rates.seconds.length > this.limits.maxRatePoints) this.thinRates();
  }

  private pushPoint(p: PendingPoint, into: MutableRates = this.rates): void {
    into.seconds.push(p.seconds);
    into.blocks.push(p.sums[0] / p.count);
    into.transactions.push(p.sums[1] / p.count);
    into.inputs.push(p.sums[2] / p.count);
    into.sigops.push(p.sums[3] / p.count);
  }

  /** The run's time axis starts when its first block connected (idle time after attaching is not shown). */
  private noteRunStart(elapsedNs: number): void {
    if (this.originNs === null || elapsedNs < this.originNs) this.originNs = Math.max(0, elapsedNs);
  }

  private noteBlockSeen(elapsedNs: number): void {
    if (this.newestBlockNs === null || elapsedNs > this.newestBlockNs) this.newestBlockNs = elapsedNs;
  }

  /** Halves the number of points: each pair becomes its mean (rates per second stay rates per second). */
  private thinRates(): void {
    const r = this.rates;
    if (r.seconds.length % 2 === 1) {
      // An odd last point goes back to being filled, so that every point covers the same span.
      const last = r.seconds.length - 1;
      const n = r.pointSeconds;
      this.pending = { count: n, seconds: r.seconds[last], sums: [r.blocks[last] * n, r.transactions[last] * n, r.inputs[last] * n, r.sigops[last] * n] };
      for (const list of [r.seconds, r.blocks, r.transactions, r.inputs, r.sigops]) list.pop();
    }
    const pairs = (list: number[]): number[] => {
      const out: number[] = [];
      for (let i = 0; i + 1 < list.length; i += 2) out.push((list[i] + list[i + 1]) / 2);
      return out;
    };
    const seconds: number[] = [];
    for (let i = 1; i < r.seconds.length; i += 2) seconds.push(r.seconds[i]);
    r.seconds = seconds;
    r.blocks = pairs(r.blocks);
    r.transactions = pairs(r.transactions);
    r.inputs = pairs(r.inputs);
    r.sigops = pairs(r.sigops);
    r.pointSeconds *= 2;
  }

  private ingestHistogram(fields: Fields): void {
    if (!Array.isArray(fields.buckets)) {
      this.account.ignore();
      return;
    }
    const buckets: HistogramBucket[] = [];
    for (const bucket of fields.buckets.slice(0, 128)) {
      if (!isRecord(bucket)) continue;
      const max = finiteNumber(bucket.max);
      const count = finiteNumber(bucket.count);
      const min = bucket.min === null ? null : finiteNumber(bucket.min);
      if (max === undefined || count === undefined || min === undefined) continue;
      buckets.push({ min, max, count });
    }
    buckets.sort((a, b) => a.max - b.max);
    this.kernelHistogram = buckets;
  }

  private ingestSummary(fields: Fields): void {
    const totals = parseTotals(fields.totals);
    if (!totals) {
      this.account.ignore();
      return;
    }
    this.totals = totals;
    const wall = fields.wall_time_ns === null ? null : int64Number(fields.wall_time_ns as Int64Field);
    this.summary = {
      startHeight: finiteNumber(fields.start_height) ?? 0,
      endHeight: finiteNumber(fields.end_height) ?? 0,
      thresholdMs: finiteNumber(fields.threshold_ms) ?? 0,
      totals: { ...totals, connectTimeNs: int64Number(fields.connect_time_ns) ?? totals.connectTimeNs },
      wallTimeNs: wall ?? null,
    };
  }

  histogram(): { buckets: HistogramBucket[]; source: 'kernel' | 'blocks' | 'none' } {
    if (this.kernelHistogram) return { buckets: this.kernelHistogram, source: 'kernel' };
    if (this.blockHistogram.size === 0) return { buckets: [], source: 'none' };
    return { buckets: [...this.blockHistogram.values()].sort((a, b) => a.max - b.max).map((b) => ({ ...b })), source: 'blocks' };
  }

  /** Points after the run's first block, on seconds since it (`seconds` holds each point's end). */
  rateSeries(): RateSeries {
    const r: MutableRates = { ...this.rates, seconds: [...this.rates.seconds], blocks: [...this.rates.blocks], transactions: [...this.rates.transactions], inputs: [...this.rates.inputs], sigops: [...this.rates.sigops] };
    // The point being filled is shown too, so a long run's chart stays current.
    if (this.pending.count > 0) this.pushPoint(this.pending, r);
    const origin = (this.originNs ?? 0) / 1e9;
    const out = { seconds: [] as number[], blocksPerS: [] as number[], transactionsPerS: [] as number[], inputsPerS: [] as number[], sigopsPerS: [] as number[] };
    for (let i = 0; i < r.seconds.length; i++) {
      if (this.originNs === null || r.seconds[i] <= origin) continue;
      out.seconds.push(r.seconds[i] - origin);
      out.blocksPerS.push(r.blocks[i]);
      out.transactionsPerS.push(r.transactions[i]);
      out.inputsPerS.push(r.inputs[i]);
      out.sigopsPerS.push(r.sigops[i]);
    }
    return { ...out, pointSeconds: r.pointSeconds };
  }

  view(): BenchmarkRunView {
    this.trimSlowBlocks();
    const account = this.account.status();
    const counts = this.account.counts();
    const histogram = this.histogram();
    return {
      sessionId: this.sessionId,
      label: this.label,
      source: this.source,
      ended: account.ended,
      endReason: account.endReason,
      attachedProbes: account.attachedProbes,
      helperConnected: account.tool !== '',
      rates: this.rateSeries(),
      histogram: histogram.buckets,
      histogramSource: histogram.source,
      slowBlocks: [...this.slowBlocks],
      slowBlocksReceived: this.slowBlocksReceived,
      totals: this.totals,
      summary: this.summary,
      params: this.summary ? { startHeight: this.summary.startHeight, endHeight: this.summary.endHeight, thresholdMs: this.summary.thresholdMs } : this.launchParams,
      wallTimeSoFarNs: this.originNs !== null && this.newestBlockNs !== null ? Math.max(0, this.newestBlockNs - this.originNs) : null,
      lostEvents: counts.lostEvents,
      ignoredEvents: counts.ignoredEvents,
      fired: counts.fired,
      notes: account.notes.map((n) => ({ level: n.level, message: n.message.slice(0, MAX_NOTE_CHARS) })),
      lastElapsedNs: this.lastElapsedNs,
    };
  }
}

// utxos: exact per-operation counts (the kernel's `utxocache:ops` counts, else the `fired` counts, else the
// delivered events), rates over time from the growth of those counts, and the newest delivered operations
// (bounded ring).

import { MAX_SENT_ROWS, UTXO_OPERATIONS, type OperationCounts, type ToolFilter, type UtxoOperation, type UtxoRow, type UtxosView } from '../../shared/toolPanelProtocol';
import { boolField, int64Text, isHash, isRecord, numberField, pidOf, type ToolEventLike } from './eventFields';
import { BoundedRing, SecondBuckets } from './secondBuckets';
import { filterNeedle, ToolViewBase, type ToolViewOptions } from './toolViewBase';

const NS_PER_SECOND = 1e9;

function operationOf(event: string): UtxoOperation | null {
  switch (event) {
    case 'utxocache:add':
      return 'add';
    case 'utxocache:spent':
      return 'spent';
    case 'utxocache:uncache':
      return 'uncache';
    default:
      return null;
  }
}

export class UtxosAggregator extends ToolViewBase {
  readonly tool = 'utxos' as const;
  private readonly rows: BoundedRing<UtxoRow>;
  private readonly delivered = { add: 0, spent: 0, uncache: 0 };
  private readonly kernel = { add: 0, spent: 0, uncache: 0 };
  private kernelSeen = false;
  /** Rates from delivered events (used until kernel counts arrive) and from the kernel counts' growth. */
  private readonly deliveredRates: SecondBuckets;
  private readonly kernelRates: SecondBuckets;
  private seq = 0;
  /** `utxocache:ops` seen: its counts (per bpftrace run, summed over runs) are used instead of `fired`. */
  private opsSeen = false;
  private lastRun: OperationCounts | null = null;
  private readonly runBase = { add: 0, spent: 0, uncache: 0 };

  constructor(options: ToolViewOptions & { maxRows?: number; rateWindowSeconds?: number } = {}) {
    super(options);
    this.rows = new BoundedRing<UtxoRow>(options.maxRows ?? 20_000);
    this.deliveredRates = new SecondBuckets(3, options.rateWindowSeconds ?? 600);
    this.kernelRates = new SecondBuckets(3, options.rateWindowSeconds ?? 600);
  }

  protected ingestToolEvent(event: ToolEventLike, f: Readonly<Record<string, unknown>>, elapsedNs: number): 'accepted' | 'ignored' | 'other' {
    if (event.event === 'utxocache:ops') {
      // Kernel operation counts, cumulative since the bpftrace run attached; a re-attach starts again at 0.
      if (!isRecord(f.counts)) return 'ignored';
      const counts = f.counts;
      const run = { add: numberField(counts.add) ?? 0, spent: numberField(counts.spent) ?? 0, uncache: numberField(counts.uncache) ?? 0 };
      if (this.lastRun && UTXO_OPERATIONS.some((op) => run[op] < (this.lastRun as OperationCounts)[op])) {
        for (const op of UTXO_OPERATIONS) this.runBase[op] += this.lastRun[op];
      }
      this.lastRun = run;
      this.opsSeen = true;
      this.applyKernelCounts((op) => this.runBase[op] + run[op], elapsedNs);
      return 'other';
    }
    const op = operationOf(event.event);
    if (op === null) return 'other';
    const index = numberField(f.index);
    const height = numberField(f.height);
    const value = int64Text(f.value);
    if (!isHash(f.txid) || index === null || height === null || value === null) return 'ignored';
    this.delivered[op]++;
    this.deliveredRates.add(UTXO_OPERATIONS.indexOf(op), elapsedNs / NS_PER_SECOND, 1);
    this.rows.push({ seq: ++this.seq, elapsedNs, op, txid: f.txid.toLowerCase(), index, height, valueSat: value, isCoinbase: boolField(f.is_coinbase) === true, ...pidOf(f) });
    return 'accepted';
  }

  /** The session-cumulative fired counts, used when the probe sends no `utxocache:ops`. */
  protected override firedCountsChanged(elapsedNs: number | null): void {
    if (this.opsSeen) return;
    this.applyKernelCounts((op) => this.account.firedCount(`utxocache:${op}`), elapsedNs ?? this.lastElapsedNs);
  }

  private applyKernelCounts(countOf: (op: UtxoOperation) => number | null, elapsedNs: number): void {
    const second = elapsedNs / NS_PER_SECOND;
    UTXO_OPERATIONS.forEach((op, i) => {
      const count = countOf(op);
      if (count === null) return;
      this.kernelSeen = true;
      // Cumulative counts: the growth since the previous report happened in the interval ending now.
      if (count > this.kernel[op]) this.kernelRates.add(i, Math.max(0, second - 1e-9), count - this.kernel[op]);
      this.kernel[op] = Math.max(this.kernel[op], count);
    });
  }

  protected buildView(filter: ToolFilter, nowElapsedNs: number): UtxosView {
    const needle = filterNeedle(filter);
    const kind = filter.kind;
    const { items, matching } = this.rows.newestMatching(MAX_SENT_ROWS, (row) => (kind === '' || row.op === kind) && (needle === '' || row.txid.startsWith(needle)));
    const buckets = this.kernelSeen ? this.kernelRates : this.deliveredRates;
    // Kernel counts arrive about once a second for the second before: only a clock well past the newest
    // report (the probe stopped reporting) extends the series with zeros.
    const nowSecond = Math.floor(nowElapsedNs / NS_PER_SECOND) - (this.kernelSeen ? 1 : 0);
    const series = buckets.series(buckets.newestSecond >= 0 ? nowSecond : -1);
    // Kernel counts can lag the delivered events by up to a report interval: never show fewer.
    const counts: OperationCounts = this.kernelSeen
      ? { add: Math.max(this.kernel.add, this.delivered.add), spent: Math.max(this.kernel.spent, this.delivered.spent), uncache: Math.max(this.kernel.uncache, this.delivered.uncache) }
      : { ...this.delivered };
    return {
      tool: 'utxos',
      counts,
      countsFromKernel: this.kernelSeen,
      delivered: { ...this.delivered },
      rates: { startSecond: series.startSecond, add: series.values[0], spent: series.values[1], uncache: series.values[2] },
      rows: items,
      matchingRows: matching,
      keptRows: this.rows.length,
    };
  }
}

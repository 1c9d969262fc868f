// mempool-monitor: counts of added/removed/replaced/rejected transactions over the whole session, the last
// minute and the last ten minutes (1-second buckets over the session clock), rates, and an event log.

import { MAX_SENT_ROWS, MEMPOOL_KINDS, type MempoolCounts, type MempoolKind, type MempoolRow, type MempoolView, type TimeInMempool, type ToolFilter } from '../../shared/toolPanelProtocol';
import { boolField, int64Text, isHash, numberField, stringField, type ToolEventLike } from './eventFields';
import { BoundedRing, SecondBuckets } from './secondBuckets';
import { filterNeedle, ToolViewBase, type ToolViewOptions } from './toolViewBase';

const NS_PER_SECOND = 1e9;
const TEN_MINUTES = 600;
/** Transactions whose `added` event is remembered (its time), for their time in the mempool; the oldest go first. */
const DEFAULT_MAX_TRACKED_ENTRIES = 100_000;

function kindOf(event: string): MempoolKind | null {
  switch (event) {
    case 'mempool:added':
      return 'added';
    case 'mempool:removed':
      return 'removed';
    case 'mempool:replaced':
      return 'replaced';
    case 'mempool:rejected':
      return 'rejected';
    default:
      return null;
  }
}

function feeRate(fee: string | null, vsize: number | null): number | null {
  if (fee === null || vsize === null || vsize <= 0) return null;
  return Number(fee) / vsize;
}

export class MempoolAggregator extends ToolViewBase {
  readonly tool = 'mempool-monitor' as const;
  private readonly rows: BoundedRing<MempoolRow>;
  private readonly totals = { added: 0, removed: 0, replaced: 0, rejected: 0 };
  private readonly buckets: SecondBuckets;
  private seq = 0;
  private atAttach: { size: number; bytes: number } | null = null;
  private atAttachNote: string | null = null;
  /** txid → elapsed_ns of its `added` event in this session (insertion order: oldest first). */
  private readonly addedAt = new Map<string, number>();
  private readonly maxTrackedEntries: number;

  constructor(options: ToolViewOptions & { maxRows?: number; rateWindowSeconds?: number; maxTrackedEntries?: number } = {}) {
    super(options);
    this.maxTrackedEntries = options.maxTrackedEntries ?? DEFAULT_MAX_TRACKED_ENTRIES;
    this.rows = new BoundedRing<MempoolRow>(options.maxRows ?? 20_000);
    this.buckets = new SecondBuckets(4, Math.max(TEN_MINUTES, options.rateWindowSeconds ?? TEN_MINUTES));
  }

  /**
   * How long a transaction leaving the mempool at `elapsedNs` was in it: from its `added` event when this session
   * saw it (ns), else from the tracepoint's entry time, a whole UNIX second, against the wall-clock second of the
   * removal (whole seconds: both clocks are read to the second, as the node's own `time` fields are).
   */
  private timeInMempool(txid: string, entryTime: unknown, elapsedNs: number): TimeInMempool | null {
    const added = this.addedAt.get(txid);
    if (added !== undefined) {
      this.addedAt.delete(txid);
      if (elapsedNs >= added) return { ns: elapsedNs - added, from: 'added' };
    }
    const entry = numberField(entryTime);
    if (entry === null || entry <= 0 || this.startedAtMs === null) return null;
    const removedAtSecond = Math.floor(this.startedAtMs / 1000 + elapsedNs / NS_PER_SECOND);
    return { ns: Math.max(0, removedAtSecond - entry) * NS_PER_SECOND, from: 'entry_time' };
  }

  private rememberAdded(txid: string, elapsedNs: number): void {
    this.addedAt.delete(txid);
    this.addedAt.set(txid, elapsedNs);
    if (this.addedAt.size > this.maxTrackedEntries) {
      const oldest = this.addedAt.keys().next();
      if (!oldest.done) this.addedAt.delete(oldest.value);
    }
  }

  protected ingestToolEvent(event: ToolEventLike, f: Readonly<Record<string, unknown>>, elapsedNs: number): 'accepted' | 'ignored' | 'other' {
    if (event.event === 'node:state_at_attach') {
      const mempool = f.mempool as Record<string, unknown> | undefined;
      if (f.available === true && mempool && typeof mempool.size === 'number' && typeof mempool.bytes === 'number') this.atAttach = { size: mempool.size, bytes: mempool.bytes };
      else this.atAttachNote = `The mempool's size at the attach is not known (the node's RPC was not asked: ${typeof f.reason === 'string' ? f.reason : 'unknown'}).`;
      return 'accepted';
    }
    const kind = kindOf(event.event);
    if (kind === null) return 'other';
    let row: MempoolRow;
    const base = { seq: this.seq + 1, elapsedNs, kind };
    if (kind === 'replaced') {
      if (!isHash(f.replaced_txid)) return 'ignored';
      const vsize = numberField(f.replaced_vsize);
      const fee = int64Text(f.replaced_fee);
      const txid = f.replaced_txid.toLowerCase();
      row = {
        ...base,
        txid,
        vsize,
        fee,
        feeRate: feeRate(fee, vsize),
        reason: null,
        inMempool: this.timeInMempool(txid, f.replaced_entry_time, elapsedNs),
        replacement: {
          replacedVsize: vsize,
          replacedFee: fee,
          replacementId: isHash(f.replacement_id) ? f.replacement_id.toLowerCase() : String(f.replacement_id ?? ''),
          replacementVsize: numberField(f.replacement_vsize),
          replacementFee: int64Text(f.replacement_fee),
          byTransaction: boolField(f.replaced_by_transaction),
        },
      };
    } else {
      if (!isHash(f.txid)) return 'ignored';
      const vsize = kind === 'rejected' ? null : numberField(f.vsize);
      const fee = kind === 'rejected' ? null : int64Text(f.fee);
      const txid = f.txid.toLowerCase();
      if (kind === 'added') this.rememberAdded(txid, elapsedNs);
      row = {
        ...base,
        txid,
        vsize,
        fee,
        feeRate: feeRate(fee, vsize),
        reason: kind === 'removed' || kind === 'rejected' ? (stringField(f.reason) ?? '') : null,
        inMempool: kind === 'removed' ? this.timeInMempool(txid, f.entry_time, elapsedNs) : null,
        replacement: null,
      };
    }
    this.seq++;
    this.totals[kind]++;
    this.buckets.add(MEMPOOL_KINDS.indexOf(kind), elapsedNs / NS_PER_SECOND, 1);
    this.rows.push(row);
    return 'accepted';
  }

  private windowCounts(nowSecond: number, seconds: number): MempoolCounts {
    const [added, removed, replaced, rejected] = MEMPOOL_KINDS.map((_k, i) => this.buckets.sum(i, nowSecond, seconds));
    return { added, removed, replaced, rejected };
  }

  protected buildView(filter: ToolFilter, nowElapsedNs: number): MempoolView {
    const needle = filterNeedle(filter);
    const kind = filter.kind;
    const { items, matching } = this.rows.newestMatching(MAX_SENT_ROWS, (row) => {
      if (kind !== '' && row.kind !== kind) return false;
      if (needle === '') return true;
      return row.txid.startsWith(needle) || (row.replacement?.replacementId.startsWith(needle) ?? false) || (row.reason?.toLowerCase().includes(needle) ?? false);
    });
    const nowSecond = Math.floor(nowElapsedNs / NS_PER_SECOND);
    const series = this.buckets.series(this.buckets.newestSecond >= 0 ? nowSecond : -1);
    return {
      tool: 'mempool-monitor',
      total: { ...this.totals },
      lastMinute: this.windowCounts(nowSecond, 60),
      lastTenMinutes: this.windowCounts(nowSecond, TEN_MINUTES),
      atAttach: this.atAttach,
      atAttachNote: this.atAttachNote,
      rates: { startSecond: series.startSecond, added: series.values[0], removed: series.values[1], replaced: series.values[2], rejected: series.values[3] },
      rows: items,
      matchingRows: matching,
      keptRows: this.rows.length,
    };
  }
}

// Human-readable lines of `bitcoin-usdt run <tool>` for the connection, benchmark, UTXO cache and coin
// selection tools, in the manner of Bitcoin Core's contrib/tracing scripts (log_p2p_connections.bt,
// connectblock_benchmark.bt, log_utxocache_flush.py, log_utxos.bt), with correct units. Lines starting
// with '#' are notes for stderr; everything else is the tool's output for stdout.

import type {
  ConnectHistogramEvent,
  ConnectSummaryEvent,
  HistogramBucket,
  UtxoOpsEvent,
} from '../core/events/bpftraceToolEventTypes';
import type { NormalizedEvent } from '../core/events/eventTypes';
import { recordsOfToolByEvent, type RecordSpec } from '../core/events/eventSchema';
import { isToolId, TOOL_TITLES, type ToolId } from '../core/tools/toolManifest';

/** The run's parameters, as passed to the helper (`start`, `end`, `threshold_ms` for the benchmark). */
export type ToolParams = Readonly<Record<string, string>>;

const HISTOGRAM_BAR_WIDTH = 52;

/**
 * What `run` prints first for the tools that print lines of their own (null: nothing; the P2P tools print their
 * own table headers). Any other tool gets a banner from its title and one line per record from its field
 * tables (`genericLine`).
 */
const START_BANNERS: Readonly<Partial<Record<ToolId, ((params: ToolParams) => string) | null>>> = {
  'p2p-traffic': null,
  'p2p-monitor': null,
  'raw-p2p-msgs': null,
  'mempool-monitor': null,
  'connectblock-benchmark': (params) => {
    const start = params.start ?? '0';
    const end = params.end ?? '0';
    const threshold = params.threshold_ms ?? '0';
    return `Logging blocks from height ${start} to ${end === '0' ? 'no end' : end}; listing blocks ${threshold === '0' ? 'all' : `slower than ${threshold} ms`}`;
  },
  'utxocache-flush': () => '# Logging utxocache flushes. Ctrl-C to end...',
  'p2p-connections': () => '# Logging opened, closed, evicted and misbehaving P2P connections. Ctrl-C to end...',
  utxos: () => '# Logging coins added, spent and uncached. Ctrl-C to end...',
  'coin-selection': () => '# Logging wallet coin selection. Ctrl-C to end...',
  'trace-tracepoint': (params) => `# Tracing ${params.tracepoint ?? '?'} (${params.args || 'no arguments'}). Ctrl-C to end...`,
};
/** `event name=value …` in the record's field order; strings quoted and escaped, hashes and integers as they are. */
function genericLine(spec: RecordSpec, event: NormalizedEvent): string {
  const fields = event as unknown as Readonly<Record<string, unknown>>;
  const parts = spec.fields.map((f) => {
    const value = fields[f.name];
    if (value === undefined || value === null) return `${f.name}=-`;
    if (f.kind === 'string') return `${f.name}='${terminalSafe(String(value))}'`;
    if (f.kind === 'bool') return `${f.name}=${value === true ? 'yes' : 'no'}`;
    return `${f.name}=${terminalSafe(String(value))}`;
  });
  return [event.event, ...parts].join(' ');
}

/**
 * Events after which a benchmark summary is printed: the run is over (end, re-attach) or a new one is under way.
 * Not `session:message`: the helper's notices reach the socket independently of bpftrace's stdout, so one may
 * come between END's summary and the histogram bpftrace prints at exit.
 */
const SUMMARY_FLUSHING_EVENTS: ReadonlySet<string> = new Set([
  'session:end', 'session:attached', 'validation:block_rates', 'validation:block_connected',
]);

/** Untrusted text for a terminal: control characters, bidi overrides and undecodable bytes become escapes. */
export function terminalSafe(text: string): string {
  return text.replace(/[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069\udc80-\udcff\\]/g, (ch) => {
    const code = ch.charCodeAt(0);
    if (ch === '\\') return '\\\\';
    if (code >= 0xdc80 && code <= 0xdcff) return `\\x${(code - 0xdc00).toString(16).padStart(2, '0')}`;
    return code < 0x100 ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`;
  });
}

/** Milliseconds with three decimals from nanoseconds (exact for any int64, no float rounding of the input). */
export function formatNsAsMs(ns: number | string): string {
  const value = BigInt(ns);
  const negative = value < 0n;
  const abs = negative ? -value : value;
  // Round to the nearest microsecond, then split into ms and the three decimals.
  const us = (abs + 500n) / 1000n;
  return `${negative ? '-' : ''}${us / 1000n}.${(us % 1000n).toString().padStart(3, '0')}`;
}

function pad(text: string | number, width: number, left = false): string {
  const s = String(text);
  return left ? s.padEnd(width) : s.padStart(width);
}

/** bpftrace's bucket labels: 1024 → 1K, 1048576 → 1M. */
function bucketBound(value: number): string {
  const units: [number, string][] = [[2 ** 40, 'T'], [2 ** 30, 'G'], [2 ** 20, 'M'], [2 ** 10, 'K']];
  for (const [size, suffix] of units) if (value >= size && value % size === 0) return `${value / size}${suffix}`;
  return String(value);
}

/** A power-of-2 histogram drawn like bpftrace's own `hist()` output. */
export function formatHistogram(title: string, buckets: readonly HistogramBucket[]): string {
  const used = buckets.filter((b) => b.count > 0);
  if (used.length === 0) return `${title}\n(no values)`;
  const first = buckets.indexOf(used[0]);
  const last = buckets.indexOf(used[used.length - 1]);
  const shown = buckets.slice(first, last + 1);
  const labels = shown.map((b) => (b.min === null ? '(..., 0)' : b.min === b.max ? `[${bucketBound(b.min)}]` : `[${bucketBound(b.min)}, ${bucketBound(b.max + 1)})`));
  const labelWidth = Math.max(...labels.map((l) => l.length));
  const maxCount = Math.max(...shown.map((b) => b.count));
  const countWidth = Math.max(...shown.map((b) => String(b.count).length));
  const rows = shown.map((b, i) => {
    const bar = '@'.repeat(Math.round((b.count / maxCount) * HISTOGRAM_BAR_WIDTH));
    return `${labels[i].padEnd(labelWidth)} ${pad(b.count, countWidth)} |${bar.padEnd(HISTOGRAM_BAR_WIDTH)}|`;
  });
  return [title, ...rows].join('\n');
}

/**
 * Turns one tool's events into text. Stateful: table headers are printed once, the benchmark's last histogram
 * and height are kept for its summary, and the UTXO tool's kernel counts are reported at the end.
 */
export class ToolTextFormatter {
  private flushHeaderPrinted = false;
  private utxoHeaderPrinted = false;
  private histogram: ConnectHistogramEvent | null = null;
  private lastHeight: number | null = null;
  private ops: UtxoOpsEvent | null = null;
  /** bpftrace prints the final histogram after the summary: the summary waits for it (or the next run, or the end). */
  private pendingSummary: ConnectSummaryEvent | null = null;

  /** A tool without a START_BANNERS entry: its records by event name, printed by `genericLine`. */
  private readonly genericRecords: ReadonlyMap<string, RecordSpec> | null;

  constructor(private readonly toolId: string, private readonly params: ToolParams = {}) {
    this.genericRecords = isToolId(toolId) && !Object.hasOwn(START_BANNERS, toolId) ? recordsOfToolByEvent(toolId) : null;
  }

  /** The tool's text for this event (possibly several lines), or null when it prints nothing for it. */
  format(event: NormalizedEvent): string | null {
    if (this.pendingSummary === null || !SUMMARY_FLUSHING_EVENTS.has(event.event)) return this.formatEvent(event);
    const summary = this.benchmarkSummary(this.pendingSummary);
    this.pendingSummary = null;
    const text = this.formatEvent(event);
    return text === null ? summary : `${summary}\n${text}`;
  }

  private formatEvent(event: NormalizedEvent): string | null {
    switch (event.event) {
      case 'session:attached':
        return this.startBanner();
      case 'net:inbound_connection':
        return `INBOUND conn from ${terminalSafe(event.peer_addr)}: id=${event.peer_id}, type=${terminalSafe(event.conn_type)}, network=${event.network_name}, total=${event.existing}`;
      case 'net:outbound_connection':
        return `OUTBOUND conn to ${terminalSafe(event.peer_addr)}: id=${event.peer_id}, type=${terminalSafe(event.conn_type)}, network=${event.network_name}, total=${event.existing}`;
      case 'net:evicted_inbound_connection':
        return `EVICTED conn to ${terminalSafe(event.peer_addr)}: id=${event.peer_id}, type=${terminalSafe(event.conn_type)}, network=${event.network_name}, established=${event.time_established}`;
      case 'net:closed_connection':
        return `CLOSED conn to ${terminalSafe(event.peer_addr)}: id=${event.peer_id}, type=${terminalSafe(event.conn_type)}, network=${event.network_name}, established=${event.time_established}`;
      case 'net:misbehaving_connection':
        return `MISBEHAVING conn id=${event.peer_id}, message='${terminalSafe(event.message)}'`;
      case 'validation:block_rates':
        if (event.height !== null) this.lastHeight = event.height;
        if (event.interval_ns <= 0) return null;
        return `BENCH ${pad(Math.round(event.blocks_per_s), 4)} blk/s ${pad(Math.round(event.transactions_per_s), 6)} tx/s ` +
          `${pad(Math.round(event.inputs_per_s), 7)} inputs/s ${pad(Math.round(event.sigops_per_s), 8)} sigops/s (height ${event.height ?? '-'})`;
      case 'validation:block_connected':
        return `Block ${event.height} (${event.block_hash}) ${pad(String(event.transactions), 4)} tx ${pad(event.inputs, 5)} ins ` +
          `${pad(String(event.sigops), 5)} sigops took ${formatNsAsMs(event.duration_ns)} ms`;
      case 'validation:connect_histogram':
        this.histogram = event;
        return null;
      case 'validation:connect_summary':
        this.pendingSummary = event;
        return null;
      case 'utxocache:flush': {
        const row = `${pad(String(event.duration_us), 15, true)} ${pad(event.mode_name, 10, true)} ${pad(String(event.coins_count), 15, true)} ` +
          `${pad(`${(Number(event.coins_mem_usage) / 1000).toFixed(2)} kB`, 15, true)} ${pad(event.is_flush_for_prune ? 'True' : 'False', 5, true)} ${terminalSafe(event.thread ?? '')}`.trimEnd();
        if (this.flushHeaderPrinted) return row;
        this.flushHeaderPrinted = true;
        return `${pad('Duration (µs)', 15, true)} ${pad('Mode', 10, true)} ${pad('Coins Count', 15, true)} ${pad('Memory Usage', 15, true)} Prune Thread\n${row}`;
      }
      case 'utxocache:add':
      case 'utxocache:spent':
      case 'utxocache:uncache': {
        const op = { 'utxocache:add': 'Added', 'utxocache:spent': 'Spent', 'utxocache:uncache': 'Uncache' }[event.event];
        const row = `${pad(op, 7, true)} ${event.txid}:${pad(event.index, 6, true)} ${pad(String(event.value), 16)} ${pad(event.height, 7)} ${event.is_coinbase ? 'Yes' : 'No'}`;
        if (this.utxoHeaderPrinted) return row;
        this.utxoHeaderPrinted = true;
        return `${pad('OP', 7, true)} ${pad('Outpoint', 71, true)} ${pad('Value', 16)} ${pad('Height', 7)} Coinbase\n${row}`;
      }
      case 'utxocache:ops':
        this.ops = event;
        return null;
      case 'coin_selection:selected_coins':
        return `selected_coins wallet='${terminalSafe(event.wallet_name)}' algo=${terminalSafe(event.algo)} target=${event.target} waste=${event.waste} selected_value=${event.selected_value}`;
      case 'coin_selection:normal_create_tx_internal':
        return `normal_create_tx_internal wallet='${terminalSafe(event.wallet_name)}' success=${event.success} fee=${event.fee} change_pos=${event.change_pos}`;
      case 'coin_selection:attempting_aps_create_tx':
        return `attempting_aps_create_tx wallet='${terminalSafe(event.wallet_name)}'`;
      case 'coin_selection:aps_create_tx_internal':
        return `aps_create_tx_internal wallet='${terminalSafe(event.wallet_name)}' use_aps=${event.use_aps} success=${event.success} fee=${event.fee} change_pos=${event.change_pos}`;
      case 'tracepoint:hit':
        return `${event.tracepoint} ${event.args.map((value, i) => `arg${i}=${value === null ? '-' : typeof value === 'string' && !/^-?\d+$/.test(value) ? `'${terminalSafe(value)}'` : value}`).join(' ')}`;
      case 'session:end':
        return this.ops && this.toolId === 'utxos'
          ? `# counted in the kernel: ${this.ops.counts.add} added, ${this.ops.counts.spent} spent, ${this.ops.counts.uncache} uncached`
          : null;
      default: {
        const spec = this.genericRecords?.get(event.event);
        return spec ? genericLine(spec, event) : null;
      }
    }
  }

  private startBanner(): string | null {
    if (!isToolId(this.toolId)) return null;
    if (this.genericRecords !== null) return `# Logging ${TOOL_TITLES[this.toolId]}. Ctrl-C to end...`;
    return START_BANNERS[this.toolId]?.(this.params) ?? null;
  }

  private benchmarkSummary(event: ConnectSummaryEvent): string {
    const lines: string[] = [];
    if (this.histogram) lines.push(formatHistogram('ConnectBlock time (µs):', this.histogram.buckets));
    this.histogram = null;
    const blocks = event.totals.blocks;
    if (blocks === 0) {
      lines.push(`No block between height ${event.start_height} and ${event.end_height === 0 ? 'the end' : event.end_height} connected.`);
      return lines.join('\n');
    }
    const endHeight = event.end_height !== 0 ? event.end_height : (this.lastHeight ?? event.start_height);
    const wall = event.wall_time_ns === null ? null : formatNsAsMs(event.wall_time_ns);
    lines.push(
      `Took ${wall ?? '?'} ms to connect the blocks between height ${event.start_height} and ${endHeight} ` +
        `(${blocks} block${blocks === 1 ? '' : 's'}, from the first block's connect to the last's).`,
    );
    lines.push(
      `ConnectBlock time: ${formatNsAsMs(event.connect_time_ns)} ms in total, ${event.totals.transactions} transactions, ` +
        `${event.totals.inputs} inputs, ${event.totals.sigops} sigops; ${event.totals.printed} block(s) listed.`,
    );
    return lines.join('\n');
  }
}

// Decoders for the records of the bpftrace tools p2p-connections, connectblock-benchmark, utxocache-flush,
// utxos and coin-selection (probes/<tool>.bt; each script's header documents its records). BpftraceDecoder
// hands them every `value`, `map` and `hist` record first: a decoder returns the events a record produced,
// or null when the record is not its own (`@fired`, which BpftraceDecoder accounts for). A record of its
// own with unexpected contents throws, and BpftraceDecoder reports the line as malformed.

import { JsonObject, bytesToString, byteLength, stringToBytes, type JsonValue } from './bpftraceJson';
import {
  FLUSH_MODE_NAMES,
  NETWORK_NAMES,
  type BlockTotals,
  type BpftraceToolEvent,
  type HistogramBucket,
  type UtxoOperation,
} from './bpftraceToolEventTypes';
import type { Int64Field, NormalizedEvent } from './eventTypes';
import { decodeBccRecord } from './bccDecoder';
import { TOOL_IDS, isToolId, type ToolId } from '../tools/toolManifest';

export type ToolDecodedEvent = NormalizedEvent | BpftraceToolEvent;

/** One `-f json` record: its `type` (`value`, `map`, `hist`, …) and `data`. */
export interface ToolRecord {
  type: string;
  data: JsonValue | undefined;
}

/** What a tool decoder needs from the session decoder around it. */
export interface ToolRecordContext {
  /** Session time of a bpftrace `elapsed` value (adds the offset of re-attached runs); becomes the latest time. */
  elapsedNs(value: Int64Field): number;
  /** Session time of the latest record that carried one. */
  lastElapsedNs(): number;
  /** One streamed record arrived (loss accounting: fired − delivered). */
  delivered(): void;
  /**
   * For a tool that streams only some hits (so the kernel's fired counts do not say how many records to
   * expect): its probe says it printed `printed` records in this bpftrace run. Returns a `lost` event for
   * those neither delivered nor reported lost by bpftrace (none when all are accounted for).
   */
  reconcile(printed: number): NormalizedEvent[];
  /** Events to add when `value` reached the probe's string limit (it may have been cut), else none. */
  checkCut(field: string, value: string): NormalizedEvent[];
}

export type ToolRecordDecoder = (record: ToolRecord, context: ToolRecordContext) => ToolDecodedEvent[] | null;

/** bpftrace string limit (BPFTRACE_STRLEN=72) less the NUL: the two parts of a misbehaving reason split here. */
const STRING_PART_BYTES = 71;

// ------------------------------------------------------------------ field readers

class RecordShapeError extends Error {}

function int(v: JsonValue | undefined, what: string): Int64Field {
  if ((typeof v === 'number' && Number.isInteger(v)) || (typeof v === 'string' && /^-?\d+$/.test(v))) return v;
  throw new RecordShapeError(`${what} is not an integer`);
}

function small(v: JsonValue | undefined, what: string): number {
  if (typeof v === 'number' && Number.isSafeInteger(v)) return v;
  throw new RecordShapeError(`${what} is not a 32-bit integer`);
}

function text(v: JsonValue | undefined, what: string): string {
  if (typeof v === 'string') return v;
  throw new RecordShapeError(`${what} is not a string`);
}

function flag(v: JsonValue | undefined, what: string): boolean {
  if (v === 0 || v === 1) return v === 1;
  throw new RecordShapeError(`${what} is not 0 or 1`);
}

function tuple(data: JsonValue | undefined, length: number, kind: string): JsonValue[] {
  if (!Array.isArray(data) || data.length !== length) throw new RecordShapeError(`${kind} tuple without ${length} fields`);
  return data;
}

/** Four little-endian 64-bit words of a 32-byte hash (internal order) → 64 hex digits in display order. */
export function hashFromWords(words: readonly JsonValue[]): string {
  if (words.length !== 4) throw new RecordShapeError('a hash needs 4 words');
  let hex = '';
  for (let k = 3; k >= 0; k--) {
    const word = BigInt(int(words[k], `hash word ${k}`));
    if (word < 0n || word >= 1n << 64n) throw new RecordShapeError(`hash word ${k} out of range`);
    hex += word.toString(16).padStart(16, '0');
  }
  return hex;
}

function toInt64Field(value: bigint): Int64Field {
  const n = Number(value);
  return Number.isSafeInteger(n) ? n : value.toString();
}

function perSecond(delta: bigint, intervalNs: number): number {
  return intervalNs > 0 ? (Number(delta) * 1e9) / intervalNs : 0;
}

function mapOf(record: ToolRecord, name: string): JsonObject | null {
  if (record.type !== 'map' || !(record.data instanceof JsonObject)) return null;
  const contents = record.data.get(name);
  if (contents === undefined) return null;
  if (!(contents instanceof JsonObject)) throw new RecordShapeError(`map ${name} is not keyed`);
  return contents;
}

/** A record tuple's kind (its first element) when the record is a tuple. */
function tupleKind(record: ToolRecord): string | null {
  return record.type === 'value' && Array.isArray(record.data) && typeof record.data[0] === 'string' ? record.data[0] : null;
}

// ------------------------------------------------------------------ p2p-connections

const CONNECTION_KINDS = {
  inbound_connection: ['net:inbound_connection', 'existing'],
  outbound_connection: ['net:outbound_connection', 'existing'],
  evicted_inbound_connection: ['net:evicted_inbound_connection', 'time_established'],
  closed_connection: ['net:closed_connection', 'time_established'],
} as const;

function networkName(network: number): string {
  return NETWORK_NAMES[network] ?? `unknown(${network})`;
}

function isConnectionKind(kind: string): kind is keyof typeof CONNECTION_KINDS {
  return Object.prototype.hasOwnProperty.call(CONNECTION_KINDS, kind);
}

export function createP2pConnectionsDecoder(): ToolRecordDecoder {
  return (record, context) => {
    const kind = tupleKind(record);
    if (kind === null) return null;
    if (isConnectionKind(kind)) {
      const [, elapsed, peerId, addr, connType, network, last] = tuple(record.data, 7, kind);
      const [event, lastField] = CONNECTION_KINDS[kind];
      const base = {
        elapsed_ns: context.elapsedNs(int(elapsed, 'elapsed')),
        peer_id: int(peerId, 'peer_id'),
        peer_addr: text(addr, 'peer_addr'),
        conn_type: text(connType, 'conn_type'),
        network: small(network, 'network'),
        network_name: networkName(small(network, 'network')),
      };
      const value = int(last, lastField);
      const decoded: BpftraceToolEvent =
        event === 'net:inbound_connection' || event === 'net:outbound_connection'
          ? { event, ...base, existing: value }
          : { event, ...base, time_established: value };
      context.delivered();
      return [decoded, ...context.checkCut('peer_addr', base.peer_addr), ...context.checkCut('conn_type', base.conn_type)];
    }
    if (kind === 'misbehaving_connection') {
      const [, elapsed, peerId, first, second] = tuple(record.data, 5, kind);
      const part1 = text(first, 'message');
      const part2 = text(second, 'message (second part)');
      // The first part ends before the limit when the string did: the second is then unrelated memory.
      const whole = byteLength(part1) < STRING_PART_BYTES;
      const message = whole ? part1 : bytesToString(Buffer.concat([stringToBytes(part1), stringToBytes(part2)]));
      context.delivered();
      return [
        { event: 'net:misbehaving_connection', elapsed_ns: context.elapsedNs(int(elapsed, 'elapsed')), peer_id: int(peerId, 'peer_id'), message },
        ...(whole ? [] : context.checkCut('message', part2)),
      ];
    }
    throw new RecordShapeError(`unknown p2p-connections tuple ${JSON.stringify(kind)}`);
  };
}

// ------------------------------------------------------------------ connectblock-benchmark

const OWN_SCALAR_MAPS = ['@connect_us', '@first_block_ns', '@last_block_ns', '@last_height'];
const TOTAL_KEYS = ['blocks', 'transactions', 'inputs', 'sigops', 'duration_ns', 'printed'] as const;
type TotalKey = (typeof TOTAL_KEYS)[number];

export function createConnectblockBenchmarkDecoder(): ToolRecordDecoder {
  let totals: Record<TotalKey, bigint> | null = null;
  let previous: { totals: Record<TotalKey, bigint>; elapsedNs: number } | null = null;
  let summarized = false;
  let lastHeight: number | null = null;

  const totalsEvent = (t: Record<TotalKey, bigint>): BlockTotals => ({
    blocks: Number(t.blocks),
    transactions: toInt64Field(t.transactions),
    inputs: toInt64Field(t.inputs),
    sigops: toInt64Field(t.sigops),
    duration_ns: toInt64Field(t.duration_ns),
    printed: Number(t.printed),
  });

  return (record, context) => {
    const totalsMap = mapOf(record, '@totals');
    if (totalsMap) {
      const current = {} as Record<TotalKey, bigint>;
      for (const key of TOTAL_KEYS) {
        const v = totalsMap.get(key);
        current[key] = v === undefined ? 0n : BigInt(int(v, `@totals[${key}]`));
      }
      const repeated = totals !== null && TOTAL_KEYS.every((k) => totals !== null && totals[k] === current[k]);
      if (summarized && repeated) return []; // bpftrace prints every map again at exit, after the summary
      summarized = false;
      totals = current;
      const now = context.lastElapsedNs();
      // A new bpftrace run (re-attach) starts from zero: no rates across runs.
      const sameRun = previous !== null && TOTAL_KEYS.every((k) => previous !== null && current[k] >= previous.totals[k]);
      const intervalNs = sameRun && previous ? now - previous.elapsedNs : 0;
      if (intervalNs <= 0 && sameRun) return []; // the same snapshot again (printed at exit)
      const base = sameRun && previous ? previous.totals : null;
      const delta = (k: TotalKey): bigint => (base ? current[k] - base[k] : 0n);
      previous = { totals: current, elapsedNs: now };
      return [{
        event: 'validation:block_rates',
        elapsed_ns: now,
        interval_ns: intervalNs,
        blocks_per_s: perSecond(delta('blocks'), intervalNs),
        transactions_per_s: perSecond(delta('transactions'), intervalNs),
        inputs_per_s: perSecond(delta('inputs'), intervalNs),
        sigops_per_s: perSecond(delta('sigops'), intervalNs),
        height: current.blocks > 0n ? lastHeight : null,
        totals: totalsEvent(current),
      }];
    }
    if (record.type === 'hist' && record.data instanceof JsonObject) {
      const hist = record.data.get('@connect_us');
      if (hist === undefined) return null;
      return [{ event: 'validation:connect_histogram', elapsed_ns: context.lastElapsedNs(), unit: 'us', buckets: histogramBuckets(hist) }];
    }
    if (record.type === 'map' && record.data instanceof JsonObject && OWN_SCALAR_MAPS.some((name) => record.data instanceof JsonObject && record.data.get(name) !== undefined)) {
      return []; // the script's plain variables (deleted at exit, printed only if bpftrace ended otherwise)
    }
    const kind = tupleKind(record);
    if (kind === null) return null;
    if (kind === 'block') {
      const [, elapsed, w0, w1, w2, w3, height, transactions, inputs, sigops, duration] = tuple(record.data, 11, kind);
      context.delivered();
      return [{
        event: 'validation:block_connected',
        elapsed_ns: context.elapsedNs(int(elapsed, 'elapsed')),
        block_hash: hashFromWords([w0, w1, w2, w3]),
        height: small(height, 'height'),
        transactions: int(transactions, 'transactions'),
        inputs: small(inputs, 'inputs'),
        sigops: int(sigops, 'sigops'),
        duration_ns: int(duration, 'duration_ns'),
      }];
    }
    if (kind === 'tick') {
      const [, elapsed, height] = tuple(record.data, 3, kind);
      context.elapsedNs(int(elapsed, 'elapsed'));
      lastHeight = small(height, 'height');
      return [];
    }
    if (kind === 'summary') {
      const [, elapsed, start, end, threshold, firstNs, lastNs] = tuple(record.data, 7, kind);
      const t = totals ?? { blocks: 0n, transactions: 0n, inputs: 0n, sigops: 0n, duration_ns: 0n, printed: 0n };
      const first = BigInt(int(firstNs, 'first_block_ns'));
      const last = BigInt(int(lastNs, 'last_block_ns'));
      const wall = t.blocks > 0n && first > 0n ? last - first : null;
      const elapsedNs = context.elapsedNs(int(elapsed, 'elapsed'));
      const out: ToolDecodedEvent[] = [{
        event: 'validation:connect_summary',
        elapsed_ns: elapsedNs,
        start_height: small(start, 'start'),
        end_height: small(end, 'end'),
        threshold_ms: small(threshold, 'threshold_ms'),
        totals: totalsEvent(t),
        connect_time_ns: toInt64Field(t.duration_ns),
        connect_time_ms: Number(t.duration_ns) / 1e6,
        wall_time_ns: wall === null ? null : toInt64Field(wall),
        wall_time_ms: wall === null ? null : Number(wall) / 1e6,
      }];
      // Printed blocks are the streamed ones: those that never arrived were lost.
      if (!summarized) out.push(...context.reconcile(Number(t.printed)));
      summarized = true;
      return out;
    }
    throw new RecordShapeError(`unknown connectblock-benchmark tuple ${JSON.stringify(kind)}`);
  };
}

/** bpftrace 0.17 `hist()` JSON: [{"min": A, "max": B, "count": N}, ...]; the negative bucket has no min. */
export function histogramBuckets(value: JsonValue): HistogramBucket[] {
  if (!Array.isArray(value)) throw new RecordShapeError('hist without buckets');
  return value.map((bucket, i) => {
    if (!(bucket instanceof JsonObject)) throw new RecordShapeError(`hist bucket ${i} is not an object`);
    const min = bucket.get('min');
    return {
      min: min === undefined ? null : small(min, `bucket ${i} min`),
      max: small(bucket.get('max'), `bucket ${i} max`),
      count: small(bucket.get('count'), `bucket ${i} count`),
    };
  });
}

// ------------------------------------------------------------------ utxocache-flush

export function createUtxocacheFlushDecoder(): ToolRecordDecoder {
  return (record, context) => {
    const kind = tupleKind(record);
    if (kind === null) return null;
    if (kind !== 'flush') throw new RecordShapeError(`unknown utxocache-flush tuple ${JSON.stringify(kind)}`);
    const [, elapsed, duration, mode, count, memory, prune] = tuple(record.data, 7, kind);
    const modeNumber = small(mode, 'mode');
    context.delivered();
    return [{
      event: 'utxocache:flush',
      elapsed_ns: context.elapsedNs(int(elapsed, 'elapsed')),
      duration_us: int(duration, 'duration_us'),
      mode: modeNumber,
      mode_name: FLUSH_MODE_NAMES[modeNumber] ?? `UNKNOWN(${modeNumber})`,
      coins_count: int(count, 'coins_count'),
      coins_mem_usage: int(memory, 'coins_mem_usage'),
      is_flush_for_prune: flag(prune, 'is_flush_for_prune'),
    }];
  };
}

// ------------------------------------------------------------------ utxos

const UTXO_OPERATIONS: readonly UtxoOperation[] = ['add', 'spent', 'uncache'];

function isUtxoOperation(kind: string): kind is UtxoOperation {
  return (UTXO_OPERATIONS as readonly string[]).includes(kind);
}

export function createUtxosDecoder(): ToolRecordDecoder {
  let previous: { counts: Record<UtxoOperation, number>; elapsedNs: number } | null = null;
  return (record, context) => {
    const ops = mapOf(record, '@ops');
    if (ops) {
      const counts = { add: 0, spent: 0, uncache: 0 };
      for (const op of UTXO_OPERATIONS) {
        const v = ops.get(op);
        if (v !== undefined) counts[op] = small(v, `@ops[${op}]`);
      }
      const now = context.lastElapsedNs();
      const sameRun = previous !== null && UTXO_OPERATIONS.every((op) => previous !== null && counts[op] >= previous.counts[op]);
      const intervalNs = sameRun && previous ? now - previous.elapsedNs : 0;
      if (intervalNs <= 0 && sameRun) return []; // the same snapshot again (printed at exit)
      const rate = (op: UtxoOperation): number =>
        sameRun && previous ? perSecond(BigInt(counts[op] - previous.counts[op]), intervalNs) : 0;
      const perSecondCounts = { add: rate('add'), spent: rate('spent'), uncache: rate('uncache') };
      previous = { counts, elapsedNs: now };
      return [{ event: 'utxocache:ops', elapsed_ns: now, counts, interval_ns: intervalNs, per_second: perSecondCounts }];
    }
    const kind = tupleKind(record);
    if (kind === null) return null;
    if (kind === 'ops_tick') {
      const [, elapsed] = tuple(record.data, 2, kind);
      context.elapsedNs(int(elapsed, 'elapsed'));
      return [];
    }
    if (!isUtxoOperation(kind)) throw new RecordShapeError(`unknown utxos tuple ${JSON.stringify(kind)}`);
    const [, elapsed, w0, w1, w2, w3, index, height, value, coinbase] = tuple(record.data, 10, kind);
    const txid = hashFromWords([w0, w1, w2, w3]);
    const outputIndex = small(index, 'index');
    context.delivered();
    return [{
      event: `utxocache:${kind}`,
      elapsed_ns: context.elapsedNs(int(elapsed, 'elapsed')),
      txid,
      index: outputIndex,
      height: small(height, 'height'),
      value: int(value, 'value'),
      is_coinbase: flag(coinbase, 'is_coinbase'),
      outpoint: `${txid}:${outputIndex}`,
    }];
  };
}

// ------------------------------------------------------------------ coin-selection

export function createCoinSelectionDecoder(): ToolRecordDecoder {
  return (record, context) => {
    const kind = tupleKind(record);
    if (kind === null) return null;
    const data = record.data;
    let decoded: BpftraceToolEvent;
    switch (kind) {
      case 'selected_coins': {
        const [, elapsed, wallet, algo, target, waste, selected] = tuple(data, 7, kind);
        decoded = {
          event: 'coin_selection:selected_coins',
          elapsed_ns: context.elapsedNs(int(elapsed, 'elapsed')),
          wallet_name: text(wallet, 'wallet_name'),
          algo: text(algo, 'algo'),
          target: int(target, 'target'),
          waste: int(waste, 'waste'),
          selected_value: int(selected, 'selected_value'),
        };
        break;
      }
      case 'normal_create_tx_internal': {
        const [, elapsed, wallet, success, fee, changePos] = tuple(data, 6, kind);
        decoded = {
          event: 'coin_selection:normal_create_tx_internal',
          elapsed_ns: context.elapsedNs(int(elapsed, 'elapsed')),
          wallet_name: text(wallet, 'wallet_name'),
          success: flag(success, 'success'),
          fee: int(fee, 'fee'),
          change_pos: small(changePos, 'change_pos'),
        };
        break;
      }
      case 'attempting_aps_create_tx': {
        const [, elapsed, wallet] = tuple(data, 3, kind);
        decoded = {
          event: 'coin_selection:attempting_aps_create_tx',
          elapsed_ns: context.elapsedNs(int(elapsed, 'elapsed')),
          wallet_name: text(wallet, 'wallet_name'),
        };
        break;
      }
      case 'aps_create_tx_internal': {
        const [, elapsed, wallet, useAps, success, fee, changePos] = tuple(data, 7, kind);
        decoded = {
          event: 'coin_selection:aps_create_tx_internal',
          elapsed_ns: context.elapsedNs(int(elapsed, 'elapsed')),
          wallet_name: text(wallet, 'wallet_name'),
          use_aps: flag(useAps, 'use_aps'),
          success: flag(success, 'success'),
          fee: int(fee, 'fee'),
          change_pos: small(changePos, 'change_pos'),
        };
        break;
      }
      default:
        throw new RecordShapeError(`unknown coin-selection tuple ${JSON.stringify(kind)}`);
    }
    context.delivered();
    const out: ToolDecodedEvent[] = [decoded, ...context.checkCut('wallet_name', decoded.wallet_name)];
    if (decoded.event === 'coin_selection:selected_coins') out.push(...context.checkCut('algo', decoded.algo));
    return out;
  };
}

// ------------------------------------------------------------------ by tool id

/** Each tool's record decoder; null: the session decoder (BpftraceDecoder) decodes the tool's records itself. */
const FACTORIES: Readonly<Record<ToolId, (() => ToolRecordDecoder) | null>> = {
  'p2p-traffic': null,
  'p2p-monitor': null,
  'p2p-connections': createP2pConnectionsDecoder,
  'connectblock-benchmark': createConnectblockBenchmarkDecoder,
  'utxocache-flush': createUtxocacheFlushDecoder,
  utxos: createUtxosDecoder,
  'coin-selection': createCoinSelectionDecoder,
  'raw-p2p-msgs': () => decodeBccRecord,
  'mempool-monitor': () => decodeBccRecord,
};

/** Tool ids that have a record decoder here. */
export const TOOL_RECORD_DECODER_IDS: readonly ToolId[] = TOOL_IDS.filter((id) => FACTORIES[id] !== null);

/** A fresh (stateful) record decoder for one session of the tool, or undefined for tools decoded elsewhere. */
export function createToolRecordDecoder(toolId: string): ToolRecordDecoder | undefined {
  return isToolId(toolId) ? FACTORIES[toolId]?.() : undefined;
}

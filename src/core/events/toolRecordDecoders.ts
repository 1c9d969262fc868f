// Decoders for the records of the bpftrace tools p2p-connections, connectblock-benchmark, utxocache-flush,
// utxos and coin-selection (probes/<tool>.bt; each script's header documents its records). BpftraceDecoder
// hands them every `value`, `map` and `hist` record first: a decoder returns the events a record produced,
// or null when the record is not its own (`@fired`, which BpftraceDecoder accounts for). A record of its
// own with unexpected contents throws, and BpftraceDecoder reports the line as malformed.

import { JsonObject, type JsonValue } from './bpftraceJson';
import {
  networkName,
  type BlockTotals,
  type BpftraceToolEvent,
  type HistogramBucket,
  type UtxoOperation,
} from './bpftraceToolEventTypes';
import type { Int64Field, NormalizedEvent } from './eventTypes';
import { decodeBccRecord } from './bccDecoder';
import { TOOL_IDS, isToolId, type ToolId } from '../tools/toolManifest';
import { recordsOfTool, type RecordSpec } from './eventSchema';
import { decodeTuple, hashFromWords, isIntegerOfKind } from './tupleDecoder';
import { printedFields, type TraceArgSpec, type TraceValue } from '../trace/traceReadings';

export { hashFromWords };

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
  /** One streamed record arrived, from process `pid` when it says (loss accounting: fired − delivered). */
  delivered(pid?: number): void;
  /**
   * For a tool that streams only some hits (so the kernel's fired counts do not say how many records to
   * expect): its probe says it printed `printed` records in this bpftrace run. Returns a `lost` event for
   * those neither delivered nor reported lost by bpftrace (none when all are accounted for).
   */
  reconcile(printed: number): NormalizedEvent[];
  /** Events to add when `value` reached the probe's string limit (it may have been cut), else none. */
  checkCut(field: string, value: string): NormalizedEvent[];
  /** The `utxocache:flush` mode names of the traced build (they follow its Bitcoin Core version). */
  flushModeNames(): readonly string[];
  /** A generated probe's checked request (the helper's `target` record), null before it or for other tools. */
  traceSpec(): TraceSpec | null;
  /** Like checkCut, for a string read with a limit of its own (`str48`): a value of `limitBytes` may be cut. */
  checkCutAt(field: string, value: string, limitBytes: number): NormalizedEvent[];
}

export interface TraceSpec {
  tracepoint: string;
  args: TraceArgSpec[];
}

export type ToolRecordDecoder = (record: ToolRecord, context: ToolRecordContext) => ToolDecodedEvent[] | null;

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

function tuple(data: JsonValue | undefined, length: number, kind: string): JsonValue[] {
  if (!Array.isArray(data) || data.length !== length) throw new RecordShapeError(`${kind} tuple without ${length} fields`);
  return data;
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

/**
 * The streamed tuple records of a tool, decoded by their field tables (eventSchema.ts): the event (with
 * `derive` adding its derived fields) and the `truncated` events of its cut strings, or null when `kind`
 * has no table.
 */
function schemaTuples<E extends BpftraceToolEvent>(
  tool: ToolId,
  derive: DeriveFields = () => {},
): (kind: string, record: ToolRecord, context: ToolRecordContext) => ToolDecodedEvent[] | null {
  const records: ReadonlyMap<string, RecordSpec> = recordsOfTool(tool);
  return (kind, record, context) => {
    const spec = records.get(kind);
    if (spec === undefined) return null;
    const { event, cuts } = decodeTuple(spec, record.data as JsonValue[], context);
    derive(event, context);
    context.delivered(typeof event.pid === 'number' ? event.pid : undefined);
    return [event as unknown as E, ...cuts];
  };
}

/** The decoder of a tool whose records are all tuples in the event schema. */
/** Adds a record's derived fields (eventSchema.ts `derived`) from its printed ones and the session's context. */
type DeriveFields = (fields: Record<string, unknown>, context: ToolRecordContext) => void;

export function schemaDecoder(tool: ToolId, derive?: DeriveFields): () => ToolRecordDecoder {
  return () => {
    const tuples = schemaTuples(tool, derive);
    return (record, context) => {
      const kind = tupleKind(record);
      if (kind === null) return null;
      const events = tuples(kind, record, context);
      if (events === null) throw new RecordShapeError(`unknown ${tool} tuple ${JSON.stringify(kind)}`);
      return events;
    };
  };
}

// ------------------------------------------------------------------ p2p-connections

export const createP2pConnectionsDecoder = schemaDecoder('p2p-connections', (e) => {
  e.network_name = networkName(e.network as number);
});

// ------------------------------------------------------------------ connectblock-benchmark

const OWN_SCALAR_MAPS = ['@connect_us', '@first_block_ns', '@last_block_ns', '@last_height'];
const TOTAL_KEYS = ['blocks', 'transactions', 'inputs', 'sigops', 'duration_ns', 'printed'] as const;
type TotalKey = (typeof TOTAL_KEYS)[number];

export function createConnectblockBenchmarkDecoder(): ToolRecordDecoder {
  const blocks = schemaTuples('connectblock-benchmark');
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
    const block = blocks(kind, record, context);
    if (block !== null) return block;
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

export const createUtxocacheFlushDecoder = schemaDecoder('utxocache-flush', (e, context) => {
  const mode = e.mode as number;
  e.mode_name = context.flushModeNames()[mode] ?? `UNKNOWN(${mode})`;
});

// ------------------------------------------------------------------ utxos

const UTXO_OPERATIONS: readonly UtxoOperation[] = ['add', 'spent', 'uncache'];

export function createUtxosDecoder(): ToolRecordDecoder {
  const coins = schemaTuples('utxos', (e) => {
    e.outpoint = `${e.txid as string}:${e.index as number}`;
  });
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
    const coin = coins(kind, record, context);
    if (coin === null) throw new RecordShapeError(`unknown utxos tuple ${JSON.stringify(kind)}`);
    return coin;
  };
}

// ------------------------------------------------------------------ coin-selection

export const createCoinSelectionDecoder = schemaDecoder('coin-selection');

// ------------------------------------------------------------------ trace-tracepoint

const INTEGER_RANGES: Readonly<Record<string, readonly [bigint, bigint]>> = {
  u8: [0n, 255n], s8: [-128n, 127n], u16: [0n, 65535n], s16: [-32768n, 32767n],
  u32: [0n, 4294967295n], s32: [-2147483648n, 2147483647n],
  u64: [0n, 18446744073709551615n], s64: [-9223372036854775808n, 9223372036854775807n],
};

/** Little-endian 64-bit words, then single bytes → lowercase hex of the bytes in memory order. */
function hexFromFields(fields: readonly JsonValue[], bytes: number): string {
  let hex = '';
  const words = Math.floor(bytes / 8);
  for (const [i, v] of fields.entries()) {
    if (!isIntegerOfKind(v, 'u64')) throw new RecordShapeError(`hex field ${i} is not an integer`);
    let value = BigInt(v);
    if (value < 0n) value += 1n << 64n;
    const width = i < words ? 8 : 1;
    if (value < 0n || value >= 1n << BigInt(8 * width)) throw new RecordShapeError(`hex field ${i} out of range`);
    for (let b = 0; b < width; b++) hex += Number((value >> BigInt(8 * b)) & 0xffn).toString(16).padStart(2, '0');
  }
  return hex;
}

/**
 * trace-tracepoint's records: `["hit", elapsed, …]` with each argument's printed values in the order of the
 * checked spec the helper sent in its `target` record (probes/bitcoin-usdt-helper.py, `reading_expressions`).
 */
export function createTraceTracepointDecoder(): ToolRecordDecoder {
  return (record, context) => {
    const kind = tupleKind(record);
    if (kind === null) return null;
    if (kind !== 'hit') throw new RecordShapeError(`unknown trace-tracepoint tuple ${JSON.stringify(kind)}`);
    const spec = context.traceSpec();
    if (spec === null) throw new RecordShapeError('a trace-tracepoint hit before the helper said what it reads');
    const data = record.data as JsonValue[];
    const expected = 2 + spec.args.reduce((n, arg) => n + printedFields(arg), 0);
    if (data.length !== expected) throw new RecordShapeError(`hit with ${data.length} fields instead of ${expected}`);
    const elapsedNs = context.elapsedNs(int(data[1], 'elapsed'));
    const values: TraceValue[] = [];
    const cuts: ToolDecodedEvent[] = [];
    let i = 2;
    for (const arg of spec.args) {
      const fields = data.slice(i, i + printedFields(arg));
      i += fields.length;
      switch (arg.kind) {
        case 'skip':
          values.push(null);
          break;
        case 'str': {
          const text = fields[0];
          if (typeof text !== 'string') throw new RecordShapeError(`arg${arg.index} is not a string`);
          values.push(text);
          cuts.push(...context.checkCutAt(`arg${arg.index}`, text, arg.bytes));
          break;
        }
        case 'hash':
          values.push(hashFromWords(fields));
          break;
        case 'hex':
          values.push(hexFromFields(fields, arg.bytes));
          break;
        default: {
          const v = int(fields[0], `arg${arg.index}`);
          const [min, max] = INTEGER_RANGES[arg.kind];
          if (BigInt(v) < min || BigInt(v) > max) throw new RecordShapeError(`arg${arg.index} out of the ${arg.kind} range`);
          values.push(v);
        }
      }
    }
    context.delivered();
    return [{ event: 'tracepoint:hit', elapsed_ns: elapsedNs, tracepoint: spec.tracepoint, args: values }, ...cuts];
  };
}

// ------------------------------------------------------------------ by tool id

/** Each tool's record decoder; null: the session decoder (BpftraceDecoder) decodes the tool's records itself. */
/**
 * The tools whose records need more than their field tables (derived fields, kernel maps, histograms), or that
 * are decoded elsewhere (null: inside BpftraceDecoder). Any other tool whose records all have tables in
 * eventSchema.ts is decoded by them alone (`schemaDecoder(tool)`).
 */
const FACTORIES: Readonly<Partial<Record<ToolId, (() => ToolRecordDecoder) | null>>> = {
  'p2p-traffic': null,
  'p2p-monitor': null,
  'p2p-connections': createP2pConnectionsDecoder,
  'connectblock-benchmark': createConnectblockBenchmarkDecoder,
  'utxocache-flush': createUtxocacheFlushDecoder,
  utxos: createUtxosDecoder,
  'coin-selection': createCoinSelectionDecoder,
  'raw-p2p-msgs': () => decodeBccRecord,
  'mempool-monitor': () => decodeBccRecord,
  'trace-tracepoint': createTraceTracepointDecoder,
};

function factoryOf(tool: ToolId): (() => ToolRecordDecoder) | null {
  const own = FACTORIES[tool];
  if (own !== undefined) return own;
  return recordsOfTool(tool).size > 0 ? schemaDecoder(tool) : null;
}

/** Tool ids that have a record decoder here. */
export const TOOL_RECORD_DECODER_IDS: readonly ToolId[] = TOOL_IDS.filter((id) => factoryOf(id) !== null);

/** A fresh (stateful) record decoder for one session of the tool, or undefined for tools decoded elsewhere. */
export function createToolRecordDecoder(toolId: string): ToolRecordDecoder | undefined {
  return isToolId(toolId) ? factoryOf(toolId)?.() : undefined;
}

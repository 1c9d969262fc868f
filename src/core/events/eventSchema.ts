// The field table of every tuple record a probe prints: bpftrace's `print((tag, elapsed, …))` and the BCC
// programs' `["provider:name", elapsed_ns, …]`. From this one table come the tuple decoder
// (tupleDecoder.ts), the event types (`SchemaEvent`), the runtime validator at the boundaries (decoder
// output and recording reader: eventValidator.ts) and the field tables in docs/events.md
// (scripts/generate-event-docs.ts; test/unit/eventSchema.test.ts keeps the doc and the probes in step).
//
// A new field: add it here in the probe's print order, print it in the probe; the decoder, the type, the
// validator and the doc follow. See docs/architecture.md, "Event schema".

import type { Int64Field } from './eventTypes';
import type { ToolId } from '../tools/toolManifest';

/**
 * What a field holds, and how it arrives:
 * - `u64`, `i64`: 64-bit integers as `Int64Field` (a JSON number when safe, else its decimal string);
 * - `u32`, `i32`: 32-bit integers, JSON numbers;
 * - `bool`: bpftrace prints 0 or 1 (`(uint8)`), BCC prints `true`/`false`; the event has a boolean;
 * - `string`: untrusted text, at most `limit − 1` bytes (the probe's buffer, NUL included);
 * - `hash`: 32 bytes shown as 64 lowercase hex digits in display order; bpftrace prints the four
 *   little-endian 64-bit words of the internal order, BCC the hex;
 * - `hex`: lowercase hex of bytes, as many as the field named by `countField`.
 */
export type FieldKind = 'u64' | 'i64' | 'u32' | 'i32' | 'bool' | 'string' | 'hash' | 'hex';

export interface FieldSpec {
  readonly name: string;
  readonly kind: FieldKind;
  /** Units and meaning, for docs/events.md. */
  readonly doc: string;
  /** `string`: the probe's buffer in bytes, NUL included: a value of `limit − 1` bytes may have been cut. */
  readonly limit?: number;
  /** `string` printed in this many parts of 71 bytes (bpftrace's string limit), joined by the decoder. */
  readonly parts?: number;
  /** `hex`: the integer field that holds the byte count (and `sizeField`: the size it may not exceed). */
  readonly countField?: string;
  readonly sizeField?: string;
  /** `hex`: at most this many bytes. */
  readonly maxBytes?: number;
  /** Not printed by the probe: computed by the tool's decoder from the printed fields. */
  readonly derived?: boolean;
  /** Printed by the probe from its context (bpftrace's `comm`, `tid`, …), not from a tracepoint argument. */
  readonly context?: boolean;
  /**
   * Added after recordings of the record existed: the decoder always sets it, but a recording may lack it
   * (the event type has it optional; docs/events.md: new optional fields keep the recording version).
   */
  readonly optional?: boolean;
  /** Builds that do not pass this argument print null (BCC), and the event holds null. */
  readonly nullable?: boolean;
}

export interface RecordSpec {
  /** The normalized event this record becomes. */
  readonly event: string;
  /** The tuple's first element (bpftrace: a short tag; BCC: the event name). */
  readonly tag: string;
  readonly tool: ToolId;
  readonly frontEnd: 'bpftrace' | 'bcc';
  /** What one record means, for docs/events.md. */
  readonly doc: string;
  /** The printed fields after the tag and `elapsed`, in print order, then the derived ones. */
  readonly fields: readonly FieldSpec[];
}

/** bpftrace runs with BPFTRACE_STRLEN=72 (71 bytes of text and the NUL). */
export const BPFTRACE_STRING_BUFFER = 72;
/** The largest message raw-p2p-msgs captures whole (Bitcoin Core's MAX_PROTOCOL_MESSAGE_LENGTH). */
export const RAW_MAX_CAPTURE_BYTES = 4_000_000;

const S = BPFTRACE_STRING_BUFFER;

/**
 * The process that hit the tracepoint (bpftrace's `pid` builtin: the bitcoind's process id), printed right
 * after `elapsed` by every bpftrace tool so that a session over every bitcoind of a build tells the nodes
 * apart (the helper's `node` events name each pid). Absent in recordings made before it existed.
 */
const PID = { name: 'pid', kind: 'u32', context: true, optional: true, doc: 'the bitcoind process that hit the tracepoint (see the `node` event)' } as const;
const PEER_ID = { name: 'peer_id', kind: 'i64', doc: 'the peer id' } as const;
const MESSAGE_FIELDS = [
  PID,
  PEER_ID,
  { name: 'peer_addr', kind: 'string', limit: S, doc: 'address:port (untrusted text)' },
  { name: 'conn_type', kind: 'string', limit: S, doc: 'connection type (`inbound`, `outbound-full-relay`, …)' },
  { name: 'msg_type', kind: 'string', limit: S, doc: 'message type (`inv`, `tx`, …; untrusted text)' },
  { name: 'msg_size', kind: 'u64', doc: 'payload size, bytes' },
] as const;
const BCC_MESSAGE_FIELDS = [
  PEER_ID,
  { name: 'peer_addr', kind: 'string', limit: 128, doc: 'address:port (untrusted text)' },
  { name: 'conn_type', kind: 'string', limit: 32, doc: 'connection type' },
  { name: 'msg_type', kind: 'string', limit: 32, doc: 'message type (untrusted text)' },
  { name: 'msg_size', kind: 'u64', doc: 'payload size, bytes' },
  { name: 'captured', kind: 'u32', doc: 'bytes of the payload in `msg` (less than `msg_size` when cut: a `truncated` event for `msg` follows)' },
  { name: 'msg', kind: 'hex', countField: 'captured', sizeField: 'msg_size', maxBytes: RAW_MAX_CAPTURE_BYTES, doc: 'the payload, lowercase hex, whole up to 4,000,000 bytes' },
] as const;
const CONNECTION_FIELDS = [
  PID,
  PEER_ID,
  { name: 'peer_addr', kind: 'string', limit: S, doc: 'address:port (untrusted text)' },
  { name: 'conn_type', kind: 'string', limit: S, doc: 'connection type' },
  { name: 'network', kind: 'u32', doc: 'network id 0–5' },
] as const;
const NETWORK_NAME = { name: 'network_name', kind: 'string', derived: true, doc: '`unroutable` (0, also localhost), `ipv4`, `ipv6`, `onion`, `i2p`, `cjdns` (5), or `unknown(<n>)`' } as const;
const EXISTING = { name: 'existing', kind: 'u64', doc: 'open connections of that direction, this one included' } as const;
const TIME_ESTABLISHED = { name: 'time_established', kind: 'u64', doc: 'when the connection was opened, UNIX seconds' } as const;
const COIN_FIELDS = [
  PID,
  { name: 'txid', kind: 'hash', doc: 'the coin\'s transaction, display order' },
  { name: 'index', kind: 'u32', doc: 'output index' },
  { name: 'height', kind: 'i32', doc: 'block height of the coin' },
  { name: 'value', kind: 'i64', doc: 'satoshis' },
  { name: 'is_coinbase', kind: 'bool', doc: 'a coinbase output' },
  { name: 'outpoint', kind: 'string', derived: true, doc: '`<txid>:<index>`' },
] as const;
const WALLET = { name: 'wallet_name', kind: 'string', limit: S, doc: 'the wallet (`""`: the default wallet; untrusted text)' } as const;
const FEE = { name: 'fee', kind: 'i64', doc: 'satoshis' } as const;
const CHANGE_POS = { name: 'change_pos', kind: 'i32', doc: 'change output position (−1: none)' } as const;
const TXID = { name: 'txid', kind: 'hash', doc: 'display order' } as const;
const VSIZE = { name: 'vsize', kind: 'i32', doc: 'virtual size, vbytes' } as const;
const ENTRY_TIME = { name: 'entry_time', kind: 'i64', doc: 'when it entered, UNIX seconds' } as const;
const REMOVAL_REASON_DOC = '`expiry`, `sizelimit`, `reorg`, `block`, `conflict`, `replaced`, … (untrusted text)';
/** Arguments 0–5 of mempool:replaced: the replaced transaction and the replacement's id and size. */
const REPLACED_FIELDS = [
  { name: 'replaced_txid', kind: 'hash', doc: 'display order' },
  { name: 'replaced_vsize', kind: 'i32', doc: 'vbytes' },
  { name: 'replaced_fee', kind: 'i64', doc: 'satoshis' },
  { name: 'replaced_entry_time', kind: 'i64', doc: 'UNIX seconds' },
  { name: 'replacement_id', kind: 'hash', doc: 'txid of the replacement, or the package hash when a package replaced it (`replaced_by_transaction` false)' },
  { name: 'replacement_vsize', kind: 'i32', doc: 'vbytes' },
] as const;

export const RECORD_SPECS = [
  // ------------------------------------------------------------ p2p-traffic
  { event: 'net:inbound_message', tag: 'in', tool: 'p2p-traffic', frontEnd: 'bpftrace', doc: 'a P2P message received', fields: MESSAGE_FIELDS },
  { event: 'net:outbound_message', tag: 'out', tool: 'p2p-traffic', frontEnd: 'bpftrace', doc: 'a P2P message sent', fields: MESSAGE_FIELDS },
  // ------------------------------------------------------------ raw-p2p-msgs
  { event: 'net:inbound_message', tag: 'net:inbound_message', tool: 'raw-p2p-msgs', frontEnd: 'bcc', doc: 'a P2P message received, with its bytes', fields: BCC_MESSAGE_FIELDS },
  { event: 'net:outbound_message', tag: 'net:outbound_message', tool: 'raw-p2p-msgs', frontEnd: 'bcc', doc: 'a P2P message sent, with its bytes', fields: BCC_MESSAGE_FIELDS },
  // ------------------------------------------------------------ p2p-connections
  { event: 'net:inbound_connection', tag: 'inbound_connection', tool: 'p2p-connections', frontEnd: 'bpftrace', doc: 'an inbound connection opened', fields: [...CONNECTION_FIELDS, EXISTING, NETWORK_NAME] },
  { event: 'net:outbound_connection', tag: 'outbound_connection', tool: 'p2p-connections', frontEnd: 'bpftrace', doc: 'an outbound connection opened', fields: [...CONNECTION_FIELDS, EXISTING, NETWORK_NAME] },
  { event: 'net:evicted_inbound_connection', tag: 'evicted_inbound_connection', tool: 'p2p-connections', frontEnd: 'bpftrace', doc: 'an inbound connection was evicted', fields: [...CONNECTION_FIELDS, TIME_ESTABLISHED, NETWORK_NAME] },
  { event: 'net:closed_connection', tag: 'closed_connection', tool: 'p2p-connections', frontEnd: 'bpftrace', doc: 'a connection closed', fields: [...CONNECTION_FIELDS, TIME_ESTABLISHED, NETWORK_NAME] },
  {
    event: 'net:misbehaving_connection', tag: 'misbehaving_connection', tool: 'p2p-connections', frontEnd: 'bpftrace', doc: 'a peer misbehaved',
    fields: [PID, PEER_ID, { name: 'message', kind: 'string', limit: 2 * (S - 1) + 1, parts: 2, doc: 'Bitcoin Core\'s reason (≤ 128 bytes, read whole up to 142)' }],
  },
  // ------------------------------------------------------------ connectblock-benchmark
  {
    event: 'validation:block_connected', tag: 'block', tool: 'connectblock-benchmark', frontEnd: 'bpftrace', doc: 'one block slower than `threshold_ms` (every block with threshold 0)',
    fields: [
      PID,
      { name: 'block_hash', kind: 'hash', doc: 'display order' },
      { name: 'height', kind: 'i32', doc: 'block height' },
      { name: 'transactions', kind: 'u64', doc: 'transactions in the block' },
      { name: 'inputs', kind: 'i32', doc: 'inputs spent' },
      { name: 'sigops', kind: 'i64', doc: 'signature operations, without the coinbase' },
      { name: 'duration_ns', kind: 'i64', doc: 'ConnectBlock time, **nanoseconds**' },
    ],
  },
  // ------------------------------------------------------------ utxocache-flush
  {
    event: 'utxocache:flush', tag: 'flush', tool: 'utxocache-flush', frontEnd: 'bpftrace', doc: 'one flush of the coins cache to disk',
    fields: [
      PID,
      { name: 'duration_us', kind: 'i64', doc: '**microseconds**' },
      { name: 'mode', kind: 'u32', doc: 'flush mode 0–4' },
      { name: 'coins_count', kind: 'u64', doc: 'coins flushed' },
      { name: 'coins_mem_usage', kind: 'u64', doc: 'memory of the coins flushed, **bytes**' },
      { name: 'is_flush_for_prune', kind: 'bool', doc: 'flushed to prune' },
      { name: 'thread', kind: 'string', limit: 16, context: true, optional: true, doc: 'the bitcoind thread that flushed (`b-scheduler`: periodic; `b-msghand`, `bitcoin-init`, `bitcoin-shutoff`, …)' },
      { name: 'mode_name', kind: 'string', derived: true, doc: '`NONE` (0), `IF_NEEDED`, `PERIODIC`, `ALWAYS`, `FORCE_SYNC` (4), or `UNKNOWN(<n>)`' },
    ],
  },
  // ------------------------------------------------------------ utxos
  { event: 'utxocache:add', tag: 'add', tool: 'utxos', frontEnd: 'bpftrace', doc: 'a coin added to the cache', fields: COIN_FIELDS },
  { event: 'utxocache:spent', tag: 'spent', tool: 'utxos', frontEnd: 'bpftrace', doc: 'a coin spent from the cache', fields: COIN_FIELDS },
  { event: 'utxocache:uncache', tag: 'uncache', tool: 'utxos', frontEnd: 'bpftrace', doc: 'a coin dropped from the cache (also for temporary cache copies)', fields: COIN_FIELDS },
  // ------------------------------------------------------------ coin-selection
  {
    event: 'coin_selection:selected_coins', tag: 'selected_coins', tool: 'coin-selection', frontEnd: 'bpftrace', doc: 'coins were selected for a transaction',
    fields: [
      PID,
      WALLET,
      { name: 'algo', kind: 'string', limit: S, doc: '`bnb`, `knapsack`, `srd`, `CoinGrinder`, …' },
      { name: 'target', kind: 'i64', doc: 'target amount, satoshis' },
      { name: 'waste', kind: 'i64', doc: 'waste metric, satoshis' },
      { name: 'selected_value', kind: 'i64', doc: 'value selected, satoshis' },
    ],
  },
  {
    event: 'coin_selection:normal_create_tx_internal', tag: 'normal_create_tx_internal', tool: 'coin-selection', frontEnd: 'bpftrace', doc: 'the normal transaction creation finished',
    fields: [PID, WALLET, { name: 'success', kind: 'bool', doc: 'a transaction was created' }, FEE, CHANGE_POS],
  },
  { event: 'coin_selection:attempting_aps_create_tx', tag: 'attempting_aps_create_tx', tool: 'coin-selection', frontEnd: 'bpftrace', doc: 'the wallet tries again with avoid-partial-spends', fields: [PID, WALLET] },
  {
    event: 'coin_selection:aps_create_tx_internal', tag: 'aps_create_tx_internal', tool: 'coin-selection', frontEnd: 'bpftrace', doc: 'the avoid-partial-spends attempt finished',
    fields: [PID, WALLET, { name: 'use_aps', kind: 'bool', doc: 'the APS transaction is used' }, { name: 'success', kind: 'bool', doc: 'a transaction was created' }, FEE, CHANGE_POS],
  },
  // ------------------------------------------------------------ mempool-monitor
  { event: 'mempool:added', tag: 'mempool:added', tool: 'mempool-monitor', frontEnd: 'bcc', doc: 'a transaction entered the mempool', fields: [TXID, VSIZE, FEE] },
  {
    event: 'mempool:removed', tag: 'mempool:removed', tool: 'mempool-monitor', frontEnd: 'bcc', doc: 'a transaction left the mempool',
    fields: [
      TXID,
      { name: 'reason', kind: 'string', limit: 32, doc: REMOVAL_REASON_DOC },
      VSIZE, FEE, ENTRY_TIME,
    ],
  },
  {
    event: 'mempool:replaced', tag: 'mempool:replaced', tool: 'mempool-monitor', frontEnd: 'bcc', doc: 'a transaction was replaced (8 arguments since v29, 7 before)',
    fields: [
      ...REPLACED_FIELDS,
      { name: 'replacement_fee', kind: 'i64', doc: 'satoshis' },
      { name: 'replaced_by_transaction', kind: 'bool', nullable: true, doc: 'replaced by a transaction (not a package); null from a 7-argument (pre-v29) build' },
    ],
  },
  {
    event: 'mempool:rejected', tag: 'mempool:rejected', tool: 'mempool-monitor', frontEnd: 'bcc', doc: 'a transaction was rejected',
    fields: [TXID, { name: 'reason', kind: 'string', limit: 128, doc: 'the reason (untrusted text)' }],
  },
  // ------------------------------------------------------------ mempool-events (bpftrace: arg0–arg5 of mempool:replaced)
  { event: 'mempool:added', tag: 'added', tool: 'mempool-events', frontEnd: 'bpftrace', doc: 'a transaction entered the mempool', fields: [PID, TXID, VSIZE, FEE] },
  {
    event: 'mempool:removed', tag: 'removed', tool: 'mempool-events', frontEnd: 'bpftrace', doc: 'a transaction left the mempool',
    fields: [
      PID, TXID,
      { name: 'reason', kind: 'string', limit: S, doc: REMOVAL_REASON_DOC },
      VSIZE, FEE, ENTRY_TIME,
    ],
  },
  {
    event: 'mempool:replaced', tag: 'replaced', tool: 'mempool-events', frontEnd: 'bpftrace', doc: 'a transaction was replaced (arguments 0–5: the replacement\'s fee and `replaced_by_transaction` need mempool-monitor)',
    fields: [PID, ...REPLACED_FIELDS],
  },
  {
    event: 'mempool:rejected', tag: 'rejected', tool: 'mempool-events', frontEnd: 'bpftrace', doc: 'a transaction was rejected',
    fields: [PID, TXID, { name: 'reason', kind: 'string', limit: 2 * (S - 1) + 1, parts: 2, doc: 'the reason (≤ 118 bytes, read whole up to 142; untrusted text)' }],
  },
] as const satisfies readonly RecordSpec[];

// ------------------------------------------------------------------ types derived from the table

type KindValue<K extends FieldKind> = K extends 'u64' | 'i64' ? Int64Field : K extends 'u32' | 'i32' ? number : K extends 'bool' ? boolean : string;

type Simplify<T> = { [K in keyof T]: T[K] } & {};

type ValueOf<E extends FieldSpec> = E extends { nullable: true } ? KindValue<E['kind']> | null : KindValue<E['kind']>;

type FieldsOf<F extends readonly FieldSpec[]> = { [E in F[number] as E extends { optional: true } ? never : E['name']]: ValueOf<E> } & {
  [E in F[number] as E extends { optional: true } ? E['name'] : never]?: ValueOf<E>;
};

type RecordOf<Tool extends ToolId, Event extends string> = Extract<(typeof RECORD_SPECS)[number], { tool: Tool; event: Event }>;

/** The event a record of `Tool` with event name `Event` decodes to (a union when `Event` is one). */
export type SchemaEvent<Tool extends ToolId, Event extends string> = Event extends string
  ? Simplify<{ event: Event; elapsed_ns?: number } & FieldsOf<RecordOf<Tool, Event>['fields']>>
  : never;

/** Every event decoded from a tuple record. */
export type TupleEvent = {
  [I in keyof typeof RECORD_SPECS]: (typeof RECORD_SPECS)[I] extends RecordSpec
    ? SchemaEvent<(typeof RECORD_SPECS)[I]['tool'], (typeof RECORD_SPECS)[I]['event']>
    : never;
}[number];

// ------------------------------------------------------------------ lookups

/** Elements a field takes in the printed tuple. */
export function tupleWidth(field: FieldSpec, frontEnd: RecordSpec['frontEnd']): number {
  if (field.derived) return 0;
  if (field.kind === 'hash') return frontEnd === 'bpftrace' ? 4 : 1;
  return field.parts ?? 1;
}

/** Elements of a record's tuple: the tag, `elapsed` and the printed fields. */
export function tupleLength(spec: RecordSpec): number {
  return 2 + spec.fields.reduce((n, f) => n + tupleWidth(f, spec.frontEnd), 0);
}

/** The record specs of one tool, by tuple tag. */
export function recordsOfTool(tool: ToolId): ReadonlyMap<string, RecordSpec> {
  return new Map((RECORD_SPECS as readonly RecordSpec[]).filter((r) => r.tool === tool).map((r) => [r.tag, r]));
}

/** The record specs of one tool, by event name (a tool prints each event in one record), in schema order. */
export function recordsOfToolByEvent(tool: ToolId): ReadonlyMap<string, RecordSpec> {
  return new Map([...recordsOfTool(tool).values()].map((r) => [r.event, r]));
}

/** Fields of an event that are not tracepoint arguments (derived, or from the probe's context). */
export function nonArgumentFields(): ReadonlySet<string> {
  return new Set((RECORD_SPECS as readonly RecordSpec[]).flatMap((r) => r.fields.filter((f) => f.derived || f.context).map((f) => f.name)));
}

/** Fields of each event name over all tools (an event printed by two tools has both tools' fields). */
export function fieldsByEvent(): ReadonlyMap<string, readonly RecordSpec[]> {
  const out = new Map<string, RecordSpec[]>();
  for (const spec of RECORD_SPECS as readonly RecordSpec[]) out.set(spec.event, [...(out.get(spec.event) ?? []), spec]);
  return out;
}

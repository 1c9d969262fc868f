// Events of the bpftrace tools p2p-connections, connectblock-benchmark, utxocache-flush, utxos and
// coin-selection (decoded by toolRecordDecoders.ts). Same conventions as eventTypes.ts. The events of tuple
// records are derived from their field tables in eventSchema.ts; the kernel-side aggregates are declared here.

import type { SchemaEvent } from './eventSchema';
import type { Int64Field } from './eventTypes';
import type { TraceArgSpec, TraceValue } from '../trace/traceReadings';

interface ToolEventBase {
  /** Nanoseconds since the probe session started (bpftrace `elapsed`). */
  elapsed_ns?: number;
}

// ---------------------------------------------------------------- p2p-connections

/** Bitcoin Core's network ids 0..5, in order. */
export const NETWORK_NAMES = ['unroutable', 'ipv4', 'ipv6', 'onion', 'i2p', 'cjdns'] as const;
/** The same networks as getpeerinfo's `network` names them (Bitcoin Core's GetNetworkName), in the same order. */
const PEERINFO_NETWORK_NAMES: readonly string[] = ['not_publicly_routable', 'ipv4', 'ipv6', 'onion', 'i2p', 'cjdns'];

/** The name of a tracepoint's network id. */
export function networkName(network: number): string {
  return (NETWORK_NAMES as readonly string[])[network] ?? `unknown(${network})`;
}

/** getpeerinfo's `network` in the tracepoint's naming (a name it does not know, e.g. `internal`, as it is). */
export function networkNameOfPeerInfo(name: string): string {
  const id = PEERINFO_NETWORK_NAMES.indexOf(name);
  return id < 0 ? name : NETWORK_NAMES[id];
}

export type NetConnectionOpenedEvent = SchemaEvent<'p2p-connections', 'net:inbound_connection' | 'net:outbound_connection'>;
export type NetConnectionEndedEvent = SchemaEvent<'p2p-connections', 'net:evicted_inbound_connection' | 'net:closed_connection'>;
export type NetMisbehavingEvent = SchemaEvent<'p2p-connections', 'net:misbehaving_connection'>;

// ---------------------------------------------------------------- connectblock-benchmark

export type BlockConnectedEvent = SchemaEvent<'connectblock-benchmark', 'validation:block_connected'>;

/** Cumulative sums over the blocks counted since attach (start ≤ height ≤ end), from the kernel. */
export interface BlockTotals {
  blocks: number;
  transactions: Int64Field;
  inputs: Int64Field;
  sigops: Int64Field;
  duration_ns: Int64Field;
  /** Blocks over the threshold, streamed as `validation:block_connected`. */
  printed: number;
}

/** Once a second: what connected in the last interval, per second, and the totals so far. */
export interface BlockRatesEvent extends ToolEventBase {
  event: 'validation:block_rates';
  /** Length of the interval the rates cover; 0 for the first snapshot of a run (rates are then 0). */
  interval_ns: number;
  blocks_per_s: number;
  transactions_per_s: number;
  inputs_per_s: number;
  sigops_per_s: number;
  /** Height of the last counted block (null before the first). */
  height: number | null;
  totals: BlockTotals;
}

/** One power-of-2 bucket of a bpftrace `hist()`: values min..max inclusive. */
export interface HistogramBucket {
  /** null for bpftrace's bucket of negative values, which has no lower bound. */
  min: number | null;
  max: number;
  count: number;
}

/** Connect times of the counted blocks so far (cumulative), in microseconds. */
export interface ConnectHistogramEvent extends ToolEventBase {
  event: 'validation:connect_histogram';
  unit: 'us';
  buckets: HistogramBucket[];
}

/** The end of a benchmark (bpftrace exited: END height reached, process gone, or stopped). */
export interface ConnectSummaryEvent extends ToolEventBase {
  event: 'validation:connect_summary';
  start_height: number;
  /** 0: no end height. */
  end_height: number;
  threshold_ms: number;
  totals: BlockTotals;
  /** Sum of the counted blocks' connect times. */
  connect_time_ns: Int64Field;
  connect_time_ms: number;
  /** From the first counted block's tracepoint to the last one's (null when no block was counted). */
  wall_time_ns: Int64Field | null;
  wall_time_ms: number | null;
}

// ---------------------------------------------------------------- utxocache-flush

export type UtxoCacheFlushEvent = SchemaEvent<'utxocache-flush', 'utxocache:flush'>;

// ---------------------------------------------------------------- utxos

export type UtxoOperation = 'add' | 'spent' | 'uncache';

export type UtxoCoinEvent = SchemaEvent<'utxos', 'utxocache:add' | 'utxocache:spent' | 'utxocache:uncache'>;

/** Once a second: operations counted in the kernel (exact at any rate), cumulative, and per second. */
export interface UtxoOpsEvent extends ToolEventBase {
  event: 'utxocache:ops';
  counts: Record<UtxoOperation, number>;
  /** Length of the interval the rates cover; 0 for the first snapshot of a run (rates are then 0). */
  interval_ns: number;
  per_second: Record<UtxoOperation, number>;
}

// ---------------------------------------------------------------- coin-selection

export type CoinSelectedEvent = SchemaEvent<'coin-selection', 'coin_selection:selected_coins'>;
export type NormalCreateTxEvent = SchemaEvent<'coin-selection', 'coin_selection:normal_create_tx_internal'>;
export type AttemptingApsCreateTxEvent = SchemaEvent<'coin-selection', 'coin_selection:attempting_aps_create_tx'>;
export type ApsCreateTxEvent = SchemaEvent<'coin-selection', 'coin_selection:aps_create_tx_internal'>;

// ---------------------------------------------------------------- trace-tracepoint (generated probes)

/** What a trace-tracepoint session reads: the tracepoint and each argument's reading, as the helper checked them. */
export interface TracepointSpecEvent extends ToolEventBase {
  event: 'tracepoint:spec';
  tracepoint: string;
  args: TraceArgSpec[];
}

/** One hit of the traced tracepoint: one value per argument, in the reading of the spec (null: not read). */
export interface TracepointHitEvent extends ToolEventBase {
  event: 'tracepoint:hit';
  elapsed_ns: number;
  tracepoint: string;
  args: TraceValue[];
}

/** To be merged into eventTypes.ts's NormalizedEvent union. */
export type BpftraceToolEvent =
  | NetConnectionOpenedEvent
  | NetConnectionEndedEvent
  | NetMisbehavingEvent
  | BlockConnectedEvent
  | BlockRatesEvent
  | ConnectHistogramEvent
  | ConnectSummaryEvent
  | UtxoCacheFlushEvent
  | UtxoCoinEvent
  | UtxoOpsEvent
  | CoinSelectedEvent
  | NormalCreateTxEvent
  | AttemptingApsCreateTxEvent
  | ApsCreateTxEvent
  | TracepointSpecEvent
  | TracepointHitEvent;

// Events of the bpftrace tools p2p-connections, connectblock-benchmark, utxocache-flush, utxos and
// coin-selection (decoded by toolRecordDecoders.ts). Same conventions as eventTypes.ts: field names from
// shared/docs/tracepoints.md, 64-bit integers as `Int64Field`, hashes as 64 hex digits in display order.

import type { Int64Field } from './eventTypes';

interface ToolEventBase {
  /** Nanoseconds since the probe session started (bpftrace `elapsed`). */
  elapsed_ns?: number;
}

// ---------------------------------------------------------------- p2p-connections

/** Bitcoin Core's network ids 0..5, in order. */
export const NETWORK_NAMES = ['unroutable', 'ipv4', 'ipv6', 'onion', 'i2p', 'cjdns'] as const;

export interface NetConnectionOpenedEvent extends ToolEventBase {
  event: 'net:inbound_connection' | 'net:outbound_connection';
  peer_id: Int64Field;
  peer_addr: string;
  conn_type: string;
  network: number;
  /** `NETWORK_NAMES[network]`, or `unknown(<n>)`. */
  network_name: string;
  /** Open connections of that direction, this one included. */
  existing: Int64Field;
}

export interface NetConnectionEndedEvent extends ToolEventBase {
  event: 'net:evicted_inbound_connection' | 'net:closed_connection';
  peer_id: Int64Field;
  peer_addr: string;
  conn_type: string;
  network: number;
  network_name: string;
  /** When the connection was established, UNIX seconds. */
  time_established: Int64Field;
}

export interface NetMisbehavingEvent extends ToolEventBase {
  event: 'net:misbehaving_connection';
  peer_id: Int64Field;
  /** The reason (≤ 128 bytes in Bitcoin Core; read whole up to 142 bytes). */
  message: string;
}

// ---------------------------------------------------------------- connectblock-benchmark

export interface BlockConnectedEvent extends ToolEventBase {
  event: 'validation:block_connected';
  block_hash: string;
  height: number;
  transactions: Int64Field;
  inputs: number;
  sigops: Int64Field;
  duration_ns: Int64Field;
}

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

export interface UtxoCacheFlushEvent extends ToolEventBase {
  event: 'utxocache:flush';
  duration_us: Int64Field;
  mode: number;
  /**
   * The mode's name in the traced build (flushModeNames of src/core/catalog/tracepointCatalog.ts: ALWAYS for 3 before
   * v31, FORCE_FLUSH and FORCE_SYNC from v31 and when the version is unknown), or `UNKNOWN(<n>)`.
   */
  mode_name: string;
  coins_count: Int64Field;
  coins_mem_usage: Int64Field;
  is_flush_for_prune: boolean;
}

// ---------------------------------------------------------------- utxos

export type UtxoOperation = 'add' | 'spent' | 'uncache';

export interface UtxoCoinEvent extends ToolEventBase {
  event: 'utxocache:add' | 'utxocache:spent' | 'utxocache:uncache';
  txid: string;
  index: number;
  height: number;
  value: Int64Field;
  is_coinbase: boolean;
  /** `txid:index` */
  outpoint: string;
}

/** Once a second: operations counted in the kernel (exact at any rate), cumulative, and per second. */
export interface UtxoOpsEvent extends ToolEventBase {
  event: 'utxocache:ops';
  counts: Record<UtxoOperation, number>;
  /** Length of the interval the rates cover; 0 for the first snapshot of a run (rates are then 0). */
  interval_ns: number;
  per_second: Record<UtxoOperation, number>;
}

// ---------------------------------------------------------------- coin-selection

export interface CoinSelectedEvent extends ToolEventBase {
  event: 'coin_selection:selected_coins';
  wallet_name: string;
  algo: string;
  target: Int64Field;
  waste: Int64Field;
  selected_value: Int64Field;
}

export interface NormalCreateTxEvent extends ToolEventBase {
  event: 'coin_selection:normal_create_tx_internal';
  wallet_name: string;
  success: boolean;
  fee: Int64Field;
  /** −1: no change output. */
  change_pos: number;
}

export interface AttemptingApsCreateTxEvent extends ToolEventBase {
  event: 'coin_selection:attempting_aps_create_tx';
  wallet_name: string;
}

export interface ApsCreateTxEvent extends ToolEventBase {
  event: 'coin_selection:aps_create_tx_internal';
  wallet_name: string;
  use_aps: boolean;
  success: boolean;
  fee: Int64Field;
  change_pos: number;
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
  | ApsCreateTxEvent;

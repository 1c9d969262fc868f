// Normalized events of the BCC tools (raw-p2p-msgs, mempool-monitor). Same conventions as eventTypes.ts,
// which they are meant to join: add `ToolEvent` to its `NormalizedEvent` union.

import type { Int64Field, NetMessageEvent } from './eventTypes';

/**
 * A P2P message with its bytes (raw-p2p-msgs). Whole up to 4,000,000 bytes (the protocol maximum): when
 * `captured < msg_size` the message arrived cut, and a `truncated` event with field `msg` follows it.
 */
export interface RawNetMessageEvent extends NetMessageEvent {
  /** Lowercase hex of the first `captured` bytes of the message payload. */
  msg: string;
  /** Number of bytes in `msg` (its hex length / 2). */
  captured: number;
}

export interface MempoolAddedEvent {
  event: 'mempool:added';
  elapsed_ns?: number;
  /** 64 hex characters, display order. */
  txid: string;
  vsize: number;
  fee: Int64Field;
}

export interface MempoolRemovedEvent {
  event: 'mempool:removed';
  elapsed_ns?: number;
  txid: string;
  /** `expiry`, `sizelimit`, `reorg`, `block`, `conflict`, `replaced`, ... (untrusted text). */
  reason: string;
  vsize: number;
  fee: Int64Field;
  /** UNIX seconds. */
  entry_time: Int64Field;
}

export interface MempoolReplacedEvent {
  event: 'mempool:replaced';
  elapsed_ns?: number;
  replaced_txid: string;
  replaced_vsize: number;
  replaced_fee: Int64Field;
  replaced_entry_time: Int64Field;
  /** txid of the replacement transaction, or the package hash when `replaced_by_transaction` is false. */
  replacement_id: string;
  replacement_vsize: number;
  replacement_fee: Int64Field;
  /** null: the build passes 7 arguments (v25 to v28), without this one. */
  replaced_by_transaction: boolean | null;
}

export interface MempoolRejectedEvent {
  event: 'mempool:rejected';
  elapsed_ns?: number;
  txid: string;
  reason: string;
}

export type MempoolEvent = MempoolAddedEvent | MempoolRemovedEvent | MempoolReplacedEvent | MempoolRejectedEvent;

export type ToolEvent = RawNetMessageEvent | MempoolEvent;

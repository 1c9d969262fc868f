// The normalized event stream: what probes produce, what recordings store, what panels and
// `cli run --json` consume. Field names follow ../shared/docs/tracepoints.md; see docs/events.md.
//
// 64-bit integer fields are `Int64Field`: a JSON number when it is a safe integer, otherwise its
// decimal string, so no value is ever rounded.

export type Int64Field = number | string;

interface EventBase {
  /** Nanoseconds since the probe session started (bpftrace `elapsed`); absent on session-level records. */
  elapsed_ns?: number;
}

export interface NetMessageEvent extends EventBase {
  event: 'net:inbound_message' | 'net:outbound_message';
  peer_id: Int64Field;
  peer_addr: string;
  conn_type: string;
  msg_type: string;
  msg_size: Int64Field;
}

/** Per-peer totals counted in the kernel and flushed periodically (cumulative since session start). */
export interface PeerTotalsEvent extends EventBase {
  event: 'p2p:peer_totals';
  peers: PeerTotals[];
}

export interface PeerTotals {
  peer_id: Int64Field;
  peer_addr: string;
  conn_type: string;
  msgs_in: number;
  bytes_in: number;
  msgs_out: number;
  bytes_out: number;
}

/** Cumulative kernel-side count of how many times each tracepoint fired (for exact loss accounting). */
export interface FiredCountsEvent extends EventBase {
  event: 'fired';
  /** tracepoint ("net:inbound_message") → count since session start */
  counts: Record<string, number>;
}

/** Events that fired but never reached us. `source` says who noticed. */
export interface LostEvent extends EventBase {
  event: 'lost';
  count: number;
  source?: 'bpftrace' | 'reconciled';
}

/** A string arrived cut at the probe's string limit (the value in the event ends where it was cut). */
export interface TruncatedEvent extends EventBase {
  event: 'truncated';
  field: string;
  count: number;
}

export interface SessionStartEvent extends EventBase {
  event: 'session:start';
  tool: string;
  binary: string;
  pid: number | null;
  bpftrace_version?: string;
}

export interface SessionAttachedEvent extends EventBase {
  event: 'session:attached';
  probes: number;
  pid: number | null;
}

export interface SessionMessageEvent extends EventBase {
  event: 'session:message';
  level: 'info' | 'warning' | 'error';
  message: string;
}

export interface SessionEndEvent extends EventBase {
  event: 'session:end';
  reason: string;
  exit_code?: number | null;
}

export type NormalizedEvent =
  | NetMessageEvent
  | PeerTotalsEvent
  | FiredCountsEvent
  | LostEvent
  | TruncatedEvent
  | SessionStartEvent
  | SessionAttachedEvent
  | SessionMessageEvent
  | SessionEndEvent;
// Other tools add their tracepoint events to this union with the same conventions.

export const RECORDING_FORMAT = 'bitcoin-usdt-recording';
export const RECORDING_VERSION = 1;

/** First line of a recording file. */
export interface RecordingHeader {
  format: typeof RECORDING_FORMAT;
  version: number;
  tool: string;
  /** ISO 8601 wall-clock time the session started. */
  started_at: string;
  binary: string | null;
  pid: number | null;
  producer: string;
}

// The normalized event stream: what probes produce, what recordings store, what panels and
// `cli run --json` consume. Field names follow ../shared/docs/tracepoints.md; see docs/events.md.
//
// 64-bit integer fields are `Int64Field`: a JSON number when it is a safe integer, otherwise its
// decimal string, so no value is ever rounded.

import type { BpftraceToolEvent } from './bpftraceToolEventTypes';
import type { SchemaEvent } from './eventSchema';
import type { ToolEvent as BccToolEvent } from './toolEventTypes';

export type Int64Field = number | string;

interface EventBase {
  /** Nanoseconds since the probe session started (bpftrace `elapsed`); absent on session-level records. */
  elapsed_ns?: number;
}

/** One P2P message (p2p-traffic), from its field table in eventSchema.ts. */
export type NetMessageEvent = SchemaEvent<'p2p-traffic', 'net:inbound_message' | 'net:outbound_message'>;

/** Per-peer totals counted in the kernel and flushed periodically (cumulative since session start). */
export interface PeerTotalsEvent extends EventBase {
  event: 'p2p:peer_totals';
  peers: PeerTotals[];
}

export interface PeerTotals {
  /** The bitcoind process whose peer this is (absent in recordings made before per-process counts). */
  pid?: number;
  peer_id: Int64Field;
  peer_addr: string;
  conn_type: string;
  msgs_in: number;
  bytes_in: number;
  msgs_out: number;
  bytes_out: number;
}

/** Per-message-type totals counted in the kernel and flushed periodically (cumulative since attach). */
export interface MessageTypeTotalsEvent extends EventBase {
  event: 'p2p:msg_type_totals';
  types: MessageTypeTotals[];
}

export interface MessageTypeTotals {
  /** The bitcoind process that sent and received these (absent in recordings made before per-process counts). */
  pid?: number;
  msg_type: string;
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
  /** The same counts per bitcoind process: pid (decimal) → tracepoint → count since session start. */
  by_pid?: Record<string, Record<string, number>>;
}

/**
 * Events that fired but never reached us. `source` says who noticed: bpftrace (its perf buffer was full)
 * or `reconciled` (kernel fired count − delivered − reported lost, computed when a bpftrace run ends).
 * A reconciled count is negative in the rare case bpftrace's own loss report also counted lost periodic
 * count prints; the sum of all `lost` counts is always exactly fired − delivered.
 */
export interface LostEvent extends EventBase {
  event: 'lost';
  count: number;
  /** bpftrace's perf buffers, the kernel's fired count against what arrived, or a recording whose disk fell behind. */
  source?: 'bpftrace' | 'reconciled' | 'recording';
  /**
   * `reconciled` only, when the tool counts per process: what each process lost in the bpftrace run that
   * just ended, pid (decimal) → fired − delivered (bpftrace's own reports included, which name no process).
   */
  by_pid?: Record<string, number>;
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
  /**
   * Filters and samples the kernel applies (tool parameter → value, e.g. `{ peer: '3' }`, `{ sample: '10' }`):
   * only matching events are streamed, while `fired` and the tool's kernel counts stay exact over everything.
   */
  filters?: Record<string, string>;
}

export interface SessionAttachedEvent extends EventBase {
  event: 'session:attached';
  probes: number;
  pid: number | null;
  /**
   * Wall-clock time of the (first) attach, ms since the UNIX epoch, from the helper's clock: the moment elapsed_ns
   * counts from. Absent in recordings made before it existed and on re-attaches.
   */
  wall_clock_ms?: number;
}

export interface SessionMessageEvent extends EventBase {
  event: 'session:message';
  level: 'info' | 'warning' | 'error';
  message: string;
  /** The whole text the message sums up (a Python traceback), for the output channel, not for panels. */
  details?: string;
}

export interface SessionEndEvent extends EventBase {
  event: 'session:end';
  reason: string;
  exit_code?: number | null;
}

/**
 * The node's own state when the probe attached, from its RPC (getpeerinfo, getmempoolinfo), where the user can
 * read its cookie; otherwise `available: false` and why. Added by the extension, not by a probe.
 */
export interface NodeStateAtAttachEvent extends EventBase {
  event: 'node:state_at_attach';
  /** The node asked (the session's PID): its peers are joined with the probe's events of that process. */
  pid?: number;
  available: boolean;
  /** `network_name` in the tracepoint events' naming (networkNameOfPeerInfo); absent in older recordings. */
  peers?: readonly { peer_id: number; peer_addr: string; conn_type: string; network_name?: string; inbound: boolean; conntime: number }[];
  mempool?: { size: number; bytes: number };
  reason?: string;
}

/**
 * A bitcoind process running the traced binary (once per pid): sent by the helper in an every-process session
 * (`session:start` with `pid: null`; the events of that process carry its `pid`), and by the unprivileged side
 * from /proc for a PID session. A restart is a new pid with the same datadir: the same node.
 */
export interface NodeEvent extends EventBase {
  event: 'node';
  pid: number;
  /** `node0`, `node1`… (the functional test framework's `<tmpdir>/node<N>` datadir), else the datadir's name, or `pid N`. */
  node: string;
  /** The datadir's parent directory: the nodes of one test run share it. */
  run: string | null;
  /** The absolute data directory (`-datadir=`; bitcoind's default `~/.bitcoin` when none is given). */
  datadir: string | null;
  /** `main`, `test`, `testnet4`, `signet`, `regtest` (from `-chain=`, `-regtest`, … or the conf file). */
  chain: string;
  p2p_port: number | null;
  rpc_port: number | null;
}

/** The process of a `node` event ended. A restart is a new `node` event with a new pid and the same `datadir`. */
export interface NodeExitEvent extends EventBase {
  event: 'node:exit';
  pid: number;
}

/**
 * The local end of a node's connection to a peer, read from the node's own socket table (/proc) while the
 * connection was open: how the other node, which sees this end as its inbound peer's `peer_addr`, is matched.
 */
export interface NodePeerSocketEvent extends EventBase {
  event: 'node:peer_socket';
  pid: number;
  peer_id: Int64Field;
  peer_addr: string;
  local_addr: string;
}

/**
 * When the unprivileged side received an event of this session: `elapsed_ns` was reached at the latest at
 * `unix_us` (microseconds since 1970, the receiving machine's clock). Sent when a fresher pair narrows it
 * (the smallest unix_us − elapsed is the best bound), so separate sessions can be put on one timeline.
 */
export interface ClockEvent extends EventBase {
  event: 'clock';
  elapsed_ns: number;
  unix_us: number;
}

export type NormalizedEvent =
  | NodeEvent
  | ClockEvent
  | NodeExitEvent
  | NodePeerSocketEvent
  | BpftraceToolEvent
  | BccToolEvent
  | NetMessageEvent
  | PeerTotalsEvent
  | MessageTypeTotalsEvent
  | FiredCountsEvent
  | LostEvent
  | TruncatedEvent
  | SessionStartEvent
  | SessionAttachedEvent
  | SessionMessageEvent
  | SessionEndEvent
  | NodeStateAtAttachEvent
  | NodeEvent
  | NodeExitEvent;
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

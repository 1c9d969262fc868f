// bitcoind's own account of what happened, read from its debug.log (-debug=net -debug=coindb), in the exact
// formats of Bitcoin Core's source:
//   net_processing.cpp  "received: %s (%u bytes) peer=%d"            (ProcessMessage, right after the inbound tracepoint)
//   net.cpp             "sending %s (%d bytes) peer=%d"               (PushMessage, right before the outbound tracepoint)
//   net.cpp             "Added connection to %s peer=%d" (with -logips), then "connection from %s accepted" if inbound
//   net.cpp             "selected %s connection for eviction, disconnecting peer=%d, peeraddr=%s"
//   net.cpp             "Resetting socket for peer=%d, peeraddr=%s"    (CloseSocketDisconnect, next to net:closed_connection)
//   net_processing.cpp  "Misbehaving: peer=%d: %s"
//   validation.cpp      "Writing chainstate to disk: flush mode=%s, prune=%d, …"
//   txdb.cpp            "Committed %u changed transaction outputs (out of %u) to coin database..."

export interface LoggedMessage {
  direction: 'inbound' | 'outbound';
  msg_type: string;
  msg_size: number;
  peer_id: number;
}

type Direction = 'inbound' | 'outbound';

export interface LoggedConnection {
  peer_id: number;
  direction: Direction;
  /** The address the node logged: the peer's for inbound, the one it connected to for outbound. */
  addr: string;
  /** UNIX second of the log line. */
  second: number;
}

/** Connections opened and closed in log order (a connection counts as open until its socket is reset). */
export interface TimelineEntry {
  kind: 'open' | 'close';
  peer_id: number;
  direction: 'inbound' | 'outbound';
}

export interface LoggedFlush {
  mode: string;
  prune: boolean;
}

export interface DebugLog {
  messages: LoggedMessage[];
  connections: LoggedConnection[];
  evicted: number[];
  closed: number[];
  timeline: TimelineEntry[];
  misbehaving: { peer_id: number; message: string }[];
  flushes: LoggedFlush[];
  /** The "out of N" of every coins-database commit: the cache entries it walked. */
  committedOutOf: number[];
}

const MESSAGE = /\] (received: |sending )(\S+) \((\d+) bytes\) peer=(\d+)$/;
const ADDED = /\] Added connection to (\S+) peer=(\d+)$/;
const ACCEPTED = /\] connection from (\S+) accepted$/;
const EVICTED = /\] selected \S+ connection for eviction, disconnecting peer=(\d+)(, peeraddr=\S+)?$/;
const CLOSED = /\] Resetting socket for peer=(\d+)(, peeraddr=\S+)?$/;
const MISBEHAVING = /\] Misbehaving: peer=(\d+)(?:: (.*))?$/;
const FLUSH = /\] Writing chainstate to disk: flush mode=(\w+), prune=(\d)/;
const COMMITTED = /\] Committed \d+ changed transaction outputs \(out of (\d+)\) to coin database/;

/** Only the P2P messages of a debug.log (any log, with or without -logips). */
export function parseLoggedMessages(text: string): LoggedMessage[] {
  const messages: LoggedMessage[] = [];
  for (const line of text.split('\n')) {
    const match = line.match(MESSAGE);
    if (match) messages.push({ direction: match[1] === 'sending ' ? 'outbound' : 'inbound', msg_type: match[2], msg_size: Number(match[3]), peer_id: Number(match[4]) });
  }
  return messages;
}

export function parseDebugLog(text: string): DebugLog {
  const log: DebugLog = { messages: [], connections: [], evicted: [], closed: [], timeline: [], misbehaving: [], flushes: [], committedOutOf: [] };
  const pending = new Map<string, LoggedConnection>();
  for (const line of text.split('\n')) {
    let match: RegExpMatchArray | null;
    const second = Date.parse(line.slice(0, 20)) / 1000;
    if ((match = line.match(MESSAGE))) {
      log.messages.push({
        direction: match[1] === 'sending ' ? 'outbound' : 'inbound',
        msg_type: match[2],
        msg_size: Number(match[3]),
        peer_id: Number(match[4]),
      });
    } else if ((match = line.match(ADDED))) {
      const connection = { peer_id: Number(match[2]), direction: 'outbound' as Direction, addr: match[1], second };
      log.connections.push(connection);
      log.timeline.push({ kind: 'open', peer_id: connection.peer_id, direction: 'outbound' });
      pending.set(connection.addr, connection);
    } else if ((match = line.match(ACCEPTED))) {
      // The connection the node just added for this address was an inbound one.
      const connection = pending.get(match[1]);
      if (!connection) throw new Error(`debug.log: "${line}" without "Added connection to ${match[1]} peer=N" before it (is -logips set?)`);
      connection.direction = 'inbound';
      const entry = log.timeline.find((e) => e.peer_id === connection.peer_id);
      if (entry) entry.direction = 'inbound';
      pending.delete(match[1]);
    } else if ((match = line.match(EVICTED))) {
      log.evicted.push(Number(match[1]));
    } else if ((match = line.match(CLOSED))) {
      const peerId = Number(match[1]);
      log.closed.push(peerId);
      const connection = log.connections.find((c) => c.peer_id === peerId);
      if (connection) log.timeline.push({ kind: 'close', peer_id: peerId, direction: connection.direction });
    } else if ((match = line.match(MISBEHAVING))) {
      log.misbehaving.push({ peer_id: Number(match[1]), message: match[2] ?? '' });
    } else if ((match = line.match(FLUSH))) {
      log.flushes.push({ mode: match[1], prune: match[2] === '1' });
    } else if ((match = line.match(COMMITTED))) {
      log.committedOutOf.push(Number(match[1]));
    }
  }
  return log;
}

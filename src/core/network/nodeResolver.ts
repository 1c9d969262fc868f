// Adds to a live session's stream what the network views need and the tracepoints do not carry, read without
// root from /proc while the processes run (so recordings keep it):
//   - a `node` event for each traced pid the helper did not describe itself (PID sessions): who the node is;
//   - a `node:peer_socket` event for each peer a node connected to (not inbound): the local address of that
//     connection's socket. The node at the other end sees exactly that address as its inbound peer's
//     `peer_addr` (the ephemeral port the kernel chose), which is how the two ends of a connection between
//     two traced nodes are matched: the kernel's own 4-tuple, not a guess from timing or message order.

import type { Int64Field, NodeEvent, NormalizedEvent } from '../events/eventTypes';
import { readNodeIdentity } from './nodeIdentity';
import { readProcessTcpSockets, type TcpSocket } from './procSockets';

export interface NodeResolverOptions {
  /** The session's target pid (null: every process; events then carry their own `pid`). */
  readonly sessionPid: number | null;
  /** Receives the events found (after the batch that caused them). */
  readonly emit: (events: NormalizedEvent[]) => void;
  readonly readIdentity?: (pid: number) => Promise<NodeEvent>;
  readonly readSockets?: (pid: number) => Promise<TcpSocket[]>;
  /** Microseconds since 1970, now. */
  readonly nowUs?: () => number;
}

/** A `clock` event is sent when the bound improves by more than this (µs). */
const CLOCK_STEP_US = 50;

/** Events whose peer the node connected to (their `peer_addr` is the remote end of the node's socket). */
const PEER_EVENTS: ReadonlySet<string> = new Set(['net:inbound_message', 'net:outbound_message', 'net:outbound_connection', 'net:inbound_connection']);
/** Peers remembered per node (a node has at most a few hundred at once; ids only grow). */
const MAX_KNOWN_PEERS = 100_000;

export function eventPid(event: NormalizedEvent, sessionPid: number | null): number | null {
  const own = (event as { pid?: unknown }).pid;
  return typeof own === 'number' ? own : sessionPid;
}

export class NodeResolver {
  private sessionPid: number | null;
  private readonly described = new Set<number>();
  private readonly knownPeers = new Set<string>();
  private pending: Promise<void> = Promise.resolve();
  /** The smallest unix_us − elapsed seen (µs). */
  private clockBoundUs = Infinity;
  /** The session's end was seen: `session:end` stays the last event, nothing is emitted after it. */
  private ended = false;
  private readonly readIdentity: (pid: number) => Promise<NodeEvent>;
  private readonly readSockets: (pid: number) => Promise<TcpSocket[]>;

  constructor(private readonly options: NodeResolverOptions) {
    this.sessionPid = options.sessionPid;
    this.readIdentity = options.readIdentity ?? ((pid) => readNodeIdentity(pid));
    this.readSockets = options.readSockets ?? ((pid) => readProcessTcpSockets(pid));
  }

  /** Looks at a batch of the session's events; what it finds is emitted once read. */
  observe(events: readonly NormalizedEvent[]): void {
    if (this.ended) return;
    if (events.some((event) => event.event === 'session:end')) {
      this.ended = true;
      return;
    }
    this.observeClock(events);
    const toDescribe = new Set<number>();
    const newPeers = new Map<number, { peerId: Int64Field; peerAddr: string }[]>();
    for (const event of events) {
      if ((event.event === 'session:start' || event.event === 'session:attached') && event.pid !== null) this.sessionPid = event.pid;
      if (event.event === 'node') {
        this.described.add(event.pid);
        continue;
      }
      const pid = eventPid(event, this.sessionPid);
      if (pid === null || event.event.startsWith('session:') || event.event === 'node:exit') continue;
      // An every-process session's helper describes each pid itself; a PID session's pid is described here.
      if (pid === this.sessionPid && !this.described.has(pid)) {
        this.described.add(pid);
        toDescribe.add(pid);
      }
      if (!PEER_EVENTS.has(event.event)) continue;
      const peer = event as { peer_id: Int64Field; peer_addr: string; conn_type: string };
      if (peer.conn_type === 'inbound') continue;
      const key = `${pid}/${peer.peer_id}`;
      if (this.knownPeers.has(key)) continue;
      if (this.knownPeers.size >= MAX_KNOWN_PEERS) this.knownPeers.clear();
      this.knownPeers.add(key);
      const list = newPeers.get(pid) ?? [];
      list.push({ peerId: peer.peer_id, peerAddr: peer.peer_addr });
      newPeers.set(pid, list);
    }
    if (toDescribe.size === 0 && newPeers.size === 0) return;
    this.pending = this.pending.then(() => this.resolve(toDescribe, newPeers));
  }

  /** The freshest event of the batch: it reached us no earlier than it happened. */
  private observeClock(events: readonly NormalizedEvent[]): void {
    let elapsedNs: number | undefined;
    for (let i = events.length - 1; i >= 0 && elapsedNs === undefined; i--) if (events[i].event !== 'clock') elapsedNs = events[i].elapsed_ns;
    if (elapsedNs === undefined) return;
    const nowUs = this.options.nowUs?.() ?? Math.round((performance.timeOrigin + performance.now()) * 1000);
    const boundUs = nowUs - elapsedNs / 1000;
    if (boundUs > this.clockBoundUs - CLOCK_STEP_US) return;
    this.clockBoundUs = boundUs;
    this.options.emit([{ event: 'clock', elapsed_ns: elapsedNs, unix_us: nowUs }]);
  }

  /** Settles when everything observed so far has been looked up and emitted. */
  idle(): Promise<void> {
    return this.pending;
  }

  private async resolve(toDescribe: ReadonlySet<number>, newPeers: ReadonlyMap<number, readonly { peerId: Int64Field; peerAddr: string }[]>): Promise<void> {
    const found: NormalizedEvent[] = [];
    for (const pid of toDescribe) {
      const identity = await this.readIdentity(pid).catch(() => null);
      if (identity) found.push(identity);
    }
    for (const [pid, peers] of newPeers) {
      const sockets = await this.readSockets(pid).catch(() => [] as TcpSocket[]);
      for (const { peerId, peerAddr } of peers) {
        const socket = sockets.find((s) => s.state === 'ESTABLISHED' && s.remote === peerAddr);
        if (socket) found.push({ event: 'node:peer_socket', pid, peer_id: peerId, peer_addr: peerAddr, local_addr: socket.local });
      }
    }
    if (found.length > 0 && !this.ended) this.options.emit(found);
  }
}

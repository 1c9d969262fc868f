// The traced bitcoind nodes of one or more sessions, the connections between them and the messages on each
// connection, for the Network panel and the message sequence view (docs/architecture.md, "Network model").
//
// - A node is a datadir (from `node` events); its pids over time are its runs (a restart is the same node).
//   Without a `node` event a pid is a node of its own (`pid N`).
// - A session's events belong to the pid in the event (every-process sessions) or the session's pid.
// - A connection between two traced nodes: node A's peer whose `peer_addr` is B's P2P address (A opened it),
//   and B's inbound peer whose `peer_addr` is the local address of A's socket (`node:peer_socket`, read from
//   A's socket table): exact, the kernel's 4-tuple.
// - Pairing: per connection and direction, TCP delivers in order, so the k-th message A sent is the k-th
//   message B received. Sends and receives are paired first-in first-out, checking type and size; where the
//   two traces disagree (a message lost from one stream, or sent before the receiver's trace started) the
//   nearest match within a short look-ahead decides which side has the extra message, which stays unpaired.
// - Clocks: each session counts `elapsed_ns` from its own start. One session (every process at once) is one
//   clock. Separate sessions are aligned from the pairs themselves: a receive never precedes its send, so
//   messages A→B bound the offset from below and B→A from above; the middle of that window is used and its
//   half-width is the stated uncertainty. Sessions with no pairs to another fall back to their start times.
// - Memory is bounded (messages per peer, node events per node, peers per node); every count stays exact.

import type { Int64Field, NormalizedEvent } from '../events/eventTypes';
import type {
  ClockNote,
  ConnectionState,
  DirectionCounts,
  MessageSequence,
  NetworkConnectionRow,
  NetworkNodeRow,
  NetworkSnapshot,
  SequenceEntry,
  SequenceStatus,
} from '../../shared/networkProtocol';
import { eventPid } from './nodeResolver';

export interface NetworkLimits {
  /** Messages kept per peer and direction (older ones are dropped from the sequence, not from the counts). */
  readonly messagesPerPeer: number;
  /** Blocks and mempool events kept per node. */
  readonly nodeEventsPerNode: number;
  /** Peers kept per pid (the oldest closed first). */
  readonly peersPerProcess: number;
  /** Nodes kept. */
  readonly nodes: number;
  /** Look-ahead when the two sides of a connection disagree. */
  readonly lookAhead: number;
}

export const DEFAULT_NETWORK_LIMITS: NetworkLimits = { messagesPerPeer: 20_000, nodeEventsPerNode: 5_000, peersPerProcess: 2_000, nodes: 256, lookAhead: 32 };

export interface SessionInfo {
  readonly id: string;
  /** The session's target pid (null: every process). */
  readonly pid: number | null;
  /** ISO 8601, when the session started (the coarse clock alignment). */
  readonly startedAt: string;
}

interface Message {
  readonly type: string;
  readonly size: number;
  readonly session: string;
  readonly ns: number;
  partner: Message | null;
  /** Decided unpaired (the other side's trace does not have it). */
  unmatched: boolean;
}

class MessageList {
  items: Message[] = [];
  /** Index of the first message the pairing has not decided yet. */
  cursor = 0;
  dropped = 0;

  push(message: Message, limit: number): void {
    this.items.push(message);
    if (this.items.length > limit && this.cursor > limit / 4) {
      const drop = Math.min(this.cursor, Math.ceil(limit / 4));
      this.items.splice(0, drop);
      this.cursor -= drop;
      this.dropped += drop;
    }
  }
}

class Counts {
  sent = 0;
  received = 0;
  paired = 0;
  unmatchedSends = 0;
  unmatchedReceives = 0;
  /** Σ (receive ns − send ns) in the sessions' own clocks, per (send session, receive session). */
  latencyRawSum = 0;
  latencyRawMin = Infinity;
  latencyRawMax = -Infinity;
  sendSession: string | null = null;
  receiveSession: string | null = null;
}

class Peer {
  addr: string;
  connType: string;
  localAddr: string | null = null;
  readonly out = new MessageList();
  readonly in = new MessageList();
  msgsIn = 0;
  msgsOut = 0;
  bytesIn = 0;
  bytesOut = 0;
  connection: Connection | null = null;
  lastNs = 0;
  /** What the other end is when it is not a traced node (src/core/network/otherEnds.ts), or null. */
  otherEnd: string | null = null;

  constructor(
    readonly process: NodeProcess,
    readonly id: string,
    addr: string,
    connType: string,
  ) {
    this.addr = addr;
    this.connType = connType;
  }

  get inbound(): boolean {
    return this.connType === 'inbound';
  }
}

class NodeProcess {
  readonly peers = new Map<string, Peer>();
  exited = false;
  /** The session whose P2P messages this pid's peers hold (a second P2P session of the same pid would count twice). */
  p2pSession: string | null = null;
  constructor(
    readonly pid: number,
    public node: NodeState,
  ) {}
}

interface NodeEventEntry {
  readonly session: string;
  readonly ns: number;
  readonly category: string;
  readonly text: string;
}

class NodeState {
  name: string;
  run: string | null = null;
  chain: string | null = null;
  p2pPort: number | null = null;
  readonly pids: number[] = [];
  readonly events: NodeEventEntry[] = [];
  eventsDropped = 0;
  constructor(
    readonly key: string,
    name: string,
  ) {
    this.name = name;
  }
}

/** A connection between two traced nodes (both peers known), or one side only. */
class Connection {
  /** [opener → acceptor, acceptor → opener]. */
  readonly counts: [Counts, Counts] = [new Counts(), new Counts()];
  constructor(
    readonly opener: Peer,
    readonly acceptor: Peer,
  ) {}

  get id(): string {
    return `${this.opener.process.pid}/${this.opener.id}`;
  }
}

function int64Text(value: Int64Field): string {
  return typeof value === 'number' ? String(value) : value;
}

function numberOf(value: Int64Field): number {
  return typeof value === 'number' ? value : Number(value);
}

/** `127.0.0.1:18444` → port 18444 and host; `[::1]:18444` too. */
function splitAddr(addr: string): { host: string; port: number } | null {
  const match = /^(.*):(\d+)$/.exec(addr);
  return match ? { host: match[1], port: Number(match[2]) } : null;
}

const LOOPBACK = new Set(['127.0.0.1', '[::1]', 'localhost']);

export class NetworkModel {
  private readonly nodes = new Map<string, NodeState>();
  private readonly processes = new Map<number, NodeProcess>();
  private readonly sessions = new Map<string, SessionInfo>();
  private readonly sessionPids = new Map<string, number | null>();
  /** Local address of an outbound socket → the peer that opened it (for the acceptor's side to find). */
  private readonly openersByLocalAddr = new Map<string, Peer>();
  private readonly connections: Connection[] = [];
  /** off(r) − off(s) ≥ bound[s → r]: the largest (send ns − receive ns) of messages from session s to r. */
  private readonly pairBounds = new Map<string, number>();
  private readonly endedSessions = new Set<string>();
  /** Per session, the smallest unix µs − elapsed µs of its `clock` events: its start on the machine's clock. */
  private readonly clockBounds = new Map<string, number>();
  private changed = false;

  constructor(private readonly limits: NetworkLimits = DEFAULT_NETWORK_LIMITS) {}

  /** Something changed since the last `takeChanged()`. */
  takeChanged(): boolean {
    const changed = this.changed;
    this.changed = false;
    return changed;
  }

  get sessionCount(): number {
    return this.sessions.size;
  }

  addSession(session: SessionInfo): void {
    if (this.sessions.has(session.id)) return;
    this.sessions.set(session.id, session);
    this.sessionPids.set(session.id, session.pid);
    this.changed = true;
  }

  endSession(sessionId: string): void {
    this.endedSessions.add(sessionId);
    for (const connection of this.connections) this.pairConnection(connection);
    this.changed = true;
  }

  ingest(sessionId: string, events: readonly NormalizedEvent[]): void {
    if (!this.sessions.has(sessionId)) this.addSession({ id: sessionId, pid: null, startedAt: new Date().toISOString() });
    const touched = new Set<Connection>();
    for (const event of events) {
      if ((event.event === 'session:start' || event.event === 'session:attached') && event.pid !== null) {
        this.sessionPids.set(sessionId, event.pid);
        continue;
      }
      if (event.event === 'clock') {
        const bound = event.unix_us - event.elapsed_ns / 1000;
        if (bound < (this.clockBounds.get(sessionId) ?? Infinity)) this.clockBounds.set(sessionId, bound);
        continue;
      }
      const pid = eventPid(event, this.sessionPids.get(sessionId) ?? null);
      if (pid === null) continue;
      switch (event.event) {
        case 'node':
          this.describe(event.pid, event.datadir ?? `pid:${event.pid}`, event.node, event.run, event.chain, event.p2p_port);
          break;
        case 'node:exit':
          this.process(pid).exited = true;
          break;
        case 'node:peer_socket': {
          const peer = this.peer(pid, int64Text(event.peer_id), event.peer_addr, 'outbound', 0);
          if (peer) {
            peer.localAddr = event.local_addr;
            this.openersByLocalAddr.set(event.local_addr, peer);
            this.match(peer, touched);
          }
          break;
        }
        case 'net:inbound_message':
        case 'net:outbound_message': {
          const process = this.process(pid);
          process.p2pSession ??= sessionId;
          if (process.p2pSession !== sessionId) break;
          const ns = event.elapsed_ns ?? 0;
          const peer = this.peer(pid, int64Text(event.peer_id), event.peer_addr, event.conn_type, ns);
          if (!peer) break;
          const size = numberOf(event.msg_size);
          const message: Message = { type: event.msg_type, size, session: sessionId, ns, partner: null, unmatched: false };
          if (event.event === 'net:outbound_message') {
            peer.msgsOut++;
            peer.bytesOut += size;
            peer.out.push(message, this.limits.messagesPerPeer);
          } else {
            peer.msgsIn++;
            peer.bytesIn += size;
            peer.in.push(message, this.limits.messagesPerPeer);
          }
          if (peer.connection) touched.add(peer.connection);
          else this.match(peer, touched);
          break;
        }
        case 'validation:block_connected':
          this.nodeEvent(pid, sessionId, event.elapsed_ns ?? 0, 'block', `block ${event.height} connected (${event.transactions} tx) ${event.block_hash.slice(0, 16)}…`);
          break;
        case 'mempool:added':
          this.nodeEvent(pid, sessionId, event.elapsed_ns ?? 0, 'mempool', `mempool + ${event.txid.slice(0, 16)}… (${event.vsize} vB)`);
          break;
        case 'mempool:removed':
          this.nodeEvent(pid, sessionId, event.elapsed_ns ?? 0, 'mempool', `mempool − ${event.txid.slice(0, 16)}… (${event.reason})`);
          break;
        case 'mempool:replaced':
          this.nodeEvent(pid, sessionId, event.elapsed_ns ?? 0, 'mempool', `mempool replaced ${event.replaced_txid.slice(0, 16)}… by ${event.replacement_id.slice(0, 16)}…`);
          break;
        case 'mempool:rejected':
          this.nodeEvent(pid, sessionId, event.elapsed_ns ?? 0, 'mempool', `mempool rejected ${event.txid.slice(0, 16)}… (${event.reason})`);
          break;
        default:
          break;
      }
    }
    for (const connection of touched) this.pairConnection(connection);
    if (events.length > 0) this.changed = true;
  }

  // ---- nodes, processes, peers ----

  private process(pid: number): NodeProcess {
    let process = this.processes.get(pid);
    if (!process) {
      const key = `pid:${pid}`;
      let node = this.nodes.get(key);
      if (!node) {
        node = new NodeState(key, `pid ${pid}`);
        this.addNode(node);
      }
      node.pids.push(pid);
      process = new NodeProcess(pid, node);
      this.processes.set(pid, process);
    }
    return process;
  }

  private addNode(node: NodeState): void {
    this.nodes.set(node.key, node);
    if (this.nodes.size > this.limits.nodes) {
      const oldest = this.nodes.keys().next().value;
      if (oldest !== undefined) this.nodes.delete(oldest);
    }
  }

  private describe(pid: number, key: string, name: string, run: string | null, chain: string, p2pPort: number | null): void {
    const process = this.process(pid);
    let node = this.nodes.get(key);
    if (!node) {
      node = new NodeState(key, name);
      this.addNode(node);
    }
    node.name = name;
    node.run = run;
    node.chain = chain;
    node.p2pPort = p2pPort;
    if (process.node !== node) {
      const previous = process.node;
      previous.pids.splice(previous.pids.indexOf(pid), 1);
      if (previous.pids.length === 0 && previous.key === `pid:${pid}`) {
        node.events.push(...previous.events);
        this.nodes.delete(previous.key);
      }
      process.node = node;
      if (!node.pids.includes(pid)) node.pids.push(pid);
    }
    // A node that now has a P2P port may be the other end of connections seen before.
    for (const peer of this.allPeers()) if (!peer.connection) this.match(peer, new Set());
  }

  private *allPeers(): Generator<Peer> {
    for (const process of this.processes.values()) yield* process.peers.values();
  }

  private peer(pid: number, peerId: string, addr: string, connType: string, ns: number): Peer | null {
    const process = this.process(pid);
    let peer = process.peers.get(peerId);
    if (!peer) {
      peer = new Peer(process, peerId, addr, connType);
      process.peers.set(peerId, peer);
      if (process.peers.size > this.limits.peersPerProcess) {
        const oldest = [...process.peers.values()].sort((a, b) => a.lastNs - b.lastNs)[0];
        process.peers.delete(oldest.id);
        if (oldest.localAddr) this.openersByLocalAddr.delete(oldest.localAddr);
      }
    } else if (connType !== 'outbound') {
      // `node:peer_socket` says only "outbound"; the messages say which kind.
      peer.connType = connType;
    }
    peer.addr = addr;
    peer.lastNs = Math.max(peer.lastNs, ns);
    return peer;
  }

  /**
   * The node listening on a loopback `addr` (a traced node's P2P port): of the nodes with that port, the last one
   * seen that is running, else the last one seen. Several nodes share a port over time: a functional test first
   * runs its cache nodes (`<cachedir>/node0`) on the ports its own nodes take next.
   */
  private listener(addr: string): NodeState | null {
    const split = splitAddr(addr);
    if (!split || !LOOPBACK.has(split.host)) return null;
    let last: NodeState | null = null;
    let running: NodeState | null = null;
    for (const node of this.nodes.values()) {
      if (node.p2pPort !== split.port) continue;
      last = node;
      const newest = this.processes.get(node.pids[node.pids.length - 1]);
      if (newest && !newest.exited) running = node;
    }
    return running ?? last;
  }

  /** Finds the other end of `peer`'s connection among the traced nodes. */
  private match(peer: Peer, touched: Set<Connection>): void {
    if (peer.connection) return;
    let opener: Peer | undefined;
    let acceptor: Peer | undefined;
    if (peer.inbound) {
      opener = this.openersByLocalAddr.get(peer.addr);
      acceptor = peer;
    } else if (peer.localAddr) {
      opener = peer;
      const target = this.listener(peer.addr);
      if (target) {
        for (const pid of [...target.pids].reverse()) {
          const process = this.processes.get(pid);
          const found = process ? [...process.peers.values()].find((p) => p.inbound && p.addr === peer.localAddr && !p.connection) : undefined;
          if (found) {
            acceptor = found;
            break;
          }
        }
      }
    }
    if (!opener || !acceptor || opener.connection || acceptor.connection) return;
    if (this.listener(opener.addr) !== acceptor.process.node) return;
    const connection = new Connection(opener, acceptor);
    opener.connection = connection;
    acceptor.connection = connection;
    this.connections.push(connection);
    touched.add(connection);
  }

  // ---- other ends that are not traced nodes (src/core/network/otherEnds.ts) ----

  /** Loopback connections of running traced nodes with no traced other end found and no name for it yet. */
  unnamedLoopbackPeers(): { pid: number; peerId: string; addr: string }[] {
    const found: { pid: number; peerId: string; addr: string }[] = [];
    for (const peer of this.allPeers()) {
      if (peer.connection || peer.otherEnd !== null || peer.process.exited || !LOOPBACK.has(splitAddr(peer.addr)?.host ?? '')) continue;
      found.push({ pid: peer.process.pid, peerId: peer.id, addr: peer.addr });
    }
    return found;
  }

  /** The pids of the traced nodes. */
  tracedPids(): Set<number> {
    return new Set(this.processes.keys());
  }

  /** Names the other end of a connection (`name` is shown as text); false when the peer is not (or no longer) known. */
  nameOtherEnd(pid: number, peerId: string, name: string): boolean {
    const peer = this.processes.get(pid)?.peers.get(peerId);
    if (!peer || peer.otherEnd === name) return false;
    peer.otherEnd = name;
    this.changed = true;
    return true;
  }

  private nodeEvent(pid: number, session: string, ns: number, category: string, text: string): void {
    const node = this.process(pid).node;
    node.events.push({ session, ns, category, text });
    if (node.events.length > this.limits.nodeEventsPerNode) {
      const drop = Math.ceil(this.limits.nodeEventsPerNode / 4);
      node.events.splice(0, drop);
      node.eventsDropped += drop;
    }
  }

  // ---- pairing ----

  private pairConnection(connection: Connection): void {
    const { opener, acceptor } = connection;
    this.pairDirection(opener.out, acceptor.in, connection.counts[0], opener, acceptor);
    this.pairDirection(acceptor.out, opener.in, connection.counts[1], acceptor, opener);
  }

  private pairDirection(sends: MessageList, receives: MessageList, counts: Counts, sender: Peer, receiver: Peer): void {
    const senderEnded = sender.process.p2pSession !== null && this.endedSessions.has(sender.process.p2pSession);
    const receiverEnded = receiver.process.p2pSession !== null && this.endedSessions.has(receiver.process.p2pSession);
    const lookAhead = this.limits.lookAhead;
    for (;;) {
      const send = sends.items[sends.cursor];
      const receive = receives.items[receives.cursor];
      if (!send || !receive) break;
      if (send.type === receive.type && send.size === receive.size) {
        send.partner = receive;
        receive.partner = send;
        sends.cursor++;
        receives.cursor++;
        counts.paired++;
        const raw = receive.ns - send.ns;
        counts.latencyRawSum += raw;
        counts.latencyRawMin = Math.min(counts.latencyRawMin, raw);
        counts.latencyRawMax = Math.max(counts.latencyRawMax, raw);
        counts.sendSession = send.session;
        counts.receiveSession = receive.session;
        const key = `${send.session}\u0000${receive.session}`;
        this.pairBounds.set(key, Math.max(this.pairBounds.get(key) ?? -Infinity, send.ns - receive.ns));
        continue;
      }
      // The two sides disagree: whichever side has the nearer match keeps it; the messages before it are extra.
      const receiveAt = this.findMatch(receives, send, lookAhead);
      const sendAt = this.findMatch(sends, receive, lookAhead);
      const windowFull = receives.items.length - receives.cursor > lookAhead && sends.items.length - sends.cursor > lookAhead;
      if (receiveAt === null && sendAt === null && !windowFull && !(senderEnded && receiverEnded)) break;
      if (sendAt !== null && (receiveAt === null || sendAt - sends.cursor <= receiveAt - receives.cursor)) {
        while (sends.cursor < sendAt) this.unmatched(sends, counts, 'send');
      } else if (receiveAt !== null) {
        while (receives.cursor < receiveAt) this.unmatched(receives, counts, 'receive');
      } else {
        this.unmatched(sends, counts, 'send');
      }
    }
    // After both traces ended, what is left on one side has no partner in the other trace; a send the ended
    // receiver does not have never arrived in its trace.
    if (receiverEnded) while (sends.cursor < sends.items.length) this.unmatched(sends, counts, 'send');
    if (senderEnded && receiverEnded) while (receives.cursor < receives.items.length) this.unmatched(receives, counts, 'receive');
    counts.sent = sender.msgsOut;
    counts.received = receiver.msgsIn;
  }

  private unmatched(list: MessageList, counts: Counts, side: 'send' | 'receive'): void {
    list.items[list.cursor].unmatched = true;
    list.cursor++;
    if (side === 'send') counts.unmatchedSends++;
    else counts.unmatchedReceives++;
  }

  private findMatch(list: MessageList, target: Message, lookAhead: number): number | null {
    const end = Math.min(list.items.length, list.cursor + lookAhead + 1);
    for (let i = list.cursor + 1; i < end; i++) {
      const m = list.items[i];
      if (m.type === target.type && m.size === target.size) return i;
    }
    return null;
  }

  // ---- clocks ----

  /** Offset (ns) to add to each session's `elapsed_ns` to put it on the first session's clock, and how it was found. */
  clockOffsets(): { offsets: Map<string, number>; note: ClockNote; approximate: Set<string> } {
    const ids = [...this.sessions.keys()];
    const offsets = new Map<string, number>();
    const approximate = new Set<string>();
    if (ids.length === 0) return { offsets, note: { clocks: 0, alignment: 'one clock', uncertaintyNs: null }, approximate };
    const startMs = (id: string): number => Date.parse(this.sessions.get(id)?.startedAt ?? '') || 0;
    const reference = ids[0];
    offsets.set(reference, 0);
    let fromPairs = 0;
    let uncertainty = 0;
    let progress = true;
    while (progress) {
      progress = false;
      for (const id of ids) {
        if (offsets.has(id)) continue;
        for (const [anchor, anchorOffset] of offsets) {
          const lower = this.pairBounds.get(`${anchor}\u0000${id}`); // off(id) − off(anchor) ≥ lower
          const upperBound = this.pairBounds.get(`${id}\u0000${anchor}`); // off(anchor) − off(id) ≥ upperBound
          if (lower === undefined && upperBound === undefined) continue;
          const low = lower === undefined ? null : anchorOffset + lower;
          const high = upperBound === undefined ? null : anchorOffset - upperBound;
          const offset = low !== null && high !== null ? (low + high) / 2 : (low ?? high ?? 0);
          offsets.set(id, offset);
          if (low !== null && high !== null) uncertainty = Math.max(uncertainty, Math.abs(high - low) / 2);
          fromPairs++;
          progress = true;
          break;
        }
      }
    }
    // Sessions with no pairs: by when their events arrived (clock events: milliseconds, or better).
    let fromArrival = 0;
    for (const id of ids) {
      const bound = this.clockBounds.get(id);
      if (offsets.has(id) || bound === undefined) continue;
      const pid = this.sessionPids.get(id);
      const anchors = [...offsets.keys()].filter((other) => this.clockBounds.has(other));
      const anchor = anchors.find((other) => pid !== null && pid !== undefined && this.sessionPids.get(other) === pid) ?? anchors[0];
      if (anchor === undefined) continue;
      offsets.set(id, (offsets.get(anchor) ?? 0) + (bound - (this.clockBounds.get(anchor) ?? 0)) * 1000);
      approximate.add(id);
      fromArrival++;
    }
    let fromStart = 0;
    for (const id of ids) {
      if (offsets.has(id)) continue;
      // A sibling session of the same pid aligned already, else the reference: by start times (milliseconds).
      const pid = this.sessionPids.get(id);
      const sibling = [...offsets.keys()].find((other) => pid !== null && pid !== undefined && this.sessionPids.get(other) === pid) ?? reference;
      offsets.set(id, (offsets.get(sibling) ?? 0) + (startMs(id) - startMs(sibling)) * 1e6);
      approximate.add(id);
      fromStart++;
    }
    const alignment = ids.length === 1 ? 'one clock' : fromStart > 0 ? 'start times' : fromArrival > 0 ? 'arrival times' : 'message pairs';
    return { offsets, note: { clocks: ids.length, alignment, uncertaintyNs: fromPairs > 0 ? uncertainty : null }, approximate };
  }

  // ---- views ----

  snapshot(): NetworkSnapshot {
    const { offsets, note } = this.clockOffsets();
    const nodes: NetworkNodeRow[] = [...this.nodes.values()].map((node) => {
      const processes = node.pids.map((pid) => this.processes.get(pid)).filter((p): p is NodeProcess => p !== undefined);
      const peers = processes.flatMap((p) => [...p.peers.values()]);
      const newest = processes[processes.length - 1];
      return {
        key: node.key,
        name: node.name,
        run: node.run,
        chain: node.chain,
        p2pPort: node.p2pPort,
        pids: [...node.pids],
        alive: newest !== undefined && !newest.exited,
        peers: peers.length,
        msgsIn: peers.reduce((sum, p) => sum + p.msgsIn, 0),
        msgsOut: peers.reduce((sum, p) => sum + p.msgsOut, 0),
        bytesIn: peers.reduce((sum, p) => sum + p.bytesIn, 0),
        bytesOut: peers.reduce((sum, p) => sum + p.bytesOut, 0),
      };
    });
    const connections: NetworkConnectionRow[] = [];
    for (const connection of this.connections) {
      const { opener, acceptor } = connection;
      if (!this.nodes.has(opener.process.node.key) || !this.nodes.has(acceptor.process.node.key)) continue;
      connections.push({
        id: connection.id,
        fromNode: opener.process.node.key,
        fromPeerId: opener.id,
        toNode: acceptor.process.node.key,
        toPeerId: acceptor.id,
        peerAddr: opener.addr,
        connType: opener.connType,
        inbound: false,
        state: 'matched',
        otherEnd: null,
        directions: [this.directionCounts(connection.counts[0], opener.out, offsets), this.directionCounts(connection.counts[1], acceptor.out, offsets)],
      });
    }
    for (const peer of this.allPeers()) {
      if (peer.connection || !this.nodes.has(peer.process.node.key)) continue;
      // A loopback peer is expected to be a traced node unless its other end was named (a test framework's
      // P2P connection, another program).
      const expectNode = peer.otherEnd === null && (this.listener(peer.addr) !== null || (peer.inbound && LOOPBACK.has(splitAddr(peer.addr)?.host ?? '')));
      const state: ConnectionState = expectNode ? 'other end not found' : 'peer not traced';
      connections.push({
        id: `${peer.process.pid}/${peer.id}`,
        fromNode: peer.process.node.key,
        fromPeerId: peer.id,
        toNode: null,
        toPeerId: null,
        peerAddr: peer.addr,
        connType: peer.connType,
        inbound: peer.inbound,
        state,
        otherEnd: peer.otherEnd,
        directions: [this.oneSided(peer.msgsOut, 0), this.oneSided(0, peer.msgsIn)],
      });
    }
    return { nodes, connections, clock: note, sessions: this.sessions.size };
  }

  private oneSided(sent: number, received: number): DirectionCounts {
    return { sent, received, paired: 0, inFlight: 0, unmatchedSends: sent, unmatchedReceives: received, latencyMeanNs: null, latencyMinNs: null, latencyMaxNs: null };
  }

  private directionCounts(counts: Counts, sends: MessageList, offsets: Map<string, number>): DirectionCounts {
    const shift = counts.sendSession === null || counts.receiveSession === null ? 0 : (offsets.get(counts.receiveSession) ?? 0) - (offsets.get(counts.sendSession) ?? 0);
    return {
      sent: counts.sent,
      received: counts.received,
      paired: counts.paired,
      inFlight: sends.items.length - sends.cursor,
      unmatchedSends: counts.unmatchedSends,
      unmatchedReceives: counts.unmatchedReceives,
      latencyMeanNs: counts.paired > 0 ? counts.latencyRawSum / counts.paired + shift : null,
      latencyMinNs: counts.paired > 0 ? counts.latencyRawMin + shift : null,
      latencyMaxNs: counts.paired > 0 ? counts.latencyRawMax + shift : null,
    };
  }

  /** Node keys in the model, in the order they appeared. */
  nodeKeys(): string[] {
    return [...this.nodes.keys()];
  }

  /**
   * Every message between nodes `a` and `b` once (a send with its receive, or an unpaired one), with the
   * nodes' blocks and mempool events when `withNodeEvents`, in time order; the newest `limit` rows.
   */
  sequence(a: string, b: string, limit: number, withNodeEvents = true): MessageSequence | null {
    const nodeA = this.nodes.get(a);
    const nodeB = this.nodes.get(b);
    if (!nodeA || !nodeB || a === b) return null;
    const { offsets, approximate } = this.clockOffsets();
    const at = (m: Message): number => m.ns + (offsets.get(m.session) ?? 0);
    const rows: SequenceEntry[] = [];
    let dropped = 0;
    for (const connection of this.connections) {
      const ends = [connection.opener.process.node, connection.acceptor.process.node];
      if (!(ends[0] === nodeA && ends[1] === nodeB) && !(ends[0] === nodeB && ends[1] === nodeA)) continue;
      for (const [sender, receiver] of [
        [connection.opener, connection.acceptor],
        [connection.acceptor, connection.opener],
      ] as const) {
        const from = sender.process.node.name;
        const to = receiver.process.node.name;
        const receiverEnded = receiver.process.p2pSession !== null && this.endedSessions.has(receiver.process.p2pSession);
        dropped += sender.out.dropped;
        sender.out.items.forEach((send, index) => {
          const status: SequenceStatus = send.partner ? 'paired' : send.unmatched || receiverEnded ? 'not received' : index >= sender.out.cursor ? 'in flight' : 'not received';
          rows.push({
            kind: 'message',
            timeNs: at(send),
            from,
            to,
            msgType: send.type,
            msgSize: send.size,
            connectionId: connection.id,
            latencyNs: send.partner ? at(send.partner) - at(send) : null,
            status,
          });
        });
        for (const receive of receiver.in.items) {
          if (receive.partner || !receive.unmatched) continue;
          rows.push({ kind: 'message', timeNs: at(receive), from, to, msgType: receive.type, msgSize: receive.size, connectionId: connection.id, latencyNs: null, status: 'send not traced' });
        }
      }
    }
    if (withNodeEvents) {
      for (const node of [nodeA, nodeB]) {
        dropped += node.eventsDropped;
        for (const event of node.events) rows.push({ kind: 'node', timeNs: event.ns + (offsets.get(event.session) ?? 0), node: node.name, category: event.category, text: event.text, approximate: approximate.has(event.session) });
      }
    }
    rows.sort((x, y) => x.timeNs - y.timeNs);
    const total = rows.length;
    return { nodeA: a, nodeB: b, rows: rows.length > limit ? rows.slice(rows.length - limit) : rows, dropped: dropped + Math.max(0, total - limit), total };
  }
}

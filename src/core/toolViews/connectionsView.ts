// p2p-connections: one row per connection (opened, closed or evicted, misbehaving marks), bounded; the
// oldest ended connections are forgotten first.

import { MAX_SENT_ROWS, type ConnectionDirection, type ConnectionRow, type ConnectionsView, type MisbehavingMark, type ToolFilter } from '../../shared/toolPanelProtocol';
import { networkName as nameOfNetwork } from '../events/bpftraceToolEventTypes';
import { int64Text, numberField, pidOf, stringField, type ToolEventLike } from './eventFields';

/** Peer ids are each process's own: a peer is (pid, peer id). */
function peerKey(pid: number | null, peerId: string): string {
  return pid === null ? peerId : `${pid}:${peerId}`;
}
import { filterNeedle, ToolViewBase, type ToolViewOptions } from './toolViewBase';


export interface ConnectionsLimits {
  readonly maxConnections: number;
  readonly maxMarksPerConnection: number;
}

export const DEFAULT_CONNECTIONS_LIMITS: ConnectionsLimits = { maxConnections: 5_000, maxMarksPerConnection: 20 };

/** Message counts of one peer in a P2P traffic session (the join with the P2P panel's peers). */
export interface PeerTraffic {
  readonly label: string;
  /** The peer of process `pid` (null: a record without one, from before per-process records). */
  lookup(peerId: string, pid: number | null): { readonly msgsIn: number; readonly msgsOut: number } | undefined;
}

interface ConnectionState {
  readonly key: string;
  readonly peerId: string;
  /** The process whose connection this is (sessions over every process of a build), null: the session's. */
  readonly pid: number | null;
  addr: string;
  connType: string;
  network: number | null;
  networkName: string;
  direction: ConnectionDirection | null;
  existing: string | null;
  openedNs: number | null;
  closedNs: number | null;
  evictedNs: number | null;
  timeEstablished: string | null;
  readonly marks: MisbehavingMark[];
  markCount: number;
  openAtAttach: boolean;
}

function networkName(network: number | null, given: string | null): string {
  if (given !== null && given !== '') return given;
  return network === null ? '' : nameOfNetwork(network);
}

export class ConnectionsAggregator extends ToolViewBase {
  readonly tool = 'p2p-connections' as const;
  readonly limits: ConnectionsLimits;
  private readonly connections = new Map<string, ConnectionState>();
  /** Latest connection of each peer id. */
  private readonly latestByPeer = new Map<string, ConnectionState>();
  private nextKey = 0;
  private forgotten = 0;
  private readonly totals = { inbound: 0, outbound: 0, closed: 0, evicted: 0, misbehaving: 0 };
  private traffic: PeerTraffic | null = null;
  private openAtAttach: number | null = null;
  private atAttachNote: string | null = null;

  constructor(options: ToolViewOptions & { limits?: Partial<ConnectionsLimits> } = {}) {
    super(options);
    this.limits = { ...DEFAULT_CONNECTIONS_LIMITS, ...options.limits };
  }

  /** Joins message counts of a P2P traffic session by peer id (null: none). */
  setPeerTraffic(traffic: PeerTraffic | null): void {
    this.traffic = traffic;
    this.touch();
  }

  protected ingestToolEvent(event: ToolEventLike, f: Readonly<Record<string, unknown>>, elapsedNs: number): 'accepted' | 'ignored' | 'other' {
    const pid = pidOf(f).pid ?? null;
    switch (event.event) {
      case 'net:inbound_connection':
      case 'net:outbound_connection': {
        const peerId = int64Text(f.peer_id);
        if (peerId === null) return 'ignored';
        const state = this.newConnection(peerId, pid);
        state.direction = event.event === 'net:inbound_connection' ? 'inbound' : 'outbound';
        this.describe(state, f);
        state.existing = int64Text(f.existing);
        state.openedNs = elapsedNs;
        this.totals[state.direction]++;
        return 'accepted';
      }
      case 'net:evicted_inbound_connection':
      case 'net:closed_connection': {
        const peerId = int64Text(f.peer_id);
        if (peerId === null) return 'ignored';
        const evicted = event.event === 'net:evicted_inbound_connection';
        let state = this.latestByPeer.get(peerKey(pid, peerId));
        // A connection that already closed cannot close again: this is a new one opened before the session.
        if (!state || state.closedNs !== null || (evicted && state.evictedNs !== null)) state = this.newConnection(peerId, pid);
        this.describe(state, f);
        if (state.direction === null) state.direction = evicted || state.connType === 'inbound' ? 'inbound' : 'outbound';
        state.timeEstablished = int64Text(f.time_established) ?? state.timeEstablished;
        if (evicted) {
          state.evictedNs = elapsedNs;
          this.totals.evicted++;
        } else {
          state.closedNs = elapsedNs;
          this.totals.closed++;
        }
        return 'accepted';
      }
      case 'node:state_at_attach': {
        if (f.available !== true || !Array.isArray(f.peers)) {
          this.atAttachNote = `Connections open before the probe attached appear when they close (the node's RPC was not asked: ${typeof f.reason === 'string' ? f.reason : 'unknown'}).`;
          return 'accepted';
        }
        this.openAtAttach = 0;
        for (const peer of f.peers as readonly Record<string, unknown>[]) {
          const peerId = int64Text(peer.peer_id);
          if (peerId === null || this.latestByPeer.has(peerKey(pid, peerId))) continue;
          const state = this.newConnection(peerId, pid);
          state.addr = stringField(peer.peer_addr) ?? '';
          state.connType = stringField(peer.conn_type) ?? '';
          state.networkName = stringField(peer.network_name) ?? '';
          state.direction = peer.inbound === true ? 'inbound' : 'outbound';
          const conntime = numberField(peer.conntime);
          state.timeEstablished = conntime !== null && conntime > 0 ? String(conntime) : null;
          state.openAtAttach = true;
          this.openAtAttach++;
        }
        return 'accepted';
      }
      case 'net:misbehaving_connection': {
        const peerId = int64Text(f.peer_id);
        if (peerId === null) return 'ignored';
        const state = this.latestByPeer.get(peerKey(pid, peerId)) ?? this.newConnection(peerId, pid);
        state.markCount++;
        this.totals.misbehaving++;
        const message = stringField(f.message) ?? '';
        if (state.marks.length < this.limits.maxMarksPerConnection) state.marks.push({ elapsedNs, message });
        else state.marks[state.marks.length - 1] = { elapsedNs, message };
        return 'accepted';
      }
      default:
        return 'other';
    }
  }

  private describe(state: ConnectionState, f: Readonly<Record<string, unknown>>): void {
    state.addr = stringField(f.peer_addr) ?? state.addr;
    state.connType = stringField(f.conn_type) ?? state.connType;
    const network = numberField(f.network);
    if (network !== null) state.network = network;
    state.networkName = networkName(state.network, stringField(f.network_name));
  }

  private newConnection(peerId: string, pid: number | null): ConnectionState {
    const state: ConnectionState = {
      key: String(this.nextKey++),
      peerId,
      pid,
      addr: '',
      connType: '',
      network: null,
      networkName: '',
      direction: null,
      existing: null,
      openedNs: null,
      closedNs: null,
      evictedNs: null,
      timeEstablished: null,
      marks: [],
      markCount: 0,
      openAtAttach: false,
    };
    this.connections.set(state.key, state);
    this.latestByPeer.set(peerKey(pid, peerId), state);
    if (this.connections.size > this.limits.maxConnections) this.forgetOne();
    return state;
  }

  private forgetOne(): void {
    let victim: ConnectionState | undefined;
    for (const state of this.connections.values()) {
      if (state.closedNs !== null || state.evictedNs !== null) {
        victim = state;
        break;
      }
    }
    victim ??= this.connections.values().next().value;
    if (!victim) return;
    this.connections.delete(victim.key);
    if (this.latestByPeer.get(peerKey(victim.pid, victim.peerId)) === victim) this.latestByPeer.delete(peerKey(victim.pid, victim.peerId));
    this.forgotten++;
  }

  private row(state: ConnectionState): ConnectionRow {
    const endedNs = state.closedNs ?? state.evictedNs;
    let durationNs: number | null = null;
    if (endedNs !== null && state.openedNs !== null) durationNs = endedNs - state.openedNs;
    else if (endedNs !== null && state.timeEstablished !== null && this.startedAtMs !== null) {
      durationNs = Math.max(0, (this.startedAtMs * 1e6 + endedNs) - Number(state.timeEstablished) * 1e9);
    }
    const traffic = this.traffic?.lookup(state.peerId, state.pid);
    return {
      key: state.key,
      peerId: state.peerId,
      ...(state.pid === null ? {} : { pid: state.pid }),
      addr: state.addr,
      connType: state.connType,
      network: state.network,
      networkName: state.networkName,
      direction: state.direction,
      existing: state.existing,
      openedNs: state.openedNs,
      endedNs,
      endKind: state.evictedNs !== null ? 'evicted' : state.closedNs !== null ? 'closed' : null,
      timeEstablished: state.timeEstablished,
      durationNs,
      misbehaving: [...state.marks],
      misbehavingCount: state.markCount,
      openAtAttach: state.openAtAttach,
      msgsIn: traffic ? traffic.msgsIn : null,
      msgsOut: traffic ? traffic.msgsOut : null,
    };
  }

  private matches(state: ConnectionState, needle: string, kind: string): boolean {
    switch (kind) {
      case '':
        break;
      case 'inbound':
      case 'outbound':
        if (state.direction !== kind) return false;
        break;
      case 'open':
        if (state.closedNs !== null || state.evictedNs !== null) return false;
        break;
      case 'closed':
        if (state.closedNs === null) return false;
        break;
      case 'evicted':
        if (state.evictedNs === null) return false;
        break;
      case 'misbehaving':
        if (state.markCount === 0) return false;
        break;
      default:
        if (state.connType !== kind) return false;
    }
    if (needle === '') return true;
    return (
      state.peerId === needle ||
      state.addr.toLowerCase().includes(needle) ||
      state.connType.toLowerCase().includes(needle) ||
      state.networkName.toLowerCase().includes(needle) ||
      state.marks.some((m) => m.message.toLowerCase().includes(needle))
    );
  }

  protected buildView(filter: ToolFilter): ConnectionsView {
    const needle = filterNeedle(filter);
    const all = [...this.connections.values()];
    const matching: ConnectionState[] = [];
    for (const state of all) if (this.matches(state, needle, filter.kind)) matching.push(state);
    let open = 0;
    for (const state of all) if (state.closedNs === null && state.evictedNs === null && (state.openedNs !== null || state.openAtAttach)) open++;
    return {
      tool: 'p2p-connections',
      rows: matching.slice(-MAX_SENT_ROWS).map((s) => this.row(s)),
      matchingRows: matching.length,
      totalConnections: all.length + this.forgotten,
      forgottenConnections: this.forgotten,
      ...this.totals,
      open,
      trafficSession: this.traffic?.label ?? null,
      openAtAttach: this.openAtAttach,
      atAttachNote: this.atAttachNote,
    };
  }
}

/**
 * Per-peer message counts of a P2P traffic session (net:*_message events and p2p:peer_totals), bounded; the
 * p2p-connections panel joins them by peer, a peer being (pid, peer id): over every process of a build each
 * node numbers its peers from 0.
 */
export class PeerMessageCounter {
  private readonly peers = new Map<string, { msgsIn: number; msgsOut: number; kernel: boolean }>();

  constructor(readonly maxPeers = 10_000) {}

  get size(): number {
    return this.peers.size;
  }

  ingestAll(events: readonly ToolEventLike[]): boolean {
    let changed = false;
    for (const event of events) {
      const f = event as unknown as Readonly<Record<string, unknown>>;
      if (event.event === 'net:inbound_message' || event.event === 'net:outbound_message') {
        const id = int64Text(f.peer_id);
        if (id === null) continue;
        const peer = this.peer(peerKey(pidOf(f).pid ?? null, id));
        if (peer.kernel) continue;
        if (event.event === 'net:inbound_message') peer.msgsIn++;
        else peer.msgsOut++;
        changed = true;
      } else if (event.event === 'p2p:peer_totals' && Array.isArray(f.peers)) {
        for (const item of f.peers as unknown[]) {
          if (typeof item !== 'object' || item === null) continue;
          const totals = item as Record<string, unknown>;
          const id = int64Text(totals.peer_id);
          if (id === null) continue;
          const peer = this.peer(peerKey(pidOf(totals).pid ?? null, id));
          peer.kernel = true;
          peer.msgsIn = numberField(totals.msgs_in) ?? peer.msgsIn;
          peer.msgsOut = numberField(totals.msgs_out) ?? peer.msgsOut;
          changed = true;
        }
      }
    }
    return changed;
  }

  lookup(peerId: string, pid: number | null): { msgsIn: number; msgsOut: number } | undefined {
    const peer = this.peers.get(peerKey(pid, peerId));
    return peer ? { msgsIn: peer.msgsIn, msgsOut: peer.msgsOut } : undefined;
  }

  private peer(id: string): { msgsIn: number; msgsOut: number; kernel: boolean } {
    let peer = this.peers.get(id);
    if (!peer) {
      peer = { msgsIn: 0, msgsOut: 0, kernel: false };
      this.peers.set(id, peer);
      if (this.peers.size > this.maxPeers) {
        const oldest = this.peers.keys().next().value;
        if (oldest !== undefined) this.peers.delete(oldest);
      }
    }
    return peer;
  }
}

// Aggregates one session's normalized events into the P2P panel's model: per-peer rows, a bounded ring of
// recent messages per peer, a global message-type breakdown, 1-second rate buckets and loss counters.
//
// Memory is bounded by the limits below (peers are evicted least-recently-active first). The per-message
// path allocates nothing in the steady state: counters live in typed arrays and message-type names are
// interned to small integers.
//
// Kernel-exact totals (p2p-monitor, and p2p-traffic filtered in the kernel) are authoritative. Once a peer appears in `p2p:peer_totals`, its message
// and byte counts are taken from the totals and no longer incremented by individual messages (which may have
// been lost); the session totals are the latest totals' sums plus what messages of other peers added, and
// the rate buckets get the growth between consecutive totals. Likewise `p2p:msg_type_totals` sets the
// message-type breakdown for the types it lists. Messages always feed the recent-message rings. Under a kernel
// filter the totals count every message of every peer (a peer none of whose messages passed appears with its id
// and counts) while only the filtered messages arrive: the rings and the type breakdown hold only those.

import type { Int64Field, MessageTypeTotals, NetMessageEvent, NormalizedEvent, PeerTotals } from '../events/eventTypes';
import type {
  MessageTypeRow,
  P2pCounters,
  P2pDelta,
  P2pSnapshot,
  PeerDetail,
  PeerId,
  PeerMessageTypeRow,
  PeerRow,
  RateSeries,
  RecentMessage,
  SessionStatus,
} from '../../shared/p2pProtocol';
import { SessionAccount, type AccountCounts } from '../session/sessionAccount';

export interface P2pAggregatorLimits {
  readonly maxPeers: number;
  readonly recentMessagesPerPeer: number;
  readonly rateWindowSeconds: number;
  /** Distinct message-type names kept globally; messages of further types are counted as "other". */
  readonly maxMessageTypes: number;
  /** Distinct message types counted per peer; further ones count as "other" for that peer. */
  readonly maxMessageTypesPerPeer: number;
  readonly maxSessionNotes: number;
  /** Distinct names kept in the truncated-by-field and fired-count tables. */
  readonly maxNamedCounters: number;
}

export const DEFAULT_P2P_LIMITS: P2pAggregatorLimits = {
  maxPeers: 10_000,
  recentMessagesPerPeer: 500,
  rateWindowSeconds: 600,
  maxMessageTypes: 1_024,
  maxMessageTypesPerPeer: 64,
  maxSessionNotes: 50,
  maxNamedCounters: 64,
};

const NS_PER_SECOND = 1e9;
/** Per-peer hints from a type index to its slot (a power of two). */
const TYPE_SLOT_HINTS = 64;
/** Type index of "a type beyond the cap"; real types start at 1. */
const OVERFLOW_TYPE = 0;

// Offsets into the per-type counter arrays (4 numbers per type).
const IN_COUNT = 0;
const IN_BYTES = 1;
const OUT_COUNT = 2;
const OUT_BYTES = 3;

class PeerState {
  readonly id: PeerId;
  readonly pid: number | null;
  addr: string;
  connType: string;
  msgsIn = 0;
  bytesIn = 0;
  msgsOut = 0;
  bytesOut = 0;
  firstSeenNs: number;
  lastActivityNs: number;
  kernelTotals = false;
  evicted = false;

  // Recent messages: a ring in time order, grown by push until it holds the limit, then overwritten from
  // ringStart. typeAndDirection = typeIndex * 2 + (outbound ? 1 : 0). Plain arrays: typed arrays cost more
  // to create than a peer that sends one message is worth.
  readonly ringElapsed: number[] = [];
  readonly ringSize: number[] = [];
  readonly ringTypeAndDirection: number[] = [];
  ringStart = 0;
  ringLength = 0;
  /** Messages ever pushed into the ring (sequence number of the newest). */
  messageCount = 0;
  /** Lowest sequence number whose entry was rewritten by an out-of-order insert since the last peerDetail. */
  lowestRewrittenSeq = Infinity;

  // Per-peer message-type counts: slot i counts type perPeerTypes[i] (in at 2i, out at 2i + 1); slot 0 is
  // "other" (beyond the per-peer cap, or beyond the global type cap).
  readonly perPeerTypes: number[] = [OVERFLOW_TYPE];
  readonly perPeerTypeCounts: number[] = [0, 0];
  /** A slot hint per `typeIndex & (TYPE_SLOT_HINTS - 1)`: verified against perPeerTypes before use. */
  readonly typeSlotHints = new Uint8Array(TYPE_SLOT_HINTS);

  // Least-recently-active list.
  older: PeerState | null = null;
  newer: PeerState | null = null;
  dirtyGeneration = -1;

  constructor(id: PeerId, pid: number | null, addr: string, connType: string, elapsedNs: number) {
    this.id = id;
    this.pid = pid;
    this.addr = addr;
    this.connType = connType;
    this.firstSeenNs = elapsedNs;
    this.lastActivityNs = elapsedNs;
  }
}

function isInt64Field(value: unknown): value is Int64Field {
  return (typeof value === 'number' && Number.isInteger(value)) || (typeof value === 'string' && /^-?\d{1,20}$/.test(value));
}

/** Message sizes are at most 4 MB in Bitcoin Core; anything unreadable counts as 0 bytes. */
function sizeOf(value: unknown): number {
  const size = typeof value === 'number' ? value : typeof value === 'string' ? Number(value) : NaN;
  return Number.isFinite(size) && size >= 0 ? size : 0;
}

function countOf(value: unknown): number {
  return typeof value === 'number' && Number.isFinite(value) && value >= 0 ? value : 0;
}

/** Map key for a peer id: the number when it is a safe integer (whatever its JSON form), else its string. */
function peerKey(value: Int64Field): number | string {
  if (typeof value === 'number') return value;
  const asNumber = Number(value);
  return Number.isSafeInteger(asNumber) && String(asNumber) === value ? asNumber : value;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null;
}

function checkedPeerTotals(value: unknown): PeerTotals | undefined {
  if (!isRecord(value) || !isInt64Field(value.peer_id)) return undefined;
  return {
    ...(typeof value.pid === 'number' ? { pid: value.pid } : {}),
    peer_id: value.peer_id,
    peer_addr: typeof value.peer_addr === 'string' ? value.peer_addr : '',
    conn_type: typeof value.conn_type === 'string' ? value.conn_type : '',
    msgs_in: countOf(value.msgs_in),
    bytes_in: countOf(value.bytes_in),
    msgs_out: countOf(value.msgs_out),
    bytes_out: countOf(value.bytes_out),
  };
}

function checkedTypeTotals(value: unknown): MessageTypeTotals | undefined {
  if (!isRecord(value) || typeof value.msg_type !== 'string') return undefined;
  return {
    msg_type: value.msg_type,
    msgs_in: countOf(value.msgs_in),
    bytes_in: countOf(value.bytes_in),
    msgs_out: countOf(value.msgs_out),
    bytes_out: countOf(value.bytes_out),
  };
}

/** The account's counts the P2P counters carry (delivered is the P2P model's own message count). */
function accountCounters(counts: AccountCounts): Pick<P2pCounters, 'lostEvents' | 'ignoredEvents' | 'truncatedStrings' | 'truncatedByField' | 'fired'> {
  const { lostEvents, ignoredEvents, truncatedStrings, truncatedByField, fired } = counts;
  return { lostEvents, ignoredEvents, truncatedStrings, truncatedByField, fired };
}

export class P2pAggregator {
  readonly limits: P2pAggregatorLimits;

  private readonly peers = new Map<number | string, PeerState>();
  private oldestPeer: PeerState | null = null;
  private newestPeer: PeerState | null = null;
  private peersEvicted = 0;

  private readonly typeIndexByName = new Map<string, number>();
  private readonly typeNames: (string | null)[] = [null];
  private readonly typeCounters: Float64Array;
  private readonly typeDirty: Uint8Array;
  private readonly dirtyTypes: number[] = [];

  /** Kernel totals: per-type flag "counters come from p2p:msg_type_totals". */
  private readonly typeFromKernel: Uint8Array;
  // Session totals = what messages of peers without kernel totals added + the latest kernel totals' sums.
  private readonly messageTotals = new Float64Array(4);
  private readonly kernelTotals = new Float64Array(4);
  /** Losses, cuts, kernel counts, events with fields of the wrong types, and the session's status. */
  private readonly account: SessionAccount;
  private lastElapsedNs = 0;

  // Rate buckets: slot = second % window. newestSecond < 0 until the first message.
  private readonly rates: Float64Array;
  private newestSecond = -1;
  /** Offset of the newest second's bucket in `rates`. */
  private newestSecondBase = 0;
  private firstSecond = -1;
  private rateDirtyFromSecond = Infinity;

  private generation = 0;
  private readonly dirtyPeers: PeerState[] = [];
  private removedPeerIds: PeerId[] = [];

  /**
   * `perProcess`: a session over every process of a build, where peer ids are each process's own: a peer is
   * (pid, peer id), its key `pid:id`.
   */
  constructor(limits: Partial<P2pAggregatorLimits> = {}, private readonly options: { readonly perProcess?: boolean } = {}) {
    this.limits = { ...DEFAULT_P2P_LIMITS, ...limits };
    if (this.limits.maxPeers < 1 || this.limits.recentMessagesPerPeer < 1 || this.limits.rateWindowSeconds < 1) {
      throw new RangeError('P2pAggregator limits must be at least 1');
    }
    this.typeCounters = new Float64Array((this.limits.maxMessageTypes + 1) * 4);
    this.typeDirty = new Uint8Array(this.limits.maxMessageTypes + 1);
    this.typeFromKernel = new Uint8Array(this.limits.maxMessageTypes + 1);
    this.rates = new Float64Array(this.limits.rateWindowSeconds * 4);
    this.account = new SessionAccount({ maxNamedCounters: this.limits.maxNamedCounters, maxSessionNotes: this.limits.maxSessionNotes });
  }

  get peerCount(): number {
    return this.peers.size;
  }

  ingestAll(events: readonly NormalizedEvent[]): void {
    for (let i = 0; i < events.length; i++) this.ingest(events[i]);
  }

  ingest(event: NormalizedEvent): void {
    switch (event.event) {
      case 'net:inbound_message':
        this.addMessage(event, false);
        return;
      case 'net:outbound_message':
        this.addMessage(event, true);
        return;
      case 'p2p:peer_totals':
        this.applyPeerTotals(event.peers, event.elapsed_ns);
        return;
      case 'p2p:msg_type_totals':
        this.applyTypeTotals(event.types);
        return;
      default:
        this.account.take(event);
        return;
    }
  }

  /** The session ended without a session:end event (e.g. the hub's end notification). */
  markEnded(reason: string): void {
    this.account.markEnded(reason);
  }

  /** Events from a recording file are only checked for their "event" field: check the rest here. */
  private elapsedOf(value: unknown): number {
    const elapsedNs = typeof value === 'number' && value >= 0 && value < Number.MAX_SAFE_INTEGER ? value : this.lastElapsedNs;
    if (elapsedNs > this.lastElapsedNs) this.lastElapsedNs = elapsedNs;
    return elapsedNs;
  }

  private addMessage(event: NetMessageEvent, outbound: boolean): void {
    if (
      typeof event.msg_type !== 'string' ||
      typeof event.peer_addr !== 'string' ||
      typeof event.conn_type !== 'string' ||
      !isInt64Field(event.peer_id)
    ) {
      this.account.ignore();
      return;
    }
    const elapsedNs = this.elapsedOf(event.elapsed_ns);
    const size = sizeOf(event.msg_size);
    const peer = this.peerFor(event.peer_id, typeof event.pid === 'number' ? event.pid : null, event.peer_addr, event.conn_type, elapsedNs);

    if (!peer.kernelTotals) {
      if (outbound) {
        peer.msgsOut++;
        peer.bytesOut += size;
      } else {
        peer.msgsIn++;
        peer.bytesIn += size;
      }
      const offset = outbound ? OUT_COUNT : IN_COUNT;
      this.messageTotals[offset]++;
      this.messageTotals[offset + 1] += size;
      this.addRate(elapsedNs, outbound ? 0 : 1, outbound ? 0 : size, outbound ? 1 : 0, outbound ? size : 0);
    }
    if (elapsedNs > peer.lastActivityNs) peer.lastActivityNs = elapsedNs;
    this.touch(peer);

    const typeIndex = this.internType(event.msg_type);
    if (this.typeFromKernel[typeIndex] === 0) {
      const base = typeIndex * 4 + (outbound ? OUT_COUNT : IN_COUNT);
      this.typeCounters[base]++;
      this.typeCounters[base + 1] += size;
      this.markTypeDirty(typeIndex);
    }
    this.countPeerType(peer, typeIndex, outbound);
    this.pushRecent(peer, elapsedNs, size, typeIndex * 2 + (outbound ? 1 : 0));
  }

  private markTypeDirty(typeIndex: number): void {
    if (this.typeDirty[typeIndex] === 0) {
      this.typeDirty[typeIndex] = 1;
      this.dirtyTypes.push(typeIndex);
    }
  }

  private internType(name: string): number {
    const known = this.typeIndexByName.get(name);
    if (known !== undefined) return known;
    if (this.typeNames.length > this.limits.maxMessageTypes) return OVERFLOW_TYPE;
    const index = this.typeNames.length;
    this.typeNames.push(name);
    this.typeIndexByName.set(name, index);
    return index;
  }

  private countPeerType(peer: PeerState, typeIndex: number, outbound: boolean): void {
    const types = peer.perPeerTypes;
    let slot = 0;
    if (typeIndex !== OVERFLOW_TYPE) {
      const hint = peer.typeSlotHints[typeIndex & (TYPE_SLOT_HINTS - 1)];
      if (types[hint] === typeIndex) {
        slot = hint;
      } else {
        slot = types.indexOf(typeIndex, 1);
        if (slot < 0) {
          if (types.length > this.limits.maxMessageTypesPerPeer) {
            slot = 0;
          } else {
            slot = types.length;
            types.push(typeIndex);
            peer.perPeerTypeCounts.push(0, 0);
          }
        }
        if (slot !== 0) peer.typeSlotHints[typeIndex & (TYPE_SLOT_HINTS - 1)] = slot;
      }
    }
    peer.perPeerTypeCounts[slot * 2 + (outbound ? 1 : 0)]++;
  }

  private pushRecent(peer: PeerState, elapsedNs: number, size: number, typeAndDirection: number): void {
    const limit = this.limits.recentMessagesPerPeer;
    let position: number;
    if (peer.ringLength < limit) {
      position = peer.ringLength;
      peer.ringElapsed.push(elapsedNs);
      peer.ringSize.push(size);
      peer.ringTypeAndDirection.push(typeAndDirection);
      peer.ringLength++;
    } else {
      position = peer.ringStart;
      peer.ringStart = peer.ringStart + 1 === limit ? 0 : peer.ringStart + 1;
    }
    const capacity = peer.ringElapsed.length;
    // Per-CPU buffers can deliver slightly out of order: move the new entry back to keep time order.
    let previous = position === 0 ? capacity - 1 : position - 1;
    let filled = peer.ringLength - 1;
    let seq = peer.messageCount + 1;
    while (filled > 0 && peer.ringElapsed[previous] > elapsedNs) {
      peer.ringElapsed[position] = peer.ringElapsed[previous];
      peer.ringSize[position] = peer.ringSize[previous];
      peer.ringTypeAndDirection[position] = peer.ringTypeAndDirection[previous];
      position = previous;
      previous = previous === 0 ? capacity - 1 : previous - 1;
      filled--;
      seq--;
    }
    if (seq <= peer.messageCount && seq < peer.lowestRewrittenSeq) peer.lowestRewrittenSeq = seq;
    peer.ringElapsed[position] = elapsedNs;
    peer.ringSize[position] = size;
    peer.ringTypeAndDirection[position] = typeAndDirection;
    peer.messageCount++;
  }

  private addRate(elapsedNs: number, msgsIn: number, bytesIn: number, msgsOut: number, bytesOut: number): void {
    const second = Math.floor(elapsedNs / NS_PER_SECOND);
    if (second === this.newestSecond && second >= this.rateDirtyFromSecond) {
      // The common case: another message in the newest second, already marked changed.
      const base = this.newestSecondBase;
      this.rates[base + IN_COUNT] += msgsIn;
      this.rates[base + IN_BYTES] += bytesIn;
      this.rates[base + OUT_COUNT] += msgsOut;
      this.rates[base + OUT_BYTES] += bytesOut;
      return;
    }
    const window = this.limits.rateWindowSeconds;
    if (this.newestSecond < 0) {
      this.newestSecond = second;
      this.firstSecond = second;
      this.newestSecondBase = (second % window) * 4;
    } else if (second > this.newestSecond) {
      const clearFrom = Math.max(this.newestSecond + 1, second - window + 1);
      for (let s = clearFrom; s <= second; s++) this.rates.fill(0, (s % window) * 4, (s % window) * 4 + 4);
      this.newestSecond = second;
      this.newestSecondBase = (second % window) * 4;
    } else if (second <= this.newestSecond - window) {
      return;
    } else if (second < this.firstSecond) {
      this.firstSecond = second;
    }
    const base = (second % window) * 4;
    this.rates[base + IN_COUNT] += msgsIn;
    this.rates[base + IN_BYTES] += bytesIn;
    this.rates[base + OUT_COUNT] += msgsOut;
    this.rates[base + OUT_BYTES] += bytesOut;
    if (second < this.rateDirtyFromSecond) this.rateDirtyFromSecond = second;
  }

  /** Totals are cumulative and list every peer the probe has seen, so their sums are the kernel's totals. */
  private applyPeerTotals(totals: readonly PeerTotals[], elapsedNs: number | undefined): void {
    const at = this.elapsedOf(elapsedNs);
    if (!Array.isArray(totals)) {
      this.account.ignore();
      return;
    }
    const sums = [0, 0, 0, 0];
    // Counts of peers switching to kernel totals that messages already put into the rate buckets.
    const alreadyInRates = [0, 0, 0, 0];
    for (const raw of totals) {
      const entry = checkedPeerTotals(raw);
      if (entry === undefined) {
        this.account.ignore();
        continue;
      }
      sums[IN_COUNT] += entry.msgs_in;
      sums[IN_BYTES] += entry.bytes_in;
      sums[OUT_COUNT] += entry.msgs_out;
      sums[OUT_BYTES] += entry.bytes_out;
      const peer = this.peerFor(entry.peer_id, entry.pid ?? null, entry.peer_addr, entry.conn_type, at);
      if (!peer.kernelTotals) {
        peer.kernelTotals = true;
        this.messageTotals[IN_COUNT] -= peer.msgsIn;
        this.messageTotals[IN_BYTES] -= peer.bytesIn;
        this.messageTotals[OUT_COUNT] -= peer.msgsOut;
        this.messageTotals[OUT_BYTES] -= peer.bytesOut;
        alreadyInRates[IN_COUNT] += peer.msgsIn;
        alreadyInRates[IN_BYTES] += peer.bytesIn;
        alreadyInRates[OUT_COUNT] += peer.msgsOut;
        alreadyInRates[OUT_BYTES] += peer.bytesOut;
      } else if (
        peer.msgsIn === entry.msgs_in &&
        peer.bytesIn === entry.bytes_in &&
        peer.msgsOut === entry.msgs_out &&
        peer.bytesOut === entry.bytes_out
      ) {
        continue;
      }
      peer.msgsIn = entry.msgs_in;
      peer.bytesIn = entry.bytes_in;
      peer.msgsOut = entry.msgs_out;
      peer.bytesOut = entry.bytes_out;
      if (at > peer.lastActivityNs) peer.lastActivityNs = at;
      this.touch(peer);
    }
    const growth = [0, 0, 0, 0];
    for (let i = 0; i < 4; i++) {
      growth[i] = Math.max(0, sums[i] - this.kernelTotals[i] - alreadyInRates[i]);
      this.kernelTotals[i] = sums[i];
    }
    if (growth[IN_COUNT] + growth[IN_BYTES] + growth[OUT_COUNT] + growth[OUT_BYTES] > 0 || this.newestSecond < 0) {
      this.addRate(at, growth[IN_COUNT], growth[IN_BYTES], growth[OUT_COUNT], growth[OUT_BYTES]);
    }
  }

  /** Cumulative per-type totals: they replace the message-derived counts of the types they list. */
  private applyTypeTotals(totals: readonly MessageTypeTotals[]): void {
    const overflow = [0, 0, 0, 0];
    let overflowSeen = false;
    if (!Array.isArray(totals)) {
      this.account.ignore();
      return;
    }
    for (const raw of totals) {
      const entry = checkedTypeTotals(raw);
      if (entry === undefined) {
        this.account.ignore();
        continue;
      }
      const typeIndex = this.internType(entry.msg_type);
      if (typeIndex === OVERFLOW_TYPE) {
        overflowSeen = true;
        overflow[IN_COUNT] += entry.msgs_in;
        overflow[IN_BYTES] += entry.bytes_in;
        overflow[OUT_COUNT] += entry.msgs_out;
        overflow[OUT_BYTES] += entry.bytes_out;
        continue;
      }
      this.setTypeCounters(typeIndex, entry.msgs_in, entry.bytes_in, entry.msgs_out, entry.bytes_out);
    }
    if (overflowSeen) this.setTypeCounters(OVERFLOW_TYPE, overflow[0], overflow[1], overflow[2], overflow[3]);
  }

  private setTypeCounters(typeIndex: number, msgsIn: number, bytesIn: number, msgsOut: number, bytesOut: number): void {
    const base = typeIndex * 4;
    const counters = this.typeCounters;
    this.typeFromKernel[typeIndex] = 1;
    if (
      counters[base + IN_COUNT] === msgsIn &&
      counters[base + IN_BYTES] === bytesIn &&
      counters[base + OUT_COUNT] === msgsOut &&
      counters[base + OUT_BYTES] === bytesOut
    ) {
      return;
    }
    counters[base + IN_COUNT] = msgsIn;
    counters[base + IN_BYTES] = bytesIn;
    counters[base + OUT_COUNT] = msgsOut;
    counters[base + OUT_BYTES] = bytesOut;
    this.markTypeDirty(typeIndex);
  }

  private peerFor(id: Int64Field, pid: number | null, addr: string, connType: string, elapsedNs: number): PeerState {
    const key = this.options.perProcess && pid !== null ? `${pid}:${String(peerKey(id))}` : peerKey(id);
    let peer = this.peers.get(key);
    if (peer === undefined) {
      if (this.peers.size >= this.limits.maxPeers) this.evictOldest();
      peer = new PeerState(String(key), pid, addr, connType, elapsedNs);
      this.peers.set(key, peer);
      this.linkNewest(peer);
    } else {
      // Ids restart with bitcoind (follow mode): the latest address and type win. Totals without them (p2p-traffic
      // counting every peer under a filter) keep the ones its messages named.
      if (peer.addr !== addr && addr !== '') peer.addr = addr;
      if (peer.connType !== connType && connType !== '') peer.connType = connType;
    }
    return peer;
  }

  private evictOldest(): void {
    const victim = this.oldestPeer;
    if (victim === null) return;
    this.unlink(victim);
    this.peers.delete(peerKey(victim.id));
    victim.evicted = true;
    this.peersEvicted++;
    if (this.removedPeerIds.length <= this.limits.maxPeers) this.removedPeerIds.push(victim.id);
  }

  /** Marks the peer changed and moves it to the newest end of the activity list. */
  private touch(peer: PeerState): void {
    if (peer.dirtyGeneration !== this.generation) {
      peer.dirtyGeneration = this.generation;
      this.dirtyPeers.push(peer);
    }
    if (peer !== this.newestPeer) {
      this.unlink(peer);
      this.linkNewest(peer);
    }
  }

  private linkNewest(peer: PeerState): void {
    peer.older = this.newestPeer;
    peer.newer = null;
    if (this.newestPeer !== null) this.newestPeer.newer = peer;
    this.newestPeer = peer;
    if (this.oldestPeer === null) this.oldestPeer = peer;
  }

  private unlink(peer: PeerState): void {
    if (peer.older !== null) peer.older.newer = peer.newer;
    else if (this.oldestPeer === peer) this.oldestPeer = peer.newer;
    if (peer.newer !== null) peer.newer.older = peer.older;
    else if (this.newestPeer === peer) this.newestPeer = peer.older;
    peer.older = null;
    peer.newer = null;
  }

  // ---- output ----

  private peerRow(peer: PeerState): PeerRow {
    return {
      id: peer.id,
      pid: peer.pid,
      connType: peer.connType,
      addr: peer.addr,
      msgsIn: peer.msgsIn,
      bytesIn: peer.bytesIn,
      msgsOut: peer.msgsOut,
      bytesOut: peer.bytesOut,
      firstSeenNs: peer.firstSeenNs,
      lastActivityNs: peer.lastActivityNs,
      kernelTotals: peer.kernelTotals,
    };
  }

  private typeRow(typeIndex: number): MessageTypeRow {
    const base = typeIndex * 4;
    return {
      msgType: this.typeNames[typeIndex] ?? null,
      msgsIn: this.typeCounters[base + IN_COUNT],
      bytesIn: this.typeCounters[base + IN_BYTES],
      msgsOut: this.typeCounters[base + OUT_COUNT],
      bytesOut: this.typeCounters[base + OUT_BYTES],
    };
  }

  private rateSeries(fromSecond: number): RateSeries {
    if (this.newestSecond < 0) return { startSecond: 0, msgsIn: [], msgsOut: [], bytesIn: [], bytesOut: [] };
    const window = this.limits.rateWindowSeconds;
    const start = Math.max(fromSecond, this.firstSecond, this.newestSecond - window + 1);
    const msgsIn: number[] = [];
    const msgsOut: number[] = [];
    const bytesIn: number[] = [];
    const bytesOut: number[] = [];
    for (let s = start; s <= this.newestSecond; s++) {
      const base = (s % window) * 4;
      msgsIn.push(this.rates[base + IN_COUNT]);
      bytesIn.push(this.rates[base + IN_BYTES]);
      msgsOut.push(this.rates[base + OUT_COUNT]);
      bytesOut.push(this.rates[base + OUT_BYTES]);
    }
    return { startSecond: start, msgsIn, msgsOut, bytesIn, bytesOut };
  }

  counters(): P2pCounters {
    return {
      peers: this.peers.size,
      peersEvicted: this.peersEvicted,
      msgsIn: this.messageTotals[IN_COUNT] + this.kernelTotals[IN_COUNT],
      bytesIn: this.messageTotals[IN_BYTES] + this.kernelTotals[IN_BYTES],
      msgsOut: this.messageTotals[OUT_COUNT] + this.kernelTotals[OUT_COUNT],
      bytesOut: this.messageTotals[OUT_BYTES] + this.kernelTotals[OUT_BYTES],
      ...accountCounters(this.account.counts()),
      messagesOfOverflowTypes: this.typeCounters[OVERFLOW_TYPE * 4 + IN_COUNT] + this.typeCounters[OVERFLOW_TYPE * 4 + OUT_COUNT],
      lastElapsedNs: Math.max(this.lastElapsedNs, this.account.lastElapsedNs),
    };
  }

  sessionStatus(): SessionStatus {
    return this.account.status();
  }

  /** Whether anything changed since the last snapshot or delta. */
  get hasChanges(): boolean {
    return (
      this.dirtyPeers.length > 0 ||
      this.removedPeerIds.length > 0 ||
      this.dirtyTypes.length > 0 ||
      this.rateDirtyFromSecond !== Infinity ||
      this.account.hasStatusChange
    );
  }

  private resetChanges(): void {
    this.generation++;
    this.dirtyPeers.length = 0;
    this.removedPeerIds = [];
    for (const index of this.dirtyTypes) this.typeDirty[index] = 0;
    this.dirtyTypes.length = 0;
    this.rateDirtyFromSecond = Infinity;
    this.account.takeStatusChange();
  }

  /** The whole model; the next delta reports changes after this point. */
  snapshot(): P2pSnapshot {
    const peers: PeerRow[] = [];
    for (const peer of this.peers.values()) peers.push(this.peerRow(peer));
    const messageTypes: MessageTypeRow[] = [];
    for (let i = 0; i < this.typeNames.length; i++) {
      if (i === OVERFLOW_TYPE && this.typeCounters[IN_COUNT] + this.typeCounters[OUT_COUNT] === 0) continue;
      messageTypes.push(this.typeRow(i));
    }
    const result: P2pSnapshot = {
      peers,
      messageTypes,
      rates: this.rateSeries(-Infinity),
      counters: this.counters(),
      session: this.sessionStatus(),
    };
    this.resetChanges();
    return result;
  }

  /** What changed since the previous snapshot or delta. */
  delta(): P2pDelta {
    const peers: PeerRow[] = [];
    for (const peer of this.dirtyPeers) if (!peer.evicted) peers.push(this.peerRow(peer));
    const messageTypes = this.dirtyTypes.map((index) => this.typeRow(index));
    const rates =
      this.rateDirtyFromSecond === Infinity
        ? { startSecond: this.newestSecond < 0 ? 0 : this.newestSecond + 1, msgsIn: [], msgsOut: [], bytesIn: [], bytesOut: [] }
        : this.rateSeries(this.rateDirtyFromSecond);
    const result: P2pDelta = {
      peers,
      removedPeerIds: this.removedPeerIds,
      messageTypes,
      rates,
      counters: this.counters(),
      session: this.account.hasStatusChange ? this.sessionStatus() : null,
    };
    this.resetChanges();
    return result;
  }

  hasPeer(peerId: PeerId): boolean {
    return this.peers.has(peerKey(peerId));
  }

  /** Sequence number of the peer's newest message (0: none yet or unknown peer). */
  latestMessageSeq(peerId: PeerId): number {
    return this.peers.get(peerKey(peerId))?.messageCount ?? 0;
  }

  /**
   * The peer's recent messages with a sequence number above `afterSeq` (all kept ones when 0), oldest
   * first, and its per-type counts. `replace` is true when the kept messages do not continue `afterSeq`.
   */
  peerDetail(peerId: PeerId, afterSeq = 0): PeerDetail {
    const peer = this.peers.get(peerKey(peerId));
    if (peer === undefined) return { peerId, replace: true, messages: [], messageTypes: [], gone: true };
    const oldestKeptSeq = peer.messageCount - peer.ringLength + 1;
    const replace =
      afterSeq === 0 || afterSeq + 1 < oldestKeptSeq || afterSeq > peer.messageCount || peer.lowestRewrittenSeq <= afterSeq;
    peer.lowestRewrittenSeq = Infinity;
    const fromSeq = replace ? oldestKeptSeq : afterSeq + 1;
    const messages: RecentMessage[] = [];
    const capacity = peer.ringElapsed.length;
    for (let seq = fromSeq; seq <= peer.messageCount; seq++) {
      const position = (peer.ringStart + (seq - oldestKeptSeq)) % capacity;
      const typeAndDirection = peer.ringTypeAndDirection[position];
      messages.push({
        seq,
        elapsedNs: peer.ringElapsed[position],
        direction: (typeAndDirection & 1) === 1 ? 'out' : 'in',
        msgType: this.typeNames[typeAndDirection >> 1] ?? null,
        size: peer.ringSize[position],
      });
    }
    const messageTypes: PeerMessageTypeRow[] = [];
    for (let slot = 0; slot < peer.perPeerTypes.length; slot++) {
      const msgsIn = peer.perPeerTypeCounts[slot * 2];
      const msgsOut = peer.perPeerTypeCounts[slot * 2 + 1];
      if (slot === 0 && msgsIn === 0 && msgsOut === 0) continue;
      messageTypes.push({ msgType: slot === 0 ? null : (this.typeNames[peer.perPeerTypes[slot]] ?? null), msgsIn, msgsOut });
    }
    return { peerId, replace, messages, messageTypes, gone: false };
  }
}

import { strict as assert } from 'node:assert';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { BpftraceDecoder } from '../../src/core/events/bpftraceDecoder';
import { networkName, networkNameOfPeerInfo } from '../../src/core/events/bpftraceToolEventTypes';
import type { NormalizedEvent } from '../../src/core/events/eventTypes';
import { loadRecording } from '../../src/core/events/recording';
import { EMPTY_FILTER, MAX_SENT_ROWS, type CoinSelectionView, type ConnectionsView, type FlushView, type MempoolView, type ToolFilter, type UtxosView } from '../../src/shared/toolPanelProtocol';
import { CoinSelectionAggregator } from '../../src/core/toolViews/coinSelectionView';
import { ConnectionsAggregator, PeerMessageCounter } from '../../src/core/toolViews/connectionsView';
import { FlushAggregator } from '../../src/core/toolViews/flushView';
import { MempoolAggregator } from '../../src/core/toolViews/mempoolView';
import { nodeStateAtAttachEvent } from '../../src/core/node/nodeState';
import { UtxosAggregator } from '../../src/core/toolViews/utxosView';
import { BoundedRing, SecondBuckets } from '../../src/core/toolViews/secondBuckets';
import { createToolViewAggregator, toolOfEvent } from '../../src/core/toolViews/toolViews';
import type { ToolEventLike } from '../../src/core/toolViews/eventFields';

type Ev = ToolEventLike & Record<string, unknown>;
const S = 1e9;

function txid(n: number): string {
  return n.toString(16).padStart(64, '0');
}

function filter(text: string, kind = ''): ToolFilter {
  return { text, kind };
}

describe('tool views: shared pieces', () => {
  it('SecondBuckets sums windows exactly and drops seconds older than the window', () => {
    const b = new SecondBuckets(2, 10);
    for (let s = 0; s < 25; s++) b.add(0, s + 0.5, s + 1);
    b.add(1, 24, 7);
    assert.equal(b.sum(0, 24, 1), 25);
    assert.equal(b.sum(0, 24, 3), 25 + 24 + 23);
    // Only the last 10 seconds are kept.
    assert.equal(b.sum(0, 24, 100), [16, 17, 18, 19, 20, 21, 22, 23, 24, 25].reduce((a, c) => a + c, 0));
    assert.equal(b.sum(1, 24, 10), 7);
    b.add(0, 3, 1000); // older than the window: dropped
    assert.equal(b.sum(0, 24, 100), 205);
    const series = b.series(27);
    assert.equal(series.startSecond, 18);
    assert.deepEqual(series.values[0], [19, 20, 21, 22, 23, 24, 25, 0, 0, 0]);
  });

  it('BoundedRing keeps the newest items and filters newest first', () => {
    const ring = new BoundedRing<number>(5);
    for (let i = 1; i <= 12; i++) ring.push(i);
    assert.equal(ring.length, 5);
    assert.equal(ring.droppedCount, 7);
    assert.deepEqual(ring.newestMatching(10, () => true).items, [8, 9, 10, 11, 12]);
    assert.deepEqual(ring.newestMatching(2, (n) => n % 2 === 0), { items: [10, 12], matching: 3 });
  });

  it('maps events to tools and creates the right aggregator', () => {
    assert.equal(toolOfEvent('net:evicted_inbound_connection'), 'p2p-connections');
    assert.equal(toolOfEvent('net:inbound_message'), null);
    assert.equal(toolOfEvent('utxocache:flush'), 'utxocache-flush');
    assert.equal(toolOfEvent('utxocache:spent'), 'utxos');
    assert.equal(toolOfEvent('mempool:replaced'), 'mempool-monitor');
    assert.equal(toolOfEvent('coin_selection:selected_coins'), 'coin-selection');
    assert.equal(createToolViewAggregator('utxos').tool, 'utxos');
  });

  it('counts losses, truncations, fired counts, bad events and session status', () => {
    const agg = new FlushAggregator();
    agg.ingestAll([
      { event: 'session:start', tool: 'utxocache-flush', binary: '/b', pid: 9 },
      { event: 'session:attached', probes: 1, pid: 9 },
      { event: 'lost', count: 5, source: 'bpftrace' },
      { event: 'lost', count: -1, source: 'reconciled' },
      { event: 'truncated', field: 'peer_addr', count: 2 },
      { event: 'fired', elapsed_ns: 3 * S, counts: { 'utxocache:flush': 4 } },
      { event: 'fired', elapsed_ns: 4 * S, counts: { 'utxocache:flush': 6 } },
      { event: 'utxocache:flush', elapsed_ns: S, duration_us: 'x', coins_count: 1, coins_mem_usage: 1 },
      { event: 'session:message', level: 'warning', message: 'w' },
      { event: 'session:end', reason: 'stopped' },
    ] as Ev[]);
    const snap = agg.snapshot(EMPTY_FILTER);
    assert.equal(snap.counters.lostEvents, 4);
    assert.equal(snap.counters.truncatedStrings, 2);
    assert.deepEqual(snap.counters.truncatedByField, [{ name: 'peer_addr', count: 2 }]);
    assert.deepEqual(snap.counters.fired, [{ name: 'utxocache:flush', count: 6 }]);
    assert.equal(snap.counters.ignoredEvents, 1);
    assert.equal(snap.counters.delivered, 0);
    assert.equal(snap.counters.lastElapsedNs, 4 * S);
    assert.equal(snap.session.pid, 9);
    assert.equal(snap.session.attachedProbes, 1);
    assert.equal(snap.session.ended, true);
    assert.equal(snap.session.endReason, 'stopped');
    assert.deepEqual(snap.session.notes, [{ level: 'warning', message: 'w' }]);
    assert.equal(agg.hasChanges, false);
    agg.ingestAll([{ event: 'lost', count: 1 }] as Ev[]);
    assert.equal(agg.hasChanges, true);
  });
});

describe('tool views: the node\'s state at the attach', () => {
  it('connections open at the attach are rows marked so; one closing later gets its duration from conntime', () => {
    const agg = new ConnectionsAggregator({ startedAtMs: 1_700_000_000_000 });
    agg.ingestAll([
      { event: 'session:attached', probes: 6, pid: 1, wall_clock_ms: 1_700_000_010_000 },
      { event: 'node:state_at_attach', available: true, peers: [
        { peer_id: 3, peer_addr: '127.0.0.1:18444', conn_type: 'outbound-full-relay', network_name: 'ipv4', inbound: false, conntime: 1_700_000_000 },
        { peer_id: 4, peer_addr: '127.0.0.1:50000', conn_type: 'inbound', network_name: 'unroutable', inbound: true, conntime: 1_700_000_005 },
        { peer_id: 5, peer_addr: '127.0.0.1:50001', conn_type: 'inbound', inbound: true, conntime: 1_700_000_006 },
      ], mempool: { size: 2, bytes: 400 } },
      { event: 'net:closed_connection', elapsed_ns: 5 * S, peer_id: 3, peer_addr: '127.0.0.1:18444', conn_type: 'outbound-full-relay', network: 1, network_name: 'ipv4', time_established: 1_700_000_000 },
    ] as Ev[]);
    const view = agg.snapshot(EMPTY_FILTER).view as ConnectionsView;
    assert.equal(view.openAtAttach, 3);
    assert.equal(view.open, 2);
    assert.equal(view.atAttachNote, null);
    const [first, second] = view.rows;
    assert.deepEqual([first.peerId, first.openAtAttach, first.endKind, first.durationNs], ['3', true, 'closed', 15 * S]);
    assert.deepEqual([second.peerId, second.direction, second.openAtAttach, second.endKind], ['4', 'inbound', true, null]);
    // The network getpeerinfo gave, in the tracepoint rows' naming; none given (an older recording): blank.
    assert.deepEqual(view.rows.map((r) => r.networkName), ['ipv4', 'unroutable', '']);
  });

  it('getpeerinfo\'s network names become the tracepoint\'s (NETWORK_NAMES by id)', () => {
    const given = ['not_publicly_routable', 'ipv4', 'ipv6', 'onion', 'i2p', 'cjdns'];
    assert.deepEqual(given.map(networkNameOfPeerInfo), given.map((_, id) => networkName(id)));
    assert.deepEqual(given.map(networkNameOfPeerInfo), ['unroutable', 'ipv4', 'ipv6', 'onion', 'i2p', 'cjdns']);
    assert.equal(networkNameOfPeerInfo('internal'), 'internal');
  });

  it('in a PID session (the probe\'s events carry the pid): the connection open at attach gets its messages and closes as the same row', () => {
    const agg = new ConnectionsAggregator({ startedAtMs: 1_700_000_000_000 });
    agg.ingestAll([
      { event: 'session:attached', probes: 6, pid: 7, wall_clock_ms: 1_700_000_010_000 },
      nodeStateAtAttachEvent(7, { available: true, peers: [
        { peer_id: 0, peer_addr: '127.0.0.1:30503', conn_type: 'manual', network_name: 'unroutable', inbound: false, conntime: 1_700_000_000 },
      ], mempool: { size: 1, bytes: 141 } }),
      { event: 'net:closed_connection', elapsed_ns: 5 * S, pid: 7, peer_id: 0, peer_addr: '127.0.0.1:30503', conn_type: 'manual', network: 1, network_name: 'ipv4', time_established: 1_700_000_000 },
    ] as Ev[]);
    const counter = new PeerMessageCounter();
    counter.ingestAll([
      { event: 'net:inbound_message', pid: 7, peer_id: 0, msg_type: 'inv' },
      { event: 'net:outbound_message', pid: 7, peer_id: 0, msg_type: 'getdata' },
      { event: 'net:outbound_message', pid: 7, peer_id: 0, msg_type: 'ping' },
    ] as Ev[]);
    agg.setPeerTraffic({ label: 'p2p-traffic · PID 7', lookup: (id, pid) => counter.lookup(id, pid) });
    const view = agg.snapshot(EMPTY_FILTER).view as ConnectionsView;
    assert.deepEqual(view.rows.map((r) => [r.pid, r.peerId, r.openAtAttach, r.endKind, r.msgsIn, r.msgsOut]), [[7, '0', true, 'closed', 1, 2]]);
    assert.equal(view.open, 0);
  });

  it('without the node\'s RPC: says that earlier connections appear when they close, and that the mempool size is not known', () => {
    const event = { event: 'node:state_at_attach', available: false, reason: 'its RPC cookie /x/.cookie is not readable by you' } as Ev;
    const connections = new ConnectionsAggregator();
    connections.ingestAll([event]);
    const view = connections.snapshot(EMPTY_FILTER).view as ConnectionsView;
    assert.equal(view.openAtAttach, null);
    assert.equal(view.atAttachNote, "Connections open before the probe attached appear when they close (the node's RPC was not asked: its RPC cookie /x/.cookie is not readable by you).");
    const mempool = new MempoolAggregator();
    mempool.ingestAll([event]);
    assert.equal((mempool.snapshot(EMPTY_FILTER).view as MempoolView).atAttach, null);
    const withSize = new MempoolAggregator();
    withSize.ingestAll([{ event: 'node:state_at_attach', available: true, peers: [], mempool: { size: 7, bytes: 1234 } } as Ev]);
    assert.deepEqual((withSize.snapshot(EMPTY_FILTER).view as MempoolView).atAttach, { size: 7, bytes: 1234 });
  });
});

describe('tool views: p2p-connections', () => {
  const base = { peer_addr: '1.2.3.4:8333', network: 1 };

  it('builds one row per connection with direction, end, duration and misbehaving marks', () => {
    const agg = new ConnectionsAggregator({ startedAtMs: 1_700_000_000_000 });
    agg.ingestAll([
      { event: 'net:inbound_connection', elapsed_ns: 1 * S, peer_id: 1, conn_type: 'inbound', existing: 1, ...base },
      { event: 'net:outbound_connection', elapsed_ns: 2 * S, peer_id: 2, conn_type: 'outbound-full-relay', existing: 1, peer_addr: 'abc.onion:8333', network: 3 },
      { event: 'net:misbehaving_connection', elapsed_ns: 3 * S, peer_id: 1, message: 'header with invalid proof of work' },
      { event: 'net:misbehaving_connection', elapsed_ns: 3.5 * S, peer_id: 1, message: 'second' },
      { event: 'net:evicted_inbound_connection', elapsed_ns: 4 * S, peer_id: 1, conn_type: 'inbound', time_established: 1_700_000_001, ...base },
      { event: 'net:closed_connection', elapsed_ns: 4.5 * S, peer_id: 1, conn_type: 'inbound', time_established: 1_700_000_001, ...base },
      // Opened before the session: only its close is seen; established 100 s before the session started.
      { event: 'net:closed_connection', elapsed_ns: 5 * S, peer_id: '9223372036854775807', conn_type: 'block-relay-only', time_established: 1_699_999_900, peer_addr: '[::1]:1', network: 2, network_name: 'ipv6' },
    ] as Ev[]);
    const view = agg.snapshot(EMPTY_FILTER).view as ConnectionsView;
    assert.equal(view.totalConnections, 3);
    assert.equal(view.rows.length, 3);
    const [one, two, big] = view.rows;
    assert.equal(one.peerId, '1');
    assert.equal(one.direction, 'inbound');
    assert.equal(one.endKind, 'evicted');
    assert.equal(one.endedNs, 4.5 * S);
    assert.equal(one.durationNs, 3.5 * S);
    assert.equal(one.networkName, 'ipv4');
    assert.equal(one.misbehavingCount, 2);
    assert.deepEqual(one.misbehaving.map((m) => m.message), ['header with invalid proof of work', 'second']);
    assert.equal(two.direction, 'outbound');
    assert.equal(two.endKind, null);
    assert.equal(two.networkName, 'onion');
    assert.equal(two.existing, '1');
    assert.equal(big.peerId, '9223372036854775807');
    assert.equal(big.openedNs, null);
    assert.equal(big.direction, 'outbound');
    assert.equal(big.durationNs, 105 * S);
    assert.deepEqual([view.inbound, view.outbound, view.closed, view.evicted, view.misbehaving, view.open], [1, 1, 2, 1, 2, 1]);
  });

  it('filters hide rows: by kind and by text', () => {
    const agg = new ConnectionsAggregator();
    const events: Ev[] = [];
    for (let i = 0; i < 10; i++) {
      events.push({ event: i % 2 ? 'net:inbound_connection' : 'net:outbound_connection', elapsed_ns: i * S, peer_id: i, conn_type: i % 2 ? 'inbound' : 'feeler', existing: 1, peer_addr: `10.0.0.${i}:8333`, network: 1 });
    }
    events.push({ event: 'net:closed_connection', elapsed_ns: 20 * S, peer_id: 3, conn_type: 'inbound', peer_addr: '10.0.0.3:8333', network: 1, time_established: 0 });
    agg.ingestAll(events);
    const rows = (f: ToolFilter) => (agg.snapshot(f).view as ConnectionsView).rows.map((r) => r.peerId);
    assert.deepEqual(rows(filter('', 'inbound')), ['1', '3', '5', '7', '9']);
    assert.deepEqual(rows(filter('', 'closed')), ['3']);
    assert.deepEqual(rows(filter('', 'feeler')), ['0', '2', '4', '6', '8']);
    assert.deepEqual(rows(filter('10.0.0.7')), ['7']);
    assert.deepEqual(rows(filter('5')), ['5']);
    assert.equal((agg.snapshot(filter('nomatch')).view as ConnectionsView).matchingRows, 0);
  });

  it('stays bounded, forgetting ended connections first, and joins message counts by peer id', () => {
    const agg = new ConnectionsAggregator({ limits: { maxConnections: 3 } });
    agg.ingestAll([
      { event: 'net:inbound_connection', elapsed_ns: 1, peer_id: 1, conn_type: 'inbound', existing: 1, ...base },
      { event: 'net:inbound_connection', elapsed_ns: 2, peer_id: 2, conn_type: 'inbound', existing: 2, ...base },
      { event: 'net:closed_connection', elapsed_ns: 3, peer_id: 2, conn_type: 'inbound', time_established: 0, ...base },
      { event: 'net:inbound_connection', elapsed_ns: 4, peer_id: 3, conn_type: 'inbound', existing: 2, ...base },
      { event: 'net:inbound_connection', elapsed_ns: 5, peer_id: 4, conn_type: 'inbound', existing: 3, ...base },
    ] as Ev[]);
    const counter = new PeerMessageCounter();
    counter.ingestAll([
      { event: 'net:inbound_message', peer_id: 3, msg_type: 'inv' },
      { event: 'net:inbound_message', peer_id: 3, msg_type: 'inv' },
      { event: 'net:outbound_message', peer_id: 3, msg_type: 'tx' },
      { event: 'p2p:peer_totals', peers: [{ peer_id: 4, msgs_in: 70, msgs_out: 80 }] },
    ] as Ev[]);
    agg.setPeerTraffic({ label: 'p2p session', lookup: (id, pid) => counter.lookup(id, pid) });
    const view = agg.snapshot(EMPTY_FILTER).view as ConnectionsView;
    assert.deepEqual(view.rows.map((r) => r.peerId), ['1', '3', '4']);
    assert.equal(view.forgottenConnections, 1);
    assert.equal(view.totalConnections, 4);
    assert.equal(view.trafficSession, 'p2p session');
    assert.deepEqual(view.rows.map((r) => [r.msgsIn, r.msgsOut]), [[null, null], [2, 1], [70, 80]]);
  });

  it('over every process, joins message counts by process and peer id: each node numbers its peers from 0', () => {
    const agg = new ConnectionsAggregator();
    agg.ingestAll([
      { event: 'net:outbound_connection', elapsed_ns: 1, pid: 100, peer_id: 0, conn_type: 'manual', existing: 1, ...base },
      { event: 'net:inbound_connection', elapsed_ns: 2, pid: 200, peer_id: 0, conn_type: 'inbound', existing: 1, ...base },
      { event: 'net:inbound_connection', elapsed_ns: 3, pid: 300, peer_id: 0, conn_type: 'inbound', existing: 1, ...base },
    ] as Ev[]);
    const counter = new PeerMessageCounter();
    counter.ingestAll([
      { event: 'net:outbound_message', pid: 100, peer_id: 0, msg_type: 'version' },
      { event: 'net:inbound_message', pid: 200, peer_id: 0, msg_type: 'version' },
      { event: 'net:inbound_message', pid: 200, peer_id: 0, msg_type: 'verack' },
      { event: 'p2p:peer_totals', peers: [{ pid: 100, peer_id: 0, msgs_in: 5, msgs_out: 6 }] },
    ] as Ev[]);
    agg.setPeerTraffic({ label: 'every bitcoind', lookup: (id, pid) => counter.lookup(id, pid) });
    const rows = (agg.snapshot(EMPTY_FILTER).view as ConnectionsView).rows;
    assert.deepEqual(rows.map((r) => [r.pid, r.peerId, r.msgsIn, r.msgsOut]), [[100, '0', 5, 6], [200, '0', 2, 0], [300, '0', null, null]]);
  });
});

describe('tool views: utxocache-flush', () => {
  it('lists every flush with mode names (incl. FORCE_SYNC; current names without a decoder name) and counts by mode; filters by mode and prune', () => {
    const agg = new FlushAggregator({ maxFlushes: 4 });
    const modes = [1, 2, 4, 3, 0, 7];
    agg.ingestAll(
      modes.map((mode, i) => ({ event: 'utxocache:flush', elapsed_ns: (i + 1) * S, duration_us: 100 * (i + 1), mode, coins_count: 1000 * i, coins_mem_usage: 2 ** 20 * i, is_flush_for_prune: i === 5 })) as Ev[],
    );
    const view = agg.snapshot(EMPTY_FILTER).view as FlushView;
    assert.equal(view.totalFlushes, 6);
    assert.equal(view.forgottenFlushes, 2);
    assert.deepEqual(view.rows.map((r) => r.mode_name), ['FORCE_SYNC', 'FORCE_FLUSH', 'NONE', 'UNKNOWN(7)']);
    assert.deepEqual(view.rows.map((r) => r.seq), [3, 4, 5, 6]);
    assert.equal(view.maxDurationUs, 600);
    assert.equal(view.totalDurationUs, 2100);
    assert.deepEqual(Object.fromEntries(view.byMode.map((m) => [m.name, m.count])), { IF_NEEDED: 1, PERIODIC: 1, FORCE_SYNC: 1, FORCE_FLUSH: 1, NONE: 1, 'UNKNOWN(7)': 1 });
    assert.deepEqual((agg.snapshot(filter('', 'prune')).view as FlushView).rows.map((r) => r.seq), [6]);
    assert.deepEqual((agg.snapshot(filter('force')).view as FlushView).rows.map((r) => r.seq), [3, 4]);
    assert.equal(agg.snapshot(EMPTY_FILTER).counters.delivered, 6);
  });

  it('prefers the decoder mode_name', () => {
    const agg = new FlushAggregator();
    agg.ingestAll([{ event: 'utxocache:flush', elapsed_ns: 1, duration_us: 1, mode: 9, mode_name: 'FUTURE', coins_count: 0, coins_mem_usage: 0, is_flush_for_prune: false }] as Ev[]);
    assert.equal((agg.snapshot(EMPTY_FILTER).view as FlushView).rows[0].mode_name, 'FUTURE');
  });
});

describe('tool views: utxos', () => {
  function op(event: string, elapsedNs: number, n: number): Ev {
    return { event, elapsed_ns: elapsedNs, txid: txid(n), index: n % 3, height: 800_000 + n, value: n * 1000, is_coinbase: n % 5 === 0 };
  }

  it('uses the kernel counts as exact totals and their growth as rates; keeps the newest rows', () => {
    const agg = new UtxosAggregator({ maxRows: 50 });
    const events: Ev[] = [];
    for (let i = 0; i < 100; i++) events.push(op(i % 4 === 0 ? 'utxocache:spent' : 'utxocache:add', 0.5 * S + i * 1e6, i));
    events.push({ event: 'fired', elapsed_ns: 1.0 * S, counts: { 'utxocache:add': 80, 'utxocache:spent': 30, 'utxocache:uncache': 0 } });
    events.push({ event: 'fired', elapsed_ns: 2.0 * S, counts: { 'utxocache:add': 500, 'utxocache:spent': 130, 'utxocache:uncache': 2 } });
    events.push({ event: 'lost', count: 532, source: 'reconciled' });
    agg.ingestAll(events);
    const snap = agg.snapshot(EMPTY_FILTER);
    const view = snap.view as UtxosView;
    assert.equal(view.countsFromKernel, true);
    assert.deepEqual(view.counts, { add: 500, spent: 130, uncache: 2 });
    assert.deepEqual(view.delivered, { add: 75, spent: 25, uncache: 0 });
    assert.equal(view.rates.startSecond, 0);
    assert.deepEqual(view.rates.add, [80, 420]);
    assert.deepEqual(view.rates.spent, [30, 100]);
    assert.deepEqual(view.rates.uncache, [0, 2]);
    assert.equal(view.keptRows, 50);
    assert.equal(view.rows.length, 50);
    assert.equal(view.rows[49].txid, txid(99));
    assert.equal(snap.counters.lostEvents, 532);
  });

  it('filters by txid prefix and operation; falls back to delivered counts without kernel counts', () => {
    const agg = new UtxosAggregator();
    agg.ingestAll([op('utxocache:add', 1, 0xabc), op('utxocache:spent', 2, 0xabc), op('utxocache:uncache', 3, 0xdef), { event: 'utxocache:add', txid: 'zz', index: 0, height: 1, value: 1 }] as Ev[]);
    const view = (f: ToolFilter) => agg.snapshot(f).view as UtxosView;
    assert.equal(view(EMPTY_FILTER).countsFromKernel, false);
    assert.deepEqual(view(EMPTY_FILTER).counts, { add: 1, spent: 1, uncache: 1 });
    assert.equal(agg.snapshot(EMPTY_FILTER).counters.ignoredEvents, 1);
    const prefix = txid(0xabc).slice(0, 62);
    assert.deepEqual(view(filter(prefix)).rows.map((r) => r.op), ['add', 'spent']);
    assert.deepEqual(view(filter(prefix.toUpperCase(), 'spent')).rows.map((r) => r.op), ['spent']);
    assert.deepEqual(view(filter('', 'uncache')).rows.map((r) => r.txid), [txid(0xdef)]);
    assert.equal(view(filter('1')).matchingRows, 0);
    assert.equal(view(EMPTY_FILTER).rows[0].valueSat, String(0xabc * 1000));
  });

  it('prefers utxocache:ops counts (summed over bpftrace runs) over fired counts', () => {
    const agg = new UtxosAggregator();
    const ops = (elapsedNs: number, add: number, spent: number, uncache: number): Ev => ({ event: 'utxocache:ops', elapsed_ns: elapsedNs, counts: { add, spent, uncache }, interval_ns: S, per_second: { add: 0, spent: 0, uncache: 0 } });
    agg.ingestAll([
      ops(1 * S, 10, 5, 0),
      { event: 'fired', elapsed_ns: 1 * S, counts: { 'utxocache:add': 999 } },
      ops(2 * S, 30, 9, 1),
      // A re-attach: the new bpftrace run counts from 0 again.
      ops(4 * S, 4, 0, 0),
      ops(5 * S, 14, 2, 0),
    ]);
    const view = agg.snapshot(EMPTY_FILTER).view as UtxosView;
    assert.equal(view.countsFromKernel, true);
    assert.deepEqual(view.counts, { add: 44, spent: 11, uncache: 1 });
    assert.deepEqual(view.rates.add, [10, 20, 0, 4, 10]);
    assert.equal(agg.snapshot(EMPTY_FILTER).counters.delivered, 0);
  });

  it('sends at most MAX_SENT_ROWS rows', () => {
    const agg = new UtxosAggregator();
    agg.ingestAll(Array.from({ length: MAX_SENT_ROWS + 10 }, (_v, i) => op('utxocache:add', i, i)));
    const view = agg.snapshot(EMPTY_FILTER).view as UtxosView;
    assert.equal(view.rows.length, MAX_SENT_ROWS);
    assert.equal(view.matchingRows, MAX_SENT_ROWS + 10);
  });
});

describe('one time base: a recorded helper and BCC stream whose probe attached 8 s after the launch', () => {
  // Real: probes/bitcoin-usdt-helper.py ran mempool-monitor (BCC) on the master bitcoind (regtest), its connections
  // merged by HelperStream as in the extension. Transaction A entered at 1796420635 (getmempoolentry); the probe was
  // launched at 1796420636.435 s, the password typed 5 s late, BCC compiled for 2.25 s and attached at 1796420644.297 s
  // (the helper's attached record); B entered at 1796420644; the block that took both has the time 1796420647 (the
  // chain below it was mined an hour in the past, so its time is the wall clock when it was mined): the node's own
  // stays are 12 s and 3 s. The node was stopped 0.5 s after the block.
  const LAUNCHED_AT_MS = 1_796_420_636_435;
  const BEFORE_ATTACH = 'ca94dc7a3451a2596306024a89eb5024ec770a431816414da0174132ca002634';
  const AFTER_ATTACH = '5511fe8ab0d3bbbce26c652b721f05c53e2aee04ea93e8ed7521c718d9a5ac91';
  const lines = readFileSync(join(__dirname, '..', 'fixtures', 'bpftrace', 'mempool-monitor-late-attach.ndjson'), 'utf8').split('\n');
  /** The helper's attached record (control connection) before BCC's attached_probes (its data connection). */
  const controlFirst = (): string[] => {
    const probes = lines.findIndex((l) => l.startsWith('{"type": "attached_probes"'));
    const attached = lines.findIndex((l) => l.includes('"event": "attached"'));
    assert.ok(probes >= 0 && attached === probes + 1);
    const swapped = [...lines];
    [swapped[probes], swapped[attached]] = [lines[attached], lines[probes]];
    return swapped;
  };

  function replay(input: readonly string[]): { events: NormalizedEvent[]; view: MempoolAggregator } {
    const decoder = new BpftraceDecoder({ toolId: 'mempool-monitor', streamedTracepoints: ['mempool:added', 'mempool:removed', 'mempool:replaced', 'mempool:rejected'] });
    const events = [...input.flatMap((line) => decoder.decodeLine(line)), ...decoder.finish()];
    // The panel's aggregator starts from the launch (the session descriptor's time), as toolPanel.ts creates it.
    const view = new MempoolAggregator({ startedAtMs: LAUNCHED_AT_MS });
    view.ingestAll(events as Ev[]);
    return { events, view };
  }

  for (const [order, input] of [['as it arrived', lines], ['with the helper\'s attached record first', controlFirst()]] as const) {
    it(`shows the node's own time in the mempool for a transaction added before the attach and one after (${order})`, () => {
      const { view } = replay(input);
      assert.equal(view.timeOriginMs, 1_796_420_644_296.845, 'the time origin is the attach, not the launch');
      const removed = (view.snapshot(EMPTY_FILTER).view as MempoolView).rows.filter((r) => r.kind === 'removed');
      const stay = (txid: string): unknown => removed.find((r) => r.txid === txid)?.inMempool;
      assert.deepEqual(stay(BEFORE_ATTACH), { ns: 12 * S, from: 'entry_time' });
      assert.deepEqual(stay(AFTER_ATTACH), { ns: 3_090_945_104, from: 'added' });
    });

    it(`times the helper's own records from the attach too: the node exits after the block it mined (${order})`, () => {
      const { events } = replay(input);
      const removal = events.find((e) => e.event === 'mempool:removed');
      const exit = events.find((e) => e.event === 'node:exit');
      assert.ok(removal && 'elapsed_ns' in removal && exit?.event === 'node:exit');
      assert.equal(removal.elapsed_ns, 3_155_134_308, 'BCC\'s clock minus its 2.25 s before the attach');
      // CLOCK_MONOTONIC of node:exit minus that of the helper's attached record.
      assert.equal(exit.elapsed_ns, 23_132_753_153_871 - 23_128_738_163_320);
      assert.ok(exit.elapsed_ns > removal.elapsed_ns);
    });
  }
});

describe('tool views: mempool-monitor', () => {
  it('times a stay from the added event it saw (ns), never from the whole-second entry_time beside event times', () => {
    // The session started at 1,000,000.900 s (UNIX); the transaction entered at 1,000,005.990 and left 12 ms later.
    const agg = new MempoolAggregator({ startedAtMs: 1_000_000_900 });
    agg.ingestAll([
      { event: 'mempool:added', elapsed_ns: 5_090_000_000, txid: txid(1), vsize: 100, fee: 1000 },
      { event: 'mempool:removed', elapsed_ns: 5_102_000_000, txid: txid(1), reason: 'block', vsize: 100, fee: 1000, entry_time: 1_000_005 },
    ] as Ev[]);
    const removal = (agg.snapshot(EMPTY_FILTER).view as MempoolView).rows.find((r) => r.kind === 'removed');
    assert.deepEqual(removal?.inMempool, { ns: 12_000_000, from: 'added' });
  });

  it('takes its wall clock from the attach (session:attached wall_clock_ms), not from the launch: a password typed late shifts nothing', () => {
    // Launched at 1,000,000.000 s; the password and the compile took 5.9 s; attached at 1,000,005.900 s (elapsed 0).
    const agg = new MempoolAggregator({ startedAtMs: 1_000_000_000 });
    agg.ingestAll([
      { event: 'session:attached', probes: 4, pid: 1, wall_clock_ms: 1_000_005_900 },
      // Removed 8.2 s after the attach (1,000,014.1 s); it entered at 1,000,006 s (whole seconds): 8 s in the mempool.
      { event: 'mempool:removed', elapsed_ns: 8_200_000_000, txid: txid(7), reason: 'block', vsize: 1, fee: 1, entry_time: 1_000_006 },
    ] as Ev[]);
    const removal = (agg.snapshot(EMPTY_FILTER).view as MempoolView).rows.find((r) => r.kind === 'removed');
    assert.deepEqual(removal?.inMempool, { ns: 8 * S, from: 'entry_time' });
    assert.equal(agg.timeOriginMs, 1_000_005_900);
  });

  it('times a transaction added before the session from entry_time, in whole seconds against the removal second', () => {
    const agg = new MempoolAggregator({ startedAtMs: 1_000_000_900, maxTrackedEntries: 2 });
    agg.ingestAll([
      // Entered at 999,992.x s, removed at 1,000,001.2 s: the node's own clocks (whole seconds) say 9 s.
      { event: 'mempool:removed', elapsed_ns: 300_000_000, txid: txid(2), reason: 'block', vsize: 1, fee: 1, entry_time: 999_992 },
      // Added events remembered are bounded: the oldest (txid 3) is forgotten, its removal falls back to entry_time.
      { event: 'mempool:added', elapsed_ns: 1 * S, txid: txid(3), vsize: 1, fee: 1 },
      { event: 'mempool:added', elapsed_ns: 2 * S, txid: txid(4), vsize: 1, fee: 1 },
      { event: 'mempool:added', elapsed_ns: 3 * S, txid: txid(5), vsize: 1, fee: 1 },
      { event: 'mempool:removed', elapsed_ns: 4 * S, txid: txid(3), reason: 'block', vsize: 1, fee: 1, entry_time: 1_000_001 },
      { event: 'mempool:removed', elapsed_ns: 4 * S, txid: txid(4), reason: 'block', vsize: 1, fee: 1, entry_time: 1_000_002 },
      // No entry time and no added event: unknown, not zero.
      { event: 'mempool:removed', elapsed_ns: 5 * S, txid: txid(6), reason: 'block', vsize: 1, fee: 1, entry_time: 0 },
    ] as Ev[]);
    const removed = (agg.snapshot(EMPTY_FILTER).view as MempoolView).rows.filter((r) => r.kind === 'removed');
    assert.deepEqual(
      removed.map((r) => r.inMempool),
      [{ ns: 9 * S, from: 'entry_time' }, { ns: 3 * S, from: 'entry_time' }, { ns: 2 * S, from: 'added' }, null],
    );
  });

  it('counts over the session, the last minute and the last ten minutes', () => {
    const agg = new MempoolAggregator({ startedAtMs: 1_700_000_000_000 });
    const events: Ev[] = [];
    // One added per second for 15 minutes; a removal every 30 s; one rejection at 100 s.
    for (let s = 0; s < 900; s++) events.push({ event: 'mempool:added', elapsed_ns: s * S + 1, txid: txid(s), vsize: 200, fee: 1000 });
    for (let s = 0; s < 900; s += 30) events.push({ event: 'mempool:removed', elapsed_ns: s * S + 2, txid: txid(s), reason: 'block', vsize: 200, fee: 1000, entry_time: 1_700_000_000 });
    events.push({ event: 'mempool:rejected', elapsed_ns: 100 * S, txid: txid(1), reason: 'min relay fee not met' });
    agg.ingestAll(events);
    const view = agg.snapshot(EMPTY_FILTER).view as MempoolView;
    assert.deepEqual(view.total, { added: 900, removed: 30, replaced: 0, rejected: 1 });
    // Now is second 899: the last minute holds seconds 840..899, the last ten minutes 300..899.
    assert.deepEqual(view.lastMinute, { added: 60, removed: 2, replaced: 0, rejected: 0 });
    assert.deepEqual(view.lastTenMinutes, { added: 600, removed: 20, replaced: 0, rejected: 0 });
    assert.equal(view.rates.added.length, 600);
    // A live clock two minutes later: nothing in the last minute.
    const later = agg.snapshot(EMPTY_FILTER, 1020 * S).view as MempoolView;
    assert.deepEqual(later.lastMinute, { added: 0, removed: 0, replaced: 0, rejected: 0 });
    assert.equal(later.lastTenMinutes.added, 479); // seconds 421..899
    const removal = view.rows.find((r) => r.kind === 'removed' && r.txid === txid(870));
    assert.ok(removal);
    // Its added event was seen 1 ns before: the time comes from it, not from the whole-second entry_time.
    assert.deepEqual(removal.inMempool, { ns: 1, from: 'added' });
    assert.equal(removal.feeRate, 5);
    assert.equal(removal.reason, 'block');
  });

  it('keeps replacement details and filters by kind, txid prefix and reason', () => {
    const agg = new MempoolAggregator({ startedAtMs: 1_000_000 });
    agg.ingestAll([
      { event: 'mempool:added', elapsed_ns: 1, txid: txid(0xaa), vsize: 141, fee: 2820 },
      {
        event: 'mempool:replaced', elapsed_ns: 2 * S, replaced_txid: txid(0xaa), replaced_vsize: 141, replaced_fee: 2820, replaced_entry_time: 990,
        replacement_id: txid(0xbb), replacement_vsize: 141, replacement_fee: 5640, replaced_by_transaction: true,
      },
      { event: 'mempool:rejected', elapsed_ns: 3 * S, txid: txid(0xcc), reason: 'insufficient fee<script>' },
      { event: 'mempool:removed', elapsed_ns: 4 * S, txid: 'bad', reason: 'x', vsize: 1, fee: 1, entry_time: 0 },
    ] as Ev[]);
    const rows = (f: ToolFilter) => (agg.snapshot(f).view as MempoolView).rows;
    const replaced = rows(filter('', 'replaced'));
    assert.equal(replaced.length, 1);
    assert.deepEqual(replaced[0].replacement, { replacedVsize: 141, replacedFee: '2820', replacementId: txid(0xbb), replacementVsize: 141, replacementFee: '5640', byTransaction: true });
    assert.deepEqual(replaced[0].inMempool, { ns: 2 * S - 1, from: 'added' }); // added at 1 ns, replaced at 2 s
    assert.equal(replaced[0].feeRate, 20);
    assert.deepEqual(rows(filter(txid(0xbb).slice(0, 63))).map((r) => r.kind), ['replaced']);
    assert.deepEqual(rows(filter('INSUFFICIENT')).map((r) => r.kind), ['rejected']);
    assert.equal(agg.snapshot(EMPTY_FILTER).counters.ignoredEvents, 1);
  });
});

describe('tool views: coin-selection', () => {
  it('groups the four tracepoints into one attempt per transaction, per wallet', () => {
    const agg = new CoinSelectionAggregator();
    const w = (name: string, extra: Record<string, unknown>): Record<string, unknown> => ({ wallet_name: name, ...extra });
    agg.ingestAll([
      // Attempt 1 (wallet a): normal then APS, APS used.
      { event: 'coin_selection:selected_coins', elapsed_ns: 1, ...w('a', { algo: 'bnb', target: 100_000, waste: -200, selected_value: 100_500 }) },
      // Interleaved wallet b: selection failed (no selected_coins), create failed.
      { event: 'coin_selection:normal_create_tx_internal', elapsed_ns: 2, ...w('b', { success: false, fee: 0, change_pos: -1 }) },
      { event: 'coin_selection:normal_create_tx_internal', elapsed_ns: 3, ...w('a', { success: true, fee: 300, change_pos: -1 }) },
      { event: 'coin_selection:attempting_aps_create_tx', elapsed_ns: 4, ...w('a', {}) },
      { event: 'coin_selection:selected_coins', elapsed_ns: 5, ...w('a', { algo: 'knapsack', target: 100_000, waste: 50, selected_value: 150_000 }) },
      { event: 'coin_selection:aps_create_tx_internal', elapsed_ns: 6, ...w('a', { use_aps: true, success: true, fee: 320, change_pos: 1 }) },
      // Attempt 3 (wallet a): normal only, srd.
      { event: 'coin_selection:selected_coins', elapsed_ns: 7, ...w('a', { algo: 'srd', target: '9007199254740993', waste: 10, selected_value: '9007199254740999' }) },
      { event: 'coin_selection:normal_create_tx_internal', elapsed_ns: 8, ...w('a', { success: true, fee: 141, change_pos: 0 }) },
    ] as Ev[]);
    const view = agg.snapshot(EMPTY_FILTER).view as CoinSelectionView;
    assert.equal(view.totalAttempts, 3);
    const [first, second, third] = view.rows;
    assert.equal(first.wallet, 'a');
    assert.deepEqual(first.normal, { algo: 'bnb', target: '100000', waste: '-200', selectedValue: '100500', fee: '300', changePos: -1, success: true });
    assert.deepEqual(first.aps, { algo: 'knapsack', target: '100000', waste: '50', selectedValue: '150000', fee: '320', changePos: 1, success: true });
    assert.equal(first.apsUsed, true);
    assert.equal(second.wallet, 'b');
    assert.deepEqual(second.normal, { algo: null, target: null, waste: null, selectedValue: null, fee: '0', changePos: -1, success: false });
    assert.equal(second.aps, null);
    assert.equal(third.normal?.target, '9007199254740993');
    assert.equal(third.normal?.algo, 'srd');
    assert.equal(third.aps, null);
    assert.deepEqual([view.succeeded, view.failed, view.apsUsed], [2, 1, 1]);
    const kinds = (f: ToolFilter) => (agg.snapshot(f).view as CoinSelectionView).rows.map((r) => r.seq);
    assert.deepEqual(kinds(filter('', 'failed')), [2]);
    assert.deepEqual(kinds(filter('', 'aps')), [1]);
    assert.deepEqual(kinds(filter('SRD')), [3]);
    assert.deepEqual(kinds(filter('b')), [1, 2]);
  });

  it('stays bounded', () => {
    const agg = new CoinSelectionAggregator({ maxAttempts: 10 });
    agg.ingestAll(Array.from({ length: 25 }, (_v, i) => ({ event: 'coin_selection:normal_create_tx_internal', elapsed_ns: i, wallet_name: `w${i % 3}`, success: true, fee: i, change_pos: 0 })));
    const view = agg.snapshot(EMPTY_FILTER).view as CoinSelectionView;
    assert.equal(view.totalAttempts, 25);
    assert.equal(view.rows.length, 10);
    assert.equal(view.forgottenAttempts, 15);
    assert.equal(view.rows[0].seq, 16);
  });
});

describe('tool views: the fixture recordings', () => {
  const tracepointEvent = /^(net:\w+_connection|utxocache:(flush|add|spent|uncache)|mempool:\w+|coin_selection:\w+)$/;
  for (const tool of ['p2p-connections', 'utxocache-flush', 'utxos', 'mempool-monitor', 'coin-selection'] as const) {
    it(`${tool}: every tracepoint event is taken, none is unreadable, losses add up`, async () => {
      const recording = await loadRecording(join(__dirname, '..', 'fixtures', 'recordings', `${tool}.ndjson`));
      assert.equal(recording.header.tool, tool);
      assert.deepEqual(recording.malformed, []);
      const agg = createToolViewAggregator(tool, { startedAtMs: Date.parse(recording.header.started_at) });
      agg.ingestAll(recording.events);
      const snapshot = agg.snapshot(EMPTY_FILTER);
      const events = recording.events as unknown as Ev[];
      assert.equal(snapshot.counters.delivered, events.filter((e) => tracepointEvent.test(e.event)).length);
      assert.equal(snapshot.counters.ignoredEvents, 0);
      assert.equal(snapshot.counters.lostEvents, events.filter((e) => e.event === 'lost').reduce((t, e) => t + Number(e.count), 0));
      assert.equal(snapshot.session.ended, true);
      assert.equal(snapshot.view.tool, tool);
    });
  }

  it('utxos: delivered + lost == the kernel counts', async () => {
    const recording = await loadRecording(join(__dirname, '..', 'fixtures', 'recordings', 'utxos.ndjson'));
    const agg = new UtxosAggregator();
    agg.ingestAll(recording.events);
    const snapshot = agg.snapshot(EMPTY_FILTER);
    const view = snapshot.view as UtxosView;
    assert.equal(view.delivered.add + view.delivered.spent + view.delivered.uncache + snapshot.counters.lostEvents, view.counts.add + view.counts.spent + view.counts.uncache);
  });
});

import { strict as assert } from 'node:assert';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { NormalizedEvent, PeerTotals } from '../../src/core/events/eventTypes';
import { BpftraceDecoder } from '../../src/core/events/bpftraceDecoder';
import { RecordingWriter, loadRecording } from '../../src/core/events/recording';
import { P2pAggregator } from '../../src/core/p2p/p2pAggregator';
import { netMessage } from '../netMessageEvent';
import { escapeInvisible, splitVisibleText } from '../../src/shared/visibleText';
import { parseFromWebview, parseUiState, DEFAULT_UI_STATE } from '../../src/shared/p2pProtocol';

const SECOND = 1e9;

function totals(peerId: number, msgsIn: number, bytesIn: number, msgsOut: number, bytesOut: number): PeerTotals {
  return { peer_id: peerId, peer_addr: `10.0.0.${peerId}:8333`, conn_type: 'inbound', msgs_in: msgsIn, bytes_in: bytesIn, msgs_out: msgsOut, bytes_out: bytesOut };
}

describe('P2pAggregator', () => {
  it('counts messages and bytes per peer, per type and in total exactly', () => {
    const aggregator = new P2pAggregator();
    const events: NormalizedEvent[] = [];
    for (let i = 0; i < 1000; i++) events.push(netMessage('in', i * 1e6, i % 3, i % 2 === 0 ? 'inv' : 'tx', 100 + i));
    for (let i = 0; i < 10; i++) events.push(netMessage('out', 2 * SECOND + i, 7, 'ping', 8));
    aggregator.ingestAll(events);
    const snapshot = aggregator.snapshot();
    assert.equal(snapshot.peers.length, 4);
    const byId = new Map(snapshot.peers.map((p) => [p.id, p]));
    let expectedBytes0 = 0;
    let expectedCount0 = 0;
    for (let i = 0; i < 1000; i += 3) {
      expectedBytes0 += 100 + i;
      expectedCount0++;
    }
    assert.equal(byId.get('0')?.msgsIn, expectedCount0);
    assert.equal(byId.get('0')?.bytesIn, expectedBytes0);
    assert.equal(byId.get('0')?.msgsOut, 0);
    assert.equal(byId.get('7')?.msgsOut, 10);
    assert.equal(byId.get('7')?.bytesOut, 80);
    assert.equal(byId.get('7')?.lastActivityNs, 2 * SECOND + 9);
    assert.equal(byId.get('7')?.addr, '10.0.0.7:8333');
    assert.equal(snapshot.counters.msgsIn, 1000);
    assert.equal(snapshot.counters.bytesIn, 1000 * 100 + (999 * 1000) / 2);
    assert.equal(snapshot.counters.msgsOut, 10);
    const types = new Map(snapshot.messageTypes.map((t) => [t.msgType, t]));
    assert.equal(types.get('inv')?.msgsIn, 500);
    assert.equal(types.get('tx')?.msgsIn, 500);
    assert.equal(types.get('ping')?.msgsOut, 10);
    assert.equal(types.get('ping')?.bytesOut, 80);
    const detail = aggregator.peerDetail('1');
    assert.deepEqual(
      detail.messageTypes.map((t) => [t.msgType, t.msgsIn, t.msgsOut]).sort(),
      [['inv', 166, 0], ['tx', 167, 0]].sort(),
    );
  });

  it('buckets rates per second and keeps only the last window', () => {
    const aggregator = new P2pAggregator({ rateWindowSeconds: 5 });
    aggregator.ingestAll([
      netMessage('in', 0.1 * SECOND, 1, 'inv', 10),
      netMessage('in', 0.9 * SECOND, 1, 'inv', 20),
      netMessage('out', 1.5 * SECOND, 1, 'tx', 300),
      netMessage('in', 3.2 * SECOND, 1, 'inv', 5),
    ]);
    let rates = aggregator.snapshot().rates;
    assert.equal(rates.startSecond, 0);
    assert.deepEqual(rates.msgsIn, [2, 0, 0, 1]);
    assert.deepEqual(rates.bytesIn, [30, 0, 0, 5]);
    assert.deepEqual(rates.msgsOut, [0, 1, 0, 0]);
    assert.deepEqual(rates.bytesOut, [0, 300, 0, 0]);
    aggregator.ingest(netMessage('in', 9.5 * SECOND, 1, 'inv', 1));
    // A message older than the window is counted in totals but not in the series.
    aggregator.ingest(netMessage('in', 2 * SECOND, 1, 'inv', 1));
    rates = aggregator.snapshot().rates;
    assert.equal(rates.startSecond, 5);
    assert.deepEqual(rates.msgsIn, [0, 0, 0, 0, 1]);
    assert.equal(aggregator.counters().msgsIn, 5);
  });

  it('keeps a bounded ring of recent messages per peer in time order', () => {
    const aggregator = new P2pAggregator({ recentMessagesPerPeer: 50 });
    for (let i = 1; i <= 120; i++) aggregator.ingest(netMessage(i % 2 ? 'in' : 'out', i * 1000, 42, `t${i % 4}`, i));
    // Out of order by a little (per-CPU buffers): lands in time order.
    aggregator.ingest(netMessage('in', 119_500, 42, 'late', 1));
    const detail = aggregator.peerDetail('42');
    assert.equal(detail.messages.length, 50);
    assert.equal(detail.replace, true);
    const elapsed = detail.messages.map((m) => m.elapsedNs);
    assert.deepEqual(elapsed, [...elapsed].sort((a, b) => a - b));
    assert.equal(detail.messages[detail.messages.length - 1].elapsedNs, 120_000);
    assert.equal(detail.messages[detail.messages.length - 2].msgType, 'late');
    assert.equal(detail.messages[detail.messages.length - 1].seq, 121);
    assert.equal(detail.messages[0].seq, 72);
    assert.equal(detail.messages[0].elapsedNs, 72_000);
    assert.equal(detail.messages.find((m) => m.elapsedNs === 72_000)?.direction, 'out');
    // Continuing from the last seq gives only new messages.
    aggregator.ingest(netMessage('out', 200_000, 42, 'pong', 8));
    const next = aggregator.peerDetail('42', 121);
    assert.equal(next.replace, false);
    assert.deepEqual(next.messages.map((m) => [m.seq, m.msgType, m.direction, m.size]), [[122, 'pong', 'out', 8]]);
    // Asking from a seq that fell out of the ring replaces.
    assert.equal(aggregator.peerDetail('42', 10).replace, true);
    // An out-of-order insert that rewrites already-sent entries replaces.
    aggregator.ingest(netMessage('in', 150_000, 42, 'reordered', 1));
    const afterReorder = aggregator.peerDetail('42', 122);
    assert.equal(afterReorder.replace, true);
    assert.equal(afterReorder.messages.length, 50);
    assert.equal(aggregator.peerDetail('999').gone, true);
  });

  it('evicts the least recently active peer beyond the cap and counts evictions', () => {
    const aggregator = new P2pAggregator({ maxPeers: 100 });
    for (let id = 0; id < 100; id++) aggregator.ingest(netMessage('in', id, id, 'inv', 1));
    aggregator.snapshot();
    aggregator.ingest(netMessage('in', 1000, 0, 'inv', 1)); // peer 0 active again: peer 1 is now the oldest
    aggregator.ingest(netMessage('in', 1001, 100, 'inv', 1));
    aggregator.ingest(netMessage('in', 1002, 101, 'inv', 1));
    assert.equal(aggregator.peerCount, 100);
    assert.equal(aggregator.hasPeer('0'), true);
    assert.equal(aggregator.hasPeer('1'), false);
    assert.equal(aggregator.hasPeer('2'), false);
    assert.equal(aggregator.hasPeer('3'), true);
    const delta = aggregator.delta();
    assert.deepEqual([...delta.removedPeerIds].sort(), ['1', '2']);
    assert.deepEqual(delta.peers.map((p) => p.id).sort(), ['0', '100', '101']);
    assert.equal(delta.counters.peersEvicted, 2);
    assert.equal(delta.counters.peers, 100);
    // Session totals still include the evicted peers' messages.
    assert.equal(delta.counters.msgsIn, 103);
  });

  it('stays bounded with 50,000 distinct peers and hostile type churn', () => {
    const aggregator = new P2pAggregator({ maxPeers: 1000, maxMessageTypes: 64 });
    for (let i = 0; i < 50_000; i++) aggregator.ingest(netMessage('in', i, i, `type${i}`, 1));
    const snapshot = aggregator.snapshot();
    assert.equal(snapshot.peers.length, 1000);
    assert.equal(snapshot.counters.peersEvicted, 49_000);
    assert.equal(snapshot.messageTypes.length, 65);
    assert.equal(snapshot.messageTypes.filter((t) => t.msgType === null).length, 1);
    assert.equal(snapshot.counters.messagesOfOverflowTypes, 50_000 - 64);
    assert.equal(snapshot.counters.msgsIn, 50_000);
    assert.equal(Math.min(...snapshot.peers.map((p) => Number(p.id))), 49_000);
  });

  it('takes p2p:peer_totals as authoritative for counts', () => {
    const aggregator = new P2pAggregator();
    aggregator.ingestAll([
      netMessage('in', 1 * SECOND, 1, 'inv', 100),
      netMessage('in', 1 * SECOND, 1, 'inv', 100),
      netMessage('in', 1 * SECOND, 2, 'tx', 250),
      { event: 'p2p:peer_totals', elapsed_ns: 2 * SECOND, peers: [totals(1, 5, 900, 3, 30)] },
      // Later messages of peer 1 do not change its (kernel) counts; peer 2 still counts messages.
      netMessage('in', 2.5 * SECOND, 1, 'inv', 100),
      netMessage('in', 2.5 * SECOND, 2, 'tx', 50),
    ]);
    let snapshot = aggregator.snapshot();
    let byId = new Map(snapshot.peers.map((p) => [p.id, p]));
    assert.deepEqual(
      [byId.get('1')?.msgsIn, byId.get('1')?.bytesIn, byId.get('1')?.msgsOut, byId.get('1')?.bytesOut, byId.get('1')?.kernelTotals],
      [5, 900, 3, 30, true],
    );
    assert.equal(byId.get('2')?.msgsIn, 2);
    assert.equal(byId.get('2')?.kernelTotals, false);
    assert.equal(snapshot.counters.msgsIn, 5 + 2);
    assert.equal(snapshot.counters.bytesIn, 900 + 300);
    assert.equal(snapshot.counters.msgsOut, 3);
    // Recent messages still hold every message of peer 1.
    assert.equal(aggregator.peerDetail('1').messages.length, 3);

    aggregator.ingest({ event: 'p2p:peer_totals', elapsed_ns: 3 * SECOND, peers: [totals(1, 9, 1300, 4, 40), totals(2, 4, 500, 0, 0)] });
    const delta = aggregator.delta();
    byId = new Map(delta.peers.map((p) => [p.id, p]));
    assert.equal(byId.get('1')?.msgsIn, 9);
    assert.equal(byId.get('2')?.msgsIn, 4);
    assert.equal(delta.counters.msgsIn, 13);
    assert.equal(delta.counters.bytesIn, 1800);
    assert.equal(delta.counters.msgsOut, 4);
    // Rates: messages before the totals + growth between totals, never counted twice.
    snapshot = aggregator.snapshot();
    const sum = (values: readonly number[]): number => values.reduce((a, b) => a + b, 0);
    assert.equal(sum(snapshot.rates.msgsIn), 13);
    assert.equal(sum(snapshot.rates.bytesIn), 1800);
    assert.equal(sum(snapshot.rates.msgsOut), 4);
  });

  it('builds the p2p-monitor view from totals alone', () => {
    const aggregator = new P2pAggregator();
    aggregator.ingestAll([
      { event: 'p2p:peer_totals', elapsed_ns: 1 * SECOND, peers: [totals(1, 10, 1000, 1, 10), totals(2, 2, 20, 0, 0)] },
      { event: 'p2p:msg_type_totals', elapsed_ns: 1 * SECOND, types: [{ msg_type: 'inv', msgs_in: 12, bytes_in: 1020, msgs_out: 1, bytes_out: 10 }] },
      { event: 'p2p:peer_totals', elapsed_ns: 2 * SECOND, peers: [totals(1, 15, 1500, 1, 10), totals(2, 2, 20, 0, 0)] },
      { event: 'p2p:msg_type_totals', elapsed_ns: 2 * SECOND, types: [{ msg_type: 'inv', msgs_in: 17, bytes_in: 1520, msgs_out: 1, bytes_out: 10 }] },
    ]);
    const snapshot = aggregator.snapshot();
    assert.equal(snapshot.counters.msgsIn, 17);
    assert.equal(snapshot.counters.bytesIn, 1520);
    assert.deepEqual(snapshot.messageTypes, [{ msgType: 'inv', msgsIn: 17, bytesIn: 1520, msgsOut: 1, bytesOut: 10 }]);
    assert.equal(snapshot.rates.startSecond, 1);
    assert.deepEqual(snapshot.rates.msgsIn, [12, 5]);
    assert.deepEqual(snapshot.rates.bytesIn, [1020, 500]);
  });

  it('a p2p-traffic session filtered in the kernel: the peer table counts every message of every peer (the kernel\'s per-peer counts), the messages only the filtered ones; its recording replays the same', async () => {
    // The lines p2p-traffic.bt prints for `peer 1` (the helper's records and bpftrace's, as the decoder reads them):
    // peer 1's messages, and with each interval print every peer's counts, filtered out or not.
    const PID = 4242;
    const lines = [
      `{"type": "helper", "data": {"event": "target", "tool": "p2p-traffic", "binary": "/t/bitcoind", "pid": ${PID}, "semaphores": true, "bpftrace": "/usr/bin/bpftrace", "bpftrace_version": "v0.17.0", "filters": {"peer": "1"}}}`,
      '{"type": "helper", "data": {"event": "started", "run": 1, "argv": [], "pid": 4242, "bpftrace_pid": 900, "monotonic_ns": 1000000000}}',
      '{"type": "attached_probes", "data": {"probes": 3}}',
      '{"type": "helper", "data": {"event": "attached", "pid": 4242, "realtime_ns": 1796411381789246998, "monotonic_ns": 2000000000}}',
      `{"type": "value", "data": ["in", 100000000, ${PID}, 1, "[2001:db8::1]:8333", "block-relay-only", "ping", 8]}`,
      `{"type": "value", "data": ["out", 200000000, ${PID}, 1, "[2001:db8::1]:8333", "block-relay-only", "pong", 8]}`,
      `{"type": "map", "data": {"@fired": {"${PID},net:inbound_message": 9, "${PID},net:outbound_message": 4}}}`,
      '{"type": "map", "data": {"@selected": {"net:inbound_message": 1, "net:outbound_message": 1}}}',
      `{"type": "map", "data": {"@msgs_in": {"${PID},0": 5, "${PID},1": 1, "${PID},2": 3}}}`,
      `{"type": "map", "data": {"@bytes_in": {"${PID},0": 500, "${PID},1": 8, "${PID},2": 30000}}}`,
      `{"type": "map", "data": {"@msgs_out": {"${PID},0": 3, "${PID},1": 1}}}`,
      `{"type": "map", "data": {"@bytes_out": {"${PID},0": 90, "${PID},1": 8}}}`,
      '{"type": "value", "data": ["totals", 500000000]}',
      `{"type": "value", "data": ["in", 600000000, ${PID}, 1, "[2001:db8::1]:8333", "block-relay-only", "tx", 250]}`,
      // At bpftrace's exit every map is printed once more (in its own order, without the totals tuple).
      `{"type": "map", "data": {"@bytes_in": {"${PID},0": 500, "${PID},1": 258, "${PID},2": 30000}}}`,
      `{"type": "map", "data": {"@bytes_out": {"${PID},0": 90, "${PID},1": 8}}}`,
      `{"type": "map", "data": {"@fired": {"${PID},net:inbound_message": 10, "${PID},net:outbound_message": 4}}}`,
      `{"type": "map", "data": {"@msgs_in": {"${PID},0": 5, "${PID},1": 2, "${PID},2": 3}}}`,
      `{"type": "map", "data": {"@msgs_out": {"${PID},0": 3, "${PID},1": 1}}}`,
      '{"type": "map", "data": {"@selected": {"net:inbound_message": 2, "net:outbound_message": 1}}}',
      '{"type": "helper", "data": {"event": "bpftrace_exit", "run": 1, "code": 0, "reason": "stopped by signal SIGINT"}}',
      '{"type": "helper", "data": {"event": "exit", "code": 0, "reason": "stopped by signal SIGINT"}}',
    ];
    const decoder = new BpftraceDecoder();
    const events = lines.flatMap((line) => decoder.decodeLine(Buffer.from(line)));
    const kernelTotals = events.filter((e) => e.event === 'p2p:peer_totals');
    assert.equal(kernelTotals.length, 2, 'one p2p:peer_totals per interval print and one at the exit');
    assert.ok(!events.some((e) => e.event === 'p2p:msg_type_totals'), 'the kernel counts no message types under a filter');
    assert.ok(!events.some((e) => e.event === 'lost'), 'nothing lost: what passed the filter arrived');

    const aggregator = new P2pAggregator();
    aggregator.ingestAll(events);
    const snapshot = aggregator.snapshot();
    const rows = snapshot.peers.map((p) => [p.id, p.addr, p.connType, p.msgsIn, p.bytesIn, p.msgsOut, p.bytesOut, p.kernelTotals]);
    assert.deepEqual(rows.sort(), [
      // Peers 0 and 2 had no message through the filter: the kernel's counts name only their ids.
      ['0', '', '', 5, 500, 3, 90, true],
      ['1', '[2001:db8::1]:8333', 'block-relay-only', 2, 258, 1, 8, true],
      ['2', '', '', 3, 30000, 0, 0, true],
    ]);
    assert.deepEqual([snapshot.counters.msgsIn, snapshot.counters.bytesIn, snapshot.counters.msgsOut, snapshot.counters.bytesOut], [10, 30758, 4, 98]);
    assert.deepEqual([snapshot.counters.msgsIn, snapshot.counters.msgsOut], [decoder.stats.fired['net:inbound_message'], decoder.stats.fired['net:outbound_message']], 'the totals equal the fired counts');
    // Only the filtered messages: peer 1's three, by type.
    assert.deepEqual(aggregator.peerDetail('1').messages.map((m) => [m.direction, m.msgType, m.size]), [['in', 'ping', 8], ['out', 'pong', 8], ['in', 'tx', 250]]);
    assert.deepEqual(aggregator.peerDetail('0').messages, []);
    assert.deepEqual(snapshot.messageTypes.map((t) => [t.msgType, t.msgsIn, t.msgsOut]), [['ping', 1, 0], ['pong', 0, 1], ['tx', 1, 0]]);
    assert.equal(snapshot.session.kernelFilter, 'peer 1');
    assert.equal(snapshot.counters.lostEvents, 0);
    // The rate buckets get every message once.
    const sum = (values: readonly number[]): number => values.reduce((a, b) => a + b, 0);
    assert.deepEqual([sum(snapshot.rates.msgsIn), sum(snapshot.rates.bytesIn), sum(snapshot.rates.msgsOut)], [10, 30758, 4]);

    const dir = mkdtempSync(join(tmpdir(), 'p2p-filtered-'));
    try {
      const path = join(dir, 'filtered.ndjson');
      const writer = await RecordingWriter.create(path, { tool: 'p2p-traffic', started_at: '2026-01-02T03:04:05.000Z', binary: '/t/bitcoind', pid: PID, producer: 'test' });
      writer.write(events);
      await writer.close();
      const replayed = new P2pAggregator();
      replayed.ingestAll((await loadRecording(path)).events);
      assert.deepEqual(replayed.snapshot(), snapshot);
      assert.deepEqual(replayed.peerDetail('1'), aggregator.peerDetail('1'));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('an unfiltered p2p-traffic session has no kernel totals: the peer table counts its messages', () => {
    const decoder = new BpftraceDecoder();
    const events = [
      '{"type": "helper", "data": {"event": "target", "tool": "p2p-traffic", "binary": "/t/bitcoind", "pid": 7, "semaphores": true, "bpftrace": "/usr/bin/bpftrace", "bpftrace_version": "v0.17.0", "filters": {}}}',
      '{"type": "value", "data": ["in", 100, 7, 3, "1.2.3.4:8333", "inbound", "ping", 8]}',
      '{"type": "map", "data": {"@fired": {"7,net:inbound_message": 1}}}',
      '{"type": "helper", "data": {"event": "exit", "code": 0, "reason": "stopped"}}',
    ].flatMap((line) => decoder.decodeLine(line));
    assert.ok(!events.some((e) => e.event === 'p2p:peer_totals' || e.event === 'p2p:msg_type_totals'));
    const aggregator = new P2pAggregator();
    aggregator.ingestAll(events);
    const snapshot = aggregator.snapshot();
    assert.deepEqual(snapshot.peers.map((p) => [p.id, p.msgsIn, p.kernelTotals]), [['3', 1, false]]);
    assert.equal(snapshot.session.kernelFilter, null);
  });

  it('reports only what changed in a delta', () => {
    const aggregator = new P2pAggregator();
    aggregator.ingestAll([netMessage('in', 0, 1, 'inv', 1), netMessage('in', 1.2 * SECOND, 2, 'tx', 1)]);
    aggregator.snapshot();
    assert.equal(aggregator.hasChanges, false);
    const empty = aggregator.delta();
    assert.deepEqual(empty.peers, []);
    assert.deepEqual(empty.messageTypes, []);
    assert.deepEqual(empty.rates.msgsIn, []);
    assert.equal(empty.session, null);

    aggregator.ingestAll([netMessage('in', 3.5 * SECOND, 2, 'tx', 7), netMessage('in', 3.6 * SECOND, 2, 'tx', 3)]);
    assert.equal(aggregator.hasChanges, true);
    const delta = aggregator.delta();
    assert.deepEqual(delta.peers.map((p) => [p.id, p.msgsIn, p.bytesIn]), [['2', 3, 11]]);
    assert.deepEqual(delta.messageTypes.map((t) => [t.msgType, t.msgsIn]), [['tx', 3]]);
    assert.equal(delta.rates.startSecond, 3);
    assert.deepEqual(delta.rates.msgsIn, [2]);
    assert.equal(delta.counters.msgsIn, 4);
    assert.equal(aggregator.hasChanges, false);
  });

  it('sums lost events and cut strings and keeps session status', () => {
    const aggregator = new P2pAggregator();
    aggregator.ingestAll([
      { event: 'session:start', tool: 'p2p-traffic', binary: '/x/bitcoind', pid: 12 },
      { event: 'session:attached', probes: 2, pid: 12 },
      { event: 'lost', count: 17, source: 'bpftrace' },
      { event: 'lost', count: 3, source: 'reconciled' },
      { event: 'truncated', field: 'peer_addr', count: 2 },
      { event: 'truncated', field: 'msg_type', count: 1 },
      { event: 'truncated', field: 'peer_addr', count: 1 },
      { event: 'fired', counts: { 'net:inbound_message': 10 } },
      { event: 'fired', counts: { 'net:inbound_message': 25, 'net:outbound_message': 4 } },
      { event: 'session:message', level: 'warning', message: 'slow' },
      { event: 'session:end', reason: 'stopped', exit_code: 0 },
    ]);
    const snapshot = aggregator.snapshot();
    assert.equal(snapshot.counters.lostEvents, 20);
    assert.equal(snapshot.counters.truncatedStrings, 4);
    assert.deepEqual(snapshot.counters.truncatedByField, [{ name: 'peer_addr', count: 3 }, { name: 'msg_type', count: 1 }]);
    assert.deepEqual(snapshot.counters.fired, [{ name: 'net:inbound_message', count: 25 }, { name: 'net:outbound_message', count: 4 }]);
    assert.deepEqual(snapshot.session, {
      tool: 'p2p-traffic',
      binary: '/x/bitcoind',
      pid: 12,
      attachedProbes: 2,
      ended: true,
      endReason: 'stopped',
      kernelFilter: null,
      notes: [{ level: 'warning', message: 'slow' }],
    });
  });

  it('keeps hostile strings exactly as they arrived and 64-bit ids as decimal strings', () => {
    const hostileAddr = '<img src=x onerror=alert(1)>\u202E1.2.3.4:8333';
    const hostileType = '<script>"\\,\u0000';
    const hugeId = '9223372036854775807';
    const aggregator = new P2pAggregator();
    aggregator.ingest(netMessage('in', 5, hugeId, hostileType, 10, hostileAddr, 'inbound\u2066'));
    aggregator.ingest({ ...netMessage('in', 6, 3, 'inv', 10), peer_id: '3' });
    aggregator.ingest(netMessage('in', 7, 3, 'inv', 10));
    const snapshot = aggregator.snapshot();
    const hostile = snapshot.peers.find((p) => p.id === hugeId);
    assert.ok(hostile);
    assert.equal(hostile.addr, hostileAddr);
    assert.equal(hostile.connType, 'inbound\u2066');
    assert.equal(snapshot.messageTypes[0].msgType, hostileType);
    assert.equal(aggregator.peerDetail(hugeId).messages[0].msgType, hostileType);
    // "3" and 3 are the same peer.
    assert.equal(snapshot.peers.filter((p) => p.id === '3').length, 1);
    assert.equal(snapshot.peers.find((p) => p.id === '3')?.msgsIn, 2);
  });

  it('skips events whose fields have the wrong types (damaged or hand-made recordings) and counts them', () => {
    const aggregator = new P2pAggregator();
    const damaged = [
      { event: 'net:inbound_message', elapsed_ns: 1, peer_id: { x: 1 }, peer_addr: 'a', conn_type: 'inbound', msg_type: 'inv', msg_size: 1 },
      { event: 'net:inbound_message', elapsed_ns: 1, peer_id: 1, peer_addr: ['a'], conn_type: 'inbound', msg_type: 'inv', msg_size: 1 },
      { event: 'net:outbound_message', elapsed_ns: 1, peer_id: 1, peer_addr: 'a', conn_type: 'inbound', msg_type: null, msg_size: 1 },
      { event: 'p2p:peer_totals', elapsed_ns: 1, peers: 'nope' },
      { event: 'p2p:peer_totals', elapsed_ns: 1, peers: [null, { peer_id: 'x' }] },
      { event: 'p2p:msg_type_totals', elapsed_ns: 1, types: [{ msg_type: 5 }] },
    ] as unknown as NormalizedEvent[];
    aggregator.ingestAll(damaged);
    // A bad size or time does not poison the counters.
    aggregator.ingest({ ...netMessage('in', 2 * SECOND, 1, 'inv', 1), msg_size: 'lots', elapsed_ns: -5 } as unknown as NormalizedEvent);
    aggregator.ingest({ event: 'lost', count: 10, source: 'bpftrace' });
    aggregator.ingest({ event: 'lost', count: -2, source: 'reconciled' });
    const snapshot = aggregator.snapshot();
    assert.equal(snapshot.counters.ignoredEvents, 7);
    assert.equal(snapshot.peers.length, 1);
    assert.equal(snapshot.counters.msgsIn, 1);
    assert.equal(snapshot.counters.bytesIn, 0);
    assert.equal(snapshot.counters.lostEvents, 8);
    assert.ok(snapshot.rates.msgsIn.every((v) => Number.isFinite(v)));
  });
});

describe('visible escaping of untrusted strings', () => {
  it('escapes controls, bidi and zero-width characters and leaves the rest', () => {
    assert.equal(escapeInvisible('abc <b>&amp; "x"'), 'abc <b>&amp; "x"');
    assert.equal(escapeInvisible('1.2.3.4\u202E:8333'), '1.2.3.4\\u202E:8333');
    assert.equal(escapeInvisible('a\u0000b\u001Bc\u007F\u0085'), 'a\\u0000b\\u001Bc\\u007F\\u0085');
    assert.equal(escapeInvisible('\u2066x\u2069\u200B\uFEFF\u2028'), '\\u2066x\\u2069\\u200B\\uFEFF\\u2028');
    assert.equal(escapeInvisible('tag\u{E0041}'), 'tag\\u{E0041}');
    assert.equal(escapeInvisible('lone\uD800'), 'lone\\uD800');
    assert.equal(escapeInvisible('café ₿ 日本'), 'café ₿ 日本');
  });

  it('splits into text and escape parts that join back to the escaped string', () => {
    const parts = splitVisibleText('x\u202Ey\u0000');
    assert.deepEqual(parts, [
      { text: 'x', escaped: false },
      { text: '\\u202E', escaped: true },
      { text: 'y', escaped: false },
      { text: '\\u0000', escaped: true },
    ]);
    assert.equal(parts.map((p) => p.text).join(''), escapeInvisible('x\u202Ey\u0000'));
  });
});

describe('p2p protocol parsing', () => {
  it('accepts valid webview messages and rejects others', () => {
    assert.deepEqual(parseFromWebview({ type: 'ready', uiState: null }), { type: 'ready', uiState: null });
    assert.equal(parseFromWebview({ type: 'nope' }), undefined);
    assert.equal(parseFromWebview('ready'), undefined);
    assert.equal(parseFromWebview({ type: 'selectSession', sessionId: 3 }), undefined);
    const state = parseUiState({ sortColumn: 'bytesOut', sortDescending: false, filterText: 'onion', connTypeFilter: 'inbound', selectedPeerId: '12', sessionId: 's1' });
    assert.deepEqual(state, { sortColumn: 'bytesOut', sortDescending: false, filterText: 'onion', connTypeFilter: 'inbound', selectedPeerId: '12', sessionId: 's1' });
    assert.deepEqual(parseUiState({ sortColumn: 'constructor', selectedPeerId: '<x>' }), { ...DEFAULT_UI_STATE });
    assert.equal(parseUiState({ selectedPeerId: '4242:7' }).selectedPeerId, '4242:7', 'a peer of one process of an every-process session');
    assert.equal(parseUiState({ selectedPeerId: '4242:<x>' }).selectedPeerId, null);
  });
});

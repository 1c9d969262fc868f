// SessionNodes (src/core/network/sessionNodes.ts): the nodes of a session over every process and each node's
// own model, on the real two-node capture (test/fixtures/network/two-nodes: two real regtest bitcoind, each
// traced by the real p2p-traffic probe) merged into the one stream an every-process session delivers, and on
// the cases a capture cannot force (a restart, events before their node, losses with and without a process).

import { strict as assert } from 'node:assert';
import { join } from 'node:path';
import type { FiredCountsEvent, NetMessageEvent, NodeEvent, NormalizedEvent } from '../../src/core/events/eventTypes';
import { loadRecording } from '../../src/core/events/recording';
import { SessionNodes } from '../../src/core/network/sessionNodes';
import { P2pAggregator } from '../../src/core/p2p/p2pAggregator';
import { createToolViewAggregator } from '../../src/core/toolViews/toolViews';
import { EMPTY_FILTER, type UtxoRow } from '../../src/shared/toolPanelProtocol';

const capture = join(__dirname, '..', 'fixtures', 'network', 'two-nodes');

interface Capture {
  readonly pid: number;
  readonly events: NormalizedEvent[];
}

async function loadCapture(name: string): Promise<Capture> {
  const recording = await loadRecording(join(capture, name));
  assert.deepEqual(recording.malformed, []);
  assert.ok(recording.header.pid !== null);
  return { pid: recording.header.pid, events: recording.events as NormalizedEvent[] };
}

/**
 * The stream an every-process session gives for these processes: one session:start (pid null), each
 * process's events with their pid, and `fired` with the counts of every process and `by_pid`.
 */
function everyProcessStream(captures: readonly Capture[]): NormalizedEvent[] {
  const tagged = captures.flatMap(({ pid, events }) => events.map((event, order) => ({ pid, event, order })));
  tagged.sort((a, b) => (a.event.elapsed_ns ?? 0) - (b.event.elapsed_ns ?? 0) || a.order - b.order);
  const firedByPid: Record<string, Record<string, number>> = {};
  const stream: NormalizedEvent[] = [{ event: 'session:start', tool: 'p2p-traffic', binary: '/bin/bitcoind', pid: null }];
  for (const { pid, event } of tagged) {
    switch (event.event) {
      case 'session:start':
      case 'session:end':
      case 'session:attached':
      case 'clock':
        break;
      case 'fired': {
        firedByPid[String(pid)] = { ...event.counts };
        const counts: Record<string, number> = {};
        for (const own of Object.values(firedByPid)) for (const [tp, n] of Object.entries(own)) counts[tp] = (counts[tp] ?? 0) + n;
        stream.push({ event: 'fired', elapsed_ns: event.elapsed_ns, counts, by_pid: structuredClone(firedByPid) } satisfies FiredCountsEvent);
        break;
      }
      default:
        stream.push({ ...event, pid } as NormalizedEvent);
    }
  }
  stream.push({ event: 'session:end', reason: 'stopped', exit_code: 0 });
  return stream;
}

function node(pid: number, name: string, run = '/tmp/run1'): NodeEvent {
  return { event: 'node', pid, node: name, run, datadir: `${run}/${name}`, chain: 'regtest', p2p_port: 20000 + pid, rpc_port: null };
}

function message(pid: number, peerId: number, type: string, outbound = false): NetMessageEvent {
  return {
    event: outbound ? 'net:outbound_message' : 'net:inbound_message',
    elapsed_ns: 1000,
    pid,
    peer_id: peerId,
    peer_addr: '127.0.0.1:18444',
    conn_type: 'outbound-full-relay',
    msg_type: type,
    msg_size: 24,
  } as NetMessageEvent;
}

describe('SessionNodes: the nodes of a session over every process, each with its own model', () => {
  it('two real nodes in one stream: each node\'s model equals a model of its own capture alone (messages, peers, kernel counts)', async () => {
    const node0 = await loadCapture('node0.p2p-traffic.ndjson');
    const node1 = await loadCapture('node1.p2p-traffic.ndjson');
    const stream = everyProcessStream([node0, node1]);
    const nodes = new SessionNodes(() => new P2pAggregator({}, { perProcess: true }));
    // In batches, as a live session delivers them.
    for (let i = 0; i < stream.length; i += 37) nodes.ingestAll(stream.slice(i, i + 37));
    nodes.markEnded('stopped');

    const choices = nodes.nodes().sort((a, b) => a.name.localeCompare(b.name));
    assert.deepEqual(choices.map((c) => [c.name, c.label, c.pids]), [
      ['node0', 'node0', [node0.pid]],
      ['node1', 'node1', [node1.pid]],
    ]);
    for (const [capture, name] of [[node0, 'node0'], [node1, 'node1']] as const) {
      const key = choices.find((c) => c.name === name)?.key;
      assert.ok(key);
      const model = nodes.model(key);
      assert.ok(model);
      const alone = new P2pAggregator();
      alone.ingestAll(capture.events);
      const got = model.counters();
      const want = alone.counters();
      assert.ok(want.msgsIn > 0 && want.msgsOut > 0, 'the capture has messages both ways');
      for (const field of ['msgsIn', 'bytesIn', 'msgsOut', 'bytesOut', 'peers', 'lostEvents', 'ignoredEvents'] as const) {
        assert.equal(got[field], want[field], `${name}: ${field}`);
      }
      assert.deepEqual(got.fired, want.fired, `${name}: the kernel's counts are the node's own (by_pid), not the session's`);
      const peers = model.snapshot().peers;
      assert.deepEqual(
        peers.map((p) => [p.id, p.pid, p.msgsIn, p.msgsOut]),
        alone.snapshot().peers.map((p) => [`${capture.pid}:${p.id}`, capture.pid, p.msgsIn, p.msgsOut]),
        `${name}: its peers, keyed by (pid, peer id)`,
      );
    }
    // The whole session's model has both nodes' peers apart, though their ids overlap.
    const whole = new P2pAggregator({}, { perProcess: true });
    whole.ingestAll(stream);
    const ids0 = new Set(nodes.model(choices[0].key)?.snapshot().peers.map((p) => p.id.split(':')[1]));
    assert.ok(nodes.model(choices[1].key)?.snapshot().peers.some((p) => ids0.has(p.id.split(':')[1])), 'the two nodes use the same peer ids');
    assert.equal(whole.counters().peers, choices.reduce((n, c) => n + (nodes.model(c.key)?.counters().peers ?? 0), 0));
  });

  it('a restart (new pid, same datadir) is the same node; events before their node event wait for it', () => {
    const nodes = new SessionNodes(() => new P2pAggregator({}, { perProcess: true }));
    nodes.ingestAll([
      { event: 'session:start', tool: 'p2p-traffic', binary: '/bin/bitcoind', pid: null },
      node(101, 'node0'),
      message(101, 0, 'version'),
      // node1's first message comes before its node event (a process that started after the attach).
      message(102, 0, 'verack', true),
    ]);
    assert.deepEqual(nodes.nodes().map((n) => n.name), ['node0'], 'pid 102 is not a node before its node event');
    nodes.ingestAll([node(102, 'node1'), message(102, 1, 'ping', true), { event: 'node:exit', pid: 101 }, node(103, 'node0'), message(103, 0, 'pong')]);
    const [n0, n1] = nodes.nodes();
    assert.deepEqual([n0.name, n0.pids, n0.running], ['node0', [101, 103], true]);
    assert.deepEqual([n1.name, n1.pids], ['node1', [102]]);
    const m0 = nodes.model(n0.key)?.counters();
    const m1 = nodes.model(n1.key)?.counters();
    assert.deepEqual([m0?.msgsIn, m0?.msgsOut, m0?.peers], [2, 0, 2], 'node0: both runs, peer 0 of each run apart');
    assert.deepEqual([m1?.msgsIn, m1?.msgsOut, m1?.peers], [0, 2, 2], 'node1: the held message and the later one');
    assert.equal(nodes.nodeOfPid(103)?.key, n0.key);
    nodes.ingestAll([{ event: 'node:exit', pid: 103 }]);
    assert.equal(nodes.nodes()[0].running, false);
  });

  it('a process that never gets a node event is a node "pid N" when the session ends (or its wait overflows)', () => {
    const nodes = new SessionNodes(() => new P2pAggregator({}, { perProcess: true }), { pendingEventsPerPid: 3 });
    nodes.ingestAll([message(7, 0, 'a'), message(8, 0, 'a'), message(8, 0, 'b'), message(8, 0, 'c')]);
    assert.deepEqual(nodes.nodes().map((n) => n.name), ['pid 8'], 'pid 8 waited for 3 events');
    nodes.markEnded('stopped');
    assert.deepEqual(nodes.nodes().map((n) => [n.name, n.pids]), [['pid 7', [7]], ['pid 8', [8]]]);
    assert.equal(nodes.model('pid:8')?.counters().msgsIn, 3);
    assert.equal(nodes.model('pid:7')?.counters().msgsIn, 1);
    // A node event after the wait overflowed names the node `pid N` became.
    const late = new SessionNodes(() => new P2pAggregator({}, { perProcess: true }), { pendingEventsPerPid: 1 });
    late.ingestAll([message(9, 0, 'a'), node(9, 'node4')]);
    assert.deepEqual(late.nodes().map((n) => [n.key, n.name]), [['/tmp/run1/node4', 'node4']]);
    assert.equal(late.model('/tmp/run1/node4')?.counters().msgsIn, 1);
  });

  it('losses per node from by_pid; a loss that names no process is said to be all nodes\', not counted for one', () => {
    const nodes = new SessionNodes(() => new P2pAggregator({}, { perProcess: true }));
    nodes.ingestAll([node(1, 'node0'), node(2, 'node1')]);
    // bpftrace's own report names no process; the reconciliation at the run's end names each one's share
    // (bpftrace's report included), so the part no process is named for returns to 0.
    nodes.ingestAll([{ event: 'lost', elapsed_ns: 5, count: 10, source: 'bpftrace' }]);
    assert.equal(nodes.unattributedLost, 10);
    const [a, b] = nodes.nodes().map((n) => nodes.model(n.key));
    assert.equal(a?.counters().lostEvents, 0, 'not counted for node0');
    assert.ok(a?.sessionStatus().notes.some((n) => n.level === 'warning' && /10 events lost that name no node.*all nodes together/.test(n.message)), JSON.stringify(a?.sessionStatus().notes));
    assert.ok(b?.sessionStatus().notes.some((n) => /all nodes together/.test(n.message)));
    nodes.ingestAll([{ event: 'lost', elapsed_ns: 9, count: 0, source: 'reconciled', by_pid: { '1': 6, '2': 4 } }]);
    assert.equal(a?.counters().lostEvents, 6);
    assert.equal(b?.counters().lostEvents, 4);
    assert.equal(nodes.unattributedLost, 0);
  });

  it('p2p-monitor\'s kernel totals keep each node\'s own entries', () => {
    const nodes = new SessionNodes(() => new P2pAggregator({}, { perProcess: true }));
    const peer = (pid: number, id: number, msgs: number): { pid: number; peer_id: number; peer_addr: string; conn_type: string; msgs_in: number; bytes_in: number; msgs_out: number; bytes_out: number } =>
      ({ pid, peer_id: id, peer_addr: '127.0.0.1:1', conn_type: 'inbound', msgs_in: msgs, bytes_in: msgs * 10, msgs_out: 0, bytes_out: 0 });
    nodes.ingestAll([
      node(1, 'node0'),
      node(2, 'node1'),
      { event: 'p2p:peer_totals', elapsed_ns: 1, peers: [peer(1, 0, 5), peer(2, 0, 7), peer(2, 1, 1)] },
      { event: 'p2p:msg_type_totals', elapsed_ns: 1, types: [{ pid: 1, msg_type: 'ping', msgs_in: 5, bytes_in: 50, msgs_out: 0, bytes_out: 0 }, { pid: 2, msg_type: 'ping', msgs_in: 8, bytes_in: 80, msgs_out: 0, bytes_out: 0 }] },
    ]);
    const [a, b] = nodes.nodes().map((n) => nodes.model(n.key));
    assert.deepEqual([a?.counters().msgsIn, a?.counters().peers], [5, 1]);
    assert.deepEqual([b?.counters().msgsIn, b?.counters().peers], [8, 2]);
    assert.deepEqual(b?.snapshot().messageTypes.map((t) => [t.msgType, t.msgsIn]), [['ping', 8]]);
  });

  it('a tool view per node: each node\'s rows only, with their pid; nodes of two test runs are named with their run', () => {
    const nodes = new SessionNodes(() => createToolViewAggregator('utxos'));
    const add = (pid: number, height: number): NormalizedEvent =>
      ({ event: 'utxocache:add', elapsed_ns: height, pid, txid: 'ab'.repeat(32), index: 0, height, value: 5000, is_coinbase: true }) as unknown as NormalizedEvent;
    nodes.ingestAll([node(1, 'node0', '/tmp/test_a'), node(2, 'node0', '/tmp/test_b'), add(1, 10), add(2, 20), add(2, 21)]);
    assert.deepEqual(nodes.nodes().map((n) => n.label), ['node0 (test_a)', 'node0 (test_b)']);
    const rows = (key: string): UtxoRow[] => {
      const view = nodes.model(key)?.snapshot(EMPTY_FILTER).view;
      assert.ok(view && view.tool === 'utxos');
      return [...view.rows];
    };
    assert.deepEqual(rows('/tmp/test_a/node0').map((r) => [r.height, r.pid]), [[10, 1]]);
    assert.deepEqual(rows('/tmp/test_b/node0').map((r) => [r.height, r.pid]).sort(), [[20, 2], [21, 2]]);
  });

  it('nodes past the limit are only in the whole session\'s model, and say so', () => {
    const nodes = new SessionNodes(() => new P2pAggregator({}, { perProcess: true }), { maxNodes: 2 });
    nodes.ingestAll([node(1, 'node0'), node(2, 'node1'), node(3, 'node2'), message(3, 0, 'ping'), node(4, 'node0')]);
    assert.deepEqual(nodes.nodes().map((n) => [n.name, n.pids]), [['node0', [1, 4]], ['node1', [2]]], 'a restart of a known node still counts for it');
    assert.equal(nodes.processesWithoutNode, 1);
  });

  it('events without a pid (older recordings) belong to no node: no nodes, and the P2P model keys peers by id alone', () => {
    const nodes = new SessionNodes(() => new P2pAggregator({}, { perProcess: true }));
    const withoutPid = (peerId: number): NormalizedEvent => {
      const event: Partial<NetMessageEvent> = message(0, peerId, 'ping');
      delete event.pid;
      return event as NormalizedEvent;
    };
    // session:start and session:attached name the session's pid: not a process's event.
    nodes.ingestAll([{ event: 'session:start', tool: 'p2p-traffic', binary: '/bin/bitcoind', pid: 1 }, { event: 'session:attached', probes: 2, pid: 1 }, withoutPid(100), withoutPid(101)]);
    nodes.markEnded('stopped');
    assert.deepEqual(nodes.nodes(), []);
    const whole = new P2pAggregator({}, { perProcess: true });
    whole.ingestAll([withoutPid(100)]);
    assert.deepEqual(whole.snapshot().peers.map((p) => [p.id, p.pid]), [['100', null]]);
  });
});

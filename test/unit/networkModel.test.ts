// The network model on real captures (scripts/make-network-captures.ts: real bitcoind regtest nodes, each
// traced by the real p2p-traffic probe): nodes, the connections between them as getpeerinfo names them, and
// every pairing of a send with its receive as both nodes' debug.log say.

import { strict as assert } from 'node:assert';
import { join } from 'node:path';
import { NetworkModel } from '../../src/core/network/networkModel';
import type { SequenceRow } from '../../src/shared/networkProtocol';
import { buildModel, checkPairing, loadCapture, type LoadedSession } from './helpers/networkCaptureCheck';

const FIXTURES = join(__dirname, '..', 'fixtures', 'network');

describe('network model on real captures', () => {
  for (const capture of ['two-nodes', 'three-nodes']) {
    describe(capture, () => {
      const dir = join(FIXTURES, capture);
      let loaded: Awaited<ReturnType<typeof loadCapture>>;
      before(async () => {
        loaded = await loadCapture(dir);
      });

      it('matches every connection and pairs every message as both debug.logs say', () => {
        const result = checkPairing(dir, loaded.manifest, buildModel(loaded.sessions));
        assert.equal(result.connections, loaded.manifest.nodes.length === 2 ? 2 : 3);
        assert.ok(result.paired > 100, `${result.paired} pairs`);
        // Separate sessions: the clocks are aligned from the pairs; the log's microsecond times agree within the window.
        assert.ok(result.clockUncertaintyNs !== null && result.clockUncertaintyNs < 5e6, `clock uncertainty ${result.clockUncertaintyNs} ns`);
        assert.ok(result.medianLatencyDifferenceNs < result.clockUncertaintyNs + 1e6, `latency vs the logs: median difference ${result.medianLatencyDifferenceNs} ns`);
      });

      it('pairs the same whatever order and batches the sessions arrive in', () => {
        const whole = buildModel(loaded.sessions);
        const trickled = buildModel(loaded.sessions, { batch: 7, order: 'reverse' });
        checkPairing(dir, loaded.manifest, trickled);
        const counts = (m: NetworkModel): unknown => m.snapshot().connections.map((c) => [c.id, c.directions.map((d) => [d.sent, d.received, d.paired, d.unmatchedSends, d.unmatchedReceives])]).sort();
        assert.deepEqual(counts(trickled), counts(whole));
      });

      it('keeps counts exact when old messages are dropped', () => {
        const whole = buildModel(loaded.sessions).snapshot();
        const model = buildModel(loaded.sessions, { batch: 10, limits: { messagesPerPeer: 16, nodeEventsPerNode: 8, peersPerProcess: 100, nodes: 16, lookAhead: 8 } });
        const small = model.snapshot();
        const directions = (s: typeof whole): unknown => s.connections.map((c) => [c.id, c.directions.map((d) => [d.sent, d.received, d.paired])]).sort();
        assert.deepEqual(directions(small), directions(whole));
        const [a, b] = model.nodeKeys();
        const sequence = model.sequence(a, b, 100_000);
        assert.ok(sequence);
        assert.ok(sequence.rows.length <= 4 * 16 * 2 + 2 * 8, `${sequence.rows.length} rows kept`);
        assert.ok(sequence.dropped > 0);
      });
    });
  }

  it('matches the nodes a functional test runs after its cache nodes on the same ports (one every-process session)', () => {
    const model = new NetworkModel();
    model.addSession({ id: 'all', pid: null, startedAt: '2026-12-04T22:00:00.000Z' });
    const node = (pid: number, datadir: string, port: number): never =>
      ({ event: 'node', elapsed_ns: pid, pid, node: datadir.slice(-5), run: datadir.slice(0, -6), datadir, chain: 'regtest', p2p_port: port, rpc_port: port + 5000 }) as never;
    const message = (event: string, pid: number, peerId: number, addr: string, connType: string, ns: number): never =>
      ({ event, elapsed_ns: ns, pid, peer_id: peerId, peer_addr: addr, conn_type: connType, msg_type: 'ping', msg_size: 8 }) as never;
    model.ingest('all', [
      // The framework's cache: node0 and node1 on the ports the test's nodes take next, connected, then stopped.
      node(11, '/t/cache/node0', 14972), node(12, '/t/cache/node1', 14973),
      message('net:outbound_message', 12, 0, '127.0.0.1:14972', 'manual', 100),
      { event: 'node:peer_socket', pid: 12, peer_id: 0, peer_addr: '127.0.0.1:14972', local_addr: '127.0.0.1:40000' } as never,
      message('net:inbound_message', 11, 0, '127.0.0.1:40000', 'inbound', 200),
      { event: 'node:exit', elapsed_ns: 300, pid: 11 } as never, { event: 'node:exit', elapsed_ns: 301, pid: 12 } as never,
      // The test's own node0 and node1.
      node(21, '/t/run/node0', 14972), node(22, '/t/run/node1', 14973),
      message('net:outbound_message', 22, 0, '127.0.0.1:14972', 'manual', 400),
      { event: 'node:peer_socket', pid: 22, peer_id: 0, peer_addr: '127.0.0.1:14972', local_addr: '127.0.0.1:40002' } as never,
      message('net:inbound_message', 21, 0, '127.0.0.1:40002', 'inbound', 500),
      message('net:outbound_message', 21, 0, '127.0.0.1:40002', 'inbound', 600),
      message('net:inbound_message', 22, 0, '127.0.0.1:14972', 'manual', 700),
    ]);
    const matched = model.snapshot().connections.filter((c) => c.state === 'matched').map((c) => [c.fromNode, c.toNode, c.directions.map((d) => d.paired)]);
    assert.deepEqual(matched, [['/t/cache/node1', '/t/cache/node0', [1, 0]], ['/t/run/node1', '/t/run/node0', [1, 1]]]);
  });

  it('a message missing from the receiver\'s stream is the one unpaired; the rest stay paired', async () => {
    const dir = join(FIXTURES, 'two-nodes');
    const { sessions } = await loadCapture(dir);
    const p2p = sessions.filter((s) => s.id.includes('p2p-traffic'));
    // Remove node1's 20th received message (a real loss would look like this: the kernel counted it, the stream lost it).
    const node1 = p2p.find((s) => s.id.startsWith('node1'));
    assert.ok(node1);
    const inbound = node1.events.filter((e) => e.event === 'net:inbound_message');
    const removed = inbound[19];
    const damaged: LoadedSession = { ...node1, events: node1.events.filter((e) => e !== removed) };
    const model = buildModel(p2p.map((s) => (s === node1 ? damaged : s)));
    const [a, b] = model.nodeKeys();
    const rows = (model.sequence(a, b, 100_000, false)?.rows ?? []) as SequenceRow[];
    const unpaired = rows.filter((r) => r.status !== 'paired');
    const { msg_type: type, msg_size: size } = removed as { msg_type: string; msg_size: number };
    assert.deepEqual(
      unpaired.map((r) => [r.from, r.to, r.msgType, r.msgSize, r.status]),
      [['node0', 'node1', type, size, 'not received']],
    );
    const whole = buildModel(p2p).snapshot().connections.reduce((sum, c) => sum + c.directions[0].paired + c.directions[1].paired, 0);
    const after = model.snapshot().connections.reduce((sum, c) => sum + c.directions[0].paired + c.directions[1].paired, 0);
    assert.equal(after, whole - 1, 'exactly one pair fewer');
  });

  it('puts blocks connected on each node on the same timeline as the messages', async () => {
    const { sessions } = await loadCapture(join(FIXTURES, 'two-nodes'));
    const model = buildModel(sessions);
    const [a, b] = model.nodeKeys();
    const sequence = model.sequence(a, b, 100_000, true);
    assert.ok(sequence);
    const blocks = sequence.rows.filter((r) => r.kind === 'node' && r.category === 'block');
    assert.equal(blocks.length, 2 * 102, 'each node connected the 102 blocks');
    // The benchmark sessions have no message pairs: placed by when their events arrived (clock events), marked ≈.
    assert.equal(model.snapshot().clock.alignment, 'arrival times');
    assert.ok(blocks.every((r) => r.kind === 'node' && r.approximate));
    const times = sequence.rows.map((r) => r.timeNs);
    assert.deepEqual(times, [...times].sort((x, y) => x - y), 'in time order');
  });
});

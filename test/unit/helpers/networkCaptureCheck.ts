// Loads a network capture (test/realNode/networkCapture.ts: one recording per node and tool, each node's
// getpeerinfo and P2P debug.log lines) into a NetworkModel, and checks the model against what the nodes said.
// Used by the unit tests on the committed captures and by the real-node tier on a live one.

import { strict as assert } from 'node:assert';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { NormalizedEvent } from '../../../src/core/events/eventTypes';
import { readRecording } from '../../../src/core/events/recording';
import { NetworkModel, type NetworkLimits } from '../../../src/core/network/networkModel';
import type { SequenceRow } from '../../../src/shared/networkProtocol';
import type { CaptureManifest } from '../../realNode/networkCapture';

export interface LoadedSession {
  id: string;
  pid: number | null;
  startedAt: string;
  events: NormalizedEvent[];
}

export async function loadCapture(dir: string): Promise<{ manifest: CaptureManifest; sessions: LoadedSession[] }> {
  const manifest = JSON.parse(readFileSync(join(dir, 'capture.json'), 'utf8')) as CaptureManifest;
  const sessions: LoadedSession[] = [];
  for (const node of manifest.nodes) {
    for (const file of Object.values(node.recordings)) {
      const events: NormalizedEvent[] = [];
      const { header, malformed } = await readRecording(join(dir, file), (event) => events.push(event));
      assert.deepEqual(malformed, [], `${file} has malformed lines`);
      sessions.push({ id: file, pid: header.pid, startedAt: header.started_at, events });
    }
  }
  return { manifest, sessions };
}

/** Feeds the sessions in batches of `batch` events, taking turns between sessions (as live sessions arrive). */
export function buildModel(sessions: readonly LoadedSession[], options: { batch?: number; limits?: NetworkLimits; order?: 'forward' | 'reverse' } = {}): NetworkModel {
  const model = new NetworkModel(options.limits);
  const ordered = options.order === 'reverse' ? [...sessions].reverse() : [...sessions];
  for (const s of ordered) model.addSession({ id: s.id, pid: s.pid, startedAt: s.startedAt });
  const batch = options.batch ?? 100_000;
  const offsets = ordered.map(() => 0);
  for (let more = true; more; ) {
    more = false;
    ordered.forEach((s, i) => {
      if (offsets[i] >= s.events.length) return;
      model.ingest(s.id, s.events.slice(offsets[i], offsets[i] + batch));
      offsets[i] += batch;
      more = true;
    });
  }
  for (const s of ordered) model.endSession(s.id);
  return model;
}

export interface LogLine {
  direction: 'sending' | 'received';
  msgType: string;
  size: number;
  peerId: number;
  /** Microseconds since the epoch (-logtimemicros). */
  timeUs: number;
}

const LOG_MESSAGE = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)\.(\d{6})Z .*\] (received: |sending )(\S+) \((\d+) bytes\) peer=(\d+)$/;

export function readLogMessages(path: string): LogLine[] {
  const lines: LogLine[] = [];
  for (const line of readFileSync(path, 'utf8').split('\n')) {
    const match = LOG_MESSAGE.exec(line);
    if (!match) continue;
    lines.push({
      direction: match[3] === 'sending ' ? 'sending' : 'received',
      msgType: match[4],
      size: Number(match[5]),
      peerId: Number(match[6]),
      timeUs: Date.parse(`${match[1]}Z`) * 1000 + Number(match[2]),
    });
  }
  return lines;
}

export interface PairingCheck {
  connections: number;
  paired: number;
  /**
   * |model latency − latency from the two debug.log lines' microsecond times|, ns: the median (a log line is
   * written next to its tracepoint, but a loaded machine may preempt the thread between the two).
   */
  medianLatencyDifferenceNs: number;
  clockUncertaintyNs: number | null;
}

/**
 * Checks, for every connection between two nodes of the capture: the model matched the two ends that the
 * nodes' getpeerinfo names (the opener's addrbind is the acceptor's addr), and every message is paired as
 * both debug.logs say: the k-th message the sender logged sending to that peer is the k-th message the
 * receiver logged receiving from it, same type and size. Sends the receiver's trace did not see are those
 * after its trace ended.
 */
export function checkPairing(dir: string, manifest: CaptureManifest, model: NetworkModel): PairingCheck {
  const snapshot = model.snapshot();
  const keyOf = new Map(snapshot.nodes.map((n) => [n.name, n.key]));
  const nameOf = new Map(snapshot.nodes.map((n) => [n.key, n.name]));
  assert.deepEqual(snapshot.nodes.map((n) => n.name).sort(), manifest.nodes.map((n) => n.node).sort(), 'one node per bitcoind');
  for (const node of manifest.nodes) assert.equal(snapshot.nodes.find((n) => n.name === node.node)?.p2pPort, node.p2p_port, `${node.node}'s P2P port`);

  // The connections the nodes report: opener (not inbound) → acceptor whose inbound peer addr is the opener's addrbind.
  const truth: { opener: string; openerPeer: number; acceptor: string; acceptorPeer: number }[] = [];
  for (const node of manifest.nodes) {
    for (const peer of node.peers.filter((p) => !p.inbound)) {
      const acceptor = manifest.nodes.find((other) => `127.0.0.1:${other.p2p_port}` === peer.addr);
      assert.ok(acceptor, `${node.node} peer ${peer.id} (${peer.addr}) is a node of the capture`);
      const inbound = acceptor.peers.find((p) => p.inbound && p.addr === peer.addrbind);
      assert.ok(inbound, `${acceptor.node} has the inbound peer ${peer.addrbind}`);
      truth.push({ opener: node.node, openerPeer: peer.id, acceptor: acceptor.node, acceptorPeer: inbound.id });
    }
  }
  const matched = snapshot.connections.filter((c) => c.state === 'matched');
  assert.deepEqual(
    matched.map((c) => `${nameOf.get(c.fromNode)}#${c.fromPeerId} → ${nameOf.get(c.toNode ?? '')}#${c.toPeerId}`).sort(),
    truth.map((t) => `${t.opener}#${t.openerPeer} → ${t.acceptor}#${t.acceptorPeer}`).sort(),
    'the connections are the ones getpeerinfo names (addrbind = the other end\'s inbound addr)',
  );
  assert.equal(snapshot.connections.length, matched.length, 'every peer of every node is a node of the capture');

  const logs = new Map(manifest.nodes.map((n) => [n.node, readLogMessages(join(dir, n.debug_log))]));
  let paired = 0;
  const differences: number[] = [];
  const names = manifest.nodes.map((n) => n.node);
  for (let i = 0; i < names.length; i++) {
    for (let j = i + 1; j < names.length; j++) {
      const sequence = model.sequence(keyOf.get(names[i]) ?? '', keyOf.get(names[j]) ?? '', 1_000_000, false);
      assert.ok(sequence);
      const connections = truth.filter((t) => [t.opener, t.acceptor].sort().join() === [names[i], names[j]].sort().join());
      assert.equal(new Set(sequence.rows.map((r) => (r as SequenceRow).connectionId)).size, connections.length, `${names[i]}–${names[j]}: rows of each connection`);
      for (const t of connections) {
        const connectionId = matched.find((c) => nameOf.get(c.fromNode) === t.opener && c.fromPeerId === String(t.openerPeer))?.id;
        for (const [from, fromPeer, to, toPeer] of [
          [t.opener, t.openerPeer, t.acceptor, t.acceptorPeer],
          [t.acceptor, t.acceptorPeer, t.opener, t.openerPeer],
        ] as const) {
          const rows: SequenceRow[] = sequence.rows.filter((r): r is SequenceRow => r.kind === 'message' && r.connectionId === connectionId && r.from === from);
          const sent = (logs.get(from) ?? []).filter((l) => l.direction === 'sending' && l.peerId === fromPeer);
          const received = (logs.get(to) ?? []).filter((l) => l.direction === 'received' && l.peerId === toPeer);
          const sends = rows.filter((r) => r.status !== 'send not traced');
          assert.ok(sends.length > 5, `${from} → ${to}: messages were traced`);
          assert.ok(sends.length <= sent.length, `${from} → ${to}: no more sends traced than logged`);
          sends.forEach((row, k) => {
            const where = `${from}#${fromPeer} → ${to}#${toPeer}, message ${k + 1} (${row.msgType})`;
            assert.equal(row.msgType, sent[k].msgType, `${where}: type as ${from} logged sending it`);
            assert.equal(row.msgSize, sent[k].size, `${where}: size as ${from} logged sending it`);
            if (row.status === 'paired') {
              assert.ok(received[k], `${where}: ${to} logged receiving it`);
              assert.equal(row.msgType, received[k].msgType, `${where}: type as ${to} logged receiving message ${k + 1}`);
              assert.equal(row.msgSize, received[k].size, `${where}: size as ${to} logged receiving message ${k + 1}`);
              assert.ok(row.latencyNs !== null);
              const logLatencyNs = (received[k].timeUs - sent[k].timeUs) * 1000;
              differences.push(Math.abs(row.latencyNs - logLatencyNs));
              paired++;
            } else {
              // Unpaired: the receiver's trace has fewer receives on this connection than k (it ended first).
              assert.equal(row.status, 'not received', `${where}: ${row.status}`);
              const tracedReceives = sends.filter((r) => r.status === 'paired').length;
              assert.ok(tracedReceives <= k, `${where}: unpaired although ${to}'s trace has ${tracedReceives} receives`);
            }
          });
          assert.equal(rows.filter((r) => r.status === 'send not traced').length, 0, `${from} → ${to}: every receive has its send in the sender's trace`);
        }
      }
    }
  }
  differences.sort((x, y) => x - y);
  const medianLatencyDifferenceNs = differences[Math.floor(differences.length / 2)] ?? 0;
  return { connections: matched.length, paired, medianLatencyDifferenceNs, clockUncertaintyNs: snapshot.clock.uncertaintyNs };
}

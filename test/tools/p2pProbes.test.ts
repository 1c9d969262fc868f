// The whole probe pipeline for real: test tracee → bpftrace 0.17 (probes/*.bt) → privileged helper →
// private socket → ProbeSessionReader/BpftraceDecoder, compared with what the tracee says it fired.
// Needs root, bpftrace and `make -C test/tracee`.

import { strict as assert } from 'node:assert';
import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { BpftraceDecoder } from '../../src/core/events/bpftraceDecoder';
import type { LostEvent, NetMessageEvent, NormalizedEvent, PeerTotalsEvent } from '../../src/core/events/eventTypes';
import { ProbeSessionReader, buildHelperArgv, createPrivateSocket } from '../../src/core/probeSession';
import { findTool, streamedTracepoints } from '../../src/core/tools/toolCatalog';
import { waitForText } from './childProcessWaits';

const ROOT = resolve(__dirname, '..', '..');
const PROBES = join(ROOT, 'probes');
const BUILDS = ['tracee-v29', 'tracee-legacy'] as const;

interface TraceeSummary {
  elapsed_ns: number;
  fired: Record<string, number>;
  peers: Record<string, { peer_addr: string; conn_type: string; msgs_in: number; bytes_in: number; msgs_out: number; bytes_out: number }>;
}

interface SessionResult {
  events: NormalizedEvent[];
  expect: Array<Record<string, unknown>>;
  summary: TraceeSummary;
  tracee: { fired: number; output: string; pid: number };
}

function traceePath(build: string): string {
  const path = join(ROOT, 'test', 'tracee', 'build', build);
  if (!existsSync(path)) throw new Error(`${path} is missing: run \`make -C test/tracee\` first`);
  return path;
}

/** Runs one tool against one tracee run started with `traceeArgs`, from attach to the helper's exit. */
async function runSession(toolId: string, build: string, traceeArgs: string[], withExpect = true, params: Readonly<Record<string, string>> = {}): Promise<SessionResult> {
  const tool = findTool(toolId);
  assert.ok(tool);
  const work = mkdtempSync(join(tmpdir(), 'p2p-probes-'));
  // A private copy (its own inode): uprobes that other sessions on this machine put on the shared
  // tracee binary cannot interfere with this one.
  const binary = join(work, build);
  copyFileSync(traceePath(build), binary);
  chmodSync(binary, 0o755);
  const expectPath = join(work, 'expect.ndjson');
  const summaryPath = join(work, 'summary.json');
  const outputs = withExpect ? ['--expect', expectPath, '--summary', summaryPath] : ['--summary', summaryPath];
  const tracee = spawn(binary, [...traceeArgs, '--wait-signal', ...outputs], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const socket = await createPrivateSocket();
  let helper: ChildProcess | null = null;
  try {
    const [, pidText] = await waitForText(tracee.stdout, tracee, /ready pid=(\d+)/, 10_000);
    const traceeDone = waitForText(tracee.stdout, tracee, /done fired=(\d+)/, 110_000);
    const argv = buildHelperArgv({ pythonPath: '/usr/bin/python3', probesDir: PROBES, tool: toolId, binary, pid: Number(pidText), socketPath: socket.path, params });
    helper = spawn(argv[0], argv.slice(1), { stdio: ['ignore', 'ignore', 'pipe'] });
    let helperStderr = '';
    helper.stderr?.on('data', (chunk: Buffer) => (helperStderr += chunk.toString()));
    const connection = await socket.waitForConnection(20_000);
    const events: NormalizedEvent[] = [];
    let onAttached: () => void = () => undefined;
    const attached = new Promise<void>((r) => (onAttached = r));
    const reader = new ProbeSessionReader({
      decoder: new BpftraceDecoder({ streamedTracepoints: streamedTracepoints(tool) }),
      batchIntervalMs: 50,
      onBatch: (batch) => {
        for (const e of batch) {
          events.push(e);
          if (e.event === 'session:attached') onAttached();
        }
      },
    });
    reader.attach(connection);
    if (process.env.P2P_PROBES_TAP) {
      const tap: Buffer[] = [];
      connection.on('data', (chunk: Buffer) => tap.push(chunk));
      connection.on('close', () => writeFileSync(`${process.env.P2P_PROBES_TAP}-${toolId}-${build}.ndjson`, Buffer.concat(tap)));
    }
    await Promise.race([attached, reader.done.then(() => {
      throw new Error(`the helper ended before attaching: ${helperStderr} ${JSON.stringify(events.slice(-3))}`);
    })]);
    tracee.kill('SIGUSR1');
    const [, fired] = await traceeDone;
    // bpftrace -p exits by itself when the tracee exits; the helper then closes the socket.
    await reader.done;
    const expect = !withExpect ? [] : readFileSync(expectPath, 'utf8').split('\n').filter((l) => l).map((l) => JSON.parse(l) as Record<string, unknown>);
    const summary = JSON.parse(readFileSync(summaryPath, 'utf8')) as TraceeSummary;
    if (process.env.P2P_PROBES_TAP) writeFileSync(`${process.env.P2P_PROBES_TAP}-${toolId}-${build}.summary.json`, JSON.stringify(summary));
    return { events, expect, summary, tracee: { fired: Number(fired), output: '', pid: Number(pidText) } };
  } finally {
    tracee.kill('SIGKILL');
    helper?.kill('SIGINT');
    await socket.close();
    rmSync(work, { recursive: true, force: true });
  }
}

const messages = (events: NormalizedEvent[]): NetMessageEvent[] =>
  events.filter((e): e is NetMessageEvent => e.event === 'net:inbound_message' || e.event === 'net:outbound_message');
const lostSum = (events: NormalizedEvent[]): number =>
  events.filter((e): e is LostEvent => e.event === 'lost').reduce((sum, e) => sum + e.count, 0);
const firedMessages = (summary: TraceeSummary): number =>
  (summary.fired['net:inbound_message'] ?? 0) + (summary.fired['net:outbound_message'] ?? 0);

for (const build of BUILDS) {
  describe(`p2p probes against ${build} (real bpftrace)`, function () {
    this.timeout(120_000);

    it('delivers every message with exact fields: onion addresses and hostile strings', async () => {
      const result = await runSession('p2p-traffic', build, ['--scenario', 'p2p', '--hostile', '--count', '3000', '--rate', '20000', '--seed', '7']);
      assert.ok(messages(result.events).every((m) => m.pid === result.tracee.pid), 'every message names the tracee\'s pid');
      const got = messages(result.events).map(({ elapsed_ns: _elapsed, pid: _pid, ...fields }) => fields);
      assert.equal(result.expect.length, firedMessages(result.summary));
      assert.equal(got.length, result.expect.length, `delivered ${got.length} of ${result.expect.length}`);
      for (let i = 0; i < got.length; i++) assert.deepEqual(got[i], result.expect[i], `message ${i}`);
      assert.ok(got.some((m) => m.peer_addr.length === 68 && m.peer_addr.includes('.onion:')), 'a 68-char Tor v3 address');
      assert.ok(got.some((m) => m.msg_type === 'comma,type') && got.some((m) => m.msg_type === '"\\"\\'), 'hostile message types');
      assert.ok(got.some((m) => m.peer_id === '9223372036854775807'), '64-bit peer id kept exact');
      assert.equal(lostSum(result.events), 0);
      const elapsed = messages(result.events).map((m) => m.elapsed_ns ?? 0);
      assert.ok(elapsed.every((t, i) => i === 0 || t >= elapsed[i - 1]), 'elapsed_ns does not go backwards');
      assert.ok(!result.events.some((e) => e.event === 'truncated'), 'nothing was cut');
    });

    it('keeps the order messages fired in when the firing thread moves between CPUs', async () => {
      // bpftrace 0.17 prints each CPU's perf buffer in turn: on a real node a peer's `headers` came out before the
      // `feefilter` and `pong` it had sent earlier. The tracee's thread hops to the next CPU after every call.
      const result = await runSession('p2p-traffic', build, ['--scenario', 'p2p', '--count', '50000', '--rate', '100000', '--hop-cpus', '1', '--seed', '11']);
      assert.equal(lostSum(result.events), 0, 'nothing lost');
      const elapsed = messages(result.events).map((m) => m.elapsed_ns ?? 0);
      const backwards = elapsed.filter((t, i) => i > 0 && t < elapsed[i - 1]).length;
      assert.equal(backwards, 0, 'elapsed_ns never goes backwards');
      const got = messages(result.events).map(({ elapsed_ns: _elapsed, pid: _pid, ...fields }) => fields);
      assert.equal(got.length, result.expect.length, `delivered ${got.length} of ${result.expect.length}`);
      for (let i = 0; i < got.length; i++) assert.deepEqual(got[i], result.expect[i], `message ${i}`);
    });

    it('accounts for every message at the top rate: delivered + lost == fired', async () => {
      const result = await runSession('p2p-traffic', build, ['--scenario', 'p2p-flood', '--count', '300000', '--seed', '3'], false);
      const fired = firedMessages(result.summary);
      const delivered = messages(result.events).length;
      const lost = lostSum(result.events);
      const reported = result.events.filter((e): e is LostEvent => e.event === 'lost' && e.source === 'bpftrace').reduce((s, e) => s + e.count, 0);
      const firedEvent = [...result.events].reverse().find((e) => e.event === 'fired');
      assert.ok(firedEvent && firedEvent.event === 'fired');
      assert.equal((firedEvent.counts['net:inbound_message'] ?? 0) + (firedEvent.counts['net:outbound_message'] ?? 0), fired, 'kernel count == tracee count');
      assert.equal(delivered + lost, fired);
      assert.ok(fired >= 300000);
      console.log(
        `      ${build}: fired ${fired} in ${(result.summary.elapsed_ns / 1e9).toFixed(2)} s (${Math.round(fired / (result.summary.elapsed_ns / 1e9))} /s), ` +
        `delivered ${delivered} (${((100 * delivered) / fired).toFixed(1)} %), lost ${lost} ` +
        `(reported by bpftrace ${reported}, reconciled ${lost - reported})`,
      );
    });

    it('p2p-traffic filtered in the kernel: only the matching messages arrive, and the per-peer totals the kernel counts equal what the tracee fired per peer', async () => {
      const result = await runSession('p2p-traffic', build, ['--scenario', 'p2p', '--hostile', '--count', '6000', '--rate', '20000', '--seed', '13'], true, { peer: '1', msg_type: 'pong' });
      const start = result.events.find((e) => e.event === 'session:start');
      assert.deepEqual(start && 'filters' in start ? start.filters : undefined, { peer: '1', msg_type: 'pong' });
      const matching = result.expect.filter((e) => e.peer_id === 1 && e.msg_type === 'pong');
      assert.ok(matching.length > 0 && matching.length < result.expect.length / 20, `${matching.length} of ${result.expect.length} match`);
      assert.deepEqual(messages(result.events).map(({ elapsed_ns: _elapsed, pid: _pid, ...fields }) => fields), matching);
      assert.equal(lostSum(result.events), 0);

      const totals = [...result.events].reverse().find((e): e is PeerTotalsEvent => e.event === 'p2p:peer_totals');
      assert.ok(totals, 'a p2p:peer_totals event');
      assert.ok(totals.peers.every((p) => p.pid === result.tracee.pid), 'counted per process');
      assert.ok(totals.peers.every((p) => p.peer_addr === '' && p.conn_type === ''), 'the kernel keeps no address under a filter');
      const got: Record<string, Omit<TraceeSummary['peers'][string], 'peer_addr' | 'conn_type'>> = {};
      for (const p of totals.peers) got[String(p.peer_id)] = { msgs_in: p.msgs_in, bytes_in: p.bytes_in, msgs_out: p.msgs_out, bytes_out: p.bytes_out };
      const fired: typeof got = {};
      for (const [id, { msgs_in, bytes_in, msgs_out, bytes_out }] of Object.entries(result.summary.peers)) fired[id] = { msgs_in, bytes_in, msgs_out, bytes_out };
      assert.ok(Object.keys(fired).length > 8, 'the tracee fired messages of many peers (hostile 64-bit ids among them)');
      assert.deepEqual(got, fired);
      assert.ok(!result.events.some((e) => e.event === 'p2p:msg_type_totals'));
    });

    it('p2p-traffic without a filter counts nothing per peer in the kernel', async () => {
      const result = await runSession('p2p-traffic', build, ['--scenario', 'p2p', '--count', '300', '--rate', '3000', '--seed', '17'], false);
      assert.equal(messages(result.events).length, firedMessages(result.summary));
      assert.ok(!result.events.some((e) => e.event === 'p2p:peer_totals' || e.event === 'p2p:msg_type_totals'));
    });

    it('p2p-monitor totals per peer equal the tracee summary exactly', async () => {
      const result = await runSession('p2p-monitor', build, ['--scenario', 'p2p', '--hostile', '--count', '50000', '--seed', '11']);
      const totals = [...result.events].reverse().find((e): e is PeerTotalsEvent => e.event === 'p2p:peer_totals');
      assert.ok(totals, 'a p2p:peer_totals event');
      const got: TraceeSummary['peers'] = {};
      for (const p of totals.peers) {
        got[String(p.peer_id)] = { peer_addr: p.peer_addr, conn_type: p.conn_type, msgs_in: p.msgs_in, bytes_in: p.bytes_in, msgs_out: p.msgs_out, bytes_out: p.bytes_out };
      }
      assert.deepEqual(got, result.summary.peers);
      const msgs = totals.peers.reduce((s, p) => s + p.msgs_in + p.msgs_out, 0);
      assert.equal(msgs, firedMessages(result.summary));
      assert.equal(lostSum(result.events), 0);
    });
  });
}

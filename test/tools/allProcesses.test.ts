// Every process of a build in one session: the helper without --pid attaches bpftrace to the binary once;
// test tracees (v29: semaphore-gated tracepoints) started after the attach fire into it, each event carries
// its process's pid, the helper names each process with a `node` record (from the bitcoind-style options on
// its command line) and `node:exit` when it ends, and the kernel's counts are exact per process.
// Needs root, bpftrace and `make -C test/tracee`.

import { strict as assert } from 'node:assert';
import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { BpftraceDecoder } from '../../src/core/events/bpftraceDecoder';
import type { FiredCountsEvent, NetMessageEvent, NodeEvent, NormalizedEvent } from '../../src/core/events/eventTypes';
import { ProbeSessionReader, buildHelperArgv, createPrivateSocket, type PrivateSocket } from '../../src/core/probeSession';
import { findTool, streamedTracepoints } from '../../src/core/tools/toolCatalog';
import { exited, waitForText } from './childProcessWaits';

const ROOT = resolve(__dirname, '..', '..');
const PROBES = join(ROOT, 'probes');

interface TraceeRun {
  pid: number;
  expect: Array<Record<string, unknown>>;
  fired: Record<string, number>;
}

const withoutTime = ({ elapsed_ns: _elapsed, ...rest }: NodeEvent): Omit<NodeEvent, 'elapsed_ns'> => rest;

async function until(condition: () => boolean, ms: number, what: string): Promise<void> {
  const deadline = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** A private copy of tracee-v29 named `bitcoind` in a fresh directory, and the run directory for its datadirs. */
function copyTraceeV29(prefix: string): { work: string; binary: string; run: string } {
  const build = join(ROOT, 'test', 'tracee', 'build', 'tracee-v29');
  if (!existsSync(build)) throw new Error(`${build} is missing: run \`make -C test/tracee\` first`);
  const work = mkdtempSync(join(tmpdir(), prefix));
  const binary = join(work, 'bitcoind');
  copyFileSync(build, binary);
  chmodSync(binary, 0o755);
  return { work, binary, run: join(work, 'run1') };
}

/** The helper running p2p-traffic without --pid: one session over every process of `binary`. */
function startHelperOverEveryProcess(binary: string, socket: PrivateSocket): ChildProcess {
  const argv = buildHelperArgv({ pythonPath: '/usr/bin/python3', probesDir: PROBES, tool: 'p2p-traffic', binary, pid: null, socketPath: socket.path });
  const helper = spawn(argv[0], argv.slice(1), { stdio: ['ignore', 'ignore', 'pipe'] });
  return helper;
}

/** Reads the helper's session into `events` and waits for session:attached (the helper's stderr if it ends first). */
async function readUntilAttached(helper: ChildProcess, socket: PrivateSocket, events: NormalizedEvent[]): Promise<ProbeSessionReader> {
  let helperStderr = '';
  helper.stderr?.on('data', (chunk: Buffer) => (helperStderr += chunk.toString()));
  const tool = findTool('p2p-traffic');
  assert.ok(tool);
  const reader = new ProbeSessionReader({
    decoder: new BpftraceDecoder({ streamedTracepoints: streamedTracepoints(tool) }),
    batchIntervalMs: 50,
    onBatch: (batch) => events.push(...batch),
  });
  reader.attach(await socket.waitForConnection(20_000));
  await Promise.race([
    until(() => events.some((e) => e.event === 'session:attached'), 90_000, 'session:attached'),
    reader.done.then(() => {
      throw new Error(`the helper ended before attaching: ${helperStderr}`);
    }),
  ]);
  return reader;
}

describe('every process of a binary (helper without --pid, real bpftrace)', function () {
  this.timeout(180_000);

  it('p2p-traffic on tracee-v29: nodes started after the attach fire, told apart by pid, named, counted exactly per process, a restart keeps its name', async () => {
    const { work, binary, run } = copyTraceeV29('all-processes-');
    for (const n of [0, 1]) mkdirSync(join(run, `node${n}`), { recursive: true });
    const socket = await createPrivateSocket();
    const children: ChildProcess[] = [];
    const events: NormalizedEvent[] = [];
    let helper: ChildProcess | null = null;
    try {
      helper = startHelperOverEveryProcess(binary, socket);
      const reader = await readUntilAttached(helper, socket, events);
      const start = events.find((e) => e.event === 'session:start');
      assert.ok(start && start.event === 'session:start' && start.pid === null, 'a session over every process');

      /** Starts a tracee as a node (after the attach), waits for its node record, lets it fire, waits for its end. */
      const node = async (n: number, seed: number): Promise<TraceeRun> => {
        const expectPath = join(work, `expect-${n}-${seed}.ndjson`);
        const summaryPath = join(work, `summary-${n}-${seed}.json`);
        const tracee = spawn(binary, [
          `-datadir=${join(run, `node${n}`)}`, '-regtest', `-port=${22010 + n}`, `-rpcport=${22110 + n}`,
          '--scenario', 'p2p', '--count', '400', '--rate', '4000', '--seed', String(seed), '--wait-signal',
          '--expect', expectPath, '--summary', summaryPath,
        ], { stdio: ['ignore', 'pipe', 'inherit'] });
        children.push(tracee);
        const [, pidText] = await waitForText(tracee.stdout, tracee, /ready pid=(\d+)/, 10_000);
        const pid = Number(pidText);
        await until(() => events.some((e) => e.event === 'node' && e.pid === pid), 10_000, `the node record of ${pid}`);
        const done = waitForText(tracee.stdout, tracee, /done fired=(\d+)/, 60_000);
        tracee.kill('SIGUSR1');
        await done;
        await exited(tracee, 10_000, `tracee ${pid}`);
        const expect = readFileSync(expectPath, 'utf8').split('\n').filter((l) => l).map((l) => JSON.parse(l) as Record<string, unknown>);
        const summary = JSON.parse(readFileSync(summaryPath, 'utf8')) as { fired: Record<string, number> };
        return { pid, expect, fired: summary.fired };
      };
      // Two nodes at once, then node0 again (a restart: new pid, same datadir).
      const [node0, node1] = await Promise.all([node(0, 1), node(1, 2)]);
      const node0Again = await node(0, 3);
      await until(() => events.filter((e) => e.event === 'node:exit').length === 3, 10_000, 'three node:exit records');
      helper.kill('SIGINT');
      await reader.done;
      await exited(helper, 20_000, 'the helper');

      const nodes = events.filter((e): e is NodeEvent => e.event === 'node');
      assert.equal(nodes.length, 3, 'one node record per process');
      for (const [r, n] of [[node0, 0], [node1, 1], [node0Again, 0]] as const) {
        const found = nodes.find((e) => e.pid === r.pid);
        assert.ok(found, `a node record for pid ${r.pid}`);
        assert.deepEqual(withoutTime(found), {
          event: 'node', pid: r.pid, node: `node${n}`, run, datadir: join(run, `node${n}`), chain: 'regtest', p2p_port: 22010 + n, rpc_port: 22110 + n,
        });
      }
      const exits = events.filter((e) => e.event === 'node:exit').map((e) => (e.event === 'node:exit' ? e.pid : 0));
      assert.deepEqual(exits.sort(), [node0.pid, node1.pid, node0Again.pid].sort());

      const messages = events.filter((e): e is NetMessageEvent => e.event === 'net:inbound_message' || e.event === 'net:outbound_message');
      const lastFired = [...events].reverse().find((e): e is FiredCountsEvent => e.event === 'fired');
      assert.ok(lastFired?.by_pid, 'fired counts per process');
      for (const r of [node0, node1, node0Again]) {
        const mine = messages.filter((m) => m.pid === r.pid).map(({ elapsed_ns: _t, pid: _p, ...fields }) => fields);
        assert.equal(mine.length, r.expect.length, `pid ${r.pid}: delivered ${mine.length} of ${r.expect.length}`);
        assert.ok(r.expect.length > 0);
        for (let i = 0; i < mine.length; i++) assert.deepEqual(mine[i], r.expect[i], `pid ${r.pid}, message ${i}`);
        for (const tp of ['net:inbound_message', 'net:outbound_message']) {
          assert.equal(lastFired.by_pid[String(r.pid)]?.[tp] ?? 0, r.fired[tp] ?? 0, `pid ${r.pid}: kernel count of ${tp} == the tracee's`);
        }
      }
      assert.equal(messages.length, node0.expect.length + node1.expect.length + node0Again.expect.length, 'no event without its process');
      assert.ok(!events.some((e) => e.event === 'lost' && e.count !== 0), 'nothing lost');
    } finally {
      for (const child of children) child.kill('SIGKILL');
      helper?.kill('SIGINT');
      await socket.close();
      rmSync(work, { recursive: true, force: true });
    }
  });

  it('bitcoinds living 50-300 ms each, started one after another: every one is named by its node record and ends with node:exit', async () => {
    const { work, binary, run } = copyTraceeV29('short-lived-nodes-');
    const socket = await createPrivateSocket();
    const events: NormalizedEvent[] = [];
    let helper: ChildProcess | null = null;
    let tracee: ChildProcess | null = null;
    try {
      helper = startHelperOverEveryProcess(binary, socket);
      const reader = await readUntilAttached(helper, socket, events);

      // Each process fires 10-60 messages at 200 per second (50-300 ms) and exits; the next starts at once.
      const processes: Array<{ pid: number; n: number; fired: Record<string, number> }> = [];
      for (let n = 0; n < 24; n++) {
        const datadir = join(run, `node${n}`);
        mkdirSync(datadir, { recursive: true });
        const summaryPath = join(work, `summary-${n}.json`);
        tracee = spawn(binary, [
          `-datadir=${datadir}`, '-regtest', `-port=${22200 + n}`, `-rpcport=${22300 + n}`,
          '--scenario', 'p2p', '--count', String(10 + ((n * 7) % 51)), '--rate', '200', '--seed', String(n + 1), '--summary', summaryPath,
        ], { stdio: ['ignore', 'pipe', 'inherit'] });
        const [, pidText] = await waitForText(tracee.stdout, tracee, /ready pid=(\d+)/, 10_000);
        assert.equal(await exited(tracee, 20_000, `tracee ${pidText}`), 0);
        const summary = JSON.parse(readFileSync(summaryPath, 'utf8')) as { fired: Record<string, number> };
        processes.push({ pid: Number(pidText), n, fired: summary.fired });
      }
      await until(() => processes.every((p) => events.some((e) => e.event === 'node:exit' && e.pid === p.pid)), 10_000, 'a node:exit for every process')
        .catch(() => undefined); // the assertions below say which ones are missing
      helper.kill('SIGINT');
      await reader.done;
      await exited(helper, 20_000, 'the helper');

      const nodes = events.filter((e): e is NodeEvent => e.event === 'node');
      const exits = new Set(events.filter((e) => e.event === 'node:exit').map((e) => (e.event === 'node:exit' ? e.pid : 0)));
      const lastFired = [...events].reverse().find((e): e is FiredCountsEvent => e.event === 'fired');
      assert.ok(lastFired?.by_pid, 'fired counts per process');
      const unnamed = processes.filter((p) => !nodes.some((e) => e.pid === p.pid)).map((p) => `node${p.n} (pid ${p.pid})`);
      assert.deepEqual(unnamed, [], `every process named (${processes.length - unnamed.length} of ${processes.length} were)`);
      for (const p of processes) {
        const found = nodes.filter((e) => e.pid === p.pid);
        assert.equal(found.length, 1, `one node record for pid ${p.pid}`);
        assert.deepEqual(withoutTime(found[0]), {
          event: 'node', pid: p.pid, node: `node${p.n}`, run, datadir: join(run, `node${p.n}`), chain: 'regtest', p2p_port: 22200 + p.n, rpc_port: 22300 + p.n,
        });
        assert.ok(exits.has(p.pid), `node:exit for node${p.n} (pid ${p.pid})`);
        for (const tp of ['net:inbound_message', 'net:outbound_message']) {
          assert.equal(lastFired.by_pid[String(p.pid)]?.[tp] ?? 0, p.fired[tp] ?? 0, `pid ${p.pid}: kernel count of ${tp} == the tracee's`);
        }
      }
      assert.equal(nodes.length, processes.length, 'no other node records');
      assert.ok(!events.some((e) => e.event === 'session:message' && e.level !== 'info'), 'no warnings');
    } finally {
      tracee?.kill('SIGKILL');
      helper?.kill('SIGINT');
      await socket.close();
      rmSync(work, { recursive: true, force: true });
    }
  });

  it('a BCC tool refuses every process before launch, saying why', async () => {
    const build = join(ROOT, 'test', 'tracee', 'build', 'tracee-v29');
    const socket = await createPrivateSocket();
    const events: NormalizedEvent[] = [];
    try {
      const argv = buildHelperArgv({ pythonPath: '/usr/bin/python3', probesDir: PROBES, tool: 'mempool-monitor', binary: build, pid: null, socketPath: socket.path });
      const helper = spawn(argv[0], argv.slice(1), { stdio: ['ignore', 'ignore', 'ignore'] });
      const reader = new ProbeSessionReader({ decoder: new BpftraceDecoder(), batchIntervalMs: 20, onBatch: (batch) => events.push(...batch) });
      reader.attach(await socket.waitForConnection(20_000));
      await reader.done;
      assert.equal(await exited(helper, 20_000, 'the helper'), 2);
      const error = events.find((e) => e.event === 'session:message' && e.level === 'error');
      assert.ok(error && error.event === 'session:message');
      assert.match(error.message, /mempool-monitor cannot trace every process of a binary: a BCC program enables its USDT probes in one running process/);
      assert.ok(!events.some((e) => e.event === 'session:start'), 'nothing was launched');
    } finally {
      await socket.close();
    }
  });
});

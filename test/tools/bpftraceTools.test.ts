// The bpftrace tools p2p-connections, connectblock-benchmark, utxocache-flush, utxos, coin-selection and mempool-events for
// real: test tracee → bpftrace 0.17 (probes/<tool>.bt, attached with -p PID) → toolRecordDecoders, compared
// with what the tracee says it passed (--expect) and fired (--summary). Each tool runs twice per build:
// bpftrace started directly, and through the privileged helper and its private socket.
// Needs root, bpftrace and `make -C test/tracee`.

import { strict as assert } from 'node:assert';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type {
  BlockRatesEvent,
  ConnectHistogramEvent,
  ConnectSummaryEvent,
  NetMisbehavingEvent,
  UtxoOpsEvent,
} from '../../src/core/events/bpftraceToolEventTypes';
import { buildHelperArgv, createPrivateSocket } from '../../src/core/probeSession';
import { TOOLS } from '../../src/core/tools/toolCatalog';
import { ToolRecordStream, readNdjson, withoutDerivedFields } from '../unit/helpers/toolRecordStream';
import { FLUSH_MODE_NAMES } from '../../src/core/catalog/tracepointCatalog';
import { exited, waitForText } from './childProcessWaits';

/** The bpftrace tools for node state (those not on the P2P panel). */
const NODE_STATE_TOOLS = TOOLS.filter((t) => t.frontEnd === 'bpftrace' && t.panel !== 'p2p');

const ROOT = resolve(__dirname, '..', '..');
const PROBES = join(ROOT, 'probes');
// A probes/ directory holding a helper (and scripts) to test instead of ours, e.g. a helper patch before it is merged.
const HELPER_PROBES = process.env.BPFTRACE_TOOLS_HELPER_DIR ?? PROBES;
const BUILDS = ['tracee-v29', 'tracee-legacy'] as const;
const BPFTRACE = '/usr/bin/bpftrace';
const ATTACHED_MARKER = '__BPFTRACE_NOTIFY_PROBES_ATTACHED';

type Route = 'bpftrace' | 'helper';

interface TraceeSummary {
  elapsed_ns: number;
  fired: Record<string, number>;
}

interface RunResult {
  stream: ToolRecordStream;
  expect: Array<Record<string, unknown>>;
  summary: TraceeSummary;
}

interface RunOptions {
  toolId: string;
  build: string;
  route: Route;
  traceeArgs: string[];
  /** Positional parameters after the binary (direct runs) or `--param name=value` (helper runs), in order. */
  params?: ReadonlyArray<readonly [string, string]>;
  withExpect?: boolean;
  /** v29 only: the tracee waits until bpftrace has raised these semaphores instead of waiting for SIGUSR1. */
  waitAttach?: readonly string[];
}

function tool(id: string): (typeof NODE_STATE_TOOLS)[number] {
  const found = NODE_STATE_TOOLS.find((t) => t.id === id);
  if (!found) throw new Error(`no tool ${id}`);
  return found;
}

function traceePath(build: string): string {
  const path = join(ROOT, 'test', 'tracee', 'build', build);
  if (!existsSync(path)) throw new Error(`${path} is missing: run \`make -C test/tracee\` first`);
  if (!existsSync(BPFTRACE)) throw new Error(`${BPFTRACE} is missing: apt-get install bpftrace`);
  return path;
}

/** Splits a byte stream into lines and hands each to the tool's record stream. */
function lineFeeder(stream: ToolRecordStream): { feed: (chunk: Buffer) => void; end: () => void } {
  let pending = Buffer.alloc(0);
  return {
    feed: (chunk) => {
      pending = Buffer.concat([pending, chunk]);
      let newline: number;
      while ((newline = pending.indexOf(0x0a)) >= 0) {
        stream.push(pending.subarray(0, newline));
        pending = pending.subarray(newline + 1);
      }
    },
    end: () => {
      if (pending.length > 0) stream.push(pending);
      pending = Buffer.alloc(0);
    },
  };
}

/** One tracee run with one tool attached (-p PID), from attach until bpftrace (or the helper) has exited. */
async function run(options: RunOptions): Promise<RunResult> {
  const binary = traceePath(options.build);
  const work = mkdtempSync(join(tmpdir(), 'bpftrace-tools-'));
  const expectPath = join(work, 'expect.ndjson');
  const summaryPath = join(work, 'summary.json');
  const withExpect = options.withExpect ?? true;
  const outputs = [...(withExpect ? ['--expect', expectPath] : []), '--summary', summaryPath];
  const wait = options.waitAttach ? ['--wait-attach', options.waitAttach.join(',')] : ['--wait-signal'];
  // Lingering after `done` lets the probe's 1 s interval print the final kernel counts while the target is
  // alive: the print at bpftrace's own exit can go missing on a loaded machine.
  const linger = ['--linger-ms', '1500'];
  const tracee = spawn(binary, [...options.traceeArgs, ...wait, ...outputs, ...linger], { stdio: ['ignore', 'pipe', 'inherit'] });
  const stream = new ToolRecordStream(options.toolId);
  const feeder = lineFeeder(stream);
  const params = options.params ?? [];
  let tracer: ChildProcess | null = null;
  const socket = options.route === 'helper' ? await createPrivateSocket() : null;
  try {
    const [, pidText] = await waitForText(tracee.stdout, tracee, /ready pid=(\d+)/, 10_000);
    const traceeDone = waitForText(tracee.stdout, tracee, /done fired=(\d+)/, 100_000);
    traceeDone.catch(() => undefined);
    const pid = Number(pidText);
    if (socket === null) {
      // As the helper passes them: every parameter in manifest order (the given value or its default), then the
      // uid (0: every process); `--` so that a value such as -1 is the script's.
      const given = new Map(params);
      const positional = tool(options.toolId).parameters.map((p) => given.get(p.name) ?? p.default);
      const argv = ['-f', 'json', '-p', String(pid), '--', join(PROBES, tool(options.toolId).script), binary, ...positional, '0'];
      tracer = spawn(BPFTRACE, argv, {
        stdio: ['ignore', 'pipe', 'pipe'],
        env: { PATH: '/usr/sbin:/usr/bin:/sbin:/bin', BPFTRACE_STRLEN: '72', [ATTACHED_MARKER]: '1' },
      });
      tracer.stdout?.on('data', feeder.feed);
      await waitForText(tracer.stderr, tracer, new RegExp(ATTACHED_MARKER), 30_000);
    } else {
      const argv = buildHelperArgv({
        pythonPath: '/usr/bin/python3',
        probesDir: HELPER_PROBES,
        tool: options.toolId,
        binary,
        pid,
        socketPath: socket.path,
        params: Object.fromEntries(params),
      });
      tracer = spawn(argv[0], argv.slice(1), { stdio: ['ignore', 'ignore', 'pipe'] });
      let helperStderr = '';
      tracer.stderr?.on('data', (chunk: Buffer) => (helperStderr += chunk.toString()));
      const connection = await socket.waitForConnection(20_000);
      connection.on('data', feeder.feed);
      const deadline = Date.now() + 30_000;
      while (!stream.helperEvents.includes('attached')) {
        if (stream.helperEvents.includes('exit') || tracer.exitCode !== null || Date.now() > deadline) {
          throw new Error(`the helper did not attach ${options.toolId}: ${helperStderr.trim()}`);
        }
        await new Promise((r) => setTimeout(r, 50));
      }
    }
    if (!options.waitAttach) tracee.kill('SIGUSR1');
    await traceeDone;
    // bpftrace -p exits by itself when the tracee exits (or earlier, on exit()); the helper follows it.
    await exited(tracer, 30_000, options.route);
    if (socket !== null) {
      const deadline = Date.now() + 10_000;
      while (!stream.helperEvents.includes('exit') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      assert.ok(stream.helperEvents.includes('exit'), 'the helper sent its exit record');
    }
    feeder.end();
    return {
      stream,
      expect: withExpect ? readNdjson(readFileSync(expectPath, 'utf8')) : [],
      summary: JSON.parse(readFileSync(summaryPath, 'utf8')) as TraceeSummary,
    };
  } finally {
    tracee.kill('SIGKILL');
    if (tracer && tracer.exitCode === null) tracer.kill('SIGINT');
    await socket?.close();
    rmSync(work, { recursive: true, force: true });
  }
}

/** Runs the helper with `params` against a sleeping tracee; returns its exit code, stderr and error records. */
async function helperRefusal(params: Record<string, string>): Promise<{ code: number | null; stderr: string; errors: string[] }> {
  const binary = traceePath('tracee-legacy');
  const tracee = spawn(binary, ['--scenario', 'validation', '--count', '1', '--wait-signal'], { stdio: ['ignore', 'pipe', 'inherit'] });
  const socket = await createPrivateSocket();
  try {
    const [, pidText] = await waitForText(tracee.stdout, tracee, /ready pid=(\d+)/, 10_000);
    const argv = buildHelperArgv({
      pythonPath: '/usr/bin/python3', probesDir: HELPER_PROBES, tool: 'connectblock-benchmark', binary, pid: Number(pidText),
      socketPath: socket.path, params,
    });
    const helper = spawn(argv[0], argv.slice(1), { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    helper.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const connection = await socket.waitForConnection(20_000);
    let received = '';
    connection.on('data', (chunk: Buffer) => (received += chunk.toString()));
    const code = await exited(helper, 30_000, 'helper');
    await new Promise((r) => setTimeout(r, 100));
    const errors = readNdjson(received)
      .map((r) => r.data as Record<string, unknown>)
      .filter((d) => d.event === 'error')
      .map((d) => String(d.message));
    return { code, stderr, errors };
  } finally {
    tracee.kill('SIGKILL');
    await socket.close();
  }
}

function assertNoLoss(result: RunResult, tracepoints: readonly string[]): void {
  assert.deepEqual(result.stream.malformed, []);
  for (const name of tracepoints) assert.equal(result.stream.fired[name] ?? 0, result.summary.fired[name], `kernel count of ${name}`);
  assert.equal(result.stream.delivered, result.stream.firedTotal(tracepoints), 'every fired event delivered');
  assert.equal(result.stream.lostReported, 0);
}

for (const build of BUILDS) {
  for (const route of ['bpftrace', 'helper'] as const) {
    describe(`bpftrace tools against ${build} via ${route} (real bpftrace)`, function () {
      this.timeout(120_000);

      it('p2p-connections: every event with exact fields, network names, 128-char and hostile reasons', async () => {
        const tracepoints = tool('p2p-connections').tracepoints;
        const result = await run({
          toolId: 'p2p-connections', build, route,
          traceeArgs: ['--scenario', 'connections', '--hostile', '--count', '400', '--rate', '4000', '--seed', '9'],
          ...(build === 'tracee-v29' && route === 'bpftrace' ? { waitAttach: tracepoints } : {}),
        });
        assert.equal(result.expect.length, 400);
        const got = result.stream.fields(...tracepoints);
        assert.deepEqual(got.map(withoutDerivedFields), result.expect);
        assertNoLoss(result, tracepoints);
        const names = ['unroutable', 'ipv4', 'ipv6', 'onion', 'i2p', 'cjdns'];
        for (const e of got) if ('network' in e) assert.equal(e.network_name, names[e.network as number]);
        const reasons = result.stream.events.filter((e): e is NetMisbehavingEvent => e.event === 'net:misbehaving_connection').map((e) => e.message);
        assert.ok(reasons.some((m) => m.length === 128), 'a 128-char reason whole');
        assert.ok(reasons.includes('ctl \u0001\u001b[2J\t\n end') && reasons.includes('<img src=x onerror=alert(1)>'), 'hostile reasons intact');
        assert.ok(got.some((e) => typeof e.peer_addr === 'string' && e.peer_addr.length === 68), 'a 68-char onion address');
        assert.ok(!result.stream.events.some((e) => e.event === 'truncated'));
      });

      it('connectblock-benchmark: range, threshold, hashes, histogram and totals exact; stops at the end height', async () => {
        const result = await run({
          toolId: 'connectblock-benchmark', build, route,
          traceeArgs: ['--scenario', 'validation', '--start', '800000', '--count', '90', '--rate', '2000', '--seed', '13'],
          params: [['start', '800020'], ['end', '800070'], ['threshold_ms', '120']],
        });
        const blocks = result.expect;
        // v29: blocks after bpftrace stopped fire only until it has detached (the semaphore drops to 0).
        assert.ok(blocks.length >= 71, 'the tracee went past the end height');
        assert.ok(result.stream.events.every((e) => e.event !== 'validation:block_connected' || e.height <= 800070), 'nothing past the end');
        const inRange = blocks.filter((b) => (b.height as number) >= 800020 && (b.height as number) <= 800070);
        const slow = inRange.filter((b) => (b.duration_ns as number) > 120_000_000);
        assert.ok(slow.length > 0 && slow.length < inRange.length, 'the threshold filters some blocks');
        assert.deepEqual(result.stream.fields('validation:block_connected'), slow);
        assert.equal(result.stream.fired['validation:block_connected'], inRange.length);
        const summary = result.stream.events.find((e): e is ConnectSummaryEvent => e.event === 'validation:connect_summary');
        assert.ok(summary, 'a summary');
        const sum = (field: string): number => inRange.reduce((acc, b) => acc + (b[field] as number), 0);
        assert.deepEqual(summary.totals, {
          blocks: inRange.length, transactions: sum('transactions'), inputs: sum('inputs'), sigops: sum('sigops'),
          duration_ns: sum('duration_ns'), printed: slow.length,
        });
        assert.equal(summary.connect_time_ms, sum('duration_ns') / 1e6);
        assert.deepEqual([summary.start_height, summary.end_height, summary.threshold_ms], [800020, 800070, 120]);
        const hist = result.stream.events.filter((e): e is ConnectHistogramEvent => e.event === 'validation:connect_histogram').pop();
        assert.ok(hist);
        for (const bucket of hist.buckets) {
          const inBucket = inRange.filter((b) => {
            const us = Math.floor((b.duration_ns as number) / 1000);
            return bucket.min !== null && us >= bucket.min && us <= bucket.max;
          });
          assert.equal(bucket.count, inBucket.length, `bucket ${bucket.min}..${bucket.max}`);
        }
        assert.equal(hist.buckets.reduce((n, b) => n + b.count, 0), inRange.length);
        const rates = result.stream.events.filter((e): e is BlockRatesEvent => e.event === 'validation:block_rates').pop();
        assert.ok(rates && rates.height === 800070 && rates.totals.blocks === inRange.length, 'rates with the last counted height');
        assert.equal(result.stream.lostTotal(), 0);
        assert.deepEqual(result.stream.malformed, []);
      });

      it('connectblock-benchmark: threshold 0 lists every block from the start height on (no end)', async () => {
        const result = await run({
          toolId: 'connectblock-benchmark', build, route,
          traceeArgs: ['--scenario', 'validation', '--start', '700000', '--count', '40', '--rate', '500', '--seed', '2'],
          params: [['start', '700010'], ['end', '0'], ['threshold_ms', '0']],
        });
        const counted = result.expect.filter((b) => (b.height as number) >= 700010);
        assert.equal(counted.length, 30);
        assert.deepEqual(result.stream.fields('validation:block_connected'), counted);
        const summary = result.stream.events.find((e): e is ConnectSummaryEvent => e.event === 'validation:connect_summary');
        assert.ok(summary);
        assert.equal(summary.totals.blocks, 30);
        assert.equal(summary.end_height, 0);
      });

      if (route === 'helper' && build === 'tracee-legacy') {
        it('connectblock-benchmark: the helper refuses parameters bpftrace would misread or that are not its own', async () => {
          const cases: Array<Record<string, string>> = [{ start: '010' }, { threshold_ms: '-1' }, { end: '1 2' }, { height: '5' }];
          for (const params of cases) {
            const result = await helperRefusal(params);
            assert.equal(result.code, 2, `${JSON.stringify(params)}: ${result.stderr}`);
            assert.equal(result.errors.length, 1, JSON.stringify(params));
            assert.match(result.stderr, /refused/);
          }
        });
      }

      it('utxocache-flush: every flush with exact fields and mode names', async () => {
        const result = await run({
          toolId: 'utxocache-flush', build, route,
          traceeArgs: ['--scenario', 'utxocache', '--count', '3000', '--rate', '30000', '--seed', '5'],
        });
        const flushes = result.expect.filter((e) => e.event === 'utxocache:flush');
        assert.equal(flushes.length, 30);
        const got = result.stream.fields('utxocache:flush');
        assert.deepEqual(got.map(withoutDerivedFields), flushes);
        const names = FLUSH_MODE_NAMES; // the tracee has no Bitcoin Core version: the current (v31+) names
        for (const e of got) assert.equal(e.mode_name, names[e.mode as number]);
        // bpftrace's comm: the tracee's one thread is named after its executable (at most 15 bytes).
        for (const e of got) assert.equal(e.thread, build.slice(0, 15));
        assertNoLoss(result, ['utxocache:flush']);
      });

      it('utxos: every coin with exact fields (txid in display order, outpoint) and exact kernel counts', async () => {
        const tracepoints = tool('utxos').tracepoints;
        const result = await run({
          toolId: 'utxos', build, route,
          // A rate a busy 2-core machine streams without loss (losses are the top-rate test's subject).
          traceeArgs: ['--scenario', 'utxocache', '--count', '4000', '--rate', '4000', '--seed', '6'],
        });
        const coins = result.expect.filter((e) => tracepoints.includes(e.event as string));
        assert.ok(coins.length > 3900);
        const got = result.stream.fields(...tracepoints);
        assert.deepEqual(got.map(withoutDerivedFields), coins);
        for (const c of got) assert.equal(c.outpoint, `${String(c.txid)}:${String(c.index)}`);
        assertNoLoss(result, tracepoints);
        const ops = result.stream.events.filter((e): e is UtxoOpsEvent => e.event === 'utxocache:ops').pop();
        assert.ok(ops);
        assert.deepEqual(ops.counts, {
          add: result.summary.fired['utxocache:add'], spent: result.summary.fired['utxocache:spent'], uncache: result.summary.fired['utxocache:uncache'],
        });
      });

      it('utxos at the top rate: kernel counts exact, every lost coin accounted for', async () => {
        const tracepoints = tool('utxos').tracepoints;
        const result = await run({
          toolId: 'utxos', build, route, withExpect: false,
          traceeArgs: ['--scenario', 'utxocache', '--count', '300000', '--seed', '8'],
        });
        const fired = tracepoints.reduce((n, name) => n + result.summary.fired[name], 0);
        assert.ok(fired > 290_000);
        const ops = result.stream.events.filter((e): e is UtxoOpsEvent => e.event === 'utxocache:ops').pop();
        assert.ok(ops);
        assert.deepEqual(ops.counts, {
          add: result.summary.fired['utxocache:add'], spent: result.summary.fired['utxocache:spent'], uncache: result.summary.fired['utxocache:uncache'],
        });
        assert.equal(result.stream.firedTotal(tracepoints), fired);
        const { delivered, lostReported } = result.stream;
        assert.deepEqual(result.stream.malformed, []);
        assert.ok(delivered > 0 && delivered <= fired, 'delivered at most what fired');
        // bpftrace's own report also counts lost periodic prints, so it can exceed fired − delivered:
        // the session's loss is fired − delivered, from the kernel's count.
        const unreported = fired - delivered - lostReported;
        console.log(
          `      ${build} via ${route}: fired ${fired} in ${(result.summary.elapsed_ns / 1e9).toFixed(2)} s ` +
          `(${Math.round(fired / (result.summary.elapsed_ns / 1e9))} /s), delivered ${delivered} ` +
          `(${((100 * delivered) / fired).toFixed(1)} %), lost ${fired - delivered} (bpftrace reported ${lostReported}, difference ${unreported})`,
        );
      });

      it('mempool-events: every event in order with exact fields (replaced: arguments 0-5), 118-byte and hostile reasons intact', async () => {
        const tracepoints = tool('mempool-events').tracepoints;
        const result = await run({
          toolId: 'mempool-events', build, route,
          traceeArgs: ['--scenario', 'mempool', '--hostile', '--count', '2500', '--rate', '5000', '--burst-size', '300', '--seed', '12'],
          ...(build === 'tracee-v29' && route === 'bpftrace' ? { waitAttach: tracepoints } : {}),
        });
        assert.equal(result.expect.length, 2500);
        // bpftrace 0.17 reads arg0..arg5: not mempool:replaced's replacement fee (arg6) nor replaced_by_transaction (arg7).
        const unread = ['replacement_fee', 'replaced_by_transaction'];
        const readable = result.expect.map((e) => Object.fromEntries(Object.entries(e).filter(([name]) => !unread.includes(name))));
        assert.deepEqual(result.stream.fields(...tracepoints), readable);
        assertNoLoss(result, tracepoints);
        for (const name of tracepoints) assert.ok((result.summary.fired[name] ?? 0) > 0, `${name} fired`);
        const reasons = result.stream.fields('mempool:rejected').map((e) => e.reason as string);
        assert.ok(reasons.some((r) => Buffer.byteLength(r) === 118), 'a 118-byte reason whole');
        assert.ok(reasons.includes('<img src=x onerror=alert(1)>'), 'hostile reasons intact');
        assert.ok(result.stream.fields('mempool:removed').some((e) => e.reason === 'block'), 'a block burst');
        assert.ok(!result.stream.events.some((e) => e.event === 'truncated'));
      });

      it('coin-selection: every event in order with exact fields, hostile wallet names intact', async () => {
        const tracepoints = tool('coin-selection').tracepoints;
        const result = await run({
          toolId: 'coin-selection', build, route,
          traceeArgs: ['--scenario', 'coin-selection', '--hostile', '--count', '600', '--rate', '5000', '--seed', '10'],
          ...(build === 'tracee-v29' && route === 'bpftrace' ? { waitAttach: tracepoints } : {}),
        });
        // The tracee ends between transaction attempts (at most 4 tracepoints each), within the count.
        assert.ok(result.expect.length > 596 && result.expect.length <= 600, `${result.expect.length} events`);
        assert.deepEqual(result.stream.fields(...tracepoints), result.expect);
        assertNoLoss(result, tracepoints);
        const wallets = new Set(result.stream.fields('coin_selection:normal_create_tx_internal').map((e) => e.wallet_name));
        for (const w of ['', 'ü-wallet', '\u202etxt.exe bidi', 'quote " backslash \\ comma , done']) assert.ok(wallets.has(w), JSON.stringify(w));
      });
    });
  }
}

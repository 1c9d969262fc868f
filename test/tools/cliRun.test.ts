// `node dist/cli.js run <tool> --pid <tracee pid> --json` for every bpftrace tool, for real: the built command
// line starts the privileged helper (we are root: no sudo), which runs bpftrace against the v29 test tracee;
// the events printed must be exactly what the tracee says it passed (--expect) and fired (--summary).
// Needs root, bpftrace and `make -C test/tracee`; builds dist/ first (node scripts/build.mjs).

import { strict as assert } from 'node:assert';
import { execFile, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import type { ConnectSummaryEvent, UtxoOpsEvent } from '../../src/core/events/bpftraceToolEventTypes';
import type { NormalizedEvent, PeerTotalsEvent } from '../../src/core/events/eventTypes';
import { findTool } from '../../src/core/tools/toolCatalog';
import { readNdjson, withoutDerivedFields } from '../unit/helpers/toolRecordStream';
import { FLUSH_MODE_NAMES } from '../../src/core/catalog/tracepointCatalog';
import { exited, waitForText } from './childProcessWaits';
import { CLI, ROOT, runCliOnTracee, type CliRun, type Fields, type TraceeSummary } from './cliOnTracee';

const TRACEE = join(ROOT, 'test', 'tracee', 'build', 'tracee-v29');
const TRACEE_LEGACY = join(ROOT, 'test', 'tracee', 'build', 'tracee-legacy');

async function runCli(toolId: string, traceeArgs: string[], cliArgs: string[] = []): Promise<CliRun> {
  assert.ok(findTool(toolId), `no tool ${toolId}`);
  return runCliOnTracee(TRACEE, traceeArgs, [toolId, ...cliArgs]);
}

/** The tracepoint events of these kinds, without the session time and the pid (the tracee knows neither). */
function fieldsOf(events: readonly Fields[], kinds: readonly string[]): Fields[] {
  return events.filter((e) => kinds.includes(e.event)).map(({ elapsed_ns: _elapsed, pid: _pid, ...rest }) => rest as Fields);
}

/** Session framing and exact loss accounting, common to every run. */
function assertCleanSession(run: CliRun, toolId: string, tracee = TRACEE): void {
  assert.equal(run.code, 0, `exit code (stderr: ${run.stderr})`);
  const start = run.events[0];
  assert.equal(start?.event, 'session:start', 'the first event is session:start');
  assert.equal(start.tool, toolId);
  assert.equal(start.binary, tracee);
  assert.ok(run.events.some((e) => e.event === 'session:attached'), 'session:attached');
  assert.equal(run.events[run.events.length - 1].event, 'session:end', 'the last event is session:end');
  const warnings = run.events.filter((e) => e.event === 'session:message' && e.level !== 'info');
  assert.deepEqual(warnings, [], 'no warnings or errors');
  const lost = run.events.filter((e) => e.event === 'lost').reduce((n, e) => n + Number(e.count), 0);
  assert.equal(lost, 0, 'nothing lost at this rate');
}

/** The first `size` bytes of the tracee's message buffer as hex: byte i is (i*31+7) & 0xff (test/tracee/README.md). */
function traceeMessageHex(size: number): string {
  const bytes = Buffer.alloc(size);
  for (let i = 0; i < size; i++) bytes[i] = (i * 31 + 7) & 0xff;
  return bytes.toString('hex');
}

/** The last p2p:peer_totals as peer id → counts (every message per peer, counted in the kernel). */
function peerTotalsOf(run: CliRun): Record<string, Record<string, number>> {
  const totals = run.events.filter((e) => e.event === 'p2p:peer_totals').pop() as PeerTotalsEvent | undefined;
  assert.ok(totals, 'a p2p:peer_totals event');
  const got: Record<string, Record<string, number>> = {};
  for (const { peer_id: id, msgs_in, bytes_in, msgs_out, bytes_out } of totals.peers) got[String(id)] = { msgs_in, bytes_in, msgs_out, bytes_out };
  return got;
}

/** The tracee's per-peer counts of what fired, as peerTotalsOf gives them. */
function firedPerPeer(run: CliRun): Record<string, Record<string, number>> {
  const fired: Record<string, Record<string, number>> = {};
  for (const [id, { msgs_in, bytes_in, msgs_out, bytes_out }] of Object.entries(run.summary.peers)) fired[id] = { msgs_in, bytes_in, msgs_out, bytes_out };
  return fired;
}

/** The kernel's final fired counts (the last `fired` event) equal the tracee's. */
function assertFired(run: CliRun, tracepoints: readonly string[]): void {
  const fired = run.events.filter((e) => e.event === 'fired').pop() as NormalizedEvent | undefined;
  assert.ok(fired && fired.event === 'fired', 'a fired event');
  for (const name of tracepoints) assert.equal(fired.counts[name] ?? 0, run.summary.fired[name], `fired ${name}`);
}

describe('bitcoin-usdt run <tool> --json against the v29 tracee (real helper, real bpftrace)', function () {
  this.timeout(120_000);

  before(async function () {
    this.timeout(180_000);
    assert.equal(process.getuid?.(), 0, 'these tests run the helper as root without sudo');
    assert.ok(existsSync(TRACEE), `${TRACEE} is missing: run \`make -C test/tracee\` first`);
    assert.ok(existsSync('/usr/bin/bpftrace'), '/usr/bin/bpftrace is missing: apt-get install bpftrace');
    await new Promise<void>((resolvePromise, reject) => {
      execFile(process.execPath, [join(ROOT, 'scripts', 'build.mjs')], { cwd: ROOT, maxBuffer: 16 * 1024 * 1024 }, (error, _out, err) =>
        error ? reject(new Error(`node scripts/build.mjs failed: ${err}`)) : resolvePromise(),
      );
    });
    assert.ok(existsSync(CLI), `${CLI} was not built`);
  });

  it('p2p-traffic: every message with exact fields', async () => {
    const tracepoints = findTool('p2p-traffic')?.tracepoints ?? [];
    const run = await runCli('p2p-traffic', ['--scenario', 'p2p', '--hostile', '--count', '600', '--rate', '3000', '--seed', '21']);
    assertCleanSession(run, 'p2p-traffic');
    assert.equal(run.expect.length, 600);
    assert.deepEqual(fieldsOf(run.events, tracepoints), run.expect);
    assertFired(run, tracepoints);
  });

  it('p2p-monitor: per-peer totals equal the tracee summary', async () => {
    const run = await runCli('p2p-monitor', ['--scenario', 'p2p', '--count', '3000', '--rate', '6000', '--seed', '22']);
    assertCleanSession(run, 'p2p-monitor');
    const totals = run.events.filter((e) => e.event === 'p2p:peer_totals').pop() as PeerTotalsEvent | undefined;
    assert.ok(totals, 'a p2p:peer_totals event');
    const start = run.events[0] as Fields & { pid: number };
    assert.ok(totals.peers.every((p) => p.pid === start.pid), 'every peer is the tracee\'s (counted per process)');
    const got: TraceeSummary['peers'] = {};
    for (const { peer_id: id, ...rest } of totals.peers.map(({ pid: _pid, ...peer }) => peer)) got[String(id)] = rest;
    assert.deepEqual(got, run.summary.peers);
  });

  it('p2p-connections: every connection event with exact fields and network names', async () => {
    const tracepoints = findTool('p2p-connections')?.tracepoints ?? [];
    const run = await runCli('p2p-connections', ['--scenario', 'connections', '--hostile', '--count', '300', '--rate', '3000', '--seed', '23']);
    assertCleanSession(run, 'p2p-connections');
    assert.equal(run.expect.length, 300);
    const got = fieldsOf(run.events, tracepoints);
    assert.deepEqual(got.map(withoutDerivedFields), run.expect);
    const names = ['unroutable', 'ipv4', 'ipv6', 'onion', 'i2p', 'cjdns'];
    for (const e of got) if ('network' in e) assert.equal(e.network_name, names[e.network as number]);
    assertFired(run, tracepoints);
  });

  it('connectblock-benchmark --start --end --threshold: slow blocks, totals and summary exact; stops at the end height', async () => {
    const run = await runCli(
      'connectblock-benchmark',
      ['--scenario', 'validation', '--start', '800000', '--count', '80', '--rate', '1000', '--seed', '24'],
      ['--start', '800010', '--end', '800060', '--threshold', '150'],
    );
    assertCleanSession(run, 'connectblock-benchmark');
    const inRange = run.expect.filter((b) => (b.height as number) >= 800010 && (b.height as number) <= 800060);
    assert.equal(inRange.length, 51);
    const slow = inRange.filter((b) => (b.duration_ns as number) > 150_000_000);
    assert.ok(slow.length > 0 && slow.length < inRange.length, 'the threshold lists some blocks, not all');
    assert.deepEqual(fieldsOf(run.events, ['validation:block_connected']), slow);
    const summary = run.events.find((e) => e.event === 'validation:connect_summary') as unknown as ConnectSummaryEvent | undefined;
    assert.ok(summary, 'a validation:connect_summary event');
    const sum = (field: string): number => inRange.reduce((n, b) => n + (b[field] as number), 0);
    assert.deepEqual(summary.totals, {
      blocks: 51, transactions: sum('transactions'), inputs: sum('inputs'), sigops: sum('sigops'), duration_ns: sum('duration_ns'), printed: slow.length,
    });
    assert.deepEqual([summary.start_height, summary.end_height, summary.threshold_ms], [800010, 800060, 150]);
    assert.equal(summary.connect_time_ns, sum('duration_ns'));
    assert.equal(summary.connect_time_ms, sum('duration_ns') / 1e6);
    // 51 blocks at 1000 per second: about 50 ms between the first and the last (milliseconds, not seconds).
    assert.ok(summary.wall_time_ms !== null && summary.wall_time_ms > 30 && summary.wall_time_ms < 5_000, `wall time ${summary.wall_time_ms} ms`);
    assert.ok(run.events.some((e) => e.event === 'validation:connect_histogram'), 'a histogram');
  });

  it('connectblock-benchmark: the human-readable output lists the slow blocks and says "Took N ms" in milliseconds', async () => {
    const work = mkdtempSync(join(tmpdir(), 'cli-run-text-'));
    const expectPath = join(work, 'expect.ndjson');
    const tracee = spawn(TRACEE, ['--scenario', 'validation', '--start', '900000', '--count', '30', '--rate', '100', '--seed', '25', '--wait-signal', '--expect', expectPath], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    try {
      const [, pid] = await waitForText(tracee.stdout, tracee, /ready pid=(\d+)/, 10_000);
      const traceeDone = waitForText(tracee.stdout, tracee, /done fired=\d+/, 30_000);
      traceeDone.catch(() => undefined);
      const cli = spawn(process.execPath, [CLI, 'run', 'connectblock-benchmark', '--pid', pid, '--start', '900005', '--end', '900024', '--threshold', '200'], { stdio: ['ignore', 'pipe', 'pipe'] });
      let stdout = '';
      cli.stdout?.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
      await waitForText(cli.stderr, cli, /^# attached \d+ probes/m, 30_000);
      tracee.kill('SIGUSR1');
      assert.equal(await exited(cli, 60_000, 'the command line'), 0);
      await traceeDone;
      const blocks = (readNdjson(readFileSync(expectPath, 'utf8')) as Fields[]).filter((b) => (b.height as number) >= 900005 && (b.height as number) <= 900024);
      assert.equal(blocks.length, 20);
      const slow = blocks.filter((b) => (b.duration_ns as number) > 200_000_000);
      const listed = stdout.split('\n').filter((l) => l.startsWith('Block '));
      assert.equal(listed.length, slow.length, `listed blocks:\n${listed.join('\n')}`);
      slow.forEach((b, i) => {
        const ms = ((b.duration_ns as number) / 1e6).toFixed(3);
        assert.match(listed[i], new RegExp(`^Block ${b.height as number} \\(${b.block_hash as string}\\) .* took ${ms} ms$`));
      });
      assert.match(stdout, /^Logging blocks from height 900005 to 900024; listing blocks slower than 200 ms$/m);
      assert.match(stdout, /^ConnectBlock time \(µs\):$/m);
      // 20 blocks at 100 per second: about 190 ms from the first to the last.
      const took = /^Took (\d+\.\d{3}) ms to connect the blocks between height 900005 and 900024 \(20 blocks/m.exec(stdout);
      assert.ok(took, stdout);
      assert.ok(Number(took[1]) > 120 && Number(took[1]) < 3_000, `took ${took[1]} ms`);
      const total = blocks.reduce((n, b) => n + (b.duration_ns as number), 0);
      assert.match(stdout, new RegExp(`^ConnectBlock time: ${(total / 1e6).toFixed(3)} ms in total`, 'm'));
    } finally {
      tracee.kill('SIGKILL');
      rmSync(work, { recursive: true, force: true });
    }
  });

  it('utxocache-flush: every flush with exact fields and mode names', async () => {
    const run = await runCli('utxocache-flush', ['--scenario', 'utxocache', '--count', '2000', '--rate', '20000', '--seed', '26']);
    assertCleanSession(run, 'utxocache-flush');
    const flushes = run.expect.filter((e) => e.event === 'utxocache:flush');
    assert.equal(flushes.length, 20);
    const got = fieldsOf(run.events, ['utxocache:flush']);
    assert.deepEqual(got.map(withoutDerivedFields), flushes);
    const names = FLUSH_MODE_NAMES; // the tracee has no Bitcoin Core version: the current (v31+) names
    for (const e of got) assert.equal(e.mode_name, names[e.mode as number]);
    assertFired(run, ['utxocache:flush']);
  });

  it('utxos: every coin with exact fields and outpoints, and exact kernel counts', async () => {
    const tracepoints = findTool('utxos')?.tracepoints ?? [];
    const run = await runCli('utxos', ['--scenario', 'utxocache', '--count', '1500', '--rate', '3000', '--seed', '27']);
    assertCleanSession(run, 'utxos');
    const coins = run.expect.filter((e) => tracepoints.includes(e.event));
    assert.ok(coins.length > 1400);
    const got = fieldsOf(run.events, tracepoints);
    assert.deepEqual(got.map(withoutDerivedFields), coins);
    for (const c of got) assert.equal(c.outpoint, `${String(c.txid)}:${String(c.index)}`);
    const ops = run.events.filter((e) => e.event === 'utxocache:ops').pop() as unknown as UtxoOpsEvent | undefined;
    assert.ok(ops, 'a utxocache:ops event');
    assert.deepEqual(ops.counts, { add: run.summary.fired['utxocache:add'], spent: run.summary.fired['utxocache:spent'], uncache: run.summary.fired['utxocache:uncache'] });
    assertFired(run, tracepoints);
  });

  it('coin-selection: every step in order with exact fields, hostile wallet names intact', async () => {
    const tracepoints = findTool('coin-selection')?.tracepoints ?? [];
    const run = await runCli('coin-selection', ['--scenario', 'coin-selection', '--hostile', '--count', '300', '--rate', '3000', '--seed', '28']);
    assertCleanSession(run, 'coin-selection');
    // The tracee ends between transaction attempts (at most 4 tracepoints each), within the count.
    assert.ok(run.expect.length > 296 && run.expect.length <= 300, `${run.expect.length} events`);
    assert.deepEqual(fieldsOf(run.events, tracepoints), run.expect);
    assertFired(run, tracepoints);
  });
});

describe('bitcoin-usdt run refuses a target without the tool\'s tracepoints (before anything runs as root)', function () {
  this.timeout(60_000);

  function runRefused(args: string[]): Promise<{ code: number | null; stderr: string }> {
    return new Promise((resolvePromise) => {
      execFile(process.execPath, [CLI, 'run', ...args], { cwd: ROOT }, (error, _out, stderr) =>
        resolvePromise({ code: error && typeof error.code === 'number' ? error.code : 0, stderr }));
    });
  }

  it('a bash process, python3.11 (USDT, but not Bitcoin Core\'s) and a bitcoind too old for the tool', async () => {
    assert.ok(existsSync(CLI), `${CLI} is missing: npm run build`);
    const bash = spawn('/usr/bin/bash', ['-c', 'sleep 30; exit 0']); // not a lone command: bash stays, it does not exec sleep
    await new Promise((r) => setTimeout(r, 300)); // the child has exec'd bash
    try {
      const byPid = await runRefused(['p2p-traffic', '--pid', String(bash.pid)]);
      assert.equal(byPid.code, 1);
      assert.equal(byPid.stderr,
        `bitcoin-usdt: refused: process ${bash.pid} (/usr/bin/bash) is not a bitcoind with USDT tracepoints (no .note.stapsdt section); ` +
        'p2p-traffic needs net:inbound_message, net:outbound_message. Pick the PID of a running bitcoind, or a bitcoind built with ' +
        '-DWITH_USDT=ON (CMake, v29+) or --enable-usdt (v22–v28).\n');
    } finally {
      bash.kill('SIGKILL');
    }
    const python = await runRefused(['p2p-traffic', '--binary', '/usr/bin/python3.11']);
    assert.equal(python.code, 1);
    assert.match(python.stderr, /^bitcoin-usdt: refused: \/usr\/bin\/python3\.11 is not a bitcoind with USDT tracepoints \(its \d+ USDT tracepoint\(s\) are of python, none of Bitcoin Core's\); p2p-traffic needs net:inbound_message, net:outbound_message\./);
    const old = process.env.BITCOIND_OLD ?? join(ROOT, '.real-node', 'v28.99', 'bin', 'bitcoind');
    assert.ok(existsSync(old), `${old} is missing: run scripts/unpack-real-node.sh (or set BITCOIND_OLD)`);
    const tooOld = await runRefused(['p2p-connections', '--binary', old]);
    assert.equal(tooOld.code, 1);
    assert.match(tooOld.stderr, /lacks the tracepoint\(s\) net:inbound_connection, net:outbound_connection, net:evicted_inbound_connection, net:misbehaving_connection, net:closed_connection that p2p-connections attaches to \(added in v29: the build may be older\)\n$/);
    for (const run of [python, tooOld]) assert.doesNotMatch(run.stderr, /bitcoin-usdt: running/, 'the helper never started');
  });
});

describe('bitcoin-usdt run --filter: filters and samples applied in the kernel (real helper, real bpftrace and BCC, v29 tracee; raw-p2p-msgs also legacy)', function () {
  this.timeout(120_000);

  before(function () {
    assert.equal(process.getuid?.(), 0, 'these tests run the helper as root without sudo');
    assert.ok(existsSync(CLI), `${CLI} is missing: the suite above builds it (or run npm run build)`);
  });

  it('p2p-traffic peer=ID type=TYPE: exactly the matching messages, fired counts and per-peer totals exact over all of them', async () => {
    const tracepoints = findTool('p2p-traffic')?.tracepoints ?? [];
    const traceeArgs = ['--scenario', 'p2p', '--count', '3000', '--rate', '6000', '--seed', '31'];
    const run = await runCli('p2p-traffic', traceeArgs, ['--filter', 'peer=2', '--filter', 'type=tx']);
    assertCleanSession(run, 'p2p-traffic');
    assert.deepEqual(run.events[0].filters, { peer: '2', msg_type: 'tx' });
    const matching = run.expect.filter((e) => e.peer_id === 2 && e.msg_type === 'tx');
    assert.ok(matching.length > 10 && matching.length < run.expect.length / 10, `${matching.length} of ${run.expect.length} match`);
    assert.deepEqual(fieldsOf(run.events, tracepoints), matching);
    assertFired(run, tracepoints);
    // Every peer's messages, filtered out or not, counted in the kernel.
    assert.deepEqual(peerTotalsOf(run), firedPerPeer(run));
  });

  for (const tracee of [TRACEE, TRACEE_LEGACY]) {
    it(`raw-p2p-msgs peer=ID type=TYPE (BCC, ${basename(tracee)}): exactly the matching messages with their bytes, fired counts and per-peer totals exact over all`, async () => {
      const tracepoints = findTool('raw-p2p-msgs')?.tracepoints ?? [];
      const traceeArgs = ['--scenario', 'p2p', '--count', '3000', '--rate', '6000', '--seed', '33'];
      const run = await runCliOnTracee(tracee, traceeArgs, ['raw-p2p-msgs', '--filter', 'peer=3', '--filter', 'type=inv']);
      assertCleanSession(run, 'raw-p2p-msgs', tracee);
      assert.deepEqual(run.events[0].filters, { peer: '3', msg_type: 'inv' });
      // The helper passes the BCC program the checked parameters, one argument each.
      assert.match(run.stderr, /raw-p2p-msgs\.py --binary \S+ --pid \d+ --peer=3 --msg_type=inv$/m);
      const matching = run.expect.filter((e) => e.peer_id === 3 && e.msg_type === 'inv');
      assert.ok(matching.length > 10 && matching.length < run.expect.length / 10, `${matching.length} of ${run.expect.length} match`);
      const delivered = fieldsOf(run.events, tracepoints);
      assert.deepEqual(delivered.map(({ msg: _msg, captured: _captured, ...rest }) => rest), matching);
      for (const [i, m] of delivered.entries()) {
        const size = Number(m.msg_size);
        assert.equal(m.captured, size, `message ${i} whole`);
        assert.equal(m.msg, traceeMessageHex(size), `message ${i} byte-exact`);
      }
      // Nothing lost (assertCleanSession) and the decoder reconciles against @selected: delivered == selected.
      assertFired(run, tracepoints);
      assert.deepEqual(peerTotalsOf(run), firedPerPeer(run));
    });
  }

  it('utxos op=spent txid=PREFIX: exactly the matching coins; the per-operation and fired counts stay exact', async () => {
    const tracepoints = findTool('utxos')?.tracepoints ?? [];
    const traceeArgs = ['--scenario', 'utxocache', '--count', '1500', '--rate', '3000', '--seed', '27'];
    // The tracee's coins are the same for the same seed: take a txid prefix that some spent coins have.
    const probe = await runCli('utxos', traceeArgs, ['--filter', 'op=spent']);
    assertCleanSession(probe, 'utxos');
    const spent = probe.expect.filter((e) => e.event === 'utxocache:spent');
    assert.deepEqual(fieldsOf(probe.events, tracepoints).map(withoutDerivedFields), spent);
    const prefix = String(spent[0].txid).slice(0, 3);
    const run = await runCli('utxos', traceeArgs, ['--filter', 'op=spent', '--filter', `txid=${prefix}`]);
    assertCleanSession(run, 'utxos');
    assert.deepEqual(run.events[0].filters, { op: 'spent', txid_high: String(parseInt(prefix, 16)), txid_bits: '12' });
    const matching = run.expect.filter((e) => e.event === 'utxocache:spent' && String(e.txid).startsWith(prefix));
    assert.ok(matching.length >= 1 && matching.length < spent.length, `${matching.length} of ${spent.length} spent coins match ${prefix}`);
    assert.deepEqual(fieldsOf(run.events, tracepoints).map(withoutDerivedFields), matching);
    const ops = run.events.filter((e) => e.event === 'utxocache:ops').pop() as unknown as UtxoOpsEvent | undefined;
    assert.deepEqual(ops?.counts, { add: run.summary.fired['utxocache:add'], spent: run.summary.fired['utxocache:spent'], uncache: run.summary.fired['utxocache:uncache'] });
    assertFired(run, tracepoints);
  });

  it('utxos sample=7: every 7th coin; counts exact', async () => {
    const tracepoints = findTool('utxos')?.tracepoints ?? [];
    const run = await runCli('utxos', ['--scenario', 'utxocache', '--count', '1500', '--rate', '3000', '--seed', '29'], ['--filter', 'sample=7']);
    assertCleanSession(run, 'utxos');
    assert.deepEqual(run.events[0].filters, { sample: '7' });
    const note = run.events.find((e) => e.event === 'session:message' && String(e.message).startsWith('filtered in the kernel'));
    assert.equal(note?.message, 'filtered in the kernel: sampled 1 in 7 (only these events are streamed; the counts kept in the kernel stay exact over all)');
    const coins = run.expect.filter((e) => tracepoints.includes(e.event));
    const everySeventh = coins.filter((_, i) => (i + 1) % 7 === 0);
    assert.ok(everySeventh.length > 150);
    assert.deepEqual(fieldsOf(run.events, tracepoints).map(withoutDerivedFields), everySeventh);
    assertFired(run, tracepoints);
  });

  it('a filter the tool does not take, or a bad value, is refused before anything runs', async () => {
    const refused = (args: string[]): Promise<{ code: number | null; stderr: string }> =>
      new Promise((resolvePromise) => {
        execFile(process.execPath, [CLI, 'run', ...args], (error, _out, stderr) =>
          resolvePromise({ code: error ? (error as { code?: number }).code ?? 1 : 0, stderr }));
      });
    const noKey = await refused(['p2p-traffic', '--binary', TRACEE, '--filter', 'op=add']);
    assert.match(noKey.stderr, /p2p-traffic has no filter 'op' \(filters: peer=…, type=…\)/);
    const badTxid = await refused(['utxos', '--binary', TRACEE, '--filter', 'txid=xyz']);
    assert.match(badTxid.stderr, /txid= takes the first 1 to 15 hex digits of a txid, not 'xyz'/);
    const badType = await refused(['p2p-traffic', '--binary', TRACEE, '--filter', 'type=TX;rm']);
    assert.match(badType.stderr, /--filter type=TX;rm: Only messages of this type/);
    for (const r of [noKey, badTxid, badType]) {
      assert.notEqual(r.code, 0);
      assert.doesNotMatch(r.stderr, /bitcoin-usdt: running/, 'the helper never started');
    }
  });
});

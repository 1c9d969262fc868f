// The BCC probe programs for real: test tracee → probes/raw-p2p-msgs.py / probes/mempool-monitor.py (BCC,
// /usr/bin/python3 -I -S, as the helper runs them) → NDJSON on stdout → bccDecoder, compared with the
// tracee's --expect file and --summary. Needs root, `make -C test/tracee` and
// `scripts/setup-bcc-test-headers.sh` (BCC plus kernel headers on this machine).

import { strict as assert } from 'node:assert';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, closeSync, copyFileSync, existsSync, mkdtempSync, openSync, readFileSync, readSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { JsonObject, parseBpftraceJson } from '../../src/core/events/bpftraceJson';
import { decodeBccLine, type BccEvent } from '../../src/core/events/bccDecoder';
import type { MempoolEvent, RawNetMessageEvent } from '../../src/core/events/toolEventTypes';
import { waitForText } from './childProcessWaits';

const ROOT = resolve(__dirname, '..', '..');
const PYTHON = '/usr/bin/python3';
const MESSAGE_TRACEPOINTS = ['net:inbound_message', 'net:outbound_message'];
const MEMPOOL_TRACEPOINTS = ['mempool:added', 'mempool:removed', 'mempool:replaced', 'mempool:rejected'];

type Build = 'tracee-v29' | 'tracee-legacy';
/** v29 builds need --pid (BCC raises semaphores in one process); legacy builds also work by path alone. */
type AttachMode = 'pid' | 'path';

interface ToolRun {
  events: BccEvent[];
  /** Final kernel-side @fired counts. */
  fired: Record<string, number>;
  /** Final kernel-side @selected counts (a program filtering in the kernel), else null. */
  selected: Record<string, number> | null;
  /** The last per-peer counts (@msgs_in, @bytes_in, @msgs_out, @bytes_out: key → count) printed before a `totals` tuple. */
  peerMaps: Record<string, Record<string, number>> | null;
  /** `totals` tuples printed. */
  totalsRecords: number;
  lost: number;
  attachedProbes: number;
  attachSeconds: number;
  /** From SIGINT (by path) or the target's exit (by PID) to the program's exit. */
  stopSeconds: number;
  otherLines: string[];
  expect: Array<Record<string, unknown>>;
  summary: { fired: Record<string, number>; elapsed_ns: number; pid: number; peers: Record<string, { msgs_in: number; bytes_in: number; msgs_out: number; bytes_out: number }> };
  stderr: string;
}

function traceePath(build: Build): string {
  const path = join(ROOT, 'test', 'tracee', 'build', build);
  if (!existsSync(path)) throw new Error(`${path} is missing: run \`make -C test/tracee\` first`);
  return path;
}

function checkBcc(): void {
  try {
    execFileSync(PYTHON, ['-c', 'import bcc'], { stdio: 'pipe' });
  } catch {
    throw new Error(`${PYTHON} cannot import bcc: run scripts/setup-bcc-test-headers.sh first`);
  }
  const release = execFileSync('uname', ['-r'], { encoding: 'utf8' }).trim();
  if (!existsSync(`/lib/modules/${release}/build`)) {
    throw new Error(`/lib/modules/${release}/build is missing (BCC needs kernel headers): run scripts/setup-bcc-test-headers.sh`);
  }
  if (process.getuid?.() !== 0) throw new Error('the BCC probe tests need root');
}

/** Byte i of the tracee's message buffer is (i*31+7) & 0xff (test/tracee/README.md, "Message bytes"). */
function traceeMessageBytes(length: number): Buffer {
  const bytes = Buffer.alloc(length);
  for (let i = 0; i < length; i++) bytes[i] = (i * 31 + 7) & 0xff;
  return bytes;
}

function sha256(bytes: Buffer): string {
  return createHash('sha256').update(bytes).digest('hex');
}

function exited(child: ChildProcess): Promise<number | null> {
  return new Promise((r) => (child.exitCode !== null ? r(child.exitCode) : child.once('exit', (code) => r(code))));
}

/** A v29 semaphore's current value in a running process, read from /proc/PID/mem (PIE: load base + symbol). */
function readSemaphore(pid: number, binary: string, symbol: string): number {
  const symbols = execFileSync('readelf', ['-sW', binary], { encoding: 'utf8' });
  const line = symbols.split('\n').find((l) => l.trim().split(/\s+/)[7] === symbol);
  assert.ok(line, `symbol ${symbol} in ${binary}`);
  const address = BigInt(`0x${line.trim().split(/\s+/)[1]}`);
  const maps = readFileSync(`/proc/${pid}/maps`, 'utf8').split('\n');
  const first = maps.find((l) => l.endsWith(binary) && l.split(/\s+/)[2] === '00000000');
  assert.ok(first, `${binary} mapped in ${pid}`);
  const base = BigInt(`0x${first.split('-')[0]}`);
  const fd = openSync(`/proc/${pid}/mem`, 'r');
  try {
    const value = Buffer.alloc(2);
    readSync(fd, value, 0, 2, Number(base + address));
    return value.readUInt16LE(0);
  } finally {
    closeSync(fd);
  }
}

/** Calls `onLine` with each stdout line as bytes (a line may be megabytes long); resolves at the end. */
function forEachLine(child: ChildProcess, onLine: (line: Buffer) => void): Promise<void> {
  return new Promise((resolvePromise) => {
    let partial: Buffer[] = [];
    child.stdout?.on('data', (chunk: Buffer) => {
      let start = 0;
      for (let nl = chunk.indexOf(10); nl !== -1; nl = chunk.indexOf(10, start)) {
        partial.push(chunk.subarray(start, nl));
        onLine(Buffer.concat(partial));
        partial = [];
        start = nl + 1;
      }
      if (start < chunk.length) partial.push(chunk.subarray(start));
    });
    child.stdout?.on('end', () => resolvePromise());
  });
}

interface RunOptions {
  /** false: drop each message's hex after decoding (for runs of hundreds of megabytes). */
  keepBytes?: boolean;
  /**
   * When the tracee starts firing: 'attached' (SIGUSR1 once the program says it attached), or 'semaphores'
   * (v29 only: the tracee's --wait-attach, the instant the program's tracepoints' semaphores are raised).
   */
  fireWhen?: 'attached' | 'semaphores';
  /** The program's own parameters (`--peer=2`, as the helper passes the tool's parameters). */
  programArgs?: string[];
}

const PEER_MAPS = ['@msgs_in', '@bytes_in', '@msgs_out', '@bytes_out'];
const countsOf = (map: JsonObject): Record<string, number> => Object.fromEntries(map.entries.map(([k, v]) => [k, Number(v)]));

/** Runs one probe program against one tracee run (private copy of the binary), from attach to exit. */
async function runTool(program: string, build: Build | { compiled: string }, mode: AttachMode, traceeArgs: string[],
  { keepBytes = true, fireWhen = 'attached', programArgs = [] }: RunOptions = {}): Promise<ToolRun> {
  const work = mkdtempSync(join(tmpdir(), 'bcc-probes-'));
  const isTracee = typeof build === 'string';
  // A private copy (its own inode): other sessions' uprobes on the shared tracee binary cannot interfere.
  const binary = isTracee ? join(work, build) : build.compiled;
  if (isTracee) {
    copyFileSync(traceePath(build), binary);
    chmodSync(binary, 0o755);
  }
  const expectPath = join(work, 'expect.ndjson');
  const summaryPath = join(work, 'summary.json');
  const tracepoints = program === 'raw-p2p-msgs.py' ? MESSAGE_TRACEPOINTS : MEMPOOL_TRACEPOINTS;
  const start = fireWhen === 'attached' ? ['--wait-signal'] : ['--wait-attach', tracepoints.join(',')];
  const outputs = isTracee ? [...start, '--expect', expectPath, '--summary', summaryPath] : [];
  const tracee = spawn(binary, [...traceeArgs, ...outputs], { stdio: ['ignore', 'pipe', 'inherit'] });
  let tool: ChildProcess | null = null;
  try {
    const [, pidText] = await waitForText(tracee.stdout, tracee, /ready pid=(\d+)/, 10_000);
    const traceeDone = waitForText(tracee.stdout, tracee, /done fired=(\d+)/, 100_000);
    const target = mode === 'pid' ? ['--pid', pidText, '--binary', binary] : ['--binary', binary];
    tool = spawn(PYTHON, ['-I', '-S', join(ROOT, 'probes', program), ...target, ...programArgs], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    tool.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const run: ToolRun = {
      events: [],
      fired: {},
      selected: null,
      peerMaps: null,
      totalsRecords: 0,
      lost: 0,
      attachedProbes: 0,
      attachSeconds: 0,
      stopSeconds: 0,
      otherLines: [],
      expect: [],
      summary: { fired: {}, elapsed_ns: 0, pid: 0, peers: {} },
      stderr: '',
    };
    const decodeErrors: string[] = [];
    let peerMaps: Record<string, Record<string, number>> | null = null;
    const linesDone = forEachLine(tool, (line) => {
      const decoded = decodeBccLine(line);
      if (decoded) {
        if (!decoded.ok) decodeErrors.push(decoded.error);
        else {
          for (const e of decoded.events) if (!keepBytes && 'msg' in e) e.msg = '';
          run.events.push(...decoded.events);
        }
        return;
      }
      const record = parseBpftraceJson(line);
      const data = record instanceof JsonObject ? record.get('data') : undefined;
      if (record instanceof JsonObject && record.get('type') === 'map' && data instanceof JsonObject && data.get('@fired') instanceof JsonObject) {
        run.fired = countsOf(data.get('@fired') as JsonObject);
        const selected = data.get('@selected');
        if (selected instanceof JsonObject) run.selected = countsOf(selected);
      } else if (record instanceof JsonObject && record.get('type') === 'map' && data instanceof JsonObject && PEER_MAPS.every((m) => data.get(m) instanceof JsonObject)) {
        peerMaps = Object.fromEntries(PEER_MAPS.map((m) => [m, countsOf(data.get(m) as JsonObject)]));
      } else if (record instanceof JsonObject && record.get('type') === 'value' && Array.isArray(data) && data[0] === 'totals') {
        // The per-peer counts are complete with the tuple that follows them.
        run.peerMaps = peerMaps;
        run.totalsRecords++;
      } else if (record instanceof JsonObject && record.get('type') === 'lost_events' && data instanceof JsonObject) {
        run.lost += Number(data.get('events'));
      } else {
        run.otherLines.push(line.toString());
      }
    });
    const toolExit = exited(tool);
    const attachedMatch = await Promise.race([
      waitForText(tool.stderr, tool, /attached (\d+) probes in ([\d.]+) s/, 90_000),
      toolExit.then((code) => {
        throw new Error(`${program} exited (${code}) before attaching: ${stderr}`);
      }),
    ]);
    if (fireWhen === 'attached') tracee.kill('SIGUSR1');
    await traceeDone;
    // With --pid the program stops by itself when the target exits; by path it runs until stopped.
    const stopStarted = Date.now();
    if (mode === 'path') tool.kill('SIGINT');
    const code = await toolExit;
    run.stopSeconds = (Date.now() - stopStarted) / 1000;
    assert.equal(code, 0, `${program} exit code (stderr: ${stderr})`);
    await linesDone;
    assert.deepEqual(decodeErrors, [], 'every record decodes');
    run.attachedProbes = Number(attachedMatch[1]);
    run.attachSeconds = Number(attachedMatch[2]);
    if (isTracee) {
      run.expect = readFileSync(expectPath, 'utf8').split('\n').filter((l) => l).map((l) => JSON.parse(l) as Record<string, unknown>);
      run.summary = JSON.parse(readFileSync(summaryPath, 'utf8')) as ToolRun['summary'];
    }
    run.stderr = stderr;
    return run;
  } finally {
    tracee.kill('SIGKILL');
    tool?.kill('SIGKILL');
    rmSync(work, { recursive: true, force: true });
  }
}

/**
 * The test tracee's largest message is about 2 MB: this program fires net:inbound_message (legacy style)
 * at the class boundaries up to and past Bitcoin Core's 4,000,000-byte maximum, with the tracee's byte pattern.
 */
const MAX_MESSAGE_PROGRAM = `
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/sdt.h>
#include <unistd.h>
static unsigned char buf[4000001];
int main(int argc, char **argv)
{
    (void)argv;
    for (size_t i = 0; i < sizeof buf; i++)
        buf[i] = (unsigned char)((i * 31 + 7) & 0xff);
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGUSR1);
    sigprocmask(SIG_BLOCK, &set, NULL);
    printf("ready pid=%d\\n", (int)getpid());
    fflush(stdout);
    int sig;
    sigwait(&set, &sig);
    static const uint64_t sizes[] = {2097152, 2097153, 3999999, 4000000, 4000001};
    int64_t peer_id = 42;
    const char *addr = "203.0.113.5:8333", *conn_type = "inbound", *msg_type = "block";
    for (int i = 0; i < 5; i++)
        DTRACE_PROBE6(net, inbound_message, peer_id, addr, conn_type, msg_type, sizes[i], buf);
    if (argc > 99) /* never: the tool needs both message tracepoints to exist */
        DTRACE_PROBE6(net, outbound_message, peer_id, addr, conn_type, msg_type, sizes[0], buf);
    printf("done fired=5\\n");
    fflush(stdout);
    return 0;
}
`;

/** One v29-style tracepoint whose site is inlined twice: two notes, arguments in different places. */
const TWO_CALL_SITES_PROGRAM = `
#define _SDT_HAS_SEMAPHORES 1
#include <stdio.h>
#include <unistd.h>
#include <sys/sdt.h>
__extension__ unsigned short net_inbound_message_semaphore __attribute__((unused)) __attribute__((section(".probes")));
static inline __attribute__((always_inline)) void fire(long peer, const char *addr, unsigned long size)
{
    if (*(volatile unsigned short *)&net_inbound_message_semaphore)
        STAP_PROBE3(net, inbound_message, peer, addr, size);
}
int main(int argc, char **argv)
{
    printf("ready pid=%d\\n", (int)getpid());
    fflush(stdout);
    fire(argc, argv[0], 3);
    fire(-argc, argv[argc - 1], (unsigned long)argc << 40);
    pause();
    return 0;
}
`;

const tracepointEvents = (events: BccEvent[]): BccEvent[] => events.filter((e) => e.event !== 'truncated');
const withoutElapsed = <T extends { elapsed_ns?: number }>({ elapsed_ns: _elapsed, ...rest }: T): Omit<T, 'elapsed_ns'> => rest;
const sumOf = (counts: Record<string, number>, names: string[]): number => names.reduce((s, n) => s + (counts[n] ?? 0), 0);

function assertElapsedOrdered(events: BccEvent[]): void {
  const times = events.map((e) => e.elapsed_ns ?? -1);
  assert.ok(times.every((t, i) => t > 0 && (i === 0 || t >= times[i - 1])), 'elapsed_ns positive and not going backwards');
}

const RUNS: Array<{ build: Build; mode: AttachMode }> = [
  { build: 'tracee-v29', mode: 'pid' },
  { build: 'tracee-legacy', mode: 'path' },
];

describe('BCC probe programs (real BCC, as root)', function () {
  this.timeout(120_000);
  before(checkBcc);

  for (const { build, mode } of RUNS) {
    it(`raw-p2p-msgs on ${build} (by ${mode}): exact fields, every message whole and byte-exact`, async () => {
      const run = await runTool('raw-p2p-msgs.py', build, mode, ['--scenario', 'raw', '--count', '24']);
      const messages = tracepointEvents(run.events) as RawNetMessageEvent[];
      assert.equal(run.attachedProbes, 2);
      assert.equal(run.expect.length, 24);
      assert.deepEqual(messages.map(({ msg: _msg, captured: _captured, ...rest }) => withoutElapsed(rest)), run.expect);
      const pattern = traceeMessageBytes(4_000_000);
      for (const [i, m] of messages.entries()) {
        const size = Number(m.msg_size);
        assert.equal(m.captured, size, `message ${i} (${m.msg_type}, ${size} bytes) captured whole`);
        assert.ok(Buffer.from(m.msg, 'hex').equals(pattern.subarray(0, size)), `message ${i} (${m.msg_type}) byte-exact`);
      }
      for (const size of [35_000, 162_003, 1_000_000]) {
        const m = messages.find((e) => e.msg_size === size);
        assert.ok(m, `a ${size}-byte message`);
        assert.equal(sha256(Buffer.from(m.msg, 'hex')), sha256(pattern.subarray(0, size)));
      }
      assert.ok(!run.events.some((e) => e.event === 'truncated'), 'nothing cut');
      assertElapsedOrdered(messages);
      for (const tp of MESSAGE_TRACEPOINTS) assert.equal(run.fired[tp], run.summary.fired[tp], `kernel @fired ${tp} == tracee fired`);
      assert.equal(messages.length, sumOf(run.fired, MESSAGE_TRACEPOINTS), 'delivered == fired');
      assert.equal(run.lost, 0);
      assert.equal(run.otherLines.length, 1);
      // Its clock at the attach (after the compile): the session's times count from there.
      const attachedAt = /^\{"type": "attached_probes", "data": \{"probes": 2, "elapsed_ns": (\d+)\}\}$/.exec(run.otherLines[0]);
      assert.ok(attachedAt, run.otherLines[0]);
      assert.ok(Number(attachedAt[1]) > 0 && Number(attachedAt[1]) / 1e9 <= run.attachSeconds + 1, `attached at ${attachedAt[1]} ns of the program's clock`);
      console.log(`      ${build}: compiled and attached in ${run.attachSeconds.toFixed(2)} s; largest message whole: ` +
        `${Math.max(...messages.map((m) => m.captured))} bytes`);
    });

    it(`raw-p2p-msgs --peer=2 --msg_type=tx on ${build} (by ${mode}): only that peer's messages of that type, whole and byte-exact; fired exact over all, delivered + lost == selected, per-peer totals exact`, async () => {
      const run = await runTool('raw-p2p-msgs.py', build, mode, ['--scenario', 'p2p', '--count', '3000', '--seed', '31'],
        { programArgs: ['--peer=2', '--msg_type=tx'] });
      const messages = tracepointEvents(run.events) as RawNetMessageEvent[];
      const matching = run.expect.filter((e) => e.peer_id === 2 && e.msg_type === 'tx');
      assert.ok(matching.length > 10 && matching.length < run.expect.length / 10, `${matching.length} of ${run.expect.length} match`);
      assert.deepEqual(messages.map(({ msg: _msg, captured: _captured, ...rest }) => withoutElapsed(rest)), matching);
      const pattern = traceeMessageBytes(4_000_000);
      for (const [i, m] of messages.entries()) {
        assert.equal(m.captured, Number(m.msg_size), `message ${i} whole`);
        assert.ok(Buffer.from(m.msg, 'hex').equals(pattern.subarray(0, m.captured)), `message ${i} byte-exact`);
      }
      for (const tp of MESSAGE_TRACEPOINTS) {
        assert.equal(run.fired[tp], run.summary.fired[tp], `kernel @fired ${tp} == tracee fired (every message)`);
        assert.equal(run.selected?.[tp], matching.filter((e) => e.event === tp).length, `kernel @selected ${tp} == the matching messages`);
      }
      assert.equal(messages.length + run.lost, sumOf(run.selected ?? {}, MESSAGE_TRACEPOINTS), 'delivered + lost == selected');
      assert.equal(run.lost, 0);
      // Every message per peer, filtered out or not, keyed as p2p-traffic's ("PID,PEER"; by path alone "PEER").
      const expected: Record<string, Record<string, number>> = Object.fromEntries(PEER_MAPS.map((m) => [m, {}]));
      for (const [id, totals] of Object.entries(run.summary.peers)) {
        const key = mode === 'pid' ? `${run.summary.pid},${id}` : id;
        for (const m of PEER_MAPS) {
          const count = totals[m.slice(1) as keyof typeof totals];
          if (count > 0) expected[m][key] = count;
        }
      }
      assert.ok(Object.keys(run.summary.peers).length >= 8, 'the tracee\'s peers');
      assert.deepEqual(run.peerMaps, expected);
      console.log(`      ${build}: ${messages.length} of ${sumOf(run.fired, MESSAGE_TRACEPOINTS)} messages selected and delivered`);
    });

    it(`mempool-monitor on ${build} (by ${mode}): every field exact, every replaced argument the build passes (8 since v29, 7 before), bursts without loss`, async () => {
      const run = await runTool('mempool-monitor.py', build, mode,
        ['--scenario', 'mempool', '--count', '16000', '--burst-size', '5000', '--seed', '5']);
      const events = tracepointEvents(run.events) as MempoolEvent[];
      assert.equal(run.attachedProbes, 4);
      assert.equal(events.length, run.expect.length, `delivered ${events.length} of ${run.expect.length}`);
      for (let i = 0; i < events.length; i++) assert.deepEqual(withoutElapsed(events[i]), run.expect[i], `event ${i}`);
      const replaced = events.filter((e) => e.event === 'mempool:replaced');
      assert.ok(replaced.length > 100, 'replacements');
      if (build === 'tracee-legacy') {
        // Like every release from v25 to v28 (and the real 28.99 node), the legacy build passes 7 arguments.
        assert.ok(replaced.every((e) => e.replaced_by_transaction === null), 'no 8th argument: replaced_by_transaction is null');
      } else {
        assert.ok(replaced.some((e) => e.replaced_by_transaction === true) && replaced.some((e) => e.replaced_by_transaction === false), 'both kinds');
      }
      // Display order: the replaced transaction later leaves with reason "replaced" under the same txid,
      // and the replacement enters under replacement_id (both as the tracee printed them).
      const removedReplaced = new Set(events.filter((e) => e.event === 'mempool:removed' && e.reason === 'replaced').map((e) => e.event === 'mempool:removed' ? e.txid : ''));
      assert.ok(replaced.every((e) => removedReplaced.has(e.replaced_txid)));
      const burst = events.filter((e) => e.event === 'mempool:removed' && e.reason === 'block').length;
      let longestBurst = 0;
      let current = 0;
      for (const e of events) {
        current = e.event === 'mempool:removed' && e.reason === 'block' ? current + 1 : 0;
        longestBurst = Math.max(longestBurst, current);
      }
      assert.ok(burst >= 2 * 5000 && longestBurst >= 5000, `two whole removal bursts of 5000 (got ${burst} block removals, longest run ${longestBurst})`);
      assert.ok(events.some((e) => e.event === 'mempool:rejected' && e.reason.length === 118), 'the 118-char (pre-v30) reject reason whole');
      assert.ok(events.some((e) => e.event === 'mempool:rejected' && e.reason.length === 116 && e.reason.startsWith('mempool-script-verify-flag-failed (')), 'the 116-char v30 reject reason whole');
      assert.ok(!run.events.some((e) => e.event === 'truncated'), 'nothing cut');
      assertElapsedOrdered(events);
      for (const tp of MEMPOOL_TRACEPOINTS) assert.equal(run.fired[tp], run.summary.fired[tp], `kernel @fired ${tp} == tracee fired`);
      assert.equal(events.length, sumOf(run.fired, MEMPOOL_TRACEPOINTS), 'delivered == fired');
      assert.equal(run.lost, 0, 'no ring-buffer losses');
      console.log(`      ${build}: compiled and attached in ${run.attachSeconds.toFixed(2)} s; ${events.length} events ` +
        `(${burst} in removal bursts of 5000) in ${(run.summary.elapsed_ns / 1e6).toFixed(0)} ms, lost ${run.lost}`);
    });
  }

  it('raw-p2p-msgs on hostile P2P traffic (v29): hostile strings exact, blocks over 1 MiB whole', async () => {
    const run = await runTool('raw-p2p-msgs.py', 'tracee-v29', 'pid', ['--scenario', 'hostile', '--count', '1500', '--seed', '4']);
    const messages = tracepointEvents(run.events) as RawNetMessageEvent[];
    assert.deepEqual(messages.map(({ msg: _msg, captured: _captured, ...rest }) => withoutElapsed(rest)), run.expect);
    const pattern = traceeMessageBytes(4_000_000);
    for (const [i, m] of messages.entries()) {
      assert.equal(m.captured, Number(m.msg_size), `message ${i} whole`);
      assert.ok(Buffer.from(m.msg, 'hex').equals(pattern.subarray(0, m.captured)), `message ${i} byte-exact`);
    }
    const largest = Math.max(...messages.map((m) => m.captured));
    assert.ok(largest > 1_048_576, `a message over 1 MiB (largest ${largest})`);
    assert.ok(messages.some((m) => m.msg_type === 'ctl\x01\x07\x1b\x1f\x7f') && messages.some((m) => m.peer_addr.startsWith('\u202e')), 'control bytes and U+202E kept');
    assert.ok(messages.some((m) => m.peer_id === '9223372036854775807'), '64-bit peer id kept exact');
    assert.equal(messages.length, sumOf(run.fired, MESSAGE_TRACEPOINTS));
    assert.equal(run.lost, 0);
    console.log(`      largest message captured whole: ${largest} bytes`);
  });

  it('raw-p2p-msgs overloaded with 1 MB messages (legacy), stopped by SIGINT: delivered + lost == fired, exit within 3 s', async () => {
    // 3000 calls of the raw list fire about 318 MB in a tight loop: more than the 128 MiB ring holds, and
    // SIGINT comes while the ring is full (the program prints for 1.5 s, then counts the rest as lost).
    const run = await runTool('raw-p2p-msgs.py', 'tracee-legacy', 'path', ['--scenario', 'raw', '--count', '3000'], { keepBytes: false });
    const messages = tracepointEvents(run.events) as RawNetMessageEvent[];
    const fired = sumOf(run.summary.fired, MESSAGE_TRACEPOINTS);
    assert.equal(fired, 3000);
    assert.equal(sumOf(run.fired, MESSAGE_TRACEPOINTS), fired, 'kernel @fired == tracee fired');
    assert.equal(messages.length + run.lost, fired, `delivered ${messages.length} + lost ${run.lost} == fired ${fired}`);
    assert.ok(messages.every((m) => m.captured === Number(m.msg_size)), 'every delivered message whole');
    assert.ok(run.stopSeconds < 3, `stopped in ${run.stopSeconds} s (the helper's grace before SIGKILL is 3 s)`);
    const deliveredBytes = messages.reduce((sum, m) => sum + m.captured, 0);
    console.log(`      fired ${fired} messages (${(run.summary.elapsed_ns / 1e6).toFixed(0)} ms), delivered ${messages.length} ` +
      `(${(deliveredBytes / 1e6).toFixed(1)} MB), lost ${run.lost} (counted), stopped ${run.stopSeconds.toFixed(2)} s after SIGINT`);
  });

  it('raw-p2p-msgs --msg_type=block overloaded with 1 MB blocks (legacy), stopped by SIGINT: only blocks, delivered + lost == selected, fired exact over all', async () => {
    // The raw list's 1,000,000-byte block is 1 in 12 calls: 250 blocks (250 MB) in a tight loop, more than the ring holds.
    const run = await runTool('raw-p2p-msgs.py', 'tracee-legacy', 'path', ['--scenario', 'raw', '--count', '3000'],
      { keepBytes: false, programArgs: ['--msg_type=block'] });
    const messages = tracepointEvents(run.events) as RawNetMessageEvent[];
    assert.equal(sumOf(run.summary.fired, MESSAGE_TRACEPOINTS), 3000);
    for (const tp of MESSAGE_TRACEPOINTS) assert.equal(run.fired[tp], run.summary.fired[tp], `kernel @fired ${tp} == tracee fired`);
    const blocks = run.expect.filter((e) => e.msg_type === 'block');
    assert.equal(blocks.length, 250);
    assert.deepEqual(run.selected, { 'net:inbound_message': 250, 'net:outbound_message': 0 });
    assert.ok(messages.every((m) => m.msg_type === 'block' && m.captured === 1_000_000), 'only blocks, each whole');
    assert.equal(messages.length + run.lost, 250, `delivered ${messages.length} + lost ${run.lost} == selected 250`);
    assert.ok(run.totalsRecords > 0 && run.peerMaps !== null, 'per-peer counts under a filter');
    console.log(`      250 of 3000 messages selected: ${messages.length} delivered, ${run.lost} lost (counted)`);
  });

  it('raw-p2p-msgs refuses a filter value that is not a peer id or a message type, before compiling anything', () => {
    for (const [arg, message] of [['--peer=-2', /--peer=-2: a peer id/], ['--peer=9223372036854775808', /--peer=9223372036854775808: a peer id/],
      ['--msg_type=TX', /--msg_type=TX: a message type of 1 to 12 lowercase letters/], ['--msg_type=abcdefghijklm', /--msg_type=abcdefghijklm: a message type/]] as const) {
      let failure: { status: number; stderr: string } | null = null;
      try {
        execFileSync(PYTHON, ['-I', '-S', join(ROOT, 'probes', 'raw-p2p-msgs.py'), '--pid', '1', arg], { stdio: 'pipe', encoding: 'utf8' });
      } catch (error) {
        failure = error as { status: number; stderr: string };
      }
      assert.ok(failure, `${arg} refused`);
      assert.equal(failure.status, 2, arg);
      assert.match(failure.stderr, message);
    }
  });

  it('raw-p2p-msgs at the protocol maximum: 4,000,000 bytes whole, 4,000,001 flagged as cut', async () => {
    const work = mkdtempSync(join(tmpdir(), 'bcc-max-message-'));
    try {
      const binary = join(work, 'max-message');
      writeFileSync(`${binary}.c`, MAX_MESSAGE_PROGRAM);
      execFileSync('gcc', ['-O2', '-o', binary, `${binary}.c`], { stdio: 'inherit' });
      const run = await runTool('raw-p2p-msgs.py', { compiled: binary }, 'pid', []);
      const messages = tracepointEvents(run.events) as RawNetMessageEvent[];
      const pattern = traceeMessageBytes(4_000_001);
      assert.deepEqual(messages.map((m) => [m.msg_size, m.captured]), [
        [2_097_152, 2_097_152], [2_097_153, 2_097_153], [3_999_999, 3_999_999], [4_000_000, 4_000_000], [4_000_001, 4_000_000],
      ]);
      for (const m of messages) assert.ok(Buffer.from(m.msg, 'hex').equals(pattern.subarray(0, m.captured)), `${m.msg_size} byte-exact`);
      assert.deepEqual(run.events.filter((e) => e.event === 'truncated'), [
        { event: 'truncated', elapsed_ns: messages[4].elapsed_ns, field: 'msg', count: 1 },
      ]);
      assert.equal(sumOf(run.fired, MESSAGE_TRACEPOINTS), 5);
      assert.equal(run.lost, 0);
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
  });

  it('lowers the semaphores it raised when it stops (v29, --pid)', async () => {
    const work = mkdtempSync(join(tmpdir(), 'bcc-semaphores-'));
    const binary = join(work, 'tracee-v29');
    copyFileSync(traceePath('tracee-v29'), binary);
    chmodSync(binary, 0o755);
    const tracee = spawn(binary, ['--scenario', 'mempool', '--wait-signal'], { stdio: ['ignore', 'pipe', 'inherit'] });
    let tool: ChildProcess | null = null;
    try {
      const [, pidText] = await waitForText(tracee.stdout, tracee, /ready pid=(\d+)/, 10_000);
      const pid = Number(pidText);
      const names = MEMPOOL_TRACEPOINTS.map((tp) => `${tp.replace(':', '_')}_semaphore`);
      assert.deepEqual(names.map((n) => readSemaphore(pid, binary, n)), [0, 0, 0, 0], 'before');
      tool = spawn(PYTHON, ['-I', '-S', join(ROOT, 'probes', 'mempool-monitor.py'), '--pid', pidText], { stdio: ['ignore', 'ignore', 'pipe'] });
      await waitForText(tool.stderr, tool, /attached 4 probes/, 90_000);
      assert.deepEqual(names.map((n) => readSemaphore(pid, binary, n)), [1, 1, 1, 1], 'while attached');
      const exit = exited(tool);
      tool.kill('SIGINT');
      assert.equal(await exit, 0);
      assert.deepEqual(names.map((n) => readSemaphore(pid, binary, n)), [0, 0, 0, 0], 'after it stopped');
    } finally {
      tracee.kill('SIGKILL');
      tool?.kill('SIGKILL');
      rmSync(work, { recursive: true, force: true });
    }
  });

  // A process that starts its work when a tracer appears (bitcoind after -reindex starts, a test waiting for
  // the semaphore) fires from the moment the semaphores go up: the programs raise them only once every probe
  // is attached, so nothing fired goes undelivered and uncounted.
  it('raw-p2p-msgs (v29): a target that fires the instant the semaphores go up loses nothing', async () => {
    const run = await runTool('raw-p2p-msgs.py', 'tracee-v29', 'pid', ['--scenario', 'p2p', '--count', '3000', '--seed', '6'],
      { keepBytes: false, fireWhen: 'semaphores' });
    const messages = tracepointEvents(run.events) as RawNetMessageEvent[];
    const fired = sumOf(run.summary.fired, MESSAGE_TRACEPOINTS);
    assert.ok(fired > 2000, `the tracee fired ${fired} of its 3000 calls`);
    for (const tp of MESSAGE_TRACEPOINTS) assert.equal(run.fired[tp], run.summary.fired[tp], `kernel @fired ${tp} == tracee fired`);
    assert.equal(messages.length + run.lost, fired, `delivered ${messages.length} + lost ${run.lost} == fired ${fired}`);
    assert.equal(run.lost, 0);
    assert.deepEqual(messages.map(({ msg: _msg, captured: _captured, ...rest }) => withoutElapsed(rest)), run.expect);
  });

  it('mempool-monitor (v29): a target that fires the instant the semaphores go up loses nothing', async () => {
    const run = await runTool('mempool-monitor.py', 'tracee-v29', 'pid', ['--scenario', 'mempool', '--count', '6000', '--seed', '7'],
      { fireWhen: 'semaphores' });
    const events = tracepointEvents(run.events) as MempoolEvent[];
    const fired = sumOf(run.summary.fired, MEMPOOL_TRACEPOINTS);
    assert.ok(fired > 5000, `the tracee fired ${fired} of its 6000 calls`);
    for (const tp of MEMPOOL_TRACEPOINTS) assert.equal(run.fired[tp], run.summary.fired[tp], `kernel @fired ${tp} == tracee fired`);
    assert.equal(events.length + run.lost, fired, `delivered ${events.length} + lost ${run.lost} == fired ${fired}`);
    assert.equal(run.lost, 0);
    for (let i = 0; i < events.length; i++) assert.deepEqual(withoutElapsed(events[i]), run.expect[i], `event ${i}`);
  });

  // The programs enable no probe in BCC (that would raise the semaphores before the program is attached), so
  // they write the argument readers BCC's bcc_usdt_genargs would write: the same text, for every tracepoint.
  async function assertArgumentReadersEqualBcc(binary: string, names: string[]): Promise<string> {
    const target = spawn(binary, ['--wait-signal'], { stdio: ['ignore', 'pipe', 'inherit'] });
    try {
      const [, pid] = await waitForText(target.stdout, target, /ready pid=(\d+)/, 10_000);
      const compare = [
        'import sys', `sys.path.insert(0, ${JSON.stringify(join(ROOT, 'probes'))})`, 'import bcc_common',
        'bcc = bcc_common.import_bcc()', `pid, binary, names = ${pid}, ${JSON.stringify(binary)}, ${JSON.stringify(names)}`,
        "tracepoints = {name: 'fn_%d' % i for i, name in enumerate(names)}",
        'usdt, probes, _gated = bcc_common.open_usdt(bcc, pid, binary, tracepoints)',
        'ours = bcc_common.argument_readers(probes, tracepoints)',
        'reference = bcc.USDT(pid=pid, path=binary)',
        'for name, fn_name in tracepoints.items(): reference.enable_probe(name, fn_name)',
        "sys.stdout.write(ours + '\\n=====\\n' + reference.get_text())",
      ].join('\n');
      const [ours, bccText] = execFileSync(PYTHON, ['-I', '-S', '-c', compare], { encoding: 'utf8' }).split('\n=====\n');
      assert.equal(ours, bccText);
      return ours;
    } finally {
      target.kill('SIGKILL');
    }
  }

  for (const build of ['tracee-v29', 'tracee-v29-nopie', 'tracee-legacy']) {
    it(`argument readers equal BCC's own for all 23 tracepoints of ${build} (20 documented, 3 undocumented)`, async () => {
      const binary = traceePath(build as Build);
      const notes = execFileSync('readelf', ['-n', binary], { encoding: 'utf8' });
      const names = [...notes.matchAll(/Provider: (\S+)\n\s+Name: (\S+)/g)].map((m) => `${m[1]}:${m[2]}`);
      assert.equal(names.length, 23);
      const ours = await assertArgumentReadersEqualBcc(binary, names);
      assert.equal((ours.match(/_bpf_readarg_fn_/g) ?? []).length, (notes.match(/@/g) ?? []).length, 'one reader per argument');
    });
  }

  it('argument readers equal BCC\'s own for a tracepoint with two call sites (inlined twice, other registers each)', async () => {
    const work = mkdtempSync(join(tmpdir(), 'bcc-two-sites-'));
    try {
      const binary = join(work, 'two-sites');
      writeFileSync(`${binary}.c`, TWO_CALL_SITES_PROGRAM);
      execFileSync('gcc', ['-O2', '-o', binary, `${binary}.c`], { stdio: 'inherit' });
      const notes = execFileSync('readelf', ['-n', binary], { encoding: 'utf8' });
      assert.equal((notes.match(/Name: inbound_message/g) ?? []).length, 2, 'two notes of net:inbound_message');
      const ours = await assertArgumentReadersEqualBcc(binary, ['net:inbound_message']);
      assert.match(ours, /switch \(PT_REGS_IP\(ctx\) % 0x[0-9a-f]+ULL\)/, 'the call site picked by the instruction address');
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
  });

  it('refuses a v29 (semaphore) binary without --pid, with a clear message', () => {
    let failure: { status: number | null; stderr: string } | null = null;
    try {
      execFileSync(PYTHON, ['-I', '-S', join(ROOT, 'probes', 'mempool-monitor.py'), '--binary', traceePath('tracee-v29')], { stdio: 'pipe' });
    } catch (err) {
      const e = err as { status: number | null; stderr: Buffer };
      failure = { status: e.status, stderr: e.stderr.toString() };
    }
    assert.ok(failure, 'it must fail');
    assert.equal(failure.status, 1);
    assert.match(failure.stderr, /gated by semaphores.*pass --pid/);
  });
});

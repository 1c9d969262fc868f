// The real-node benchmark: what tracing costs a real `bitcoind -reindex-chainstate` of a cached regtest chain
// (reindexChain.ts), with nothing attached, with each contrib/tracing script that applies (run as a user
// runs them, output to a file) and with each of our tools that fires during a reindex (through the real
// helper and decoder, as the extension runs them). Rounds are interleaved; per configuration the median
// seconds, and per round the ratio to the untraced reindex of the same round.
//
// Timing: bitcoind is started with `-conf=<a FIFO>`, so it waits in its first read of the config file,
// already exec'd (the binary mapped, its PID known). The consumer attaches to that PID; once it says it is
// attached and the semaphores of its tracepoints are raised in the node's memory, the FIFO gets an empty
// config and the clock starts (after a `sync`). `-stopafterblockimport` makes the node stop by itself once the reindex is done
// (debug.log: "Stopping after block import"), after its final chainstate flush: the clock stops at its exit.
// Each run checks the node's debug.log (the chain's tip reached, every coins-database commit) and that the
// consumer delivered, or counted as lost, every event the chain fires (ChainManifest: its ground truth).

import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, promises as fs } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { BpftraceDecoder } from '../../src/core/events/bpftraceDecoder';
import type { NormalizedEvent } from '../../src/core/events/eventTypes';
import { readStapsdtNotes } from '../../src/core/elf/stapsdtNotes';
import { ProbeSessionReader, buildHelperArgv, createPrivateSocket } from '../../src/core/probeSession';
import { findTool, streamedTracepoints } from '../../src/core/tools/toolCatalog';
import type { BenchContext } from './benchContext';
import { BenchFailure, fileSize, interruptUntilExit, runToEnd, sleep, waitForExit, waitUntilStable, withTimeout } from './benchProcesses';
import { figure, formatNumber, type Figure, type TableRow } from './benchStats';
import { BPFTRACE } from './probeRunners';
import { DATADIR, ensureChain, FULL_CHAIN, realBitcoind, SMALL_CHAIN, type ChainManifest, type ChainSpec } from './reindexChain';

const PYTHON = '/usr/bin/python3';
/**
 * The node's coins cache: the smallest -dbcache, and the smallest -maxmempool (bitcoind lends the unused
 * mempool allowance to the coins cache), so that the full chain's UTXO set (~50,000 coins growing to ~100,000)
 * does not fit and the reindex flushes on the way, as a mainnet reindex with the default cache does.
 */
export const REINDEX_DBCACHE_MIB = 4;
export const REINDEX_MAXMEMPOOL_MB = 5;
const READY_TIMEOUT_MS = 180_000;
const REINDEX_TIMEOUT_MS = 30 * 60_000;
const DRAIN_QUIET_MS = 1_500;
const DRAIN_MAX_MS = 120_000;

export type ReindexConfigId =
  | 'unattached'
  | 'contrib:log_utxos.bt'
  | 'tool:utxos'
  | 'contrib:connectblock_benchmark.bt'
  | 'tool:connectblock-benchmark'
  | 'contrib:log_utxocache_flush.py'
  | 'tool:utxocache-flush'
  | 'bpftrace:utxos'
  | 'bpftrace:connectblock-benchmark'
  | 'bpftrace:utxocache-flush';

interface ReindexConfig {
  id: ReindexConfigId;
  /** The tracepoints it attaches to (their semaphores must be raised before the clock starts). */
  tracepoints: readonly string[];
  /** For a tool: the contrib script it is compared with. */
  counterpart?: ReindexConfigId;
  /** For a tool: its bpftrace program alone. */
  bare?: ReindexConfigId;
}

const UTXO_OPS = ['utxocache:add', 'utxocache:spent', 'utxocache:uncache'] as const;

/**
 * Our tools that fire during a reindex, each after its contrib counterpart and before its bpftrace program
 * alone (where the tool's cost goes: the program itself, or the helper → socket → decoder behind it). The others fire nothing here: no
 * peers (p2p-*, raw-p2p-msgs), an empty mempool (mempool-monitor), no wallet (coin-selection).
 */
export const REINDEX_CONFIGS: readonly ReindexConfig[] = [
  { id: 'unattached', tracepoints: [] },
  { id: 'contrib:log_utxos.bt', tracepoints: UTXO_OPS },
  { id: 'tool:utxos', tracepoints: UTXO_OPS, counterpart: 'contrib:log_utxos.bt', bare: 'bpftrace:utxos' },
  { id: 'bpftrace:utxos', tracepoints: UTXO_OPS },
  { id: 'contrib:connectblock_benchmark.bt', tracepoints: ['validation:block_connected'] },
  { id: 'tool:connectblock-benchmark', tracepoints: ['validation:block_connected'], counterpart: 'contrib:connectblock_benchmark.bt', bare: 'bpftrace:connectblock-benchmark' },
  { id: 'bpftrace:connectblock-benchmark', tracepoints: ['validation:block_connected'] },
  { id: 'contrib:log_utxocache_flush.py', tracepoints: ['utxocache:flush'] },
  { id: 'tool:utxocache-flush', tracepoints: ['utxocache:flush'], counterpart: 'contrib:log_utxocache_flush.py', bare: 'bpftrace:utxocache-flush' },
  { id: 'bpftrace:utxocache-flush', tracepoints: ['utxocache:flush'] },
];

export function reindexConfig(id: ReindexConfigId): ReindexConfig {
  const config = REINDEX_CONFIGS.find((c) => c.id === id);
  if (!config) throw new BenchFailure(`unknown reindex configuration ${id}`);
  return config;
}

const LABELS: Record<ReindexConfigId, string> = {
  unattached: 'nothing attached',
  'contrib:log_utxos.bt': 'contrib log_utxos.bt → file',
  'tool:utxos': 'utxos via helper → decoder',
  'contrib:connectblock_benchmark.bt': 'contrib connectblock_benchmark.bt 0 0 0 → file',
  'tool:connectblock-benchmark': 'connectblock-benchmark via helper → decoder',
  'contrib:log_utxocache_flush.py': 'contrib log_utxocache_flush.py PID → file',
  'tool:utxocache-flush': 'utxocache-flush via helper → decoder',
  'bpftrace:utxos': 'utxos.bt alone (bpftrace -f json → file)',
  'bpftrace:connectblock-benchmark': 'connectblock-benchmark.bt alone (bpftrace -f json → file)',
  'bpftrace:utxocache-flush': 'utxocache-flush.bt alone (bpftrace -f json → file)',
};

/** Where a reindex runs: a copy of the binary (probes on it touch no other bitcoind) and of the chain's datadir. */
export interface ReindexWorkspace {
  /** `<dir>/build/bin/bitcoind`: the contrib scripts' default attach path, relative to `dir`. */
  binary: string;
  dir: string;
  datadir: string;
  bitcoinSource: string;
  probesDir: string;
  manifest: ChainManifest;
  /** Semaphore file offset per tracepoint ("provider:name"). */
  semaphores: Map<string, bigint>;
  /** Where a contrib script's output and the node's debug.log are kept when a check of their run fails. */
  keepFailedIn: string | null;
}

export async function prepareWorkspace(
  bitcoind: string,
  chainDir: string,
  manifest: ChainManifest,
  dir: string,
  bitcoinSource: string,
  probesDir: string,
  keepFailedIn: string | null = null,
): Promise<ReindexWorkspace> {
  const binary = join(dir, 'build', 'bin', 'bitcoind');
  await fs.mkdir(join(dir, 'build', 'bin'), { recursive: true });
  await fs.copyFile(bitcoind, binary);
  await fs.chmod(binary, 0o755);
  const datadir = join(dir, DATADIR);
  await fs.cp(join(chainDir, DATADIR), datadir, { recursive: true });
  const report = await readStapsdtNotes(binary);
  const semaphores = new Map<string, bigint>();
  for (const note of report.notes) {
    if (note.semaphoreFileOffset !== null) semaphores.set(`${note.provider}:${note.name}`, note.semaphoreFileOffset);
  }
  return { binary, dir, datadir, bitcoinSource, probesDir, manifest, semaphores, keepFailedIn };
}

// ------------------------------------------------------------------ the node

/** The semaphore's value in the process: where its file offset is mapped (/proc/PID/maps), read from /proc/PID/mem. */
async function semaphoreValue(pid: number, binary: string, fileOffset: bigint): Promise<number> {
  const maps = await fs.readFile(`/proc/${pid}/maps`, 'utf8');
  for (const line of maps.split('\n')) {
    const [range, , offset, , , path] = line.split(/\s+/);
    if (path !== binary) continue;
    const [start, end] = range.split('-').map((h) => BigInt(`0x${h}`));
    const mapOffset = BigInt(`0x${offset}`);
    if (fileOffset < mapOffset || fileOffset >= mapOffset + (end - start)) continue;
    const handle = await fs.open(`/proc/${pid}/mem`, 'r');
    try {
      const buffer = Buffer.alloc(2);
      await handle.read(buffer, 0, 2, Number(start + fileOffset - mapOffset));
      return buffer.readUInt16LE(0);
    } finally {
      await handle.close();
    }
  }
  return 0;
}

async function waitForSemaphores(pid: number, ws: ReindexWorkspace, tracepoints: readonly string[], consumerGone: Promise<unknown>): Promise<void> {
  let gone = false;
  void consumerGone.then(() => (gone = true));
  const deadline = Date.now() + READY_TIMEOUT_MS;
  for (;;) {
    const values = await Promise.all(tracepoints.map((tp) => {
      const offset = ws.semaphores.get(tp);
      if (offset === undefined) throw new BenchFailure(`${ws.binary} has no semaphore for ${tp}`);
      return semaphoreValue(pid, ws.binary, offset);
    }));
    if (values.every((v) => v > 0)) return;
    if (gone) throw new BenchFailure('the tracer exited before it attached');
    if (Date.now() > deadline) throw new BenchFailure(`the semaphores of ${tracepoints.join(', ')} were not raised within ${READY_TIMEOUT_MS / 1000} s`);
    await sleep(50);
  }
}

interface WaitingNode {
  process: ChildProcess;
  pid: number;
  fifo: string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  stderr: () => string;
}

/** bitcoind -reindex-chainstate, waiting in its read of the config FIFO. */
async function startWaitingNode(ws: ReindexWorkspace): Promise<WaitingNode> {
  const fifo = join(ws.dir, 'bitcoin.conf.fifo');
  await fs.rm(fifo, { force: true });
  const made = await runToEnd(['mkfifo', '-m', '600', fifo], 10_000);
  if (made.code !== 0) throw new BenchFailure(`mkfifo ${fifo}: ${made.stderr.trim()}`);
  await fs.rm(join(ws.datadir, 'regtest', 'debug.log'), { force: true });
  const child = spawn(ws.binary, [
    '-regtest', `-datadir=${ws.datadir}`, `-conf=${fifo}`, '-reindex-chainstate', '-stopafterblockimport', '-listen=0', '-server=0',
    `-dbcache=${REINDEX_DBCACHE_MIB}`, `-maxmempool=${REINDEX_MAXMEMPOOL_MB}`, '-debug=coindb', '-persistmempool=0', '-printtoconsole=0', '-disablewallet',
  ], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.setEncoding('utf8').on('data', (t: string) => (stderr += t));
  const exited = waitForExit(child);
  if (child.pid === undefined) throw new BenchFailure(`could not start ${ws.binary}`);
  // exec'd: the binary is mapped (the semaphores have an address)
  const deadline = Date.now() + 10_000;
  while (!(await fs.readFile(`/proc/${child.pid}/maps`, 'utf8').catch(() => '')).includes(ws.binary)) {
    if (Date.now() > deadline || child.exitCode !== null) throw new BenchFailure(`bitcoind did not start: ${stderr.trim()}`);
    await sleep(20);
  }
  return { process: child, pid: child.pid, fifo, exited, stderr: () => stderr };
}

/** What the node's debug.log says about its reindex. */
export interface NodeLogSummary {
  stoppedAfterImport: boolean;
  tipHeight: number | null;
  tipHash: string | null;
  /** "Committed … to coin database" lines: one utxocache:flush each. */
  coinsCommits: number;
}

export async function readNodeLog(datadir: string): Promise<NodeLogSummary> {
  const text = await fs.readFile(join(datadir, 'regtest', 'debug.log'), 'utf8');
  let tipHeight: number | null = null;
  let tipHash: string | null = null;
  for (const match of text.matchAll(/UpdateTip: new best=([0-9a-f]{64}) height=(\d+)/g)) {
    tipHash = match[1];
    tipHeight = Number(match[2]);
  }
  return {
    stoppedAfterImport: text.includes('Stopping after block import'),
    tipHeight,
    tipHash,
    coinsCommits: [...text.matchAll(/\] Committed \d+ changed transaction outputs \(out of \d+\) to coin database/g)].length,
  };
}

// ------------------------------------------------------------------ the consumers

interface ConsumerOutcome {
  /** Events delivered per tracepoint (decoded events, or printed lines). */
  delivered: Record<string, number>;
  /** Lost, as reported (bpftrace "Lost N events", the decoder's reconciliation). */
  lost: number;
  /** What the consumer counted in the kernel per tracepoint, when it does. */
  counted: Record<string, number> | null;
  /** Errors and warnings the consumer reported. */
  problems: string[];
  /** A contrib script's output file (kept when a check of the run fails, else removed). */
  outputPath?: string;
}

interface Consumer {
  /** Resolves once the consumer says it is attached. */
  ready: Promise<void>;
  /** Rejects-free: resolves when the consumer exited. */
  gone: Promise<unknown>;
  /** After the node exited: drains, stops the consumer and reads what it delivered. */
  finish(): Promise<ConsumerOutcome>;
  kill(): void;
}

function outputReady(path: string, pattern: RegExp, gone: Promise<unknown>, what: string): Promise<void> {
  return withTimeout((async () => {
    let exited = false;
    void gone.then(() => (exited = true));
    for (;;) {
      const text = await fs.readFile(path, 'utf8').catch(() => '');
      if (pattern.test(text)) return;
      if (exited) throw new BenchFailure(`${what} exited before it attached: ${text.slice(0, 500)}`);
      await sleep(50);
    }
  })(), READY_TIMEOUT_MS, `${what} attaching`);
}

const LOST = /Lost (\d+) events|\{"type": "lost_events", "data": \{"events": (\d+)\}/g;
/**
 * What the contrib scripts print on stderr that is no problem: bpftrace's usual complaints, lost-event
 * counts (counted separately), and the failure to detach from a node that has already exited (bpftrace's
 * "failed to detach probe", BCC's traceback from its atexit cleanup).
 */
const HARMLESS_STDERR =
  /RLIMIT_MEMLOCK|Lost \d+ events|uprobe_events|failed to detach probe|Exception ignored in atexit callback|^Traceback \(most recent call last\)|^\s+File "\/usr\/lib\/python3\/dist-packages\/bcc\/|^\s+self\.detach_uprobe|^\s+raise Exception\("Failed to detach|^Exception: Failed to detach BPF from uprobe/;

/**
 * One of our bpftrace programs without the helper and the decoder: argv and environment as the helper's
 * probe_argv and RUN_ENV make them (-p PID, the tool's default parameters, uid 0; 72-byte strings and its
 * perf buffer size), stdout to a file. It exits by itself once the node is gone, as under the helper.
 */
function bareToolArgv(config: ReindexConfigId, ws: ReindexWorkspace, pid: number): { argv: string[]; env: NodeJS.ProcessEnv } {
  const tool = findTool(config.slice('bpftrace:'.length));
  if (!tool) throw new BenchFailure(`unknown tool ${config}`);
  const positional = tool.parameters.map((p) => p.default);
  // the helper's PERF_RB_PAGES: a power of two of at most 16 MiB per CPU and 64 MiB over all CPUs
  const pages = Math.max(64, Math.min(4096, 2 ** (Math.floor(16384 / Math.max(1, cpus().length)).toString(2).length - 1)));
  return {
    argv: [BPFTRACE, '-f', 'json', '-p', String(pid), join(ws.probesDir, tool.script), ws.binary, ...positional, '0'],
    env: { PATH: '/usr/sbin:/usr/bin:/sbin:/bin', BPFTRACE_STRLEN: '72', LANG: 'C', BPFTRACE_PERF_RB_PAGES: String(pages) },
  };
}

/** A contrib script run as its usage line says, from the folder with ./build/bin/bitcoind, stdout to a file. */
function startContrib(config: ReindexConfigId, ws: ReindexWorkspace, pid: number): Consumer {
  const name = config.slice(config.indexOf(':') + 1);
  const bare = config.startsWith('bpftrace:');
  const script = bare ? join(ws.probesDir, name) : join(ws.bitcoinSource, 'contrib', 'tracing', name);
  const output = join(ws.dir, `${name}.out`);
  const out = createWriteStream(output);
  const bcc = script.endsWith('.py');
  // A user runs the BCC script in a terminal, where Python's stdout is line-buffered; to a file it would
  // buffer everything until exit, so it runs unbuffered here (a handful of flush lines: no cost).
  const { argv, env } = bare
    ? bareToolArgv(config, ws, pid)
    : { argv: bcc ? [PYTHON, script, String(pid)] : config === 'contrib:connectblock_benchmark.bt' ? [BPFTRACE, script, '0', '0', '0'] : [BPFTRACE, script], env: { ...process.env, PYTHONUNBUFFERED: '1' } };
  const child = spawn(argv[0], argv.slice(1), { cwd: ws.dir, stdio: ['ignore', 'pipe', 'pipe'], env });
  child.stdout?.pipe(out);
  let stderr = '';
  child.stderr?.setEncoding('utf8').on('data', (t: string) => (stderr += t));
  const gone = waitForExit(child).catch(() => undefined);
  const readyPattern = bare
    ? /^\{"type": "attached_probes"/m // then the semaphores: bpftrace prints this record just before attaching
    : bcc ? /^Logging utxocache flushes/m : config === 'contrib:log_utxos.bt' ? /^OP\s+Outpoint/m : /^ConnectBlock logging starting/m;
  const ready = outputReady(output, readyPattern, gone, `${script}`);
  return {
    ready,
    gone,
    kill: () => child.kill('SIGKILL'),
    async finish(): Promise<ConsumerOutcome> {
      await waitUntilStable(() => fileSize(output), DRAIN_QUIET_MS, DRAIN_MAX_MS);
      if (child.exitCode === null && (await interruptUntilExit(child)).killed) throw new BenchFailure(`${script} did not stop on SIGINT`);
      // pipe() ends the file once the tracer's stdout is drained to its end: only then is every line in it
      if (!out.writableFinished) await new Promise<void>((resolveFinish) => out.once('finish', () => resolveFinish()));
      const text = await fs.readFile(output, 'utf8');
      const lost = [...`${text}\n${stderr}`.matchAll(LOST)].reduce((sum, m) => sum + Number(m[1] ?? m[2]), 0);
      const problems = stderr.split('\n').filter((l) => l.trim() !== '' && !HARMLESS_STDERR.test(l));
      const count = (pattern: RegExp): number => (text.match(pattern) ?? []).length;
      const tagged = (tag: string): number => count(new RegExp(`^\\{"type": "value", "data": \\["${tag}",`, 'gm'));
      switch (config) {
        case 'bpftrace:utxos':
          return { delivered: { 'utxocache:add': tagged('add'), 'utxocache:spent': tagged('spent'), 'utxocache:uncache': tagged('uncache') }, lost, counted: null, problems, outputPath: output };
        case 'bpftrace:connectblock-benchmark':
          return { delivered: { 'validation:block_connected': tagged('block') }, lost, counted: null, problems, outputPath: output };
        case 'bpftrace:utxocache-flush':
          return { delivered: { 'utxocache:flush': tagged('flush') }, lost, counted: null, problems, outputPath: output };
        case 'contrib:log_utxos.bt':
          return {
            delivered: { 'utxocache:add': count(/^Added /gm), 'utxocache:spent': count(/^Spent /gm), 'utxocache:uncache': count(/^Uncache /gm) },
            lost, counted: null, problems, outputPath: output,
          };
        case 'contrib:connectblock_benchmark.bt': {
          // Lists only blocks over the threshold (integer ms > 0); its END histogram counts every block.
          let histogram = 0;
          for (const m of text.matchAll(/^\[[^\]\n)]*[\])] +(\d+) \|/gm)) histogram += Number(m[1]);
          return { delivered: { 'validation:block_connected': count(/^Block \d+ \(/gm) }, lost, counted: { 'validation:block_connected': histogram }, problems, outputPath: output };
        }
        default:
          return { delivered: { 'utxocache:flush': count(/^\d+\s+\S+\s+\d+\s+[\d.]+ kB/gm) }, lost, counted: null, problems, outputPath: output };
      }
    },
  };
}

/** One of our tools through the real helper → private socket → ProbeSessionReader/decoder, with --pid. */
async function startTool(config: ReindexConfigId, ws: ReindexWorkspace, pid: number): Promise<Consumer> {
  const tool = findTool(config.slice('tool:'.length));
  if (!tool) throw new BenchFailure(`unknown tool ${config}`);
  const socket = await createPrivateSocket('bitcoin-usdt-reindex-');
  const argv = buildHelperArgv({ pythonPath: PYTHON, probesDir: ws.probesDir, tool: tool.id, binary: ws.binary, socketPath: socket.path, pid });
  const helper = spawn(argv[0], argv.slice(1), { stdio: ['ignore', 'ignore', 'pipe'] });
  let helperStderr = '';
  helper.stderr.setEncoding('utf8').on('data', (t: string) => (helperStderr += t));
  const gone = waitForExit(helper).catch(() => undefined);
  const problems: string[] = [];
  const eventCounts: Record<string, number> = {};
  const lastEvents = new Map<string, NormalizedEvent>();
  let lostInStream = 0;
  let attached!: () => void;
  const attachedSeen = new Promise<void>((resolveAttached) => (attached = resolveAttached));
  let reader: ProbeSessionReader | null = null;
  const connected = Promise.race([
    socket.waitForConnection(READY_TIMEOUT_MS),
    gone.then(() => {
      throw new BenchFailure(`the helper exited before connecting: ${helperStderr.trim()}`);
    }),
  ]).then((connection) => {
    reader = new ProbeSessionReader({
      decoder: new BpftraceDecoder({ streamedTracepoints: streamedTracepoints(tool) }),
      onBatch: (events) => {
        for (const event of events) {
          eventCounts[event.event] = (eventCounts[event.event] ?? 0) + 1;
          lastEvents.set(event.event, event);
          if (event.event === 'session:attached') attached();
          else if (event.event === 'lost') lostInStream += event.count;
          else if (event.event === 'session:message' && event.level !== 'info') problems.push(`${event.level}: ${event.message}`);
        }
      },
    });
    reader.attach(connection);
    return reader;
  });
  const ready = withTimeout(
    Promise.race([
      connected.then(() => attachedSeen),
      gone.then(() => {
        throw new BenchFailure(`the helper exited before attaching: ${problems.join('; ')} ${helperStderr.trim()}`);
      }),
    ]),
    READY_TIMEOUT_MS,
    `${tool.id} attaching`,
  );
  const cleanup = async (): Promise<void> => {
    if (helper.exitCode === null) {
      helper.kill('SIGINT');
      await Promise.race([gone, sleep(5_000)]);
    }
    await socket.close();
  };
  return {
    ready,
    gone,
    kill: () => {
      helper.kill('SIGKILL');
      void socket.close();
    },
    async finish() {
      try {
        const session = await connected;
        // bpftrace -p exits by itself once the node is gone (draining, printing its END maps); the helper
        // then closes the socket.
        await withTimeout(session.done, DRAIN_MAX_MS, `${tool.id} ending after the node exited`);
        const stats = session.decoder.stats;
        const delivered = Object.fromEntries(tool.tracepoints.map((tp) => [tp, eventCounts[tp] ?? 0]));
        if (tool.mode === 'stream') {
          return { delivered, lost: stats.lostReported + stats.lostReconciled, counted: { ...stats.fired }, problems };
        }
        // connectblock-benchmark aggregates in the kernel and streams every block over its threshold (0: all);
        // its `lost` events sum to the streamed blocks missing against the kernel's `printed`.
        const summary = lastEvents.get('validation:connect_summary');
        const totals = summary?.event === 'validation:connect_summary' ? summary.totals : null;
        return {
          delivered,
          lost: lostInStream,
          counted: totals ? { 'validation:block_connected': totals.blocks, printed: totals.printed } : null,
          problems,
        };
      } finally {
        await cleanup();
      }
    },
  };
}

// ------------------------------------------------------------------ one reindex

export interface ReindexRunRecord {
  config: ReindexConfigId;
  round: number;
  /** From the config FIFO's release to the node's exit after "Stopping after block import". */
  seconds: number;
  /** Seconds from starting the consumer to the node being released (attach time, not counted). */
  attachSeconds: number;
  node: NodeLogSummary;
  /** What the chain fires during the reindex, per tracepoint this configuration attaches to. */
  expected: Record<string, number>;
  delivered: Record<string, number> | null;
  lost: number | null;
  counted: Record<string, number> | null;
  problems: string[];
  /** Check verdicts of this run (empty string list = all passed). */
  failures: string[];
}

/** The events a full reindex of this chain fires, per tracepoint (utxocache:flush: the commits the node logged). */
function expectedFired(manifest: ChainManifest, node: NodeLogSummary): Record<string, number> {
  return {
    'utxocache:add': manifest.coinsAdded,
    'utxocache:spent': manifest.coinsSpent,
    'utxocache:uncache': 0,
    'validation:block_connected': manifest.blocksConnected,
    'utxocache:flush': node.coinsCommits,
  };
}

function checkRun(config: ReindexConfig, r: Omit<ReindexRunRecord, 'failures'>, manifest: ChainManifest): string[] {
  const failures: string[] = [];
  if (!r.node.stoppedAfterImport) failures.push('debug.log has no "Stopping after block import"');
  if (r.node.tipHeight !== manifest.height || r.node.tipHash !== manifest.tipHash) {
    failures.push(`the reindex ended at height ${r.node.tipHeight} (${r.node.tipHash}), not the chain's tip ${manifest.height} (${manifest.tipHash})`);
  }
  if (r.node.coinsCommits < 1) failures.push('the reindex did not flush the coins cache');
  if (config.id === 'unattached') return failures;
  for (const p of r.problems) failures.push(`reported: ${p}`);
  const delivered = r.delivered ?? {};
  for (const tp of config.tracepoints) {
    const want = r.expected[tp];
    const got = delivered[tp] ?? 0;
    if (config.id === 'contrib:connectblock_benchmark.bt') {
      // lists only blocks of ≥ 1 ms; its histogram must count every block
      if (r.counted?.[tp] !== want) failures.push(`${tp}: histogram counts ${r.counted?.[tp] ?? '—'} blocks, the chain has ${want}`);
    } else if (config.id === 'tool:connectblock-benchmark') {
      if (r.counted?.[tp] !== want) failures.push(`${tp}: @totals[blocks] ${r.counted?.[tp] ?? '—'}, the chain has ${want}`);
      if (got + (r.lost ?? 0) !== want) failures.push(`${tp}: delivered ${got} + lost ${r.lost} ≠ ${want} blocks`);
    } else if (config.id.startsWith('tool:')) {
      // a tracepoint that never fired has no key in the kernel's @fired map
      if (r.counted === null || (r.counted[tp] ?? 0) !== want) failures.push(`${tp}: kernel @fired ${r.counted?.[tp] ?? '—'}, the chain fires ${want}`);
    } else if (got !== want && (r.lost ?? 0) === 0) {
      failures.push(`${tp}: ${got} lines, the chain fires ${want}, and no loss was reported`);
    }
    if (got > want) failures.push(`${tp}: delivered ${got} > fired ${want}`);
  }
  if (config.id.startsWith('tool:') && config.id !== 'tool:connectblock-benchmark') {
    const got = config.tracepoints.reduce((s, tp) => s + (delivered[tp] ?? 0), 0);
    const want = config.tracepoints.reduce((s, tp) => s + r.expected[tp], 0);
    if (got + (r.lost ?? 0) !== want) failures.push(`delivered ${got} + lost ${r.lost} ≠ fired ${want}`);
  }
  return failures;
}

export async function runReindex(config: ReindexConfig, ws: ReindexWorkspace, round: number): Promise<ReindexRunRecord> {
  const node = await startWaitingNode(ws);
  let consumer: Consumer | null = null;
  try {
    const attachStarted = performance.now();
    if (config.id.startsWith('contrib:') || config.id.startsWith('bpftrace:')) consumer = startContrib(config.id, ws, node.pid);
    else if (config.id.startsWith('tool:')) consumer = await startTool(config.id, ws, node.pid);
    if (consumer) {
      await consumer.ready;
      await waitForSemaphores(node.pid, ws, config.tracepoints, consumer.gone);
    }
    const attachSeconds = (performance.now() - attachStarted) / 1000;
    // Every run starts with no dirty pages left (the previous run's chainstate writes): else the one that
    // starts right after another (the untraced one: no attach wait) pays for that writeback in its fsyncs.
    await runToEnd(['sync'], 120_000);
    const started = performance.now();
    await fs.writeFile(node.fifo, '');
    const { code, signal } = await withTimeout(node.exited, REINDEX_TIMEOUT_MS, 'the reindex finishing');
    const seconds = (performance.now() - started) / 1000;
    if (code !== 0) throw new BenchFailure(`bitcoind exited with code ${code} (signal ${signal}): ${node.stderr().trim()}`);
    const outcome = consumer ? await consumer.finish() : null;
    const nodeLog = await readNodeLog(ws.datadir);
    const all = expectedFired(ws.manifest, nodeLog);
    const record = {
      config: config.id,
      round,
      seconds,
      attachSeconds,
      node: nodeLog,
      expected: Object.fromEntries(config.tracepoints.map((tp) => [tp, all[tp]])),
      delivered: outcome?.delivered ?? null,
      lost: outcome?.lost ?? null,
      counted: outcome?.counted ?? null,
      problems: outcome?.problems ?? [],
    };
    const failures = checkRun(config, record, ws.manifest);
    if (failures.length > 0 && ws.keepFailedIn) {
      const prefix = join(ws.keepFailedIn, `reindex-${config.id.replace(/[^a-z0-9_.-]+/gi, '-')}-round${round}`);
      await fs.copyFile(join(ws.datadir, 'regtest', 'debug.log'), `${prefix}-debug.log`);
      if (outcome?.outputPath) await fs.copyFile(outcome.outputPath, `${prefix}.out`);
    }
    if (outcome?.outputPath) await fs.rm(outcome.outputPath, { force: true });
    return { ...record, failures };
  } finally {
    if (node.process.exitCode === null && node.process.signalCode === null) node.process.kill('SIGKILL');
    consumer?.kill();
    await fs.rm(node.fifo, { force: true });
  }
}

// ------------------------------------------------------------------ the measurement

export interface ReindexConfigResult {
  config: ReindexConfigId;
  label: string;
  seconds: Figure;
  /** Per round: seconds / the untraced reindex's seconds of that round. */
  ratio: Figure;
  /** Tools: per round, this tool's ratio / its contrib counterpart's ratio (< 1: cheaper than contrib). */
  vsContrib: Figure | null;
  counterpart: ReindexConfigId | null;
  /** Tools: per round, this tool's seconds / its bpftrace program's alone (what the helper and decoder add). */
  vsBare: Figure | null;
  deliveredPercent: Figure | null;
  checks: string;
}

export interface ReindexResults {
  chain: ChainManifest;
  chainDir: string;
  chainMadeNow: boolean;
  dbcacheMiB: number;
  runs: ReindexRunRecord[];
  configs: ReindexConfigResult[];
  failures: string[];
}

function describeRun(r: ReindexRunRecord): string {
  const parts = [`${r.seconds.toFixed(2)} s (attach ${r.attachSeconds.toFixed(1)} s)`, `${r.node.coinsCommits} flushes`];
  for (const [tp, want] of Object.entries(r.expected)) {
    parts.push(`${tp} ${r.delivered?.[tp] ?? '—'}/${want}${r.counted?.[tp] !== undefined ? ` (counted ${r.counted[tp]})` : ''}`);
  }
  if (r.lost !== null) parts.push(`lost ${r.lost}`);
  if (r.failures.length > 0) parts.push(`FAIL: ${r.failures.join('; ')}`);
  return parts.join(', ');
}

export async function runReindexBench(ctx: BenchContext, bitcoinSource: string): Promise<ReindexResults> {
  const bitcoind = realBitcoind(ctx.repoRoot);
  const spec: ChainSpec = ctx.quick ? SMALL_CHAIN : FULL_CHAIN;
  const chain = await ensureChain(bitcoind, ctx.repoRoot, spec, ctx.log);
  const keep = join(ctx.resultsDir, `${ctx.stamp}-reindex-failed`);
  const ws = await prepareWorkspace(bitcoind, chain.dir, chain.manifest, join(ctx.workDir, 'reindex'), bitcoinSource, ctx.probesDir, keep);
  await fs.mkdir(keep, { recursive: true });
  const runs: ReindexRunRecord[] = [];
  for (let round = 1; round <= ctx.runs; round++) {
    for (const config of REINDEX_CONFIGS) {
      ctx.log(`reindex: round ${round}/${ctx.runs}, ${LABELS[config.id]}`);
      const record = await runReindex(config, ws, round);
      ctx.log(`  ${describeRun(record)}`);
      runs.push(record);
    }
  }
  await fs.rmdir(keep).catch(() => undefined); // kept only when something is in it
  const configs = summarize(runs);
  const failures = runs.flatMap((r) => r.failures.map((f) => `reindex ${r.config} round ${r.round}: ${f}`));
  return { chain: chain.manifest, chainDir: chain.dir, chainMadeNow: chain.made, dbcacheMiB: REINDEX_DBCACHE_MIB, runs, configs, failures };
}

function summarize(runs: readonly ReindexRunRecord[]): ReindexConfigResult[] {
  const untraced = new Map(runs.filter((r) => r.config === 'unattached').map((r) => [r.round, r.seconds]));
  const ratioOf = (r: ReindexRunRecord): number => r.seconds / (untraced.get(r.round) ?? NaN);
  return REINDEX_CONFIGS.map((config) => {
    const records = runs.filter((r) => r.config === config.id);
    const counterpartByRound = new Map(runs.filter((r) => r.config === config.counterpart).map((r) => [r.round, ratioOf(r)]));
    const bareByRound = new Map(runs.filter((r) => r.config === config.bare).map((r) => [r.round, r.seconds]));
    const passed = records.filter((r) => r.failures.length === 0).length;
    const percent = (r: ReindexRunRecord): number => {
      const want = Object.values(r.expected).reduce((a, b) => a + b, 0);
      const got = Object.keys(r.expected).reduce((s, tp) => s + (r.delivered?.[tp] ?? 0), 0);
      return want > 0 ? (100 * got) / want : NaN;
    };
    return {
      config: config.id,
      label: LABELS[config.id],
      seconds: figure(records.map((r) => r.seconds), 's'),
      ratio: figure(records.map(ratioOf), 'ratio'),
      vsContrib: config.counterpart ? figure(records.map((r) => ratioOf(r) / (counterpartByRound.get(r.round) ?? NaN)), 'ratio') : null,
      counterpart: config.counterpart ?? null,
      vsBare: config.bare ? figure(records.map((r) => r.seconds / (bareByRound.get(r.round) ?? NaN)), 'ratio') : null,
      deliveredPercent: config.id === 'unattached' ? null : figure(records.map(percent), '%'),
      checks: `${passed === records.length && records.length > 0 ? 'PASS' : 'FAIL'} (${passed}/${records.length} runs)`,
    };
  });
}

export function reindexTableRows(results: ReindexResults): TableRow[] {
  const c = results.chain;
  const section =
    `R. -reindex-chainstate of a regtest chain: ${c.height.toLocaleString('en-US')} blocks, ${c.transactions.toLocaleString('en-US')} transactions, ` +
    `${c.coinsAdded.toLocaleString('en-US')} coins added, ${c.coinsSpent.toLocaleString('en-US')} spent; -dbcache=${results.dbcacheMiB} -maxmempool=${REINDEX_MAXMEMPOOL_MB}`;
  const rows: TableRow[] = [];
  for (const r of results.configs) {
    const notes = [`×${formatNumber(r.ratio.median, 'ratio')} of untraced`];
    if (r.vsContrib) notes.push(`×${formatNumber(r.vsContrib.median, 'ratio')} of its contrib script (${r.vsContrib.median <= 1 ? 'at or below' : 'ABOVE'})`);
    if (r.vsBare) notes.push(`×${formatNumber(r.vsBare.median, 'ratio')} of its .bt alone`);
    if (r.deliveredPercent) notes.push(`delivered ${formatNumber(r.deliveredPercent.median, '%')} %`);
    if (r.config !== 'unattached') notes.push(`delivered or counted: ${r.checks}`);
    rows.push({ section, name: `${r.label}: seconds`, figure: r.seconds, note: notes.join('; ') });
  }
  return rows;
}

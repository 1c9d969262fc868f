// Soak: the tracee at its top rate for a long time (10 minutes by default) with p2p-traffic attached through the
// real helper and bpftrace, and the extension host's side of a live session running in this process exactly as
// the extension runs it: ProbeSessionReader → BpftraceDecoder → P2pAggregator (the P2P panel's model, with a
// delta every 250 ms serialized as the panel's postMessage would be) and a RecordingWriter (the automatic
// session recording). Reports the peak memory, the heap at the start and end of the steady state, event-loop
// delay (the panel stays responsive while the host keeps up) and the loss accounting: every event fired is
// delivered or counted as lost. Needs root, bpftrace and `make -C test/tracee`.

import { spawn } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, promises as fs } from 'node:fs';
import { join, resolve } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { createInterface } from 'node:readline';
import { BpftraceDecoder } from '../../src/core/events/bpftraceDecoder';
import type { NormalizedEvent } from '../../src/core/events/eventTypes';
import { RecordingWriter } from '../../src/core/events/recording';
import { P2pAggregator } from '../../src/core/p2p/p2pAggregator';
import { buildHelperArgv, createPrivateSocket, ProbeSessionReader } from '../../src/core/probeSession';
import { findTool, streamedTracepoints } from '../../src/core/tools/toolCatalog';
import { BenchFailure, waitForExit, withTimeout, type TraceeSummary } from './benchProcesses';

export interface SoakOptions {
  /** How long the tracee fires (default 10 minutes). */
  readonly durationMs?: number;
  /** A private directory for the tracee copy, the socket's sibling files and the recording. */
  readonly workDir: string;
  readonly repoRoot?: string;
  readonly log?: (line: string) => void;
  /**
   * Read the socket one chunk per event-loop turn (pause, then resume on setImmediate) instead of the
   * reader's own attach(): measures what yielding between chunks would do for the host's responsiveness.
   */
  readonly yieldBetweenChunks?: boolean;
}

export interface SoakResult {
  readonly durationMs: number;
  /** Messages that fired in the tracee (its own count) and in the kernel (@fired). */
  readonly firedByTracee: number;
  readonly firedInKernel: number;
  readonly delivered: number;
  readonly lost: number;
  /** delivered + lost === fired, exactly. */
  readonly accountedExactly: boolean;
  readonly peakRssBytes: number;
  readonly peakHeapUsedBytes: number;
  /** Heap used after the first fifth of the run (warmed up) and at the end: bounded when they are close. */
  readonly steadyHeapStartBytes: number;
  readonly steadyHeapEndBytes: number;
  readonly heapBounded: boolean;
  /** Event-loop delay of this process (the extension host's stand-in) while decoding at the top rate. */
  readonly eventLoopDelayP99Ms: number;
  readonly eventLoopDelayMaxMs: number;
  /** Slowest panel update (aggregator delta + JSON serialization, as posted to the webview). */
  readonly slowestPanelUpdateMs: number;
  readonly panelUpdates: number;
  readonly recordingBytes: number;
  /** Events in the recording, and those left out because the disk fell behind (counted in lost lines). */
  readonly recordingEvents: number;
  readonly recordingDropped: number;
  readonly recordingError: string | null;
}

const PANEL_FLUSH_MS = 250;
/** The steady-state heap may wobble with GC; more than this growth over the run means it is not bounded. */
export const HEAP_GROWTH_ALLOWANCE_BYTES = 64 * 1024 * 1024;

export async function runSoak(options: SoakOptions): Promise<SoakResult> {
  const durationMs = options.durationMs ?? 10 * 60_000;
  const repoRoot = options.repoRoot ?? resolve(__dirname, '..', '..');
  const log = options.log ?? ((line: string) => console.log(line));
  const source = join(repoRoot, 'test', 'tracee', 'build', 'tracee-v29');
  if (!existsSync(source)) throw new BenchFailure(`${source} is missing: run \`make -C test/tracee\``);
  const binary = join(options.workDir, 'soak-bitcoind');
  copyFileSync(source, binary);
  chmodSync(binary, 0o755);
  const summaryPath = join(options.workDir, 'soak-summary.json');
  const tool = findTool('p2p-traffic');
  if (!tool) throw new BenchFailure('the p2p-traffic tool is not in the catalog');

  // The tracee fires as fast as it can once both message tracepoints are attached.
  const tracee = spawn(binary, ['--scenario', 'p2p-flood', '--duration-ms', String(durationMs), '--wait-attach', 'net:inbound_message,net:outbound_message', '--summary', summaryPath], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const traceeExit = waitForExit(tracee);
  const pid = await withTimeout(new Promise<number>((resolvePid) => {
    createInterface({ input: tracee.stdout }).on('line', (line) => {
      const match = /^ready pid=(\d+)$/.exec(line);
      if (match) resolvePid(Number(match[1]));
    });
  }), 20_000, 'the tracee printing "ready"');

  const socket = await createPrivateSocket();
  const argv = buildHelperArgv({ pythonPath: '/usr/bin/python3', probesDir: join(repoRoot, 'probes'), tool: tool.id, binary, pid, socketPath: socket.path });
  const helper = spawn(argv[0], argv.slice(1), { stdio: ['ignore', 'ignore', 'pipe'] });
  let helperStderr = '';
  helper.stderr.setEncoding('utf8').on('data', (t: string) => (helperStderr = (helperStderr + t).slice(-4000)));
  const helperExit = waitForExit(helper);

  const recording = await RecordingWriter.create(join(options.workDir, 'soak.ndjson'), {
    tool: tool.id, started_at: new Date().toISOString(), binary, pid, producer: 'bench soak',
  });
  const aggregator = new P2pAggregator();
  const lastEvents: NormalizedEvent[] = [];
  const reader = new ProbeSessionReader({
    decoder: new BpftraceDecoder({ streamedTracepoints: streamedTracepoints(tool) }),
    onBatch: (events) => {
      aggregator.ingestAll(events);
      recording.write(events);
      for (const event of events) if (event.event !== 'net:inbound_message' && event.event !== 'net:outbound_message') lastEvents.push(event);
      if (lastEvents.length > 10_000) lastEvents.splice(0, lastEvents.length - 10_000);
    },
  });

  const loopDelay = monitorEventLoopDelay({ resolution: 10 });
  let peakRss = 0;
  let peakHeap = 0;
  let steadyHeapStart = 0;
  let slowestUpdate = 0;
  let updates = 0;
  const started = Date.now();
  const sampler = setInterval(() => {
    const memory = process.memoryUsage();
    peakRss = Math.max(peakRss, memory.rss);
    peakHeap = Math.max(peakHeap, memory.heapUsed);
    if (steadyHeapStart === 0 && Date.now() - started > durationMs / 5) steadyHeapStart = memory.heapUsed;
  }, 1000);
  const panel = setInterval(() => {
    if (!aggregator.hasChanges) return;
    const t0 = performance.now();
    JSON.stringify({ type: 'delta', delta: aggregator.delta() });
    slowestUpdate = Math.max(slowestUpdate, performance.now() - t0);
    updates++;
  }, PANEL_FLUSH_MS);
  const progress = setInterval(() => {
    const counters = reader.counters;
    log(`[soak] ${Math.round((Date.now() - started) / 1000)} s: delivered ${counters.delivered}, lost ${counters.lost}, ${counters.eventsPerSecond} ev/s, heap ${Math.round(process.memoryUsage().heapUsed / 1e6)} MB`);
  }, 30_000);

  try {
    const connection = await withTimeout(socket.waitForConnection(), 30_000, 'the helper connecting');
    loopDelay.enable();
    if (options.yieldBetweenChunks) {
      connection.on('data', (chunk: Buffer) => {
        reader.push(chunk);
        connection.pause();
        setImmediate(() => connection.resume());
      });
      connection.once('close', () => reader.end());
    } else {
      reader.attach(connection);
    }
    // bpftrace -p exits when the tracee exits; the helper then delivers the final counts and closes the socket.
    await withTimeout(reader.done, durationMs + 120_000, 'the session ending after the tracee');
  } finally {
    loopDelay.disable();
    clearInterval(sampler);
    clearInterval(panel);
    clearInterval(progress);
    tracee.kill('SIGKILL');
    helper.kill('SIGINT');
    await socket.close();
  }
  await traceeExit;
  const helperResult = await withTimeout(helperExit, 20_000, 'the helper exiting');
  let recordingError: string | null = null;
  await recording.close().catch((error: Error) => (recordingError = error.message));
  const steadyHeapEnd = process.memoryUsage().heapUsed;

  const summary = JSON.parse(await fs.readFile(summaryPath, 'utf8')) as TraceeSummary;
  const firedByTracee = (summary.fired['net:inbound_message'] ?? 0) + (summary.fired['net:outbound_message'] ?? 0);
  const stats = reader.decoder.stats;
  const firedInKernel = (stats.fired['net:inbound_message'] ?? 0) + (stats.fired['net:outbound_message'] ?? 0);
  const lost = stats.lostReported + stats.lostReconciled;
  const result: SoakResult = {
    durationMs: Date.now() - started,
    firedByTracee,
    firedInKernel,
    delivered: stats.delivered,
    lost,
    accountedExactly: stats.delivered + lost === firedByTracee && firedInKernel === firedByTracee,
    peakRssBytes: peakRss,
    peakHeapUsedBytes: peakHeap,
    steadyHeapStartBytes: steadyHeapStart,
    steadyHeapEndBytes: steadyHeapEnd,
    heapBounded: steadyHeapEnd <= steadyHeapStart + HEAP_GROWTH_ALLOWANCE_BYTES,
    eventLoopDelayP99Ms: loopDelay.percentile(99) / 1e6,
    eventLoopDelayMaxMs: loopDelay.max / 1e6,
    slowestPanelUpdateMs: slowestUpdate,
    panelUpdates: updates,
    recordingBytes: (await fs.stat(recording.path)).size,
    recordingEvents: recording.count,
    recordingDropped: recording.dropped,
    recordingError,
  };
  log(`[soak] ${JSON.stringify(result)}`);
  if (!result.accountedExactly) {
    throw new BenchFailure(
      `soak: delivered ${result.delivered} + lost ${lost} != fired ${firedByTracee} (kernel ${firedInKernel}); helper exit ${helperResult.code}: ${helperStderr.slice(-500)}`,
    );
  }
  return result;
}

// The ways of attaching to the tracee that the benchmark compares: nothing, a bare counting bpftrace,
// a shipped tool through the real helper pipeline (helper → socket → decoder, as the CLI runs it), and a
// contrib-style bpftrace script that printf's every event to a file.

import { spawn, type ChildProcess } from 'node:child_process';
import { promises as fs } from 'node:fs';
import { join } from 'node:path';
import { BpftraceDecoder } from '../../src/core/events/bpftraceDecoder';
import type { NormalizedEvent, PeerTotals } from '../../src/core/events/eventTypes';
import { ProbeSessionReader, buildHelperArgv, createPrivateSocket } from '../../src/core/probeSession';
import { findTool, streamedTracepoints, type ToolDefinition } from '../../src/core/tools/toolCatalog';
import {
  BenchFailure,
  fileSize,
  interruptUntilExit,
  sleep,
  startTracee,
  waitForExit,
  waitUntilStable,
  withTimeout,
  type ProcessResult,
  type TraceeOptions,
  type TraceeRun,
  type TraceeSummary,
} from './benchProcesses';

export const BPFTRACE = '/usr/bin/bpftrace';
const PYTHON = '/usr/bin/python3';
const TRACEE_TIMEOUT_MS = 600_000;
/** A stream counts as drained when nothing new arrived for this long after the tracee finished. */
const DRAIN_QUIET_MS = 1_000;
const DRAIN_MAX_MS = 60_000;

export interface AttachOutcome {
  summary: TraceeSummary;
  /** Events that reached the reader (decoded events, printed lines, or the kernel count of `@c`). */
  delivered: number | null;
  lostReported: number | null;
  lostReconciled: number | null;
  /** What the probe counted in the kernel (`@fired` / `@c`), when it reports it. */
  kernelFired: number | null;
  /** p2p-monitor: the last per-peer totals. */
  peerTotals: PeerTotals[] | null;
  /** Error messages the session reported. */
  errors: string[];
  /** Streamed events (decoded events, or printed lines) per tracepoint, when the runner tells them apart. */
  deliveredByTracepoint?: Record<string, number>;
}

type TraceeSpec = Omit<TraceeOptions, 'waitAttach'>;

export async function runUnattached(tracee: TraceeSpec): Promise<AttachOutcome> {
  const run = await startTracee(tracee);
  const summary = await withTimeout(run.finished, TRACEE_TIMEOUT_MS, 'the tracee finishing');
  return { summary, delivered: null, lostReported: null, lostReconciled: null, kernelFired: null, peerTotals: null, errors: [] };
}

/** The tracee's summary once it finished; fails if bpftrace exits first (with what it printed on stderr). */
function traceeFinishedFirst(run: TraceeRun, bpftraceExit: Promise<unknown>, stderr: () => string): Promise<TraceeSummary> {
  return Promise.race([
    withTimeout(run.finished, TRACEE_TIMEOUT_MS, 'the tracee finishing'),
    bpftraceExit.then(() => {
      throw new BenchFailure(`bpftrace exited early: ${stderr().trim()}`);
    }),
  ]);
}

/**
 * `bpftrace -e 'usdt:BIN:net:inbound_message { @c = count(); }'` (one attach point per tracepoint, one
 * shared count): the cost of a uprobe hit alone.
 */
export async function runBareCount(tracee: TraceeSpec, tracepoints: readonly string[] = ['net:inbound_message']): Promise<AttachOutcome> {
  const program = `${tracepoints.map((tp) => `usdt:${tracee.binary}:${tp}`).join(', ')} { @c = count(); }`;
  const run = await startTracee({ ...tracee, waitAttach: tracepoints });
  const bpftrace = spawn(BPFTRACE, ['-f', 'json', '-e', program], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  bpftrace.stdout.setEncoding('utf8').on('data', (t: string) => (stdout += t));
  bpftrace.stderr.setEncoding('utf8').on('data', (t: string) => (stderr += t));
  const exited = waitForExit(bpftrace);
  try {
    const summary = await traceeFinishedFirst(run, exited, () => stderr);
    if ((await interruptUntilExit(bpftrace)).killed) throw new BenchFailure('bpftrace did not stop on SIGINT');
    let count: number | null = null;
    for (const line of stdout.split('\n')) {
      const match = /^\{"type": "map", "data": \{"@c": (\d+)\}\}$/.exec(line.trim());
      if (match) count = Number(match[1]);
    }
    if (count === null) throw new BenchFailure(`bpftrace printed no @c count: ${stdout.slice(0, 300)} ${stderr.trim()}`);
    return { summary, delivered: count, lostReported: 0, lostReconciled: 0, kernelFired: count, peerTotals: null, errors: [] };
  } finally {
    run.kill();
    if (bpftrace.exitCode === null) bpftrace.kill('SIGKILL');
  }
}

/**
 * A contrib-style bpftrace script (one `printf` per event, as Bitcoin Core's contrib/tracing scripts do),
 * its attach points taking the binary as $1.
 */
export interface ContribScript {
  /** File name the script is written to, e.g. `log_p2p_traffic.bt`. */
  fileName: string;
  text: string;
  /** The tracepoints it attaches to (the tracee waits until every one is attached). */
  tracepoints: readonly string[];
  /** First word of each printed line → the tracepoint that line reports. */
  lineTags: Readonly<Record<string, string>>;
}

/** Bitcoin Core's contrib/tracing/log_p2p_traffic.bt, attach points taking the binary as $1. */
export const CONTRIB_PRINTF_SCRIPT = `usdt:$1:net:inbound_message
{
  $peer_id = (int64) arg0;
  $peer_addr = str(arg1);
  $peer_type = str(arg2);
  $msg_type = str(arg3);
  $msg_len = arg4;
  printf("inbound '%s' msg from peer %d (%s, %s) with %d bytes\\n", $msg_type, $peer_id, $peer_type, $peer_addr, $msg_len);
}

usdt:$1:net:outbound_message
{
  $peer_id = (int64) arg0;
  $peer_addr = str(arg1);
  $peer_type = str(arg2);
  $msg_type = str(arg3);
  $msg_len = arg4;
  printf("outbound '%s' msg to peer %d (%s, %s) with %d bytes\\n", $msg_type, $peer_id, $peer_type, $peer_addr, $msg_len);
}
`;

export const CONTRIB_P2P_TRAFFIC: ContribScript = {
  fileName: 'log_p2p_traffic.bt',
  text: CONTRIB_PRINTF_SCRIPT,
  tracepoints: ['net:inbound_message', 'net:outbound_message'],
  lineTags: { inbound: 'net:inbound_message', outbound: 'net:outbound_message' },
};

/** The contrib-style script with its output going to a file; delivered = the tagged lines in it. */
export async function runContribPrintf(tracee: TraceeSpec, workDir: string, contrib: ContribScript = CONTRIB_P2P_TRAFFIC): Promise<AttachOutcome> {
  const script = join(workDir, contrib.fileName);
  const output = join(workDir, `${contrib.fileName}.out`);
  await fs.writeFile(script, contrib.text);
  const outHandle = await fs.open(output, 'w');
  const run = await startTracee({ ...tracee, waitAttach: contrib.tracepoints });
  const bpftrace = spawn(BPFTRACE, [script, tracee.binary], { stdio: ['ignore', outHandle.fd, 'pipe'] });
  let stderr = '';
  bpftrace.stderr?.setEncoding('utf8').on('data', (t: string) => (stderr += t));
  const exited = waitForExit(bpftrace);
  try {
    const summary = await traceeFinishedFirst(run, exited, () => stderr);
    await waitUntilStable(() => fileSize(output), DRAIN_QUIET_MS, DRAIN_MAX_MS);
    if ((await interruptUntilExit(bpftrace)).killed) throw new BenchFailure('bpftrace did not stop on SIGINT');
    const text = await fs.readFile(output, 'utf8');
    const tags = new Map(Object.entries(contrib.lineTags));
    const deliveredByTracepoint: Record<string, number> = Object.fromEntries(contrib.tracepoints.map((tp) => [tp, 0]));
    let lines = 0;
    let lostReported = 0;
    for (let start = 0; start < text.length; ) {
      const end = text.indexOf('\n', start);
      const lineEnd = end < 0 ? text.length : end;
      const space = text.indexOf(' ', start);
      const tracepoint = space > start && space < lineEnd ? tags.get(text.slice(start, space)) : undefined;
      if (tracepoint !== undefined) {
        lines++;
        deliveredByTracepoint[tracepoint] = (deliveredByTracepoint[tracepoint] ?? 0) + 1;
      }
      start = lineEnd + 1;
    }
    for (const match of (text + stderr).matchAll(/Lost (\d+) events/g)) lostReported += Number(match[1]);
    return { summary, delivered: lines, lostReported, lostReconciled: null, kernelFired: null, peerTotals: null, errors: [], deliveredByTracepoint };
  } finally {
    run.kill();
    if (bpftrace.exitCode === null) bpftrace.kill('SIGKILL');
    await outHandle.close();
    await fs.rm(output, { force: true });
  }
}

export interface HelperSessionOptions {
  /** A tool id of the catalog (src/core/tools/toolCatalog.ts). */
  tool: string;
  probesDir: string;
  tracee: TraceeSpec;
  waitAttach: readonly string[];
  /** Keep every raw line the helper sent (for replaying it through the decoder later). */
  captureRawLines?: boolean;
}

export interface HelperSessionOutcome extends AttachOutcome {
  rawLines: Buffer | null;
  /** Decoded events per event name (tracepoint events, `fired`, `lost`, aggregate snapshots, …). */
  eventCounts: Record<string, number>;
  /** The last event of each name: the final kernel snapshots of aggregating tools. */
  lastEvents: Map<string, NormalizedEvent>;
  /** Sum of the `lost` events' counts in the stream, by source (bpftrace, reconciled). */
  lostEventsBySource: Record<string, number>;
  /** Warning messages the session reported (bpftrace or BCC complaints on stderr, malformed lines). */
  warnings: string[];
}

/**
 * A shipped tool through the real pipeline: root helper → private socket → ProbeSessionReader/decoder.
 * BCC tools (probes/*.py) get the tracee's PID, as they need on v29 binaries; like bpftrace they raise the
 * semaphores only once their probes are attached, so `waitAttach` starts the tracee at the right moment.
 */
export async function runHelperSession(options: HelperSessionOptions): Promise<HelperSessionOutcome> {
  const [outcome] = await runHelperSessions({ ...options, tools: [options.tool] });
  return outcome;
}

export interface HelperSessionsOptions extends Omit<HelperSessionOptions, 'tool'> {
  tools: readonly string[];
  /** Start the tracee only once every session reported `session:attached` (default: with several tools). */
  startWhenAttached?: boolean;
}

/**
 * Several tools at once on one tracee, each its own helper session (its own helper process, socket and
 * decoder), as the extension runs several probes. With more than one (or `startWhenAttached`), the tracee
 * starts firing only once every session reported `session:attached`, so no session misses the start. One outcome per tool, in order.
 */
export async function runHelperSessions(options: HelperSessionsOptions): Promise<HelperSessionOutcome[]> {
  const tools = options.tools.map((id) => {
    const tool = findTool(id);
    if (!tool) throw new BenchFailure(`unknown tool ${id}`);
    return tool;
  });
  const startWhenAttached = options.startWhenAttached ?? tools.length > 1;
  const run = await startTracee({ ...options.tracee, waitAttach: options.waitAttach, waitSignal: startWhenAttached });
  const sessions: HelperSession[] = [];
  try {
    for (const tool of tools) sessions.push(startHelperSession(tool, options, run.pid));
    await Promise.all(sessions.map((s) => s.connect()));
    if (startWhenAttached) {
      await Promise.all(sessions.map((s) => withTimeout(s.attached, 120_000, `${s.tool.id} attaching`)));
      run.resume();
    }
    const summary = await Promise.race([
      withTimeout(run.finished, TRACEE_TIMEOUT_MS, 'the tracee finishing'),
      ...sessions.map((s) => s.stoppedEarly),
    ]);
    return await Promise.all(sessions.map((s) => s.finish(summary)));
  } finally {
    run.kill();
    await Promise.all(sessions.map((s) => s.close()));
  }
}

interface HelperSession {
  tool: ToolDefinition;
  /** Waits for the helper to connect to the socket and starts reading. */
  connect(): Promise<void>;
  /** Resolves once the session reported that every probe is attached. */
  attached: Promise<void>;
  /** Rejects if the session ends before the tracee finished. */
  stoppedEarly: Promise<never>;
  /** Drains the stream, stops the helper and collects what it delivered. */
  finish(summary: TraceeSummary): Promise<HelperSessionOutcome>;
  close(): Promise<void>;
}

function startHelperSession(tool: ToolDefinition, options: HelperSessionsOptions, traceePid: number): HelperSession {
  const bcc = tool.script.endsWith('.py');
  const socketReady = createPrivateSocket('bitcoin-usdt-bench-');
  let helper: ChildProcess | null = null;
  let exited: Promise<ProcessResult> | null = null;
  let helperStderr = '';
  const errors: string[] = [];
  const warnings: string[] = [];
  let peerTotals: PeerTotals[] | null = null;
  const captured: Buffer[] = [];
  const eventCounts: Record<string, number> = {};
  const lastEvents = new Map<string, NormalizedEvent>();
  const lostEventsBySource: Record<string, number> = {};
  const tracepoints = new Set(tool.tracepoints);
  let tracepointEvents = 0;
  let reader: ProbeSessionReader | null = null;
  let markAttached: () => void = () => undefined;
  const attached = new Promise<void>((resolve) => (markAttached = resolve));
  let markStopped: (error: BenchFailure) => void = () => undefined;
  const stoppedEarly = new Promise<never>((_, reject) => (markStopped = reject));
  stoppedEarly.catch(() => undefined);

  const connect = async (): Promise<void> => {
    const socket = await socketReady;
    const argv = buildHelperArgv({
      pythonPath: PYTHON, probesDir: options.probesDir, tool: tool.id, binary: options.tracee.binary, socketPath: socket.path,
      pid: bcc ? traceePid : null,
    });
    const child = spawn(argv[0], argv.slice(1), { stdio: ['ignore', 'ignore', 'pipe'] });
    helper = child;
    child.stderr.setEncoding('utf8').on('data', (t: string) => (helperStderr += t));
    const childExited = waitForExit(child);
    exited = childExited;
    const connection = await Promise.race([
      socket.waitForConnection(30_000),
      childExited.then(({ code }) => {
        throw new BenchFailure(`the helper of ${tool.id} exited (code ${code}) before connecting: ${helperStderr.trim()}`);
      }),
    ]);
    if (options.captureRawLines) connection.on('data', (chunk: Buffer) => captured.push(chunk));
    reader = new ProbeSessionReader({
      decoder: new BpftraceDecoder({ streamedTracepoints: streamedTracepoints(tool) }),
      onBatch: (events) => {
        for (const event of events) {
          eventCounts[event.event] = (eventCounts[event.event] ?? 0) + 1;
          lastEvents.set(event.event, event);
          if (tracepoints.has(event.event)) tracepointEvents++;
          if (event.event === 'session:attached') markAttached();
          else if (event.event === 'p2p:peer_totals') peerTotals = event.peers;
          else if (event.event === 'lost') lostEventsBySource[event.source ?? 'unknown'] = (lostEventsBySource[event.source ?? 'unknown'] ?? 0) + event.count;
          else if (event.event === 'session:message' && event.level === 'error') errors.push(event.message);
          else if (event.event === 'session:message' && event.level === 'warning') warnings.push(event.message);
        }
      },
    });
    reader.attach(connection);
    void reader.done.then(() =>
      markStopped(new BenchFailure(`the helper of ${tool.id} stopped early: ${[...errors, ...warnings].join('; ')} ${helperStderr.trim()}`)),
    );
  };

  const finish = async (summary: TraceeSummary): Promise<HelperSessionOutcome> => {
    if (!reader || !helper) throw new BenchFailure(`the session of ${tool.id} was never connected`);
    const sessionReader: ProbeSessionReader = reader;
    // Periodic count prints keep arriving: only events and loss reports tell that the stream drained
    // (tracepoint events counted twice, by the decoder and by name: aggregating tools stream some too).
    const progress = (): number => sessionReader.decoder.stats.delivered + sessionReader.decoder.stats.lostReported + tracepointEvents;
    await waitUntilStable(progress, DRAIN_QUIET_MS, DRAIN_MAX_MS);
    if ((await interruptUntilExit(helper, 30_000)).killed) throw new BenchFailure(`the helper of ${tool.id} did not stop on SIGINT`);
    await withTimeout(sessionReader.done, 10_000, `the helper of ${tool.id} closing the socket`);
    const final = sessionReader.decoder.stats;
    const kernelFired = Object.values(final.fired).reduce((a, b) => a + b, 0);
    return {
      summary,
      delivered: tool.mode === 'stream' ? final.delivered : null,
      lostReported: final.lostReported,
      lostReconciled: final.lostReconciled,
      kernelFired,
      peerTotals,
      errors,
      deliveredByTracepoint: Object.fromEntries(tool.tracepoints.map((tp) => [tp, eventCounts[tp] ?? 0])),
      rawLines: options.captureRawLines ? Buffer.concat(captured) : null,
      eventCounts,
      lastEvents,
      lostEventsBySource,
      warnings,
    };
  };

  const close = async (): Promise<void> => {
    if (helper && helper.exitCode === null && exited) {
      helper.kill('SIGINT');
      await Promise.race([exited, sleep(5_000)]);
    }
    await (await socketReady).close();
  };

  return { tool, connect, attached, stoppedEarly, finish, close };
}

// Measurement 3: the extension side. Real bpftrace JSON lines are recorded once from p2p-traffic (through
// the helper) on the tracee's varied `p2p` scenario, replicated to the wanted number of lines, and each
// pipeline runs in its own child process (extensionWorker.ts).

import { spawn } from 'node:child_process';
import { createWriteStream, promises as fs } from 'node:fs';
import { join } from 'node:path';
import { BpftraceDecoder } from '../../src/core/events/bpftraceDecoder';
import { RecordingWriter } from '../../src/core/events/recording';
import { figure, type Figure, type TableRow } from './benchStats';
import { BenchFailure, bundleWorker, waitForExit } from './benchProcesses';
import type { BenchContext } from './benchContext';
import { runHelperSession } from './probeRunners';
import type { WorkerFigures } from './extensionWorker';
import { summarizeCpuProfile, type HotSpot } from './cpuProfileSummary';

export const PARSE_AGGREGATE_TARGET = 2_000_000;

const SAMPLE_EVENTS = 20_000;
const SAMPLE_RATE = 40_000;
const FIRED_EVERY_LINES = 10_000;
const EVENT_SPACING_NS = 100_000;
/** Passes over the lines per worker process: the first is cold (JIT warm-up included), the others warm. */
const PASSES = 4;
const ELAPSED_FIELD = /^(\{"type": "value", "data": \["(in|out)",)(\d+)(,.*)$/;

export interface ExtensionResults {
  lines: number;
  sampleMessageLines: number;
  heapEvents: { first: number; all: number };
  runs: WorkerFigures[];
  figures: Record<string, Figure>;
  /** Steady state (passes after the first) and the first pass of a fresh process. */
  targetMet: { warm: boolean; cold: boolean };
  hotSpots: HotSpot[] | null;
  profilePath: string | null;
}

/** Records real p2p-traffic output for the tracee's `p2p` scenario; returns the raw lines. */
async function recordSample(ctx: BenchContext): Promise<string[]> {
  const outcome = await runHelperSession({
    tool: 'p2p-traffic',
    probesDir: ctx.probesDir,
    tracee: { binary: ctx.traceeCopy, scenario: 'p2p', count: SAMPLE_EVENTS, rate: SAMPLE_RATE, summaryPath: join(ctx.workDir, 'summary-sample.json') },
    waitAttach: ['net:inbound_message', 'net:outbound_message'],
    captureRawLines: true,
  });
  const lines = (outcome.rawLines ?? Buffer.alloc(0)).toString('utf8').split('\n').filter((l) => l.length > 0);
  if (!lines.some((l) => ELAPSED_FIELD.test(l))) throw new BenchFailure('recording the sample: p2p-traffic delivered no message lines');
  return lines;
}

/** The sample's message lines repeated to `total`, elapsed increasing, with `@fired` counts as bpftrace prints them. */
async function writeReplicatedLines(sample: readonly string[], total: number, path: string): Promise<number> {
  const head = sample.filter((l) => l.startsWith('{"type": "helper"') && l.includes('"event": "target"')).slice(0, 1);
  const attached = sample.filter((l) => l.startsWith('{"type": "attached_probes"')).slice(0, 1);
  const messages = sample.map((l) => ELAPSED_FIELD.exec(l)).filter((m): m is RegExpExecArray => m !== null);
  const out = createWriteStream(path, { highWaterMark: 1 << 20 });
  const write = (text: string): Promise<void> | void => {
    if (!out.write(text)) return new Promise((resolve) => out.once('drain', () => resolve()));
  };
  await write([...head, ...attached, ''].join('\n'));
  let firedIn = 0;
  let firedOut = 0;
  // The tracee's pid, printed right after elapsed: @fired is keyed by [pid, tracepoint].
  const pid = /^,(\d+),/.exec(messages[0]?.[4] ?? '')?.[1] ?? '0';
  let chunk: string[] = [];
  for (let i = 0; i < total; i++) {
    const m = messages[i % messages.length];
    if (m[2] === 'in') firedIn++;
    else firedOut++;
    chunk.push(`${m[1]}${i * EVENT_SPACING_NS}${m[4]}\n`);
    if ((i + 1) % FIRED_EVERY_LINES === 0 || i === total - 1) {
      chunk.push(`{"type": "map", "data": {"@fired": {"${pid},net:inbound_message": ${firedIn}, "${pid},net:outbound_message": ${firedOut}}}}\n`);
      await write(chunk.join(''));
      chunk = [];
    }
  }
  await new Promise<void>((resolve, reject) => out.end((error?: Error | null) => (error ? reject(error) : resolve())));
  return messages.length;
}

/** Decodes the lines file into a recording (NDJSON) of its normalized events. */
async function writeRecording(linesPath: string, recordingPath: string): Promise<void> {
  const writer = await RecordingWriter.create(recordingPath, {
    tool: 'p2p-traffic', started_at: new Date().toISOString(), binary: null, pid: null, producer: 'bitcoin-usdt bench',
  });
  const decoder = new BpftraceDecoder();
  const text = await fs.readFile(linesPath, 'utf8');
  let start = 0;
  let batch = [];
  while (start < text.length) {
    let end = text.indexOf('\n', start);
    if (end < 0) end = text.length;
    batch.push(...decoder.decodeLine(text.slice(start, end)));
    start = end + 1;
    if (batch.length >= 10_000) {
      writer.write(batch);
      batch = [];
      await writer.flush();
    }
  }
  batch.push(...decoder.finish());
  writer.write(batch);
  await writer.close();
}

/** Runs one worker process; returns its figures, one per pass. */
async function runWorker(ctx: BenchContext, worker: string, args: string[], cpuProfileDir: string | null = null): Promise<WorkerFigures[]> {
  const nodeArgs = ['--expose-gc'];
  if (cpuProfileDir) nodeArgs.push('--cpu-prof', '--cpu-prof-dir', cpuProfileDir);
  const child = spawn(process.execPath, [...nodeArgs, worker, ...args], {
    cwd: ctx.repoRoot,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (t: string) => (stdout += t));
  child.stderr.setEncoding('utf8').on('data', (t: string) => (stderr += t));
  const { code } = await waitForExit(child);
  if (code !== 0) throw new BenchFailure(`extension worker ${args[0]} failed (code ${code}): ${stderr.trim()}`);
  return stdout.trim().split('\n').map((line) => JSON.parse(line) as WorkerFigures);
}

export async function runExtensionBench(ctx: BenchContext): Promise<ExtensionResults> {
  ctx.log(`extension: recording real p2p-traffic lines (tracee p2p scenario, ${SAMPLE_EVENTS} events at ${SAMPLE_RATE}/s)`);
  const sample = await recordSample(ctx);
  const samplePath = join(ctx.workDir, 'p2p-traffic-sample.ndjson');
  await fs.writeFile(samplePath, sample.join('\n') + '\n');
  // Kept with the results, so the extension-side figures can be reproduced and profiled on the same lines.
  await fs.copyFile(samplePath, join(ctx.resultsDir, `${ctx.stamp}-p2p-traffic-sample.ndjson`));
  const linesPath = join(ctx.workDir, 'p2p-traffic-lines.ndjson');
  const recordingPath = join(ctx.workDir, 'recording.ndjson');
  ctx.log(`extension: replicating to ${ctx.extensionLines.toLocaleString('en-US')} lines, writing a recording of them`);
  const sampleMessageLines = await writeReplicatedLines(sample, ctx.extensionLines, linesPath);
  await writeRecording(linesPath, recordingPath);

  const worker = await bundleWorker(join(__dirname, 'extensionWorker.ts'), join(ctx.workDir, 'extensionWorker.js'));
  const runs: WorkerFigures[] = [];
  for (let round = 1; round <= ctx.runs; round++) {
    for (const mode of ['decode', 'aggregate', 'recording'] as const) {
      const args = mode === 'recording' ? [mode, recordingPath] : [mode, linesPath, String(PASSES)];
      for (const result of await runWorker(ctx, worker, args)) {
        ctx.log(
          `extension: round ${round}/${ctx.runs}, ${mode}${mode === 'recording' ? '' : ` pass ${result.pass}`}: ` +
            `${Math.round(result.eventsPerSecond).toLocaleString('en-US')} events/s, ` +
            `${Math.round(result.eventsPerCpuSecond).toLocaleString('en-US')} events/CPU-s`,
        );
        runs.push(result);
      }
    }
    const [heap] = await runWorker(ctx, worker, ['heap', samplePath, String(ctx.heapEvents.first), String(ctx.heapEvents.all)]);
    ctx.log(
      `extension: round ${round}/${ctx.runs}, heap: ${mb(heap.heapUsedAfterFirst)} MB after ${heap.eventsFirst}, ` +
        `${mb(heap.heapUsedAfterAll)} MB after ${heap.eventsAll} events`,
    );
    runs.push(heap);
  }

  let hotSpots: HotSpot[] | null = null;
  let profilePath: string | null = null;
  if (ctx.profile) {
    const dir = join(ctx.workDir, 'cpu-profile');
    await fs.mkdir(dir, { recursive: true });
    ctx.log('extension: profiling decode + aggregate (node --cpu-prof)');
    await runWorker(ctx, worker, ['aggregate', linesPath], dir);
    const [file] = (await fs.readdir(dir)).filter((f) => f.endsWith('.cpuprofile'));
    if (file) {
      profilePath = join(ctx.resultsDir, `${ctx.stamp}-aggregate.cpuprofile`);
      await fs.copyFile(join(dir, file), profilePath);
      hotSpots = summarizeCpuProfile(JSON.parse(await fs.readFile(profilePath, 'utf8')), await fs.readFile(worker, 'utf8'), 15);
    }
  }

  const cold = (mode: string): WorkerFigures[] => runs.filter((r) => r.mode === mode && r.pass === 1);
  const warm = (mode: string): WorkerFigures[] => runs.filter((r) => r.mode === mode && r.pass > 1);
  const figures: Record<string, Figure> = {};
  for (const mode of ['decode', 'aggregate', 'recording']) {
    figures[`${mode}.eventsPerSecond`] = figure(cold(mode).map((r) => r.eventsPerSecond), 'events/s');
    figures[`${mode}.eventsPerCpuSecond`] = figure(cold(mode).map((r) => r.eventsPerCpuSecond), 'events/CPU-s');
  }
  for (const mode of ['decode', 'aggregate']) {
    figures[`${mode}.warm.eventsPerSecond`] = figure(warm(mode).map((r) => r.eventsPerSecond), 'events/s');
    figures[`${mode}.warm.eventsPerCpuSecond`] = figure(warm(mode).map((r) => r.eventsPerCpuSecond), 'events/CPU-s');
  }
  const heaps = runs.filter((r) => r.mode === 'heap');
  figures['heap.afterFirstMB'] = figure(heaps.map((r) => (r.heapUsedAfterFirst ?? NaN) / 2 ** 20), 'MB');
  figures['heap.afterAllMB'] = figure(heaps.map((r) => (r.heapUsedAfterAll ?? NaN) / 2 ** 20), 'MB');
  figures['heap.rssAfterAllMB'] = figure(heaps.map((r) => (r.rssAfterAll ?? NaN) / 2 ** 20), 'MB');
  return {
    lines: ctx.extensionLines,
    sampleMessageLines,
    heapEvents: ctx.heapEvents,
    runs,
    figures,
    targetMet: {
      warm: figures['aggregate.warm.eventsPerCpuSecond'].median >= PARSE_AGGREGATE_TARGET,
      cold: figures['aggregate.eventsPerCpuSecond'].median >= PARSE_AGGREGATE_TARGET,
    },
    hotSpots,
    profilePath,
  };
}

function mb(bytes: number | undefined): string {
  return ((bytes ?? NaN) / 2 ** 20).toFixed(1);
}

export function extensionTableRows(results: ExtensionResults): TableRow[] {
  const section = `3. extension side (one core; ${results.lines.toLocaleString('en-US')} real p2p-traffic lines)`;
  const f = results.figures;
  const growth = f['heap.afterAllMB'].median / f['heap.afterFirstMB'].median;
  const count = (n: number): string => `${n / 1e6} M`;
  const target = (met: boolean): string => `target ≥ ${PARSE_AGGREGATE_TARGET.toLocaleString('en-US')}: ${met ? 'met' : 'NOT met'}`;
  return [
    { section, name: 'read + decode (ProbeSessionReader), first pass, wall', figure: f['decode.eventsPerSecond'] },
    { section, name: 'read + decode, first pass, per CPU-second', figure: f['decode.eventsPerCpuSecond'] },
    { section, name: 'read + decode, later passes (warm), per CPU-second', figure: f['decode.warm.eventsPerCpuSecond'] },
    { section, name: 'read + decode + aggregate (P2pAggregator), first pass, wall', figure: f['aggregate.eventsPerSecond'] },
    {
      section, name: 'read + decode + aggregate, first pass (cold JIT), per CPU-second', figure: f['aggregate.eventsPerCpuSecond'],
      note: target(results.targetMet.cold),
    },
    { section, name: 'read + decode + aggregate, later passes (warm), wall', figure: f['aggregate.warm.eventsPerSecond'] },
    {
      section, name: 'read + decode + aggregate, later passes (warm), per CPU-second', figure: f['aggregate.warm.eventsPerCpuSecond'],
      note: target(results.targetMet.warm),
    },
    { section, name: 'read recording (NDJSON), wall', figure: f['recording.eventsPerSecond'] },
    { section, name: 'read recording, per CPU-second', figure: f['recording.eventsPerCpuSecond'] },
    { section, name: `heap used after ${count(results.heapEvents.first)} events`, figure: f['heap.afterFirstMB'] },
    {
      section, name: `heap used after ${count(results.heapEvents.all)} events`, figure: f['heap.afterAllMB'],
      note: `×${growth.toFixed(2)} for ×${results.heapEvents.all / results.heapEvents.first} events`,
    },
    { section, name: `RSS after ${count(results.heapEvents.all)} events`, figure: f['heap.rssAfterAllMB'] },
  ];
}

// Child process of measurement 3 (run with --expose-gc): one extension-side pipeline per process, so JIT
// state and heap of one measurement do not leak into the next. Prints one JSON line with its figures.
//
//   decode     FILE [PASSES]   bpftrace lines → ProbeSessionReader (decoder), events counted
//   aggregate  FILE [PASSES]   the same, plus P2pAggregator.ingestAll and a delta() every 200 ms (the panel)
//
// decode and aggregate read the file PASSES times (default 1), each pass a new session (a new reader and
// aggregator) in the same process: the first pass includes the JIT compiling the hot code, the later ones
// are the steady state of an extension host that has run a session before. One JSON line per pass.
//   recording  FILE            readRecording() of an NDJSON recording
//   heap       SAMPLE N1 N2    decode + aggregate N2 events generated from SAMPLE's lines (streamed, never
//                              held); heap after N1 and after N2 events

import { createReadStream, readFileSync } from 'node:fs';
import type { NormalizedEvent } from '../../src/core/events/eventTypes';
import { readRecording } from '../../src/core/events/recording';
import { ProbeSessionReader } from '../../src/core/probeSession';
import { P2pAggregator } from '../../src/core/p2p/p2pAggregator';

export interface WorkerFigures {
  mode: string;
  /** 1 for the first pass of the process (cold), 2… for later passes over the same file (warm). */
  pass: number;
  events: number;
  ms: number;
  /** CPU time of the process (all its threads), user + system. */
  cpuMs: number;
  eventsPerSecond: number;
  /** Events per CPU-second: on a shared machine, less disturbed by other processes than the wall rate. */
  eventsPerCpuSecond: number;
  heapUsedAfterFirst?: number;
  heapUsedAfterAll?: number;
  eventsFirst?: number;
  eventsAll?: number;
  rssAfterAll?: number;
  peers?: number;
}

const DELTA_INTERVAL_MS = 200;

interface Stopwatch {
  stop(events: number): Pick<WorkerFigures, 'ms' | 'cpuMs' | 'eventsPerSecond' | 'eventsPerCpuSecond'>;
}

function stopwatch(): Stopwatch {
  const wallStart = process.hrtime.bigint();
  const cpuStart = process.cpuUsage();
  return {
    stop(events) {
      const ms = Number(process.hrtime.bigint() - wallStart) / 1e6;
      const cpu = process.cpuUsage(cpuStart);
      const cpuMs = (cpu.user + cpu.system) / 1000;
      return { ms, cpuMs, eventsPerSecond: events / (ms / 1000), eventsPerCpuSecond: events / (cpuMs / 1000) };
    },
  };
}

function collectGarbage(): void {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (!gc) throw new Error('run with --expose-gc');
  gc();
  gc();
}

function isMessage(event: NormalizedEvent): boolean {
  return event.event === 'net:inbound_message' || event.event === 'net:outbound_message';
}

/** The panel's consumer: aggregate every batch, take a delta a few times per second. */
function aggregatingConsumer(aggregator: P2pAggregator): (events: NormalizedEvent[]) => void {
  let lastDelta = Date.now();
  return (events) => {
    aggregator.ingestAll(events);
    const now = Date.now();
    if (now - lastDelta >= DELTA_INTERVAL_MS && aggregator.hasChanges) {
      aggregator.delta();
      lastDelta = now;
    }
  };
}

async function streamFile(path: string, aggregate: boolean, pass: number): Promise<WorkerFigures> {
  let events = 0;
  const aggregator = aggregate ? new P2pAggregator() : null;
  const consume = aggregator ? aggregatingConsumer(aggregator) : null;
  const reader = new ProbeSessionReader({
    onBatch: (batch) => {
      for (const e of batch) if (isMessage(e)) events++;
      consume?.(batch);
    },
  });
  const watch = stopwatch();
  reader.attach(createReadStream(path, { highWaterMark: 1 << 20 }));
  await reader.done;
  return { mode: aggregate ? 'aggregate' : 'decode', pass, events, ...watch.stop(events), peers: aggregator?.peerCount };
}

async function readRecordingFile(path: string): Promise<WorkerFigures> {
  let events = 0;
  const watch = stopwatch();
  await readRecording(path, () => events++);
  return { mode: 'recording', pass: 1, events, ...watch.stop(events) };
}

const ELAPSED_FIELD = /^(\{"type": "value", "data": \["(?:in|out)",)(\d+)(,.*)$/;

/** Generates `total` lines from the sample's message lines, elapsed increasing, in chunks; never holds them. */
async function heapRun(samplePath: string, first: number, total: number): Promise<WorkerFigures> {
  const templates = readFileSync(samplePath, 'utf8')
    .split('\n')
    .map((line) => ELAPSED_FIELD.exec(line))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => [m[1], m[3]] as const);
  if (templates.length === 0) throw new Error(`${samplePath} has no message lines`);
  let events = 0;
  const aggregator = new P2pAggregator();
  const consume = aggregatingConsumer(aggregator);
  const reader = new ProbeSessionReader({
    onBatch: (batch) => {
      for (const e of batch) if (isMessage(e)) events++;
      consume(batch);
    },
  });
  const chunkLines = 2_000;
  let heapUsedAfterFirst = NaN;
  let eventsFirst = 0;
  const watch = stopwatch();
  for (let generated = 0; generated < total; ) {
    const parts: string[] = [];
    const end = Math.min(total, generated + chunkLines);
    for (; generated < end; generated++) {
      const [head, tail] = templates[generated % templates.length];
      parts.push(head, String(generated * 100_000), tail, '\n');
    }
    reader.push(Buffer.from(parts.join('')));
    if (generated === first) {
      reader.drain();
      collectGarbage();
      heapUsedAfterFirst = process.memoryUsage().heapUsed;
      eventsFirst = events;
    }
    // Let timers (batch flushes) run, as they would between socket reads.
    if (generated % 100_000 === 0) await new Promise((resolve) => setImmediate(resolve));
  }
  reader.end();
  await reader.done;
  const timing = watch.stop(events);
  collectGarbage();
  const memory = process.memoryUsage();
  return {
    mode: 'heap', pass: 1, events, ...timing,
    heapUsedAfterFirst, eventsFirst, heapUsedAfterAll: memory.heapUsed, eventsAll: events, rssAfterAll: memory.rss,
    peers: aggregator.peerCount,
  };
}

async function main(argv: string[]): Promise<void> {
  const [mode, path, a, b] = argv;
  const results: WorkerFigures[] = [];
  if (mode === 'decode' || mode === 'aggregate') {
    const passes = a === undefined ? 1 : Number(a);
    for (let pass = 1; pass <= passes; pass++) results.push(await streamFile(path, mode === 'aggregate', pass));
  } else if (mode === 'recording') results.push(await readRecordingFile(path));
  else if (mode === 'heap') results.push(await heapRun(path, Number(a), Number(b)));
  else throw new Error(`unknown mode ${mode}`);
  for (const result of results) process.stdout.write(`${JSON.stringify(result)}\n`);
}

main(process.argv.slice(2)).catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});

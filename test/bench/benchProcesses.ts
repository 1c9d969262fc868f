// Child processes of the benchmark: the test tracee, and small helpers to wait on processes and files.

import * as esbuild from 'esbuild';
import { spawn, type ChildProcess } from 'node:child_process';
import { promises as fs } from 'node:fs';
import { createInterface } from 'node:readline';
import type { PeerTotals } from '../../src/core/events/eventTypes';

export class BenchFailure extends Error {}

export interface ProcessResult {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export function waitForExit(child: ChildProcess): Promise<ProcessResult> {
  if (child.exitCode !== null || child.signalCode !== null) {
    return Promise.resolve({ code: child.exitCode, signal: child.signalCode });
  }
  return new Promise((resolve, reject) => {
    child.once('exit', (code, signal) => resolve({ code, signal }));
    child.once('error', reject);
  });
}

/**
 * Sends SIGINT until the process exits (bpftrace ignores a SIGINT that arrives while it is still attaching),
 * then SIGKILL after `maxMs`. Resolves with how it ended.
 */
export async function interruptUntilExit(child: ChildProcess, maxMs = 20_000): Promise<ProcessResult & { killed: boolean }> {
  const exited = waitForExit(child);
  const deadline = Date.now() + maxMs;
  while (Date.now() < deadline) {
    child.kill('SIGINT');
    const done = await Promise.race([exited, sleep(2_000).then(() => null)]);
    if (done) return { ...done, killed: false };
  }
  child.kill('SIGKILL');
  return { ...(await exited), killed: true };
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Rejects after `ms` with a message saying what did not happen in time. */
export function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new BenchFailure(`${what} did not happen within ${Math.round(ms / 1000)} s`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** Waits until `read()` returns the same value for `quietMs` (or `maxMs` passed): a stream has drained. */
export async function waitUntilStable(read: () => number | Promise<number>, quietMs: number, maxMs: number): Promise<void> {
  const deadline = Date.now() + maxMs;
  let last = await read();
  let stableSince = Date.now();
  while (Date.now() < deadline) {
    await sleep(100);
    const now = await read();
    if (now !== last) {
      last = now;
      stableSince = Date.now();
    } else if (Date.now() - stableSince >= quietMs) {
      return;
    }
  }
}

export async function fileSize(path: string): Promise<number> {
  return fs.stat(path).then((s) => s.size, () => 0);
}

/** Runs a command to completion, collecting its output. */
export async function runToEnd(
  argv: readonly string[],
  timeoutMs = 120_000,
  cwd?: string,
): Promise<{ stdout: string; stderr: string; code: number | null }> {
  const child = spawn(argv[0], argv.slice(1), { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (t: string) => (stdout += t));
  child.stderr.setEncoding('utf8').on('data', (t: string) => (stderr += t));
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  const { code } = await waitForExit(child).finally(() => clearTimeout(timer));
  return { stdout, stderr, code };
}

/**
 * Bundles a worker script into plain JS (as esbuild bundles the extension), so that it runs under plain
 * `node` without a TypeScript loader in between. Names are kept for readable CPU profiles.
 */
export async function bundleWorker(entry: string, outfile: string): Promise<string> {
  await esbuild.build({
    entryPoints: [entry], bundle: true, platform: 'node', format: 'cjs', target: 'es2022', keepNames: true,
    outfile, logLevel: 'silent',
  });
  return outfile;
}

// ------------------------------------------------------------------ the test tracee

/** The tracee's own count of one peer: the per-peer totals the kernel counts, keyed by peer id instead. */
export type TraceePeerSummary = Omit<PeerTotals, 'pid' | 'peer_id'>;

/** The tracee's --summary file. */
export interface TraceeSummary {
  build: string;
  scenario: string;
  pid: number;
  elapsed_ns: number;
  calls: number;
  fired: Record<string, number>;
  called: Record<string, number>;
  peers: Record<string, TraceePeerSummary>;
}

export interface TraceeOptions {
  binary: string;
  scenario: string;
  count: number;
  summaryPath: string;
  /** Start firing only once these tracepoints' semaphores are raised (a probe attached). */
  waitAttach?: readonly string[];
  /** Start firing only after `resume()` (SIGUSR1), before waiting for `waitAttach`. */
  waitSignal?: boolean;
  rate?: number;
}

export interface TraceeRun {
  pid: number;
  /** Resolves with the summary once the tracee printed `done` and exited. */
  finished: Promise<TraceeSummary>;
  /** Lets a tracee started with `waitSignal` go on (SIGUSR1). */
  resume(): void;
  kill(): void;
}

export async function startTracee(options: TraceeOptions): Promise<TraceeRun> {
  const argv = ['--scenario', options.scenario, '--count', String(options.count), '--summary', options.summaryPath];
  if (options.waitSignal) argv.push('--wait-signal');
  if (options.waitAttach && options.waitAttach.length > 0) argv.push('--wait-attach', options.waitAttach.join(','));
  if (options.rate !== undefined) argv.push('--rate', String(options.rate));
  const child = spawn(options.binary, argv, { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (t: string) => (stderr += t));
  const lines = createInterface({ input: child.stdout });
  const exited = waitForExit(child);
  const ready = new Promise<number>((resolve, reject) => {
    lines.on('line', (line) => {
      const match = /^ready pid=(\d+)$/.exec(line);
      if (match) resolve(Number(match[1]));
    });
    void exited.then(({ code }) => reject(new BenchFailure(`the tracee exited (code ${code}) before it was ready: ${stderr.trim()}`)));
  });
  const pid = await withTimeout(ready, 20_000, 'the tracee printing "ready"');
  const finished = exited.then(async ({ code, signal }) => {
    if (code !== 0) throw new BenchFailure(`the tracee failed (code ${code}, signal ${signal}): ${stderr.trim()}`);
    const text = await fs.readFile(options.summaryPath, 'utf8');
    return JSON.parse(text) as TraceeSummary;
  });
  finished.catch(() => undefined);
  return { pid, finished, resume: () => child.kill('SIGUSR1'), kill: () => child.kill('SIGKILL') };
}

export function totalFired(summary: TraceeSummary): number {
  return Object.values(summary.fired).reduce((a, b) => a + b, 0);
}

/** Tracepoint calls per second (fired or not: with nothing attached a v29 call only tests its semaphore). */
export function callRate(summary: TraceeSummary): number {
  return summary.calls / (summary.elapsed_ns / 1e9);
}

// Measurements `soak` and `fuzz` of `npm run bench`: the long runs of soak.ts and fuzzLong.ts, once each
// (not repeated per round: they are endurance checks, their figures are maxima and verdicts, not rates). The soak
// runs twice, one after the other: in this process as the extension host's stand-in (soak.ts), then inside the
// real VS Code with the P2P panel open (vscodeSoakBench.ts).

import { promises as fs } from 'node:fs';
import { join } from 'node:path';
import type { BenchContext } from './benchContext';
import { figure, type TableRow } from './benchStats';
import { FuzzFailure, runLongFuzz, type FuzzResult } from './fuzzLong';
import { runSoak, type SoakResult } from './soak';
import { runVscodeSoakBench, vscodeSoakFailures, vscodeSoakTableRows, type VscodeSoakBenchResults } from './vscodeSoakBench';

export const SOAK_DURATION_MS = { quick: 30_000, full: 600_000 } as const;
export const FUZZ_CASES_PER_TARGET = { quick: 10_000, full: 100_000 } as const;

export interface SoakBenchResults {
  result: SoakResult;
  /** The soak inside VS Code; null when skipped (not root) or when its harness failed (`vscodeError`). */
  vscode: VscodeSoakBenchResults | null;
  vscodeError: string | null;
  /** Failed checks, as `name: why`; empty when every check passed. */
  failures: string[];
}

export interface FuzzBenchResults {
  casesPerTarget: number;
  targets: FuzzResult[];
  /** The contract violation found (with its seed and case), or null. */
  failure: string | null;
}

export async function runSoakBench(ctx: BenchContext): Promise<SoakBenchResults> {
  const durationMs = ctx.quick ? SOAK_DURATION_MS.quick : SOAK_DURATION_MS.full;
  const workDir = join(ctx.workDir, 'soak');
  await fs.mkdir(workDir, { recursive: true });
  ctx.log(`soak: tracee at its top rate for ${durationMs / 1000} s, p2p-traffic through the helper, the panel's model and a recording`);
  const result = await runSoak({ durationMs, workDir, repoRoot: ctx.repoRoot, log: (line) => ctx.log(`soak: ${line}`) });
  const failures: string[] = [];
  if (!result.accountedExactly) {
    failures.push(`soak: delivered ${result.delivered} + lost ${result.lost} ≠ fired ${result.firedByTracee} (kernel ${result.firedInKernel})`);
  }
  if (!result.heapBounded) {
    failures.push(`soak: heap grew from ${mb(result.steadyHeapStartBytes)} to ${mb(result.steadyHeapEndBytes)} MB in the steady state`);
  }
  if (result.recordingError !== null) failures.push(`soak: the recording failed: ${result.recordingError}`);
  // Its figures are taken; its recording (~9 GB after 10 minutes) would only crowd the VS Code soak's.
  await fs.rm(workDir, { recursive: true, force: true });
  let vscode: VscodeSoakBenchResults | null = null;
  let vscodeError: string | null = null;
  try {
    vscode = await runVscodeSoakBench(ctx, durationMs);
    if (vscode) failures.push(...vscodeSoakFailures(vscode));
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    vscodeError = message.startsWith('soak in VS Code') ? message : `soak in VS Code: ${message}`;
    failures.push(vscodeError.split('\n')[0]);
  }
  return { result, vscode, vscodeError, failures };
}

export async function runFuzzBench(ctx: BenchContext): Promise<FuzzBenchResults> {
  const casesPerTarget = ctx.quick ? FUZZ_CASES_PER_TARGET.quick : FUZZ_CASES_PER_TARGET.full;
  try {
    const targets = await runLongFuzz({ casesPerTarget, log: (line) => ctx.log(line) });
    return { casesPerTarget, targets, failure: null };
  } catch (error) {
    if (!(error instanceof FuzzFailure)) throw error;
    return { casesPerTarget, targets: [], failure: error.message };
  }
}

function mb(bytes: number): string {
  return (bytes / 2 ** 20).toFixed(1);
}

export function soakTableRows(results: SoakBenchResults): TableRow[] {
  const r = results.result;
  const section = `soak in the bench process as the extension host's stand-in (${(r.durationMs / 1000).toFixed(0)} s at the tracee's top rate, once)`;
  const one = (value: number, unit: string): ReturnType<typeof figure> => figure([value], unit);
  const fired = Math.max(1, r.firedByTracee);
  return [
    { section, name: 'process soak: fired (tracee)', figure: one(r.firedByTracee, 'events'), note: `kernel @fired ${r.firedInKernel.toLocaleString('en-US')}` },
    { section, name: 'process soak: delivered', figure: one(r.delivered, 'events'), note: `${((100 * r.delivered) / fired).toFixed(1)} %` },
    { section, name: 'process soak: lost (counted)', figure: one(r.lost, 'events'), note: r.accountedExactly ? 'delivered + lost = fired: exact' : 'NOT exact' },
    { section, name: 'process soak: peak RSS', figure: one(r.peakRssBytes / 2 ** 20, 'MB') },
    { section, name: 'process soak: peak heap used', figure: one(r.peakHeapUsedBytes / 2 ** 20, 'MB') },
    {
      section, name: 'process soak: heap used, steady state start → end', figure: one(r.steadyHeapEndBytes / 2 ** 20, 'MB'),
      note: `from ${mb(r.steadyHeapStartBytes)} MB: ${r.heapBounded ? 'bounded' : 'NOT bounded'}`,
    },
    { section, name: 'process soak: event-loop delay p99', figure: one(r.eventLoopDelayP99Ms, 'ms'), note: `max ${r.eventLoopDelayMaxMs.toFixed(1)} ms` },
    { section, name: 'process soak: slowest panel update (delta + JSON)', figure: one(r.slowestPanelUpdateMs, 'ms'), note: `${r.panelUpdates} updates` },
    { section, name: 'process soak: recording written', figure: one(r.recordingBytes / 2 ** 20, 'MB'), note: r.recordingError ?? 'ok' },
    {
      section, name: 'process soak: events recorded', figure: one(r.recordingEvents, 'events'),
      note: `${r.recordingDropped.toLocaleString('en-US')} left out (disk behind), counted in lost lines`,
    },
    ...(results.vscode ? vscodeSoakTableRows(results.vscode) : []),
    ...(results.vscodeError !== null
      ? [{ section: 'soak in VS Code, the extension host', name: 'VS Code soak', figure: figure([NaN], ''), note: results.vscodeError.split('\n')[0].slice(0, 200) }]
      : []),
  ];
}

export function fuzzTableRows(results: FuzzBenchResults): TableRow[] {
  const section = `fuzz (${results.casesPerTarget.toLocaleString('en-US')} cases per target, once)`;
  if (results.failure !== null) {
    return [{ section, name: 'contract violation', figure: figure([NaN], ''), note: results.failure.slice(0, 120) }];
  }
  return results.targets.map((t) => ({
    section,
    name: t.target,
    figure: figure([t.cases], 'events'),
    note: `${t.accepted} accepted, ${t.refused} refused as documented, ${(t.milliseconds / 1000).toFixed(1)} s`,
  }));
}

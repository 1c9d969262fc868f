// The soak inside the real VS Code (part of measurement `soak`, after the process soak of soak.ts): runs the
// integration harness in soak mode (`node dist/test/runIntegration.js --mode soak`: code-server's VS Code and
// headless Chromium, a fresh window), where test/integration/vscodeSoak.test.ts starts p2p-traffic through the
// real launcher against the tracee's p2p-flood at its top rate with the P2P panel open, samples the extension
// host while it runs and checks the account at the end; it writes the figures as JSON (VscodeSoakRun).

import type { BenchContext } from './benchContext';
import { figure, type TableRow } from './benchStats';
import { HEAP_GROWTH_ALLOWANCE_BYTES } from './soak';
import { requireBuiltHarness, runIntegrationHarness } from './vscodePanelBench';
import { SOAK_DURATION_ENV, soakHarnessTimeoutMs } from '../integration/soakSettings';

/** The extension host every SAMPLE_INTERVAL of the soak. */
export interface VscodeSoakSample {
  /** Since the probe was started. */
  readonly atMs: number;
  readonly rssBytes: number;
  readonly heapUsedBytes: number;
  /** The P2P panel's render report round trip; null when the request got no answer (see renderReport.errors). */
  readonly renderReportMs: number | null;
  /** Events delivered so far (the hub's stream) and the running session's status-bar counters (null outside it). */
  readonly delivered: number;
  readonly statusDelivered: number | null;
  readonly statusLost: number | null;
}

/** What vscodeSoak.test.ts writes. Byte and millisecond figures are as measured, no rounding. */
export interface VscodeSoakRun {
  readonly vscodeVersion: string;
  /** The requested soak length (the tracee's --duration-ms). */
  readonly durationMs: number;
  /** The tracee's own firing time (its summary's elapsed_ns), and startProbe → the session's end. */
  readonly firingMs: number;
  readonly sessionMs: number;
  readonly endReason: string;
  /** Messages the tracee fired (its --summary) and the kernel counted (the last `fired` event, @fired). */
  readonly firedByTracee: number;
  readonly firedInKernel: number;
  /** What the extension received through its event hub: message events, and the sum of `lost` events. */
  readonly delivered: number;
  readonly lost: number;
  /** delivered + lost = fired (the tracee's count) and the kernel's count = the tracee's. */
  readonly accountedExactly: boolean;
  /** The session's status-bar counters as last seen while it ran (after its final counts), and its text. */
  readonly status: { readonly delivered: number; readonly lost: number; readonly text: string };
  /** The P2P panel at the end: its model's counters (host) and the lost counter its page shows. */
  readonly panel: { readonly messages: number; readonly shownMessages: number; readonly lost: number; readonly lostText: string; readonly peers: number };
  /** The automatic recording, read back after the session: message events, `lost` lines from the probe, and events left out (disk behind). */
  readonly recording: { readonly bytes: number; readonly messages: number; readonly lostFromProbe: number; readonly leftOut: number; readonly malformedLines: number };
  readonly memory: {
    /** process.memoryUsage() of the extension host every second, no forced GC. */
    readonly peakRssBytes: number;
    readonly peakHeapUsedBytes: number;
    /** heapUsed at the first sample after a fifth of the soak, and right after the session ended. */
    readonly heapAtFifthBytes: number;
    readonly heapAtEndBytes: number;
    readonly rssAtEndBytes: number;
  };
  readonly renderReport: { readonly requests: number; readonly answered: number; readonly medianMs: number; readonly p99Ms: number; readonly maxMs: number; readonly errors: readonly string[] };
  /** perf_hooks.monitorEventLoopDelay of the extension host (10 ms resolution) while the probe ran. */
  readonly eventLoopDelay: { readonly p99Ms: number; readonly maxMs: number; readonly meanMs: number };
  readonly samples: readonly VscodeSoakSample[];
}

export interface VscodeSoakBenchResults {
  run: VscodeSoakRun;
  heapBounded: boolean;
}

/** null: not root (the soak attaches a real probe), nothing measured. Throws when the harness failed. */
export async function runVscodeSoakBench(ctx: BenchContext, durationMs: number): Promise<VscodeSoakBenchResults | null> {
  if (process.geteuid?.() !== 0) {
    ctx.log('soak in VS Code: skipped, it attaches a real probe (run as root)');
    return null;
  }
  requireBuiltHarness(ctx, 'vscodeSoak.test.js');
  ctx.log(`soak in VS Code: the same flood for ${durationMs / 1000} s through the real launcher into the P2P panel (a fresh VS Code window; harness output in bench-results/${ctx.stamp}-vscode-soak.log)`);
  const run = await runIntegrationHarness<VscodeSoakRun>(ctx, {
    mode: 'soak',
    name: 'vscode-soak',
    what: 'soak in VS Code',
    timeoutMs: soakHarnessTimeoutMs(durationMs) + 60_000,
    env: { [SOAK_DURATION_ENV]: String(durationMs) },
  });
  const heapBounded = run.memory.heapAtEndBytes <= run.memory.heapAtFifthBytes + HEAP_GROWTH_ALLOWANCE_BYTES;
  ctx.log(
    `soak in VS Code: fired ${run.firedByTracee}, delivered ${run.delivered}, lost ${run.lost}; peak RSS ${mb(run.memory.peakRssBytes)} MB, ` +
      `heap ${mb(run.memory.heapAtFifthBytes)} → ${mb(run.memory.heapAtEndBytes)} MB; render report max ${run.renderReport.maxMs.toFixed(0)} ms`,
  );
  return { run, heapBounded };
}

/** The checks that make the bench fail (the harness itself already failed on an inexact account). */
export function vscodeSoakFailures(results: VscodeSoakBenchResults): string[] {
  const r = results.run;
  const failures: string[] = [];
  if (!r.accountedExactly) failures.push(`soak in VS Code: delivered ${r.delivered} + lost ${r.lost} ≠ fired ${r.firedByTracee} (kernel ${r.firedInKernel})`);
  if (!results.heapBounded) {
    failures.push(`soak in VS Code: the extension host's heap grew from ${mb(r.memory.heapAtFifthBytes)} to ${mb(r.memory.heapAtEndBytes)} MB after the first fifth`);
  }
  return failures;
}

function mb(bytes: number): string {
  return (bytes / 2 ** 20).toFixed(1);
}

export function vscodeSoakTableRows(results: VscodeSoakBenchResults): TableRow[] {
  const r = results.run;
  const section = `soak in VS Code ${r.vscodeVersion}, the extension host (${(r.durationMs / 1000).toFixed(0)} s at the tracee's top rate, P2P panel open, once)`;
  const one = (value: number, unit: string): ReturnType<typeof figure> => figure([value], unit);
  const fired = Math.max(1, r.firedByTracee);
  const en = (n: number): string => n.toLocaleString('en-US');
  const panelExact = r.panel.messages === r.delivered && r.panel.lost === r.lost;
  return [
    { section, name: 'VS Code soak: fired (tracee)', figure: one(r.firedByTracee, 'events'), note: `kernel @fired ${en(r.firedInKernel)}, in ${(r.firingMs / 1000).toFixed(0)} s` },
    { section, name: 'VS Code soak: delivered (event hub)', figure: one(r.delivered, 'events'), note: `${((100 * r.delivered) / fired).toFixed(1)} %` },
    { section, name: 'VS Code soak: lost (counted)', figure: one(r.lost, 'events'), note: r.accountedExactly ? 'delivered + lost = fired: exact' : 'NOT exact' },
    {
      section, name: 'VS Code soak: P2P panel messages', figure: one(r.panel.messages, 'events'),
      note: `${panelExact ? '= delivered, lost equal' : 'NOT equal to delivered/lost'}; page shows "${r.panel.lostText}"; status bar ${en(r.status.delivered)} / lost ${en(r.status.lost)}`,
    },
    { section, name: 'VS Code soak: extension host peak RSS', figure: one(r.memory.peakRssBytes / 2 ** 20, 'MB'), note: `${mb(r.memory.rssAtEndBytes)} MB at the end` },
    { section, name: 'VS Code soak: extension host peak heap used', figure: one(r.memory.peakHeapUsedBytes / 2 ** 20, 'MB') },
    {
      section, name: 'VS Code soak: heap used, 1/5 of the run → end', figure: one(r.memory.heapAtEndBytes / 2 ** 20, 'MB'),
      note: `from ${mb(r.memory.heapAtFifthBytes)} MB: ${results.heapBounded ? 'bounded' : 'NOT bounded'}`,
    },
    {
      section, name: 'VS Code soak: P2P render report round trip, median', figure: one(r.renderReport.medianMs, 'ms'),
      note: `p99 ${r.renderReport.p99Ms.toFixed(0)} ms, max ${r.renderReport.maxMs.toFixed(0)} ms; ${r.renderReport.answered} of ${r.renderReport.requests} answered`,
    },
    { section, name: 'VS Code soak: event-loop delay p99', figure: one(r.eventLoopDelay.p99Ms, 'ms'), note: `max ${r.eventLoopDelay.maxMs.toFixed(0)} ms, mean ${r.eventLoopDelay.meanMs.toFixed(1)} ms` },
    {
      section, name: 'VS Code soak: recording written', figure: one(r.recording.bytes / 2 ** 20, 'MB'),
      note: `${en(r.recording.messages)} messages recorded, ${en(r.recording.leftOut)} left out (disk behind, counted)`,
    },
  ];
}

// Measurement `panels`, inside the real VS Code: runs the integration harness in bench mode
// (`node dist/test/runIntegration.js --mode bench`: code-server's VS Code 1.100 and headless Chromium, a fresh
// window each run) ctx.runs times. test/integration/panelBench.test.ts measures there, in each panel's webview:
// the first animation frame that drew a recording's data after Open recording…, and the P2P panel's update
// cost during a live p2p-traffic session with 1,000 peers and 100,000 messages; it writes the figures as JSON.

import { spawn } from 'node:child_process';
import { existsSync, promises as fs } from 'node:fs';
import { join } from 'node:path';
import type { UpdateTiming } from '../../src/shared/panelTiming';
import type { BenchContext } from './benchContext';
import { BenchFailure, waitForExit } from './benchProcesses';
import { figure, formatNumber, type Figure, type TableRow } from './benchStats';
import { FRAME_BUDGET_MS } from './panelBench';

/** One panel opened from a recording with every editor closed. Times are in ms from the command's start. */
export interface FirstPaintMeasurement {
  panel: string;
  /** Relative to the repository when inside it. */
  recording: string;
  events: number;
  /** Host Date.now() before `bitcoinUsdt.openRecording` → webview Date.now() at the first frame that drew data. */
  firstPaintMs: number;
  /** The command → the webview document's time origin (its navigation start): the replay starting, VS Code creating the webview. */
  commandToWebviewMs: number;
  /** The webview's time origin → that frame: the part in the webview. */
  firstPaintInWebviewMs: number;
  /** The webview's time origin → its document's request (fetchStart): VS Code's webview service worker starting. */
  documentRequestInWebviewMs: number;
  /** The webview's time origin → the panel's script starting (the document and the bundle loaded through VS Code). */
  scriptStartInWebviewMs: number;
  /** The command → the latest frame that drew data, once the whole recording is shown. */
  wholeRecordingMs: number;
  /** executeCommand itself (reading and replaying the recording). */
  commandMs: number;
}

export interface P2pUpdateMeasurement {
  peers: number;
  /** Rows in the selected peer's message list. */
  selectedPeerMessages: number;
  /** Messages the session had delivered when the timing started and when it ended. */
  messagesAtStart: number;
  messagesAtEnd: number;
  lostEvents: number;
  /** The tracee's messages per second. */
  rate: number;
  windowMs: number;
  updates: readonly UpdateTiming[];
}

/** What panelBench.test.ts writes for one run of the harness. */
export interface VscodePanelRun {
  vscodeVersion: string;
  firstPaint: FirstPaintMeasurement[];
  p2pUpdates: P2pUpdateMeasurement;
}

export interface VscodePanelResults {
  runs: VscodePanelRun[];
  /** Per panel: the figures over the runs. */
  firstPaint: {
    panel: string;
    recording: string;
    events: number;
    endToEndMs: Figure;
    commandToWebviewMs: Figure;
    inWebviewMs: Figure;
    serviceWorkerMs: Figure;
    /** The panel's own part: its script starting → the first frame with data (the host's snapshot included). */
    scriptToFrameMs: Figure;
    wholeRecordingMs: Figure;
    commandMs: Figure;
  }[];
  update: { updatesPerRun: Figure; messagesAtStart: Figure; messagesAtEnd: Figure; medianMs: Figure; slowestMs: Figure; handlerMedianMs: Figure; frameMedianMs: Figure };
  targetMet: boolean;
}

const HARNESS_TIMEOUT_MS = 15 * 60_000;

/** Throws unless `node scripts/build.mjs` has built the harness and the given compiled test file (under dist/test/integration). */
export function requireBuiltHarness(ctx: BenchContext, testFile: string): void {
  for (const file of ['runIntegration.js', join('integration', testFile)]) {
    if (!existsSync(join(ctx.repoRoot, 'dist', 'test', file))) throw new BenchFailure(`dist/test/${file} is missing: run node scripts/build.mjs`);
  }
}

/**
 * Runs the integration harness once in `mode` (a fresh VS Code window) and returns the JSON its suite wrote to
 * BITCOIN_USDT_BENCH_OUT. The harness's output is kept as bench-results/<stamp>-<name>.log.
 */
export async function runIntegrationHarness<T>(
  ctx: BenchContext,
  options: { readonly mode: 'bench' | 'soak'; readonly name: string; readonly what: string; readonly timeoutMs: number; readonly env?: NodeJS.ProcessEnv },
): Promise<T> {
  const out = join(ctx.workDir, `${options.name}.json`);
  const logPath = join(ctx.resultsDir, `${ctx.stamp}-${options.name}.log`);
  const child = spawn(process.execPath, [join(ctx.repoRoot, 'dist', 'test', 'runIntegration.js'), '--mode', options.mode], {
    cwd: ctx.repoRoot,
    env: { ...process.env, ...options.env, BITCOIN_USDT_BENCH_OUT: out },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.setEncoding('utf8').on('data', (t: string) => (output += t));
  child.stderr.setEncoding('utf8').on('data', (t: string) => (output += t));
  // SIGTERM: the harness then stops the VS Code server it started.
  const timer = setTimeout(() => child.kill('SIGTERM'), options.timeoutMs);
  const { code } = await waitForExit(child).finally(() => clearTimeout(timer));
  await fs.writeFile(logPath, output);
  if (code !== 0 || !existsSync(out)) {
    throw new BenchFailure(`${options.what}: the harness failed (exit code ${code}), output in ${logPath}:\n${output.split('\n').slice(-30).join('\n')}`);
  }
  return JSON.parse(await fs.readFile(out, 'utf8')) as T;
}

function runHarnessOnce(ctx: BenchContext, round: number): Promise<VscodePanelRun> {
  return runIntegrationHarness<VscodePanelRun>(ctx, { mode: 'bench', name: `vscode-panels-${round}`, what: 'panels in VS Code', timeoutMs: HARNESS_TIMEOUT_MS });
}

const median = (values: number[]): number => figure(values, '').median;

/** null: not root (the P2P update measurement attaches a real probe), nothing measured. */
export async function runVscodePanelBench(ctx: BenchContext): Promise<VscodePanelResults | null> {
  if (process.geteuid?.() !== 0) {
    ctx.log('panels in VS Code: skipped, the P2P update measurement attaches a real probe (run as root)');
    return null;
  }
  requireBuiltHarness(ctx, 'panelBench.test.js');
  const runs: VscodePanelRun[] = [];
  for (let round = 1; round <= ctx.runs; round++) {
    ctx.log(`panels in VS Code: round ${round}/${ctx.runs} (a fresh VS Code window)`);
    const run = await runHarnessOnce(ctx, round);
    const totals = run.p2pUpdates.updates.map((u) => u.handlerMs + u.frameMs);
    ctx.log(
      `panels in VS Code: round ${round}, first paint ${run.firstPaint.map((p) => `${p.panel} ${p.firstPaintMs} ms`).join(', ')}; ` +
        `P2P update median ${median(totals).toFixed(1)} ms, max ${Math.max(...totals).toFixed(1)} ms (${totals.length} updates)`,
    );
    runs.push(run);
  }
  const firstPaint = runs[0].firstPaint.map(({ panel, recording, events }) => {
    const of = (pick: (m: FirstPaintMeasurement) => number): Figure =>
      figure(runs.map((r) => r.firstPaint.find((m) => m.panel === panel)).map((m) => (m ? pick(m) : NaN)), 'ms');
    return {
      panel,
      recording,
      events,
      endToEndMs: of((m) => m.firstPaintMs),
      commandToWebviewMs: of((m) => m.commandToWebviewMs),
      inWebviewMs: of((m) => m.firstPaintInWebviewMs),
      serviceWorkerMs: of((m) => m.documentRequestInWebviewMs),
      scriptToFrameMs: of((m) => m.firstPaintInWebviewMs - m.scriptStartInWebviewMs),
      wholeRecordingMs: of((m) => m.wholeRecordingMs),
      commandMs: of((m) => m.commandMs),
    };
  });
  const updates = runs.map((r) => r.p2pUpdates);
  const update = {
    updatesPerRun: figure(updates.map((u) => u.updates.length), ''),
    messagesAtStart: figure(updates.map((u) => u.messagesAtStart), 'events'),
    messagesAtEnd: figure(updates.map((u) => u.messagesAtEnd), 'events'),
    medianMs: figure(updates.map((u) => median(u.updates.map((t) => t.handlerMs + t.frameMs))), 'ms'),
    slowestMs: figure(updates.map((u) => Math.max(...u.updates.map((t) => t.handlerMs + t.frameMs))), 'ms'),
    handlerMedianMs: figure(updates.map((u) => median(u.updates.map((t) => t.handlerMs))), 'ms'),
    frameMedianMs: figure(updates.map((u) => median(u.updates.map((t) => t.frameMs))), 'ms'),
  };
  return { runs, firstPaint, update, targetMet: update.medianMs.median < FRAME_BUDGET_MS };
}

export function vscodePanelTableRows(results: VscodePanelResults): TableRow[] {
  const version = results.runs[0]?.vscodeVersion ?? '?';
  const paintSection = `4. Panels in VS Code ${version} (code-server, headless Chromium): Open recording… → first frame with data`;
  const ms = (f: Figure): string => `${formatNumber(f.median, 'ms')} ms (${formatNumber(f.min, 'ms')}–${formatNumber(f.max, 'ms')})`;
  const rows: TableRow[] = results.firstPaint.map((p) => ({
    section: paintSection,
    name: `first paint in VS Code, ${p.panel}`,
    figure: p.endToEndMs,
    note:
      `in the webview ${ms(p.inWebviewMs)}, of which service worker ${ms(p.serviceWorkerMs)} and panel script → frame ` +
      `${ms(p.scriptToFrameMs)}; whole recording ${ms(p.wholeRecordingMs)}`,
  }));
  const u = results.update;
  const updateSection = `4. P2P panel updates in VS Code: live p2p-traffic, 1,000 peers, ${u.messagesAtStart.median.toLocaleString('en-US')}–${u.messagesAtEnd.median.toLocaleString('en-US')} messages`;
  const name = 'P2P update in VS Code, 1,000 peers / 100,000 messages';
  rows.push(
    {
      section: updateSection, name: `${name}: median`, figure: u.medianMs,
      note: `target < ${FRAME_BUDGET_MS} ms: ${results.targetMet ? 'met' : 'NOT met'}; handler ${ms(u.handlerMedianMs)}, frame ${ms(u.frameMedianMs)}`,
    },
    { section: updateSection, name: `${name}: slowest of the run`, figure: u.slowestMs, note: `${u.updatesPerRun.median} updates timed per run` },
  );
  return rows;
}

// Helpers shared by integration test files (compiled into each test bundle that imports them).
import { strict as assert } from 'node:assert';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join, resolve } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import * as vscode from 'vscode';
import type { NormalizedEvent } from '../../src/core/events/eventTypes';
import type { LauncherApi } from '../../src/extension/launch/launcherApi';
import type { ExtensionApi } from '../../src/extension/testApi';
import type { BenchmarkRenderReport } from '../../src/shared/benchmarkProtocol';
import type { ChartReport } from '../../src/shared/chartAxis';
import type { P2pRenderReport } from '../../src/shared/p2pProtocol';
import type { RawRenderReport } from '../../src/shared/rawMessagesProtocol';
import type { ToolPanelTool, ToolRenderReport } from '../../src/shared/toolPanelProtocol';
import { screenshot } from './screenshot';

export const repoRoot = process.env.BITCOIN_USDT_REPO ?? resolve(__dirname, '..', '..', '..');

const manifest = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as { name: string; publisher: string };
/** The extension under test: `publisher.name` of the repository's package.json. */
export const extensionId = `${manifest.publisher}.${manifest.name}`;

/** Activates the extension under test (once) and returns its test API. */
export async function extensionApi(): Promise<ExtensionApi> {
  const extension = vscode.extensions.getExtension<ExtensionApi>(extensionId);
  assert.ok(extension, `extension ${extensionId} is not loaded`);
  return extension.activate();
}

/** Activates the extension under test (once) and returns the named parts of its test API; fails when one is missing. */
export async function extensionApis<K extends keyof ExtensionApi>(...names: K[]): Promise<Required<Pick<ExtensionApi, K>>> {
  const api = await extensionApi();
  for (const name of names) assert.ok(api[name], `activate() returned no ${name} API`);
  return api as Required<Pick<ExtensionApi, K>>;
}

/** An environment variable the runner (test/runIntegration.ts) sets for the extension host. */
export function requiredEnv(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set: run the integration tests with npm run test:integration`);
  return value;
}

/** The test workspace's build/bin/bitcoind: the runner copies the v29 tracee there. */
export function workspaceBitcoind(): string {
  const binary = join(requiredEnv('BITCOIN_USDT_TEST_WORKSPACE'), 'build', 'bin', 'bitcoind');
  assert.ok(existsSync(binary), `${binary} is missing (the runner copies the v29 tracee there)`);
  return binary;
}

/** Calls `probe` every 100 ms until it returns a value (`undefined` and `false` mean "not yet"); throws after `timeoutMs`. */
/**
 * Accepts the open quick pick or input box (its default) until the launch resolves. An accept while the next
 * prompt is still opening does nothing, so it keeps accepting rather than counting prompts.
 */
export async function acceptPromptsUntilSettled(pending: Thenable<unknown>): Promise<void> {
  let settled = false;
  pending.then(() => (settled = true), () => (settled = true));
  for (const deadline = Date.now() + 30_000; !settled && Date.now() < deadline; ) {
    await vscode.commands.executeCommand('workbench.action.acceptSelectedQuickOpenItem');
    await new Promise((resolve) => setTimeout(resolve, 700));
  }
}

/**
 * The terminals VS Code opens from now on, until `dispose()`. A check that nothing opened a terminal compares
 * this, not `window.terminals.length`: a terminal an earlier test disposed can leave that list meanwhile.
 */
export function watchTerminalsOpened(): { readonly names: () => string[]; dispose(): void } {
  const opened: vscode.Terminal[] = [];
  const listener = vscode.window.onDidOpenTerminal((terminal) => opened.push(terminal));
  return { names: () => opened.map((t) => t.name), dispose: () => listener.dispose() };
}

export async function waitFor<T>(what: string, timeoutMs: number, probe: () => T | undefined | false | Promise<T | undefined | false>): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** The "Trace this functional test" CodeLenses VS Code shows on a document. */
export async function functionalTestLenses(uri: vscode.Uri): Promise<vscode.CodeLens[]> {
  const all = await vscode.commands.executeCommand<vscode.CodeLens[]>('vscode.executeCodeLensProvider', uri);
  return all.filter((lens) => lens.command?.command === 'bitcoinUsdt.traceFunctionalTest');
}

/** Opens a functional test in an editor and waits for its "Trace this functional test" CodeLens(es). */
export async function openFunctionalTest(testPath: string): Promise<{ document: vscode.TextDocument; lenses: vscode.CodeLens[] }> {
  const document = await vscode.workspace.openTextDocument(testPath);
  await vscode.window.showTextDocument(document, { preview: false });
  const lenses = await waitFor('the CodeLens of the test class', 30_000, async () => {
    const ours = await functionalTestLenses(document.uri);
    return ours.length > 0 && ours;
  });
  return { document, lenses };
}

/** A started program that printed `ready pid=N`: the test tracee, or a USDT program a test built. */
export interface StartedTracee {
  readonly pid: number;
  readonly child: ChildProcess;
  /** What it printed on stdout so far. */
  stdout(): string;
  /** It has not exited yet. */
  running(): boolean;
  /** SIGCONT (it may be stopped) and SIGKILL; resolves once it exited. */
  kill(): Promise<void>;
}

/** Starts the test tracee (a bitcoind with every tracepoint) with `args`; resolves once it printed `ready pid=`. */
export async function startTracee(binary: string, args: readonly string[]): Promise<StartedTracee> {
  const child = spawn(binary, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const printed = (): string => `${stdout}${stderr === '' ? '' : ` (stderr: ${stderr.trim()})`}`;
  const pid = await new Promise<number>((resolvePid, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`the tracee ${binary} did not print "ready" within 10 s: ${printed()}`));
    }, 10_000);
    const onExit = (code: number | null, signal: NodeJS.Signals | null): void => {
      clearTimeout(timer);
      reject(new Error(`the tracee ${binary} exited with ${code ?? signal} before it was ready: ${printed()}`));
    };
    const onData = (): void => {
      const match = /ready pid=(\d+)/.exec(stdout);
      if (!match) return;
      clearTimeout(timer);
      child.stdout?.off('data', onData);
      child.off('exit', onExit);
      resolvePid(Number(match[1]));
    };
    child.stdout?.on('data', onData);
    child.once('exit', onExit);
    child.on('error', (error) => {
      clearTimeout(timer);
      reject(new Error(`cannot start the tracee ${binary}: ${error.message}`));
    });
  });
  const running = (): boolean => child.exitCode === null && child.signalCode === null;
  return {
    pid,
    child,
    stdout: () => stdout,
    running,
    kill: async () => {
      if (!running()) return;
      const exited = new Promise((resolveExit) => child.once('exit', resolveExit));
      child.kill('SIGCONT');
      child.kill('SIGKILL');
      await exited;
    },
  };
}

/** One event of the tracee's --expect file. */
export type TraceeEvent = Record<string, unknown> & { event: string };

/** What the tracee fired: the counts of its --summary file and the events of its --expect file, in firing order. */
export interface TraceeOutcome {
  readonly fired: Record<string, number>;
  readonly expect: TraceeEvent[];
}

/** A tracee that writes --expect and --summary files, in a temporary directory of its own (`kill` removes it). */
export interface TraceeWithFiles extends StartedTracee {
  /** Reads the files: the tracee writes them once its scenario is done. */
  outcome(): Promise<TraceeOutcome>;
}

/** Starts the tracee as startTracee does, with `--expect` and `--summary` files added to `args`. */
export async function startTraceeWithFiles(binary: string, args: readonly string[]): Promise<TraceeWithFiles> {
  const directory = await mkdtemp(join(tmpdir(), 'bitcoin-usdt-tracee-'));
  const expectFile = join(directory, 'expect.ndjson');
  const summaryFile = join(directory, 'summary.json');
  const tracee = await startTracee(binary, [...args, '--expect', expectFile, '--summary', summaryFile]).catch(async (error: unknown) => {
    await rm(directory, { recursive: true, force: true });
    throw error;
  });
  return {
    ...tracee,
    outcome: async () => {
      const summary = JSON.parse(await readFile(summaryFile, 'utf8')) as { fired: Record<string, number> };
      const lines = (await readFile(expectFile, 'utf8')).split('\n').filter((line) => line !== '');
      return { fired: summary.fired, expect: lines.map((line) => JSON.parse(line) as TraceeEvent) };
    },
    kill: async () => {
      await tracee.kill();
      await rm(directory, { recursive: true, force: true });
    },
  };
}

/**
 * Asks for a render report (`ask` gets the time left) every 200 ms until `accept` holds; a request that fails counts
 * as "not yet". Fails after `timeoutMs` with the last report (and the last failure).
 */
export async function waitForReport<R>(what: string, ask: (timeoutMs: number) => Promise<R>, accept: (report: R) => boolean, timeoutMs = 20_000): Promise<R> {
  const deadline = Date.now() + timeoutMs;
  let last: R | undefined;
  let failure: string | undefined;
  while (Date.now() < deadline) {
    let report: R;
    try {
      report = await ask(Math.max(1_000, deadline - Date.now()));
    } catch (error) {
      failure = error instanceof Error ? error.message : String(error);
      await delay(200);
      continue;
    }
    last = report;
    failure = undefined;
    if (accept(report)) return report;
    await delay(200);
  }
  const failed = failure === undefined ? '' : `; the last request failed: ${failure}`;
  assert.fail(`${what} did not render what was expected within ${timeoutMs} ms; last report: ${JSON.stringify(last, null, 1)}${failed}`);
}

/** The P2P traffic panel's render report, once `accept` holds. */
export async function p2pPanelReport(accept: (report: P2pRenderReport) => boolean, timeoutMs?: number): Promise<P2pRenderReport> {
  const { p2pPanel } = await extensionApis('p2pPanel');
  return waitForReport('the P2P panel', (t) => p2pPanel.renderReport(t), accept, timeoutMs);
}

/** The render report of `tool`'s panel, once `accept` holds. */
export async function toolPanelReport(tool: ToolPanelTool, accept: (report: ToolRenderReport) => boolean, timeoutMs?: number): Promise<ToolRenderReport> {
  const { toolPanels } = await extensionApis('toolPanels');
  return waitForReport(`the ${tool} panel`, (t) => toolPanels.renderReport(tool, t), accept, timeoutMs);
}

/** The Raw P2P messages panel's render report, once `accept` holds. */
export async function rawPanelReport(accept: (report: RawRenderReport) => boolean, timeoutMs?: number): Promise<RawRenderReport> {
  const { rawMessagesPanel } = await extensionApis('rawMessagesPanel');
  return waitForReport('the raw messages panel', (t) => rawMessagesPanel.renderReport(t), accept, timeoutMs);
}

/** The ConnectBlock benchmark panel's render report, once `accept` holds. */
export async function benchmarkPanelReport(accept: (report: BenchmarkRenderReport) => boolean, timeoutMs?: number): Promise<BenchmarkRenderReport> {
  const { benchmarkPanel } = await extensionApis('benchmarkPanel');
  return waitForReport('the benchmark panel', (t) => benchmarkPanel.renderReport(t), accept, timeoutMs);
}

/**
 * Charts that read without a hover: each legend shows the newest values (no "—" while the chart has data) and
 * no two y-axis labels are alike (a low-rate chart once read "1, 1, 0").
 */
export function assertChartsReadable(charts: readonly ChartReport[]): void {
  assert.ok(charts.length > 0, 'the report lists no chart');
  for (const chart of charts) {
    assert.ok(chart.legend !== '' && !chart.legend.includes('—'), `${chart.title}: the legend shows no values without a hover: ${chart.legend}`);
    // A chart whose data are all zero so far (drawn before the first events) has the one label 0.
    assert.ok(chart.yLabels.length >= 1, `${chart.title}: y axis labels ${JSON.stringify(chart.yLabels)}`);
    assert.equal(new Set(chart.yLabels).size, chart.yLabels.length, `${chart.title}: repeated y axis labels ${JSON.stringify(chart.yLabels)}`);
  }
}

/** The index of column `title` in a tool panel's report. */
export function column(report: ToolRenderReport, title: string): number {
  const index = report.columns.indexOf(title);
  assert.ok(index >= 0, `no column ${title} in ${report.columns.join(', ')}`);
  return index;
}

/** Closes every tab of the webview panel `viewType` (e.g. `bitcoinUsdt.p2pPanel`). */
export async function closePanelTabs(viewType: string): Promise<void> {
  for (const group of vscode.window.tabGroups.all) {
    for (const tab of group.tabs) {
      if (tab.input instanceof vscode.TabInputWebview && tab.input.viewType.endsWith(viewType)) await vscode.window.tabGroups.close(tab);
    }
  }
}

/** One editor group, no side bar, no bottom panel, no notifications, then `show`: a screenshot shows the panel whole. */
export async function focusPanelForScreenshots(show: () => Thenable<unknown> | void): Promise<void> {
  await vscode.commands.executeCommand('workbench.action.joinAllGroups');
  await vscode.commands.executeCommand('workbench.action.closeSidebar');
  await vscode.commands.executeCommand('workbench.action.closePanel');
  await vscode.commands.executeCommand('notifications.clearAll');
  await show();
  await delay(300);
}

/** Focuses a panel as focusPanelForScreenshots does and saves screenshot `name` once `rendered` says the (re-created) webview shows data again. */
export async function screenshotPanel(name: string, show: () => Thenable<unknown> | void, rendered: () => Promise<unknown>): Promise<void> {
  await focusPanelForScreenshots(show);
  await rendered();
  await delay(800);
  await screenshot(name);
}

/**
 * The mocha hooks of a suite that attaches real probes: it runs as root (as on CI) and starts with no editor open;
 * at the end it gives the side bar back to the suites that follow. `suite` names it in the root check's message.
 */
export function liveProbeSuiteHooks(suite: string): void {
  before(async () => {
    assert.equal(process.getuid?.(), 0, `${suite} attach real probes and run as root (as on CI)`);
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
  });
  after(async () => {
    await vscode.commands.executeCommand('workbench.view.explorer');
  });
}

/** Resolves with the reason once the session ends. */
export function sessionEnd(launcher: LauncherApi, sessionId: string): Promise<string> {
  return new Promise((resolveEnd) => {
    const subscription = launcher.onDidEndSession(({ session, reason }) => {
      if (session.id !== sessionId) return;
      subscription.dispose();
      resolveEnd(reason);
    });
  });
}

/** Collects the events one session publishes into the hub. */
export function collectEvents(launcher: LauncherApi, sessionId: string): { events: NormalizedEvent[]; dispose(): void } {
  const events: NormalizedEvent[] = [];
  const subscription = launcher.onDidReceiveEvents((received) => {
    if (received.session.id === sessionId) events.push(...received.events);
  });
  return { events, dispose: () => subscription.dispose() };
}

/** Which processes probe a binary, and what a failure calls them. */
export interface ProbePrograms {
  readonly what: string;
  matches(args: readonly string[]): boolean;
}

/**
 * The root helper (`python3 -I -S …/bitcoin-usdt-helper.py`; the terminal's /bin/sh, which lists it as arguments, is
 * not) and bpftrace.
 */
export const HELPER_AND_BPFTRACE: ProbePrograms = {
  what: 'helper/bpftrace',
  matches: (args) => {
    const program = basename(args[0] ?? '');
    return (program.startsWith('python') && args.some((a) => a.endsWith('bitcoin-usdt-helper.py'))) || program === 'bpftrace';
  },
};

/** The processes of `programs` probing `binary` (a path unique to this run's workspace, so other runs' probes do not count). */
export async function probeProcessesOf(binary: string, programs: ProbePrograms = HELPER_AND_BPFTRACE): Promise<string[]> {
  const found: string[] = [];
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const raw = await readFile(`/proc/${entry}/cmdline`).catch(() => Buffer.alloc(0));
    const args = raw.toString('utf8').split('\0').filter((a) => a.length > 0);
    if (args.includes(binary) && programs.matches(args)) found.push(`${entry}: ${args.join(' ')}`);
  }
  return found;
}

/** Fails when processes of `programs` still probe `binary` after `timeoutMs`. */
export async function assertNoProbeProcessesWithin(binary: string, timeoutMs: number, programs: ProbePrograms = HELPER_AND_BPFTRACE): Promise<void> {
  let remaining: string[] = [];
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    remaining = await probeProcessesOf(binary, programs);
    if (remaining.length === 0) return;
    await delay(200);
  }
  assert.fail(`${programs.what} still running ${timeoutMs} ms after the session ended:\n${remaining.join('\n')}`);
}

/**
 * Stop probe for a running session: it ends as stopped from VS Code, no process of `programs` is left probing `binary`,
 * and the status bar item is hidden.
 */
export async function stopProbeAndCheck(launcher: LauncherApi, sessionId: string, binary: string, programs: ProbePrograms = HELPER_AND_BPFTRACE): Promise<void> {
  const ended = sessionEnd(launcher, sessionId);
  await vscode.commands.executeCommand('bitcoinUsdt.stopProbe');
  assert.equal(await ended, 'stopped from VS Code');
  await assertNoProbeProcessesWithin(binary, 8_000, programs);
  assert.equal(launcher.statusBarText(), '', 'the status bar item is hidden once no probe runs');
}

/** The path of a session's automatic recording, once the recording is listed. */
export async function sessionRecording(sessionId: string): Promise<string> {
  const { p2pPanel } = await extensionApis('p2pPanel');
  return waitFor('the session recording', 10_000, () => p2pPanel.recordings().find((r) => r.sessionId === sessionId)?.path);
}

/**
 * A screenshot of the source around `line` in a wide window without the side bar and the terminal; with
 * `hoverColumn` (1-based), the hover at that column of the line is open.
 */
export async function screenshotOfSource(document: vscode.TextDocument, line: number, name: string, hoverColumn?: number): Promise<void> {
  await vscode.commands.executeCommand('workbench.action.closeSidebar');
  await vscode.commands.executeCommand('workbench.action.closePanel');
  const editor = await vscode.window.showTextDocument(document, { viewColumn: vscode.ViewColumn.One, preview: false });
  const position = new vscode.Position(line - 1, (hoverColumn ?? 1) - 1);
  editor.selection = new vscode.Selection(position, position);
  editor.revealRange(new vscode.Range(Math.max(0, line - 8), 0, line + 12, 0), vscode.TextEditorRevealType.AtTop);
  if (hoverColumn !== undefined) {
    await new Promise((resolveWait) => setTimeout(resolveWait, 300));
    await vscode.commands.executeCommand('editor.action.showHover');
    await new Promise((resolveWait) => setTimeout(resolveWait, 1_000));
  }
  await screenshot(name, 20_000, { width: 1900, height: 1000 });
  await vscode.commands.executeCommand('workbench.view.explorer');
}

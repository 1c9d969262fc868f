// The BCC tools live in the real VS Code: the workspace's bitcoind (the v29 tracee) waits for SIGUSR1,
// `bitcoinUsdt.startProbe` runs the real helper and BCC program against its PID, the tracee fires once the
// session reports it is attached (BCC raises the semaphores before its uprobes are attached, so --wait-attach
// would fire too early), the panels show what fired, and Stop leaves no helper or BCC program behind.

import { strict as assert } from 'node:assert';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as vscode from 'vscode';
import { loadRecording } from '../../src/core/events/recording';
import type { RawRenderReport } from '../../src/shared/rawMessagesProtocol';
import type { ToolRenderReport } from '../../src/shared/toolPanelProtocol';
import type { ExtensionApi } from '../../src/extension/testApi';
import type { LauncherApi } from '../../src/extension/launch/launcherApi';
import type { RawMessagesPanelTestApi } from '../../src/extension/rawMessagesPanel/rawMessagesPanelController';
import type { ToolPanelsTestApi } from '../../src/extension/toolPanels/registerToolPanels';
import { screenshot } from './screenshot';

const manifest = JSON.parse(readFileSync(join(__dirname, '..', '..', '..', 'package.json'), 'utf8')) as { name: string; publisher: string };
const en = (n: number): string => n.toLocaleString('en-US');
const oneDecimal = new Intl.NumberFormat('en-US', { maximumFractionDigits: 1 });
const PROBE_PROGRAMS = ['bitcoin-usdt-helper.py', 'raw-p2p-msgs.py', 'mempool-monitor.py'];
const EMPTY_RAW_FILTER = { msgType: '', peerId: '', direction: '', text: '' } as const;

interface Apis {
  launcher: LauncherApi;
  toolPanels: ToolPanelsTestApi;
  rawMessagesPanel: RawMessagesPanelTestApi;
  recordings: () => readonly { sessionId: string; path: string }[];
}

async function extensionApis(): Promise<Apis> {
  const extension = vscode.extensions.getExtension<ExtensionApi>(`${manifest.publisher}.${manifest.name}`);
  assert.ok(extension, 'extension not installed');
  const { launcher, toolPanels, rawMessagesPanel, p2pPanel } = await extension.activate();
  assert.ok(launcher && toolPanels && rawMessagesPanel && p2pPanel, 'activate() lacks an API');
  return { launcher, toolPanels, rawMessagesPanel, recordings: () => p2pPanel.recordings() };
}

function workspaceBitcoind(): string {
  const workspace = process.env.BITCOIN_USDT_TEST_WORKSPACE;
  if (!workspace) throw new Error('BITCOIN_USDT_TEST_WORKSPACE is not set: run the integration tests with npm run test:integration');
  const binary = join(workspace, 'build', 'bin', 'bitcoind');
  assert.ok(existsSync(binary), `${binary} is missing (the runner copies the v29 tracee there)`);
  return binary;
}

type Expected = Record<string, unknown> & { event: string };

interface TraceeOutcome {
  fired: Record<string, number>;
  expect: Expected[];
}

/** The v29 tracee: waits for SIGUSR1, fires one scenario, writes its files, then lingers (the probe keeps its target). */
class Tracee {
  private stdout = '';

  private constructor(
    private readonly child: ChildProcess,
    readonly pid: number,
    private readonly directory: string,
  ) {
    child.stdout?.on('data', (chunk: Buffer) => (this.stdout += chunk.toString()));
  }

  static async start(binary: string, args: readonly string[]): Promise<Tracee> {
    const directory = await mkdtemp(join(tmpdir(), 'live-bcc-'));
    const child = spawn(binary, [...args, '--wait-signal', '--linger-ms', '600000', '--expect', join(directory, 'expect.ndjson'), '--summary', join(directory, 'summary.json')], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const pid = await new Promise<number>((resolve, reject) => {
      let output = '';
      const timer = setTimeout(() => reject(new Error(`the tracee did not print "ready" within 10 s: ${output}`)), 10_000);
      child.stdout?.on('data', (chunk: Buffer) => {
        output += chunk.toString();
        const match = /ready pid=(\d+)/.exec(output);
        if (match) {
          clearTimeout(timer);
          resolve(Number(match[1]));
        }
      });
      child.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`the tracee exited with ${code} before it was ready: ${output}`));
      });
    });
    return new Tracee(child, pid, directory);
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  /** SIGUSR1, then waits for `done`: the files are written and the tracee lingers. */
  async fire(timeoutMs: number): Promise<TraceeOutcome> {
    this.child.kill('SIGUSR1');
    await waitFor('the tracee to print "done"', timeoutMs, () => /done fired=\d+/.test(this.stdout));
    const summary = JSON.parse(await readFile(join(this.directory, 'summary.json'), 'utf8')) as { fired: Record<string, number> };
    const expect = (await readFile(join(this.directory, 'expect.ndjson'), 'utf8')).split('\n').filter((l) => l).map((l) => JSON.parse(l) as Expected);
    return { fired: summary.fired, expect };
  }

  async kill(): Promise<void> {
    if (this.running) {
      const exited = new Promise((resolve) => this.child.once('exit', resolve));
      this.child.kill('SIGKILL');
      await exited;
    }
    await rm(this.directory, { recursive: true, force: true });
  }
}

async function waitFor<T>(what: string, timeoutMs: number, probe: () => T | undefined | false | Promise<T | undefined | false>): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 150));
  }
}

/** The helper and BCC programs running against this binary (the path is unique to this run's workspace). */
async function probeProcessesOf(binary: string): Promise<string[]> {
  const found: string[] = [];
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const raw = await readFile(`/proc/${entry}/cmdline`).catch(() => Buffer.alloc(0));
    const args = raw.toString('utf8').split('\0').filter((a) => a.length > 0);
    if (args.includes(binary) && args.some((a) => PROBE_PROGRAMS.some((program) => a.endsWith(program)))) found.push(`${entry}: ${args.join(' ')}`);
  }
  return found;
}

async function assertNoProbeProcessesWithin(binary: string, timeoutMs: number): Promise<void> {
  let remaining: string[] = [];
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    remaining = await probeProcessesOf(binary);
    if (remaining.length === 0) return;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  assert.fail(`helper/BCC program still running ${timeoutMs} ms after Stop:\n${remaining.join('\n')}`);
}

function sessionEnd(launcher: LauncherApi, sessionId: string): Promise<string> {
  return new Promise((resolve) => {
    const subscription = launcher.onDidEndSession(({ session, reason }) => {
      if (session.id !== sessionId) return;
      subscription.dispose();
      resolve(reason);
    });
  });
}

interface LiveBccRun {
  sessionId: string;
  outcome: TraceeOutcome;
  recording: string;
}

/**
 * Starts the tracee (waiting for SIGUSR1) and the tool against its PID, fires once the session reports it
 * attached, lets `live` check the panel while the session runs, stops it (nothing left running) and returns
 * what fired.
 */
async function runLiveBcc(options: { tool: string; traceeArgs: string[]; live: (sessionId: string, outcome: TraceeOutcome) => Promise<void> }): Promise<LiveBccRun> {
  const { launcher, recordings } = await extensionApis();
  const binary = workspaceBitcoind();
  const tracee = await Tracee.start(binary, options.traceeArgs);
  const attachedSessions = new Set<string>();
  const subscription = launcher.onDidReceiveEvents(({ session, events }) => {
    if (events.some((e) => e.event === 'session:attached')) attachedSessions.add(session.id);
  });
  try {
    const sessionId = await vscode.commands.executeCommand<string | undefined>('bitcoinUsdt.startProbe', { tool: options.tool, binaryPath: binary, pid: tracee.pid });
    assert.ok(sessionId, 'startProbe did not start a session');
    const active = launcher.activeSession();
    assert.equal(active?.descriptor.tool, options.tool);
    assert.equal(active?.descriptor.pid, tracee.pid);
    const command = active?.command ?? [];
    assert.equal(command[command.indexOf('--pid') + 1], String(tracee.pid), `--pid ${tracee.pid} in the root command`);
    // BCC compiles its program first: seconds on this machine.
    await waitFor(`${options.tool} to attach`, 45_000, () => attachedSessions.has(sessionId));
    const outcome = await tracee.fire(30_000);
    await options.live(sessionId, outcome);
    assert.match(launcher.statusBarText(), new RegExp(`^\\$\\(pulse\\) ${options.tool} · .* · lost 0$`));
    const ended = sessionEnd(launcher, sessionId);
    await vscode.commands.executeCommand('bitcoinUsdt.stopProbe');
    assert.equal(await ended, 'stopped from VS Code');
    await assertNoProbeProcessesWithin(binary, 8_000);
    assert.equal(launcher.statusBarText(), '', 'the status bar item is hidden once no probe runs');
    assert.ok(tracee.running, 'stopping the probe must not touch the tracee');
    const recording = await waitFor('the session recording', 10_000, () => recordings().find((r) => r.sessionId === sessionId)?.path);
    return { sessionId, outcome, recording };
  } finally {
    subscription.dispose();
    if (launcher.activeSession()) await vscode.commands.executeCommand('bitcoinUsdt.stopProbe');
    await tracee.kill();
  }
}

/** One editor group, no side bar, no panel: the screenshot shows the panel whole once `rendered` says so. */
async function screenshotPanel(name: string, show: () => Thenable<unknown> | void, rendered: () => Promise<unknown>): Promise<void> {
  await vscode.commands.executeCommand('workbench.action.joinAllGroups');
  await vscode.commands.executeCommand('workbench.action.closeSidebar');
  await vscode.commands.executeCommand('workbench.action.closePanel');
  await vscode.commands.executeCommand('notifications.clearAll');
  await show();
  await rendered();
  await new Promise((resolve) => setTimeout(resolve, 800));
  await screenshot(name);
}

async function rawReport(accept: (report: RawRenderReport) => boolean, timeoutMs = 20_000): Promise<RawRenderReport> {
  const { rawMessagesPanel } = await extensionApis();
  let last: RawRenderReport | undefined;
  try {
    return await waitFor('the Raw P2P messages panel', timeoutMs, async () => {
      last = await rawMessagesPanel.renderReport(5_000).catch(() => undefined);
      return last && accept(last) ? last : undefined;
    });
  } catch (error) {
    assert.fail(`${error instanceof Error ? error.message : String(error)}; last report: ${JSON.stringify(last)}`);
  }
}

async function mempoolReport(accept: (report: ToolRenderReport) => boolean, timeoutMs = 20_000): Promise<ToolRenderReport> {
  const { toolPanels } = await extensionApis();
  let last: ToolRenderReport | undefined;
  try {
    return await waitFor('the mempool panel', timeoutMs, async () => {
      last = await toolPanels.renderReport('mempool-monitor', 5_000).catch(() => undefined);
      return last && accept(last) ? last : undefined;
    });
  } catch (error) {
    assert.fail(`${error instanceof Error ? error.message : String(error)}; last report: ${JSON.stringify(last)}`);
  }
}

/** As the raw panel shows a size. */
function formatBytes(value: number): string {
  if (value < 1024) return `${en(value)} B`;
  if (value < 1024 * 1024) return `${oneDecimal.format(value / 1024)} KiB`;
  return `${oneDecimal.format(value / (1024 * 1024))} MiB`;
}

/** Byte i of every tracee message is (i*31+7) & 0xff (test/tracee/README.md, "Message bytes"). */
function traceeMessageBytes(length: number): Buffer {
  const bytes = Buffer.alloc(length);
  for (let i = 0; i < length; i++) bytes[i] = (i * 31 + 7) & 0xff;
  return bytes;
}

/** A hex row as the panel shows it: offset | 16 bytes (two groups of 8) | ASCII. */
function hexRow(bytes: Buffer, offset: number): string {
  const row = [...bytes.subarray(offset, offset + 16)];
  const hex = row.map((b, i) => (i === 0 ? '' : i === 8 ? '  ' : ' ') + b.toString(16).padStart(2, '0')).join('');
  const ascii = row.map((b) => (b >= 0x20 && b < 0x7f ? String.fromCharCode(b) : '.')).join('');
  return `${offset.toString(16).padStart(8, '0')} | ${hex} | ${ascii}`;
}

function column(report: ToolRenderReport, title: string): number {
  const index = report.columns.indexOf(title);
  assert.ok(index >= 0, `no column ${title} in ${report.columns.join(', ')}`);
  return index;
}

describe('BCC tools live (real helper and BCC against the workspace bitcoind)', function () {
  this.timeout(90_000);

  before(async function () {
    assert.equal(process.getuid?.(), 0, 'the live BCC tool tests attach real probes and run as root (as on CI)');
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
  });

  after(async () => {
    // The raw session also opened the P2P traffic panel (net:* events): leave no page with its state behind.
    for (const group of vscode.window.tabGroups.all) {
      for (const tab of group.tabs) {
        if (tab.input instanceof vscode.TabInputWebview && tab.input.viewType.endsWith('bitcoinUsdt.p2pPanel')) await vscode.window.tabGroups.close(tab);
      }
    }
    await vscode.commands.executeCommand('workbench.view.explorer');
  });

  it('raw-p2p-msgs: every message listed with its exact size, captured whole (35,000 and 1,000,000 bytes too), bytes and decoded view match', async () => {
    const { rawMessagesPanel } = await extensionApis();
    const pattern = traceeMessageBytes(1_000_000);
    let messages: Expected[] = [];
    const run = await runLiveBcc({
      tool: 'raw-p2p-msgs',
      traceeArgs: ['--scenario', 'raw', '--count', '24', '--rate', '50'],
      live: async (sessionId, outcome) => {
        messages = outcome.expect;
        assert.equal(messages.length, 24);
        assert.equal(messages.length, outcome.fired['net:inbound_message'] + outcome.fired['net:outbound_message']);
        assert.equal(rawMessagesPanel.currentSessionId, sessionId);
        await vscode.commands.executeCommand('bitcoinUsdt.showRawMessagesPanel');
        const all = await rawReport((r) => r.sessionId === sessionId && r.matching === messages.length && r.listRowsInDom > 0);
        assert.equal(all.lostText, 'Lost: 0');
        assert.equal(all.cutText, 'Cut messages: 0');
        assert.equal(all.droppedText, 'Dropped (memory bound): 0');
        assert.equal(all.lostAlarm, false);

        // Type by type (the list is virtualized): every message, in firing order, with its size and whole.
        for (const msgType of [...new Set(messages.map((m) => String(m.msg_type)))]) {
          const ofType = messages.map((m, i) => ({ message: m, seq: i + 1 })).filter(({ message }) => message.msg_type === msgType);
          rawMessagesPanel.applyUiState({ filter: { ...EMPTY_RAW_FILTER, msgType }, selectedSeq: null, follow: true });
          const report = await rawReport((r) => r.matching === ofType.length && r.listRowsInDom === ofType.length && r.firstRows.every((row) => row.msgType === msgType));
          const rows = [...report.firstRows].sort((a, b) => a.seq - b.seq);
          assert.deepEqual(rows, ofType.map(({ message, seq }) => ({
            seq,
            direction: message.event === 'net:inbound_message' ? 'in' : 'out',
            peer: `${String(message.peer_id)}${String(message.peer_addr)}`,
            msgType,
            size: formatBytes(Number(message.msg_size)),
            captured: '',
            cut: false,
          })), `the ${msgType} messages`);
        }

        // The 35,000- and 1,000,000-byte messages: every byte held (hex rows = size / 16), the bytes are the tracee's.
        for (const size of [35_000, 1_000_000]) {
          const seq = messages.findIndex((m) => m.msg_size === size) + 1;
          assert.ok(seq > 0, `a ${size}-byte message fired`);
          rawMessagesPanel.applyUiState({ filter: EMPTY_RAW_FILTER, selectedSeq: seq, follow: false });
          const report = await rawReport((r) => r.selectedSeq === seq && r.hexTotalRows === Math.ceil(size / 16) && r.hexRowsInDom > 0 && !r.firstHexRows.some((row) => row.includes('…')));
          assert.ok(report.hexRowsInDom < 100, `${report.hexRowsInDom} hex rows in the DOM`);
          for (const row of report.firstHexRows) assert.equal(row, hexRow(pattern, parseInt(row.slice(0, 8), 16)));
          assert.equal(report.firstHexRows[0], hexRow(pattern, 0));
        }

        // A ping decodes: its nonce is the tracee's first 8 bytes, little-endian.
        const pingSeq = messages.findIndex((m) => m.msg_type === 'ping') + 1;
        rawMessagesPanel.applyUiState({ filter: EMPTY_RAW_FILTER, selectedSeq: pingSeq, follow: false });
        const ping = await rawReport((r) => r.selectedSeq === pingSeq && r.decodedStatus === 'decoded' && r.hexRowsInDom === 1 && !r.firstHexRows[0].includes('…'));
        const nonce = `0x${pattern.readBigUInt64LE(0).toString(16).padStart(16, '0')}`;
        assert.deepEqual(ping.decodedLines, [`nonce = ${nonce}`]);
        assert.equal(ping.firstHexRows[0], hexRow(pattern.subarray(0, 8), 0));
        assert.equal(ping.decodedBanner, '');
        assert.equal(ping.activeElementsInPanel, 0);

        const blockSeq = messages.findIndex((m) => m.msg_size === 1_000_000) + 1;
        await screenshotPanel(
          'live-raw-p2p-msgs',
          () => {
            rawMessagesPanel.applyUiState({ filter: EMPTY_RAW_FILTER, selectedSeq: blockSeq, follow: false });
            return vscode.commands.executeCommand('bitcoinUsdt.showRawMessagesPanel');
          },
          () => rawReport((r) => r.selectedSeq === blockSeq && r.hexRowsInDom > 0 && !r.firstHexRows.some((row) => row.includes('…')) && r.listRowsInDom > 0),
        );
      },
    });

    // What the extension received and recorded: every message whole and byte-exact.
    const recording = await loadRecording(run.recording);
    assert.deepEqual(recording.malformed, []);
    assert.equal(recording.header.tool, 'raw-p2p-msgs');
    const recorded = recording.events.filter((e) => e.event === 'net:inbound_message' || e.event === 'net:outbound_message') as unknown as Array<{ msg_size: number; captured: number; msg: string; msg_type: string }>;
    assert.deepEqual(recorded.map((m) => [m.msg_type, m.msg_size, m.captured]), messages.map((m) => [m.msg_type, m.msg_size, m.msg_size]));
    for (const m of recorded) assert.ok(Buffer.from(m.msg, 'hex').equals(pattern.subarray(0, m.msg_size)), `${m.msg_type} (${m.msg_size} bytes) byte-exact`);
    rawMessagesPanel.applyUiState({ filter: EMPTY_RAW_FILTER, selectedSeq: null, follow: true });
  });

  it('mempool-monitor: counts equal what fired, replaced rows with fee rates in the log', async () => {
    const { toolPanels } = await extensionApis();
    const run = await runLiveBcc({
      tool: 'mempool-monitor',
      traceeArgs: ['--scenario', 'mempool', '--count', '3000', '--rate', '1500', '--burst-size', '400', '--seed', '41'],
      live: async (sessionId, { fired, expect }) => {
        assert.ok(toolPanels.isOpen('mempool-monitor'), 'the mempool panel opened for the session');
        toolPanels.focus('mempool-monitor');
        const total = ['added', 'removed', 'replaced', 'rejected'].reduce((n, kind) => n + fired[`mempool:${kind}`], 0);
        assert.equal(total, expect.length);
        const final = await mempoolReport((r) => r.sessionId === sessionId && r.summary.Added === en(fired['mempool:added']) && r.rowCount === Math.min(total, 1000), 30_000);
        assert.equal(final.summary.Removed, en(fired['mempool:removed']));
        assert.equal(final.summary.Replaced, en(fired['mempool:replaced']));
        assert.equal(final.summary.Rejected, en(fired['mempool:rejected']));
        assert.equal(final.lostText, 'Lost events: 0');
        assert.equal(final.lostAlarm, false);
        assert.ok(final.chartCanvasCount >= 1);
        // Newest first: the first row is the last event that fired.
        const newest = expect[expect.length - 1];
        assert.equal(final.firstRows[0][column(final, 'Event')], newest.event.slice('mempool:'.length));

        const replaced = expect.filter((e) => e.event === 'mempool:replaced');
        assert.ok(replaced.length > 10, `${replaced.length} replacements fired`);
        toolPanels.setFilter('mempool-monitor', { text: '', kind: 'replaced' });
        const log = await mempoolReport((r) => r.filter.kind === 'replaced' && r.rowCount === replaced.length);
        const shown = Math.min(log.firstRows.length, replaced.length);
        assert.ok(shown > 0);
        for (let i = 0; i < shown; i++) {
          const e = replaced[replaced.length - 1 - i];
          const row = log.firstRows[i];
          const by = e.replaced_by_transaction === false ? 'package' : 'tx';
          assert.equal(row[column(log, 'Event')], 'replaced');
          assert.equal(row[column(log, 'txid')], e.replaced_txid);
          assert.equal(row[column(log, 'Fee (sat)')], en(Number(e.replaced_fee)));
          assert.equal(row[column(log, 'sat/vB')], oneDecimal.format(Number(e.replaced_fee) / Number(e.replaced_vsize)));
          const replacementRate = oneDecimal.format(Number(e.replacement_fee) / Number(e.replacement_vsize));
          assert.equal(row[column(log, 'Reason / replacement')],
            `by ${by} ${String(e.replacement_id).slice(0, 16)}…: ${String(e.replacement_vsize)} vB, fee ${en(Number(e.replacement_fee))} sat (${replacementRate} sat/vB)`);
        }
        await screenshotPanel('live-mempool-monitor', () => toolPanels.focus('mempool-monitor'), () => mempoolReport((r) => r.filter.kind === 'replaced' && r.rowCount === replaced.length));
        toolPanels.setFilter('mempool-monitor', { text: '', kind: '' });
        await mempoolReport((r) => r.filter.kind === '' && r.rowCount === Math.min(total, 1000));
      },
    });
    const recording = await loadRecording(run.recording);
    assert.deepEqual(recording.malformed, []);
    assert.equal(recording.header.tool, 'mempool-monitor');
    const counted = recording.events.filter((e) => e.event.startsWith('mempool:')).length;
    assert.equal(counted, run.outcome.expect.length, 'the recording holds every event that fired');
  });
});

// Runs only under `node dist/test/runIntegration.js --mode bench` (`npm run bench -- --only panels` starts it):
// measures the panels inside the real VS Code and writes the figures as JSON to BITCOIN_USDT_BENCH_OUT
// (test/bench/vscodePanelBench.ts reads them). It fails only when a figure could not be measured, never because
// something was slow: the machines are shared.
import { strict as assert } from 'node:assert';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import * as vscode from 'vscode';
import { loadRecording, readRecording, RecordingWriter } from '../../src/core/events/recording';
import type { ExtensionApi } from '../../src/extension/testApi';
import type { DataFrameTimes } from '../../src/shared/panelTiming';
import { TOOL_PANEL_TITLES, TOOL_PANEL_TOOLS, type ToolPanelTool } from '../../src/shared/toolPanelProtocol';
import { BENCH_MESSAGES, BENCH_PEERS, benchTraffic } from '../bench/panelWorkload';
import type { FirstPaintMeasurement, P2pUpdateMeasurement, VscodePanelRun } from '../bench/vscodePanelBench';
import { extensionApi, repoRoot, startTracee, waitFor } from './integrationHelpers';
import { screenshot } from './screenshot';

const fixtures = join(repoRoot, 'test', 'fixtures', 'recordings');
/** The live session's message rate: ~1,500 messages per panel update (every 250 ms), so every peer is in each. */
const LIVE_RATE = 6_000;
/** About 30 updates of the P2P panel (one per 250 ms while something changed). */
const UPDATE_WINDOW_MS = 8_000;
const MIN_UPDATES = 10;

/** What a panel's render report says about the recording it shows. */
interface PanelShown {
  readonly sessionId: string | null;
  readonly dataFrames: DataFrameTimes;
  /** The counts expected of the whole recording are on screen. */
  readonly complete: boolean;
}

interface PanelUnderTest {
  readonly panel: string;
  readonly recording: string;
  isOpen(api: ExtensionApi): boolean;
  shown(api: ExtensionApi): Promise<PanelShown>;
}

function p2pPanel(panel: string, recording: string, peers: number): PanelUnderTest {
  return {
    panel,
    recording,
    isOpen: (api) => api.p2pPanel?.isOpen ?? false,
    shown: async (api) => {
      assert.ok(api.p2pPanel);
      const r = await api.p2pPanel.renderReport();
      return { sessionId: r.sessionId, dataFrames: r.dataFrames, complete: r.totalPeers === peers };
    },
  };
}

function toolPanel(tool: ToolPanelTool): PanelUnderTest {
  return {
    panel: TOOL_PANEL_TITLES[tool],
    recording: join(fixtures, `${tool}.ndjson`),
    isOpen: (api) => api.toolPanels?.isOpen(tool) ?? false,
    shown: async (api) => {
      assert.ok(api.toolPanels);
      const r = await api.toolPanels.renderReport(tool);
      return { sessionId: r.sessionId, dataFrames: r.dataFrames, complete: r.rowCount > 0 };
    },
  };
}

const rawMessagesPanel: PanelUnderTest = {
  panel: 'Raw P2P messages',
  recording: join(fixtures, 'raw-p2p-session.ndjson'),
  isOpen: (api) => api.rawMessagesPanel?.isOpen ?? false,
  shown: async (api) => {
    assert.ok(api.rawMessagesPanel);
    const r = await api.rawMessagesPanel.renderReport();
    return { sessionId: r.sessionId, dataFrames: r.dataFrames, complete: r.listRowsInDom > 0 && r.decodedLines.length > 0 };
  },
};

const benchmarkPanel: PanelUnderTest = {
  panel: 'ConnectBlock benchmark',
  recording: join(fixtures, 'bench-master.ndjson'),
  isOpen: (api) => api.benchmarkPanel?.isOpen ?? false,
  shown: async (api) => {
    assert.ok(api.benchmarkPanel);
    const r = await api.benchmarkPanel.renderReport();
    return { sessionId: r.runA, dataFrames: r.dataFrames, complete: r.slowBlockRows > 0 && r.chartCanvasCount > 0 };
  },
};

async function closeEditors(api: ExtensionApi, target: PanelUnderTest): Promise<void> {
  await vscode.commands.executeCommand('workbench.action.closeAllEditors');
  await waitFor(`${target.panel} to close`, 10_000, () => (target.isOpen(api) ? undefined : true));
}

/** Reads the panel's report until its latest data frame stayed the same for a second (hosts flush every 250–500 ms). */
async function settled(api: ExtensionApi, target: PanelUnderTest, sessionId: string): Promise<PanelShown> {
  const deadline = Date.now() + 60_000;
  let previous: number | undefined;
  let last: PanelShown | undefined;
  while (Date.now() < deadline) {
    last = await target.shown(api);
    const latest = last.sessionId === sessionId && last.complete ? last.dataFrames.latest?.epochMs : undefined;
    if (latest !== undefined && latest === previous) return last;
    previous = latest;
    await delay(1_000);
  }
  assert.fail(`${target.panel} did not show the whole recording within 60 s; last report: ${JSON.stringify(last)}`);
}

/** Open recording… with the panel closed: the command → the webview's first and latest frames that drew its data. */
async function measureFirstPaint(api: ExtensionApi, target: PanelUnderTest): Promise<FirstPaintMeasurement> {
  const { events } = await readRecording(target.recording, () => undefined);
  await closeEditors(api, target);
  const commandAt = Date.now();
  const sessionId = await vscode.commands.executeCommand<string | undefined>('bitcoinUsdt.openRecording', vscode.Uri.file(target.recording));
  const commandMs = Date.now() - commandAt;
  assert.ok(sessionId, `Open recording returned no session for ${target.recording}`);
  const shown = await settled(api, target, sessionId);
  const { first, latest, scriptStart, documentFetchStartMs } = shown.dataFrames;
  assert.ok(first && latest, `${target.panel}: no frame with data was recorded`);
  assert.ok(documentFetchStartMs !== null, `${target.panel}: the webview has no navigation timing`);
  await screenshot(`bench-${target.panel.replace(/[^A-Za-z0-9]+/g, '-').toLowerCase()}`);
  return {
    panel: target.panel,
    recording: target.recording.startsWith(repoRoot) ? target.recording.slice(repoRoot.length + 1) : target.recording,
    events,
    firstPaintMs: first.epochMs - commandAt,
    commandToWebviewMs: first.epochMs - first.sinceNavigationMs - commandAt,
    firstPaintInWebviewMs: first.sinceNavigationMs,
    documentRequestInWebviewMs: documentFetchStartMs,
    scriptStartInWebviewMs: scriptStart.sinceNavigationMs,
    wholeRecordingMs: latest.epochMs - commandAt,
    commandMs,
  };
}

/**
 * A live p2p-traffic session (real helper, bpftrace and the tracee's 1,000 peers in turn) into the P2P panel:
 * once 100,000 messages arrived, the webview times each update for UPDATE_WINDOW_MS.
 */
async function measureP2pUpdates(api: ExtensionApi): Promise<P2pUpdateMeasurement> {
  assert.equal(process.getuid?.(), 0, 'the P2P update measurement attaches a real probe to the tracee and runs as root');
  const { launcher, p2pPanel: panel } = api;
  assert.ok(launcher && panel, 'activate() returned no launcher or P2P panel API');
  const workspace = process.env.BITCOIN_USDT_TEST_WORKSPACE;
  assert.ok(workspace, 'BITCOIN_USDT_TEST_WORKSPACE is not set: run with node dist/test/runIntegration.js --mode bench');
  const binary = join(workspace, 'build', 'bin', 'bitcoind');
  await vscode.commands.executeCommand('workbench.action.closeAllEditors');
  // The `raw` scenario sends from every peer in turn.
  const tracee = await startTracee(binary, ['--scenario', 'raw', '--peers', String(BENCH_PEERS), '--rate', String(LIVE_RATE), '--duration-ms', '300000']);
  let messages = 0;
  let lostEvents = 0;
  const subscription = launcher.onDidReceiveEvents(({ session, events }) => {
    if (session.source !== 'live') return;
    for (const event of events) {
      if (event.event === 'net:inbound_message' || event.event === 'net:outbound_message') messages++;
      else if (event.event === 'lost') lostEvents += event.count;
    }
  });
  try {
    const sessionId = await vscode.commands.executeCommand<string | undefined>('bitcoinUsdt.startProbe', { tool: 'p2p-traffic', binaryPath: binary, pid: tracee.pid });
    assert.ok(sessionId, 'startProbe did not start a session');
    await waitFor(`${BENCH_MESSAGES} messages from the live session`, 120_000, () => (messages >= BENCH_MESSAGES ? true : undefined));
    const before = await panel.renderReport(10_000, { timeUpdates: true });
    const messagesAtStart = messages;
    assert.equal(before.sessionId, sessionId);
    assert.equal(before.totalPeers, BENCH_PEERS);
    assert.ok(before.selectedPeerId !== null && before.messageRowCount > 0, 'no peer selected, or its messages are not listed');
    // No render report until the end: the report renders at once, outside the frame being timed.
    await delay(UPDATE_WINDOW_MS);
    const after = await panel.renderReport(10_000, { timeUpdates: false });
    const messagesAtEnd = messages;
    const updates = after.updateTimings ?? [];
    assert.ok(updates.length >= MIN_UPDATES, `only ${updates.length} updates were timed in ${UPDATE_WINDOW_MS} ms`);
    assert.equal(after.totalPeers, BENCH_PEERS);
    await screenshot('bench-p2p-live-updates');
    return { peers: after.totalPeers, selectedPeerMessages: after.messageRowCount, messagesAtStart, messagesAtEnd, lostEvents, rate: LIVE_RATE, windowMs: UPDATE_WINDOW_MS, updates };
  } finally {
    subscription.dispose();
    if (launcher.activeSession()) await vscode.commands.executeCommand('bitcoinUsdt.stopProbe');
    tracee.child.kill('SIGKILL');
  }
}

if (process.env.BITCOIN_USDT_INTEGRATION_MODE === 'bench') {
  describe('panels in VS Code @bench', function () {
    this.timeout(8 * 60_000);
    let directory = '';

    before(async () => {
      directory = await mkdtemp(join(tmpdir(), 'bitcoin-usdt-panel-bench-'));
    });
    after(async () => {
      await rm(directory, { recursive: true, force: true });
    });

    it('first paint of every panel from a recording, and the P2P panel update with 1,000 peers / 100,000 messages', async () => {
      const api = await extensionApi();
      const large = join(directory, `p2p-${BENCH_PEERS}-peers-${BENCH_MESSAGES}-messages.ndjson`);
      const writer = await RecordingWriter.create(large, { tool: 'p2p-traffic', started_at: new Date().toISOString(), binary: null, pid: null, producer: 'panelBench.test' });
      writer.write(benchTraffic());
      await writer.close();
      assert.equal(writer.dropped, 0);
      const demo = join(repoRoot, 'demo', 'recordings', 'p2p-traffic-demo.ndjson');
      const demoPeers = new Set((await loadRecording(demo)).events.map((e) => ('peer_id' in e ? String(e.peer_id) : undefined)).filter((id) => id !== undefined)).size;
      const panels = [
        p2pPanel('P2P traffic, demo recording', demo, demoPeers),
        p2pPanel(`P2P traffic, ${BENCH_PEERS.toLocaleString('en-US')} peers / ${BENCH_MESSAGES.toLocaleString('en-US')} messages`, large, BENCH_PEERS),
        ...TOOL_PANEL_TOOLS.map(toolPanel),
        rawMessagesPanel,
        benchmarkPanel,
      ];
      const firstPaint: FirstPaintMeasurement[] = [];
      for (const target of panels) firstPaint.push(await measureFirstPaint(api, target));
      const run: VscodePanelRun = { vscodeVersion: vscode.version, firstPaint, p2pUpdates: await measureP2pUpdates(api) };
      const out = process.env.BITCOIN_USDT_BENCH_OUT;
      if (out) await writeFile(out, `${JSON.stringify(run, null, 2)}\n`);
    });
  });
}

// Every bpftrace tool live in the real VS Code, as P2P traffic is: the workspace's bitcoind (the v29 tracee)
// fires a scenario, `bitcoinUsdt.startProbe` runs the real helper and bpftrace, the tool's panel renders the
// data, the status bar counts, Stop leaves no helper or bpftrace behind, the automatic recording holds the
// session and replays into the same panel with the same totals. The tree's "Probe tools" group starts a tool
// without the tool picker, and the benchmark's parameters are prompted for and checked.

import { strict as assert } from 'node:assert';
import { basename } from 'node:path';
import * as vscode from 'vscode';
import { loadRecording } from '../../src/core/events/recording';
import { findTool, TOOLS } from '../../src/core/tools/toolCatalog';
import type { BenchmarkRenderReport } from '../../src/shared/benchmarkProtocol';
import { formatDuration } from '../../src/shared/format';
import type { ToolPanelTool, ToolRenderReport } from '../../src/shared/toolPanelProtocol';
import type { TracepointTreeNode } from '../../src/extension/tree/treeNodes';
import {
  acceptPromptsUntilSettled,
  assertNoProbeProcessesWithin,
  benchmarkPanelReport,
  column,
  extensionApis,
  liveProbeSuiteHooks,
  screenshotPanel,
  sessionRecording,
  startTraceeWithFiles,
  stopProbeAndCheck,
  toolPanelReport,
  waitFor,
  workspaceBitcoind,
  type TraceeOutcome,
  type TraceeWithFiles,
} from './integrationHelpers';
import { screenshot } from './screenshot';
import type { LauncherApi } from '../../src/extension/launch/launcherApi';

/** The tools the tree lists under a binary: generated ones (trace-tracepoint) start from a tracepoint instead. */
const PICKABLE_TOOLS = TOOLS.filter((tool) => !tool.generated);

const en = (n: number): string => n.toLocaleString('en-US');

/** A live session's panel gets 30 s to show what fired. */
const LIVE_REPORT_MS = 30_000;
const toolReport = (tool: ToolPanelTool, accept: (report: ToolRenderReport) => boolean): Promise<ToolRenderReport> => toolPanelReport(tool, accept, LIVE_REPORT_MS);
const benchmarkReport = (accept: (report: BenchmarkRenderReport) => boolean): Promise<BenchmarkRenderReport> => benchmarkPanelReport(accept, LIVE_REPORT_MS);

/**
 * SIGCONT and SIGINT: the tracee writes its summary and expectation files and exits. After the probe has
 * detached its semaphores are 0: nothing more fires.
 */
async function finish(tracee: TraceeWithFiles): Promise<TraceeOutcome> {
  assert.ok(tracee.running(), 'the tracee is still running (stopping the probe must not touch it)');
  const exited = new Promise((resolve) => tracee.child.once('exit', resolve));
  tracee.child.kill('SIGCONT');
  tracee.child.kill('SIGINT');
  await exited;
  return tracee.outcome();
}

interface LiveRun extends TraceeOutcome {
  sessionId: string;
  recording: string;
}

/**
 * Starts the tracee and the probe (a LaunchRequest), waits until `live` says the panel shows data, checks the
 * status bar, stops the probe (nothing left running), then stops the tracee and returns what it fired.
 */
async function runLive(options: {
  tool: string;
  traceeArgs: string[];
  params?: Record<string, string>;
  live: () => Promise<void>;
}): Promise<LiveRun> {
  const { launcher } = await extensionApis('launcher');
  const binary = workspaceBitcoind();
  const tool = findTool(options.tool);
  assert.ok(tool);
  // The v29 tracee firing one scenario until interrupted; it waits until the tool's semaphores are raised.
  const tracee = await startTraceeWithFiles(binary, [...options.traceeArgs, '--duration-ms', '600000', '--wait-attach', tool.tracepoints.join(',')]);
  try {
    const request = { tool: options.tool, binaryPath: binary, pid: tracee.pid, ...(options.params ? { params: options.params } : {}) };
    const sessionId = await vscode.commands.executeCommand<string | undefined>('bitcoinUsdt.startProbe', request);
    assert.ok(sessionId, 'startProbe did not start a session');
    assert.equal(launcher.activeSession()?.descriptor.tool, options.tool);
    for (const [name, value] of Object.entries(options.params ?? {})) {
      assert.ok(launcher.activeSession()?.command.join(' ').includes(`--param ${name}=${value}`), `--param ${name}=${value} in the root command`);
    }
    await options.live();
    const status = await waitFor('the status bar to count events', 15_000, () => {
      const text = launcher.statusBarText();
      return new RegExp(`^\\$\\(pulse\\) ${options.tool} · [1-9][\\d,]* ev/s · lost 0$`).test(text) ? text : undefined;
    });
    assert.ok(status);
    // SIGSTOP: nothing fires while the probe is stopped, so its final kernel counts are the tracee's.
    tracee.child.kill('SIGSTOP');
    // What fired just before the stop may still wait in bpftrace's perf buffer (a loaded machine reads it late);
    // stopping bpftrace then would lose it (counted). Stop once the session delivered nothing new for 1.5 s.
    await waitForDeliveredToSettle(launcher, sessionId);
    await stopProbeAndCheck(launcher, sessionId, binary);
    // Detached while the tracee was stopped: what it fired is what the probe counted.
    const { fired, expect } = await finish(tracee);
    return { sessionId, fired, expect, recording: await sessionRecording(sessionId) };
  } finally {
    if (launcher.activeSession()) await vscode.commands.executeCommand('bitcoinUsdt.stopProbe');
    await tracee.kill();
  }
}

async function waitForDeliveredToSettle(launcher: LauncherApi, sessionId: string): Promise<void> {
  const delivered = (): number => launcher.activeSessions().find((s) => s.descriptor.id === sessionId)?.counters.delivered ?? -1;
  let last = delivered();
  let since = Date.now();
  await waitFor('the stopped tracee\'s last events to be delivered', 30_000, () => {
    const now = delivered();
    if (now !== last) {
      last = now;
      since = Date.now();
    }
    return Date.now() - since >= 1_500;
  });
}

/** The automatic recording: this tool's header, the session framing, and no loss. */
async function assertRecording(path: string, tool: string, eventKinds: readonly string[]): Promise<void> {
  const recording = await loadRecording(path);
  assert.deepEqual(recording.malformed, []);
  assert.equal(recording.header.tool, tool);
  const kinds = new Set<string>(recording.events.map((e) => e.event));
  for (const kind of ['session:start', 'session:attached', 'session:end', ...eventKinds]) assert.ok(kinds.has(kind), `the recording has ${kind}`);
  const lost = recording.events.reduce((n, e) => n + (e.event === 'lost' ? e.count : 0), 0);
  assert.equal(lost, 0, 'nothing lost at this rate');
}

async function replay(path: string): Promise<string> {
  const sessionId = await vscode.commands.executeCommand<string | undefined>('bitcoinUsdt.openRecording', vscode.Uri.file(path));
  assert.ok(sessionId, 'Open recording returned no session');
  return sessionId;
}

describe('every bpftrace tool live (real helper and bpftrace against the workspace bitcoind)', function () {
  this.timeout(90_000);

  liveProbeSuiteHooks('the live tool tests');

  it('p2p-connections: connections in the panel, counts equal to what fired', async () => {
    const { toolPanels } = await extensionApis('toolPanels');
    const run = await runLive({
      tool: 'p2p-connections',
      traceeArgs: ['--scenario', 'connections', '--rate', '60', '--seed', '31'],
      live: async () => {
        await waitFor('the connections panel to open', 10_000, () => toolPanels.isOpen('p2p-connections'));
        toolPanels.focus('p2p-connections');
        await toolReport('p2p-connections', (r) => r.rowCount >= 10);
        await screenshotPanel('live-p2p-connections', () => toolPanels.focus('p2p-connections'), () => toolReport('p2p-connections', (r) => r.rowCount >= 10));
      },
    });
    const fired = run.fired;
    const final = await toolReport('p2p-connections', (r) => r.sessionId === run.sessionId && r.summary.Inbound === en(fired['net:inbound_connection']));
    assert.equal(final.summary.Outbound, en(fired['net:outbound_connection']));
    assert.equal(final.summary.Evicted, en(fired['net:evicted_inbound_connection']));
    assert.equal(final.lostText, 'Lost events: 0');
    assert.ok(final.rowCount > 0 && final.chartCanvasCount >= 1);
    await assertRecording(run.recording, 'p2p-connections', ['net:inbound_connection', 'net:outbound_connection', 'fired']);
    const replayed = await replay(run.recording);
    const again = await toolReport('p2p-connections', (r) => r.sessionId === replayed && r.summary.Inbound === final.summary.Inbound);
    assert.deepEqual([again.rowCount, again.summary.Outbound, again.summary.Evicted], [final.rowCount, final.summary.Outbound, final.summary.Evicted]);
  });

  it('connectblock-benchmark with start and threshold: slow blocks and the block count equal what connected in range', async () => {
    const { benchmarkPanel } = await extensionApis('benchmarkPanel');
    const start = 800005;
    const thresholdMs = 250;
    const run = await runLive({
      tool: 'connectblock-benchmark',
      traceeArgs: ['--scenario', 'validation', '--start', '800000', '--rate', '12', '--seed', '32'],
      params: { start: String(start), end: '0', threshold_ms: String(thresholdMs) },
      live: async () => {
        await waitFor('the benchmark panel to open', 10_000, () => benchmarkPanel.isOpen);
        await vscode.commands.executeCommand('bitcoinUsdt.showBenchmarkPanel');
        const shows = (r: BenchmarkRenderReport): boolean => r.slowBlockRows > 0 && r.blockCountText !== '' && r.blockCountText !== '0' && r.blockCountText !== '—';
        // While it runs: the heights and threshold it was started with, and the wall time so far (no placeholder).
        const running = await benchmarkReport((r) => shows(r) && r.summaryA.wall !== undefined && /^\d[\d ,.a-z]* s( so far)?$/.test(r.summaryA.wall));
        assert.equal(running.summaryA.heights, `from ${en(start)}`);
        assert.equal(running.summaryA.threshold, `over ${en(thresholdMs)} ms`);
        await screenshotPanel('live-connectblock-benchmark', () => vscode.commands.executeCommand('bitcoinUsdt.showBenchmarkPanel'), () => benchmarkReport((r) => shows(r) && r.histogramBars > 0));
      },
    });
    const counted = run.expect.filter((b) => b.event === 'validation:block_connected' && (b.height as number) >= start);
    assert.ok(counted.length > 5, `${counted.length} blocks counted`);
    const slow = counted.filter((b) => (b.duration_ns as number) > thresholdMs * 1e6);
    await vscode.commands.executeCommand('bitcoinUsdt.showBenchmarkPanel');
    const final = await benchmarkReport((r) => r.runA === run.sessionId && r.blockCountText === en(counted.length) && r.totalTimeText !== '—');
    assert.equal(final.slowBlockRows, slow.length);
    const slowest = [...slow].sort((a, b) => (b.duration_ns as number) - (a.duration_ns as number))[0];
    assert.equal(final.firstSlowBlocks[0].height, en(slowest.height as number));
    assert.equal(final.firstSlowBlocks[0].duration, formatDuration(slowest.duration_ns as number));
    // Run B is whatever an earlier comparison left in the panel; this run is A.
    assert.match(final.lostText, /^Lost blocks: (A )?0( · B \d+)?$/);
    assert.ok(final.histogramBars > 0);
    await assertRecording(run.recording, 'connectblock-benchmark', ['validation:block_connected', 'validation:block_rates', 'validation:connect_histogram', 'validation:connect_summary']);
    const recorded = await loadRecording(run.recording);
    const summaryEvent = recorded.events.find((e) => e.event === 'validation:connect_summary');
    assert.ok(summaryEvent && summaryEvent.event === 'validation:connect_summary');
    assert.equal(summaryEvent.totals.blocks, counted.length);
    assert.equal(summaryEvent.start_height, start);
    assert.equal(summaryEvent.threshold_ms, thresholdMs);
    const replayed = await replay(run.recording);
    await vscode.commands.executeCommand('bitcoinUsdt.showBenchmarkPanel');
    const again = await benchmarkReport((r) => r.runA === replayed && r.blockCountText === final.blockCountText);
    assert.equal(again.slowBlockRows, final.slowBlockRows);
    assert.equal(again.totalTimeText, final.totalTimeText);
  });

  it('utxocache-flush: every flush in the panel', async () => {
    const { toolPanels } = await extensionApis('toolPanels');
    const run = await runLive({
      tool: 'utxocache-flush',
      traceeArgs: ['--scenario', 'utxocache', '--rate', '800', '--seed', '33'],
      live: async () => {
        await waitFor('the flush panel to open', 10_000, () => toolPanels.isOpen('utxocache-flush'));
        toolPanels.focus('utxocache-flush');
        await toolReport('utxocache-flush', (r) => r.rowCount >= 5);
        await screenshotPanel('live-utxocache-flush', () => toolPanels.focus('utxocache-flush'), () => toolReport('utxocache-flush', (r) => r.rowCount >= 5));
      },
    });
    const flushes = run.fired['utxocache:flush'];
    toolPanels.focus('utxocache-flush');
    const final = await toolReport('utxocache-flush', (r) => r.sessionId === run.sessionId && r.summary.Flushes === en(flushes));
    assert.equal(final.rowCount, flushes);
    assert.equal(final.lostText, 'Lost events: 0');
    assert.ok(final.chartCanvasCount >= 3);
    // The tracee flushes on its main thread, which the kernel names after the executable (15 characters at most).
    assert.equal(final.firstRows[0][column(final, 'Thread')], basename(workspaceBitcoind()).slice(0, 15));
    await assertRecording(run.recording, 'utxocache-flush', ['utxocache:flush']);
    const replayed = await replay(run.recording);
    await toolReport('utxocache-flush', (r) => r.sessionId === replayed && r.summary.Flushes === en(flushes) && r.rowCount === flushes);
  });

  it('utxos: kernel counts in the panel equal what fired, coins in the log', async () => {
    const { toolPanels } = await extensionApis('toolPanels');
    const run = await runLive({
      tool: 'utxos',
      traceeArgs: ['--scenario', 'utxocache', '--rate', '300', '--seed', '34'],
      live: async () => {
        await waitFor('the utxos panel to open', 10_000, () => toolPanels.isOpen('utxos'));
        toolPanels.focus('utxos');
        await toolReport('utxos', (r) => r.rowCount >= 50);
        await screenshotPanel('live-utxos', () => toolPanels.focus('utxos'), () => toolReport('utxos', (r) => r.rowCount >= 50));
      },
    });
    const fired = run.fired;
    toolPanels.focus('utxos');
    const final = await toolReport('utxos', (r) => r.sessionId === run.sessionId && r.summary.Added === en(fired['utxocache:add']));
    assert.equal(final.summary.Spent, en(fired['utxocache:spent']));
    assert.equal(final.summary.Uncached, en(fired['utxocache:uncache']));
    assert.equal(final.summary.Counts, 'exact (kernel)');
    const coins = fired['utxocache:add'] + fired['utxocache:spent'] + fired['utxocache:uncache'];
    assert.equal(final.rowCount, Math.min(coins, 1000));
    assert.equal(final.lostText, 'Lost events: 0');
    await assertRecording(run.recording, 'utxos', ['utxocache:add', 'utxocache:spent', 'utxocache:ops']);
    const replayed = await replay(run.recording);
    await toolReport('utxos', (r) => r.sessionId === replayed && r.summary.Added === final.summary.Added && r.summary.Spent === final.summary.Spent);
  });

  it('coin-selection: one row per transaction attempt, as many as fired', async () => {
    const { toolPanels } = await extensionApis('toolPanels');
    const run = await runLive({
      tool: 'coin-selection',
      traceeArgs: ['--scenario', 'coin-selection', '--rate', '40', '--seed', '35'],
      live: async () => {
        await waitFor('the coin selection panel to open', 10_000, () => toolPanels.isOpen('coin-selection'));
        toolPanels.focus('coin-selection');
        await toolReport('coin-selection', (r) => r.rowCount >= 5);
        await screenshotPanel('live-coin-selection', () => toolPanels.focus('coin-selection'), () => toolReport('coin-selection', (r) => r.rowCount >= 5));
      },
    });
    // SIGSTOP (runLive) can pause the tracee inside an attempt: its selected_coins fired, the rest after the
    // probe had gone. The panel shows that attempt as pending, one row more than completed attempts.
    const fired = run.expect.filter((e) => e.event.startsWith('coin_selection:')).map((e) => e.event);
    const pending = fired.at(-1) === 'coin_selection:selected_coins' && fired.at(-2) !== 'coin_selection:attempting_aps_create_tx' ? 1 : 0;
    assert.equal(fired.filter((e) => e === 'coin_selection:normal_create_tx_internal').length, run.fired['coin_selection:normal_create_tx_internal']);
    const attempts = run.fired['coin_selection:normal_create_tx_internal'] + pending;
    toolPanels.focus('coin-selection');
    const final = await toolReport('coin-selection', (r) => r.sessionId === run.sessionId && r.summary.Attempts === en(attempts));
    assert.equal(final.rowCount, attempts);
    const failed = run.expect.filter((e) => e.event === 'coin_selection:normal_create_tx_internal' && e.success === false).length;
    assert.equal(final.summary.Failed, en(failed));
    assert.equal(final.lostText, 'Lost events: 0');
    await assertRecording(run.recording, 'coin-selection', ['coin_selection:selected_coins', 'coin_selection:normal_create_tx_internal']);
    const replayed = await replay(run.recording);
    await toolReport('coin-selection', (r) => r.sessionId === replayed && r.summary.Attempts === en(attempts) && r.rowCount === attempts);
  });
});

describe('Probe tools in the tree, and tool parameters', function () {
  this.timeout(60_000);
  const pause = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

  afterEach(async () => {
    const { launcher } = await extensionApis('launcher');
    if (launcher.activeSession()) await vscode.commands.executeCommand('bitcoinUsdt.stopProbe');
    await vscode.commands.executeCommand('workbench.action.closeQuickOpen');
  });

  async function probeToolNodes(): Promise<{ group: TracepointTreeNode; tools: TracepointTreeNode[] }> {
    const { tracepointTree } = await extensionApis('tracepointTree');
    const binary = workspaceBitcoind();
    const roots = await tracepointTree.getChildren();
    const binaryNode = roots.find((node) => node.binaryPath === binary);
    assert.ok(binaryNode, `no node for ${binary}`);
    const group = (await tracepointTree.getChildren(binaryNode)).find((node) => tracepointTree.getTreeItem(node).contextValue === 'bitcoinUsdt.probeTools');
    assert.ok(group, 'no "Probe tools" group under the binary');
    return { group, tools: await tracepointTree.getChildren(group) };
  }

  it('lists every tool under the binary; all are available for the v29 bitcoind', async () => {
    const { tracepointTree } = await extensionApis('tracepointTree');
    const { group, tools } = await probeToolNodes();
    const groupItem = tracepointTree.getTreeItem(group);
    assert.equal(groupItem.label, 'Probe tools');
    const ids = tools.map((node) => node.probeTool);
    assert.deepEqual([...ids].sort(), PICKABLE_TOOLS.map((t) => t.id).sort());
    assert.equal(groupItem.description, `${PICKABLE_TOOLS.length} of ${PICKABLE_TOOLS.length} available`);
    for (const node of tools) {
      const item = tracepointTree.getTreeItem(node);
      assert.equal(item.contextValue, 'bitcoinUsdt.probeTool', `${node.probeTool} is startable`);
      assert.equal(item.description, findTool(node.probeTool ?? '')?.title);
    }
    await tracepointTree.reveal(group, { expand: true });
    await pause(800);
    await screenshot('tree-probe-tools');
  });

  it('greys out the tools a binary cannot run and says why (python3.11: other USDT; /usr/bin/true: none)', async () => {
    const { tracepointTree, launcher } = await extensionApis('tracepointTree', 'launcher');
    const configuration = vscode.workspace.getConfiguration('bitcoinUsdt');
    await configuration.update('bitcoindPaths', ['/usr/bin/python3.11', '/usr/bin/true'], vscode.ConfigurationTarget.Workspace);
    try {
      const groups = await waitFor('both binaries in the tree', 15_000, async () => {
        const roots = await tracepointTree.getChildren();
        const found = await Promise.all(['/usr/bin/python3.11', '/usr/bin/true'].map(async (path) => {
          const node = roots.find((root) => root.binaryPath === path);
          if (!node) return undefined;
          return (await tracepointTree.getChildren(node)).find((child) => tracepointTree.getTreeItem(child).contextValue === 'bitcoinUsdt.probeTools');
        }));
        return found.every((group) => group !== undefined) ? (found as TracepointTreeNode[]) : undefined;
      });
      const reasons: RegExp[] = [/^unavailable: needs [a-z_]+:[a-z_]+.*, which this binary lacks$/, /^unavailable: the binary has no USDT tracepoints \(build Bitcoin Core with -DWITH_USDT=ON\)$/];
      for (const [index, group] of groups.entries()) {
        assert.equal(tracepointTree.getTreeItem(group).description, `0 of ${PICKABLE_TOOLS.length} available`);
        const tools = await tracepointTree.getChildren(group);
        assert.equal(tools.length, PICKABLE_TOOLS.length);
        for (const node of tools) {
          const item = tracepointTree.getTreeItem(node);
          assert.equal(item.contextValue, 'bitcoinUsdt.probeTool.unavailable', `${node.probeTool} is not startable`);
          assert.match(String(item.description), reasons[index]);
          assert.ok(item.tooltip instanceof vscode.MarkdownString && item.tooltip.value.includes('Unavailable'));
        }
      }
      const utxosOfPython = (await tracepointTree.getChildren(groups[0])).find((node) => node.probeTool === 'utxos');
      assert.match(String(tracepointTree.getTreeItem(utxosOfPython ?? groups[0]).description), /needs utxocache:add, utxocache:spent, utxocache:uncache/);
      await tracepointTree.reveal(groups[0], { expand: true });
      await pause(800);
      await screenshot('tree-probe-tools-unavailable');
      // Even when asked (e.g. from a stale tree), an unavailable tool does not start.
      assert.equal(await vscode.commands.executeCommand('bitcoinUsdt.startProbe', utxosOfPython), undefined);
      assert.equal(launcher.activeSession(), undefined);
    } finally {
      await configuration.update('bitcoindPaths', undefined, vscode.ConfigurationTarget.Workspace);
    }
  });

  it('a "Probe tools" entry starts its tool without the tool picker (only the target is asked)', async () => {
    const { launcher } = await extensionApis('launcher');
    const { tools } = await probeToolNodes();
    const flush = tools.find((node) => node.probeTool === 'utxocache-flush');
    assert.ok(flush);
    const pending = vscode.commands.executeCommand<string | undefined>('bitcoinUsdt.startProbe', flush);
    await pause(1500);
    await screenshot('probe-tool-target-picker');
    // The first item of the target picker: every process of the binary.
    await acceptPromptsUntilSettled(pending);
    const sessionId = await pending;
    assert.ok(sessionId, 'the target picker started a session');
    assert.equal(launcher.activeSession()?.descriptor.tool, 'utxocache-flush');
    assert.equal(launcher.activeSession()?.descriptor.pid, null);
    await vscode.commands.executeCommand('bitcoinUsdt.stopProbe');
    await assertNoProbeProcessesWithin(workspaceBitcoind(), 8_000);
  });

  it('the benchmark asks for start, end and threshold (defaults 0) and passes them to the helper', async () => {
    const { launcher } = await extensionApis('launcher');
    const { tools } = await probeToolNodes();
    const bench = tools.find((node) => node.probeTool === 'connectblock-benchmark');
    assert.ok(bench);
    const pending = vscode.commands.executeCommand<string | undefined>('bitcoinUsdt.startProbe', bench);
    await pause(1500);
    await screenshot('probe-parameter-prompt');
    // Each prompt's default: three input boxes, then the first target.
    await acceptPromptsUntilSettled(pending);
    const sessionId = await pending;
    assert.ok(sessionId, 'the prompts and the target picker started a session');
    const command = launcher.activeSession()?.command ?? [];
    const params = command.flatMap((word, i) => (command[i - 1] === '--param' ? [word] : []));
    assert.deepEqual(params, ['start=0', 'end=0', 'threshold_ms=0']);
    await vscode.commands.executeCommand('bitcoinUsdt.stopProbe');
    await assertNoProbeProcessesWithin(workspaceBitcoind(), 8_000);
  });

  it('LaunchRequest params: shown in the root command preview, refused like the prompts refuse them', async () => {
    const { launcher } = await extensionApis('launcher');
    const binary = workspaceBitcoind();
    const preview = await launcher.previewRootCommand({ tool: 'connectblock-benchmark', binaryPath: binary, pid: 4242, params: { threshold_ms: '100', start: '800000', end: '810000' } });
    assert.deepEqual(preview.slice(preview.indexOf('--param')), ['--param', 'start=800000', '--param', 'end=810000', '--param', 'threshold_ms=100']);
    const refused: Array<[Record<string, string>, RegExp]> = [
      [{ start: '010' }, /start must be a whole number/],
      [{ threshold_ms: '-1' }, /threshold_ms must be a whole number/],
      [{ end: '5', start: '9' }, /end \(5\) must not be below start \(9\)/],
      [{ height: '1' }, /takes no parameter "height"/],
    ];
    for (const [params, pattern] of refused) {
      await assert.rejects(Promise.resolve(vscode.commands.executeCommand('bitcoinUsdt.startProbe', { tool: 'connectblock-benchmark', binaryPath: binary, params })), pattern);
    }
    await assert.rejects(Promise.resolve(vscode.commands.executeCommand('bitcoinUsdt.startProbe', { tool: 'coin-selection', binaryPath: binary, params: { start: '1' } })), /coin-selection takes no parameter "start" \(it has no parameters\)/);
    // Kernel filters are parameters too (probes/tools.json), refused with what they take.
    await assert.rejects(Promise.resolve(vscode.commands.executeCommand('bitcoinUsdt.startProbe', { tool: 'utxos', binaryPath: binary, params: { start: '1' } })), /utxos takes no parameter "start" \(its parameters: op, txid_high, txid_bits, sample\)/);
    await assert.rejects(Promise.resolve(vscode.commands.executeCommand('bitcoinUsdt.startProbe', { tool: 'utxos', binaryPath: binary, params: { op: 'delete' } })), /Parameter op: Only this operation: add, spent or uncache/);
    assert.equal(launcher.activeSession(), undefined);
  });
});

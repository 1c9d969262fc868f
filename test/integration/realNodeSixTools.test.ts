// Six tools at once on the real Bitcoin Core, in the real VS Code (`node dist/test/runIntegration.js --mode realnode`),
// as a new user would use them (issue 16): two regtest nodes (BITCOIND), A with a wallet, connected before the probes
// start; p2p-traffic, p2p-connections, connectblock-benchmark, utxocache-flush, utxos and the BCC mempool-monitor
// started together on node A in one call (one helper, one terminal); a workload (wallet transactions, mined blocks, a
// gettxoutsetinfo flush, an inbound peer connected and disconnected). Each panel's shown figures are compared with the
// node's own account: getpeerinfo, getmempoolentry/the wallet, getblockhash and debug.log (-debug=net -debug=coindb).
// The six panels are tabs of one editor group beside the source (screenshot at 1600×1000). Then the wrong picks: a BCC
// tool over every process and a file that is not a bitcoind each give one error sentence and leave no terminal, no
// panel and no process behind. Ports: BITCOIN_USDT_REALNODE_PORTS (regtestNetwork.ts).

import { strict as assert } from 'node:assert';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import * as vscode from 'vscode';
import type { LaunchRequest } from '../../src/extension/launch/launchRequest';
import type { P2pRenderReport } from '../../src/shared/p2pProtocol';
import type { ToolRenderReport } from '../../src/shared/toolPanelProtocol';
import { parseDebugLog, parseLoggedMessages } from '../realNode/debugLog';
import { masterBuild } from '../realNode/realNodeEnv';
import { RegtestNode, type PeerInfo } from '../realNode/regtestNetwork';
import {
  benchmarkPanelReport,
  column,
  extensionApis,
  p2pPanelReport,
  requiredEnv,
  sessionEnd,
  toolPanelReport,
  waitFor,
  watchTerminalsOpened,
} from './integrationHelpers';
import { screenshot, setWindowSize, shownNotifications } from './screenshot';

const TOOLS = ['p2p-traffic', 'p2p-connections', 'connectblock-benchmark', 'utxocache-flush', 'utxos', 'mempool-monitor'] as const;
const WALLET = 'w';
const SENT_AFTER_ATTACH = 3;
const MINED = 4;
const PANEL_MS = 60_000;

/** The six panels' webview types (suffixes of the tab inputs' view types). */
const PANEL_VIEW_TYPES = ['bitcoinUsdt.p2pPanel', 'bitcoinUsdt.benchmarkPanel', 'bitcoinUsdt.toolPanel'];

function panelTabs(): { label: string; column: vscode.ViewColumn }[] {
  return vscode.window.tabGroups.all.flatMap((group) =>
    group.tabs
      .filter((tab) => tab.input instanceof vscode.TabInputWebview && PANEL_VIEW_TYPES.some((type) => (tab.input as vscode.TabInputWebview).viewType.endsWith(type)))
      .map((tab) => ({ label: tab.label, column: group.viewColumn })),
  );
}

/** Processes of the helper, bpftrace or a BCC program whose command line names `pid` (the traced node). */
function probeProcessesOfPid(pid: number): string[] {
  const found: string[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let args: string[];
    try {
      args = readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0').filter((a) => a !== '');
    } catch {
      continue;
    }
    const program = basename(args[0] ?? '');
    const probe = program === 'bpftrace' || args.some((a) => ['bitcoin-usdt-helper.py', 'mempool-monitor.py'].some((p) => a.endsWith(p)));
    if (probe && args.some((a) => a === String(pid) || a === `--pid=${pid}` || a === `-p${pid}`)) found.push(`${entry}: ${args.join(' ')}`);
  }
  return found;
}

/** The number before " msgs" in a summary text ("1,234 msgs · 56.7 KiB"). */
function messagesIn(text: string): number {
  const match = /^([\d,]+) msgs? /.exec(text);
  assert.ok(match, `no message count in ${JSON.stringify(text)}`);
  return Number(match[1].replace(/,/g, ''));
}

/** Waits until debug.log stops growing for `quietMs` (the nodes have finished talking). */
async function quiet(node: RegtestNode, quietMs = 2_000): Promise<void> {
  let size = statSync(node.debugLogPath).size;
  let since = Date.now();
  for (const deadline = Date.now() + 60_000; Date.now() < deadline; ) {
    await delay(200);
    const now = statSync(node.debugLogPath).size;
    if (now !== size) {
      size = now;
      since = Date.now();
    } else if (Date.now() - since >= quietMs) return;
  }
  throw new Error(`${node.name}: debug.log still growing after 60 s`);
}

function row(report: ToolRenderReport, title: string, value: string): readonly string[] | undefined {
  const index = column(report, title);
  return report.firstRows.find((r) => r[index] === value);
}

if (process.env.BITCOIN_USDT_INTEGRATION_MODE === 'realnode') {
  describe('Six tools at once on the real Bitcoin Core @real-node', function () {
    this.timeout(600_000);

    it('six panels as tabs beside the source, every figure equal to the node\'s; a wrong pick gets one sentence and leaves nothing', async () => {
      assert.equal(process.getuid?.(), 0, 'live probes run as root (as on CI)');
      const { launcher, toolPanels, p2pPanel } = await extensionApis('launcher', 'toolPanels', 'p2pPanel', 'benchmarkPanel');
      const source = requiredEnv('BITCOIN_SOURCE');
      const bitcoind = requiredEnv('BITCOIND');
      await vscode.commands.executeCommand('workbench.action.closeAllEditors');
      await vscode.commands.executeCommand('workbench.action.joinAllGroups');
      const netProcessing = await vscode.workspace.openTextDocument(join(source, 'src', 'net_processing.cpp'));
      await vscode.window.showTextDocument(netProcessing, { viewColumn: vscode.ViewColumn.One, preview: false });

      const a = await RegtestNode.start(masterBuild(), 'sixtools-a');
      let b: RegtestNode | undefined;
      const sessions: string[] = [];
      try {
        b = await RegtestNode.start(masterBuild(), 'sixtools-b');
        await a.rpc('createwallet', WALLET);
        const miningAddress = await a.walletRpc<string>(WALLET, 'getnewaddress');
        await a.rpc('generatetoaddress', 101, miningAddress);
        // The connection open before the probes start: A to B (manual, outbound).
        await a.rpc('addnode', b.address, 'onetry');
        const nodeB = b;
        const atAttachPeer = await waitFor('A connected to B', 30_000, async () => (await a.peers()).find((p) => p.addr === nodeB.address));
        await waitFor('B synced', 60_000, async () => (await nodeB.rpc<number>('getblockcount')) === 101);
        // One transaction in the mempool before the attach: the mempool panel starts with its size.
        const beforeAttachTxid = await a.walletRpc<string>(WALLET, 'sendtoaddress', await a.walletRpc<string>(WALLET, 'getnewaddress'), 1);
        await waitFor('B has the first transaction', 30_000, async () => (await nodeB.rpc<string[]>('getrawmempool')).includes(beforeAttachTxid));
        await quiet(a);

        // Six tools together, one call (as the multi-select picker does): one helper, one terminal, one password.
        const attached = new Set<string>();
        const attachments = launcher.onDidReceiveEvents(({ session, events }) => {
          if (events.some((event) => event.event === 'session:attached')) attached.add(session.id);
        });
        let attachOffset: number;
        try {
          const requests: LaunchRequest[] = TOOLS.map((tool) => ({ tool, binaryPath: bitcoind, pid: a.pid }));
          const started = Date.now();
          const ids = await vscode.commands.executeCommand<string[] | undefined>('bitcoinUsdt.startProbe', requests);
          assert.ok(Array.isArray(ids) && ids.length === TOOLS.length, `six sessions: ${JSON.stringify(ids)}`);
          sessions.push(...ids);
          assert.deepEqual(launcher.activeSessions().map((s) => s.descriptor.tool), [...TOOLS]);
          assert.equal(new Set(launcher.activeSessions().map((s) => s.terminal)).size, 1, 'one terminal (one password) for the six');
          await waitFor('all six probes attached', 180_000, () => ids.every((id) => attached.has(id)));
          attachOffset = statSync(a.debugLogPath).size;
          console.log(`      six probes attached in ${((Date.now() - started) / 1000).toFixed(1)} s`);
          const running = probeProcessesOfPid(a.pid);
          assert.ok(running.some((p) => /^\d+: \S*bpftrace /.test(p)) && running.some((p) => p.includes('bitcoin-usdt-helper.py')), `the helper and bpftrace probe node A:\n${running.join('\n')}`);
        } finally {
          attachments.dispose();
        }
        const [p2pId, connectionsId, benchmarkId, flushId, utxosId, mempoolId] = sessions;
        const mempoolAtAttach = await a.rpc<{ size: number; bytes: number }>('getmempoolinfo');
        assert.equal(mempoolAtAttach.size, 1);

        // The workload: wallet transactions, blocks, a flush, an inbound peer that connects and is disconnected.
        const sent: string[] = [];
        for (let i = 0; i < SENT_AFTER_ATTACH; i++) sent.push(await a.walletRpc<string>(WALLET, 'sendtoaddress', await a.walletRpc<string>(WALLET, 'getnewaddress'), 1 + i));
        const entries = new Map<string, { vsize: number; fees: { base: number } }>();
        for (const txid of [beforeAttachTxid, ...sent]) entries.set(txid, await a.rpc('getmempoolentry', txid));
        await waitFor('B has the transactions', 30_000, async () => (await nodeB.rpc<string[]>('getrawmempool')).length === SENT_AFTER_ATTACH + 1);
        const mined = await a.rpc<string[]>('generatetoaddress', MINED, miningAddress);
        await waitFor('B has the blocks', 30_000, async () => (await nodeB.rpc<number>('getblockcount')) === 101 + MINED);
        await a.rpc('gettxoutsetinfo');
        await nodeB.rpc('addnode', a.address, 'onetry');
        const inbound = await waitFor('B connected to A (inbound at A)', 30_000, async () => (await a.peers()).find((p) => p.inbound));
        await quiet(a);
        await a.rpc('disconnectnode', '', inbound.id);
        await waitFor('the inbound peer gone', 30_000, async () => !(await a.peers()).some((p: PeerInfo) => p.id === inbound.id));
        await quiet(a);

        const log = readFileSync(a.debugLogPath).subarray(attachOffset).toString('utf8');
        const logged = parseLoggedMessages(log);
        const loggedBy = (peer: number, direction: 'inbound' | 'outbound'): number => logged.filter((m) => m.peer_id === peer && m.direction === direction).length;
        const flushes = parseDebugLog(log).flushes;
        assert.ok(flushes.length >= 1, 'gettxoutsetinfo flushed the chainstate (debug.log)');

        // Six tabs in one group beside the source.
        const tabs = await waitFor('six panel tabs', 30_000, () => (panelTabs().length >= TOOLS.length ? panelTabs() : undefined));
        assert.equal(tabs.length, TOOLS.length, `six panel tabs: ${JSON.stringify(tabs)}`);
        assert.equal(new Set(tabs.map((t) => t.column)).size, 1, `the panels are spread over several groups: ${JSON.stringify(tabs)}`);
        assert.notEqual(tabs[0].column, vscode.ViewColumn.One, 'the panels opened over the source');
        assert.equal(vscode.window.tabGroups.all.length, 2, 'the source and one group of panels');

        // P2P traffic: received/sent as debug.log logged them since the attach; both peers listed.
        await vscode.commands.executeCommand('bitcoinUsdt.showP2pPanel');
        const loggedIn = logged.filter((m) => m.direction === 'inbound').length;
        const loggedOut = logged.length - loggedIn;
        const p2p = await p2pPanelReport((r) => r.sessionId === p2pId && messagesIn(r.receivedText || '0 msgs ') === loggedIn && messagesIn(r.sentText || '0 msgs ') === loggedOut, PANEL_MS);
        assert.deepEqual(p2p.firstRows.map((r) => Number(r.id)).sort((x, y) => x - y), [atAttachPeer.id, inbound.id].sort((x, y) => x - y), 'the two peers A talked to');
        assert.ok(!p2p.lostAlarm && /\b0$/.test(p2p.lostText), `nothing lost: ${p2p.lostText}`);
        console.log(`      p2p: debug.log ${loggedIn} in / ${loggedOut} out; panel ${p2p.receivedText} / ${p2p.sentText}; counters ${JSON.stringify(p2pPanel.sessionCounters(p2pId))}`);

        // Connections: the one open at attach (getpeerinfo's id, address, type), the inbound one opened and closed;
        // per-peer messages equal debug.log's.
        toolPanels.focus('p2p-connections');
        const connections = await toolPanelReport(
          'p2p-connections',
          (r) => r.sessionId === connectionsId && r.rowCount === 2 && r.summary['Open at attach'] === '1' && r.summary.Closed === '1' && r.firstRows.every((x) => x[column(r, 'In/out')] !== ''),
          PANEL_MS,
        );
        const open = row(connections, 'Peer', String(atAttachPeer.id));
        assert.ok(open, `the connection open at attach (peer ${atAttachPeer.id}) is listed: ${JSON.stringify(connections.firstRows)}`);
        assert.equal(open[column(connections, 'Address')], atAttachPeer.addr);
        assert.equal(open[column(connections, 'Type')], atAttachPeer.connection_type);
        assert.equal(open[column(connections, 'Opened')], 'at attach');
        assert.equal(open[column(connections, 'Lifetime')], 'open');
        assert.equal(open[column(connections, 'In/out')], `${loggedBy(atAttachPeer.id, 'inbound')} / ${loggedBy(atAttachPeer.id, 'outbound')}`);
        const closed = row(connections, 'Peer', String(inbound.id));
        assert.ok(closed, `the inbound connection (peer ${inbound.id}) is listed`);
        assert.equal(closed[column(connections, 'Address')], inbound.addr);
        assert.equal(closed[column(connections, 'Type')], 'inbound');
        assert.match(closed[column(connections, 'Lifetime')], /^\d[\d.,]* (µs|ms|s)$/, 'the closed connection\'s lifetime');
        // The network getpeerinfo gave for the one open at attach, named as the tracepoint names the closed one's.
        assert.equal(atAttachPeer.network, 'not_publicly_routable');
        assert.deepEqual([open[column(connections, 'Network')], closed[column(connections, 'Network')]], ['unroutable', 'unroutable']);
        assert.equal(closed[column(connections, 'In/out')], `${loggedBy(inbound.id, 'inbound')} / ${loggedBy(inbound.id, 'outbound')}`);

        // Benchmark: the mined blocks, each with getblockhash's hash at its height.
        await vscode.commands.executeCommand('bitcoinUsdt.showBenchmarkPanel');
        const benchmark = await benchmarkPanelReport((r) => r.runA === benchmarkId && r.blockCountText === String(MINED) && r.slowBlockRows === MINED, PANEL_MS);
        const shownBlocks = benchmark.firstSlowBlocks.map((x) => [x.height, x.hash]).sort();
        const minedBlocks = await Promise.all(mined.map(async (hash) => [String((await a.rpc<{ height: number }>('getblock', hash)).height), hash]));
        assert.deepEqual(shownBlocks, minedBlocks.sort(), 'the benchmark lists the mined blocks by height and hash');
        assert.equal(benchmark.summaryA.blocks, String(MINED));

        // Mempool: the size at attach, the three added with getmempoolentry's vsize and fee, all four mined.
        toolPanels.focus('mempool-monitor');
        const mempool = await toolPanelReport('mempool-monitor', (r) => r.sessionId === mempoolId && r.rowCount === SENT_AFTER_ATTACH /* added */ + SENT_AFTER_ATTACH + 1 /* removed */, PANEL_MS);
        assert.match(mempool.summary['In mempool at attach'], new RegExp(`^${mempoolAtAttach.size} transaction `));
        const txidColumn = column(mempool, 'txid');
        const eventColumn = column(mempool, 'Event');
        const added = mempool.firstRows.filter((r) => r[eventColumn] === 'added');
        assert.deepEqual(added.map((r) => r[txidColumn]).sort(), [...sent].sort(), 'the transactions the wallet sent after the attach were added');
        for (const r of added) {
          const entry = entries.get(r[txidColumn]);
          assert.ok(entry);
          assert.equal(r[column(mempool, 'vsize')], `${entry.vsize.toLocaleString('en-US')} vB`);
          assert.equal(r[column(mempool, 'Fee (sat)')], Math.round(entry.fees.base * 1e8).toLocaleString('en-US'));
        }
        const removed = mempool.firstRows.filter((r) => r[eventColumn] === 'removed');
        assert.deepEqual(removed.map((r) => r[txidColumn]).sort(), [beforeAttachTxid, ...sent].sort(), 'every transaction left the mempool in a block');
        assert.deepEqual(await a.rpc<string[]>('getrawmempool'), []);

        // Flushes: as many as debug.log wrote since the attach.
        toolPanels.focus('utxocache-flush');
        const flush = await toolPanelReport('utxocache-flush', (r) => r.sessionId === flushId && r.rowCount === flushes.length, PANEL_MS);
        assert.equal(flush.summary.Flushes, String(flushes.length));

        // UTXOs: every output of the sent transactions was added to the cache.
        toolPanels.focus('utxos');
        const utxos = await toolPanelReport('utxos', (r) => r.sessionId === utxosId && r.summary.Counts === 'exact (kernel)' && Number(r.summary.Added.replace(/,/g, '')) > 0, PANEL_MS);
        const blocks = await Promise.all(mined.map((hash) => a.rpc<{ tx: { vout: unknown[]; vin: unknown[] }[] }>('getblock', hash, 2)));
        const outputs = blocks.flatMap((block) => block.tx).reduce((n, tx) => n + tx.vout.length, 0);
        console.log(`      utxos: ${JSON.stringify(utxos.summary)}; outputs of the mined blocks ${outputs}`);
        assert.ok(Number(utxos.summary.Added.replace(/,/g, '')) >= outputs, 'every output of the mined blocks was added');

        // The layout a user sees: the source and the six tabs beside it, at 1600×1000 (the window has that size while
        // the panels are measured and photographed).
        await vscode.window.showTextDocument(netProcessing, { viewColumn: vscode.ViewColumn.One, preview: false });
        toolPanels.focus('p2p-connections');
        await vscode.commands.executeCommand('workbench.action.closePanel');
        await vscode.commands.executeCommand('notifications.clearAll');
        assert.ok(await setWindowSize('six-tools-1600x1000', { width: 1600, height: 1000 }), 'the offline runner sets the window size');
        let shown: ToolRenderReport;
        let p2pShown: P2pRenderReport | undefined;
        try {
          shown = await toolPanelReport('p2p-connections', (r) => r.rowCount === 2);
          await screenshot('six-tools-real-node');
          // Each of the other panels in the same place, to be looked at.
          for (const [name, show] of [
            ['p2p', () => vscode.commands.executeCommand('bitcoinUsdt.showP2pPanel')],
            ['benchmark', () => vscode.commands.executeCommand('bitcoinUsdt.showBenchmarkPanel')],
            ['utxocache-flush', () => toolPanels.focus('utxocache-flush')],
            ['utxos', () => toolPanels.focus('utxos')],
            ['mempool-monitor', () => toolPanels.focus('mempool-monitor')],
          ] as const) {
            await show();
            // The page shown again is rebuilt (webviews are not kept while hidden): photographed once it has drawn.
            if (name === 'p2p') p2pShown = await p2pPanelReport((r) => r.peerRowCount === 2);
            else if (name === 'benchmark') await benchmarkPanelReport(() => true);
            else {
              const report = await toolPanelReport(name, () => true);
              console.log(`      ${name} at 1600×1000: table ${report.tableOverflowPx} px wider than its box, page ${report.pageOverflowPx} px wider than the panel`);
            }
            await delay(1_000);
            await screenshot(`six-tools-real-node-${name}`);
          }
        } finally {
          await setWindowSize('six-tools-usual-size', undefined);
        }
        // The connections table fits the panel beside the source (with the Explorer open): no column scrolled away.
        assert.deepEqual([shown.tableOverflowPx, shown.pageOverflowPx], [0, 0], 'the connections table is wider than its panel at 1600×1000');
        // So does the P2P panel's peer table: its last column in view.
        assert.equal(p2pShown?.peerTableCutPx, 0, 'the P2P panel\'s peer table cuts its last column at 1600×1000');

        // Stop all: nothing left probing the node.
        const ended = sessions.map((id) => sessionEnd(launcher, id));
        await vscode.commands.executeCommand('bitcoinUsdt.stopProbe', 'all');
        assert.deepEqual(await Promise.all(ended), sessions.map(() => 'stopped from VS Code'));
        assert.deepEqual(launcher.activeSessions(), []);
        await waitFor('no probe process left', 15_000, () => probeProcessesOfPid(a.pid).length === 0);
        assert.equal(launcher.statusBarText(), '');
      } finally {
        for (const session of launcher.activeSessions()) await vscode.commands.executeCommand('bitcoinUsdt.stopProbe', session.descriptor.id);
        await b?.stop();
        await a.stop();
      }

      // The wrong picks, with no panel open: one sentence each, nothing left behind.
      await vscode.commands.executeCommand('workbench.action.closeAllEditors');
      await waitFor('the panels closed', 30_000, () => panelTabs().length === 0);
      const wrongPicks: { what: string; requests: LaunchRequest[]; sentence: RegExp }[] = [
        {
          what: 'a BCC tool over every process',
          requests: [{ tool: 'mempool-monitor', binaryPath: bitcoind, pid: 'all' }],
          sentence: /^A BCC tool \(mempool-monitor\) traces one process: .* Pick the PID of a running bitcoind instead of every process\.$/,
        },
        {
          what: 'six tools on a file that is not a bitcoind',
          requests: TOOLS.map((tool) => ({ tool, binaryPath: netProcessing.uri.fsPath })),
          sentence: new RegExp(`^${TOOLS.join(', ')}: \\S+net_processing\\.cpp is not a bitcoind with USDT tracepoints \\(\\S+ is not an ELF file \\(it starts with "// Copyright \\(c\\)…"\\): pick a compiled bitcoind binary, not a script or source file\\)\\.$`),
        },
      ];
      for (const pick of wrongPicks) {
        await vscode.commands.executeCommand('notifications.clearAll');
        const noticesBefore = launcher.recentNotices();
        const terminals = watchTerminalsOpened();
        const error = await Promise.resolve(vscode.commands.executeCommand('bitcoinUsdt.startProbe', pick.requests)).then(
          () => undefined,
          (e: unknown) => (e instanceof Error ? e.message : String(e)),
        );
        assert.ok(error, `${pick.what}: refused`);
        const notices = launcher.recentNotices().filter((n) => !noticesBefore.includes(n));
        console.log(`      ${pick.what}: ${notices.map((n) => `${n.level}: ${n.text}`).join(' | ')}`);
        assert.deepEqual(notices.map((n) => n.level), ['error'], `${pick.what}: one error notice`);
        assert.match(notices[0].text, pick.sentence);
        let request = 0;
        const shown = await waitFor(`${pick.what}: the notification`, 20_000, async () => {
          const now = await shownNotifications(`six-tools-wrong-pick-${wrongPicks.indexOf(pick)}-${request++}`);
          assert.ok(now, 'the offline runner answers notification requests');
          // VS Code's own port-forwarding toast (a port opened on the machine by anyone) is not the extension's.
          const ours = now.filter((n) => !/^Your application running on port \d+ is available\./.test(n.text));
          return ours.some((n) => n.text.includes(notices[0].text.slice(0, 60))) ? ours : undefined;
        });
        assert.equal(shown.length, 1, `${pick.what}: one notification shown: ${JSON.stringify(shown)}`);
        terminals.dispose();
        assert.deepEqual(terminals.names(), [], `${pick.what}: no terminal`);
        assert.deepEqual(launcher.activeSessions(), [], `${pick.what}: no session`);
        await delay(500);
        assert.deepEqual(panelTabs(), [], `${pick.what}: no panel`);
      }
      assert.deepEqual(probeProcessesOfPid(a.pid), [], 'nothing left running');
      await vscode.commands.executeCommand('notifications.clearAll');
      await vscode.commands.executeCommand('workbench.view.explorer');
    });
  });
}

// The node selector in a real VS Code on a live session over every process of a build: the real helper and
// bpftrace attached to the workspace's bitcoind (the v29 tracee) with no pid, then the tracee started as two
// nodes (`-datadir=<run>/node0`, `<run>/node1`, the functional test framework's layout) and node0 once more (a
// restart: new pid, same datadir). The P2P panel lists both nodes, shows one node's peers and counts alone,
// and with all nodes names each peer's node in a Node column.

import { strict as assert } from 'node:assert';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as vscode from 'vscode';
import { formatCount } from '../../src/shared/format';
import type { P2pRenderReport } from '../../src/shared/p2pProtocol';
import { extensionApis, liveProbeSuiteHooks, screenshotPanel, startTraceeWithFiles, stopProbeAndCheck, waitFor, waitForReport, workspaceBitcoind, type TraceeEvent, type TraceeWithFiles } from './integrationHelpers';

/** What one tracee run fired, as its --expect file lists it. */
interface NodeRun {
  readonly pid: number;
  readonly expect: TraceeEvent[];
}

const counts = (runs: readonly NodeRun[]): { inbound: number; peers: number } => ({
  inbound: runs.reduce((n, r) => n + r.expect.filter((e) => e.event === 'net:inbound_message').length, 0),
  // Peer ids are each process's own: a restarted node's peer 0 is another peer.
  peers: runs.reduce((n, r) => n + new Set(r.expect.map((e) => String(e.peer_id))).size, 0),
});

/**
 * Starts the tracee as node N of `run` (its ports from 30400), waits until `known(pid)` (the panel has its
 * node), lets it fire its scenario (`--wait-signal`: it waits for SIGUSR1) and waits for its end.
 */
async function runNode(binary: string, run: string, n: number, scenario: readonly string[], tracees: TraceeWithFiles[], known: (pid: number) => boolean): Promise<NodeRun> {
  const tracee = await startTraceeWithFiles(binary, [
    `-datadir=${join(run, `node${n}`)}`, '-regtest', `-port=${30400 + 2 * n}`, `-rpcport=${30401 + 2 * n}`, ...scenario, '--wait-signal',
  ]);
  tracees.push(tracee);
  await waitFor(`node${n} (pid ${tracee.pid}) in the panel's nodes`, 20_000, () => known(tracee.pid));
  const exited = new Promise((resolve) => tracee.child.once('exit', resolve));
  tracee.child.kill('SIGUSR1');
  await exited;
  const { expect } = await tracee.outcome();
  assert.ok(expect.length > 0, `node${n} fired`);
  return { pid: tracee.pid, expect };
}

/** A live session over every process of the workspace's bitcoind, and the nodes a test starts under it. */
interface NodesSession {
  /** Runs the tracee as node N with `scenario` (see `runNode`); the session kills it at the end whatever happens. */
  node(n: number, scenario: readonly string[], known: (pid: number) => boolean): Promise<NodeRun>;
  /** The run directory: node N's datadir (its node key) is `<run>/nodeN`. */
  readonly run: string;
}

/**
 * Starts `tool` on every process of the workspace's bitcoind (no pid), waits until `attached` says the panel
 * shows the live session, runs `test`, stops the probe (checking its processes end) and cleans up.
 */
async function withNodesSession(tool: string, attached: (sessionId: string) => Promise<unknown>, test: (session: NodesSession) => Promise<void>): Promise<void> {
  const { launcher } = await extensionApis('launcher');
  const binary = workspaceBitcoind();
  const run = await mkdtemp(join(tmpdir(), 'bitcoin-usdt-nodes-'));
  const tracees: TraceeWithFiles[] = [];
  try {
    const sessionId = await vscode.commands.executeCommand<string | undefined>('bitcoinUsdt.startProbe', { tool, binaryPath: binary, pid: 'all' });
    assert.ok(sessionId, 'startProbe did not start a session');
    await attached(sessionId);
    await test({ run, node: (n, scenario, known) => runNode(binary, run, n, scenario, tracees, known) });
    await stopProbeAndCheck(launcher, sessionId, binary);
  } finally {
    if (launcher.activeSession()) await vscode.commands.executeCommand('bitcoinUsdt.stopProbe');
    for (const tracee of tracees) await tracee.kill();
    await rm(run, { recursive: true, force: true });
  }
}

describe('Node selector (every process of a build, live)', function () {
  this.timeout(240_000);
  liveProbeSuiteHooks('The node selector tests');

  it('P2P panel: lists both nodes (a restart is the same node), one node shows only its peers and counts, All nodes has a Node column', async () => {
    const { p2pPanel } = await extensionApis('p2pPanel');
    const attached = (sessionId: string): Promise<unknown> =>
      waitForReport('the attach', (t) => p2pPanel.renderReport(t), (r) => r.sessionId === sessionId && /^Live · p2p-traffic/.test(r.sessionState), 90_000);
    await withNodesSession('p2p-traffic', attached, async ({ run, node: runAsNode }) => {
      const node = (n: number, seed: number): Promise<NodeRun> =>
        runAsNode(n, ['--scenario', 'p2p', '--count', String(150 + 40 * n), '--rate', '3000', '--peers', String(3 + n), '--seed', String(seed)], (pid) =>
          p2pPanel.nodeChoices().some((c) => c.name === `node${n}` && c.pids.includes(pid)),
        );
      const [node0, node1] = await Promise.all([node(0, 1), node(1, 2)]);
      const node0Again = await node(0, 3);

      const choices = await waitFor('two nodes, node0 with both its pids', 20_000, () => {
        const c = p2pPanel.nodeChoices();
        return c.length === 2 && c.find((n) => n.name === 'node0')?.pids.length === 2 ? c : undefined;
      });
      const key0 = choices.find((c) => c.name === 'node0')?.key;
      const key1 = choices.find((c) => c.name === 'node1')?.key;
      assert.equal(key0, join(run, 'node0'), 'a node is its datadir');
      assert.equal(key1, join(run, 'node1'));
      assert.deepEqual(choices.find((c) => c.name === 'node0')?.pids, [node0.pid, node0Again.pid]);
      const want0 = counts([node0, node0Again]);
      const want1 = counts([node1]);
      const wantAll = counts([node0, node1, node0Again]);

      // All nodes: every peer of both nodes, each row naming its node.
      const all = await waitForReport(
        'all nodes',
        (t) => p2pPanel.renderReport(t),
        (r) => r.nodes.shown && r.totalPeers === wantAll.peers && r.receivedText.startsWith(`${formatCount(wantAll.inbound)} msgs`) && r.messageRowCount > 0 &&
          // each node's node:exit comes when the helper next polls /proc
          r.nodes.options.slice(1).every((o) => o.endsWith('(ended)')),
        30_000,
      );
      assert.deepEqual(all.nodes.options, ['All nodes (2)', 'node0 (ended)', 'node1 (ended)']);
      assert.equal(all.nodes.selected, 'All nodes (2)');
      assert.ok(all.firstRows.length > 0 && all.firstRows.every((row) => row.node === 'node0' || row.node === 'node1'), JSON.stringify(all.firstRows));
      assert.equal(all.lostText, 'Lost events: 0');
      await screenshotPanel('node-selector-all-nodes', () => vscode.commands.executeCommand('bitcoinUsdt.showP2pPanel'), () => p2pPanel.renderReport());

      // One node, picked in the page as the user would: only its peers and its counts, no Node column.
      const only = async (key: string, name: string, want: { inbound: number; peers: number }): Promise<P2pRenderReport> => {
        p2pPanel.pickNode(key);
        const report = await waitForReport(
          name,
          (t) => p2pPanel.renderReport(t),
          // The selected peer's messages too (its key is `pid:id`).
          (r) => r.nodes.selected.startsWith(name) && r.totalPeers === want.peers && r.receivedText.startsWith(`${formatCount(want.inbound)} msgs`) && r.messageRowCount > 0,
          30_000,
        );
        assert.equal(p2pPanel.selectedNode, key, 'the page told the host');
        assert.ok(report.firstRows.length > 0 && report.firstRows.every((row) => row.node === undefined), 'no Node column for one node');
        assert.equal(report.lostText, 'Lost events: 0');
        return report;
      };
      await only(key1 ?? '', 'node1', want1);
      await screenshotPanel('node-selector-one-node', () => vscode.commands.executeCommand('bitcoinUsdt.showP2pPanel'), () => p2pPanel.renderReport());
      await only(key0 ?? '', 'node0', want0);
      assert.notEqual(want0.peers, want1.peers, 'the two nodes differ (the test would not tell them apart otherwise)');

      p2pPanel.pickNode(null);
      const back = await waitForReport('all nodes again', (t) => p2pPanel.renderReport(t), (r) => r.nodes.selected.startsWith('All nodes') && r.totalPeers === wantAll.peers);
      assert.ok(back.firstRows.every((row) => row.node === 'node0' || row.node === 'node1'));
      assert.equal(p2pPanel.selectedNode, null);
      assert.equal(back.activeElementsInPanel, 0);
    });
  });

  it('a tool panel (utxos): each node\'s rows alone, and a Node column naming each row\'s node with all nodes', async () => {
    const { toolPanels } = await extensionApis('toolPanels');
    const operations = (text: string): number => Number(/^([\d,]+) operations?/.exec(text)?.[1].replace(/,/g, '') ?? NaN);
    const attached = (sessionId: string): Promise<unknown> =>
      waitForReport('the attach', (t) => toolPanels.renderReport('utxos', t), (r) => r.sessionId === sessionId && /^Live · utxos/.test(r.sessionState), 90_000);
    await withNodesSession('utxos', attached, async ({ run, node: runAsNode }) => {
      const node = (n: number): Promise<NodeRun> =>
        runAsNode(n, ['--scenario', 'utxocache', '--count', String(40 + 25 * n), '--rate', '2000', '--seed', String(n + 1)], (pid) =>
          toolPanels.nodeChoices('utxos').some((c) => c.name === `node${n}` && c.pids.includes(pid)),
        );
      const [node0, node1] = await Promise.all([node(0), node(1)]);
      const keys = toolPanels.nodeChoices('utxos').map((c) => c.key).sort();
      assert.deepEqual(keys, [join(run, 'node0'), join(run, 'node1')]);

      const total = node0.expect.length + node1.expect.length;
      const all = await waitForReport('all nodes', (t) => toolPanels.renderReport('utxos', t), (r) => operations(r.matchText) === total && r.nodes.options.length === 3 && r.nodes.options.slice(1).every((o) => o.endsWith('(ended)')), 30_000);
      assert.equal(all.columns[0], 'Node');
      assert.deepEqual(all.nodes.options, ['All nodes (2)', 'node0 (ended)', 'node1 (ended)']);
      const shownNodes = new Set(all.firstRows.map((row) => row[0]));
      assert.ok([...shownNodes].every((name) => name === 'node0' || name === 'node1'), JSON.stringify(all.firstRows));

      for (const [key, name, want] of [[join(run, 'node1'), 'node1', node1], [join(run, 'node0'), 'node0', node0]] as const) {
        toolPanels.pickNode('utxos', key);
        const one = await waitForReport(name, (t) => toolPanels.renderReport('utxos', t), (r) => r.nodes.selected.startsWith(name) && operations(r.matchText) === want.expect.length, 30_000);
        assert.equal(toolPanels.selectedNode('utxos'), key);
        assert.notEqual(one.columns[0], 'Node', 'no Node column for one node');
        assert.equal(one.lostText, 'Lost events: 0');
      }
      toolPanels.pickNode('utxos', null);
      const back = await waitForReport('all nodes again', (t) => toolPanels.renderReport('utxos', t), (r) => r.columns[0] === 'Node' && operations(r.matchText) === total);
      assert.equal(back.activeElementsInPanel, 0);
    });
  });
});

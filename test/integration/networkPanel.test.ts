// The Network panel and its message sequence view in a real VS Code, on a real two-node trace: the recordings
// test/fixtures/network/two-nodes (two real bitcoind regtest nodes, each traced by the real p2p-traffic and
// connectblock-benchmark probes; scripts/make-network-captures.ts) replayed with Open recording….

import { strict as assert } from 'node:assert';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as vscode from 'vscode';
import type { NormalizedEvent } from '../../src/core/events/eventTypes';
import { loadRecording } from '../../src/core/events/recording';
import { NetworkModel } from '../../src/core/network/networkModel';
import { formatCount } from '../../src/shared/format';
import type { NetworkRenderReport } from '../../src/shared/networkProtocol';
import { closePanelTabs, extensionApis, focusPanelForScreenshots, repoRoot, waitForReport } from './integrationHelpers';
import { screenshot, setWindowSize } from './screenshot';

const capture = join(repoRoot, 'test', 'fixtures', 'network', 'two-nodes');
const threeNodes = join(repoRoot, 'test', 'fixtures', 'network', 'three-nodes');
const files = ['node0.p2p-traffic.ndjson', 'node1.p2p-traffic.ndjson', 'node0.connectblock-benchmark.ndjson', 'node1.connectblock-benchmark.ndjson'];

describe('Network panel', function () {
  this.timeout(120_000);

  after(async () => {
    await closePanelTabs('bitcoinUsdt.networkPanel');
    await vscode.commands.executeCommand('workbench.view.explorer');
  });

  it('shows the two real nodes, the two connections between them, and every message once from sender to receiver', async () => {
    const { networkPanel } = await extensionApis('networkPanel');
    // What the model makes of the same recordings (the pairing itself is checked against both debug.logs in the unit tests).
    const expected = new NetworkModel();
    for (const file of files) {
      const recording = await loadRecording(join(capture, file));
      assert.deepEqual(recording.malformed, []);
      expected.addSession({ id: file, pid: recording.header.pid, startedAt: recording.header.started_at });
      expected.ingest(file, recording.events as NormalizedEvent[]);
    }
    for (const file of files) expected.endSession(file);
    const want = expected.snapshot();

    await closePanelTabs('bitcoinUsdt.networkPanel');
    networkPanel.clear();
    for (const file of files) assert.ok(await vscode.commands.executeCommand<string | undefined>('bitcoinUsdt.openRecording', vscode.Uri.file(join(capture, file))));
    await focusPanelForScreenshots(() => vscode.commands.executeCommand('bitcoinUsdt.showNetworkPanel'));
    assert.equal(networkPanel.isOpen, true);

    const report: NetworkRenderReport = await waitForReport(
      'the Network panel',
      (t) => networkPanel.renderReport(t),
      (r) => r.nodes.length === 2 && r.connectionRows === 2 && r.sequence.total > 0,
      90_000, // the first webview of a window waits for code-server's service worker; slow on a loaded machine
    );
    assert.deepEqual([...report.nodes].sort(), ['node0', 'node1']);
    const matched = want.connections.filter((c) => c.state === 'matched');
    assert.equal(matched.length, 2);
    for (const c of matched) {
      const from = want.nodes.find((n) => n.key === c.fromNode)?.name;
      const to = want.nodes.find((n) => n.key === c.toNode)?.name;
      const text = report.connectionTexts.find((t) => t.startsWith(`${from} #${c.fromPeerId} | ${to} #${c.toPeerId} | manual | matched`));
      assert.ok(text, `a row ${from} → ${to} in ${JSON.stringify(report.connectionTexts)}`);
      assert.ok(text.includes(`${formatCount(c.directions[0].sent)} sent · ${formatCount(c.directions[0].paired)} paired`), text);
      assert.ok(text.includes(`${formatCount(c.directions[1].sent)} sent · ${formatCount(c.directions[1].paired)} paired`), text);
    }
    // The sequence: every message between the two nodes once (sends of both directions), plus both nodes' blocks.
    const messages = matched.reduce((sum, c) => sum + c.directions[0].sent + c.directions[1].sent, 0);
    assert.equal(report.sequence.total, messages + 2 * 102, 'every message once, and the 102 blocks each node connected');
    assert.equal(report.sequence.paired, messages, 'every message paired');
    assert.equal(report.sequence.unpaired, 0);
    assert.ok(report.sequence.renderedRows > 5 && report.sequence.renderedRows < 120, `virtual rows: ${report.sequence.renderedRows} in the DOM`);
    assert.ok(report.sequence.firstRows.some((row) => /\| (ping|pong|inv|headers|getdata|tx|sendcmpct|cmpctblock|block|feefilter|getheaders) · \d/.test(row)), JSON.stringify(report.sequence.firstRows));
    assert.equal(report.activeElementsInPanel, 0);
    await screenshot('network-panel');
  });

  it('swapping the pair draws the same messages the other way round', async () => {
    const { networkPanel } = await extensionApis('networkPanel');
    const before = await networkPanel.renderReport();
    assert.ok(before.sequence.nodeA && before.sequence.nodeB);
    networkPanel.selectPair(before.sequence.nodeB, before.sequence.nodeA);
    const after = await waitForReport('the swapped sequence', (t) => networkPanel.renderReport(t), (r) => r.sequence.nodeA === before.sequence.nodeB);
    assert.equal(after.sequence.total, before.sequence.total);
    assert.equal(after.sequence.paired, before.sequence.paired);
  });

  it('fits its tables in the panel at 1400×900 and 1600×1000: a long node name, connections to an untraced node', async () => {
    const { networkPanel } = await extensionApis('networkPanel');
    // Two of the three real nodes of test/fixtures/network/three-nodes traced (node2 is not: node1's connection to
    // it and node2's to node0 are unpaired), node1 in a datadir with a long name (nodes are named by their datadir).
    const longName = 'regtest-datadir-for-the-compact-block-relay-experiment';
    const dir = mkdtempSync(join(tmpdir(), 'bitcoin-usdt-network-fit-'));
    try {
      const paths = ['node0.p2p-traffic.ndjson', 'node1.p2p-traffic.ndjson'].map((file) => {
        const lines = readFileSync(join(threeNodes, file), 'utf8').split('\n').filter((l) => l !== '');
        const renamed = lines.map((line) => {
          const event = JSON.parse(line) as Record<string, unknown>;
          if (event.event !== 'node' || event.node !== 'node1') return line;
          return JSON.stringify({ ...event, node: longName, datadir: `${String(event.run)}/${longName}` });
        });
        const path = join(dir, file);
        writeFileSync(path, `${renamed.join('\n')}\n`);
        return path;
      });
      await closePanelTabs('bitcoinUsdt.networkPanel');
      networkPanel.clear();
      for (const path of paths) assert.ok(await vscode.commands.executeCommand<string | undefined>('bitcoinUsdt.openRecording', vscode.Uri.file(path)));
      await focusPanelForScreenshots(() => vscode.commands.executeCommand('bitcoinUsdt.showNetworkPanel'));
      const shown = (r: NetworkRenderReport): boolean => r.nodes.includes(longName) && r.connectionRows === 3;
      const usual = await waitForReport('the Network panel at 1400×900', (t) => networkPanel.renderReport(t), shown, 90_000);
      assert.deepEqual(
        networkPanel.snapshot().connections.map((c) => c.state).sort(),
        ['matched', 'other end not found', 'peer not traced'],
        'node0–node1 matched; node1 → node2 and node2 → node0 with their other end untraced',
      );
      await screenshot('network-panel-1400x900');
      assert.ok(await setWindowSize('network-panel-fit', { width: 1600, height: 1000 }), 'the offline runner sets the window size');
      let large: NetworkRenderReport;
      try {
        large = await waitForReport('the Network panel at 1600×1000', (t) => networkPanel.renderReport(t), shown);
        await screenshot('network-panel-1600x1000');
      } finally {
        await setWindowSize('network-panel-fit-end', undefined);
      }
      for (const [size, report] of [['1400×900', usual], ['1600×1000', large]] as const) {
        assert.equal(report.connectionTableCutPx, 0, `the connections table cuts its last column at ${size}`);
        assert.equal(report.nodeTableCutPx, 0, `the nodes table cuts its last column at ${size}`);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('shows hostile node names and message types as text (no element, bidi shown escaped)', async () => {
    const { networkPanel } = await extensionApis('networkPanel');
    // The real two-node trace with a node named and a message type replaced by hostile text on both sides.
    const hostileType = '<img src=x onerror=alert(1)>\u202Eping';
    const hostileName = 'node1<svg onload=alert(1)>\u202E';
    const dir = mkdtempSync(join(tmpdir(), 'bitcoin-usdt-hostile-network-'));
    try {
      const paths = ['node0.p2p-traffic.ndjson', 'node1.p2p-traffic.ndjson'].map((file) => {
        const lines = readFileSync(join(capture, file), 'utf8').split('\n').filter((l) => l !== '');
        const changed = lines.map((line, index) => {
          if (index === 0) return line;
          const event = JSON.parse(line) as Record<string, unknown>;
          if (event.msg_type === 'ping') event.msg_type = hostileType;
          if (event.event === 'node' && event.node === 'node1') event.node = hostileName;
          return JSON.stringify(event);
        });
        const path = join(dir, `hostile-${file}`);
        writeFileSync(path, `${changed.join('\n')}\n`);
        return path;
      });
      networkPanel.clear();
      for (const path of paths) assert.ok(await vscode.commands.executeCommand<string | undefined>('bitcoinUsdt.openRecording', vscode.Uri.file(path)));
      // The P2P panel came to the front for the recordings: bring the Network panel back.
      await focusPanelForScreenshots(() => vscode.commands.executeCommand('bitcoinUsdt.showNetworkPanel'));
      const report = await waitForReport('the hostile network', (t) => networkPanel.renderReport(t), (r) => r.nodes.length === 2 && r.connectionRows === 2 && r.sequence.paired > 0, 60_000);
      assert.ok(report.nodes.includes('node1<svg onload=alert(1)>\\u202E'), JSON.stringify(report.nodes));
      assert.equal(report.sequence.unpaired, 0, 'the hostile type pairs like any other');
      assert.equal(report.activeElementsInPanel, 0);
      assert.equal(report.imgElementsInDocument, 0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

// Several probes at once in the real VS Code: the workspace's bitcoind (the v29 tracee, its `demo` scenario
// firing P2P, UTXO cache, connection and mempool tracepoints) probed by two and three tools started together
// (one `startProbe` with several requests, as the multi-select tool picker does: one helper in one terminal)
// and one after another (a terminal each);
// every panel fills, the status bar counts them all, stopping one leaves the others delivering, and after
// stopping all nothing is left running.

import { strict as assert } from 'node:assert';
import * as vscode from 'vscode';
import type { LaunchRequest } from '../../src/extension/launch/launchRequest';
import type { LauncherApi } from '../../src/extension/launch/launcherApi';
import {
  assertNoProbeProcessesWithin,
  collectEvents,
  extensionApis,
  liveProbeSuiteHooks,
  p2pPanelReport,
  probeProcessesOf,
  sessionEnd,
  startTracee,
  toolPanelReport,
  waitFor,
  workspaceBitcoind,
  type StartedTracee,
} from './integrationHelpers';
import { screenshot } from './screenshot';

const PANEL_MS = 60_000;

function startDemoTracee(binary: string): Promise<StartedTracee> {
  return startTracee(binary, ['--scenario', 'demo', '--rate', '300', '--duration-ms', '600000']);
}

/** Events each session has delivered so far (tracepoint events only, as the status bar counts). */
function deliveredBy(launcher: LauncherApi, sessionIds: readonly string[]): number[] {
  const sessions = launcher.activeSessions();
  return sessionIds.map((id) => sessions.find((s) => s.descriptor.id === id)?.counters.delivered ?? -1);
}

describe('several probes at once', function () {
  this.timeout(180_000);
  liveProbeSuiteHooks('the several-probes tests');
  const tracees: StartedTracee[] = [];

  afterEach(async () => {
    const { launcher } = await extensionApis('launcher');
    if (launcher.activeSessions().length > 0) await vscode.commands.executeCommand('bitcoinUsdt.stopProbe', 'all');
    for (const tracee of tracees.splice(0)) await tracee.kill();
  });

  it('starts three tools together on one node: every panel fills, stopping one leaves the other two delivering, stopping all leaves nothing', async () => {
    const { launcher } = await extensionApis('launcher');
    const binary = workspaceBitcoind();
    const tracee = await startDemoTracee(binary);
    tracees.push(tracee);
    const requests: LaunchRequest[] = ['p2p-traffic', 'utxos', 'p2p-connections'].map((tool) => ({ tool, binaryPath: binary, pid: tracee.pid }));

    const ids = await vscode.commands.executeCommand<string[] | undefined>('bitcoinUsdt.startProbe', requests);
    assert.ok(Array.isArray(ids) && ids.length === 3, `three sessions started: ${JSON.stringify(ids)}`);
    const [p2pId, utxosId, connectionsId] = ids;
    assert.deepEqual(launcher.activeSessions().map((s) => s.descriptor.tool), ['p2p-traffic', 'utxos', 'p2p-connections']);
    assert.equal(new Set(launcher.activeSessions().map((s) => s.terminal)).size, 1, 'probes started together share one terminal (one password)');
    assert.equal(launcher.activeSessions()[0].command.filter((a) => a === 'run').length, 3, 'one helper starts the three sessions');
    const collected = ids.map((id) => collectEvents(launcher, id));
    try {
      // The panels open as tabs; a webview renders only while its tab shows, so each is brought forward to be read.
      const { toolPanels } = await extensionApis('toolPanels');
      await vscode.commands.executeCommand('bitcoinUsdt.showP2pPanel');
      await p2pPanelReport((r) => r.sessionId === p2pId && r.peerRowCount > 0 && r.messageRowCount > 0, PANEL_MS);
      toolPanels.focus('utxos');
      await toolPanelReport('utxos', (r) => r.sessionId === utxosId && r.rowCount >= 20, PANEL_MS);
      toolPanels.focus('p2p-connections');
      await toolPanelReport('p2p-connections', (r) => r.sessionId === connectionsId && r.rowCount >= 1, PANEL_MS);
      assert.ok(launcher.activeSessions().every((s) => s.state === 'connected'));
      const status = await waitFor('the status bar to count all three probes', 15_000, () => {
        const text = launcher.statusBarText();
        return /^\$\(pulse\) 3 probes · [1-9][\d,]* ev\/s · lost \d[\d,]*$/.test(text) ? text : undefined;
      });
      assert.ok(status);
      await screenshot('multi-probe-three-panels');

      // Stop one by id: the two others keep running and delivering.
      const utxosEnded = sessionEnd(launcher, utxosId);
      await vscode.commands.executeCommand('bitcoinUsdt.stopProbe', utxosId);
      assert.equal(await utxosEnded, 'stopped from VS Code');
      assert.deepEqual(launcher.activeSessions().map((s) => s.descriptor.id), [p2pId, connectionsId]);
      const before = deliveredBy(launcher, [p2pId, connectionsId]);
      const eventsBefore = collected.map((c) => c.events.length);
      await waitFor('the two remaining probes to deliver more events', 30_000, () => {
        const now = deliveredBy(launcher, [p2pId, connectionsId]);
        return now.every((n, i) => n > before[i]) ? now : undefined;
      });
      await waitFor('the hub to receive more events from both', 15_000, () => collected[0].events.length > eventsBefore[0] && collected[2].events.length > eventsBefore[2]);
      assert.equal(collected[1].events.length, eventsBefore[1], 'nothing more from the stopped probe');
      await waitFor('the status bar to count two probes', 10_000, () => /^\$\(pulse\) 2 probes · /.test(launcher.statusBarText()));
      assert.equal((await probeProcessesOf(binary)).length, 5, 'the helper, its two sessions\' children and their two bpftrace processes run');

      // Stop all.
      const allEnded = [p2pId, connectionsId].map((id) => sessionEnd(launcher, id));
      await vscode.commands.executeCommand('bitcoinUsdt.stopProbe', 'all');
      assert.deepEqual(await Promise.all(allEnded), ['stopped from VS Code', 'stopped from VS Code']);
      assert.deepEqual(launcher.activeSessions(), []);
      await assertNoProbeProcessesWithin(binary, 10_000);
      assert.equal(launcher.statusBarText(), '', 'the status bar item is hidden once no probe runs');
      assert.ok(tracee.running(), 'stopping the probes does not touch bitcoind');
    } finally {
      for (const c of collected) c.dispose();
    }
  });

  it('starts two tools one after the other without asking to stop the first, and stops them one by one', async () => {
    const { launcher } = await extensionApis('launcher');
    const binary = workspaceBitcoind();
    const tracee = await startDemoTracee(binary);
    tracees.push(tracee);

    const first = await vscode.commands.executeCommand<string | undefined>('bitcoinUsdt.startProbe', { tool: 'p2p-traffic', binaryPath: binary, pid: tracee.pid });
    assert.ok(first);
    await p2pPanelReport((r) => r.sessionId === first && r.messageRowCount > 0, PANEL_MS);
    const second = await vscode.commands.executeCommand<string | undefined>('bitcoinUsdt.startProbe', { tool: 'utxos', binaryPath: binary, pid: tracee.pid });
    assert.ok(second && second !== first);
    await toolPanelReport('utxos', (r) => r.sessionId === second && r.rowCount >= 20, PANEL_MS);
    assert.equal(launcher.activeSessions().length, 2);
    assert.equal(launcher.activeSession()?.descriptor.id, second, 'activeSession is the newest');

    const firstEnded = sessionEnd(launcher, first);
    await vscode.commands.executeCommand('bitcoinUsdt.stopProbe', first);
    assert.equal(await firstEnded, 'stopped from VS Code');
    const before = deliveredBy(launcher, [second])[0];
    await waitFor('the second probe to keep delivering', 30_000, () => deliveredBy(launcher, [second])[0] > before);
    await waitFor('the status bar to show the one probe left', 10_000, () => /^\$\(pulse\) utxos · /.test(launcher.statusBarText()));

    // One probe left: Stop probe without an argument stops it, as before.
    const secondEnded = sessionEnd(launcher, second);
    await vscode.commands.executeCommand('bitcoinUsdt.stopProbe');
    assert.equal(await secondEnded, 'stopped from VS Code');
    await assertNoProbeProcessesWithin(binary, 10_000);
    assert.equal(launcher.statusBarText(), '');
  });
});

import { strict as assert } from 'node:assert';
import * as vscode from 'vscode';
import type { NormalizedEvent } from '../../src/core/events/eventTypes';
import type { P2pRenderReport } from '../../src/shared/p2pProtocol';
import { screenshot } from './screenshot';
import { acceptPromptsUntilSettled, collectEvents, extensionApis, toolPanelReport, liveProbeSuiteHooks, p2pPanelReport, rawPanelReport, sessionEnd, startTraceeWithFiles, waitFor, workspaceBitcoind } from './integrationHelpers';

const en = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 });
/** The peer the test filters on, of the tracee's three. */
const PEER = 1;

describe('Kernel filter from the panels', function () {
  this.timeout(240_000);
  liveProbeSuiteHooks('The kernel filter tests');

  it('restarts a live p2p-traffic session with a peer filter (by arguments and by the panel button): the message list shows only that peer, the fired counts and the peer table stay exact over all peers; then clears it', async () => {
    const { launcher, p2pPanel: panel } = await extensionApis('launcher', 'p2pPanel');
    const binary = workspaceBitcoind();
    // Three peers' messages, fired only on SIGUSR1 (once the filtered session is attached); it stays alive after.
    const tracee = await startTraceeWithFiles(binary, ['--scenario', 'p2p', '--count', '900', '--rate', '3000', '--peers', '3', '--wait-signal', '--linger-ms', '600000']);
    const published = new Map<string, NormalizedEvent[]>();
    const subscription = launcher.onDidReceiveEvents(({ session, events }) => {
      published.set(session.id, [...(published.get(session.id) ?? []), ...events]);
    });
    const startOf = (sessionId: string): NormalizedEvent | undefined => published.get(sessionId)?.find((e) => e.event === 'session:start');
    const liveAndOffered = (sessionId: string): Promise<unknown> =>
      p2pPanelReport((r) => r.sessionId === sessionId && r.kernelFilterShown && r.sessionState.startsWith('Live'), 60_000);
    try {
      const first = await vscode.commands.executeCommand<string | undefined>('bitcoinUsdt.startProbe', { tool: 'p2p-traffic', binaryPath: binary, pid: tracee.pid });
      assert.ok(first, 'startProbe did not start a session');
      await liveAndOffered(first);

      // By the command's arguments: the session is stopped and started again with the filter.
      const firstEnded = sessionEnd(launcher, first);
      const filtered = await vscode.commands.executeCommand<string | undefined>('bitcoinUsdt.filterProbe', first, [`peer=${PEER}`]);
      assert.ok(filtered && filtered !== first, 'filterProbe did not start a new session');
      await firstEnded;
      const [running] = launcher.activeSessions();
      assert.deepEqual(launcher.activeSessions().map((s) => s.descriptor.id), [filtered]);
      assert.deepEqual(running.descriptor.params, { peer: String(PEER) });
      assert.equal(running.descriptor.pid, tracee.pid);
      assert.ok(running.command.join(' ').includes(`--param peer=${PEER}`), `the root command does not carry the filter: ${running.command.join(' ')}`);
      await liveAndOffered(filtered);
      assert.deepEqual((startOf(filtered) as { filters?: Record<string, string> }).filters, { peer: String(PEER) });

      // By the panel's button: the prompts come prefilled with the session's filters; accepting them keeps them.
      const filteredEnded = sessionEnd(launcher, filtered);
      const restarted = waitFor('the session started by the Kernel filter… button', 60_000, () =>
        launcher.activeSessions().find((s) => s.descriptor.id !== filtered && s.descriptor.tool === 'p2p-traffic')?.descriptor.id);
      panel.pressKernelFilter();
      await acceptPromptsUntilSettled(restarted);
      const pressed = await restarted;
      await filteredEnded;
      assert.deepEqual(launcher.activeSessions().map((s) => s.descriptor.params), [{ peer: String(PEER) }]);
      await liveAndOffered(pressed);

      process.kill(tracee.pid, 'SIGUSR1');
      await waitFor('the tracee to print "done"', 60_000, () => /done fired=\d+/.test(tracee.stdout()));
      const outcome = await tracee.outcome();
      const messages = outcome.expect.filter((e) => e.event === 'net:inbound_message' || e.event === 'net:outbound_message');
      const peers = new Set(messages.map((m) => m.peer_id));
      assert.equal(peers.size, 3, 'the tracee fired messages of three peers');
      const mine = messages.filter((m) => m.peer_id === PEER);
      assert.ok(mine.length > 0 && mine.length < messages.length);

      // The fired counts the panel holds (and sends the page) are the kernel's over every peer, exactly.
      const firedOf = (name: string): number | undefined => panel.sessionCounters(pressed)?.fired.find((f) => f.name === name)?.count;
      await waitFor('the fired counts over every peer', 30_000, () =>
        firedOf('net:inbound_message') === outcome.fired['net:inbound_message'] && firedOf('net:outbound_message') === outcome.fired['net:outbound_message']);
      // The peer table counts every message of every peer (the kernel's per-peer counts), filtered out or not, and
      // says so; Received and Sent are over all messages too.
      const everyPeer = new Map<string, { msgsIn: number; bytesIn: number; msgsOut: number; bytesOut: number }>();
      for (const m of messages) {
        const totals = everyPeer.get(String(m.peer_id)) ?? { msgsIn: 0, bytesIn: 0, msgsOut: 0, bytesOut: 0 };
        if (m.event === 'net:inbound_message') {
          totals.msgsIn++;
          totals.bytesIn += Number(m.msg_size);
        } else {
          totals.msgsOut++;
          totals.bytesOut += Number(m.msg_size);
        }
        everyPeer.set(String(m.peer_id), totals);
      }
      const allInbound = messages.filter((m) => m.event === 'net:inbound_message').length;
      const allOutbound = messages.length - allInbound;
      const rowsOf = (r: { firstRows: P2pRenderReport['firstRows'] }): Map<string, unknown> =>
        new Map(r.firstRows.map((row) => [row.id, { msgsIn: row.msgsIn, bytesIn: row.bytesIn, msgsOut: row.msgsOut, bytesOut: row.bytesOut }]));
      const report = await p2pPanelReport(
        (r) => r.sessionId === pressed && r.receivedText.startsWith(`${en.format(allInbound)} msgs`) && r.sentText.startsWith(`${en.format(allOutbound)} msgs`) && r.totalPeers === 3,
        30_000,
      );
      assert.deepEqual(rowsOf(report), everyPeer);
      assert.match(report.kernelFilterNote, new RegExp(`^Filtered in the kernel \\(peer ${PEER}\\): the peers, their totals and Received/Sent count every message, filtered out or not`));
      assert.equal(report.lostAlarm, false, report.lostText);
      assert.equal(panel.sessionCounters(pressed)?.lostEvents, 0);
      await screenshot('p2p-kernel-filter');
      // The message list shows only that peer's messages, every one of them, nothing lost.
      const shown = (published.get(pressed) ?? []).filter((e) => e.event === 'net:inbound_message' || e.event === 'net:outbound_message');
      assert.equal(shown.length, mine.length);
      assert.ok(shown.every((e) => 'peer_id' in e && e.peer_id === PEER));
      // The top row (the most messages in over all) is selected: its list holds its filtered messages, none for a
      // peer filtered out.
      const listed = await p2pPanelReport((r) => r.sessionId === pressed && r.selectedPeerId === r.firstRows[0]?.id, 30_000);
      const expectedRows = listed.selectedPeerId === String(PEER) ? Math.min(mine.length, 500) : 0;
      await p2pPanelReport((r) => r.sessionId === pressed && r.selectedPeerId === listed.selectedPeerId && r.messageRowCount === expectedRows, 30_000);

      // Clear filters: every prompt empty, here an empty list.
      const pressedEnded = sessionEnd(launcher, pressed);
      const cleared = await vscode.commands.executeCommand<string | undefined>('bitcoinUsdt.filterProbe', pressed, []);
      assert.ok(cleared && cleared !== pressed);
      await pressedEnded;
      assert.deepEqual(launcher.activeSessions().map((s) => s.descriptor.params), [{}]);
      await liveAndOffered(cleared);
      assert.equal((startOf(cleared) as { filters?: Record<string, string> }).filters, undefined);
    } finally {
      subscription.dispose();
      if (launcher.activeSession()) await vscode.commands.executeCommand('bitcoinUsdt.stopProbe', 'all');
      await tracee.kill();
    }
  });

  it('offers Kernel filter… in the raw messages panel: a raw-p2p-msgs session restarted with peer and type filters streams only those messages, the fired counts stay exact over all', async () => {
    const { launcher, rawMessagesPanel: panel } = await extensionApis('launcher', 'rawMessagesPanel');
    const binary = workspaceBitcoind();
    const tracee = await startTraceeWithFiles(binary, ['--scenario', 'p2p', '--count', '900', '--rate', '3000', '--peers', '3', '--wait-signal', '--linger-ms', '600000']);
    let collected: ReturnType<typeof collectEvents> | undefined;
    const liveAndOffered = (sessionId: string): Promise<{ sessionState: string }> =>
      rawPanelReport((r) => r.sessionId === sessionId && r.kernelFilterShown && r.sessionState.startsWith('live'), 90_000);
    const filters = { peer: String(PEER), msg_type: 'inv' };
    try {
      const first = await vscode.commands.executeCommand<string | undefined>('bitcoinUsdt.startProbe', { tool: 'raw-p2p-msgs', binaryPath: binary, pid: tracee.pid });
      assert.ok(first, 'startProbe did not start a session');
      assert.doesNotMatch((await liveAndOffered(first)).sessionState, /filtered in the kernel/);

      const filtered = await vscode.commands.executeCommand<string | undefined>('bitcoinUsdt.filterProbe', first, [`peer=${PEER}`, 'type=inv']);
      assert.ok(filtered && filtered !== first, 'filterProbe did not start a new session');
      const [running] = launcher.activeSessions();
      assert.deepEqual(launcher.activeSessions().map((s) => s.descriptor.id), [filtered]);
      assert.deepEqual(running.descriptor.params, filters);
      assert.ok(running.command.join(' ').includes(`--param peer=${PEER} --param msg_type=inv`), `the root command does not carry the filters: ${running.command.join(' ')}`);
      assert.match((await liveAndOffered(filtered)).sessionState, new RegExp(`^live · only peer ${PEER}, type inv \\(filtered in the kernel\\) · `));

      // By the panel's button: the prompts come prefilled with the session's filters; accepting them keeps them.
      const restarted = waitFor('the session started by the Kernel filter… button', 60_000, () =>
        launcher.activeSessions().find((s) => s.descriptor.id !== filtered && s.descriptor.tool === 'raw-p2p-msgs')?.descriptor.id);
      panel.pressKernelFilter();
      await acceptPromptsUntilSettled(restarted);
      const pressed = await restarted;
      await waitFor('the filtered session to end', 30_000, () => !launcher.activeSessions().some((s) => s.descriptor.id === filtered));
      assert.deepEqual(launcher.activeSessions().map((s) => s.descriptor.params), [filters]);
      await liveAndOffered(pressed);
      panel.applyUiState({ filter: { msgType: '', peerId: '', direction: '', text: '' } });
      // The tracee fires only now: every message and the cumulative fired counts are collected from here.
      collected = collectEvents(launcher, pressed);
      const events = collected.events;

      process.kill(tracee.pid, 'SIGUSR1');
      await waitFor('the tracee to print "done"', 60_000, () => /done fired=\d+/.test(tracee.stdout()));
      const outcome = await tracee.outcome();
      const messages = outcome.expect.filter((e) => e.event === 'net:inbound_message' || e.event === 'net:outbound_message');
      const mine = messages.filter((m) => m.peer_id === PEER && m.msg_type === 'inv');
      assert.ok(mine.length > 0 && mine.length < messages.length / 5, `${mine.length} of ${messages.length} match`);
      // The panel lists exactly the matching messages, nothing lost; the kernel's fired counts are over every message.
      const report = await rawPanelReport((r) => r.sessionId === pressed && r.matching === mine.length, 30_000);
      assert.ok(report.firstRows.length > 0 && report.firstRows.every((row) => row.peer.startsWith(`${PEER}`) && row.msgType === 'inv'), JSON.stringify(report.firstRows.slice(0, 3)));
      assert.equal(report.lostText, 'Lost: 0');
      assert.equal(events.filter((e) => e.event === 'net:inbound_message' || e.event === 'net:outbound_message').length, mine.length);
      await waitFor('the fired counts over every message', 30_000, () => {
        const last = events.filter((e) => e.event === 'fired').pop();
        return last?.event === 'fired' && last.counts['net:inbound_message'] === outcome.fired['net:inbound_message'] && last.counts['net:outbound_message'] === outcome.fired['net:outbound_message'];
      });
    } finally {
      collected?.dispose();
      if (launcher.activeSession()) await vscode.commands.executeCommand('bitcoinUsdt.stopProbe', 'all');
      await tracee.kill();
    }
  });

  it("offers Kernel filter… in the utxos tool panel: its prompts come prefilled with the session's filters and restart it with them", async () => {
    const { launcher, toolPanels } = await extensionApis('launcher', 'toolPanels');
    const binary = workspaceBitcoind();
    const tracee = await startTraceeWithFiles(binary, ['--scenario', 'utxocache', '--wait-signal', '--linger-ms', '600000']);
    const liveAndOffered = (sessionId: string): Promise<unknown> =>
      toolPanelReport('utxos', (r) => r.sessionId === sessionId && r.kernelFilterShown && r.sessionState.startsWith('Live'), 60_000);
    try {
      const first = await vscode.commands.executeCommand<string | undefined>('bitcoinUsdt.startProbe', { tool: 'utxos', binaryPath: binary, pid: tracee.pid });
      assert.ok(first, 'startProbe did not start a session');
      await liveAndOffered(first);
      const filtered = await vscode.commands.executeCommand<string | undefined>('bitcoinUsdt.filterProbe', first, ['op=spent', 'txid=0a', 'sample=2']);
      assert.ok(filtered && filtered !== first, 'filterProbe did not start a new session');
      assert.deepEqual(launcher.activeSessions().map((s) => s.descriptor.params), [{ op: 'spent', txid_high: '10', txid_bits: '8', sample: '2' }]);
      await liveAndOffered(filtered);

      const restarted = waitFor('the session started by the Kernel filter… button', 60_000, () =>
        launcher.activeSessions().find((s) => s.descriptor.id !== filtered && s.descriptor.tool === 'utxos')?.descriptor.id);
      toolPanels.pressKernelFilter('utxos');
      await acceptPromptsUntilSettled(restarted);
      const pressed = await restarted;
      await waitFor('the filtered session to end', 30_000, () => !launcher.activeSessions().some((s) => s.descriptor.id === filtered));
      assert.deepEqual(launcher.activeSessions().map((s) => s.descriptor.params), [{ op: 'spent', txid_high: '10', txid_bits: '8', sample: '2' }]);
      await liveAndOffered(pressed);

      const cleared = await vscode.commands.executeCommand<string | undefined>('bitcoinUsdt.filterProbe', pressed, []);
      assert.ok(cleared && cleared !== pressed);
      assert.deepEqual(launcher.activeSessions().map((s) => s.descriptor.params), [{}]);
      await liveAndOffered(cleared);
    } finally {
      if (launcher.activeSession()) await vscode.commands.executeCommand('bitcoinUsdt.stopProbe', 'all');
      await tracee.kill();
    }
  });
});

import { strict as assert } from 'node:assert';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as vscode from 'vscode';
import { loadRecording, RecordingWriter } from '../../src/core/events/recording';
import type { NormalizedEvent } from '../../src/core/events/eventTypes';
import { escapeInvisible } from '../../src/shared/visibleText';
import { closePanelTabs, extensionApis, p2pPanelReport, repoRoot, sessionEnd, startTracee, waitFor, workspaceBitcoind } from './integrationHelpers';
import { screenshot } from './screenshot';
import { netMessage } from '../netMessageEvent';

const demoRecording = join(repoRoot, 'demo', 'recordings', 'p2p-traffic-demo.ndjson');

/** The tracee's arguments to fire P2P messages from `peers` peers until killed. */
const p2pScenario = (peers: number): string[] => ['--scenario', 'p2p', '--rate', '300', '--duration-ms', '600000', '--peers', String(peers)];

interface ExpectedPeer {
  addr: string;
  connType: string;
  messages: number;
}

function expectedPeers(events: readonly NormalizedEvent[]): Map<string, ExpectedPeer> {
  const peers = new Map<string, ExpectedPeer>();
  for (const event of events) {
    if (event.event !== 'net:inbound_message' && event.event !== 'net:outbound_message') continue;
    const id = String(event.peer_id);
    const peer = peers.get(id) ?? { addr: '', connType: '', messages: 0 };
    peer.addr = event.peer_addr;
    peer.connType = event.conn_type;
    peer.messages++;
    peers.set(id, peer);
  }
  return peers;
}

function sumOf(events: readonly NormalizedEvent[], kind: 'lost' | 'truncated'): number {
  let total = 0;
  for (const event of events) if (event.event === kind) total += event.count;
  return total;
}

const temporaryDirectories: string[] = [];

async function temporaryDirectory(): Promise<string> {
  const directory = await mkdtemp(join(tmpdir(), 'bitcoin-usdt-p2p-'));
  temporaryDirectories.push(directory);
  return directory;
}

describe('P2P traffic panel', function () {
  this.timeout(90_000);

  after(async () => {
    for (const directory of temporaryDirectories.splice(0)) await rm(directory, { recursive: true, force: true });
  });

  it('replays the shipped demo recording and shows its peers, messages and charts', async () => {
    assert.ok(existsSync(demoRecording), `the shipped recording ${demoRecording} is missing`);
    const { p2pPanel: panel } = await extensionApis('p2pPanel');
    const recording = await loadRecording(demoRecording);
    const peers = expectedPeers(recording.events);
    assert.ok(peers.size > 0, 'the demo recording has no P2P messages');

    const sessionId = await vscode.commands.executeCommand<string | undefined>('bitcoinUsdt.openRecording', vscode.Uri.file(demoRecording));
    assert.ok(sessionId, 'Open recording returned no session');
    assert.equal(panel.isOpen, true, 'the panel did not open for a P2P recording');
    assert.equal(panel.currentSessionId, sessionId);

    const report = await p2pPanelReport((r) => r.sessionId === sessionId && r.peerRowCount === Math.min(peers.size, 1000) && r.messageRowCount > 0);
    assert.equal(report.totalPeers, peers.size);
    for (const row of report.firstRows) {
      const expected = peers.get(row.id);
      assert.ok(expected, `the panel shows peer ${row.id}, which is not in the recording`);
      assert.equal(row.addr, escapeInvisible(expected.addr), `address of peer ${row.id}`);
      assert.equal(row.connType, escapeInvisible(expected.connType), `connection type of peer ${row.id}`);
    }
    // The top row (sorted by messages in, descending) is selected and its messages are listed.
    assert.equal(report.selectedPeerId, report.firstRows[0].id);
    const selected = peers.get(report.firstRows[0].id);
    assert.ok(selected);
    assert.equal(report.messageRowCount, Math.min(selected.messages, 500));
    assert.equal(report.lostText, `Lost events: ${sumOf(recording.events, 'lost').toLocaleString('en-US')}`);
    assert.equal(report.truncatedText, `Cut strings: ${sumOf(recording.events, 'truncated').toLocaleString('en-US')}`);
    assert.ok(report.messageTypeRowCount > 0, 'no message-type rows');
    assert.ok(report.chartCanvasCount >= 2, `expected two chart canvases, found ${report.chartCanvasCount}`);
    assert.equal(report.activeElementsInPanel, 0, 'data produced elements in the panel');
    assert.equal(report.imgElementsInDocument, 0);
    await screenshot('p2p-panel');

    // The charts take their colors from the theme: they are redrawn when it changes.
    const workbench = vscode.workspace.getConfiguration('workbench');
    const previousTheme = workbench.inspect<string>('colorTheme')?.globalValue;
    await workbench.update('colorTheme', 'Default Dark Modern', vscode.ConfigurationTarget.Global);
    try {
      const dark = await p2pPanelReport((r) => r.sessionId === sessionId && r.chartCanvasCount >= 2);
      assert.equal(dark.peerRowCount, report.peerRowCount);
      await new Promise((r) => setTimeout(r, 500));
      await screenshot('p2p-panel-dark');
    } finally {
      await workbench.update('colorTheme', previousTheme, vscode.ConfigurationTarget.Global);
    }
  });

  it('renders hostile peer strings as visible text, never as markup', async () => {
    const directory = await temporaryDirectory();
    const path = join(directory, 'hostile.ndjson');
    const addrs = [
      '<img src=x onerror="document.title=1">:8333',
      '1.2.3.4\u202E3338:evil',
      '<script>alert(1)</script>\u0000\u001b[31m',
      'zero\u200Bwidth\u2066isolate\u2069:1',
    ];
    const types = ['<b>bold</b>', 'inv\u202E', '"quoted",\\', '<iframe src=x>'];
    const writer = await RecordingWriter.create(path, { tool: 'p2p-traffic', started_at: new Date().toISOString(), binary: null, pid: null, producer: 'p2pPanel.test' });
    const events: NormalizedEvent[] = [{ event: 'session:start', tool: 'p2p-traffic', binary: '<img src=x>', pid: 1 }];
    for (let i = 0; i < 400; i++) {
      const peer = i % addrs.length;
      // Peer 0 gets the most inbound messages, so it is the top row.
      const direction = peer === 0 || i % 2 === 0 ? 'in' : 'out';
      events.push(netMessage(direction, 1_000_000 * i, 100 + peer, types[i % types.length], 10 + i, addrs[peer], peer === 2 ? 'inbound<svg onload=x>' : 'inbound'));
    }
    events.push({ event: 'lost', count: 7, source: 'bpftrace' }, { event: 'truncated', field: 'peer_addr', count: 2 });
    writer.write(events);
    await writer.close();
    // One damaged line in the middle: reported once, the rest loaded.
    await writeFile(path, readFileSync(path, 'utf8') + '{"event": "net:inbound_message", "peer_id": \n' + JSON.stringify(netMessage('in', 5e9, 100, 'late', 1, addrs[0], 'inbound')) + '\n');

    const sessionId = await vscode.commands.executeCommand<string | undefined>('bitcoinUsdt.openRecording', vscode.Uri.file(path));
    assert.ok(sessionId);
    const report = await p2pPanelReport((r) => r.sessionId === sessionId && r.peerRowCount === addrs.length && r.messageRowCount > 0);
    const shownAddrs = report.firstRows.map((r) => r.addr).sort();
    assert.deepEqual(shownAddrs, addrs.map(escapeInvisible).sort());
    assert.ok(shownAddrs.includes('1.2.3.4\\u202E3338:evil'), 'the RLO character is not shown as a visible escape');
    assert.ok(report.firstRows.some((r) => r.connType === 'inbound<svg onload=x>'));
    assert.equal(report.firstRows[0].id, '100');
    assert.equal(report.selectedPeerId, '100');
    // Peer 100 received every message of types[0] and types[0 + 4k]… (i % 4 === 0): all '<b>bold</b>', plus 'late'.
    assert.ok(report.firstMessageTypes.length > 0);
    for (const type of report.firstMessageTypes) assert.ok(['<b>bold</b>', 'late'].includes(type), `unexpected message type text ${JSON.stringify(type)}`);
    assert.equal(report.activeElementsInPanel, 0, 'hostile strings produced elements');
    assert.equal(report.imgElementsInDocument, 0);
    assert.equal(report.lostText, 'Lost events: 7');
    assert.equal(report.truncatedText, 'Cut strings: 2');
    assert.equal(report.lostAlarm, true);
    await screenshot('p2p-panel-hostile');
  });

  it('opens the recording named by bitcoinUsdt.startupRecording (relative to the workspace folder)', async () => {
    const { p2pPanel: panel } = await extensionApis('p2pPanel');
    const folder = vscode.workspace.workspaceFolders?.[0];
    assert.ok(folder, 'no workspace folder');
    const relative = 'startup-demo.ndjson';
    await writeFile(join(folder.uri.fsPath, relative), readFileSync(demoRecording));
    const before = panel.currentSessionId;
    const configuration = vscode.workspace.getConfiguration('bitcoinUsdt', folder.uri);
    await configuration.update('startupRecording', relative, vscode.ConfigurationTarget.WorkspaceFolder);
    try {
      const report = await p2pPanelReport((r) => r.sessionId !== before && r.sessionId !== null && r.peerRowCount > 0);
      const opened = panel.recordings().find((r) => r.sessionId === report.sessionId);
      assert.ok(opened, 'the new session has no recording file');
      assert.equal(opened.path, join(folder.uri.fsPath, relative));
      assert.equal(opened.live, false);
    } finally {
      await configuration.update('startupRecording', undefined, vscode.ConfigurationTarget.WorkspaceFolder);
    }
  });

  it('opens for a live p2p-traffic session and records it automatically to a readable file', async () => {
    assert.equal(process.getuid?.(), 0, 'this test attaches a real probe and runs as root (as on CI)');
    const { launcher, p2pPanel: panel } = await extensionApis('launcher', 'p2pPanel');
    const binary = workspaceBitcoind();
    // Close the panel: a p2p session must open it by itself.
    await closePanelTabs('bitcoinUsdt.p2pPanel');
    await waitFor('the panel to close', 5_000, () => (panel.isOpen ? undefined : true));

    const tracee = await startTracee(binary, p2pScenario(3));
    const published: NormalizedEvent[] = [];
    let sessionId: string | undefined;
    const subscription = launcher.onDidReceiveEvents((received) => {
      if (received.session.id === sessionId) published.push(...received.events);
    });
    try {
      sessionId = await vscode.commands.executeCommand<string | undefined>('bitcoinUsdt.startProbe', { tool: 'p2p-traffic', binaryPath: binary, pid: tracee.pid });
      assert.ok(sessionId, 'startProbe did not start a session');
      const live = sessionId;
      assert.equal(panel.isOpen, true, 'the panel did not open for a live p2p-traffic session');
      assert.equal(panel.currentSessionId, live);
      const report = await p2pPanelReport((r) => r.sessionId === live && r.peerRowCount === 3 && r.messageRowCount > 0, 60_000);
      assert.deepEqual(report.firstRows.map((r) => r.id).sort(), ['0', '1', '2']);
      await screenshot('p2p-panel-live');

      const recorded = await waitFor('an automatic recording of the live session', 10_000, () => panel.recordings().find((r) => r.sessionId === live));
      assert.equal(recorded.live, true);
      assert.match(recorded.path, /[/\\]recordings[/\\][^/\\]+-p2p-traffic\.ndjson$/);

      const ended = sessionEnd(launcher, live);
      await vscode.commands.executeCommand('bitcoinUsdt.stopProbe');
      await ended;
      // The writer flushes and closes after the session ends: the file then holds every published event.
      const contents = await waitFor('the recording to hold every published event', 10_000, async () => {
        const loaded = await loadRecording(recorded.path);
        return loaded.events.length === published.length ? loaded : undefined;
      });
      assert.equal(contents.header.tool, 'p2p-traffic');
      assert.equal(contents.header.pid, tracee.pid);
      assert.deepEqual(contents.malformed, []);
      assert.deepEqual(contents.events, JSON.parse(JSON.stringify(published)));

      // Save recording… copies that file where the user says.
      const destination = join(await temporaryDirectory(), 'saved.ndjson');
      const saved = await vscode.commands.executeCommand<string | undefined>('bitcoinUsdt.saveRecording', { sessionId: live, destination: vscode.Uri.file(destination) });
      assert.equal(saved, destination);
      assert.equal(readFileSync(destination, 'utf8'), readFileSync(recorded.path, 'utf8'));
    } finally {
      subscription.dispose();
      if (launcher.activeSession()) await vscode.commands.executeCommand('bitcoinUsdt.stopProbe');
      await tracee.kill();
    }
  });

  it('shows a live p2p-monitor session from the kernel totals alone', async () => {
    assert.equal(process.getuid?.(), 0, 'this test attaches a real probe and runs as root (as on CI)');
    const { launcher, p2pPanel: panel } = await extensionApis('launcher', 'p2pPanel');
    const binary = workspaceBitcoind();
    const tracee = await startTracee(binary, p2pScenario(4));
    try {
      const sessionId = await vscode.commands.executeCommand<string | undefined>('bitcoinUsdt.startProbe', { tool: 'p2p-monitor', binaryPath: binary, pid: tracee.pid });
      assert.ok(sessionId, 'startProbe did not start a p2p-monitor session');
      assert.equal(panel.currentSessionId, sessionId);
      const report = await p2pPanelReport((r) => r.sessionId === sessionId && r.peerRowCount === 4 && r.messageTypeRowCount > 0, 60_000);
      assert.deepEqual(report.firstRows.map((r) => r.id).sort(), ['0', '1', '2', '3']);
      // No individual messages in this tool: the pane says so instead of listing any.
      assert.equal(report.messageRowCount, 0);
      assert.ok(report.chartCanvasCount >= 2);
      await screenshot('p2p-panel-monitor');
      await vscode.commands.executeCommand('bitcoinUsdt.stopProbe');
    } finally {
      if (launcher.activeSession()) await vscode.commands.executeCommand('bitcoinUsdt.stopProbe');
      await tracee.kill();
    }
  });

  it('refuses a recording of another format version with an error and opens no session', async () => {
    const { p2pPanel: panel } = await extensionApis('p2pPanel');
    const before = panel.currentSessionId;
    const directory = await temporaryDirectory();
    const path = join(directory, 'future.ndjson');
    await writeFile(path, `${JSON.stringify({ format: 'bitcoin-usdt-recording', version: 99, tool: 'p2p-traffic', started_at: '', binary: null, pid: null, producer: 'x' })}\n`);
    const sessionId = await vscode.commands.executeCommand<string | undefined>('bitcoinUsdt.openRecording', vscode.Uri.file(path));
    assert.equal(sessionId, undefined);
    assert.equal(panel.currentSessionId, before);
  });
});

import { strict as assert } from 'node:assert';
import { join } from 'node:path';
import * as vscode from 'vscode';
import { loadRecording } from '../../src/core/events/recording';
import { escapeInvisible } from '../../src/shared/visibleText';
import { closePanelTabs, extensionApis, focusPanelForScreenshots, rawPanelReport, repoRoot } from './integrationHelpers';
import { screenshot } from './screenshot';

const rawRecording = join(repoRoot, 'test', 'fixtures', 'recordings', 'raw-p2p-session.ndjson');

interface RecordedMessage {
  seq: number;
  type: string;
  addr: string;
  peer: string;
  direction: 'in' | 'out';
  size: number;
  captured: number;
}

async function recordedMessages(): Promise<RecordedMessage[]> {
  const recording = await loadRecording(rawRecording);
  assert.deepEqual(recording.malformed, []);
  const messages: RecordedMessage[] = [];
  for (const event of recording.events) {
    if (event.event !== 'net:inbound_message' && event.event !== 'net:outbound_message') continue;
    const fields = event as unknown as { captured: number; msg: string };
    assert.equal(typeof fields.msg, 'string', 'a raw-p2p-msgs recording carries the bytes');
    messages.push({
      seq: messages.length + 1,
      type: event.msg_type,
      addr: event.peer_addr,
      peer: String(event.peer_id),
      direction: event.event === 'net:inbound_message' ? 'in' : 'out',
      size: Number(event.msg_size),
      captured: fields.captured,
    });
  }
  return messages;
}

describe('Raw P2P messages panel', function () {
  this.timeout(90_000);

  after(async () => {
    // Give the side bar back to the suites that follow.
    await vscode.commands.executeCommand('workbench.view.explorer');
  });
  let sessionId: string | undefined;
  let messages: RecordedMessage[] = [];

  before(async () => {
    messages = await recordedMessages();
    assert.ok(messages.length > 300);
  });

  it('opens by itself for a raw-p2p-msgs recording and lists its messages, virtualized', async () => {
    const { rawMessagesPanel: panel } = await extensionApis('rawMessagesPanel');
    await closePanelTabs('bitcoinUsdt.rawMessagesPanel');
    sessionId = await vscode.commands.executeCommand<string | undefined>('bitcoinUsdt.openRecording', vscode.Uri.file(rawRecording));
    assert.ok(sessionId, 'Open recording returned no session');
    assert.equal(panel.isOpen, true, 'the panel did not open for a raw-p2p-msgs recording');
    assert.equal(panel.currentSessionId, sessionId);
    // The P2P traffic panel also opens for these net:* events (beside, in the same column): bring this one
    // to the front, as the user would with the command.
    await focusPanelForScreenshots(() => vscode.commands.executeCommand('bitcoinUsdt.showRawMessagesPanel'));
    const opened = sessionId;
    const report = await rawPanelReport((r) => r.sessionId === opened && r.matching === messages.length && r.listRowsInDom > 0 && r.decodedStatus !== '');
    // Only the rows in view exist; following the newest, the last rows are the newest messages.
    assert.ok(report.listRowsInDom < 80, `${report.listRowsInDom} list rows in the DOM`);
    const last = report.firstRows[report.firstRows.length - 1];
    assert.equal(last.seq, messages.length);
    assert.equal(last.msgType, messages[messages.length - 1].type);
    // Nothing selected yet: the newest message is selected and decoded.
    assert.equal(report.selectedSeq, messages.length);
    assert.equal(report.lostText, 'Lost: 3');
    assert.equal(report.lostAlarm, true);
    assert.equal(report.cutText, 'Cut messages: 1');
    assert.equal(report.droppedText, 'Dropped (memory bound): 0');
    assert.equal(report.activeElementsInPanel, 0);
  });

  it('shows a real version message as hex + ASCII and as a decoded tree', async () => {
    const { rawMessagesPanel: panel } = await extensionApis('rawMessagesPanel');
    const version = messages.find((m) => m.type === 'version' && m.direction === 'in' && m.size === 102);
    assert.ok(version, 'the recording has the real Bitcoin Core 22.0 version message');
    panel.applyUiState({ selectedSeq: version.seq, follow: false, filter: { msgType: '', peerId: '', direction: '', text: '' } });
    const report = await rawPanelReport((r) => r.selectedSeq === version.seq && r.decodedStatus === 'decoded' && r.hexRowsInDom > 0 && !r.firstHexRows[0].includes('…'));
    assert.equal(report.hexTotalRows, Math.ceil(102 / 16));
    assert.equal(report.hexRowsInDom, 7);
    assert.equal(report.firstHexRows[0], '00000000 | 80 11 01 00 09 04 00 00  00 00 00 00 e5 77 64 61 | .............wda');
    assert.ok(report.firstHexRows.some((row) => row.includes('/Satoshi')), JSON.stringify(report.firstHexRows));
    assert.ok(report.decodedLines.includes('user_agent = /Satoshi:22.0.0/'), JSON.stringify(report.decodedLines));
    assert.ok(report.decodedLines.includes('version = 70016'));
    assert.ok(report.decodedLines.includes('start_height = 704550'));
    assert.equal(report.decodedBanner, '');
    await screenshot('raw-messages-version');
  });

  it('filters hide messages; a cut 1,000,000-byte block is paged in hex and decoded as far as it goes', async () => {
    const { rawMessagesPanel: panel } = await extensionApis('rawMessagesPanel');
    const blocks = messages.filter((m) => m.type === 'block');
    const cut = blocks.find((m) => m.captured < m.size);
    assert.ok(cut && cut.size === 1_000_000 && cut.captured === 600_000);
    panel.applyUiState({ filter: { msgType: 'block', peerId: '', direction: 'in', text: '' }, selectedSeq: cut.seq, follow: false });
    const report = await rawPanelReport((r) => r.matching === blocks.length && r.listRowsInDom === blocks.length && r.selectedSeq === cut.seq && r.decodedStatus === 'partial' && r.hexRowsInDom > 0 && !r.firstHexRows[0].includes('…'));
    // The selected row reads in every kind of theme: all its text (the peer's address too) against the selection.
    const workbench = vscode.workspace.getConfiguration('workbench');
    try {
      for (const [theme, kind] of [['Default Light Modern', 'vscode-light'], ['Default High Contrast', 'vscode-high-contrast'], ['Default High Contrast Light', 'vscode-high-contrast-light'], ['Default Dark Modern', 'vscode-dark']]) {
        await workbench.update('colorTheme', theme, vscode.ConfigurationTarget.Global);
        const themed = await rawPanelReport((r) => r.themeKind === kind && r.selectedSeq === cut.seq && r.selectedRowContrast !== null);
        assert.ok((themed.selectedRowContrast ?? 0) >= 4.5, `${theme}: the selected row's text has a contrast of ${themed.selectedRowContrast?.toFixed(2)} (4.5 needed)`);
      }
    } finally {
      await workbench.update('colorTheme', undefined, vscode.ConfigurationTarget.Global);
    }
    assert.deepEqual(report.firstRows.map((r) => r.msgType), blocks.map(() => 'block'));
    const cutRow = report.firstRows.find((r) => r.seq === cut.seq);
    assert.ok(cutRow);
    assert.equal(cutRow.cut, true);
    assert.equal(cutRow.size, '976.6 KiB');
    assert.equal(cutRow.captured, '585.9 KiB');
    assert.equal(report.hexTotalRows, 37_500);
    assert.ok(report.hexRowsInDom < 100, `${report.hexRowsInDom} hex rows in the DOM`);
    assert.ok(report.elementCount < 3_000, `${report.elementCount} elements in the document`);
    assert.match(report.decodedBanner, /Cut message: decoded as far as the captured bytes go: transaction #\d+ is incomplete/);
    assert.match(report.decodedBanner, /captured 600,000 of 1,000,000 bytes: the message arrived cut/);
    assert.ok(report.decodedLines.some((l) => l.startsWith('header = 000000000019d6689c085ae165831e934ff763ae46a2a6c172b3f1b60a8ce26f')), JSON.stringify(report.decodedLines));
    assert.ok(report.decodedLines.some((l) => /^transactions = \d+ \(\d+ complete in the captured bytes\)$/.test(l)), JSON.stringify(report.decodedLines));
    await screenshot('raw-messages-cut-block');
  });

  it('shows hostile peer strings as text, never as markup, and says why a message cannot be decoded', async () => {
    const { rawMessagesPanel: panel } = await extensionApis('rawMessagesPanel');
    const hostile = messages.filter((m) => m.peer === '7' && m.addr.includes('onerror'));
    assert.equal(hostile.length, 2);
    panel.applyUiState({ filter: { msgType: '', peerId: '7', direction: '', text: 'ONERROR' }, selectedSeq: hostile[0].seq, follow: false });
    let report = await rawPanelReport((r) => r.matching === 2 && r.listRowsInDom === 2 && r.selectedSeq === hostile[0].seq && r.decodedStatus === 'not-supported');
    assert.deepEqual(report.firstRows.map((r) => r.msgType), hostile.map((m) => escapeInvisible(m.type)));
    assert.ok(report.firstRows.some((r) => r.msgType === 'inv\\u202Eevil'), 'the RLO character is not shown as a visible escape');
    assert.ok(report.firstRows.every((r) => r.peer === `7${escapeInvisible(hostile[0].addr)}`), JSON.stringify(report.firstRows));
    assert.match(report.decodedBanner, /^Not decoded: no decoder for message type "<script>alert\(1\)<\/script>"$/);
    assert.equal(report.activeElementsInPanel, 0, 'hostile strings produced elements');
    assert.equal(report.imgElementsInDocument, 0);
    await screenshot('raw-messages-hostile');

    const damaged = messages.find((m) => m.type === 'version' && m.size === 2);
    assert.ok(damaged);
    panel.applyUiState({ filter: { msgType: '', peerId: '', direction: '', text: 'svg onload' }, selectedSeq: damaged.seq });
    report = await rawPanelReport((r) => r.matching === 1 && r.listRowsInDom === 1 && r.selectedSeq === damaged.seq && r.decodedStatus === 'cannot-decode');
    assert.match(report.decodedBanner, /^cannot decode version: /);
    assert.equal(report.firstRows[0].peer, `7${escapeInvisible(damaged.addr)}`);
    assert.equal(report.activeElementsInPanel, 0);
    await screenshot('raw-messages-cannot-decode');
    panel.applyUiState({ filter: { msgType: '', peerId: '', direction: '', text: '' }, follow: true });
  });
});

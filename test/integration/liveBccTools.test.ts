// The BCC tools live in the real VS Code: `bitcoinUsdt.startProbe` runs the real helper and BCC program against the
// PID of the workspace's bitcoind (the v29 tracee), which starts firing the instant the tool's semaphores go up
// (--wait-attach; the programs raise them only once attached, so every event counts), the panels show what fired,
// and Stop leaves no helper or BCC program behind.

import { strict as assert } from 'node:assert';
import * as vscode from 'vscode';
import { loadRecording } from '../../src/core/events/recording';
import { findTool } from '../../src/core/tools/toolCatalog';
import {
  closePanelTabs,
  column,
  extensionApis,
  liveProbeSuiteHooks,
  rawPanelReport,
  screenshotPanel,
  sessionRecording,
  startTraceeWithFiles,
  stopProbeAndCheck,
  toolPanelReport,
  waitFor,
  workspaceBitcoind,
  type ProbePrograms,
  type TraceeEvent,
  type TraceeOutcome,
  type TraceeWithFiles,
} from './integrationHelpers';

const en = (n: number): string => n.toLocaleString('en-US');
const oneDecimal = new Intl.NumberFormat('en-US', { maximumFractionDigits: 1 });
const EMPTY_RAW_FILTER = { msgType: '', peerId: '', direction: '', text: '' } as const;

/** The helper and BCC programs. */
const HELPER_AND_BCC: ProbePrograms = {
  what: 'helper/BCC program',
  matches: (args) => args.some((a) => ['bitcoin-usdt-helper.py', 'raw-p2p-msgs.py', 'mempool-monitor.py'].some((program) => a.endsWith(program))),
};

/** Waits for `done`: the tracee fired, wrote its files and lingers. */
async function fired(tracee: TraceeWithFiles, timeoutMs: number): Promise<TraceeOutcome> {
  await waitFor('the tracee to print "done"', timeoutMs, () => /done fired=\d+/.test(tracee.stdout()));
  return tracee.outcome();
}

interface LiveBccRun {
  sessionId: string;
  outcome: TraceeOutcome;
  recording: string;
}

/**
 * Starts the tracee (waiting for the tool's semaphores) and the tool against its PID, lets `live` check the panel
 * once the tracee fired, stops the session (nothing left running) and returns what fired.
 */
async function runLiveBcc(options: { tool: string; traceeArgs: string[]; live: (sessionId: string, outcome: TraceeOutcome) => Promise<void> }): Promise<LiveBccRun> {
  const { launcher } = await extensionApis('launcher');
  const binary = workspaceBitcoind();
  const tracepoints = findTool(options.tool)?.tracepoints;
  assert.ok(tracepoints, `unknown tool ${options.tool}`);
  // The v29 tracee: fires one scenario from the moment the semaphores are up, writes its files, then lingers (the
  // probe keeps its target).
  const tracee = await startTraceeWithFiles(binary, [...options.traceeArgs, '--wait-attach', tracepoints.join(','), '--linger-ms', '600000']);
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
    const outcome = await fired(tracee, 30_000);
    await options.live(sessionId, outcome);
    assert.match(launcher.statusBarText(), new RegExp(`^\\$\\(pulse\\) ${options.tool} · .* · lost 0$`));
    await stopProbeAndCheck(launcher, sessionId, binary, HELPER_AND_BCC);
    assert.ok(tracee.running(), 'stopping the probe must not touch the tracee');
    return { sessionId, outcome, recording: await sessionRecording(sessionId) };
  } finally {
    subscription.dispose();
    if (launcher.activeSession()) await vscode.commands.executeCommand('bitcoinUsdt.stopProbe');
    await tracee.kill();
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

describe('BCC tools live (real helper and BCC against the workspace bitcoind)', function () {
  this.timeout(90_000);

  after(async () => {
    // The raw session also opened the P2P traffic panel (net:* events): leave no page with its state behind.
    await closePanelTabs('bitcoinUsdt.p2pPanel');
  });
  liveProbeSuiteHooks('the live BCC tool tests');

  it('raw-p2p-msgs: every message listed with its exact size, captured whole (35,000 and 1,000,000 bytes too), bytes and decoded view match', async () => {
    const { rawMessagesPanel } = await extensionApis('rawMessagesPanel');
    const pattern = traceeMessageBytes(1_000_000);
    let messages: TraceeEvent[] = [];
    const run = await runLiveBcc({
      tool: 'raw-p2p-msgs',
      traceeArgs: ['--scenario', 'raw', '--count', '24', '--rate', '50'],
      live: async (sessionId, outcome) => {
        messages = outcome.expect;
        assert.equal(messages.length, 24);
        assert.equal(messages.length, outcome.fired['net:inbound_message'] + outcome.fired['net:outbound_message']);
        assert.equal(rawMessagesPanel.currentSessionId, sessionId);
        await vscode.commands.executeCommand('bitcoinUsdt.showRawMessagesPanel');
        const all = await rawPanelReport((r) => r.sessionId === sessionId && r.matching === messages.length && r.listRowsInDom > 0);
        assert.equal(all.lostText, 'Lost: 0');
        assert.equal(all.cutText, 'Cut messages: 0');
        assert.equal(all.droppedText, 'Dropped (memory bound): 0');
        assert.equal(all.lostAlarm, false);

        // Type by type (the list is virtualized): every message, in firing order, with its size and whole.
        for (const msgType of [...new Set(messages.map((m) => String(m.msg_type)))]) {
          const ofType = messages.map((m, i) => ({ message: m, seq: i + 1 })).filter(({ message }) => message.msg_type === msgType);
          rawMessagesPanel.applyUiState({ filter: { ...EMPTY_RAW_FILTER, msgType }, selectedSeq: null, follow: true });
          const report = await rawPanelReport((r) => r.matching === ofType.length && r.listRowsInDom === ofType.length && r.firstRows.every((row) => row.msgType === msgType));
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
          const report = await rawPanelReport((r) => r.selectedSeq === seq && r.hexTotalRows === Math.ceil(size / 16) && r.hexRowsInDom > 0 && !r.firstHexRows.some((row) => row.includes('…')));
          assert.ok(report.hexRowsInDom < 100, `${report.hexRowsInDom} hex rows in the DOM`);
          for (const row of report.firstHexRows) assert.equal(row, hexRow(pattern, parseInt(row.slice(0, 8), 16)));
          assert.equal(report.firstHexRows[0], hexRow(pattern, 0));
        }

        // A ping decodes: its nonce is the tracee's first 8 bytes, little-endian.
        const pingSeq = messages.findIndex((m) => m.msg_type === 'ping') + 1;
        rawMessagesPanel.applyUiState({ filter: EMPTY_RAW_FILTER, selectedSeq: pingSeq, follow: false });
        const ping = await rawPanelReport((r) => r.selectedSeq === pingSeq && r.decodedStatus === 'decoded' && r.hexRowsInDom === 1 && !r.firstHexRows[0].includes('…'));
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
          () => rawPanelReport((r) => r.selectedSeq === blockSeq && r.hexRowsInDom > 0 && !r.firstHexRows.some((row) => row.includes('…')) && r.listRowsInDom > 0),
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
    const { toolPanels } = await extensionApis('toolPanels');
    const run = await runLiveBcc({
      tool: 'mempool-monitor',
      traceeArgs: ['--scenario', 'mempool', '--count', '3000', '--rate', '1500', '--burst-size', '400', '--seed', '41'],
      live: async (sessionId, { fired, expect }) => {
        assert.ok(toolPanels.isOpen('mempool-monitor'), 'the mempool panel opened for the session');
        toolPanels.focus('mempool-monitor');
        const total = ['added', 'removed', 'replaced', 'rejected'].reduce((n, kind) => n + fired[`mempool:${kind}`], 0);
        assert.equal(total, expect.length);
        const final = await toolPanelReport('mempool-monitor', (r) => r.sessionId === sessionId && r.summary.Added === en(fired['mempool:added']) && r.rowCount === Math.min(total, 1000), 30_000);
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
        const log = await toolPanelReport('mempool-monitor', (r) => r.filter.kind === 'replaced' && r.rowCount === replaced.length);
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
          assert.equal(row[column(log, 'Reason')],
            `by ${by} ${String(e.replacement_id).slice(0, 16)}…: ${String(e.replacement_vsize)} vB, fee ${en(Number(e.replacement_fee))} sat (${replacementRate} sat/vB)`);
        }
        await screenshotPanel('live-mempool-monitor', () => toolPanels.focus('mempool-monitor'), () => toolPanelReport('mempool-monitor', (r) => r.filter.kind === 'replaced' && r.rowCount === replaced.length));
        toolPanels.setFilter('mempool-monitor', { text: '', kind: '' });
        await toolPanelReport('mempool-monitor', (r) => r.filter.kind === '' && r.rowCount === Math.min(total, 1000));
      },
    });
    const recording = await loadRecording(run.recording);
    assert.deepEqual(recording.malformed, []);
    assert.equal(recording.header.tool, 'mempool-monitor');
    const counted = recording.events.filter((e) => e.event.startsWith('mempool:')).length;
    assert.equal(counted, run.outcome.expect.length, 'the recording holds every event that fired');
  });
});

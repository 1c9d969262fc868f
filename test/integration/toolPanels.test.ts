import { strict as assert } from 'node:assert';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as vscode from 'vscode';
import { loadRecording, RecordingWriter } from '../../src/core/events/recording';
import type { NormalizedEvent } from '../../src/core/events/eventTypes';
import type { ToolFilter, ToolPanelTool, ToolRenderReport } from '../../src/shared/toolPanelProtocol';
import { escapeInvisible } from '../../src/shared/visibleText';
import type { ToolPanelsTestApi } from '../../src/extension/toolPanels/registerToolPanels';
import { formatDuration } from '../../src/shared/format';
import { assertChartsReadable, column, extensionApis, repoRoot, toolPanelReport } from './integrationHelpers';
import { screenshot } from './screenshot';

const fixtures = join(repoRoot, 'test', 'fixtures', 'recordings');

/** Events as plain records (the tool events' own types are decoded elsewhere). */
type Fields = Record<string, unknown> & { event: string; elapsed_ns?: number };

async function toolPanels(): Promise<ToolPanelsTestApi> {
  return (await extensionApis('toolPanels')).toolPanels;
}

async function events(tool: string): Promise<Fields[]> {
  const recording = await loadRecording(join(fixtures, `${tool}.ndjson`));
  assert.deepEqual(recording.malformed, []);
  return recording.events as unknown as Fields[];
}

function sumOf(all: readonly Fields[], kind: 'lost' | 'truncated'): number {
  return all.filter((e) => e.event === kind).reduce((total, e) => total + Number(e.count), 0);
}

const en = (n: number): string => n.toLocaleString('en-US');

/** Opens the fixture recording; the tool's panel must open by itself and show the new session. */
async function openFixture(panels: ToolPanelsTestApi, tool: ToolPanelTool, rows: number): Promise<ToolRenderReport> {
  const sessionId = await vscode.commands.executeCommand<string | undefined>('bitcoinUsdt.openRecording', vscode.Uri.file(join(fixtures, `${tool}.ndjson`)));
  assert.ok(sessionId, 'Open recording returned no session');
  assert.equal(panels.isOpen(tool), true, `the ${tool} panel did not open for a ${tool} recording`);
  assert.equal(panels.currentSessionId(tool), sessionId);
  const report = await toolPanelReport(tool, (r) => r.sessionId === sessionId && r.rowCount === rows);
  assert.equal(report.tool, tool);
  return report;
}

function assertNoMarkup(report: ToolRenderReport): void {
  assert.equal(report.activeElementsInPanel, 0, 'data produced elements in the panel');
  assert.equal(report.imgElementsInDocument, 0, 'an <img> element exists');
  assert.equal(report.scriptElementsInDocument, report.scriptElementsAtStart, 'data added a <script> element to the document');
  assert.ok(report.scriptElementsAtStart >= 1, 'the report did not count the panel bundle itself');
}

async function filtered(panels: ToolPanelsTestApi, tool: ToolPanelTool, filter: ToolFilter, rows: number): Promise<ToolRenderReport> {
  panels.setFilter(tool, filter);
  return toolPanelReport(tool, (r) => r.filter.text === filter.text && r.filter.kind === filter.kind && r.rowCount === rows);
}

/** A screenshot of the tool's panel with its editor group maximized (restored afterwards). */
async function panelScreenshot(panels: ToolPanelsTestApi, tool: ToolPanelTool, alsoDark = false): Promise<void> {
  panels.focus(tool);
  await new Promise((r) => setTimeout(r, 300));
  await vscode.commands.executeCommand('workbench.action.toggleMaximizeEditorGroup');
  try {
    // Let the webview re-layout (charts and the timeline follow the new width).
    await new Promise((r) => setTimeout(r, 800));
    await screenshot(`tool-panel-${tool}`);
    if (alsoDark) {
      const workbench = vscode.workspace.getConfiguration('workbench');
      await workbench.update('colorTheme', 'Default Dark Modern', vscode.ConfigurationTarget.Global);
      try {
        await new Promise((r) => setTimeout(r, 1_500));
        await screenshot(`tool-panel-${tool}-dark`);
      } finally {
        await workbench.update('colorTheme', undefined, vscode.ConfigurationTarget.Global);
      }
    }
  } finally {
    await vscode.commands.executeCommand('workbench.action.toggleMaximizeEditorGroup');
  }
}

describe('Tool panels', function () {
  this.timeout(90_000);

  it('p2p-connections: timeline and table from a recording, hostile strings as text, filters hide rows, message counts joined', async () => {
    const panels = await toolPanels();
    // A P2P traffic session in the hub first: its messages are joined to connections by peer id.
    const directory = await mkdtemp(join(tmpdir(), 'bitcoin-usdt-tools-'));
    const trafficPath = join(directory, 'traffic.ndjson');
    const writer = await RecordingWriter.create(trafficPath, { tool: 'p2p-traffic', started_at: new Date().toISOString(), binary: null, pid: null, producer: 'toolPanels.test' });
    const traffic: NormalizedEvent[] = [];
    for (let i = 0; i < 7; i++) traffic.push({ event: 'net:inbound_message', elapsed_ns: i, peer_id: 11, peer_addr: '203.0.113.7:8333', conn_type: 'outbound-full-relay', msg_type: 'inv', msg_size: 61 });
    for (let i = 0; i < 3; i++) traffic.push({ event: 'net:outbound_message', elapsed_ns: 10 + i, peer_id: 11, peer_addr: '203.0.113.7:8333', conn_type: 'outbound-full-relay', msg_type: 'getdata', msg_size: 37 });
    writer.write(traffic);
    await writer.close();
    assert.ok(await vscode.commands.executeCommand<string | undefined>('bitcoinUsdt.openRecording', vscode.Uri.file(trafficPath)));

    const all = await events('p2p-connections');
    const opened = all.filter((e) => e.event === 'net:inbound_connection' || e.event === 'net:outbound_connection');
    const closedOnly = new Set(all.filter((e) => e.event === 'net:closed_connection' && !opened.some((o) => o.peer_id === e.peer_id)).map((e) => e.peer_id));
    const report = await openFixture(panels, 'p2p-connections', opened.length + closedOnly.size);
    const peer = column(report, 'Peer');
    const addr = column(report, 'Address');
    // Newest connection first.
    const newest = opened[opened.length - 1];
    assert.equal(report.firstRows[0][peer], String(newest.peer_id));
    assert.equal(report.firstRows[0][addr], escapeInvisible(String(newest.peer_addr)));
    assert.equal(report.firstRows[0][column(report, 'Network')], String(newest.network_name));
    const shownAddrs = report.firstRows.map((r) => r[addr]);
    assert.ok(shownAddrs.includes('<img src=x onerror="document.title=1">:8333'), 'the hostile address is not shown as text');
    assert.ok(shownAddrs.includes('10.1.2.3\\u202E3338:evil'), 'the RLO character is not shown as a visible escape');
    assert.equal(report.summary.Evicted, en(all.filter((e) => e.event === 'net:evicted_inbound_connection').length));
    assert.equal(report.summary.Misbehaving, en(all.filter((e) => e.event === 'net:misbehaving_connection').length));
    assert.equal(report.lostText, `Lost events: ${en(sumOf(all, 'lost'))}`);
    assert.equal(report.truncatedText, `Cut strings: ${en(sumOf(all, 'truncated'))}`);
    assert.equal(report.lostAlarm, true);
    assert.ok(report.chartCanvasCount >= 1, 'no timeline canvas');
    assertNoMarkup(report);
    // The joined message counts of peer 11 (7 in, 3 out).
    const row11 = report.firstRows.find((r) => r[peer] === '11') ?? assert.fail('peer 11 is not among the first rows');
    assert.equal(row11[column(report, 'In/out')], '7 / 3');
    assert.match(report.summary['Messages from'], /traffic\.ndjson/);
    await panelScreenshot(panels, 'p2p-connections', true);

    const evicted = await filtered(panels, 'p2p-connections', { text: '', kind: 'evicted' }, 1);
    assert.equal(evicted.firstRows[0][peer], '17');
    assert.equal(evicted.firstRows[0][column(evicted, 'Misbehaving')], 'invalid-blk\\u202Egnirts');
    assert.match(evicted.matchText, /^1 of 11 connections/);
    const onion = await filtered(panels, 'p2p-connections', { text: 'ONION', kind: '' }, 1);
    assert.equal(onion.firstRows[0][peer], '13');
    await filtered(panels, 'p2p-connections', { text: '', kind: '' }, opened.length + closedOnly.size);
  });

  it('utxocache-flush: every flush in the table (FORCE_SYNC included) and three charts', async () => {
    const panels = await toolPanels();
    const all = await events('utxocache-flush');
    const flushes = all.filter((e) => e.event === 'utxocache:flush');
    const report = await openFixture(panels, 'utxocache-flush', flushes.length);
    const last = flushes[flushes.length - 1];
    assert.equal(report.firstRows[0][column(report, '#')], String(flushes.length));
    assert.equal(report.firstRows[0][column(report, 'Mode')], 'FORCE_SYNC');
    assert.equal(report.firstRows[0][column(report, 'Coins')], en(Number(last.coins_count)));
    assert.equal(report.firstRows[0][column(report, 'Memory')], `${(Number(last.coins_mem_usage) / 2 ** 20).toLocaleString('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 2 })} MB`);
    assert.equal(report.firstRows[0][column(report, 'Duration')], `${(Number(last.duration_us) / 1000).toLocaleString('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 2 })} ms`);
    assert.equal(report.summary.Flushes, en(flushes.length));
    assert.ok(report.chartCanvasCount >= 3, `expected three charts, found ${report.chartCanvasCount} canvases`);
    assert.equal(report.lostText, 'Lost events: 0');
    assert.equal(report.lostAlarm, false);
    assertNoMarkup(report);
    await panelScreenshot(panels, 'utxocache-flush');
    const prune = await filtered(panels, 'utxocache-flush', { text: '', kind: 'prune' }, flushes.filter((e) => e.is_flush_for_prune === true).length);
    for (const row of prune.firstRows) assert.equal(row[column(prune, 'Prune')], 'yes');
    await filtered(panels, 'utxocache-flush', { text: '', kind: '' }, flushes.length);
  });

  it('utxos: exact kernel counts, rates, the operation log, losses, and filters by txid prefix and operation', async () => {
    const panels = await toolPanels();
    const all = await events('utxos');
    const ops = all.filter((e) => /^utxocache:(add|spent|uncache)$/.test(e.event));
    const reports = all.filter((e) => e.event === 'utxocache:ops');
    const kernel = reports[reports.length - 1].counts as Record<string, number>;
    const report = await openFixture(panels, 'utxos', Math.min(ops.length, 1000));
    assert.equal(report.summary.Added, en(kernel.add));
    assert.equal(report.summary.Spent, en(kernel.spent));
    assert.equal(report.summary.Uncached, en(kernel.uncache));
    assert.equal(report.summary.Counts, 'exact (kernel)');
    const lost = sumOf(all, 'lost');
    assert.ok(lost > 0);
    assert.equal(report.lostText, `Lost events: ${en(lost)}`);
    assert.equal(report.lostAlarm, true);
    const newest = ops[ops.length - 1];
    assert.equal(report.firstRows[0][column(report, 'Outpoint')], `${String(newest.txid)}:${String(newest.index)}`);
    assert.equal(report.firstRows[0][column(report, 'Value (sat)')], en(Number(newest.value)));
    assert.equal(report.firstRows[0][column(report, 'Op')], newest.event.slice('utxocache:'.length));
    assert.ok(report.chartCanvasCount >= 1);
    assertNoMarkup(report);
    await panelScreenshot(panels, 'utxos');

    const uncached = ops.filter((e) => e.event === 'utxocache:uncache').length;
    const onlyUncache = await filtered(panels, 'utxos', { text: '', kind: 'uncache' }, uncached);
    for (const row of onlyUncache.firstRows) assert.equal(row[column(onlyUncache, 'Op')], 'uncache');
    const prefix = String(ops[10].txid).slice(0, 6);
    const withPrefix = ops.filter((e) => String(e.txid).startsWith(prefix)).length;
    const byPrefix = await filtered(panels, 'utxos', { text: prefix, kind: '' }, withPrefix);
    for (const row of byPrefix.firstRows) assert.ok(row[column(byPrefix, 'Outpoint')].startsWith(prefix));
    // A coinbase output: value in BTC with 8 decimals.
    const coinbase = ops.find((e) => e.is_coinbase === true) ?? assert.fail('no coinbase in the fixture');
    const cb = await filtered(panels, 'utxos', { text: String(coinbase.txid), kind: 'add' }, 1);
    const sat = Number(coinbase.value);
    assert.equal(cb.firstRows[0][column(cb, 'Value (BTC)')], `${Math.floor(sat / 1e8)}.${String(sat % 1e8).padStart(8, '0')}`);
    assert.equal(cb.firstRows[0][column(cb, 'Coinbase')], 'coinbase');
    await filtered(panels, 'utxos', { text: '', kind: '' }, Math.min(ops.length, 1000));
  });

  it('mempool-monitor: counts over the session, 1 and 10 minutes, rates and a filterable log', async () => {
    const panels = await toolPanels();
    const all = await events('mempool-monitor');
    const log = all.filter((e) => e.event.startsWith('mempool:'));
    const report = await openFixture(panels, 'mempool-monitor', Math.min(log.length, 1000));
    const count = (kind: string, fromSecond = -Infinity): number =>
      log.filter((e) => e.event === `mempool:${kind}` && Math.floor((e.elapsed_ns ?? 0) / 1e9) > fromSecond).length;
    const lastSecond = Math.floor(Math.max(...all.map((e) => e.elapsed_ns ?? 0)) / 1e9);
    assert.equal(report.summary.Added, en(count('added')));
    assert.equal(report.summary.Removed, en(count('removed')));
    assert.equal(report.summary.Replaced, en(count('replaced')));
    assert.equal(report.summary.Rejected, en(count('rejected')));
    const windowText = (seconds: number): string => `${en(count('added', lastSecond - seconds))} added · ${en(count('removed', lastSecond - seconds))} removed · ${en(count('replaced', lastSecond - seconds))} replaced · ${en(count('rejected', lastSecond - seconds))} rejected`;
    assert.equal(report.summary['Last 1 min'], windowText(60));
    assert.equal(report.summary['Last 10 min'], windowText(600));
    assert.notEqual(count('added', lastSecond - 600), count('added'), 'the fixture should span more than 10 minutes');
    assert.ok(report.chartCanvasCount >= 1);
    assertChartsReadable(report.charts);
    assertNoMarkup(report);
    await panelScreenshot(panels, 'mempool-monitor', true);

    const rejected = await filtered(panels, 'mempool-monitor', { text: '', kind: 'rejected' }, count('rejected'));
    const reasons = rejected.firstRows.map((r) => r[column(rejected, 'Reason')]);
    assert.ok(reasons.includes('bad-txns-inputs-missingorspent<img src=x>'), `hostile reason not shown as text: ${reasons.join(' | ')}`);
    assertNoMarkup(rejected);
    const replaced = await filtered(panels, 'mempool-monitor', { text: '', kind: 'replaced' }, count('replaced'));
    assert.match(replaced.firstRows[0][column(replaced, 'Reason')], /^by tx [0-9a-f]{16}…: \d+ vB, fee [\d,]+ sat \([\d.]+ sat\/vB\)$/);
    const expiry = await filtered(panels, 'mempool-monitor', { text: 'expiry', kind: '' }, 1);
    // Expired after two weeks in the mempool: added before the session, so known from entry_time, to the second.
    assert.equal(expiry.firstRows[0][column(expiry, 'In mempool')], '14 d 00:00:00');
    // Removed by a block: the session saw them added, so their stay is exact (ns) from the two events.
    const addedAt = new Map(log.filter((e) => e.event === 'mempool:added').map((e) => [e.txid as string, e.elapsed_ns ?? 0]));
    const removedRows = await filtered(panels, 'mempool-monitor', { text: 'block', kind: 'removed' }, log.filter((e) => e.event === 'mempool:removed' && e.reason === 'block').length);
    const newestRemovals = log.filter((e) => e.event === 'mempool:removed' && e.reason === 'block').reverse().slice(0, removedRows.firstRows.length);
    assert.deepEqual(
      removedRows.firstRows.map((r) => r[column(removedRows, 'In mempool')]),
      newestRemovals.map((e) => formatDuration((e.elapsed_ns ?? 0) - (addedAt.get(e.txid as string) ?? NaN))),
    );
    await filtered(panels, 'mempool-monitor', { text: '', kind: '' }, Math.min(log.length, 1000));
  });

  it('coin-selection: one row per transaction attempt, APS grouped in, hostile wallet names as text', async () => {
    const panels = await toolPanels();
    const all = await events('coin-selection');
    // An attempt per normal_create_tx_internal (each is preceded by its selection, if any).
    const attempts = all.filter((e) => e.event === 'coin_selection:normal_create_tx_internal').length;
    const report = await openFixture(panels, 'coin-selection', attempts);
    assert.equal(report.summary.Attempts, en(attempts));
    assert.equal(report.summary['APS used'], '1');
    assert.equal(report.summary.Failed, '1');
    const wallet = column(report, 'Wallet');
    assert.equal(report.firstRows[0][wallet], 'hot');
    assert.equal(report.firstRows[0][column(report, 'Target')], '2,100,000,000,000,000');
    const wallets = report.firstRows.map((r) => r[wallet]);
    assert.ok(wallets.includes('<img src=x onerror=alert(1)>'));
    assert.ok(wallets.includes('cold\\u202Etxet'));
    assert.ok(wallets.includes('(default wallet)'));
    const grinder = report.firstRows.find((r) => r[wallet] === '<img src=x onerror=alert(1)>') ?? assert.fail();
    assert.equal(grinder[column(report, 'APS')], 'used · CoinGrinder · fee 5,800');
    assert.equal(grinder[column(report, 'Fee')], '5,800');
    assertNoMarkup(report);
    await panelScreenshot(panels, 'coin-selection');
    const failed = await filtered(panels, 'coin-selection', { text: '', kind: 'failed' }, 1);
    assert.equal(failed.firstRows[0][column(failed, 'Result')], 'failed');
    await filtered(panels, 'coin-selection', { text: '', kind: '' }, attempts);
  });

  it('mempool-events (the generic view): columns from its field tables, every record, hostile reasons as text, filters by event and hash', async () => {
    // A real session: the tracee's mempool scenario (--hostile) under `bitcoin-usdt run mempool-events --record`.
    const panels = await toolPanels();
    const all = await events('mempool-events');
    const records = all.filter((e) => e.event.startsWith('mempool:'));
    const report = await openFixture(panels, 'mempool-events', records.length);
    const fields = ['pid', 'txid', 'vsize', 'fee', 'reason', 'entry_time', 'replaced_txid', 'replaced_vsize', 'replaced_fee', 'replaced_entry_time', 'replacement_id', 'replacement_vsize'];
    assert.deepEqual(report.columns, ['#', 'Time', 'Event', ...fields]);
    assert.equal(report.summary.Records, en(records.length));
    const kinds = ['mempool:added', 'mempool:removed', 'mempool:replaced', 'mempool:rejected'];
    assert.equal(report.summary['By event'], kinds.map((k) => `${k} ${en(records.filter((e) => e.event === k).length)}`).join(' · '));
    // Newest first: each cell the record's own value (integers exact, hashes whole), '' where its record has no such field.
    const cells = (e: Fields): string[] => [e.event, ...fields.map((f) => (e[f] === undefined ? '' : escapeInvisible(String(e[f]))))];
    report.firstRows.forEach((row, i) => assert.deepEqual(row.slice(2), cells(records[records.length - 1 - i])));
    assert.equal(report.firstRows[0][0], String(records.length));
    assertNoMarkup(report);
    await panelScreenshot(panels, 'mempool-events');

    const rejectedEvents = records.filter((e) => e.event === 'mempool:rejected');
    const rejected = await filtered(panels, 'mempool-events', { text: '', kind: 'mempool:rejected' }, rejectedEvents.length);
    assert.ok(rejected.firstRows.every((r) => r[column(rejected, 'Event')] === 'mempool:rejected'));
    // One event shown: its own fields only.
    assert.deepEqual(rejected.columns, ['#', 'Time', 'Event', 'pid', 'txid', 'reason']);
    rejected.firstRows.forEach((row, i) => assert.deepEqual(row.slice(2), ['mempool:rejected', ...['pid', 'txid', 'reason'].map((f) => escapeInvisible(String(rejectedEvents[rejectedEvents.length - 1 - i][f])))]));
    const reasons = (await filtered(panels, 'mempool-events', { text: 'bidi', kind: 'mempool:rejected' }, rejectedEvents.filter((e) => String(e.reason).includes('bidi')).length)).firstRows.map((r) => r[column(rejected, 'reason')]);
    assert.ok(reasons.includes('\\u202Etxt.exe bidi'), `the bidi override shown escaped: ${reasons.join(' | ')}`);
    const img = await filtered(panels, 'mempool-events', { text: '<img', kind: '' }, records.filter((e) => String(e.reason ?? '').includes('<img')).length);
    assert.ok(img.firstRows.some((r) => r[column(img, 'reason')] === '<img src=x onerror=alert(1)>'));
    assertNoMarkup(img);
    const replaced = records.find((e) => e.event === 'mempool:replaced') ?? assert.fail('no replacement in the fixture');
    const id = String(replaced.replaced_txid);
    const byId = await filtered(panels, 'mempool-events', { text: id, kind: '' }, records.filter((e) => [e.txid, e.replaced_txid, e.replacement_id].includes(id)).length);
    assert.ok(byId.firstRows.some((r) => r[column(byId, 'Event')] === 'mempool:replaced' && r[column(byId, 'replaced_txid')] === id));
    await filtered(panels, 'mempool-events', { text: '', kind: '' }, records.length);
  });

  it('bitcoinUsdt.showToolPanel reopens a closed panel with its last session', async () => {
    const panels = await toolPanels();
    const before = panels.currentSessionId('utxocache-flush');
    assert.ok(before, 'no utxocache-flush session from the earlier test');
    panels.close('utxocache-flush');
    const deadline = Date.now() + 5_000;
    while (panels.isOpen('utxocache-flush') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    assert.equal(panels.isOpen('utxocache-flush'), false);
    await vscode.commands.executeCommand('bitcoinUsdt.showToolPanel', 'utxocache-flush');
    assert.equal(panels.isOpen('utxocache-flush'), true);
    const report = await toolPanelReport('utxocache-flush', (r) => r.sessionId === before && r.rowCount > 0);
    assert.equal(report.tool, 'utxocache-flush');
  });
});

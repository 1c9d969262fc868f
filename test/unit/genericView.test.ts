// The generic tool view (src/core/toolViews/genericView.ts): a tool on the tool panel without a view of its own
// is shown from its records' field tables. Fed a real mempool-events session (the tracee's mempool scenario,
// hostile reasons included, recorded with `bitcoin-usdt run mempool-events --record`) and hand-made events for
// the edges.
import { strict as assert } from 'node:assert';
import { join } from 'node:path';
import { loadRecording } from '../../src/core/events/recording';
import { RECORD_SPECS, recordsOfTool, type RecordSpec } from '../../src/core/events/eventSchema';
import { GenericAggregator } from '../../src/core/toolViews/genericView';
import { TOOL_PROFILES } from '../../src/core/toolViews/toolProfiles';
import { createToolViewAggregator, hasOwnView, toolOfEvent } from '../../src/core/toolViews/toolViews';
import { tracepointPanelFilter } from '../../src/core/liveCounts/tracepointFilter';
import { TOOL_PANELS, TOOL_PANEL_TOOLS, MANIFEST_TOOLS } from '../../src/core/tools/toolManifest';
import { EMPTY_FILTER, MAX_SENT_ROWS, TOOL_PANEL_TITLES, type GenericView, type SchemaRow } from '../../src/shared/toolPanelProtocol';
import { createToolRecordDecoder } from '../../src/core/events/toolRecordDecoders';
import type { ToolEventLike } from '../../src/core/toolViews/eventFields';
import type { NormalizedEvent } from '../../src/core/events/eventTypes';
import { ToolTextFormatter } from '../../src/cli/toolEventOutput';

type Ev = ToolEventLike & Record<string, unknown>;
const RECORDING = join(__dirname, '..', 'fixtures', 'recordings', 'mempool-events.ndjson');
const MEMPOOL_EVENTS = ['mempool:added', 'mempool:removed', 'mempool:replaced', 'mempool:rejected'];

function fieldsOf(event: string): readonly string[] {
  const spec = (RECORD_SPECS as readonly RecordSpec[]).find((r) => r.tool === 'mempool-events' && r.event === event);
  assert.ok(spec, event);
  return spec.fields.map((f) => f.name);
}

/** A row's values by field name. */
function named(row: SchemaRow): Record<string, string | null> {
  const names = fieldsOf(row.event);
  return Object.fromEntries(names.map((name, i) => [name, row.values[i]]));
}

async function mempoolEvents(): Promise<Ev[]> {
  const recording = await loadRecording(RECORDING);
  assert.deepEqual(recording.malformed, []);
  assert.equal(recording.header.tool, 'mempool-events');
  return recording.events as unknown as Ev[];
}

describe('generic tool view: every tool on the tool panel has a view', () => {
  it('tools come from the manifest; a tool without a view of its own gets the generic one, fed by its field tables', () => {
    assert.deepEqual(TOOL_PANEL_TOOLS, MANIFEST_TOOLS.filter((t) => t.panel === 'tool').map((t) => t.id));
    for (const tool of TOOL_PANEL_TOOLS) {
      assert.equal(TOOL_PANELS[tool], 'tool');
      const aggregator = createToolViewAggregator(tool);
      assert.equal(aggregator.tool, tool);
      assert.ok(TOOL_PANEL_TITLES[tool], `${tool} has a title`);
      assert.ok(TOOL_PROFILES[tool], `${tool} has an A/B profile`);
      if (hasOwnView(tool)) continue;
      assert.ok(aggregator instanceof GenericAggregator, `${tool}: the generic view`);
      assert.ok(recordsOfTool(tool).size > 0, `${tool} has no own view and no record tables: its panel would stay empty`);
      assert.ok(createToolRecordDecoder(tool), `${tool} has a record decoder`);
    }
    assert.equal(hasOwnView('mempool-events'), false);
    assert.equal(TOOL_PANEL_TITLES['mempool-events'], 'Mempool events');
  });

  it('an event two tools print belongs to the first in the schema (mempool-monitor) for recordings of unknown tools', () => {
    for (const event of MEMPOOL_EVENTS) assert.equal(toolOfEvent(event), 'mempool-monitor');
    assert.equal(toolOfEvent('tracepoint:hit'), 'trace-tracepoint');
    assert.equal(toolOfEvent('utxocache:ops'), null);
  });

  it('"Show in panel" filters the generic view by the tracepoint, its kind', () => {
    assert.deepEqual(tracepointPanelFilter('mempool-events', 'mempool:rejected'), { panel: 'tool', kind: 'mempool:rejected' });
    assert.deepEqual(tracepointPanelFilter('mempool-monitor', 'mempool:rejected'), { panel: 'tool', kind: 'rejected' });
    assert.equal(tracepointPanelFilter('mempool-events', 'utxocache:add'), null);
  });

  it('A/B of a generic tool counts its records by event', () => {
    const measure = TOOL_PROFILES['mempool-events'].measure;
    assert.deepEqual(measure({ event: 'mempool:added', elapsed_ns: 1 } as never), [{ keys: { event: 'added' } }]);
    assert.deepEqual(measure({ event: 'utxocache:add', elapsed_ns: 1 } as never), []);
  });
});

describe('generic tool view: GenericAggregator', () => {
  it('shows every record of a real mempool-events session, values as text in table order, counts per event, the account', async () => {
    const events = await mempoolEvents();
    const agg = createToolViewAggregator('mempool-events');
    agg.ingestAll(events);
    const snapshot = agg.snapshot(EMPTY_FILTER);
    const view = snapshot.view as GenericView;
    assert.equal(view.tool, 'generic');
    const records = events.filter((e) => MEMPOOL_EVENTS.includes(e.event));
    assert.equal(records.length, 400);
    assert.equal(snapshot.counters.delivered, 400);
    assert.equal(snapshot.counters.ignoredEvents, 0);
    assert.equal(snapshot.counters.lostEvents, 0);
    assert.equal(snapshot.session.ended, true);
    const fired = events.filter((e) => e.event === 'fired').at(-1)?.counts as Record<string, number>;
    assert.deepEqual(Object.fromEntries(snapshot.counters.fired.map((f) => [f.name, f.count])), fired);
    assert.deepEqual(view.records.map((r) => r.event), MEMPOOL_EVENTS);
    assert.deepEqual(view.records.map((r) => r.fields.map((f) => f.name)), MEMPOOL_EVENTS.map(fieldsOf));
    assert.deepEqual(view.records[0].fields[1], { name: 'txid', kind: 'hash', doc: 'display order' });
    assert.deepEqual(view.byEvent, MEMPOOL_EVENTS.map((name) => ({ name, count: records.filter((e) => e.event === name).length })));
    assert.equal(view.totalRows, 400);
    assert.equal(view.matchingRows, 400);
    assert.equal(view.forgottenRows, 0);
    // Oldest first, each value exactly the event's, as text.
    assert.equal(view.rows.length, 400);
    view.rows.forEach((row, i) => {
      const event = records[i];
      assert.equal(row.seq, i + 1);
      assert.equal(row.event, event.event);
      assert.equal(row.elapsedNs, event.elapsed_ns);
      assert.equal(row.pid, event.pid);
      assert.deepEqual(named(row), Object.fromEntries(fieldsOf(event.event).map((name) => [name, String(event[name])])));
    });
    const reasons = view.rows.filter((r) => r.event === 'mempool:rejected').map((r) => named(r).reason);
    assert.ok(reasons.includes('<img src=x onerror=alert(1)>') && reasons.includes('\u202etxt.exe bidi'), 'hostile reasons as they came');
    assert.ok(reasons.some((r) => r?.length === 118), 'a 118-byte reason whole');
  });

  it('filters by event (the kind) and by text over string and hash fields only', async () => {
    const events = await mempoolEvents();
    const agg = new GenericAggregator('mempool-events');
    agg.ingestAll(events);
    const records = events.filter((e) => MEMPOOL_EVENTS.includes(e.event));
    const rejected = agg.snapshot({ text: '', kind: 'mempool:rejected' }).view as GenericView;
    assert.equal(rejected.matchingRows, records.filter((e) => e.event === 'mempool:rejected').length);
    assert.ok(rejected.rows.every((r) => r.event === 'mempool:rejected'));
    const script = agg.snapshot({ text: '<SCRIPT>', kind: '' }).view as GenericView;
    assert.equal(script.matchingRows, records.filter((e) => typeof e.reason === 'string' && e.reason.toLowerCase().includes('<script>')).length);
    assert.ok(script.matchingRows > 0);
    // A replaced transaction: its added, replaced (either id), removed and rejected rows.
    const replaced = records.find((e) => e.event === 'mempool:replaced') ?? assert.fail('no replacement');
    const id = String(replaced.replaced_txid);
    const byId = agg.snapshot({ text: id.toUpperCase(), kind: '' }).view as GenericView;
    const hashes = (e: Ev): unknown[] => [e.txid, e.replaced_txid, e.replacement_id];
    assert.equal(byId.matchingRows, records.filter((e) => hashes(e).includes(id)).length);
    assert.ok(byId.rows.some((r) => r.event === 'mempool:replaced'));
    // Integers are not searched: a fee's digits match only through a hash or a reason holding them.
    const fee = String(replaced.replaced_fee);
    const byFee = agg.snapshot({ text: fee, kind: 'mempool:added' }).view as GenericView;
    assert.equal(byFee.matchingRows, records.filter((e) => e.event === 'mempool:added' && String(e.txid).includes(fee)).length);
  });

  it('stays bounded: keeps the newest rows, sends at most MAX_SENT_ROWS, counts what it forgot', () => {
    const agg = new GenericAggregator('mempool-events', { maxRows: 1_500 });
    const txid = (n: number): string => n.toString(16).padStart(64, '0');
    agg.ingestAll(Array.from({ length: 2_000 }, (_, i) => ({ event: 'mempool:added', elapsed_ns: i, pid: 7, txid: txid(i), vsize: 100, fee: i })) as Ev[]);
    const view = agg.snapshot(EMPTY_FILTER).view as GenericView;
    assert.equal(view.totalRows, 2_000);
    assert.equal(view.forgottenRows, 500);
    assert.equal(view.matchingRows, 1_500);
    assert.equal(view.rows.length, MAX_SENT_ROWS);
    assert.equal(view.rows.at(-1)?.seq, 2_000);
    assert.equal(view.rows[0].seq, 2_000 - MAX_SENT_ROWS + 1);
  });

  it('values: int64 beyond 2^53 exact, booleans yes/no, an optional field absent is null; a field of the wrong type is ignored', () => {
    const agg = new GenericAggregator('coin-selection');
    agg.ingestAll([
      { event: 'coin_selection:normal_create_tx_internal', elapsed_ns: 5, wallet_name: 'w', success: true, fee: '9223372036854775807', change_pos: -1 },
      { event: 'coin_selection:aps_create_tx_internal', elapsed_ns: 6, pid: 3, wallet_name: '', use_aps: false, success: true, fee: -5, change_pos: 0 },
      { event: 'coin_selection:normal_create_tx_internal', elapsed_ns: 7, wallet_name: 'w', success: 'yes', fee: 1, change_pos: 0 },
      { event: 'utxocache:add', elapsed_ns: 8 },
    ] as Ev[]);
    const snapshot = agg.snapshot(EMPTY_FILTER);
    const view = snapshot.view as GenericView;
    assert.deepEqual(view.rows.map((r) => r.values), [
      [null, 'w', 'yes', '9223372036854775807', '-1'],
      ['3', '', 'no', 'yes', '-5', '0'],
    ]);
    assert.equal(snapshot.counters.delivered, 2);
    assert.equal(snapshot.counters.ignoredEvents, 1);
  });
});

describe('generic tool view: the CLI lines of a tool without lines of its own', () => {
  it('a banner from the title and `event name=value …` per record in table order, strings quoted and escaped; other tools unchanged', async () => {
    const events = (await mempoolEvents()) as unknown as NormalizedEvent[];
    const text = new ToolTextFormatter('mempool-events');
    assert.equal(text.format({ event: 'session:attached', probes: 5, pid: 1 } as NormalizedEvent), '# Logging Mempool events. Ctrl-C to end...');
    const added = events.find((e) => e.event === 'mempool:added') as unknown as Ev;
    assert.equal(text.format(added as unknown as NormalizedEvent), `mempool:added pid=${String(added.pid)} txid=${String(added.txid)} vsize=${String(added.vsize)} fee=${String(added.fee)}`);
    const bidi = events.find((e) => e.event === 'mempool:rejected' && String((e as unknown as Ev).reason).startsWith('\u202e')) as unknown as Ev;
    assert.equal(text.format(bidi as unknown as NormalizedEvent), `mempool:rejected pid=${String(bidi.pid)} txid=${String(bidi.txid)} reason='\\u202etxt.exe bidi'`);
    assert.equal(new ToolTextFormatter('mempool-monitor').format(added as unknown as NormalizedEvent), null);
  });
});

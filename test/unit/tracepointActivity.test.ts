// The live counts on the call sites (src/core/liveCounts/): per session and tracepoint the kernel's cumulative
// fired count, its rate, the session's losses and the last events' arguments, bounded; the texts drawn after a
// call site; the panel filter of a tracepoint. Fed real recordings made by the real probes on a real node.

import { strict as assert } from 'node:assert';
import { join } from 'node:path';
import { loadRecording } from '../../src/core/events/recording';
import { callSiteText, countsText, formatRate, INLINE_SESSIONS, isTracepointEventName, sessionTag, TracepointActivity, type ActivitySession } from '../../src/core/liveCounts/tracepointActivity';
import { callSiteHoverMarkdown, HOVER_EVENTS, SHOW_TRACEPOINT_IN_PANEL, showInPanelLink } from '../../src/core/liveCounts/callSiteHover';
import { tracepointPanelFilter } from '../../src/core/liveCounts/tracepointFilter';
import { MANIFEST_TOOLS } from '../../src/core/tools/toolManifest';

const ROOT = join(__dirname, '..', '..');

function live(id: string, tool = 'utxos', pid: number | null = 42): ActivitySession {
  return { id, tool, pid, source: 'live', label: `${tool} on ${pid}` };
}

const lost = (count: unknown, source: string): { event: string } => ({ event: 'lost', count, source }) as { event: string };
const fired = (elapsedNs: number, counts: Record<string, number>) => ({ event: 'fired', elapsed_ns: elapsedNs, counts });

describe('live counts: the tracepoint activity model', () => {
  it('every demo recording: the counts are the last kernel fired counts, the lost the sum of its lost events', async () => {
    for (const tool of MANIFEST_TOOLS.map((t) => t.id)) {
      const recording = await loadRecording(join(ROOT, 'demo', 'recordings', `${tool}-demo.ndjson`));
      const activity = new TracepointActivity();
      activity.startSession({ id: 'r', tool, pid: recording.header.pid, source: 'recording', label: `${tool}-demo.ndjson (${tool})` });
      // In batches, as the replay publishes them.
      for (let i = 0; i < recording.events.length; i += 100) activity.ingest('r', recording.events.slice(i, i + 100));
      activity.endSession('r');
      const lastFired = recording.events.filter((e) => e.event === 'fired').at(-1) as { counts: Record<string, number>; elapsed_ns: number } | undefined;
      assert.ok(lastFired, `${tool}: the recording has fired counts`);
      const lost = recording.events.reduce((sum, e) => sum + (e.event === 'lost' ? e.count : 0), 0);
      for (const [tracepoint, count] of Object.entries(lastFired.counts)) {
        const [counts] = activity.countsOf(tracepoint);
        assert.equal(counts.fired, count, `${tool} ${tracepoint}`);
        assert.equal(counts.sessionLost, lost, `${tool} ${tracepoint} lost`);
        assert.equal(counts.ended, true);
        // trace-tracepoint streams `tracepoint:hit` events naming the tracepoint its `tracepoint:spec` chose.
        const hits = recording.events.filter((e) => e.event === tracepoint || (e.event === 'tracepoint:hit' && e.tracepoint === tracepoint));
        assert.equal(counts.delivered, hits.length, `${tool} ${tracepoint} delivered`);
        const traced = recording.events.filter((e) => e.event === 'tracepoint:spec').map((e) => (e as { tracepoint: string }).tracepoint);
        assert.ok([...(MANIFEST_TOOLS.find((t) => t.id === tool)?.tracepoints ?? []), ...traced].includes(tracepoint), `${tool} counts only its tracepoints (${tracepoint})`);
        const lastElapsed = Math.max(...recording.events.filter((e) => e.event === 'fired').map((e) => e.elapsed_ns ?? 0));
        if (lastElapsed > 0) assert.equal(counts.ratePerSecond, count / (lastElapsed / 1e9), `${tool} ${tracepoint}: an ended session's rate is its average`);
        assert.match(callSiteText([counts]), new RegExp(`^${count.toLocaleString('en-US')} fired( · avg [\\d.,]+/s)? · ${lost.toLocaleString('en-US')} lost · ended$`));
      }
    }
  });

  it('the rate is the growth over the newest reports spanning a second, the count the newest report', () => {
    const activity = new TracepointActivity();
    activity.startSession(live('s'));
    activity.ingest('s', [fired(0, { 'utxocache:add': 0 })]);
    assert.equal(activity.countsOf('utxocache:add')[0].ratePerSecond, null, 'one report: no rate yet');
    activity.ingest('s', [fired(500e6, { 'utxocache:add': 100 })]);
    assert.equal(activity.countsOf('utxocache:add')[0].ratePerSecond, 200);
    activity.ingest('s', [fired(1000e6, { 'utxocache:add': 300 }), fired(1500e6, { 'utxocache:add': 1300 })]);
    // From 0.5 s (100) to 1.5 s (1300): 1200 in one second.
    assert.equal(activity.countsOf('utxocache:add')[0].ratePerSecond, 1200);
    assert.equal(activity.countsOf('utxocache:add')[0].fired, 1300);
    activity.ingest('s', [fired(2500e6, { 'utxocache:add': 1300 })]);
    assert.equal(activity.countsOf('utxocache:add')[0].ratePerSecond, 0, 'nothing fired in the last second');
    // The same report twice (p2p-traffic prints one at its end) changes nothing.
    activity.ingest('s', [fired(2500e6, { 'utxocache:add': 1300 })]);
    assert.equal(activity.countsOf('utxocache:add')[0].ratePerSecond, 0);
    assert.equal(countsText(activity.countsOf('utxocache:add')[0]), '1,300 fired · 0/s · 0 lost');
  });

  it('losses are the session\'s: every lost count summed, reconciled negatives included; malformed ones ignored', () => {
    const activity = new TracepointActivity();
    activity.startSession(live('s', 'p2p-traffic'));
    activity.ingest('s', [
      fired(1e9, { 'net:inbound_message': 10, 'net:outbound_message': 4 }),
      lost(7, 'bpftrace'),
      lost(-2, 'reconciled'),
      lost('many', 'bpftrace'),
    ]);
    assert.deepEqual(
      ['net:inbound_message', 'net:outbound_message'].map((t) => activity.countsOf(t)[0].sessionLost),
      [5, 5],
    );
  });

  it('the last events\' arguments: the newest few, newest first, values cut and every field named', () => {
    const activity = new TracepointActivity({ recentEvents: 3, maxSessions: 4, maxTracepointsPerSession: 4, rateWindowNs: 1e9, maxValueLength: 20, maxFields: 3 });
    activity.startSession(live('s', 'p2p-traffic'));
    const events = Array.from({ length: 7 }, (_, i) => ({
      event: 'net:inbound_message',
      elapsed_ns: i * 1000,
      peer_id: i,
      peer_addr: i === 6 ? `<a href="x">${'x'.repeat(40)}` : `10.0.0.${i}:8333`,
      conn_type: 'inbound',
      msg_type: 'ping',
    }));
    activity.ingest('s', events);
    const samples = activity.recentArguments('net:inbound_message');
    assert.deepEqual(samples.map((s) => s.elapsedNs), [6000, 5000, 4000]);
    assert.deepEqual(samples[1].fields, [
      { name: 'peer_id', value: '5' },
      { name: 'peer_addr', value: '"10.0.0.5:8333"' },
      { name: 'conn_type', value: '"inbound"' },
    ]);
    const quoted = JSON.stringify(events[6].peer_addr);
    assert.equal(samples[0].fields[1].value, `${quoted.slice(0, 20)}… (${quoted.length} characters)`);
    assert.equal(activity.countsOf('net:inbound_message')[0].delivered, 7);
    assert.equal(activity.countsOf('net:inbound_message')[0].fired, null, 'no kernel report yet');
    assert.equal(countsText(activity.countsOf('net:inbound_message')[0]), '7 delivered · 0 lost');
  });

  it('is bounded: tracepoints per session, sessions (the oldest ended go first)', () => {
    const activity = new TracepointActivity({ recentEvents: 2, maxSessions: 2, maxTracepointsPerSession: 2, rateWindowNs: 1e9, maxValueLength: 10, maxFields: 2 });
    activity.startSession(live('a'));
    activity.ingest('a', [fired(1, { 'x:one': 1, 'x:two': 2, 'x:three': 3 }), { event: 'x:four' }]);
    assert.deepEqual([...activity.tracepoints()].sort(), ['x:one', 'x:two']);
    activity.endSession('a');
    activity.startSession(live('b'));
    activity.startSession(live('c'));
    assert.equal(activity.sessionCount, 2);
    assert.deepEqual(activity.countsOf('x:one'), [], 'the ended session went');
    activity.startSession(live('d'));
    assert.equal(activity.sessionCount, 3, 'a live session is never forgotten');
  });

  it('session records, fired, lost and truncated are no tracepoint\'s events', () => {
    for (const name of ['session:start', 'session:end', 'fired', 'lost', 'truncated']) assert.equal(isTracepointEventName(name), false, name);
    for (const name of ['net:inbound_message', 'utxocache:add', 'validation:block_connected']) assert.equal(isTracepointEventName(name), true, name);
    const activity = new TracepointActivity();
    activity.startSession(live('s'));
    activity.ingest('s', [{ event: 'session:start' }, { event: 'truncated' }, { event: 'session:message' }]);
    assert.deepEqual([...activity.tracepoints()], []);
  });

  it('several sessions: each counted apart, live ones first, newest first, each tagged with its tool and pid', () => {
    const activity = new TracepointActivity();
    activity.startSession(live('node1', 'utxos', 100));
    activity.startSession(live('node2', 'utxos', 200));
    activity.startSession({ id: 'rec', tool: 'utxos', pid: 7, source: 'recording', label: 'utxos-demo.ndjson (utxos)' });
    activity.startSession(live('all', 'utxos', null));
    activity.ingest('node1', [fired(1e9, { 'utxocache:add': 11 })]);
    activity.ingest('node2', [fired(1e9, { 'utxocache:add': 22 })]);
    activity.ingest('rec', [fired(1e9, { 'utxocache:add': 33 })]);
    activity.ingest('all', [fired(1e9, { 'utxocache:add': 44 })]);
    activity.ingest('unknown', [fired(1e9, { 'utxocache:add': 99 })]);
    activity.endSession('rec');
    const counts = activity.countsOf('utxocache:add');
    assert.deepEqual(counts.map((c) => [sessionTag(c.session), c.fired]), [
      ['utxos · every process', 44],
      ['utxos · pid 200', 22],
      ['utxos · pid 100', 11],
      ['utxos-demo.ndjson (utxos)', 33],
    ]);
    assert.equal(INLINE_SESSIONS, 3);
    assert.equal(
      callSiteText(counts),
      'utxos · every process: 44 fired · 0 lost  |  utxos · pid 200: 22 fired · 0 lost  |  utxos · pid 100: 11 fired · 0 lost  |  +1 more',
    );
  });

  it('a new session replaces the ended sessions it is asked to; clearEnded forgets every ended one', () => {
    const activity = new TracepointActivity();
    activity.startSession(live('old', 'utxos'));
    activity.startSession(live('other', 'mempool-monitor'));
    activity.endSession('old');
    activity.endSession('other');
    activity.startSession(live('new', 'utxos'), (ended) => ended.tool === 'utxos');
    assert.equal(activity.sessionCount, 2);
    assert.equal(activity.liveSessionCount, 1);
    activity.clearEnded();
    assert.equal(activity.sessionCount, 1);
  });

  it('tells when something changed (the view redraws only then)', () => {
    const activity = new TracepointActivity();
    assert.equal(activity.takeChanged(), false);
    activity.startSession(live('s'));
    assert.equal(activity.takeChanged(), true);
    assert.equal(activity.takeChanged(), false);
    activity.ingest('s', [{ event: 'session:message' }]);
    assert.equal(activity.takeChanged(), false, 'a session note is no count');
    activity.ingest('s', [{ event: 'utxocache:add' }]);
    assert.equal(activity.takeChanged(), true);
  });

  it('formats rates: one decimal under 100/s, whole numbers with separators above', () => {
    assert.deepEqual([0, 3.45, 99.94, 1234.4].map(formatRate), ['0/s', '3.5/s', '99.9/s', '1,234/s']);
  });
});

describe('live counts: the panel filter of a tracepoint', () => {
  it('each tool panel with a kind filter gets the kind of the tracepoint; raw messages a direction; P2P and one-tracepoint panels none', () => {
    assert.deepEqual(tracepointPanelFilter('utxos', 'utxocache:spent'), { panel: 'tool', kind: 'spent' });
    assert.deepEqual(tracepointPanelFilter('mempool-monitor', 'mempool:rejected'), { panel: 'tool', kind: 'rejected' });
    assert.deepEqual(tracepointPanelFilter('p2p-connections', 'net:evicted_inbound_connection'), { panel: 'tool', kind: 'evicted' });
    assert.deepEqual(tracepointPanelFilter('coin-selection', 'coin_selection:aps_create_tx_internal'), { panel: 'tool', kind: 'aps' });
    assert.deepEqual(tracepointPanelFilter('raw-p2p-msgs', 'net:outbound_message'), { panel: 'rawMessages', direction: 'out' });
    assert.equal(tracepointPanelFilter('p2p-traffic', 'net:inbound_message'), null);
    assert.equal(tracepointPanelFilter('utxocache-flush', 'utxocache:flush'), null);
    assert.equal(tracepointPanelFilter('connectblock-benchmark', 'validation:block_connected'), null);
  });

  it('every tracepoint of a tool whose panel filters by kind has a kind', () => {
    for (const tool of ['utxos', 'mempool-monitor', 'p2p-connections']) {
      for (const tracepoint of MANIFEST_TOOLS.find((t) => t.id === tool)?.tracepoints ?? []) {
        assert.equal(tracepointPanelFilter(tool, tracepoint)?.panel, 'tool', `${tool} ${tracepoint}`);
      }
    }
  });
});

describe('live counts: the call site hover', () => {
  const HOSTILE_VALUES = [
    '[Stop](command:bitcoinUsdt.stopProbe)',
    '<a href="command:workbench.action.terminal.sendSequence">x</a>',
    '$(zap) **bold** `code` ![img](https://x/y.png)',
    '\u202Eevil\u202C\nsecond line',
  ];

  it('links only "Show in panel" with the session\'s id and tool and the tracepoint; event text never becomes a link', () => {
    const activity = new TracepointActivity();
    activity.startSession({ id: 'rec-1', tool: 'p2p-traffic', pid: 1, source: 'recording', label: '[x](command:bitcoinUsdt.stopProbe).ndjson' });
    activity.ingest('rec-1', [
      fired(1e9, { 'net:inbound_message': HOSTILE_VALUES.length }),
      ...HOSTILE_VALUES.map((value, i) => ({ event: 'net:inbound_message', elapsed_ns: i, peer_id: i, peer_addr: value, conn_type: value, msg_type: value, msg_size: 1 })),
    ]);
    const markdown = callSiteHoverMarkdown('net:inbound_message', activity);
    assert.ok(markdown);
    // Outside code spans (CommonMark: a run of backticks closed by a run of the same length), where links are links.
    const outsideCode = markdown.replace(/(?<!`)(`+)(?!`)[\s\S]*?(?<!`)\1(?!`)/g, '');
    const links = [...outsideCode.matchAll(/\]\(([^)]*)\)/g)].map((match) => match[1]);
    assert.deepEqual(links, [showInPanelLink({ sessionId: 'rec-1', tool: 'p2p-traffic', tracepoint: 'net:inbound_message' })]);
    assert.equal(links[0], `command:${SHOW_TRACEPOINT_IN_PANEL}?${encodeURIComponent('[{"sessionId":"rec-1","tool":"p2p-traffic","tracepoint":"net:inbound_message"}]')}`);
    assert.doesNotMatch(outsideCode, /<a /, 'HTML only inside code spans');
    assert.doesNotMatch(markdown, /\u202E/, 'bidi controls shown as escapes');
    assert.match(markdown, /\\\[x\\\]\\\(command:bitcoinUsdt\\\.stopProbe\\\)\\\.ndjson/, 'the label is escaped text');
    assert.equal(markdown.split('\n').filter((line) => line.startsWith('- ')).length, 1 + 4, 'one session, four events (HOVER_EVENTS is 5)');
    assert.equal(HOVER_EVENTS, 5);
  });

  it('says when a tool counts in the kernel only; nothing for an untraced tracepoint', () => {
    const activity = new TracepointActivity();
    activity.startSession(live('s', 'p2p-monitor'));
    activity.ingest('s', [fired(1e9, { 'net:inbound_message': 3 })]);
    assert.match(callSiteHoverMarkdown('net:inbound_message', activity) ?? '', /No events of it streamed \(the tool counts it in the kernel\)\./);
    assert.equal(callSiteHoverMarkdown('net:outbound_message', activity), null);
  });
});

// A/B of two runs in every panel (src/core/comparison/): the profiles and their comparison, on the real Bitcoin
// Core's demo recordings (demo/recordings, scripts/make-demo-recordings.sh). Every expected figure is counted
// here again from the recording's events, independently of the profile code.
import { strict as assert } from 'node:assert';
import { join } from 'node:path';
import { compareProfiles, COMPARISON_THRESHOLD, quantile } from '../../src/core/comparison/profileComparison';
import { OTHER_KEY, RunProfile, type ProfileSpec } from '../../src/core/comparison/runProfile';
import type { NormalizedEvent } from '../../src/core/events/eventTypes';
import { loadRecording } from '../../src/core/events/recording';
import { P2P_PROFILE } from '../../src/core/p2p/p2pProfile';
import { TOOL_PROFILES } from '../../src/core/toolViews/toolProfiles';
import { parsePanelMessage, type ComparedRow, type ComparedTable, type RunComparison } from '../../src/shared/panelProtocol';

const demo = (tool: string): string => join(__dirname, '..', '..', 'demo', 'recordings', `${tool}-demo.ndjson`);
type Fields = Record<string, unknown>;

async function eventsOf(tool: string): Promise<NormalizedEvent[]> {
  const contents = await loadRecording(demo(tool));
  assert.equal(contents.malformed.length, 0);
  return contents.events;
}

function profileOf(spec: ProfileSpec, events: readonly NormalizedEvent[]): RunProfile {
  const profile = new RunProfile(spec);
  profile.ingestAll(events);
  return profile;
}

function compare(spec: ProfileSpec, a: readonly NormalizedEvent[], b: readonly NormalizedEvent[], specB = spec): RunComparison {
  const info = (id: string) => ({ sessionId: id, label: id, source: 'recording' as const, tool: 'test' });
  return compareProfiles(profileOf(spec, a), profileOf(specB, b), info('a'), info('b'));
}

function table(c: RunComparison, title: string): ComparedTable {
  const found = c.tables.find((t) => t.title === title);
  assert.ok(found, `no table ${title} in ${c.tables.map((t) => t.title).join(', ')}`);
  return found;
}

function row(t: ComparedTable, key: string): ComparedRow {
  const found = t.rows.find((r) => r.key === key);
  assert.ok(found, `no row ${key} in ${t.title}: ${t.rows.map((r) => r.key).join(', ')}`);
  return found;
}

function countBy(events: readonly NormalizedEvent[], keyOf: (e: Fields) => string | null): Map<string, number> {
  const out = new Map<string, number>();
  for (const e of events) {
    const key = keyOf(e as unknown as Fields);
    if (key !== null) out.set(key, (out.get(key) ?? 0) + 1);
  }
  return out;
}

const isMessage = (e: NormalizedEvent): boolean => e.event === 'net:inbound_message' || e.event === 'net:outbound_message';
const elapsedOf = (e: NormalizedEvent): number | undefined => (e as unknown as Fields).elapsed_ns as number | undefined;

/** The events up to the middle of the run (by time): a run that stopped halfway. */
function firstHalf(events: readonly NormalizedEvent[], isCounted: (e: NormalizedEvent) => boolean): NormalizedEvent[] {
  const times = events.filter(isCounted).map((e) => elapsedOf(e) ?? 0);
  const middle = (Math.min(...times) + Math.max(...times)) / 2;
  return events.filter((e) => (elapsedOf(e) ?? 0) <= middle);
}

/** Every row's mark follows the rule: only one run has it, or one has ×1.5 the other's (from 5 on). */
function checkMarks(t: ComparedTable): void {
  for (const r of t.rows) {
    let expected: ComparedRow['highlight'] = null;
    if (r.a === 0 && r.b > 0) expected = 'onlyB';
    else if (r.b === 0 && r.a > 0) expected = 'onlyA';
    else if (Math.max(r.a, r.b) >= COMPARISON_THRESHOLD.minCount && (r.b / r.a >= 1.5 || r.a / r.b >= 1.5)) expected = r.b > r.a ? 'more' : 'fewer';
    assert.equal(r.highlight, expected, `${t.title} ${r.key}: ${r.a} vs ${r.b}`);
    assert.equal(r.delta, r.b - r.a);
  }
}

describe('A/B comparison of two runs (real Bitcoin Core recordings)', () => {
  it('a P2P traffic run compared with itself: equal counts, ratio 1, nothing marked', async () => {
    const events = await eventsOf('p2p-traffic');
    const c = compare(P2P_PROFILE, events, events);
    const messages = events.filter(isMessage);
    assert.ok(messages.length > 300);
    const totals = new Map(c.totals.map((r) => [r.key, r]));
    assert.equal(totals.get('messages')?.a, messages.length);
    assert.equal(totals.get('bytes')?.a, messages.reduce((s, m) => s + Number((m as unknown as Fields).msg_size), 0));
    for (const t of c.tables) for (const r of t.rows) {
      assert.equal(r.a, r.b);
      assert.equal(r.ratio, 1);
      assert.equal(r.highlight, null);
    }
    for (const rate of c.rates) assert.deepEqual(rate.a, rate.b);
  });

  it('a P2P traffic run stopped halfway against the whole run: counts per message type, peer and direction, marks, aligned rates', async () => {
    const whole = await eventsOf('p2p-traffic');
    const half = firstHalf(whole, isMessage);
    const c = compare(P2P_PROFILE, half, whole);
    for (const direction of ['in', 'out'] as const) {
      const name = direction === 'in' ? 'net:inbound_message' : 'net:outbound_message';
      const typesA = countBy(half.filter((e) => e.event === name), (e) => String(e.msg_type));
      const typesB = countBy(whole.filter((e) => e.event === name), (e) => String(e.msg_type));
      const t = table(c, `message type (${direction})`);
      assert.equal(t.rows.length + t.omittedRows, new Set([...typesA.keys(), ...typesB.keys()]).size);
      for (const [type, count] of typesB) {
        const r = row(t, type);
        assert.equal(r.a, typesA.get(type) ?? 0, `${direction} ${type}`);
        assert.equal(r.b, count);
      }
      checkMarks(t);
      assert.equal(row(table(c, 'direction'), direction).b, whole.filter((e) => e.event === name).length);
    }
    const peers = table(c, 'peer');
    const peersB = countBy(whole.filter(isMessage), (e) => `#${String(e.peer_id)} ${String(e.conn_type)}`);
    for (const [peer, count] of peersB) assert.equal(row(peers, peer).b, count);
    checkMarks(peers);
    // Run B went on after A stopped: something B has A has not, or has more of, is marked.
    assert.ok(c.tables.some((t) => t.rows.some((r) => r.highlight === 'onlyB' || r.highlight === 'more')));
    assert.ok(!c.tables.some((t) => t.rows.some((r) => r.highlight === 'onlyA' || r.highlight === 'fewer')), 'the first half has nothing the whole run has less of');

    // Rates on one axis of whole seconds since each run's start: A's seconds past its end are null, and each
    // second holds the messages that happened in it.
    const rate = c.rates.find((r) => r.title === 'messages');
    assert.ok(rate);
    assert.equal(rate.seconds[0], 1);
    rate.seconds.forEach((s, i) => assert.equal(s, i + 1));
    const perSecond = countBy(whole.filter(isMessage), (e) => String(Math.floor(Number(e.elapsed_ns) / 1e9) + 1));
    rate.seconds.forEach((s, i) => assert.equal(rate.b[i], perSecond.get(String(s)) ?? 0, `second ${s}`));
    const lastA = Math.floor(Math.max(...half.filter(isMessage).map((e) => elapsedOf(e) ?? 0)) / 1e9) + 1;
    rate.seconds.forEach((s, i) => assert.equal(rate.a[i] === null, s > lastA, `second ${s}`));
    assert.equal(rate.b.reduce<number>((sum, v) => sum + (v ?? 0), 0), whole.filter(isMessage).length);

    // Message sizes: quantiles of each run's own sizes.
    const sizes = table(c, 'message type (out)');
    assert.ok(sizes.amountUnit === 'bytes');
    const dist = c.distributions.find((d) => d.title === 'message size');
    assert.ok(dist);
    const sortedB = whole.filter(isMessage).map((e) => Number((e as unknown as Fields).msg_size)).sort((x, y) => x - y);
    assert.equal(dist.quantiles.find((q) => q.name === 'p50')?.b, quantile(sortedB, 0.5));
    assert.equal(dist.quantiles.find((q) => q.name === 'max')?.b, sortedB.at(-1));
    assert.equal(dist.buckets.reduce((s, b) => s + b.b, 0), sortedB.length);
  });

  it('p2p-traffic (every message) against p2p-monitor (kernel totals) of the same workload: one table per message type and direction', async () => {
    const traffic = await eventsOf('p2p-traffic');
    const monitor = await eventsOf('p2p-monitor');
    const c = compare(P2P_PROFILE, traffic, monitor);
    const lastTypes = (monitor.filter((e) => e.event === 'p2p:msg_type_totals').at(-1) as unknown as Fields).types as Fields[];
    const t = table(c, 'message type (in)');
    for (const type of lastTypes) if (Number(type.msgs_in) > 0) assert.equal(row(t, String(type.msg_type)).b, type.msgs_in);
    const sumIn = lastTypes.reduce((s, x) => s + Number(x.msgs_in), 0);
    const sumOut = lastTypes.reduce((s, x) => s + Number(x.msgs_out), 0);
    assert.equal(row(table(c, 'direction'), 'in').b, sumIn);
    // The monitor's rate comes from the increase of its totals: it sums to the final totals.
    const totals = new Map(c.totals.map((r) => [r.key, r]));
    assert.equal(totals.get('messages')?.b, sumIn + sumOut);
    assert.equal(totals.get('messages')?.a, traffic.filter(isMessage).length);
    const lastPeers = (monitor.filter((e) => e.event === 'p2p:peer_totals').at(-1) as unknown as Fields).peers as Fields[];
    for (const peer of lastPeers) {
      const count = Number(peer.msgs_in) + Number(peer.msgs_out);
      if (count > 0) assert.equal(row(table(c, 'peer'), `#${String(peer.peer_id)} ${String(peer.conn_type)}`).b, count);
    }
    for (const x of c.tables) checkMarks(x);
    // Both ran the version handshake with every peer.
    assert.ok(row(t, 'version').a > 0 && row(t, 'version').b > 0);
  });

  it('raw-p2p-msgs against p2p-traffic: message types and sizes of two real runs', async () => {
    const raw = await eventsOf('raw-p2p-msgs');
    const traffic = await eventsOf('p2p-traffic');
    const c = compare(P2P_PROFILE, raw, traffic);
    const typesA = countBy(raw.filter((e) => e.event === 'net:outbound_message'), (e) => String(e.msg_type));
    for (const [type, count] of typesA) assert.equal(row(table(c, 'message type (out)'), type).a, count);
    for (const x of c.tables) checkMarks(x);
    assert.ok(c.distributions.some((d) => d.title === 'message size' && d.quantiles.every((q) => q.a !== null && q.b !== null)));
  });

  const TOOL_CASES: readonly { tool: keyof typeof TOOL_PROFILES; counted: (e: NormalizedEvent) => boolean; table: string; key: (e: Fields) => string | null }[] = [
    { tool: 'p2p-connections', counted: (e) => e.event.endsWith('_connection'), table: 'connection type', key: (e) => String(e.conn_type) },
    { tool: 'utxocache-flush', counted: (e) => e.event === 'utxocache:flush', table: 'mode', key: (e) => String(e.mode_name) },
    { tool: 'utxos', counted: (e) => /^utxocache:(add|spent|uncache)$/.test(e.event), table: 'event', key: (e) => String(e.event).slice('utxocache:'.length) },
    { tool: 'mempool-monitor', counted: (e) => e.event.startsWith('mempool:'), table: 'event', key: (e) => String(e.event).slice('mempool:'.length) },
    { tool: 'coin-selection', counted: (e) => e.event.startsWith('coin_selection:'), table: 'algorithm', key: (e) => (typeof e.algo === 'string' ? e.algo : null) },
  ];

  for (const { tool, counted, table: title, key } of TOOL_CASES) {
    it(`${tool}: a run stopped halfway against the whole run, per ${title}`, async () => {
      const whole = await eventsOf(tool);
      const half = firstHalf(whole, counted);
      const c = compare(TOOL_PROFILES[tool], half, whole);
      const spec = TOOL_PROFILES[tool];
      const totals = new Map(c.totals.map((r) => [r.key, r]));
      assert.equal(totals.get(spec.events)?.a, half.filter(counted).length);
      assert.equal(totals.get(spec.events)?.b, whole.filter(counted).length);
      const t = table(c, title);
      const a = countBy(half.filter(counted), key);
      const b = countBy(whole.filter(counted), key);
      for (const [k, count] of b) {
        assert.equal(row(t, k).b, count);
        assert.equal(row(t, k).a, a.get(k) ?? 0);
      }
      for (const x of c.tables) checkMarks(x);
      const rate = c.rates.find((r) => r.title === spec.events);
      assert.ok(rate);
      assert.equal(rate.b.reduce<number>((s, v) => s + (v ?? 0), 0), whole.filter(counted).length);
    });
  }

  it('utxos: the kernel counts compare as their own table and rate, the flush durations as a distribution', async () => {
    const utxos = await eventsOf('utxos');
    const c = compare(TOOL_PROFILES.utxos, firstHalf(utxos, (e) => e.event === 'utxocache:ops'), utxos);
    const last = (utxos.filter((e) => e.event === 'utxocache:ops').at(-1) as unknown as Fields).counts as Record<string, number>;
    const kernel = table(c, 'operations (kernel count)');
    assert.equal(row(kernel, 'add').b, last.add);
    const rate = c.rates.find((r) => r.title === 'operations (kernel count)');
    assert.equal(rate?.b.reduce<number>((s, v) => s + (v ?? 0), 0), last.add + last.spent + last.uncache);

    const flushes = await eventsOf('utxocache-flush');
    const f = compare(TOOL_PROFILES['utxocache-flush'], flushes, flushes);
    const durations = flushes.filter((e) => e.event === 'utxocache:flush').map((e) => Number((e as unknown as Fields).duration_us)).sort((x, y) => x - y);
    const d = f.distributions.find((x) => x.title === 'flush duration');
    assert.equal(d?.unit, 'µs');
    assert.equal(d?.quantiles.find((q) => q.name === 'p90')?.a, quantile(durations, 0.9));
    assert.ok(d?.quantiles.every((q) => !q.highlight));
  });

  it('profiles are bounded: keys past the limit fold into (other), long runs widen their slots, totals stay exact', () => {
    const profile = new RunProfile(P2P_PROFILE, { maxKeysPerTable: 3, maxSlots: 4, maxSamples: 5 });
    const events: NormalizedEvent[] = [];
    for (let i = 0; i < 20; i++) {
      events.push({ event: 'net:inbound_message', elapsed_ns: i * 1e9 + 5e8, peer_id: i, peer_addr: 'x', conn_type: 'inbound', msg_type: `t${i % 6}`, msg_size: i } as unknown as NormalizedEvent);
    }
    profile.ingestAll(events);
    const types = profile.tableList().find((t) => t.title === 'message type (in)');
    assert.ok(types);
    assert.equal(types.rows.size, 4);
    assert.ok(types.rows.has(OTHER_KEY));
    assert.equal([...types.rows.values()].reduce((s, r) => s + r.count, 0), 20);
    const series = profile.seriesList().find((s) => s.title === 'messages');
    assert.ok(series);
    assert.ok(series.slots.size <= 4 && series.width === 8, `width ${series.width}, ${series.slots.size} slots`);
    assert.equal([...series.slots.values()].reduce((s, v) => s + v, 0), 20);
    const sizes = profile.distributionList()[0];
    assert.equal(sizes.samples.length, 5);
    assert.equal(sizes.count, 20);
    assert.equal(sizes.max, 19);
  });

  it('p2p-traffic filtered in the kernel: its per-peer totals (no connection types) set the peer table, and no connection-type table', () => {
    const measures = P2P_PROFILE.measure({
      event: 'p2p:peer_totals', elapsed_ns: 1,
      peers: [{ pid: 7, peer_id: 0, peer_addr: '', conn_type: '', msgs_in: 5, bytes_in: 50, msgs_out: 1, bytes_out: 8 }],
    } as NormalizedEvent);
    assert.deepEqual(measures, [{ totals: 'peer', rows: [{ key: '#0 ?', count: 6, amount: 58 }] }]);
  });

  it("the page's A/B messages are checked like every common message", () => {
    const parse = (value: unknown): unknown => parsePanelMessage(value, () => ({}));
    assert.deepEqual(parse({ type: 'compareWith', extra: 1 }), { type: 'compareWith' });
    assert.deepEqual(parse({ type: 'selectComparison', sessionId: null }), { type: 'selectComparison', sessionId: null });
    assert.deepEqual(parse({ type: 'selectComparison', sessionId: 'x'.repeat(300) }), { type: 'selectComparison', sessionId: 'x'.repeat(200) });
    assert.equal(parse({ type: 'selectComparison', sessionId: 7 }), undefined);
    assert.equal(parse({ type: 'selectComparison' }), undefined);
  });
});

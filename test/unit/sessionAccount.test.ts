// One session account (src/core/session/sessionAccount.ts): every model keeps the same account of the same
// events — losses (a malformed `lost` counted as ignored, never dropped), cuts, kernel counts, status.

import { strict as assert } from 'node:assert';
import { BenchmarkRun, type BenchmarkInputEvent } from '../../src/core/benchmark/benchmarkRun';
import type { NormalizedEvent } from '../../src/core/events/eventTypes';
import { P2pAggregator } from '../../src/core/p2p/p2pAggregator';
import { RawMessageStore } from '../../src/core/rawMessages/rawMessageStore';
import { SessionAccount } from '../../src/core/session/sessionAccount';
import { FlushAggregator } from '../../src/core/toolViews/flushView';
import { EMPTY_FILTER } from '../../src/shared/toolPanelProtocol';

const ACCOUNT_EVENTS = [
  { event: 'session:start', tool: 't', binary: '/b', pid: 7 },
  { event: 'lost', count: 10, source: 'bpftrace' },
  { event: 'lost', count: -2, source: 'reconciled' },
  { event: 'lost', count: 'many' },
  { event: 'truncated', field: 'peer_addr', count: 3 },
  { event: 'truncated', field: 'peer_addr', count: 1 },
  { event: 'truncated', field: 'msg_type', count: null },
  { event: 'fired', counts: { 'net:inbound_message': 5 } },
  { event: 'fired', counts: { 'net:inbound_message': 9, 'utxocache:flush': 2 } },
  { event: 'session:message', level: 'warning', message: 'note' },
  { event: 'session:end', reason: 'stopped' },
] as unknown as NormalizedEvent[];

const EXPECTED = {
  lostEvents: 8,
  ignoredEvents: 2,
  truncatedStrings: 4,
  fired: [{ name: 'net:inbound_message', count: 9 }, { name: 'utxocache:flush', count: 2 }],
};

describe('session account', () => {
  it('is the same in the P2P, raw-message, benchmark and tool-view models', () => {
    const p2p = new P2pAggregator();
    p2p.ingestAll(ACCOUNT_EVENTS);
    const raw = new RawMessageStore();
    raw.ingestAll(ACCOUNT_EVENTS);
    const bench = new BenchmarkRun('s', 'x', 'live');
    bench.ingestAll(ACCOUNT_EVENTS as unknown as BenchmarkInputEvent[]);
    const flush = new FlushAggregator();
    flush.ingestAll(ACCOUNT_EVENTS);
    const p2pCounters = p2p.snapshot().counters;
    const rawCounters = raw.counters();
    const benchView = bench.view();
    const flushSnapshot = flush.snapshot(EMPTY_FILTER);
    for (const [model, counters] of [['p2p', p2pCounters], ['raw', rawCounters], ['tool view', flushSnapshot.counters]] as const) {
      assert.equal(counters.lostEvents, EXPECTED.lostEvents, model);
      assert.equal(counters.ignoredEvents, EXPECTED.ignoredEvents, model);
      assert.equal(counters.truncatedStrings, EXPECTED.truncatedStrings, model);
      assert.deepEqual(counters.fired, EXPECTED.fired, model);
    }
    assert.equal(benchView.lostEvents, EXPECTED.lostEvents);
    assert.equal(benchView.ignoredEvents, EXPECTED.ignoredEvents);
    assert.deepEqual(benchView.fired, EXPECTED.fired, 'the benchmark keeps the kernel counts too');
    assert.deepEqual(p2pCounters.truncatedByField, [{ name: 'peer_addr', count: 4 }]);
    for (const status of [p2p.sessionStatus(), flushSnapshot.session]) {
      assert.deepEqual(status, { tool: 't', binary: '/b', pid: 7, attachedProbes: null, ended: true, endReason: 'stopped', kernelFilter: null, notes: [{ level: 'warning', message: 'note' }] });
    }
    assert.equal(raw.session().endReason, 'stopped');
    assert.equal(benchView.endReason, 'stopped');
  });

  it('folds names past its limit into (other) and keeps the newest notes', () => {
    const account = new SessionAccount({ maxNamedCounters: 2, maxSessionNotes: 2 });
    for (const field of ['a', 'b', 'c', 'd']) account.take({ event: 'truncated', field, count: 1 } as NormalizedEvent);
    for (const message of ['1', '2', '3']) account.take({ event: 'session:message', level: 'info', message } as NormalizedEvent);
    assert.deepEqual(account.counts().truncatedByField, [{ name: 'a', count: 1 }, { name: 'b', count: 1 }, { name: '(other)', count: 2 }]);
    assert.deepEqual(account.status().notes.map((n) => n.message), ['2', '3']);
    assert.equal(account.take({ event: 'net:inbound_message' } as NormalizedEvent), false, "a model's own event is left to the model");
  });

  it("describes the session's kernel filters (session:start's `filters`) for the pages; none, or none readable, is null", () => {
    const statusOf = (filters: unknown): string | null => {
      const account = new SessionAccount();
      account.take({ event: 'session:start', tool: 'p2p-traffic', binary: '/b', pid: 7, filters } as unknown as NormalizedEvent);
      return account.status().kernelFilter;
    };
    assert.equal(statusOf({ peer: '3', msg_type: 'tx' }), 'peer 3, type tx');
    assert.equal(statusOf({ op: 'spent', sample: '10' }), 'operation spent, sampled 1 in 10');
    assert.equal(statusOf(undefined), null);
    assert.equal(statusOf({}), null);
    assert.equal(statusOf(['peer']), null);
    assert.equal(statusOf({ peer: 3 }), null, 'a recording with a number where a string belongs');
  });
});

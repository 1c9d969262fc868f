// The record decoders of p2p-connections, connectblock-benchmark, utxocache-flush, utxos and coin-selection,
// fed real bpftrace 0.17 output captured from the test tracee (test/fixtures/bpftrace/<tool>-<build>.ndjson)
// and compared field by field with what the tracee says it passed (<tool>-<build>.expect.ndjson).

import { strict as assert } from 'node:assert';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type {
  BlockRatesEvent,
  ConnectHistogramEvent,
  ConnectSummaryEvent,
  NetMisbehavingEvent,
  UtxoOpsEvent,
} from '../../src/core/events/bpftraceToolEventTypes';
import { NETWORK_NAMES } from '../../src/core/events/bpftraceToolEventTypes';
import {
  TOOL_RECORD_DECODER_IDS,
  createToolRecordDecoder,
  hashFromWords,
  histogramBuckets,
} from '../../src/core/events/toolRecordDecoders';
import type { ClientVersion } from '../../src/core/elf/clientVersion';
import { BpftraceDecoder } from '../../src/core/events/bpftraceDecoder';
import type { NormalizedEvent } from '../../src/core/events/eventTypes';
import { parseBpftraceJson } from '../../src/core/events/bpftraceJson';
import { TOOLS } from '../../src/core/tools/toolCatalog';
import { ToolRecordStream, readNdjson, withoutDerivedFields } from './helpers/toolRecordStream';

/** The bpftrace tools for node state (those not on the P2P panel). */
const NODE_STATE_TOOLS = TOOLS.filter((t) => t.frontEnd === 'bpftrace' && t.panel !== 'p2p' && !t.generated);

const FIXTURES = join(__dirname, '..', 'fixtures', 'bpftrace');

interface Fixture {
  stream: ToolRecordStream;
  expect: Array<Record<string, unknown>>;
  summary: { fired: Record<string, number>; pid: number };
}

function fixture(toolId: string, build: string): Fixture {
  const base = join(FIXTURES, `${toolId}-${build}`);
  const stream = new ToolRecordStream(toolId).pushAll(readFileSync(`${base}.ndjson`, 'utf8'));
  const summary = JSON.parse(readFileSync(`${base}.summary.json`, 'utf8')) as Fixture['summary'];
  // Every record and every kernel count names the tracee's process.
  assert.deepEqual([...stream.eventPids], [summary.pid], `${toolId}: pid of the events`);
  assert.deepEqual([...stream.firedPids], [summary.pid], `${toolId}: pid of the fired counts`);
  return { stream, expect: readNdjson(readFileSync(`${base}.expect.ndjson`, 'utf8')), summary };
}

const CONNECTION_EVENTS = [
  'net:inbound_connection',
  'net:outbound_connection',
  'net:evicted_inbound_connection',
  'net:misbehaving_connection',
  'net:closed_connection',
];

describe('toolRecordDecoders: p2p-connections (real capture, legacy tracee, hostile reasons)', () => {
  const { stream, expect, summary } = fixture('p2p-connections', 'legacy');

  it('decodes every event with the exact values the tracee passed, in order', () => {
    assert.deepEqual(stream.malformed, []);
    assert.equal(expect.length, 300);
    assert.deepEqual(stream.fields(...CONNECTION_EVENTS).map(withoutDerivedFields), expect);
    assert.equal(stream.delivered, 300);
    assert.equal(stream.firedTotal(CONNECTION_EVENTS), 300);
    for (const name of CONNECTION_EVENTS) assert.equal(stream.fired[name], summary.fired[name], name);
  });

  it('names every network and keeps 128-char and hostile misbehaving reasons whole', () => {
    const withNetwork = stream.fields(...CONNECTION_EVENTS).filter((e) => 'network' in e);
    assert.deepEqual([...new Set(withNetwork.map((e) => e.network_name))].sort(), [...NETWORK_NAMES].sort());
    for (const e of withNetwork) assert.equal(e.network_name, NETWORK_NAMES[e.network as number]);
    const reasons = stream.events.filter((e): e is NetMisbehavingEvent => e.event === 'net:misbehaving_connection').map((e) => e.message);
    assert.ok(reasons.some((m) => m.length === 128), 'a 128-char reason');
    assert.ok(reasons.includes('<script>alert(1)</script>'));
    assert.ok(reasons.includes('ctl \u0001\u001b[2J\t\n end'));
    assert.ok(reasons.includes('quote " backslash \\ comma , done'));
    assert.ok(reasons.includes('\u202etxt.exe bidi'));
    assert.ok(!stream.events.some((e) => e.event === 'truncated'), 'nothing reported cut');
  });
});

describe('toolRecordDecoders: connectblock-benchmark (real capture: start 800010, end 800030, threshold 100 ms)', () => {
  const { stream, expect } = fixture('connectblock-benchmark', 'v29');
  const inRange = expect.filter((b) => (b.height as number) >= 800010 && (b.height as number) <= 800030);
  const slow = inRange.filter((b) => (b.duration_ns as number) > 100_000_000);

  it('streams exactly the blocks in range over the threshold, hashes in display order', () => {
    assert.deepEqual(stream.malformed, []);
    assert.equal(inRange.length, 21);
    assert.ok(slow.length > 0 && slow.length < inRange.length, 'the threshold filters some blocks');
    assert.deepEqual(stream.fields('validation:block_connected'), slow);
    assert.ok(slow.every((b) => /^0{20}[0-9a-f]{44}$/.test(b.block_hash as string)));
  });

  it('summarizes totals and the time in milliseconds correctly', () => {
    const summaries = stream.events.filter((e): e is ConnectSummaryEvent => e.event === 'validation:connect_summary');
    assert.equal(summaries.length, 1);
    const [s] = summaries;
    const sum = (field: string): number => inRange.reduce((acc, b) => acc + (b[field] as number), 0);
    assert.deepEqual(s.totals, {
      blocks: 21,
      transactions: sum('transactions'),
      inputs: sum('inputs'),
      sigops: sum('sigops'),
      duration_ns: sum('duration_ns'),
      printed: slow.length,
    });
    assert.equal(s.connect_time_ns, sum('duration_ns'));
    assert.equal(s.connect_time_ms, sum('duration_ns') / 1e6);
    assert.deepEqual([s.start_height, s.end_height, s.threshold_ms], [800010, 800030, 100]);
    assert.ok(s.wall_time_ns !== null && Number(s.wall_time_ns) > 0 && s.wall_time_ms === Number(s.wall_time_ns) / 1e6);
    assert.ok(!stream.events.some((e) => e.event === 'lost'), 'every printed block arrived');
  });

  it('reports the kernel histogram with each block in its power-of-2 microsecond bucket', () => {
    const hist = stream.events.filter((e): e is ConnectHistogramEvent => e.event === 'validation:connect_histogram').pop();
    assert.ok(hist);
    const expected = new Map<number, number>();
    for (const b of inRange) {
      const us = Math.floor((b.duration_ns as number) / 1000);
      const min = 2 ** Math.floor(Math.log2(us));
      expected.set(min, (expected.get(min) ?? 0) + 1);
    }
    for (const bucket of hist.buckets) {
      assert.ok(bucket.min !== null && bucket.max === bucket.min * 2 - 1);
      assert.equal(bucket.count, expected.get(bucket.min) ?? 0, `bucket ${bucket.min}`);
    }
    assert.equal(hist.buckets.reduce((n, b) => n + b.count, 0), 21);
  });

  it('summarizes a run without blocks (real capture: nothing fired, stopped by the tracee exiting)', () => {
    const idle = new ToolRecordStream('connectblock-benchmark').pushAll(readFileSync(join(FIXTURES, 'connectblock-benchmark-idle.ndjson'), 'utf8'));
    assert.deepEqual(idle.malformed, []);
    const summary = idle.events.find((e): e is ConnectSummaryEvent => e.event === 'validation:connect_summary');
    assert.ok(summary);
    assert.deepEqual(summary.totals, { blocks: 0, transactions: 0, inputs: 0, sigops: 0, duration_ns: 0, printed: 0 });
    assert.equal(summary.wall_time_ns, null);
    assert.equal(summary.connect_time_ms, 0);
    assert.equal(idle.events.length, 1, 'ticks alone produce no events');
  });

  it('gives per-second rates from successive kernel snapshots', () => {
    const rates = stream.events.filter((e): e is BlockRatesEvent => e.event === 'validation:block_rates');
    assert.ok(rates.length >= 1);
    assert.equal(rates[rates.length - 1].totals.blocks, 21);
    assert.equal(rates[rates.length - 1].height, 800030, 'the last counted height');
  });
});

describe('BpftraceDecoder accounts for connectblock-benchmark (real capture through the decoder)', () => {
  const lines = readFileSync(join(FIXTURES, 'connectblock-benchmark-v29.ndjson'), 'utf8').split('\n').filter((l) => l.length > 0);
  const blockLines = lines.filter((l) => l.includes('["block",'));
  const decode = (input: readonly string[]): { events: NormalizedEvent[]; decoder: BpftraceDecoder } => {
    const decoder = new BpftraceDecoder({ toolId: 'connectblock-benchmark', streamedTracepoints: [] });
    const events = input.flatMap((line) => decoder.decodeLine(line));
    events.push(...decoder.finish());
    return { events, decoder };
  };
  const lostIn = (events: readonly NormalizedEvent[]): number => events.reduce((n, e) => n + (e.event === 'lost' ? e.count : 0), 0);

  it('counts every streamed block as delivered and nothing as lost when all arrive', () => {
    const { events, decoder } = decode(lines);
    assert.ok(blockLines.length > 0);
    assert.equal(decoder.stats.delivered, blockLines.length);
    assert.equal(lostIn(events), 0);
    assert.equal(decoder.stats.lostReported + decoder.stats.lostReconciled, 0);
  });

  it('counts blocks that never arrived as lost, in the events and in the stats, reported by bpftrace or not', () => {
    // Two blocks missing; bpftrace reported one of them.
    const missing = new Set([blockLines[1], blockLines[2]]);
    const input = lines.filter((l) => !missing.has(l));
    input.splice(2, 0, '{"type": "lost_events", "data": {"events": 1}}');
    const { events, decoder } = decode(input);
    assert.equal(decoder.stats.delivered, blockLines.length - 2);
    assert.equal(lostIn(events), 2);
    assert.equal(decoder.stats.lostReported, 1);
    assert.equal(decoder.stats.lostReported + decoder.stats.lostReconciled, 2);
  });
});

describe('toolRecordDecoders: utxocache-flush (real capture, v29 tracee)', () => {
  const { stream, expect } = fixture('utxocache-flush', 'v29');

  it('decodes every flush exactly and names its mode', () => {
    assert.deepEqual(stream.malformed, []);
    assert.equal(expect.length, 10);
    assert.deepEqual(stream.fields('utxocache:flush').map(withoutDerivedFields), expect);
    assert.deepEqual(
      stream.fields('utxocache:flush').map((e) => `${String(e.mode_name)}/${String(e.is_flush_for_prune)}`),
      // The tracee has no Bitcoin Core version: the current (v31+) names.
      ['false', 'true'].flatMap((prune) => ['NONE', 'IF_NEEDED', 'PERIODIC', 'FORCE_FLUSH', 'FORCE_SYNC'].map((m) => `${m}/${prune}`)),
    );
    assert.equal(stream.delivered, stream.fired['utxocache:flush']);
    // The tracee is single-threaded: bpftrace's comm is its executable's name.
    assert.deepEqual(new Set(stream.fields('utxocache:flush').map((e) => e.thread)), new Set(['tracee-v29']));
  });

  it('names modes as the traced build does: ALWAYS before v31, FORCE_FLUSH and FORCE_SYNC from v31', () => {
    const names = (clientVersion: ClientVersion | null): string[] => {
      const decoder = new BpftraceDecoder({ toolId: 'utxocache-flush', streamedTracepoints: ['utxocache:flush'], clientVersion });
      return [0, 1, 2, 3, 4].flatMap((mode) => decoder.decodeLine(`{"type": "value", "data": ["flush",1000,88,5,${mode},10,20,0,"b-scheduler"]}`))
        .map((event) => (event.event === 'utxocache:flush' ? event.mode_name : event.event));
    };
    const version = (major: number, minor: number): ClientVersion => ({ major, minor, patch: 0, rc: null, text: `v${major}.${minor}.0` });
    assert.deepEqual(names(version(28, 99)), ['NONE', 'IF_NEEDED', 'PERIODIC', 'ALWAYS', 'UNKNOWN(4)']);
    assert.deepEqual(names(version(31, 99)), ['NONE', 'IF_NEEDED', 'PERIODIC', 'FORCE_FLUSH', 'FORCE_SYNC']);
    assert.deepEqual(names(null), ['NONE', 'IF_NEEDED', 'PERIODIC', 'FORCE_FLUSH', 'FORCE_SYNC']);
  });
});

describe('toolRecordDecoders: utxos (real capture, legacy tracee)', () => {
  const { stream, expect, summary } = fixture('utxos', 'legacy');
  const ops = ['utxocache:add', 'utxocache:spent', 'utxocache:uncache'];

  it('decodes every coin exactly: txid in display order, outpoint txid:index', () => {
    assert.deepEqual(stream.malformed, []);
    const coins = expect.filter((e) => ops.includes(e.event as string));
    assert.equal(coins.length, 248);
    const got = stream.fields(...ops);
    assert.deepEqual(got.map(withoutDerivedFields), coins);
    for (const c of got) assert.equal(c.outpoint, `${String(c.txid)}:${String(c.index)}`);
  });

  it('reports the kernel operation counts, equal to what fired', () => {
    const last = stream.events.filter((e): e is UtxoOpsEvent => e.event === 'utxocache:ops').pop();
    assert.ok(last);
    assert.deepEqual(last.counts, {
      add: summary.fired['utxocache:add'],
      spent: summary.fired['utxocache:spent'],
      uncache: summary.fired['utxocache:uncache'],
    });
    assert.equal(stream.delivered, stream.firedTotal(ops));
  });
});

describe('toolRecordDecoders: coin-selection (real capture, v29 tracee, hostile wallet names)', () => {
  const { stream, expect } = fixture('coin-selection', 'v29');

  it('decodes every event in order with exact values and hostile wallet names intact', () => {
    assert.deepEqual(stream.malformed, []);
    assert.equal(expect.length, 300);
    assert.deepEqual(stream.fields(...Object.keys(stream.fired)), expect);
    const wallets = new Set(stream.fields('coin_selection:normal_create_tx_internal').map((e) => e.wallet_name));
    for (const w of ['', 'ü-wallet', '\u202etxt.exe bidi', '<img src=x onerror=alert(1)>']) assert.ok(wallets.has(w), JSON.stringify(w));
    assert.equal(stream.delivered, 300);
  });
});

describe('toolRecordDecoders: edge cases', () => {
  const line = (text: string): ReturnType<typeof parseBpftraceJson> => parseBpftraceJson(text);

  it('turns four little-endian words into the reversed (display) hex', () => {
    // bytes 0x00..0x1f in internal order: word k holds bytes 8k..8k+7, least significant first
    const words = [0, 1, 2, 3].map((k) => {
      let w = 0n;
      for (let i = 7; i >= 0; i--) w = (w << 8n) | BigInt(8 * k + i);
      return w.toString();
    });
    const display = Array.from({ length: 32 }, (_, i) => (31 - i).toString(16).padStart(2, '0')).join('');
    assert.equal(hashFromWords(words), display);
    assert.equal(hashFromWords(['18446744073709551615', 0, 0, 1]), `${'0'.repeat(15)}1${'0'.repeat(32)}${'f'.repeat(16)}`);
    assert.throws(() => hashFromWords([0, 0, 0]));
    assert.throws(() => hashFromWords(['18446744073709551616', 0, 0, 0]));
  });

  it('joins a misbehaving reason split inside a UTF-8 character, and flags one that reached the limit', () => {
    const stream = new ToolRecordStream('p2p-connections');
    const head = 'x'.repeat(70); // then "é" (c3 a9): its first byte is the 71st
    stream.push(`{"type": "value", "data": ["misbehaving_connection",5,88,7,"${head}\\uffffffc3","\\uffffffa9 end"]}`);
    stream.push(`{"type": "value", "data": ["misbehaving_connection",6,88,7,"short","garbage after the NUL"]}`);
    const long = 'y'.repeat(71);
    stream.push(`{"type": "value", "data": ["misbehaving_connection",7,88,7,"${long}","${long}"]}`);
    const messages = stream.events.filter((e): e is NetMisbehavingEvent => e.event === 'net:misbehaving_connection').map((e) => e.message);
    assert.deepEqual(messages, [`${head}é end`, 'short', long + long]);
    assert.deepEqual(stream.events.filter((e) => e.event === 'truncated').map((e) => 'field' in e && e.field), ['message']);
  });

  it('computes rates from snapshot differences and restarts after a re-attach', () => {
    const stream = new ToolRecordStream('utxos');
    stream.push('{"type": "value", "data": ["ops_tick",1000000000]}');
    stream.push('{"type": "map", "data": {"@ops": {"add": 100, "spent": 10}}}');
    stream.push('{"type": "value", "data": ["ops_tick",1500000000]}');
    stream.push('{"type": "map", "data": {"@ops": {"add": 600, "spent": 10, "uncache": 5}}}');
    stream.push('{"type": "map", "data": {"@ops": {"add": 600, "spent": 10, "uncache": 5}}}'); // printed again at exit
    stream.push('{"type": "value", "data": ["ops_tick",2500000000]}');
    stream.push('{"type": "map", "data": {"@ops": {"add": 3}}}'); // a new bpftrace run
    const ops = stream.events.filter((e): e is UtxoOpsEvent => e.event === 'utxocache:ops');
    assert.deepEqual(ops.map((e) => [e.interval_ns, e.counts, e.per_second]), [
      [0, { add: 100, spent: 10, uncache: 0 }, { add: 0, spent: 0, uncache: 0 }],
      [500000000, { add: 600, spent: 10, uncache: 5 }, { add: 1000, spent: 0, uncache: 10 }],
      [0, { add: 3, spent: 0, uncache: 0 }, { add: 0, spent: 0, uncache: 0 }],
    ]);
  });

  it('reconciles printed blocks that never arrived', () => {
    const stream = new ToolRecordStream('connectblock-benchmark');
    stream.push('{"type": "value", "data": ["block",5,88,1,2,3,4,10,1,1,1,2000000]}');
    stream.push('{"type": "map", "data": {"@totals": {"printed": 3, "blocks": 4, "transactions": 4, "inputs": 4, "sigops": 4, "duration_ns": 9000000}}}');
    stream.push('{"type": "value", "data": ["summary",9,0,0,0,100,400]}');
    const summary = stream.events.find((e): e is ConnectSummaryEvent => e.event === 'validation:connect_summary');
    assert.ok(summary);
    assert.equal(summary.connect_time_ms, 9);
    assert.equal(summary.wall_time_ns, 300);
    assert.equal(stream.lostTotal(), 2);
  });

  it('reads bpftrace hist buckets, including the negative one without a lower bound', () => {
    const record = line('{"type": "hist", "data": {"@h": [{"max": -1, "count": 1}, {"min": 0, "max": 0, "count": 2}, {"min": 2, "max": 3, "count": 4}]}}');
    assert.ok(record && typeof record === 'object' && !Array.isArray(record));
    const data = (record as { get(k: string): unknown }).get('data') as { get(k: string): Parameters<typeof histogramBuckets>[0] };
    assert.deepEqual(histogramBuckets(data.get('@h')), [
      { min: null, max: -1, count: 1 },
      { min: 0, max: 0, count: 2 },
      { min: 2, max: 3, count: 4 },
    ]);
  });

  it('rejects malformed tuples of its own and leaves @fired to the session decoder', () => {
    const stream = new ToolRecordStream('coin-selection');
    stream.push('{"type": "value", "data": ["selected_coins",1,88,"w","bnb",1,2]}');
    stream.push('{"type": "value", "data": ["normal_create_tx_internal",1,88,"w",2,1,-1]}');
    stream.push('{"type": "value", "data": ["nonsense",1]}');
    stream.push('{"type": "map", "data": {"@fired": {"88,coin_selection:selected_coins": 4}}}');
    assert.equal(stream.malformed.length, 3);
    assert.deepEqual(stream.fired, { 'coin_selection:selected_coins': 4 });
    assert.equal(stream.delivered, 0);
  });

  it('accepts only parameter values bpftrace reads as the same decimal number', () => {
    const benchmark = NODE_STATE_TOOLS.find((t) => t.id === 'connectblock-benchmark');
    assert.ok(benchmark);
    assert.deepEqual(benchmark.parameters.map((p) => p.name), ['start', 'end', 'threshold_ms']);
    for (const p of benchmark.parameters) {
      const re = new RegExp(p.pattern);
      for (const ok of ['0', '7', '800000', '4294967295']) assert.ok(re.test(ok), `${p.name}=${ok}`);
      for (const bad of ['010', '00', '-1', '1e3', '0x10', '', ' 1', '12345678901', '1;2']) assert.ok(!re.test(bad), `${p.name}=${bad}`);
    }
  });

  it('has a record decoder for each bpftrace node-state tool and each BCC tool, and none for others', () => {
    const bccTools = TOOLS.filter((t) => t.script.endsWith('.py')).map((t) => t.id);
    assert.deepEqual(bccTools.sort(), ['mempool-monitor', 'raw-p2p-msgs']);
    assert.deepEqual([...TOOL_RECORD_DECODER_IDS].sort(), [...NODE_STATE_TOOLS.map((t) => t.id), ...bccTools, 'trace-tracepoint'].sort());
    assert.equal(createToolRecordDecoder('p2p-traffic'), undefined);
    assert.equal(createToolRecordDecoder('__proto__'), undefined);
    for (const tool of NODE_STATE_TOOLS) assert.ok(readFileSync(join(__dirname, '..', '..', 'probes', tool.script), 'utf8').includes('$1'));
  });
});

// The connectblock-benchmark core: a run's rates, histogram, slow blocks and totals (fed the real bpftrace
// capture of the test tracee through the real record decoder), its bounds, and two runs on common axes.

import { strict as assert } from 'node:assert';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { BenchmarkRun, benchmarkParamsOf, histogramBucketOf, type BenchmarkInputEvent } from '../../src/core/benchmark/benchmarkRun';
import { alignHistograms, alignRates, compareRuns } from '../../src/core/benchmark/runComparison';
import { parseBenchmarkFromWebview, parseBenchmarkUiState, type RateSeries } from '../../src/shared/benchmarkProtocol';
import { formatDuration } from '../../src/shared/format';
import { ToolRecordStream } from './helpers/toolRecordStream';

const CAPTURE = join(__dirname, '..', 'fixtures', 'bpftrace', 'connectblock-benchmark-v29.ndjson');

function captureEvents(): BenchmarkInputEvent[] {
  const stream = new ToolRecordStream('connectblock-benchmark').pushAll(readFileSync(CAPTURE, 'utf8'));
  assert.deepEqual(stream.malformed, []);
  return stream.events;
}

function rates(elapsedS: number, interval: number, blocks: number, extra: Partial<Record<string, unknown>> = {}): BenchmarkInputEvent {
  return {
    event: 'validation:block_rates',
    elapsed_ns: elapsedS * 1e9,
    interval_ns: interval * 1e9,
    blocks_per_s: blocks,
    transactions_per_s: blocks * 2_000,
    inputs_per_s: blocks * 5_000,
    sigops_per_s: blocks * 9_000,
    totals: { blocks: 0, transactions: 0, inputs: 0, sigops: 0, duration_ns: 0, printed: 0 },
    ...extra,
  } as BenchmarkInputEvent;
}

function block(height: number, durationMs: number, elapsedS = height): BenchmarkInputEvent {
  return {
    event: 'validation:block_connected',
    elapsed_ns: elapsedS * 1e9,
    block_hash: height.toString(16).padStart(64, '0'),
    height,
    transactions: 1_000 + height,
    inputs: 2_000,
    sigops: '3000',
    duration_ns: durationMs * 1e6,
  } as BenchmarkInputEvent;
}

describe('benchmark: one run (real bpftrace capture: heights 800010–800030, threshold 100 ms)', () => {
  const events = captureEvents();

  it('takes totals, summary, histogram and slow blocks from the decoded events', () => {
    const run = new BenchmarkRun('s1', 'master', 'recording');
    run.ingestAll(events);
    const view = run.view();
    const blocks = events.filter((e) => e.event === 'validation:block_connected') as unknown as { height: number; duration_ns: number }[];
    assert.equal(blocks.length, 18);
    // The kernel's totals (every block in range, not only those over the threshold).
    assert.deepEqual(view.totals, { blocks: 21, transactions: 51_627, inputs: 127_117, sigops: 382_423, connectTimeNs: 4_377_655_800, printed: 18 });
    assert.ok(view.summary, 'no summary');
    assert.equal(view.summary.startHeight, 800_010);
    assert.equal(view.summary.endHeight, 800_030);
    assert.equal(view.summary.thresholdMs, 100);
    assert.equal(view.summary.totals.connectTimeNs, 4_377_655_800);
    assert.ok(view.summary.wallTimeNs !== null && view.summary.wallTimeNs > 0);
    assert.equal(formatDuration(view.summary.totals.connectTimeNs), '4.378 s');
    assert.equal(view.histogramSource, 'kernel');
    assert.equal(view.histogram.reduce((s, b) => s + b.count, 0), 21);
    assert.deepEqual(view.histogram.map((b) => b.min), [8192, 16384, 32768, 65536, 131072, 262144, 524288]);
    // Every block over the threshold, slowest first, all over 100 ms.
    assert.equal(view.slowBlocksReceived, 18);
    assert.deepEqual(view.slowBlocks.map((b) => b.durationNs), blocks.map((b) => Number(b.duration_ns)).sort((a, b) => b - a));
    assert.ok(view.slowBlocks.every((b) => b.durationNs > 100e6 && /^[0-9a-f]{64}$/.test(b.hash)));
    assert.equal(view.lostEvents, 0);
  });

  it('plots rates from the first block on, in seconds since it', () => {
    const run = new BenchmarkRun('s1', 'master', 'recording');
    run.ingestAll([rates(1, 0, 0), rates(2, 1, 0), rates(3, 1, 0), block(10, 150, 3.5), rates(4, 1, 10), rates(5, 1, 12), rates(6, 1, 0)]);
    const series = run.view().rates;
    // The rate snapshot at 4 s saw blocks in (3 s, 4 s]: the run started at 3 s at the latest (the block at
    // 3.5 s started connecting at 3.35 s); the idle seconds before are left out.
    assert.deepEqual(series.seconds.map((s) => Number(s.toFixed(2))), [1, 2, 3]);
    assert.deepEqual(series.blocksPerS, [10, 12, 0]);
    assert.deepEqual(series.sigopsPerS, [90_000, 108_000, 0]);
    assert.equal(series.pointSeconds, 1);
  });

  it('without a kernel histogram, builds one from the streamed blocks in power-of-2 µs buckets', () => {
    assert.deepEqual(histogramBucketOf(1_500), { min: 1_024, max: 2_047 });
    assert.deepEqual(histogramBucketOf(1_024), { min: 1_024, max: 2_047 });
    assert.deepEqual(histogramBucketOf(0.5), { min: 0, max: 0 });
    const run = new BenchmarkRun('s', 'x', 'live');
    run.ingestAll([block(1, 1.5), block(2, 1.9), block(3, 300)]);
    const view = run.view();
    assert.equal(view.histogramSource, 'blocks');
    assert.deepEqual(view.histogram, [
      { min: 1_024, max: 2_047, count: 2 },
      { min: 262_144, max: 524_287, count: 1 },
    ]);
  });

  it('stays bounded: thins rate points and keeps only the slowest blocks', () => {
    const run = new BenchmarkRun('s', 'x', 'live', { maxRatePoints: 100, maxSlowBlocks: 10, maxNotes: 3 });
    run.ingest(block(0, 5, 0.001));
    for (let s = 1; s <= 1_000; s++) run.ingest(rates(s, 1, s % 2 === 0 ? 10 : 20));
    for (let h = 1; h <= 1_000; h++) run.ingest(block(h, (h * 7919) % 1_000));
    for (let i = 0; i < 10; i++) run.ingest({ event: 'session:message', level: 'warning', message: `note ${i}` } as BenchmarkInputEvent);
    const view = run.view();
    assert.ok(view.rates.seconds.length <= 100, `${view.rates.seconds.length} points`);
    assert.equal(view.rates.pointSeconds, 16);
    // Averaging pairs keeps a rate a rate: the mean of 10 and 20.
    assert.ok(view.rates.blocksPerS.slice(0, -1).every((v) => v === 15), JSON.stringify(view.rates.blocksPerS));
    assert.equal(view.slowBlocks.length, 10);
    assert.equal(view.slowBlocksReceived, 1_001);
    assert.deepEqual(view.slowBlocks.map((b) => b.durationNs / 1e6), [999, 998, 997, 996, 995, 994, 993, 992, 991, 990]);
    assert.deepEqual(view.notes.map((n) => n.message), ['note 7', 'note 8', 'note 9']);
  });

  it('counts malformed events and losses instead of failing', () => {
    const run = new BenchmarkRun('s', 'x', 'live');
    run.ingestAll([
      { event: 'validation:block_connected', height: 'x' } as BenchmarkInputEvent,
      { event: 'validation:block_rates', elapsed_ns: 5 } as BenchmarkInputEvent,
      { event: 'validation:connect_histogram', buckets: 'no' } as BenchmarkInputEvent,
      { event: 'lost', count: 4, source: 'reconciled' } as BenchmarkInputEvent,
      { event: 'net:inbound_message' } as BenchmarkInputEvent,
    ]);
    const view = run.view();
    assert.equal(view.ignoredEvents, 3);
    assert.equal(view.lostEvents, 4);
    assert.equal(view.slowBlocks.length, 0);
  });
});

describe('benchmark: while a run goes on', () => {
  it('shows the heights and threshold it was launched with and the wall time so far, before any summary', () => {
    const params = benchmarkParamsOf({ start: '800010', end: '800030', threshold_ms: '100' });
    assert.deepEqual(params, { startHeight: 800_010, endHeight: 800_030, thresholdMs: 100 });
    assert.deepEqual(benchmarkParamsOf({}), { startHeight: 0, endHeight: 0, thresholdMs: 0 });
    assert.equal(benchmarkParamsOf({ start: '-1' }), null);
    assert.equal(benchmarkParamsOf(undefined), null);
    const run = new BenchmarkRun('live-1', 'master', 'live', undefined, params);
    run.ingestAll([rates(1, 0, 0), rates(2, 1, 0)]);
    assert.equal(run.view().wallTimeSoFarNs, null, 'no block counted yet');
    assert.deepEqual(run.view().params, params);
    // Blocks connect in the third and fourth second, one slow block streams at 3.5 s.
    run.ingestAll([
      rates(3, 1, 4),
      { event: 'validation:block_connected', elapsed_ns: 3.5e9, block_hash: 'ab'.repeat(32), height: 800_015, transactions: 1, inputs: 1, sigops: 1, duration_ns: 150e6 } as BenchmarkInputEvent,
      rates(4, 1, 2),
      rates(5, 1, 0),
    ]);
    const view = run.view();
    assert.equal(view.summary, null);
    // From the first counted block (the start of the second in which it connected) to the newest one seen.
    assert.equal(view.wallTimeSoFarNs, 2e9);
    assert.deepEqual(view.params, params);
  });

  it('takes the heights and threshold from the summary once there is one (recordings keep no launch parameters)', () => {
    const run = new BenchmarkRun('s1', 'master', 'recording');
    assert.equal(run.view().params, null);
    run.ingestAll(captureEvents());
    assert.deepEqual(run.view().params, { startHeight: 800_010, endHeight: 800_030, thresholdMs: 100 });
  });
});

describe('benchmark: two runs side by side', () => {
  function series(seconds: number[], blocks: number[], pointSeconds = 1): RateSeries {
    return { seconds, blocksPerS: blocks, transactionsPerS: blocks.map((b) => b * 2), inputsPerS: blocks.map((b) => b * 3), sigopsPerS: blocks.map((b) => b * 4), pointSeconds };
  }

  it('aligns rates on whole seconds since each run started, with gaps where a run has no point', () => {
    const a = series([0.98, 2.0, 3.01, 4.0], [10, 11, 12, 13]);
    const b = series([1.02, 1.97], [20, 21]);
    const aligned = alignRates(a, b);
    assert.deepEqual(aligned.seconds, [1, 2, 3, 4]);
    assert.deepEqual(aligned.blocksPerS, [
      [10, 11, 12, 13],
      [20, 21, null, null],
    ]);
    assert.deepEqual(alignRates(b, b).seconds, [1, 2]);
    assert.deepEqual(aligned.sigopsPerS[0], [40, 44, 48, 52]);
  });

  it('aligns a thinned run with a fine one on the coarser width, averaging', () => {
    const coarse = series([4, 8], [10, 20], 4);
    const fine = series([1, 2, 3, 4, 5, 6, 7, 8], [1, 2, 3, 4, 5, 6, 7, 8]);
    const aligned = alignRates(coarse, fine);
    assert.deepEqual(aligned.seconds, [4, 8]);
    assert.deepEqual(aligned.blocksPerS, [
      [10, 20],
      [2.5, 6.5],
    ]);
  });

  it('unites histogram buckets, 0 where a run has none', () => {
    const merged = alignHistograms(
      [{ min: 1024, max: 2047, count: 3 }, { min: 4096, max: 8191, count: 1 }],
      [{ min: null, max: -1, count: 1 }, { min: 2048, max: 4095, count: 2 }, { min: 4096, max: 8191, count: 5 }],
    );
    assert.deepEqual(merged, [
      { min: null, max: -1, countA: 0, countB: 1 },
      { min: 1024, max: 2047, countA: 3, countB: 0 },
      { min: 2048, max: 4095, countA: 0, countB: 2 },
      { min: 4096, max: 8191, countA: 1, countB: 5 },
    ]);
  });

  it('compares the real capture with a slower run of the same blocks', () => {
    const events = captureEvents();
    const master = new BenchmarkRun('a', 'master', 'recording');
    master.ingestAll(events);
    const branch = new BenchmarkRun('b', 'branch', 'recording');
    branch.ingestAll([...[1, 2, 3].map((s) => rates(s, 1, 5)), block(800_010, 2_000, 0.5)]);
    const comparison = compareRuns(master.view(), branch.view());
    const masterBuckets = comparison.histogram.reduce((s, b) => s + b.countA, 0);
    const branchBuckets = comparison.histogram.reduce((s, b) => s + b.countB, 0);
    assert.equal(masterBuckets, 21);
    assert.equal(branchBuckets, 1);
    assert.ok(comparison.histogram.some((b) => b.min === 1_048_576 && b.countB === 1 && b.countA === 0));
    assert.equal(comparison.seconds.length, comparison.blocksPerS[0].length);
    assert.equal(comparison.seconds.length, comparison.blocksPerS[1].length);
  });
});

describe('benchmark: units and protocol', () => {
  it('formats durations in fitting units', () => {
    assert.equal(formatDuration(812), '812 ns');
    assert.equal(formatDuration(4_210), '4.21 µs');
    assert.equal(formatDuration(35_700_000), '35.7 ms');
    assert.equal(formatDuration(999_999_999), '1000 ms');
    assert.equal(formatDuration(4_377_655_800), '4.378 s');
    assert.equal(formatDuration(123.4e9), '2 min 03.4 s');
    assert.equal(formatDuration(3 * 3600e9 + 5 * 60e9 + 7e9), '3 h 05 min 07.0 s');
  });

  it('validates webview messages and UI state', () => {
    assert.deepEqual(parseBenchmarkFromWebview({ type: 'selectRun', run: 'B', sessionId: null }), { type: 'selectRun', run: 'B', sessionId: null });
    assert.equal(parseBenchmarkFromWebview({ type: 'selectRun', run: 'C', sessionId: 'x' }), undefined);
    assert.deepEqual(parseBenchmarkUiState({ runA: 5, sortColumn: 'evil', sortDescending: 'no' }), { runA: null, runB: null, sortColumn: 'duration', sortDescending: true });
  });
});

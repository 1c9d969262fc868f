import { strict as assert } from 'node:assert';
import { join } from 'node:path';
import * as vscode from 'vscode';
import { loadRecording } from '../../src/core/events/recording';
import { formatDuration } from '../../src/shared/format';
import { assertChartsReadable, benchmarkPanelReport, closePanelTabs, extensionApis, focusPanelForScreenshots, repoRoot } from './integrationHelpers';
import { screenshot } from './screenshot';

const recordings = join(repoRoot, 'test', 'fixtures', 'recordings');
const masterRecording = join(recordings, 'bench-master.ndjson');
const branchRecording = join(recordings, 'bench-branch.ndjson');

interface ExpectedRun {
  blocks: number;
  connectTimeNs: number;
  slowBlocks: { height: number; durationNs: number }[];
  buckets: number;
  startHeight: number;
  endHeight: number;
  thresholdMs: number;
}

async function expectedRun(path: string): Promise<ExpectedRun> {
  const recording = await loadRecording(path);
  assert.deepEqual(recording.malformed, []);
  assert.equal(recording.header.tool, 'connectblock-benchmark');
  const events = recording.events as unknown as Record<string, unknown>[];
  const summary = events.find((e) => e.event === 'validation:connect_summary') as
    | { totals: { blocks: number }; connect_time_ns: number; start_height: number; end_height: number; threshold_ms: number }
    | undefined;
  assert.ok(summary, 'the recording has a final summary');
  const histograms = events.filter((e) => e.event === 'validation:connect_histogram') as unknown as { buckets: unknown[] }[];
  const slowBlocks = events
    .filter((e) => e.event === 'validation:block_connected')
    .map((e) => ({ height: e.height as number, durationNs: Number(e.duration_ns) }))
    .sort((a, b) => b.durationNs - a.durationNs);
  return {
    blocks: summary.totals.blocks,
    connectTimeNs: Number(summary.connect_time_ns),
    slowBlocks,
    buckets: histograms[histograms.length - 1].buckets.length,
    startHeight: summary.start_height,
    endHeight: summary.end_height,
    thresholdMs: summary.threshold_ms,
  };
}

describe('ConnectBlock benchmark panel', function () {
  this.timeout(90_000);

  after(async () => {
    // Give the side bar back to the suites that follow.
    await vscode.commands.executeCommand('workbench.view.explorer');
  });
  let runA: string | undefined;

  it('opens by itself for a connectblock-benchmark recording: rates, histogram, slow blocks, total time', async () => {
    const { benchmarkPanel: panel } = await extensionApis('benchmarkPanel');
    const expected = await expectedRun(masterRecording);
    await closePanelTabs('bitcoinUsdt.benchmarkPanel');
    runA = await vscode.commands.executeCommand<string | undefined>('bitcoinUsdt.openRecording', vscode.Uri.file(masterRecording));
    assert.ok(runA, 'Open recording returned no session');
    assert.equal(panel.isOpen, true, 'the panel did not open for a connectblock-benchmark recording');
    assert.equal(panel.runA, runA);
    await focusPanelForScreenshots(() => vscode.commands.executeCommand('bitcoinUsdt.showBenchmarkPanel'));
    const opened = runA;
    const report = await benchmarkPanelReport((r) => r.runA === opened && r.totalTimeText !== '—' && r.totalTimeText !== '' && r.slowBlockRows > 0);
    assert.equal(report.runB, null);
    assert.equal(report.blockCountText, expected.blocks.toLocaleString('en-US'));
    assert.equal(report.totalTimeText, formatDuration(expected.connectTimeNs));
    assert.match(report.totalTimeText, /^\d+\.\d{3} s$/, 'a total of tens of seconds is shown in seconds');
    assert.equal(report.slowBlockRows, expected.slowBlocks.length);
    // Sorted by duration, slowest first, in the one duration format the summary uses too.
    assert.deepEqual(
      report.firstSlowBlocks.map((b) => b.duration),
      expected.slowBlocks.slice(0, 10).map((b) => formatDuration(b.durationNs)),
    );
    assert.equal(report.firstSlowBlocks[0].height, expected.slowBlocks[0].height.toLocaleString('en-US'));
    assert.match(report.firstSlowBlocks[0].hash, /^0{16}[0-9a-f]{48}$/);
    assert.ok(report.chartCanvasCount >= 5, `expected 4 rate charts and a histogram, found ${report.chartCanvasCount} canvases`);
    assert.equal(report.rateChartSeries, 1);
    assert.equal(report.histogramBars, expected.buckets);
    assert.equal(report.lostText, 'Lost blocks: 0');
    // Every figure of the card is there, none a placeholder: heights and threshold from the summary, the wall time.
    for (const [name, text] of Object.entries(report.summaryA)) assert.ok(text !== '' && text !== '—', `summary item ${name} shows ${JSON.stringify(text)}`);
    const en = (n: number): string => n.toLocaleString('en-US');
    assert.equal(report.summaryA.heights, expected.endHeight > 0 ? `${en(expected.startHeight)} – ${en(expected.endHeight)}` : expected.startHeight > 0 ? `from ${en(expected.startHeight)}` : 'all');
    assert.equal(report.summaryA.threshold, expected.thresholdMs > 0 ? `over ${en(expected.thresholdMs)} ms` : 'every block');
    assertChartsReadable(report.charts);
    assert.equal(report.lostAlarm, false);
    assert.equal(report.activeElementsInPanel, 0);
    assert.equal(report.imgElementsInDocument, 0);
    await screenshot('benchmark-run');
  });

  it('compares with a second run opened as run B: rates and histograms together, both totals', async () => {
    const { benchmarkPanel: panel } = await extensionApis('benchmarkPanel');
    assert.ok(runA, 'the first test opened run A');
    const expectedA = await expectedRun(masterRecording);
    const expectedB = await expectedRun(branchRecording);
    const runB = await vscode.commands.executeCommand<string | undefined>('bitcoinUsdt.compareBenchmarkRuns', vscode.Uri.file(branchRecording));
    assert.ok(runB, 'Compare with… returned no run');
    assert.notEqual(runB, runA);
    assert.equal(panel.runA, runA, 'opening run B must not replace run A');
    assert.equal(panel.runB, runB);
    const report = await benchmarkPanelReport((r) => r.runB === runB && r.totalTimeTextB !== '' && r.totalTimeTextB !== '—' && r.rateChartSeries === 2);
    assert.equal(report.runA, runA);
    assert.equal(report.totalTimeText, formatDuration(expectedA.connectTimeNs));
    assert.equal(report.totalTimeTextB, formatDuration(expectedB.connectTimeNs));
    assert.equal(report.blockCountTextB, expectedB.blocks.toLocaleString('en-US'));
    assert.ok(report.histogramBars >= Math.max(expectedA.buckets, expectedB.buckets));
    assert.ok(report.chartCanvasCount >= 5);
    // Run B's recording carries a hostile bpftrace warning: shown as text.
    assert.ok(report.notes.includes('B: <img src=x onerror=alert(1)> bpftrace: \\u202Ewarning'), JSON.stringify(report.notes));
    assert.equal(report.activeElementsInPanel, 0);
    assert.equal(report.imgElementsInDocument, 0);
    await screenshot('benchmark-compare');
  });
});

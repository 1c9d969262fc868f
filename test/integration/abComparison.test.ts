// A/B in every panel: "Compare two runs…" with two recordings of the real Bitcoin Core (demo/recordings, and the
// same run cut at half its time, as a run stopped halfway) opens run A in its panel and compares run B with it
// there; the page draws the comparison (totals, rates, count tables with the differences marked), screenshot each.
import { strict as assert } from 'node:assert';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as vscode from 'vscode';
import type { ComparedRuns } from '../../src/extension/panels/compareRuns';
import type { ComparisonReport, TableBox } from '../../src/shared/panelProtocol';
import type { ToolPanelTool } from '../../src/shared/toolPanelProtocol';
import { benchmarkPanelReport, extensionApis, p2pPanelReport, rawPanelReport, repoRoot, toolPanelReport } from './integrationHelpers';
import { screenshot, setWindowSize } from './screenshot';

const demo = (tool: string): string => join(repoRoot, 'demo', 'recordings', `${tool}-demo.ndjson`);

/** The recording cut at `fraction` of the time of its events (header and session lines kept): a run stopped early. */
async function halfOf(tool: string, dir: string, fraction = 0.5): Promise<string> {
  const lines = (await readFile(demo(tool), 'utf8')).split('\n').filter((l) => l !== '');
  const times = lines.slice(1).map((l) => (JSON.parse(l) as { elapsed_ns?: number }).elapsed_ns).filter((t): t is number => typeof t === 'number' && t > 0);
  const middle = Math.min(...times) + (Math.max(...times) - Math.min(...times)) * fraction;
  const kept = [lines[0], ...lines.slice(1).filter((l) => ((JSON.parse(l) as { elapsed_ns?: number }).elapsed_ns ?? 0) <= middle)];
  const path = join(dir, `${tool}-half.ndjson`);
  await writeFile(path, `${kept.join('\n')}\n`);
  return path;
}

async function compare(a: string, b: string): Promise<ComparedRuns> {
  const runs = await vscode.commands.executeCommand<ComparedRuns | undefined>('bitcoinUsdt.compareRuns', vscode.Uri.file(a), vscode.Uri.file(b));
  assert.ok(runs, `Compare two runs gave nothing for ${a} and ${b}`);
  assert.notEqual(runs.runA, runs.runB);
  return runs;
}

/** What every comparison must show: both runs named, totals, a rate chart per series, tables with marked rows. */
function checkComparison(report: ComparisonReport, marked: RegExp | null): void {
  assert.ok(report.shown, 'the comparison section is hidden');
  assert.ok(report.runA.includes('recording') && report.runB.includes('recording'), `${report.runA} / ${report.runB}`);
  assert.ok(report.totals.length >= 2, `totals: ${JSON.stringify(report.totals)}`);
  assert.ok(report.rateCharts >= 1, 'no rate chart');
  assert.ok(report.tables.length >= 1, 'no count table');
  if (marked === null) return;
  const markedTables = report.tables.filter((t) => t.highlighted > 0).map((t) => t.title);
  assert.ok(markedTables.some((t) => marked.test(t)), `no marked row in a ${String(marked)} table (marked: ${markedTables.join(', ')})`);
}

/** Runs `look` with the panel's editor group maximized (no side bar), as a user reads a comparison. */
async function maximized<T>(look: () => Promise<T>): Promise<T> {
  await vscode.commands.executeCommand('workbench.action.closeSidebar');
  await vscode.commands.executeCommand('workbench.action.toggleMaximizeEditorGroup');
  try {
    await new Promise((r) => setTimeout(r, 1_000));
    return await look();
  } finally {
    await vscode.commands.executeCommand('workbench.action.toggleMaximizeEditorGroup');
  }
}

async function maximizedScreenshot(name: string): Promise<void> {
  await maximized(() => screenshot(name));
}

/** Pixels by which two boxes overlap (the smaller of the overlap's width and height), 0 when they do not. */
function overlapPx(a: TableBox, b: TableBox): number {
  const width = Math.min(a.right, b.right) - Math.max(a.left, b.left);
  const height = Math.min(a.bottom, b.bottom) - Math.max(a.top, b.top);
  return Math.max(0, Math.floor(Math.min(width, height)));
}

/** The comparison's tables as the page lays them out: no two overlap, none reaches beyond the section. */
function checkTablesApart(report: ComparisonReport, size: string): void {
  const boxes = report.tableBoxes;
  assert.ok(boxes.length >= 4, `${size}: table boxes ${JSON.stringify(boxes)}`);
  const overlaps = boxes.flatMap((a, i) => boxes.slice(i + 1).map((b) => ({ tables: `${a.title} / ${b.title}`, px: overlapPx(a, b) }))).filter((o) => o.px > 0);
  assert.deepEqual(overlaps, [], `${size}: comparison tables overlap`);
  const cut = boxes.filter((box) => box.right > report.visibleRight + 1).map((box) => `${box.title}: ${Math.ceil(box.right - report.visibleRight)} px`);
  assert.deepEqual(cut, [], `${size}: comparison tables reach beyond the section`);
}

describe('A/B: Compare two runs in every panel', function () {
  this.timeout(90_000);
  let dir = '';

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'bitcoin-usdt-ab-'));
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
  });

  after(async () => {
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
    await rm(dir, { recursive: true, force: true });
  });

  it('P2P traffic: a p2p-traffic run against a p2p-monitor run of the same workload', async () => {
    const runs = await compare(demo('p2p-traffic'), demo('p2p-monitor'));
    assert.equal(runs.panel, 'P2P');
    const report = await p2pPanelReport((r) => r.sessionId === runs.runA && r.comparison.shown && r.comparison.tables.length >= 4);
    checkComparison(report.comparison, /^(message type|peer|direction|connection type)/);
    const types = report.comparison.tables.find((t) => t.title === 'message type (in)');
    assert.ok(types?.rows.some((row) => row[0] === 'version'), 'no version row');
    const { p2pPanel } = await extensionApis('p2pPanel');
    assert.equal(p2pPanel.currentSessionId, runs.runA);
    // The tables side by side where there is room, one under the other where not: never over each other.
    const comparisonShown = (r: { sessionId: string | null; comparison: ComparisonReport }): boolean => r.sessionId === runs.runA && r.comparison.shown && r.comparison.tables.length >= 4;
    const usual = await maximized(async () => {
      await screenshot('ab-p2p-panel');
      return (await p2pPanelReport(comparisonShown)).comparison;
    });
    assert.ok(await setWindowSize('ab-p2p-1600x1000', { width: 1600, height: 1000 }), 'the offline runner sets the window size');
    let large: ComparisonReport;
    try {
      large = await maximized(async () => {
        await screenshot('ab-p2p-panel-1600x1000');
        return (await p2pPanelReport(comparisonShown)).comparison;
      });
    } finally {
      await setWindowSize('ab-p2p-usual-size', undefined);
    }
    checkTablesApart(usual, '1400×900');
    checkTablesApart(large, '1600×1000');
  });

  it('Raw P2P messages: the whole run against the run stopped halfway', async () => {
    const runs = await compare(demo('raw-p2p-msgs'), await halfOf('raw-p2p-msgs', dir));
    const report = await rawPanelReport((r) => r.sessionId === runs.runA && r.comparison.shown);
    checkComparison(report.comparison, /^message type/);
    assert.ok(report.comparison.distributions.some((d) => d.title.startsWith('message size')), 'no message size distribution');
    await maximizedScreenshot('ab-raw-messages-panel');
  });

  // Run B: the run stopped at a quarter of its time. The connections run has six events, below the count a mark
  // needs (COMPARISON_THRESHOLD.minCount): its table shows the difference without marking it.
  const TOOLS: readonly { tool: ToolPanelTool; marked: RegExp | null }[] = [
    { tool: 'p2p-connections', marked: null },
    { tool: 'utxocache-flush', marked: /^(mode|for prune)$/ },
    { tool: 'utxos', marked: /^(event|coinbase|operations)/ },
    { tool: 'mempool-monitor', marked: /^(event|removal reason)$/ },
    { tool: 'coin-selection', marked: /^(event|algorithm|succeeded)/ },
  ];
  for (const { tool, marked } of TOOLS) {
    it(`${tool}: the whole run against the run stopped at a quarter`, async () => {
      const runs = await compare(demo(tool), await halfOf(tool, dir, 0.25));
      const report = await toolPanelReport(tool, (r) => r.sessionId === runs.runA && r.comparison.shown);
      checkComparison(report.comparison, marked);
      assert.ok(report.comparison.tables.some((t) => t.rows.some((row) => row[3].startsWith('−'))), 'no row with fewer in B');
      // Run B stopped halfway: it has fewer (or none) of what came later, never more.
      for (const t of report.comparison.tables) assert.ok(t.rows.every((row) => !row[4].startsWith('new')), `${t.title}: ${JSON.stringify(t.rows)}`);
      await maximizedScreenshot(`ab-tool-panel-${tool}`);
    });
  }

  it('ConnectBlock benchmark: Compare two runs sets run B of its own comparison', async () => {
    const runs = await compare(demo('connectblock-benchmark'), join(repoRoot, 'test', 'fixtures', 'recordings', 'bench-master.ndjson'));
    const report = await benchmarkPanelReport((r) => r.runA === runs.runA && r.runB === runs.runB);
    assert.ok(report.runB);
    await maximizedScreenshot('ab-benchmark-panel');
    // Run A compared with itself is no comparison: run B is cleared (the benchmark suite starts without one).
    await vscode.commands.executeCommand('bitcoinUsdt.compareRuns', runs.runA, runs.runA);
    await benchmarkPanelReport((r) => r.runA === runs.runA && r.runB === null);
  });

  it('Stop comparing: the page hides the comparison when the host stops', async () => {
    const runs = await compare(demo('utxos'), await halfOf('utxos', dir));
    await toolPanelReport('utxos', (r) => r.sessionId === runs.runA && r.comparison.shown);
    // The same session as run B is no comparison: the host ends it and tells the page.
    await vscode.commands.executeCommand('bitcoinUsdt.compareRuns', runs.runA, runs.runA);
    await toolPanelReport('utxos', (r) => !r.comparison.shown);
  });
});

// The ConnectBlock benchmark panel (webview): rates, connect-time histogram, slow blocks and totals of run A,
// and run B on the same axes when comparing. Everything arrives by postMessage; text goes in as text nodes.
import uPlot from 'uplot';
import './styles.css';
import {
  BENCHMARK_PAGE,
  type BenchmarkRenderReport,
  type BenchmarkRunView,
  type BenchmarkState,
  type BenchmarkUiState,
  type SlowBlock,
  type SlowBlockColumn,
  type ToWebview,
} from '../../src/shared/benchmarkProtocol';
import { WHOLE_SECOND_STEPS } from '../../src/shared/chartAxis';
import { chartReport, latestInLegend, themedAxis, wholeSplits } from '../shared/charts';
import { activeElementCounts, countOf, el, formatAxisTime, formatDuration, formatWholeSeconds, setUntrustedText, themeColors, visibleText } from '../shared/dom';
import { onThemeChange, PageConnection } from '../shared/pageConnection';
import { NodeSelector } from '../shared/nodeSelector';
import { liveSessionStarting } from '../shared/sessionHeader';

const page = new PageConnection(BENCHMARK_PAGE);
const CHART_HEIGHT = 140;
const HISTOGRAM_HEIGHT = 190;
const MAX_TABLE_ROWS = 500;

let state: BenchmarkState = { sessions: [], runA: null, runB: null, comparison: null };
function saveUi(next: Partial<BenchmarkUiState>): void {
  page.saveUi(next, (uiState) => ({ type: 'uiState', uiState }));
}

const integer = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 });
const compact = new Intl.NumberFormat('en-US', { maximumFractionDigits: 1 });

function formatRate(value: number): string {
  if (value >= 1e6) return `${compact.format(value / 1e6)}M`;
  if (value >= 1e4) return `${compact.format(value / 1e3)}k`;
  return compact.format(value);
}


// ---------- layout ----------

const app = document.getElementById('app') ?? document.body;
app.textContent = '';

const toolbar = el('header', 'toolbar');
const runALabel = el('label', 'run-picker run-a');
runALabel.append(el('span', 'run-badge a', 'A'));
const runASelect = el('select');
runASelect.setAttribute('aria-label', 'Run A');
runALabel.append(runASelect);
const compareButton = el('button', 'compare', 'Compare with…');
compareButton.title = 'Pick a second run (another session, or a recording) to show beside run A';
const runBLabel = el('label', 'run-picker run-b');
runBLabel.append(el('span', 'run-badge b', 'B'));
const runBSelect = el('select');
runBSelect.setAttribute('aria-label', 'Run B');
runBLabel.append(runBSelect);
const lossBanner = el('div', 'loss-banner');
lossBanner.setAttribute('role', 'status');
const lostCounter = el('span', 'counter lost');
lostCounter.title = 'Blocks over the threshold that fired but never reached the panel (totals and rates are counted in the kernel and lose nothing)';
lossBanner.append(lostCounter);
// Run A over every process of a build: one node or all of them.
const nodeSelector = new NodeSelector((nodeKey) => page.post({ type: 'selectNode', nodeKey }));
toolbar.append(runALabel, nodeSelector.element, compareButton, runBLabel, el('span', 'spacer'), lossBanner);

const notesBar = el('div', 'notes');
const emptyState = el('div', 'empty-state');
emptyState.append(
  el('p', 'empty-title', 'No benchmark run yet'),
  el('p', undefined, 'Start the connectblock-benchmark probe (Bitcoin USDT: Start probe…) and run bitcoind with -reindex or -reindex-chainstate, or open a recording of a run (Bitcoin USDT: Open recording…).'),
);

const summaries = el('section', 'summaries');

interface SummaryCard {
  readonly root: HTMLElement;
  readonly title: HTMLElement;
  readonly state: HTMLElement;
  readonly values: Record<'blocks' | 'total' | 'wall' | 'perBlock' | 'transactions' | 'inputs' | 'sigops' | 'heights' | 'threshold', HTMLElement>;
}

function summaryCard(which: 'a' | 'b'): SummaryCard {
  const root = el('div', `summary-card ${which}`);
  const head = el('div', 'card-head');
  const title = el('span', 'card-title');
  const stateText = el('span', 'card-state');
  head.append(el('span', `run-badge ${which}`, which.toUpperCase()), title, stateText);
  const grid = el('div', 'card-grid');
  const item = (label: string, tooltip: string, wide = false): HTMLElement => {
    const box = el('div', wide ? 'summary-item wide' : 'summary-item');
    box.title = tooltip;
    const value = el('span', 'summary-value');
    box.append(el('span', 'summary-label', label), value);
    grid.append(box);
    return value;
  };
  const values = {
    blocks: item('Blocks', 'Blocks connected in the height range'),
    total: item('Connect time', 'Total: the sum of the blocks’ ConnectBlock times'),
    wall: item('Wall time', 'From the first block connected to the last one'),
    perBlock: item('Per block', 'Mean connect time per block'),
    transactions: item('Transactions', 'Transactions in the connected blocks'),
    inputs: item('Inputs', 'Inputs spent'),
    sigops: item('Sigops', 'Signature operations (without coinbase)'),
    heights: item('Heights', 'The height range the probe counts', true),
    threshold: item('Listed', 'Blocks listed one by one: those slower than the probe’s threshold'),
  };
  root.append(head, grid);
  return { root, title, state: stateText, values };
}

const cardA = summaryCard('a');
const cardB = summaryCard('b');
summaries.append(cardA.root, cardB.root);

const charts = el('section', 'charts');
interface RateChartSpec {
  readonly key: 'blocksPerS' | 'transactionsPerS' | 'inputsPerS' | 'sigopsPerS';
  readonly title: string;
}
const RATE_CHARTS: readonly RateChartSpec[] = [
  { key: 'blocksPerS', title: 'Blocks per second' },
  { key: 'transactionsPerS', title: 'Transactions per second' },
  { key: 'inputsPerS', title: 'Inputs per second' },
  { key: 'sigopsPerS', title: 'Sigops per second' },
];
const rateHosts = RATE_CHARTS.map((spec) => {
  const box = el('div', 'chart-box');
  const host = el('div', 'chart');
  box.append(el('h2', undefined, spec.title), host);
  charts.append(box);
  return host;
});

const histogramSection = el('section', 'histogram-section');
const histogramHeading = el('h2', undefined, 'Connect time per block');
const histogramNote = el('div', 'histogram-note');
const histogramHost = el('div', 'chart histogram');
histogramSection.append(histogramHeading, histogramNote, histogramHost);

const tablesSection = el('section', 'tables');

interface SlowTable {
  readonly root: HTMLElement;
  readonly heading: HTMLElement;
  readonly body: HTMLTableSectionElement;
  readonly headerCells: Map<SlowBlockColumn, HTMLTableCellElement>;
}

const TABLE_COLUMNS: readonly { column: SlowBlockColumn; title: string; numeric: boolean }[] = [
  { column: 'height', title: 'Height', numeric: true },
  { column: 'hash', title: 'Block hash', numeric: false },
  { column: 'transactions', title: 'Tx', numeric: true },
  { column: 'inputs', title: 'Inputs', numeric: true },
  { column: 'sigops', title: 'Sigops', numeric: true },
  { column: 'duration', title: 'Duration', numeric: true },
];

function slowTable(which: 'a' | 'b'): SlowTable {
  const root = el('div', `slow-blocks ${which}`);
  const heading = el('h2');
  const wrap = el('div', 'table-wrap');
  const table = el('table', 'data-table');
  const head = el('thead');
  const headRow = el('tr');
  const headerCells = new Map<SlowBlockColumn, HTMLTableCellElement>();
  for (const spec of TABLE_COLUMNS) {
    const th = el('th', spec.numeric ? 'numeric sortable' : 'sortable');
    th.tabIndex = 0;
    th.append(el('span', undefined, spec.title), el('span', 'sort-mark'));
    const sort = (): void => {
      const descending = page.ui.sortColumn === spec.column ? !page.ui.sortDescending : spec.column === 'duration';
      saveUi({ sortColumn: spec.column, sortDescending: descending });
      render();
    };
    th.addEventListener('click', sort);
    th.addEventListener('keydown', (event) => {
      if (event.key === 'Enter' || event.key === ' ') {
        event.preventDefault();
        sort();
      }
    });
    headerCells.set(spec.column, th);
    headRow.append(th);
  }
  head.append(headRow);
  const body = el('tbody');
  table.append(head, body);
  wrap.append(table);
  root.append(heading, wrap);
  return { root, heading, body, headerCells };
}

const tableA = slowTable('a');
const tableB = slowTable('b');
tablesSection.append(tableA.root, tableB.root);

const content = el('div', 'content');
content.append(summaries, charts, histogramSection, tablesSection);
app.append(toolbar, notesBar, emptyState, content);

runASelect.addEventListener('change', () => page.post({ type: 'selectRun', run: 'A', sessionId: runASelect.value }));
runBSelect.addEventListener('change', () => page.post({ type: 'selectRun', run: 'B', sessionId: runBSelect.value === '' ? null : runBSelect.value }));
compareButton.addEventListener('click', () => page.post({ type: 'compareWith' }));

// ---------- charts ----------


/** Run A's and run B's colours. */
function runColors(): { a: string; b: string } {
  const { blue, orange } = themeColors();
  return { a: blue, b: orange };
}

function withAlpha(color: string, alphaHex: string): string | undefined {
  return /^#[0-9a-f]{6}$/i.test(color) ? `${color}${alphaHex}` : undefined;
}

interface ChartHandle {
  plot: uPlot;
  host: HTMLElement;
  height: number;
  /** Series layout the chart was built for ("1" or "2" runs, histogram bucket labels). */
  layout: string;
}

const rateCharts: (ChartHandle | undefined)[] = RATE_CHARTS.map(() => undefined);
let histogramChart: ChartHandle | undefined;

function runLabel(which: 'A' | 'B', run: BenchmarkRunView | null): string {
  return run ? `${which}: ${visibleText(run.label.replace(/ \(connectblock-benchmark\)$/, ''))}` : which;
}

function rateData(key: RateChartSpec['key']): { data: uPlot.AlignedData; runs: number } {
  const { runA, runB, comparison } = state;
  if (runA && runB && comparison) {
    return { data: [comparison.seconds as number[], comparison[key][0] as (number | null)[], comparison[key][1] as (number | null)[]], runs: 2 };
  }
  const run = runA ?? runB;
  if (!run) return { data: [[], []], runs: 1 };
  return { data: [run.rates.seconds as number[], run.rates[key] as number[]], runs: 1 };
}

function makeRateChart(host: HTMLElement, runs: number, data: uPlot.AlignedData): ChartHandle {
  const c = runColors();
  const axis = themedAxis();
  const value = (_u: uPlot, v: number | null | undefined): string => (v === null || v === undefined ? '—' : formatRate(v));
  const series: uPlot.Series[] = [
    { label: 'Time', value: (_u, v) => (v === null || v === undefined ? '—' : formatAxisTime(v)) },
    { label: runs === 2 ? runLabel('A', state.runA) : 'Run', stroke: c.a, width: 1.5, fill: runs === 2 ? undefined : withAlpha(c.a, '26'), spanGaps: true, value },
  ];
  if (runs === 2) series.push({ label: runLabel('B', state.runB), stroke: c.b, width: 1.5, spanGaps: true, value });
  const options: uPlot.Options = {
    width: Math.max(200, host.clientWidth),
    height: CHART_HEIGHT,
    legend: { show: true, live: true },
    cursor: { drag: { x: false, y: false } },
    scales: { x: { time: false }, y: { range: (_u, _min, max) => [0, Math.max(1, max * 1.1)] } },
    axes: [
      { ...axis, incrs: [...WHOLE_SECOND_STEPS], values: (_u, splits) => splits.map(formatAxisTime) },
      { ...axis, size: 56, splits: wholeSplits, values: (_u, splits) => splits.map(formatRate) },
    ],
    series,
    hooks: latestInLegend(),
  };
  return { plot: new uPlot(options, data, host), host, height: CHART_HEIGHT, layout: String(runs) };
}

interface HistogramRow {
  readonly min: number | null;
  readonly max: number;
  readonly countA: number;
  readonly countB: number;
}

function histogramRows(): { rows: HistogramRow[]; runs: number } {
  const { runA, runB, comparison } = state;
  if (runA && runB && comparison) return { rows: comparison.histogram.map((h) => ({ ...h })), runs: 2 };
  const run = runA ?? runB;
  return { rows: (run?.histogram ?? []).map((h) => ({ min: h.min, max: h.max, countA: h.count, countB: 0 })), runs: 1 };
}

function bucketLabel(row: HistogramRow): string {
  if (row.min === null) return '< 0';
  return formatDuration(row.min * 1e3);
}

function makeHistogram(host: HTMLElement, rows: HistogramRow[], runs: number): ChartHandle {
  const c = runColors();
  const axis = themedAxis();
  const labels = rows.map(bucketLabel);
  const bars = uPlot.paths.bars;
  const count = (_u: uPlot, v: number | null | undefined): string => (v === null || v === undefined ? '—' : integer.format(v));
  const series: uPlot.Series[] = [
    { label: 'From', value: (_u, v) => (v === null || v === undefined ? '—' : (labels[Math.round(v)] ?? '')) },
    {
      label: runs === 2 ? runLabel('A', state.runA) : 'Blocks',
      stroke: c.a,
      fill: withAlpha(c.a, 'b0') ?? c.a,
      paths: bars ? bars({ size: [runs === 2 ? 0.42 : 0.8, 60], align: runs === 2 ? -1 : 0 }) : undefined,
      points: { show: false },
      value: count,
    },
  ];
  if (runs === 2) {
    series.push({ label: runLabel('B', state.runB), stroke: c.b, fill: withAlpha(c.b, 'b0') ?? c.b, paths: bars ? bars({ size: [0.42, 60], align: 1 }) : undefined, points: { show: false }, value: count });
  }
  const options: uPlot.Options = {
    width: Math.max(200, host.clientWidth),
    height: HISTOGRAM_HEIGHT,
    legend: { show: true, live: true },
    cursor: { drag: { x: false, y: false } },
    scales: { x: { time: false, range: () => [-0.6, Math.max(0.6, rows.length - 0.4)] }, y: { range: (_u, _min, max) => [0, Math.max(1, max * 1.1)] } },
    axes: [
      { ...axis, splits: () => rows.map((_r, i) => i), values: (_u, splits) => splits.map((i) => labels[i] ?? ''), gap: 4 },
      { ...axis, size: 50, splits: wholeSplits, values: (_u, splits) => splits.map((v) => integer.format(v)) },
    ],
    series,
    hooks: latestInLegend(),
  };
  return { plot: new uPlot(options, histogramData(rows, runs), host), host, height: HISTOGRAM_HEIGHT, layout: `${runs}|${labels.join(',')}` };
}

function histogramData(rows: HistogramRow[], runs: number): uPlot.AlignedData {
  const xs = rows.map((_r, i) => i);
  return runs === 2 ? [xs, rows.map((r) => r.countA), rows.map((r) => r.countB)] : [xs, rows.map((r) => r.countA)];
}

function renderCharts(): void {
  RATE_CHARTS.forEach((spec, index) => {
    const { data, runs } = rateData(spec.key);
    const existing = rateCharts[index];
    // Legend labels name the runs: rebuild when the runs change.
    const layout = `${runs}|${state.runA?.sessionId ?? ''}|${state.runB?.sessionId ?? ''}`;
    if (existing && existing.layout === layout) {
      existing.plot.setData(data);
      return;
    }
    existing?.plot.destroy();
    const chart = makeRateChart(rateHosts[index], runs, data);
    chart.layout = layout;
    rateCharts[index] = chart;
  });
  const { rows, runs } = histogramRows();
  const layout = `${runs}|${rows.map(bucketLabel).join(',')}|${state.runA?.sessionId ?? ''}|${state.runB?.sessionId ?? ''}`;
  if (histogramChart && histogramChart.layout === layout) histogramChart.plot.setData(histogramData(rows, runs));
  else {
    histogramChart?.plot.destroy();
    histogramChart = makeHistogram(histogramHost, rows, runs);
    histogramChart.layout = layout;
  }
}

function destroyCharts(): void {
  for (let i = 0; i < rateCharts.length; i++) {
    rateCharts[i]?.plot.destroy();
    rateCharts[i] = undefined;
  }
  histogramChart?.plot.destroy();
  histogramChart = undefined;
}

let resizeRequested = false;
const resizeObserver = new ResizeObserver(() => {
  if (resizeRequested) return;
  resizeRequested = true;
  requestAnimationFrame(() => {
    resizeRequested = false;
    for (const chart of [...rateCharts, histogramChart]) {
      if (!chart) continue;
      const width = Math.max(200, Math.floor(chart.host.clientWidth));
      if (width !== chart.plot.width) chart.plot.setSize({ width, height: chart.height });
    }
  });
});
for (const host of [...rateHosts, histogramHost]) resizeObserver.observe(host);

// Theme change: VS Code swaps the body class; rebuild the charts with the new colors.
onThemeChange(() => {
  destroyCharts();
  render();
});

// ---------- rendering ----------

function fillRunSelect(select: HTMLSelectElement, selected: string | null, withNone: boolean): void {
  select.textContent = '';
  if (withNone) {
    const none = el('option', undefined, '— no comparison —');
    none.value = '';
    select.append(none);
  }
  for (const session of state.sessions) {
    const option = el('option', undefined, `${visibleText(session.label)}${session.ended ? '' : session.source === 'live' ? ' (live)' : ''}`);
    option.value = session.id;
    select.append(option);
  }
  select.value = selected ?? '';
}

function renderCard(card: SummaryCard, run: BenchmarkRunView | null): void {
  card.root.hidden = run === null;
  if (!run) return;
  setUntrustedText(card.title, run.label);
  const final = run.summary !== null;
  const starting = liveSessionStarting(state.sessions.find((s) => s.id === run.sessionId), run);
  card.state.textContent = starting ?? (final ? 'final' : run.ended ? `ended${run.endReason ? `: ${visibleText(run.endReason)}` : ''}` : run.source === 'live' ? 'running' : 'loading');
  card.state.className = `card-state ${final ? 'final' : run.ended ? '' : 'running'}`;
  const totals = run.summary?.totals ?? run.totals;
  const v = card.values;
  v.blocks.textContent = totals ? integer.format(totals.blocks) : '—';
  v.total.textContent = totals ? formatDuration(totals.connectTimeNs) : '—';
  v.wall.textContent = wallTimeText(run);
  v.perBlock.textContent = totals && totals.blocks > 0 ? formatDuration(totals.connectTimeNs / totals.blocks) : '—';
  v.transactions.textContent = totals ? integer.format(totals.transactions) : '—';
  v.inputs.textContent = totals ? integer.format(totals.inputs) : '—';
  v.sigops.textContent = totals ? integer.format(totals.sigops) : '—';
  const p = run.params;
  v.heights.textContent = p ? heightsText(p.startHeight, p.endHeight) : '—';
  v.threshold.textContent = p ? (p.thresholdMs === 0 ? 'every block' : `over ${integer.format(p.thresholdMs)} ms`) : '—';
}

/** The summary's exact wall time; while the run goes on, the time so far (to the second: rate snapshots are per second). */
function wallTimeText(run: BenchmarkRunView): string {
  const final = run.summary?.wallTimeNs;
  if (final !== null && final !== undefined) return formatDuration(final);
  if (run.summary) return 'no block counted';
  if (run.wallTimeSoFarNs === null) return run.ended ? 'no block counted' : 'waiting for a block';
  return `${formatWholeSeconds(run.wallTimeSoFarNs / 1e9)}${run.ended ? '' : ' so far'}`;
}

function heightsText(start: number, end: number): string {
  if (end > 0) return `${integer.format(start)} – ${integer.format(end)}`;
  return start > 0 ? `from ${integer.format(start)}` : 'all';
}

function compareBlocks(a: SlowBlock, b: SlowBlock, column: SlowBlockColumn): number {
  switch (column) {
    case 'height':
      return a.height - b.height;
    case 'hash':
      return a.hash < b.hash ? -1 : a.hash > b.hash ? 1 : 0;
    case 'transactions':
      return a.transactions - b.transactions;
    case 'inputs':
      return a.inputs - b.inputs;
    case 'sigops':
      return a.sigops - b.sigops;
    case 'duration':
      return a.durationNs - b.durationNs;
  }
}

function renderTable(table: SlowTable, which: 'A' | 'B', run: BenchmarkRunView | null): void {
  table.root.hidden = run === null;
  if (!run) return;
  const threshold = run.params && run.params.thresholdMs > 0 ? ` over ${integer.format(run.params.thresholdMs)} ms` : '';
  table.heading.textContent = `Slow blocks${threshold} — ${which} (${integer.format(run.slowBlocksReceived)}${run.slowBlocksReceived > run.slowBlocks.length ? `, the ${integer.format(run.slowBlocks.length)} slowest kept` : ''})`;
  for (const [column, th] of table.headerCells) {
    const active = column === page.ui.sortColumn;
    th.setAttribute('aria-sort', active ? (page.ui.sortDescending ? 'descending' : 'ascending') : 'none');
    (th.lastElementChild as HTMLElement).textContent = active ? (page.ui.sortDescending ? ' ▼' : ' ▲') : '';
  }
  const direction = page.ui.sortDescending ? -1 : 1;
  const rows = [...run.slowBlocks].sort((a, b) => direction * compareBlocks(a, b, page.ui.sortColumn) || a.height - b.height).slice(0, MAX_TABLE_ROWS);
  table.body.textContent = '';
  for (const block of rows) {
    const tr = el('tr');
    const hash = el('td', 'hash');
    setUntrustedText(hash, block.hash);
    hash.title = visibleText(block.hash);
    tr.append(
      el('td', 'numeric', integer.format(block.height)),
      hash,
      el('td', 'numeric', integer.format(block.transactions)),
      el('td', 'numeric', integer.format(block.inputs)),
      el('td', 'numeric', integer.format(block.sigops)),
      el('td', 'numeric duration', formatDuration(block.durationNs)),
    );
    table.body.append(tr);
  }
  if (rows.length === 0) {
    const tr = el('tr', 'more-row');
    const td = el('td', undefined, 'No block over the threshold yet.');
    td.colSpan = TABLE_COLUMNS.length;
    tr.append(td);
    table.body.append(tr);
  }
}

function render(): void {
  const { runA, runB } = state;
  fillRunSelect(runASelect, runA?.sessionId ?? null, false);
  fillRunSelect(runBSelect, runB?.sessionId ?? null, true);
  runALabel.hidden = state.sessions.length === 0;
  runBLabel.hidden = state.sessions.length < 2 && runB === null;
  compareButton.hidden = runA === null;
  emptyState.hidden = runA !== null || runB !== null;
  content.hidden = !emptyState.hidden;
  content.classList.toggle('comparing', runA !== null && runB !== null);

  const lost = (runA?.lostEvents ?? 0) + (runB?.lostEvents ?? 0);
  lostCounter.textContent = runB ? `Lost blocks: A ${integer.format(runA?.lostEvents ?? 0)} · B ${integer.format(runB.lostEvents)}` : `Lost blocks: ${integer.format(lost)}`;
  lostCounter.classList.toggle('alarm', lost !== 0);
  lossBanner.classList.toggle('alarm', lost !== 0);

  notesBar.textContent = '';
  for (const [which, run] of [['A', runA], ['B', runB]] as const) {
    if (!run) continue;
    for (const note of run.notes.filter((n) => n.level !== 'info').slice(-3)) {
      const line = el('div', `note ${note.level}`);
      setUntrustedText(line, `${which}: ${note.message}`);
      notesBar.append(line);
    }
    if (run.ignoredEvents > 0) notesBar.append(el('div', 'note warning', `${which}: ${countOf(run.ignoredEvents, 'event', 'events')} with malformed fields ${run.ignoredEvents === 1 ? 'was' : 'were'} skipped.`));
  }
  notesBar.hidden = notesBar.childElementCount === 0;

  renderCard(cardA, runA);
  renderCard(cardB, runB);
  const source = runA?.histogramSource ?? runB?.histogramSource ?? 'none';
  histogramHeading.textContent = runB ? 'Connect time per block — A and B' : 'Connect time per block';
  histogramNote.textContent =
    source === 'blocks'
      ? 'Built from the blocks over the threshold only (the recording has no kernel histogram).'
      : source === 'none'
        ? 'No block connected yet.'
        : 'Every block in the height range, counted in the kernel (power-of-2 buckets; a bar starts at its label).';
  if (runA || runB) renderCharts();
  renderTable(tableA, 'A', runA);
  renderTable(tableB, 'B', runB);
}

// ---------- messages from the host ----------

function handleMessage(message: ToWebview): void {
  switch (message.type) {
    case 'state':
      state = message.state;
      page.ui = message.uiState;
      page.keepUi();
      render();
      if ((state.runA?.lastElapsedNs ?? 0) > 0) page.dataFrames.dataDrawn();
      return;
  }
}

function cardTexts(card: SummaryCard): Record<string, string> {
  if (card.root.hidden) return {};
  const texts: Record<string, string> = {};
  for (const [name, value] of Object.entries(card.values)) texts[name] = value.textContent ?? '';
  return texts;
}

function renderReport(): BenchmarkRenderReport {
  const rows = [...tableA.body.querySelectorAll('tr:not(.more-row)')] as HTMLTableRowElement[];
  return {
    runA: state.runA?.sessionId ?? null,
    nodes: nodeSelector.report(),
    runB: state.runB?.sessionId ?? null,
    chartCanvasCount: content.querySelectorAll('canvas').length,
    rateChartSeries: rateCharts[0] ? rateCharts[0].plot.series.length - 1 : 0,
    histogramBars: histogramChart ? (histogramChart.plot.data[1]?.length ?? 0) : 0,
    slowBlockRows: rows.length,
    firstSlowBlocks: rows.slice(0, 10).map((row) => ({ height: row.cells[0].textContent ?? '', hash: row.cells[1].textContent ?? '', duration: row.cells[5].textContent ?? '' })),
    totalTimeText: cardA.root.hidden ? '' : (cardA.values.total.textContent ?? ''),
    blockCountText: cardA.root.hidden ? '' : (cardA.values.blocks.textContent ?? ''),
    totalTimeTextB: cardB.root.hidden ? '' : (cardB.values.total.textContent ?? ''),
    blockCountTextB: cardB.root.hidden ? '' : (cardB.values.blocks.textContent ?? ''),
    lostText: lostCounter.textContent ?? '',
    lostAlarm: lossBanner.classList.contains('alarm'),
    notes: [...notesBar.children].map((n) => n.textContent ?? ''),
    summaryA: cardTexts(cardA),
    charts: [
      ...RATE_CHARTS.map((spec, i) => chartReport(spec.title, rateCharts[i]?.plot, formatRate)),
      chartReport(histogramHeading.textContent ?? '', histogramChart?.plot, (v) => integer.format(v)),
    ],
    ...activeElementCounts(app),
    dataFrames: page.dataFrames.times(),
  };
}

render();
page.start(handleMessage, {
  report: () => {
    render();
    return renderReport();
  },
  parts: [nodeSelector],
});

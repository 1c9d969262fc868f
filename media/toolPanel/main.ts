// The tool panels' webview (every tool whose manifest panel is `tool`). One app; the host's first snapshot
// names the tool and its view module renders it (the generic view for a tool without one of its own). Everything
// shown arrives by postMessage; strings from tracepoints go into the DOM only as text.
import './styles.css';
import {
  TOOL_PAGE,
  TOOL_PANEL_TITLES,
  type SessionChoice,
  type ToolFilter,
  type ToolPanelTool,
  type ToolRenderReport,
  type ToolSnapshot,
  type ToolToWebview,
} from '../../src/shared/toolPanelProtocol';
import { activeElementCounts, el, FrameScheduler, setText, visibleText } from '../shared/dom';
import { ComparisonView } from '../shared/comparisonView';
import { onThemeChange, PageConnection } from '../shared/pageConnection';
import { SessionHeader } from '../shared/sessionHeader';
import type { ToolViewRenderer } from './viewModule';
import { coinSelectionView } from './views/coinSelectionView';
import { connectionsView } from './views/connectionsView';
import { flushView } from './views/flushView';
import { createGenericView } from './views/genericView';
import { mempoolView } from './views/mempoolView';
import { utxosView } from './views/utxosView';
import { traceView } from './views/traceView';

const page = new PageConnection(TOOL_PAGE);
const scriptsAtStart = document.querySelectorAll('script').length;

/** The tools with a view of their own; any other gets the generic view of its records' field tables. */
const OWN_VIEWS: Readonly<Partial<Record<ToolPanelTool, ToolViewRenderer>>> = {
  'p2p-connections': connectionsView,
  'utxocache-flush': flushView,
  utxos: utxosView,
  'mempool-monitor': mempoolView,
  'coin-selection': coinSelectionView,
  'trace-tracepoint': traceView,
};

/** What starts a session of the tool, where more than the probe is needed (default: `emptyHint`). */
const EMPTY_HINTS: Readonly<Partial<Record<ToolPanelTool, string>>> = {
  'p2p-connections': 'Start the p2p-connections probe (Bitcoin USDT: Start probe…) on a bitcoind v29 or newer, or open a recording.',
  'utxocache-flush': 'Start the utxocache-flush probe (Bitcoin USDT: Start probe…), e.g. while bitcoind runs with -reindex-chainstate, or open a recording.',
  'coin-selection': 'Start the coin-selection probe (Bitcoin USDT: Start probe…) and create a transaction in a wallet, or open a recording.',
  'trace-tracepoint': 'Trace this tracepoint: the CodeLens above a TRACEPOINT( call site, or the action on a tracepoint in the Bitcoin USDT view; or open a recording.',
};

function emptyHint(tool: ToolPanelTool): string {
  return EMPTY_HINTS[tool] ?? `Start the ${tool} probe (Bitcoin USDT: Start probe…), or open a recording.`;
}

const model = {
  tool: page.ui.tool,
  sessions: [] as SessionChoice[],
  sessionId: null as string | null,
  snapshot: null as ToolSnapshot | null,
  /** The filter the host applied to the snapshot shown. */
  shownFilter: page.ui.filter,
};
let view: ToolViewRenderer | undefined;

// ---------- layout ----------

const app = document.getElementById('app') ?? document.body;
app.textContent = '';

const titleText = el('span', 'panel-title');
const header = new SessionHeader(
  (sessionId) => {
    page.saveUi({ sessionId });
    page.post({ type: 'selectSession', sessionId });
  },
  {
    title: titleText,
    ignoredAs: 'counter',
    onSelectNode: (nodeKey) => page.post({ type: 'selectNode', nodeKey }),
    onNodes: () => frames.schedule(),
    onKernelFilter: (sessionId) => page.post({ type: 'filterInKernel', sessionId }),
  },
);
const emptyState = el('div', 'empty-state');
const emptyTitle = el('p', 'empty-title', 'No session yet');
const emptyHintText = el('p');
emptyState.append(emptyTitle, emptyHintText);

const content = el('div', 'content');
const summary = el('section', 'summary');
const extra = el('section', 'extra');
const charts = el('section', 'charts');
const tableSection = el('section', 'table-section');
const tableHeading = el('div', 'section-heading');
const tableTitle = el('h2');
const filterBar = el('div', 'filter-bar');
const filterInput = el('input');
filterInput.type = 'search';
filterInput.spellcheck = false;
const kindSelect = el('select');
kindSelect.setAttribute('aria-label', 'Show');
const matchCount = el('span', 'match-count');
filterBar.append(filterInput, kindSelect, matchCount);
tableHeading.append(tableTitle, filterBar);
const tableWrap = el('div', 'table-wrap');
tableSection.append(tableHeading, tableWrap);
content.append(summary, extra, charts, tableSection);
const comparison = new ComparisonView((message) => page.post(message));
app.append(header.toolbar, header.notesBar, comparison.element, emptyState, content);

function mountView(tool: ToolPanelTool): void {
  if (view) return;
  view = OWN_VIEWS[tool] ?? createGenericView();
  view.mount({ summary, extra, charts, tableTitle, tableWrap, matchCount });
  filterInput.placeholder = view.filterPlaceholder;
  filterInput.setAttribute('aria-label', view.filterPlaceholder);
  fillKinds(view);
  document.title = TOOL_PANEL_TITLES[tool];
  setText(titleText, TOOL_PANEL_TITLES[tool]);
  setText(emptyTitle, `No ${tool} session yet`);
  setText(emptyHintText, emptyHint(tool));
  showFilter(page.ui.filter);
}

/** The kinds the select offers (the generic view learns its kinds from the first view). */
let shownKinds = '';
function fillKinds(shown: ToolViewRenderer): void {
  shownKinds = shown.kinds.map((k) => k.value).join('\n');
  kindSelect.textContent = '';
  for (const kind of shown.kinds) {
    const option = el('option', undefined, kind.label);
    option.value = kind.value;
    kindSelect.append(option);
  }
}

function showFilter(filter: ToolFilter): void {
  if (filterInput.value !== filter.text) filterInput.value = filter.text;
  if (view && !view.kinds.some((k) => k.value === filter.kind)) {
    const option = el('option', undefined, visibleText(filter.kind));
    option.value = filter.kind;
    kindSelect.append(option);
  }
  kindSelect.value = filter.kind;
}

// ---------- interaction ----------

let filterTimer: number | undefined;
function sendFilter(filter: ToolFilter): void {
  page.saveUi({ filter });
  if (filterTimer !== undefined) clearTimeout(filterTimer);
  filterTimer = window.setTimeout(() => {
    filterTimer = undefined;
    page.post({ type: 'filter', filter });
  }, 120);
}
filterInput.addEventListener('input', () => sendFilter({ text: filterInput.value, kind: kindSelect.value }));
kindSelect.addEventListener('change', () => sendFilter({ text: filterInput.value, kind: kindSelect.value }));

// ---------- messages ----------

function handleMessage(message: ToolToWebview): void {
  switch (message.type) {
    case 'snapshot':
      model.tool = message.tool;
      model.sessions = [...message.sessions];
      model.sessionId = message.sessionId;
      model.snapshot = message.snapshot;
      model.shownFilter = message.filter;
      // The user's own edits win over a snapshot computed before them.
      const editing = filterTimer !== undefined || document.activeElement === filterInput;
      page.saveUi({ tool: message.tool, sessionId: message.sessionId, filter: editing ? page.ui.filter : message.filter });
      mountView(message.tool);
      if (!editing) showFilter(message.filter);
      frames.schedule();
      if (message.snapshot && message.snapshot.counters.delivered > 0) page.dataFrames.dataDrawn();
      return;
    case 'sessions':
      model.sessions = [...message.sessions];
      frames.schedule();
      return;
    case 'setFilter':
      showFilter(message.filter);
      page.saveUi({ filter: message.filter });
      page.post({ type: 'filter', filter: message.filter });
      return;
  }
}

// ---------- rendering ----------

const frames = new FrameScheduler(() => render());

function render(): void {
  renderHeader();
  const snapshot = model.snapshot;
  emptyState.hidden = snapshot !== null || model.tool === null;
  content.hidden = snapshot === null;
  if (snapshot && view) {
    view.update(snapshot.view, snapshot.counters, header.nodes.showNodeColumn ? (pid) => header.nodes.nodeOfPid(pid) : null);
    if (view.kinds.map((k) => k.value).join('\n') !== shownKinds) {
      fillKinds(view);
      showFilter(page.ui.filter);
    }
  }
}

function renderHeader(): void {
  header.update(model.sessions, model.sessionId, model.snapshot?.session ?? null, model.snapshot?.counters ?? null);
}

// Theme change: VS Code swaps the body class; rebuild the charts and the timeline with the new colours.
onThemeChange(() => {
  view?.rebuildCharts();
  comparison.rebuildCharts();
});

// ---------- render report (integration tests) ----------

function renderReport(): ToolRenderReport {
  const rows = view?.tableRows() ?? [];
  return {
    tool: model.tool,
    sessionId: model.sessionId,
    sessionState: header.stateText,
    kernelFilterShown: header.kernelFilterShown,
    comparison: comparison.report(),
    nodes: header.nodes.report(),
    rowCount: rows.length,
    firstRows: rows.slice(0, 10).map((row) => [...row.cells].filter((cell) => !cell.hidden).map((cell) => cell.textContent ?? '')),
    columns: view?.columnTitles ?? [],
    tableOverflowPx: Math.max(0, tableWrap.scrollWidth - tableWrap.clientWidth),
    pageOverflowPx: Math.max(0, document.documentElement.scrollWidth - document.documentElement.clientWidth),
    summary: view?.summaryTexts() ?? {},
    matchText: matchCount.textContent ?? '',
    filter: model.shownFilter,
    lostText: header.lostCounter.textContent ?? '',
    truncatedText: header.cutCounter.textContent ?? '',
    lostAlarm: header.lossBanner.classList.contains('alarm'),
    chartCanvasCount: content.querySelectorAll('canvas').length,
    charts: view?.chartReports() ?? [],
    ...activeElementCounts(app),
    scriptElementsInDocument: document.querySelectorAll('script').length,
    scriptElementsAtStart: scriptsAtStart,
    dataFrames: page.dataFrames.times(),
  };
}

// ---------- start ----------

if (page.ui.tool) mountView(page.ui.tool);
render();
page.start(handleMessage, {
  report: () => {
    render();
    return renderReport();
  },
  parts: [header, comparison],
});

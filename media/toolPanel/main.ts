// The tool panels' webview (p2p-connections, utxocache-flush, utxos, mempool-monitor, coin-selection).
// One app; the host's first snapshot names the tool and the matching view module renders it. Everything
// shown arrives by postMessage; strings from tracepoints go into the DOM only as text.
import './styles.css';
import {

  parseToolUiState,
  TOOL_PANEL_TITLES,
  type SessionChoice,
  type SessionStatus,
  type ToolCounters,
  type ToolFilter,
  type ToolFromWebview,
  type ToolPanelTool,
  type ToolRenderReport,
  type ToolSnapshot,
  type ToolToWebview,
  type ToolUiState,
} from '../../src/shared/toolPanelProtocol';
import { DataFrameClock } from '../shared/dataFrameClock';
import { el, formatCount, setText, setUntrustedText, visibleText } from './dom';
import type { ToolViewRenderer } from './viewModule';
import { coinSelectionView } from './views/coinSelectionView';
import { connectionsView } from './views/connectionsView';
import { flushView } from './views/flushView';
import { mempoolView } from './views/mempoolView';
import { utxosView } from './views/utxosView';

interface VsCodeApi {
  postMessage(message: ToolFromWebview): void;
  getState(): unknown;
  setState(state: ToolUiState): void;
}
declare function acquireVsCodeApi(): VsCodeApi;

const vscode = acquireVsCodeApi();
const dataFrames = new DataFrameClock();
const scriptsAtStart = document.querySelectorAll('script').length;

const VIEWS: Readonly<Record<ToolPanelTool, ToolViewRenderer>> = {
  'p2p-connections': connectionsView,
  'utxocache-flush': flushView,
  utxos: utxosView,
  'mempool-monitor': mempoolView,
  'coin-selection': coinSelectionView,
};

const EMPTY_HINTS: Readonly<Record<ToolPanelTool, string>> = {
  'p2p-connections': 'Start the p2p-connections probe (Bitcoin USDT: Start probe…) on a bitcoind v29 or newer, or open a recording.',
  'utxocache-flush': 'Start the utxocache-flush probe (Bitcoin USDT: Start probe…), e.g. while bitcoind runs with -reindex-chainstate, or open a recording.',
  utxos: 'Start the utxos probe (Bitcoin USDT: Start probe…), or open a recording.',
  'mempool-monitor': 'Start the mempool-monitor probe (Bitcoin USDT: Start probe…), or open a recording.',
  'coin-selection': 'Start the coin-selection probe (Bitcoin USDT: Start probe…) and create a transaction in a wallet, or open a recording.',
};

let ui: ToolUiState = parseToolUiState(vscode.getState());
const model = {
  tool: ui.tool,
  sessions: [] as SessionChoice[],
  sessionId: null as string | null,
  snapshot: null as ToolSnapshot | null,
  /** The filter the host applied to the snapshot shown. */
  shownFilter: ui.filter,
};
let view: ToolViewRenderer | undefined;

function saveUi(next: Partial<ToolUiState>): void {
  ui = { ...ui, ...next };
  vscode.setState(ui);
}

// ---------- layout ----------

const app = document.getElementById('app') ?? document.body;
app.textContent = '';

const toolbar = el('header', 'toolbar');
const titleText = el('span', 'panel-title');
const sessionLabel = el('label', 'session-picker');
sessionLabel.append(el('span', 'label', 'Session'));
const sessionSelect = el('select');
sessionSelect.setAttribute('aria-label', 'Session');
sessionLabel.append(sessionSelect);
const sessionState = el('span', 'session-state');
const lossBanner = el('div', 'loss-banner');
lossBanner.setAttribute('role', 'status');
const lostCounter = el('span', 'counter lost');
const cutCounter = el('span', 'counter cut');
const ignoredCounter = el('span', 'counter ignored');
lossBanner.append(lostCounter, cutCounter, ignoredCounter);
toolbar.append(titleText, sessionLabel, sessionState, el('span', 'spacer'), lossBanner);

const notesBar = el('div', 'notes');
const emptyState = el('div', 'empty-state');
const emptyTitle = el('p', 'empty-title', 'No session yet');
const emptyHint = el('p');
emptyState.append(emptyTitle, emptyHint);

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
app.append(toolbar, notesBar, emptyState, content);

function mountView(tool: ToolPanelTool): void {
  if (view) return;
  view = VIEWS[tool];
  view.mount({ summary, extra, charts, tableTitle, tableWrap, matchCount });
  filterInput.placeholder = view.filterPlaceholder;
  filterInput.setAttribute('aria-label', view.filterPlaceholder);
  kindSelect.textContent = '';
  for (const kind of view.kinds) {
    const option = el('option', undefined, kind.label);
    option.value = kind.value;
    kindSelect.append(option);
  }
  document.title = TOOL_PANEL_TITLES[tool];
  setText(titleText, TOOL_PANEL_TITLES[tool]);
  setText(emptyTitle, `No ${tool} session yet`);
  setText(emptyHint, EMPTY_HINTS[tool]);
  showFilter(ui.filter);
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
  saveUi({ filter });
  if (filterTimer !== undefined) clearTimeout(filterTimer);
  filterTimer = window.setTimeout(() => {
    filterTimer = undefined;
    vscode.postMessage({ type: 'filter', filter });
  }, 120);
}
filterInput.addEventListener('input', () => sendFilter({ text: filterInput.value, kind: kindSelect.value }));
kindSelect.addEventListener('change', () => sendFilter({ text: filterInput.value, kind: kindSelect.value }));
sessionSelect.addEventListener('change', () => {
  if (sessionSelect.value && sessionSelect.value !== model.sessionId) {
    saveUi({ sessionId: sessionSelect.value });
    vscode.postMessage({ type: 'selectSession', sessionId: sessionSelect.value });
  }
});

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
      saveUi({ tool: message.tool, sessionId: message.sessionId, filter: editing ? ui.filter : message.filter });
      mountView(message.tool);
      if (!editing) showFilter(message.filter);
      schedule();
      if (message.snapshot && message.snapshot.counters.delivered > 0) dataFrames.dataDrawn();
      return;
    case 'sessions':
      model.sessions = [...message.sessions];
      schedule();
      return;
    case 'setFilter':
      showFilter(message.filter);
      saveUi({ filter: message.filter });
      vscode.postMessage({ type: 'filter', filter: message.filter });
      return;
    case 'requestRenderReport':
      render();
      vscode.postMessage({ type: 'renderReport', requestId: message.requestId, report: renderReport() });
      return;
  }
}

// ---------- rendering ----------

let frameRequested = false;
function schedule(): void {
  if (frameRequested) return;
  frameRequested = true;
  requestAnimationFrame(() => {
    frameRequested = false;
    render();
  });
}

function render(): void {
  renderHeader();
  const snapshot = model.snapshot;
  emptyState.hidden = snapshot !== null || model.tool === null;
  content.hidden = snapshot === null;
  if (snapshot && view) view.update(snapshot.view, snapshot.counters);
}

function renderHeader(): void {
  const wanted = model.sessions.map((s) => `${s.id}\u0001${s.label}\u0001${s.ended}`).join('\u0002');
  if (sessionSelect.dataset.shown !== wanted) {
    sessionSelect.dataset.shown = wanted;
    sessionSelect.textContent = '';
    for (const session of [...model.sessions].reverse()) {
      const option = el('option');
      option.value = session.id;
      const state = session.source === 'recording' ? 'recording' : session.ended ? 'ended' : 'live';
      option.textContent = `${visibleText(session.label)} — ${state}`;
      sessionSelect.append(option);
    }
  }
  sessionSelect.value = model.sessionId ?? '';
  sessionSelect.disabled = model.sessions.length < 2;
  sessionLabel.hidden = model.sessions.length === 0;

  const status: SessionStatus | null = model.snapshot?.session ?? null;
  const choice = model.sessions.find((s) => s.id === model.sessionId);
  if (status && choice) {
    const parts = [choice.source === 'recording' ? 'Recording' : status.ended ? 'Ended' : 'Live', status.tool || choice.tool];
    if (status.pid !== null) parts.push(`pid ${status.pid}`);
    if (status.attachedProbes !== null) parts.push(`${status.attachedProbes} probes`);
    if (status.ended && status.endReason && choice.source === 'live') parts.push(status.endReason);
    setUntrustedText(sessionState, parts.join(' · '));
    sessionState.className = `session-state ${choice.source === 'live' && !status.ended ? 'live' : ''}`;
  } else {
    setText(sessionState, '');
  }

  const counters: ToolCounters | null = model.snapshot?.counters ?? null;
  const lost = counters?.lostEvents ?? 0;
  const cut = counters?.truncatedStrings ?? 0;
  const ignored = counters?.ignoredEvents ?? 0;
  setText(lostCounter, `Lost events: ${formatCount(lost)}`);
  lostCounter.title = 'Events that fired in bitcoind but never reached the extension (kernel counts − delivered)';
  setText(cutCounter, `Cut strings: ${formatCount(cut)}`);
  const cutFields = counters?.truncatedByField.map((f) => `${f.name} ${formatCount(f.count)}`).join(', ') ?? '';
  cutCounter.title = cutFields ? `Strings cut at the probe's limit: ${visibleText(cutFields)}` : "Strings cut at the probe's string limit";
  setText(ignoredCounter, `Unreadable: ${formatCount(ignored)}`);
  ignoredCounter.title = 'Events with fields of the wrong type (damaged or hand-made recordings), skipped';
  ignoredCounter.hidden = ignored === 0;
  lostCounter.classList.toggle('alarm', lost !== 0);
  cutCounter.classList.toggle('alarm', cut > 0);
  ignoredCounter.classList.toggle('alarm', ignored > 0);
  lossBanner.classList.toggle('alarm', lost !== 0 || cut > 0);

  const important = (status?.notes ?? []).filter((n) => n.level !== 'info').slice(-3);
  notesBar.textContent = '';
  for (const note of important) {
    const line = el('div', `note ${note.level}`);
    setUntrustedText(line, note.message);
    notesBar.append(line);
  }
  notesBar.hidden = important.length === 0;
}

// Theme change: VS Code swaps the body class; rebuild the charts and the timeline with the new colours.
new MutationObserver(() => view?.rebuildCharts()).observe(document.body, { attributes: true, attributeFilter: ['class'] });

// ---------- render report (integration tests) ----------

function renderReport(): ToolRenderReport {
  const rows = view?.tableRows() ?? [];
  const activeSelector = 'img, script, iframe, object, embed, a, style, link, svg, video, audio, form, meta, base';
  return {
    tool: model.tool,
    sessionId: model.sessionId,
    rowCount: rows.length,
    firstRows: rows.slice(0, 10).map((row) => [...row.cells].map((cell) => cell.textContent ?? '')),
    columns: view?.columnTitles ?? [],
    summary: view?.summaryTexts() ?? {},
    matchText: matchCount.textContent ?? '',
    filter: model.shownFilter,
    lostText: lostCounter.textContent ?? '',
    truncatedText: cutCounter.textContent ?? '',
    lostAlarm: lossBanner.classList.contains('alarm'),
    chartCanvasCount: content.querySelectorAll('canvas').length,
    activeElementsInPanel: app.querySelectorAll(activeSelector).length,
    imgElementsInDocument: document.querySelectorAll('img').length,
    scriptElementsInDocument: document.querySelectorAll('script').length,
    scriptElementsAtStart: scriptsAtStart,
    dataFrames: dataFrames.times(),
  };
}

// ---------- start ----------

window.addEventListener('message', (event: MessageEvent<ToolToWebview>) => {
  const message = event.data;
  if (typeof message === 'object' && message !== null && typeof message.type === 'string') handleMessage(message);
});
if (ui.tool) mountView(ui.tool);
render();
const saved = vscode.getState();
vscode.postMessage({ type: 'ready', uiState: saved === undefined || saved === null ? null : parseToolUiState(saved) });

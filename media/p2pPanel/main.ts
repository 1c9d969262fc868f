// The P2P traffic panel (webview). Everything it shows arrives by postMessage; strings from peers go into
// the DOM only as text nodes, with invisible and reordering characters shown as visible escapes.
import uPlot from 'uplot';
import './styles.css';
import {
  DEFAULT_UI_STATE,
  parseUiState,
  type FromWebview,
  type MessageTypeRow,
  type P2pCounters,
  type P2pRenderReport,
  type P2pUiState,
  type PeerDetail,
  type PeerMessageTypeRow,
  type PeerRow,
  type RateSeries,
  type RecentMessage,
  type SessionChoice,
  type SessionStatus,
  type SortColumn,
  type ToWebview,
} from '../../src/shared/p2pProtocol';
import type { UpdateTiming } from '../../src/shared/panelTiming';
import { splitVisibleText } from '../../src/shared/visibleText';
import { DataFrameClock } from '../shared/dataFrameClock';

interface VsCodeApi {
  postMessage(message: FromWebview): void;
  getState(): unknown;
  setState(state: P2pUiState): void;
}
declare function acquireVsCodeApi(): VsCodeApi;

const vscode = acquireVsCodeApi();
const dataFrames = new DataFrameClock();

const MAX_PEER_ROWS = 1_000;
const MAX_MESSAGE_ROWS = 500;
const MAX_TYPE_ROWS = 300;
const RATE_WINDOW_SECONDS = 600;
const CHART_HEIGHT = 150;

// ---------- model ----------

interface Rates {
  startSecond: number;
  msgsIn: number[];
  msgsOut: number[];
  bytesIn: number[];
  bytesOut: number[];
}

const OTHER_TYPES_KEY = '\u0000other';

const model = {
  sessions: [] as SessionChoice[],
  sessionId: null as string | null,
  hasSnapshot: false,
  peers: new Map<string, PeerRow>(),
  types: new Map<string, MessageTypeRow>(),
  rates: { startSecond: 0, msgsIn: [], msgsOut: [], bytesIn: [], bytesOut: [] } as Rates,
  counters: null as P2pCounters | null,
  session: null as SessionStatus | null,
  detail: null as { peerId: string; messages: RecentMessage[]; types: readonly PeerMessageTypeRow[]; gone: boolean } | null,
};

/**
 * What the message list shows, so that an update appends the new rows and drops the oldest instead of
 * rebuilding up to 500 rows: valid while the rows are model.detail.messages minus `appended` at the end
 * plus `dropped` at the start.
 */
const shownMessages = { valid: false, peerId: null as string | null, appended: 0, dropped: 0 };

let ui: P2pUiState = parseUiState(vscode.getState() ?? DEFAULT_UI_STATE);

function saveUi(next: Partial<P2pUiState>): void {
  ui = { ...ui, ...next };
  vscode.setState(ui);
  vscode.postMessage({ type: 'uiState', uiState: ui });
}

function mergeRates(into: Rates, update: RateSeries): void {
  if (update.msgsIn.length === 0) return;
  const keys = ['msgsIn', 'msgsOut', 'bytesIn', 'bytesOut'] as const;
  if (into.msgsIn.length === 0 || update.startSecond < into.startSecond) {
    // The update covers everything held (the host sends from its first changed second to its newest).
    into.startSecond = update.startSecond;
    for (const key of keys) into[key] = [...update[key]];
  } else {
    const offset = update.startSecond - into.startSecond;
    for (const key of keys) {
      const target = into[key];
      if (target.length > offset) target.length = offset;
      while (target.length < offset) target.push(0);
      for (const value of update[key]) target.push(value);
    }
  }
  const excess = into.msgsIn.length - RATE_WINDOW_SECONDS;
  if (excess > 0) {
    for (const key of keys) into[key].splice(0, excess);
    into.startSecond += excess;
  }
}

function typeKey(msgType: string | null): string {
  return msgType ?? OTHER_TYPES_KEY;
}

function applyDetail(detail: PeerDetail | null): void {
  if (detail === null) {
    model.detail = null;
    return;
  }
  if (detail.replace || !model.detail || model.detail.peerId !== detail.peerId) {
    model.detail = { peerId: detail.peerId, messages: [...detail.messages], types: detail.messageTypes, gone: detail.gone };
    shownMessages.valid = false;
  } else {
    model.detail.messages.push(...detail.messages);
    model.detail.types = detail.messageTypes;
    model.detail.gone = detail.gone;
    shownMessages.appended += detail.messages.length;
  }
  const excess = model.detail.messages.length - MAX_MESSAGE_ROWS;
  if (excess > 0) {
    model.detail.messages.splice(0, excess);
    shownMessages.dropped += excess;
  }
  dirty.messages = true;
}

function handleMessage(message: ToWebview): void {
  switch (message.type) {
    case 'snapshot': {
      model.sessions = [...message.sessions];
      model.sessionId = message.sessionId;
      model.peers.clear();
      model.types.clear();
      model.rates = { startSecond: 0, msgsIn: [], msgsOut: [], bytesIn: [], bytesOut: [] };
      model.detail = null;
      model.hasSnapshot = message.snapshot !== null;
      if (message.snapshot) {
        for (const peer of message.snapshot.peers) model.peers.set(peer.id, peer);
        for (const row of message.snapshot.messageTypes) model.types.set(typeKey(row.msgType), row);
        mergeRates(model.rates, message.snapshot.rates);
        model.counters = message.snapshot.counters;
        model.session = message.snapshot.session;
      } else {
        model.counters = null;
        model.session = null;
      }
      if (vscode.getState() === undefined) ui = message.uiState;
      ui = { ...ui, sessionId: message.sessionId };
      if (ui.selectedPeerId !== null && !model.peers.has(ui.selectedPeerId)) {
        // Another session, or the peer is gone: pick again (renderPeers selects the top row).
        ui = { ...ui, selectedPeerId: null };
      } else {
        applyDetail(message.peerDetail);
      }
      vscode.setState(ui);
      markAllDirty();
      if (model.peers.size > 0) dataFrames.dataDrawn();
      return;
    }
    case 'delta': {
      if (message.sessionId !== model.sessionId) return;
      const { delta } = message;
      for (const peer of delta.peers) model.peers.set(peer.id, peer);
      for (const id of delta.removedPeerIds) model.peers.delete(id);
      for (const row of delta.messageTypes) model.types.set(typeKey(row.msgType), row);
      mergeRates(model.rates, delta.rates);
      model.counters = delta.counters;
      if (delta.session) model.session = delta.session;
      if (message.peerDetail) applyDetail(message.peerDetail);
      dirty.peers = dirty.peers || delta.peers.length > 0 || delta.removedPeerIds.length > 0;
      dirty.types = dirty.types || delta.messageTypes.length > 0;
      dirty.charts = dirty.charts || delta.rates.msgsIn.length > 0;
      dirty.header = true;
      schedule();
      if (model.peers.size > 0) dataFrames.dataDrawn();
      return;
    }
    case 'peerDetail':
      if (message.sessionId !== model.sessionId) return;
      applyDetail(message.peerDetail);
      schedule();
      dataFrames.dataDrawn();
      return;
    case 'sessions':
      model.sessions = [...message.sessions];
      dirty.header = true;
      schedule();
      return;
    case 'requestRenderReport': {
      render();
      // An update drawn here, outside an animation frame, is not timed.
      updateTiming.handlerMs = 0;
      updateTiming.waiting = false;
      const report = renderReport();
      if (message.timeUpdates === true) updateTiming.timings ??= [];
      else if (message.timeUpdates === false) updateTiming.timings = null;
      vscode.postMessage({ type: 'renderReport', requestId: message.requestId, report });
      return;
    }
  }
}

// ---------- DOM helpers (text only) ----------

function el<K extends keyof HTMLElementTagNameMap>(tag: K, className?: string, text?: string): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

const shownText = new WeakMap<Element, string>();

/** Untrusted text: plain runs as text nodes, invisible characters as styled escape spans. */
function setUntrustedText(target: Element, text: string): void {
  if (shownText.get(target) === text) return;
  shownText.set(target, text);
  const parts = splitVisibleText(text);
  if (target instanceof HTMLElement) target.title = parts.map((p) => p.text).join('');
  if (parts.length === 1 && !parts[0].escaped) {
    target.textContent = parts[0].text;
    return;
  }
  target.textContent = '';
  for (const part of parts) {
    if (part.escaped) target.appendChild(el('span', 'escaped', part.text));
    else target.appendChild(document.createTextNode(part.text));
  }
}

function setText(target: Element, text: string): void {
  if (shownText.get(target) === text) return;
  shownText.set(target, text);
  target.textContent = text;
}

const integer = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 });
const oneDecimal = new Intl.NumberFormat('en-US', { maximumFractionDigits: 1 });

function formatCount(value: number): string {
  return integer.format(value);
}

function formatBytes(value: number): string {
  const abs = Math.abs(value);
  if (abs < 1024) return `${integer.format(value)} B`;
  if (abs < 1024 * 1024) return `${oneDecimal.format(value / 1024)} KiB`;
  if (abs < 1024 * 1024 * 1024) return `${oneDecimal.format(value / (1024 * 1024))} MiB`;
  return `${oneDecimal.format(value / (1024 * 1024 * 1024))} GiB`;
}

function formatSessionTime(elapsedNs: number): string {
  const totalMs = Math.floor(elapsedNs / 1e6);
  const ms = totalMs % 1000;
  const totalSeconds = Math.floor(totalMs / 1000);
  const seconds = totalSeconds % 60;
  const minutes = Math.floor(totalSeconds / 60) % 60;
  const hours = Math.floor(totalSeconds / 3600);
  const mmss = `${String(minutes).padStart(2, '0')}:${String(seconds).padStart(2, '0')}.${String(ms).padStart(3, '0')}`;
  return hours > 0 ? `${hours}:${mmss}` : mmss;
}

function formatGap(ns: number): string {
  if (ns < 1e3) return `+${integer.format(ns)} ns`;
  if (ns < 1e6) return `+${oneDecimal.format(ns / 1e3)} µs`;
  if (ns < 1e9) return `+${oneDecimal.format(ns / 1e6)} ms`;
  return `+${oneDecimal.format(ns / 1e9)} s`;
}

// ---------- layout ----------

const app = document.getElementById('app') ?? document.body;
app.textContent = '';

const toolbar = el('header', 'toolbar');
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
lossBanner.append(lostCounter, cutCounter);
toolbar.append(sessionLabel, sessionState, el('span', 'spacer'), lossBanner);

const notesBar = el('div', 'notes');
const emptyState = el('div', 'empty-state');
emptyState.append(
  el('p', 'empty-title', 'No P2P session yet'),
  el('p', undefined, 'Start the p2p-traffic or p2p-monitor probe (Bitcoin USDT: Start probe…), or open a recording (Bitcoin USDT: Open recording…).'),
);

const summary = el('section', 'summary');
const summaryItems = {
  peers: el('span', 'summary-value'),
  msgsIn: el('span', 'summary-value'),
  msgsOut: el('span', 'summary-value'),
  evicted: el('span', 'summary-value'),
};
function summaryItem(label: string, value: HTMLElement, className = ''): HTMLElement {
  const item = el('div', `summary-item ${className}`);
  item.append(el('span', 'summary-label', label), value);
  return item;
}
const evictedItem = summaryItem('Evicted', summaryItems.evicted, 'evicted');
summary.append(
  summaryItem('Peers', summaryItems.peers),
  summaryItem('Received', summaryItems.msgsIn, 'in'),
  summaryItem('Sent', summaryItems.msgsOut, 'out'),
  evictedItem,
);

const charts = el('section', 'charts');
const msgChartBox = el('div', 'chart-box');
const msgChartHost = el('div', 'chart');
msgChartBox.append(el('h2', undefined, 'Messages per second'), msgChartHost);
const byteChartBox = el('div', 'chart-box');
const byteChartHost = el('div', 'chart');
byteChartBox.append(el('h2', undefined, 'Bytes per second'), byteChartHost);
charts.append(msgChartBox, byteChartBox);

const peersSection = el('section', 'peers');
const peersHeading = el('div', 'section-heading');
peersHeading.append(el('h2', undefined, 'Peers'));
const filterBar = el('div', 'filter-bar');
const filterInput = el('input');
filterInput.type = 'search';
filterInput.placeholder = 'Filter: address, type or id';
filterInput.setAttribute('aria-label', 'Filter peers by address, connection type or id');
filterInput.spellcheck = false;
const connTypeSelect = el('select');
connTypeSelect.setAttribute('aria-label', 'Connection type');
const peerCount = el('span', 'peer-count');
filterBar.append(filterInput, connTypeSelect, peerCount);
peersHeading.append(filterBar);

interface ColumnSpec {
  readonly column: SortColumn;
  readonly title: string;
  readonly numeric: boolean;
  readonly tooltip: string;
}
const COLUMNS: readonly ColumnSpec[] = [
  { column: 'id', title: 'Id', numeric: true, tooltip: 'Peer id (Bitcoin Core)' },
  { column: 'connType', title: 'Type', numeric: false, tooltip: 'Connection type' },
  { column: 'addr', title: 'Address', numeric: false, tooltip: 'Address:port' },
  { column: 'msgsIn', title: 'Msgs in', numeric: true, tooltip: 'Messages received from the peer' },
  { column: 'bytesIn', title: 'Bytes in', numeric: true, tooltip: 'Bytes received from the peer' },
  { column: 'msgsOut', title: 'Msgs out', numeric: true, tooltip: 'Messages sent to the peer' },
  { column: 'bytesOut', title: 'Bytes out', numeric: true, tooltip: 'Bytes sent to the peer' },
  { column: 'lastActivity', title: 'Last activity', numeric: true, tooltip: 'Time of the latest message, since the session started' },
];

const peerTable = el('table', 'data-table peer-table');
const peerHead = el('thead');
const peerHeadRow = el('tr');
const headerCells = new Map<SortColumn, HTMLTableCellElement>();
for (const spec of COLUMNS) {
  const th = el('th', spec.numeric ? 'numeric sortable' : 'sortable');
  th.title = spec.tooltip;
  th.tabIndex = 0;
  th.append(el('span', undefined, spec.title), el('span', 'sort-mark'));
  th.addEventListener('click', () => setSort(spec.column));
  th.addEventListener('keydown', (event) => {
    if (event.key === 'Enter' || event.key === ' ') {
      event.preventDefault();
      setSort(spec.column);
    }
  });
  headerCells.set(spec.column, th);
  peerHeadRow.append(th);
}
peerHead.append(peerHeadRow);
const peerBody = el('tbody');
peerTable.append(peerHead, peerBody);
const peerTableWrap = el('div', 'table-wrap peers-wrap');
peerTableWrap.append(peerTable);
peersSection.append(peersHeading, peerTableWrap);

const detailRow = el('div', 'detail-row');
const messagesSection = el('section', 'peer-messages');
const messagesHeading = el('h2');
const peerTypesLine = el('div', 'peer-types');
const messageList = el('div', 'message-list');
messageList.setAttribute('role', 'list');
messagesSection.append(messagesHeading, peerTypesLine, messageList);

const typesSection = el('section', 'message-types');
const typesTable = el('table', 'data-table types-table');
const typesHead = el('thead');
const typesHeadRow = el('tr');
for (const [title, numeric] of [['Message type', false], ['Msgs in', true], ['Bytes in', true], ['Msgs out', true], ['Bytes out', true]] as const) {
  typesHeadRow.append(el('th', numeric ? 'numeric' : undefined, title));
}
typesHead.append(typesHeadRow);
const typesBody = el('tbody');
typesTable.append(typesHead, typesBody);
const typesWrap = el('div', 'table-wrap types-wrap');
typesWrap.append(typesTable);
typesSection.append(el('h2', undefined, 'Message types'), typesWrap);
detailRow.append(messagesSection, typesSection);

const content = el('div', 'content');
content.append(summary, charts, peersSection, detailRow);
app.append(toolbar, notesBar, emptyState, content);

// ---------- interaction ----------

function setSort(column: SortColumn): void {
  const descending = ui.sortColumn === column ? !ui.sortDescending : column !== 'addr' && column !== 'connType' && column !== 'id';
  saveUi({ sortColumn: column, sortDescending: descending });
  dirty.peers = true;
  schedule();
}

filterInput.value = ui.filterText;
filterInput.addEventListener('input', () => {
  saveUi({ filterText: filterInput.value });
  dirty.peers = true;
  schedule();
});
connTypeSelect.addEventListener('change', () => {
  saveUi({ connTypeFilter: connTypeSelect.value });
  dirty.peers = true;
  schedule();
});
sessionSelect.addEventListener('change', () => {
  if (sessionSelect.value && sessionSelect.value !== model.sessionId) {
    saveUi({ sessionId: sessionSelect.value, selectedPeerId: null });
    vscode.postMessage({ type: 'selectSession', sessionId: sessionSelect.value });
  }
});

function selectPeer(peerId: string): void {
  if (ui.selectedPeerId === peerId) return;
  model.detail = null;
  saveUi({ selectedPeerId: peerId });
  dirty.peers = true;
  dirty.messages = true;
  schedule();
}

peerBody.addEventListener('click', (event) => {
  const row = (event.target as Element | null)?.closest('tr');
  const peerId = row ? rowPeerIds.get(row) : undefined;
  if (peerId !== undefined) selectPeer(peerId);
});
peerBody.addEventListener('keydown', (event) => {
  const row = (event.target as Element | null)?.closest('tr');
  if (!row) return;
  if (event.key === 'Enter' || event.key === ' ') {
    const peerId = rowPeerIds.get(row);
    if (peerId !== undefined) {
      event.preventDefault();
      selectPeer(peerId);
    }
  } else if (event.key === 'ArrowDown' || event.key === 'ArrowUp') {
    const peerId = rowPeerIds.get(row);
    const index = peerId === undefined ? -1 : tableRows.findIndex((p) => p.id === peerId);
    const next = index < 0 ? undefined : tableRows[index + (event.key === 'ArrowDown' ? 1 : -1)];
    if (next !== undefined) {
      event.preventDefault();
      focusPeerAfterRender = next.id;
      scrollPeerIntoWindow(index + (event.key === 'ArrowDown' ? 1 : -1));
      selectPeer(next.id);
    }
  }
});

// The peer table holds up to MAX_PEER_ROWS rows but puts only those in and near the scrolled-to window into
// the DOM (spacer rows keep the scroll height): updating and laying out 1,000 rows on every delta costs far
// more than a frame. The window comes from the scroll position and viewport size seen by the events below.
const PEER_ROW_OVERSCAN = 10;
let peerRowHeight = 0;
let peerScrollTop = 0;
let peerViewportHeight = 0;
let tableRows: PeerRow[] = [];
let focusPeerAfterRender: string | null = null;
const topSpacer = el('tr', 'spacer-row');
const bottomSpacer = el('tr', 'spacer-row');
peerTableWrap.addEventListener(
  'scroll',
  () => {
    peerScrollTop = peerTableWrap.scrollTop;
    dirty.peers = true;
    schedule();
  },
  { passive: true },
);
new ResizeObserver((entries) => {
  const height = entries[entries.length - 1]?.contentRect.height ?? 0;
  if (Math.abs(height - peerViewportHeight) < 1) return;
  peerViewportHeight = height;
  dirty.peers = true;
  schedule();
}).observe(peerTableWrap);

function rowHeight(): number {
  return peerRowHeight > 0 ? peerRowHeight : 22;
}

function scrollPeerIntoWindow(index: number): void {
  const top = index * rowHeight();
  const viewport = peerViewportHeight > 0 ? peerViewportHeight : window.innerHeight * 0.45;
  if (top < peerScrollTop) peerTableWrap.scrollTop = top;
  else if (top + 2 * rowHeight() > peerScrollTop + viewport) peerTableWrap.scrollTop = top + 2 * rowHeight() - viewport;
  peerScrollTop = peerTableWrap.scrollTop;
}

// ---------- rendering ----------

const dirty = { header: true, peers: true, types: true, charts: true, messages: true };
let frameRequested = false;
/** Only while the host asks (RenderReportRequest.timeUpdates): each update's cost. */
const MAX_UPDATE_TIMINGS = 1_000;
const updateTiming = {
  timings: null as UpdateTiming[] | null,
  /** Handler time of the update(s) waiting for their frame. */
  handlerMs: 0,
  waiting: false,
};

function markAllDirty(): void {
  dirty.header = dirty.peers = dirty.types = dirty.charts = dirty.messages = true;
  schedule();
}

function schedule(): void {
  if (frameRequested) return;
  frameRequested = true;
  requestAnimationFrame(() => {
    frameRequested = false;
    if (!updateTiming.waiting) {
      render();
      return;
    }
    const start = performance.now();
    render();
    void document.body.offsetHeight;
    const frameMs = performance.now() - start;
    if (updateTiming.timings && updateTiming.timings.length < MAX_UPDATE_TIMINGS) updateTiming.timings.push({ handlerMs: updateTiming.handlerMs, frameMs });
    updateTiming.handlerMs = 0;
    updateTiming.waiting = false;
  });
}

function render(): void {
  const hasData = model.hasSnapshot;
  emptyState.hidden = hasData;
  content.hidden = !hasData;
  if (dirty.header) renderHeader();
  if (!hasData) return;
  if (dirty.peers) renderPeers();
  if (dirty.types) renderTypes();
  if (dirty.messages) renderMessages();
  if (dirty.charts) renderCharts();
  dirty.header = dirty.peers = dirty.types = dirty.messages = dirty.charts = false;
  // Last, after every DOM write of the frame: one layout instead of one per read.
  if (scrollMessagesToBottom) {
    scrollMessagesToBottom = false;
    messageList.scrollTop = messageList.scrollHeight;
  }
}

function renderHeader(): void {
  // Session picker: rebuilt from text nodes only.
  const wanted = model.sessions.map((s) => `${s.id}\u0001${s.label}\u0001${s.ended}`).join('\u0002');
  if (shownText.get(sessionSelect) !== wanted) {
    shownText.set(sessionSelect, wanted);
    sessionSelect.textContent = '';
    for (const session of [...model.sessions].reverse()) {
      const option = el('option');
      option.value = session.id;
      const state = session.source === 'recording' ? 'recording' : session.ended ? 'ended' : 'live';
      option.textContent = `${splitVisibleText(session.label).map((p) => p.text).join('')} — ${state}`;
      sessionSelect.append(option);
    }
  }
  sessionSelect.value = model.sessionId ?? '';
  sessionSelect.disabled = model.sessions.length < 2;
  sessionLabel.hidden = model.sessions.length === 0;

  const status = model.session;
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

  const counters = model.counters;
  const lost = counters?.lostEvents ?? 0;
  const cut = counters?.truncatedStrings ?? 0;
  setText(lostCounter, `Lost events: ${formatCount(lost)}`);
  const cutFields = counters?.truncatedByField.map((f) => `${f.name} ${formatCount(f.count)}`).join(', ') ?? '';
  setText(cutCounter, `Cut strings: ${formatCount(cut)}`);
  cutCounter.title = cutFields ? `Strings cut at the probe's limit: ${cutFields}` : "Strings cut at the probe's string limit";
  lostCounter.title = 'Events that fired in bitcoind but never reached the extension';
  lostCounter.classList.toggle('alarm', lost !== 0);
  cutCounter.classList.toggle('alarm', cut > 0);
  lossBanner.classList.toggle('alarm', lost !== 0 || cut > 0);

  const notes = status?.notes ?? [];
  const important = notes.filter((n) => n.level !== 'info').slice(-3);
  notesBar.textContent = '';
  for (const note of important) {
    const line = el('div', `note ${note.level}`);
    setUntrustedText(line, note.message);
    notesBar.append(line);
  }
  const ignored = counters?.ignoredEvents ?? 0;
  if (ignored > 0) notesBar.append(el('div', 'note warning', `${formatCount(ignored)} events with fields of the wrong type were skipped.`));
  notesBar.hidden = notesBar.childElementCount === 0;

  if (counters) {
    setText(summaryItems.peers, formatCount(counters.peers));
    setText(summaryItems.msgsIn, `${formatCount(counters.msgsIn)} msgs · ${formatBytes(counters.bytesIn)}`);
    setText(summaryItems.msgsOut, `${formatCount(counters.msgsOut)} msgs · ${formatBytes(counters.bytesOut)}`);
    setText(summaryItems.evicted, formatCount(counters.peersEvicted));
    evictedItem.hidden = counters.peersEvicted === 0;
  }
}

function compareRows(a: PeerRow, b: PeerRow, column: SortColumn): number {
  switch (column) {
    case 'id': {
      const byLength = a.id.length - b.id.length;
      return a.id.startsWith('-') || b.id.startsWith('-') ? Number(a.id) - Number(b.id) : byLength !== 0 ? byLength : a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
    }
    case 'connType':
      return a.connType.localeCompare(b.connType);
    case 'addr':
      return a.addr.localeCompare(b.addr);
    case 'lastActivity':
      return a.lastActivityNs - b.lastActivityNs;
    default:
      return a[column] - b[column];
  }
}

function visiblePeers(): PeerRow[] {
  const needle = ui.filterText.trim().toLowerCase();
  const rows: PeerRow[] = [];
  for (const peer of model.peers.values()) {
    if (ui.connTypeFilter && peer.connType !== ui.connTypeFilter) continue;
    if (needle && !peer.addr.toLowerCase().includes(needle) && !peer.connType.toLowerCase().includes(needle) && !peer.id.includes(needle)) continue;
    rows.push(peer);
  }
  const direction = ui.sortDescending ? -1 : 1;
  rows.sort((a, b) => direction * compareRows(a, b, ui.sortColumn) || compareRows(a, b, 'id'));
  return rows;
}

const rowPeerIds = new WeakMap<HTMLTableRowElement, string>();
const peerRows: HTMLTableRowElement[] = [];
const moreRow = el('tr', 'more-row');
const moreCell = el('td');
moreCell.colSpan = COLUMNS.length;
moreRow.append(moreCell);
const noMatchRow = el('tr', 'more-row');
const noMatchCell = el('td', undefined, 'No peer matches the filter.');
noMatchCell.colSpan = COLUMNS.length;
noMatchRow.append(noMatchCell);

function peerRowElement(index: number): HTMLTableRowElement {
  let row = peerRows[index];
  if (!row) {
    row = el('tr', 'peer-row');
    row.tabIndex = 0;
    for (const spec of COLUMNS) row.append(el('td', `${spec.numeric ? 'numeric ' : ''}col-${spec.column}`));
    peerRows[index] = row;
  }
  return row;
}

function renderPeers(): void {
  // Connection type choices.
  const connTypes = [...new Set([...model.peers.values()].map((p) => p.connType))].sort();
  if (ui.connTypeFilter && !connTypes.includes(ui.connTypeFilter)) connTypes.push(ui.connTypeFilter);
  const wanted = connTypes.join('\u0001');
  if (shownText.get(connTypeSelect) !== wanted) {
    shownText.set(connTypeSelect, wanted);
    connTypeSelect.textContent = '';
    connTypeSelect.append(el('option', undefined, 'All connection types'));
    (connTypeSelect.firstChild as HTMLOptionElement).value = '';
    for (const type of connTypes) {
      const option = el('option');
      option.value = type;
      option.textContent = splitVisibleText(type).map((p) => p.text).join('');
      connTypeSelect.append(option);
    }
  }
  connTypeSelect.value = ui.connTypeFilter;
  if (filterInput.value !== ui.filterText && document.activeElement !== filterInput) filterInput.value = ui.filterText;

  for (const [column, th] of headerCells) {
    const active = column === ui.sortColumn;
    th.setAttribute('aria-sort', active ? (ui.sortDescending ? 'descending' : 'ascending') : 'none');
    setText(th.lastElementChild as Element, active ? (ui.sortDescending ? ' ▼' : ' ▲') : '');
  }

  const rows = visiblePeers();
  const shown = Math.min(rows.length, MAX_PEER_ROWS);
  // Nothing chosen yet: show the busiest peer's messages rather than an empty pane.
  if (ui.selectedPeerId === null && rows.length > 0) {
    saveUi({ selectedPeerId: rows[0].id });
    dirty.messages = true;
  }
  const filtered = ui.filterText.trim() !== '' || ui.connTypeFilter !== '';
  setText(peerCount, filtered ? `${formatCount(rows.length)} of ${formatCount(model.peers.size)} peers` : `${formatCount(model.peers.size)} peers`);

  tableRows = rows.length > shown ? rows.slice(0, shown) : rows;
  const height = rowHeight();
  const viewport = peerViewportHeight > 0 ? peerViewportHeight : window.innerHeight * 0.45;
  // An even first row keeps the zebra stripes (nth-child) on the same peers while scrolling.
  const first = Math.max(0, Math.min(shown, Math.floor(peerScrollTop / height)) - PEER_ROW_OVERSCAN) & ~1;
  const end = Math.min(shown, Math.ceil((peerScrollTop + viewport) / height) + PEER_ROW_OVERSCAN);
  setSpacer(topSpacer, first * height);
  if (first > 0) {
    if (peerBody.firstElementChild !== topSpacer) peerBody.insertBefore(topSpacer, peerBody.firstElementChild);
  } else topSpacer.remove();
  const offset = first > 0 ? 1 : 0;
  for (let i = first; i < end; i++) {
    const peer = rows[i];
    const row = peerRowElement(i - first);
    rowPeerIds.set(row, peer.id);
    row.classList.toggle('selected', peer.id === ui.selectedPeerId);
    row.setAttribute('aria-selected', String(peer.id === ui.selectedPeerId));
    const cells = row.cells;
    setText(cells[0], peer.id);
    setUntrustedText(cells[1], peer.connType);
    setUntrustedText(cells[2], peer.addr);
    setText(cells[3], formatCount(peer.msgsIn));
    setText(cells[4], formatBytes(peer.bytesIn));
    setText(cells[5], formatCount(peer.msgsOut));
    setText(cells[6], formatBytes(peer.bytesOut));
    setText(cells[7], formatSessionTime(peer.lastActivityNs));
    const at = i - first + offset;
    if (peerBody.children[at] !== row) peerBody.insertBefore(row, peerBody.children[at] ?? null);
  }
  // Drop rows beyond the window.
  const kept = end - first + offset;
  while (peerBody.children.length > kept) peerBody.lastElementChild?.remove();
  if (end < shown) {
    setSpacer(bottomSpacer, (shown - end) * height);
    peerBody.append(bottomSpacer);
  }
  if (peerRowHeight === 0 && end > first) {
    const measured = peerBody.children[offset]?.getBoundingClientRect().height ?? 0;
    if (measured > 0) {
      peerRowHeight = measured;
      if (shown > end) dirty.peers = true;
    }
  }
  if (focusPeerAfterRender !== null) {
    const target = [...peerBody.children].find((r) => r instanceof HTMLTableRowElement && rowPeerIds.get(r) === focusPeerAfterRender);
    if (target instanceof HTMLElement) target.focus({ preventScroll: true });
    focusPeerAfterRender = null;
  }
  if (rows.length > shown) {
    setText(moreCell, `+${formatCount(rows.length - shown)} more peers not shown: narrow the filter`);
    peerBody.append(moreRow);
  } else if (rows.length === 0) {
    setText(noMatchCell, model.peers.size > 0 ? 'No peer matches the filter.' : 'No peers yet: waiting for messages…');
    peerBody.append(noMatchRow);
  }
}

function setSpacer(row: HTMLTableRowElement, heightPx: number): void {
  if (row.cells.length === 0) {
    const cell = el('td');
    cell.colSpan = COLUMNS.length;
    row.append(cell);
  }
  row.cells[0].style.height = `${heightPx}px`;
}

function renderTypes(): void {
  const rows = [...model.types.values()].sort((a, b) => b.msgsIn + b.msgsOut - (a.msgsIn + a.msgsOut));
  const shown = Math.min(rows.length, MAX_TYPE_ROWS);
  typesBody.textContent = '';
  for (let i = 0; i < shown; i++) {
    const row = rows[i];
    const tr = el('tr');
    const name = el('td', 'type-name');
    if (row.msgType === null) {
      name.textContent = '(other types)';
      name.classList.add('other');
      name.title = 'Message types beyond the number of distinct types kept';
    } else {
      setUntrustedText(name, row.msgType);
    }
    tr.append(
      name,
      el('td', 'numeric', formatCount(row.msgsIn)),
      el('td', 'numeric', formatBytes(row.bytesIn)),
      el('td', 'numeric', formatCount(row.msgsOut)),
      el('td', 'numeric', formatBytes(row.bytesOut)),
    );
    typesBody.append(tr);
  }
  if (rows.length > shown) {
    const tr = el('tr', 'more-row');
    const td = el('td', undefined, `+${formatCount(rows.length - shown)} more types`);
    td.colSpan = 5;
    tr.append(td);
    typesBody.append(tr);
  }
  if (rows.length === 0) {
    const tr = el('tr', 'more-row');
    const td = el('td', undefined, 'No messages yet.');
    td.colSpan = 5;
    tr.append(td);
    typesBody.append(tr);
  }
}

function renderMessages(): void {
  const selected = ui.selectedPeerId;
  const peer = selected !== null ? model.peers.get(selected) : undefined;
  messagesHeading.textContent = '';
  if (selected === null) {
    messagesHeading.textContent = 'Recent messages';
    peerTypesLine.textContent = '';
    messageList.textContent = '';
    messageList.append(el('div', 'hint', 'Select a peer to see its recent messages in time order.'));
    return;
  }
  messagesHeading.append(document.createTextNode(`Recent messages — peer ${selected} `));
  if (peer) {
    const addr = el('span', 'heading-addr');
    setUntrustedText(addr, peer.addr);
    messagesHeading.append(addr);
  }

  const detail = model.detail && model.detail.peerId === selected ? model.detail : null;
  peerTypesLine.textContent = '';
  if (detail) {
    for (const type of [...detail.types].sort((a, b) => b.msgsIn + b.msgsOut - (a.msgsIn + a.msgsOut)).slice(0, 40)) {
      const chip = el('span', 'chip');
      const name = el('span', 'chip-name');
      if (type.msgType === null) name.textContent = '(other)';
      else setUntrustedText(name, type.msgType);
      chip.append(name, el('span', 'chip-count', ` ${formatCount(type.msgsIn)}↓ ${formatCount(type.msgsOut)}↑`));
      peerTypesLine.append(chip);
    }
  }

  const samePeer = messageList.dataset.peer === selected;
  messageList.dataset.peer = selected;
  if (detail && !detail.gone && detail.messages.length > 0 && appendMessageRows(detail.messages, selected)) {
    if (messagesAtBottom) scrollMessagesToBottom = true;
    return;
  }
  shownMessages.valid = false;
  messageList.textContent = '';
  if (!detail) {
    messageList.append(el('div', 'hint', 'Loading…'));
    return;
  }
  if (detail.gone) {
    messageList.append(el('div', 'hint', 'This peer is no longer tracked (evicted as the least recently active).'));
    return;
  }
  if (detail.messages.length === 0) {
    messageList.append(
      el('div', 'hint', model.session?.tool === 'p2p-monitor' ? 'p2p-monitor counts in the kernel and records no individual messages.' : 'No messages from or to this peer yet.'),
    );
    return;
  }
  const fragment = document.createDocumentFragment();
  for (let i = 0; i < detail.messages.length; i++) fragment.append(messageRow(detail.messages[i], i === 0 ? null : detail.messages[i - 1]));
  messageList.append(fragment);
  shownMessages.valid = true;
  shownMessages.peerId = selected;
  shownMessages.appended = 0;
  shownMessages.dropped = 0;
  if (messagesAtBottom || !samePeer) scrollMessagesToBottom = true;
}

function messageRow(message: RecentMessage, previous: RecentMessage | null): HTMLElement {
  const row = el('div', `message ${message.direction}`);
  row.setAttribute('role', 'listitem');
  const arrow = el('span', 'arrow', message.direction === 'in' ? '←' : '→');
  arrow.title = message.direction === 'in' ? 'received from the peer' : 'sent to the peer';
  const type = el('span', 'msg-type');
  if (message.msgType === null) type.textContent = '(other)';
  else setUntrustedText(type, message.msgType);
  row.append(
    el('span', 'time', formatSessionTime(message.elapsedNs)),
    el('span', 'gap', previous === null ? '' : formatGap(message.elapsedNs - previous.elapsedNs)),
    arrow,
    type,
    el('span', 'size', formatBytes(message.size)),
  );
  return row;
}

/** Brings the shown rows up to date by dropping the oldest and appending the new ones; false if it cannot. */
function appendMessageRows(messages: readonly RecentMessage[], selected: string): boolean {
  const shown = shownMessages;
  if (!shown.valid || shown.peerId !== selected) return false;
  const rows = messageList.children;
  if (rows.length !== messages.length - shown.appended + shown.dropped || shown.dropped >= rows.length) return false;
  for (let i = 0; i < rows.length; i++) if (!rows[i].classList.contains('message')) return false;
  for (let i = 0; i < shown.dropped; i++) messageList.firstElementChild?.remove();
  const first = messageList.firstElementChild;
  if (shown.dropped > 0 && first) setText(first.children[1], '');
  const fragment = document.createDocumentFragment();
  for (let i = messages.length - shown.appended; i < messages.length; i++) fragment.append(messageRow(messages[i], i === 0 ? null : messages[i - 1]));
  messageList.append(fragment);
  shown.appended = 0;
  shown.dropped = 0;
  return true;
}

let messagesAtBottom = true;
let scrollMessagesToBottom = false;
messageList.addEventListener(
  'scroll',
  () => (messagesAtBottom = messageList.scrollTop + messageList.clientHeight >= messageList.scrollHeight - 4),
  { passive: true },
);

// ---------- charts ----------

interface ChartHandle {
  plot: uPlot;
  host: HTMLElement;
  bytes: boolean;
}

let msgChart: ChartHandle | undefined;
let byteChart: ChartHandle | undefined;

function cssColor(name: string, fallback: string): string {
  const value = getComputedStyle(document.body).getPropertyValue(name).trim();
  return value || fallback;
}

function formatAxisTime(seconds: number): string {
  const s = Math.round(seconds);
  const minutes = Math.floor(s / 60);
  return `${minutes}:${String(s % 60).padStart(2, '0')}`;
}

function makeChart(host: HTMLElement, bytes: boolean): ChartHandle {
  const foreground = cssColor('--vscode-descriptionForeground', '#888');
  const grid = cssColor('--vscode-editorWidget-border', 'rgba(128,128,128,0.35)');
  const inColor = cssColor('--vscode-charts-blue', '#3794ff');
  const outColor = cssColor('--vscode-charts-orange', '#d18616');
  const font = `11px ${cssColor('--vscode-font-family', 'sans-serif')}`;
  const axis = {
    stroke: foreground,
    font,
    grid: { stroke: grid, width: 1 },
    ticks: { stroke: grid, width: 1 },
  };
  const formatValue = bytes ? formatBytes : (v: number) => oneDecimal.format(v);
  const options: uPlot.Options = {
    width: Math.max(200, host.clientWidth),
    height: CHART_HEIGHT,
    legend: { show: true, live: true },
    cursor: { drag: { x: false, y: false } },
    scales: { x: { time: false }, y: { range: (_u, _min, max) => [0, Math.max(1, max * 1.1)] } },
    axes: [
      { ...axis, incrs: [1, 2, 5, 10, 15, 30, 60, 120, 300, 600], values: (_u, splits) => splits.map(formatAxisTime) },
      { ...axis, size: bytes ? 70 : 50, values: (_u, splits) => splits.map((v) => (bytes ? formatBytes(v) : integer.format(v))) },
    ],
    series: [
      { label: 'Time', value: (_u, v) => (v === null || v === undefined ? '—' : formatAxisTime(v)) },
      { label: 'In', stroke: inColor, width: 1.5, fill: /^#[0-9a-f]{6}$/i.test(inColor) ? `${inColor}26` : undefined, value: (_u, v) => (v === null || v === undefined ? '—' : formatValue(v)) },
      { label: 'Out', stroke: outColor, width: 1.5, value: (_u, v) => (v === null || v === undefined ? '—' : formatValue(v)) },
    ],
  };
  return { plot: new uPlot(options, chartData(bytes), host), host, bytes };
}

function chartData(bytes: boolean): uPlot.AlignedData {
  const r = model.rates;
  const xs = r.msgsIn.map((_v, i) => r.startSecond + i);
  return bytes ? [xs, r.bytesIn, r.bytesOut] : [xs, r.msgsIn, r.msgsOut];
}

function renderCharts(): void {
  if (!msgChart) msgChart = makeChart(msgChartHost, false);
  else msgChart.plot.setData(chartData(false));
  if (!byteChart) byteChart = makeChart(byteChartHost, true);
  else byteChart.plot.setData(chartData(true));
}

function resizeCharts(): void {
  for (const chart of [msgChart, byteChart]) {
    if (!chart) continue;
    const width = Math.max(200, Math.floor(chart.host.clientWidth));
    if (width !== chart.plot.width) chart.plot.setSize({ width, height: CHART_HEIGHT });
  }
}

let resizeRequested = false;
const resizeObserver = new ResizeObserver(() => {
  if (resizeRequested) return;
  resizeRequested = true;
  requestAnimationFrame(() => {
    resizeRequested = false;
    resizeCharts();
  });
});
resizeObserver.observe(msgChartHost);
resizeObserver.observe(byteChartHost);

// Theme change: VS Code swaps the body class; rebuild the charts with the new colors.
new MutationObserver(() => {
  msgChart?.plot.destroy();
  byteChart?.plot.destroy();
  msgChart = byteChart = undefined;
  dirty.charts = true;
  schedule();
}).observe(document.body, { attributes: true, attributeFilter: ['class'] });

// ---------- render report (integration tests) ----------

function renderReport(): P2pRenderReport {
  const displayed = (text: string): string => splitVisibleText(text).map((p) => p.text).join('');
  const activeSelector = 'img, script, iframe, object, embed, a, style, link, svg, video, audio, form, meta, base';
  return {
    sessionId: model.sessionId,
    peerRowCount: tableRows.length,
    totalPeers: model.peers.size,
    firstRows: tableRows.slice(0, 10).map((peer) => ({ id: peer.id, connType: displayed(peer.connType), addr: displayed(peer.addr) })),
    selectedPeerId: ui.selectedPeerId,
    messageRowCount: messageList.querySelectorAll('.message').length,
    firstMessageTypes: [...messageList.querySelectorAll('.message .msg-type')].slice(0, 10).map((e) => e.textContent ?? ''),
    messageTypeRowCount: typesBody.querySelectorAll('td.type-name').length,
    lostText: lostCounter.textContent ?? '',
    truncatedText: cutCounter.textContent ?? '',
    lostAlarm: lossBanner.classList.contains('alarm'),
    receivedText: summaryItems.msgsIn.textContent ?? '',
    sentText: summaryItems.msgsOut.textContent ?? '',
    chartCanvasCount: charts.querySelectorAll('canvas').length,
    activeElementsInPanel: app.querySelectorAll(activeSelector).length,
    imgElementsInDocument: document.querySelectorAll('img').length,
    dataFrames: dataFrames.times(),
    updateTimings: updateTiming.timings ? [...updateTiming.timings] : undefined,
  };
}

// ---------- start ----------

window.addEventListener('message', (event: MessageEvent<ToWebview>) => {
  const message = event.data;
  if (typeof message !== 'object' || message === null || typeof message.type !== 'string') return;
  if (updateTiming.timings && (message.type === 'delta' || message.type === 'peerDetail')) {
    const start = performance.now();
    handleMessage(message);
    updateTiming.handlerMs += performance.now() - start;
    updateTiming.waiting = frameRequested; // the frame that will draw it (none for another session's delta)
  } else {
    handleMessage(message);
  }
});
render();
const saved = vscode.getState();
vscode.postMessage({ type: 'ready', uiState: saved === undefined || saved === null ? null : parseUiState(saved) });

// The P2P traffic panel (webview). Everything it shows arrives by postMessage; strings from peers go into
// the DOM only as text nodes, with invisible and reordering characters shown as visible escapes.
import './styles.css';
import {
  P2P_PAGE,
  type P2pRenderReport,
  type P2pUiState,
  type PeerDetail,
  type PeerRow,
  type RecentMessage,
  type SortColumn,
  type ToWebview,
} from '../../src/shared/p2pProtocol';
import type { RenderReportRequest } from '../../src/shared/panelProtocol';
import type { UpdateTiming } from '../../src/shared/panelTiming';
import { activeElementCounts, countOf, el, formatBytes, formatCount, formatSessionTime, setText, setUntrustedText, visibleText } from '../shared/dom';
import { ComparisonView } from '../shared/comparisonView';
import { setConnectionType } from '../shared/connectionType';
import { onThemeChange, PageConnection } from '../shared/pageConnection';
import { NodeColumn } from '../shared/nodeSelector';
import { SessionHeader } from '../shared/sessionHeader';
import { RateCharts } from './charts';
import { mergeRates, model, typeKey } from './model';

const page = new PageConnection(P2P_PAGE);
/** The user chose the peer whose messages show (a click, the keyboard, or a restored panel); until then the busiest. */
let peerChosen = page.ui.selectedPeerId !== null;

const MAX_PEER_ROWS = 1_000;
const MAX_MESSAGE_ROWS = 500;
const MAX_TYPE_ROWS = 300;

/**
 * What the message list shows, so that an update appends the new rows and drops the oldest instead of
 * rebuilding up to 500 rows: valid while the rows are model.detail.messages minus `appended` at the end
 * plus `dropped` at the start.
 */
const shownMessages = { valid: false, peerId: null as string | null, appended: 0, dropped: 0 };

function saveUi(next: Partial<P2pUiState>): void {
  page.saveUi(next, (uiState) => ({ type: 'uiState', uiState }));
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
      if (!page.hasSavedState) page.ui = message.uiState;
      page.ui = { ...page.ui, sessionId: message.sessionId };
      if (page.ui.selectedPeerId !== null && !model.peers.has(page.ui.selectedPeerId)) {
        // Another session, or the peer is gone: pick again (renderPeers selects the top row).
        page.ui = { ...page.ui, selectedPeerId: null };
        peerChosen = false;
      } else {
        applyDetail(message.peerDetail);
      }
      page.keepUi();
      markAllDirty();
      if (model.peers.size > 0) page.dataFrames.dataDrawn();
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
      if (model.peers.size > 0) page.dataFrames.dataDrawn();
      return;
    }
    case 'peerDetail':
      if (message.sessionId !== model.sessionId) return;
      applyDetail(message.peerDetail);
      schedule();
      page.dataFrames.dataDrawn();
      return;
    case 'sessions':
      model.sessions = [...message.sessions];
      dirty.header = true;
      schedule();
      return;
  }
}

/** Draws what is pending and reports it; `timeUpdates` starts or ends the timing of updates (RenderReportRequest). */
function answerRenderReport(request: RenderReportRequest): P2pRenderReport {
  render();
  // An update drawn here, outside an animation frame, is not timed.
  updateTiming.handlerMs = 0;
  updateTiming.waiting = false;
  const report = renderReport();
  if (request.timeUpdates === true) updateTiming.timings ??= [];
  else if (request.timeUpdates === false) updateTiming.timings = null;
  return report;
}

// ---------- formats ----------

const integer = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 });
const oneDecimal = new Intl.NumberFormat('en-US', { maximumFractionDigits: 1 });

function formatGap(ns: number): string {
  if (ns < 1e3) return `+${integer.format(ns)} ns`;
  if (ns < 1e6) return `+${oneDecimal.format(ns / 1e3)} µs`;
  if (ns < 1e9) return `+${oneDecimal.format(ns / 1e6)} ms`;
  return `+${oneDecimal.format(ns / 1e9)} s`;
}

// ---------- layout ----------

const app = document.getElementById('app') ?? document.body;
app.textContent = '';

const header = new SessionHeader(
  (sessionId) => {
    saveUi({ sessionId, selectedPeerId: null });
    peerChosen = false;
    page.post({ type: 'selectSession', sessionId });
  },
  {
    ignoredAs: 'note',
    onSelectNode: (nodeKey) => page.post({ type: 'selectNode', nodeKey }),
    onNodes: () => {
      dirty.peers = true;
      dirty.header = true;
      schedule();
    },
    onKernelFilter: (sessionId) => page.post({ type: 'filterInKernel', sessionId }),
  },
);
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
const rateCharts = new RateCharts(charts);

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

/** A sort the header offers: a whole column's, or one half of a merged in/out column. */
interface SortSpec {
  readonly column: SortColumn;
  readonly label: string;
  readonly tooltip: string;
}
/**
 * The peer table's columns, compact so that the table fits the panel beside the source at 1600×1000: messages and
 * bytes each one "in / out" column (as the connections panel's In/out), short headers with the meaning in a tooltip.
 */
interface ColumnSpec {
  readonly key: string;
  readonly title: string;
  readonly numeric: boolean;
  readonly tooltip: string;
  /** One sort (the header sorts), or the in and out halves of a merged column (each sorts). */
  readonly sorts: readonly SortSpec[];
}
const COLUMNS: readonly ColumnSpec[] = [
  { key: 'id', title: 'Id', numeric: true, tooltip: 'Peer id (Bitcoin Core)', sorts: [{ column: 'id', label: 'Id', tooltip: 'Peer id (Bitcoin Core)' }] },
  { key: 'connType', title: 'Type', numeric: false, tooltip: 'Connection type', sorts: [{ column: 'connType', label: 'Type', tooltip: 'Connection type' }] },
  { key: 'addr', title: 'Address', numeric: false, tooltip: 'Address:port', sorts: [{ column: 'addr', label: 'Address', tooltip: 'Address:port' }] },
  {
    key: 'msgs',
    title: 'Msgs',
    numeric: true,
    tooltip: 'Messages received from / sent to the peer',
    sorts: [
      { column: 'msgsIn', label: 'in', tooltip: 'Messages received from the peer (sort)' },
      { column: 'msgsOut', label: 'out', tooltip: 'Messages sent to the peer (sort)' },
    ],
  },
  {
    key: 'bytes',
    title: 'Bytes',
    numeric: true,
    tooltip: 'Bytes received from / sent to the peer',
    sorts: [
      { column: 'bytesIn', label: 'in', tooltip: 'Bytes received from the peer (sort)' },
      { column: 'bytesOut', label: 'out', tooltip: 'Bytes sent to the peer (sort)' },
    ],
  },
  {
    key: 'lastActivity',
    title: 'Last',
    numeric: true,
    tooltip: 'Time of the latest message, since the session started',
    sorts: [{ column: 'lastActivity', label: 'Last', tooltip: 'Time of the latest message, since the session started' }],
  },
];

const peerTable = el('table', 'data-table peer-table');
const peerHead = el('thead');
const peerHeadRow = el('tr');
/** Per sort column: the element that sorts by it (a header cell, or the in/out half inside one) and its cell. */
const sortTargets = new Map<SortColumn, { readonly target: HTMLElement; readonly th: HTMLTableCellElement }>();
function sortable(target: HTMLElement, column: SortColumn): void {
  target.tabIndex = 0;
  target.addEventListener('click', () => setSort(column));
  target.addEventListener('keydown', (event) => {
    if (event.key === 'Enter' || event.key === ' ') {
      event.preventDefault();
      setSort(column);
    }
  });
}
for (const spec of COLUMNS) {
  const th = el('th', `${spec.numeric ? 'numeric ' : ''}col-${spec.key}`);
  th.title = spec.tooltip;
  if (spec.sorts.length === 1) {
    const [sort] = spec.sorts;
    th.classList.add('sortable');
    th.append(el('span', undefined, spec.title), el('span', 'sort-mark'));
    sortable(th, sort.column);
    sortTargets.set(sort.column, { target: th, th });
  } else {
    th.append(document.createTextNode(`${spec.title} `));
    spec.sorts.forEach((sort, index) => {
      const half = el('span', 'sortable sort-half');
      half.title = sort.tooltip;
      half.setAttribute('role', 'button');
      half.append(el('span', undefined, sort.label), el('span', 'sort-mark'));
      sortable(half, sort.column);
      sortTargets.set(sort.column, { target: half, th });
      if (index > 0) th.append(document.createTextNode(' / '));
      th.append(half);
    });
  }
  peerHeadRow.append(th);
}
peerHead.append(peerHeadRow);
const peerBody = el('tbody');
peerTable.append(peerHead, peerBody);
const peerTableWrap = el('div', 'table-wrap peers-wrap');
peerTableWrap.append(peerTable);
/** Under a kernel filter: what the table counts and what the message list shows. */
const kernelFilterNote = el('p', 'kernel-filter-note');
kernelFilterNote.hidden = true;
peersSection.append(peersHeading, kernelFilterNote, peerTableWrap);

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
const comparison = new ComparisonView((message) => page.post(message));
app.append(header.toolbar, header.notesBar, comparison.element, emptyState, content);

// ---------- interaction ----------

function setSort(column: SortColumn): void {
  const descending = page.ui.sortColumn === column ? !page.ui.sortDescending : column !== 'addr' && column !== 'connType' && column !== 'id';
  saveUi({ sortColumn: column, sortDescending: descending });
  dirty.peers = true;
  schedule();
}

filterInput.value = page.ui.filterText;
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

function selectPeer(peerId: string): void {
  peerChosen = true;
  if (page.ui.selectedPeerId === peerId) return;
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
  if (dirty.charts) rateCharts.update(model.rates);
  dirty.header = dirty.peers = dirty.types = dirty.messages = dirty.charts = false;
  // Last, after every DOM write of the frame: one layout instead of one per read.
  if (scrollMessagesToBottom) {
    scrollMessagesToBottom = false;
    messageList.scrollTop = messageList.scrollHeight;
  }
}

function renderHeader(): void {
  header.update(model.sessions, model.sessionId, model.session, model.counters);
  renderKernelFilterNote();
  const counters = model.counters;
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
  const needle = page.ui.filterText.trim().toLowerCase();
  const rows: PeerRow[] = [];
  for (const peer of model.peers.values()) {
    if (page.ui.connTypeFilter && peer.connType !== page.ui.connTypeFilter) continue;
    if (needle && !peer.addr.toLowerCase().includes(needle) && !peer.connType.toLowerCase().includes(needle) && !peer.id.includes(needle)) continue;
    rows.push(peer);
  }
  const direction = page.ui.sortDescending ? -1 : 1;
  rows.sort((a, b) => direction * compareRows(a, b, page.ui.sortColumn) || compareRows(a, b, 'id'));
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
    if (nodeColumn.shown) row.append(nodeColumn.cellOf(row));
    for (const spec of COLUMNS) row.append(el('td', `${spec.numeric ? 'numeric ' : ''}col-${spec.key}`));
    peerRows[index] = row;
  }
  return row;
}

// The Node column (all nodes of a session over every process of a build): first, present only while shown.
const nodeColumn = new NodeColumn('col-node', 'The node (datadir) whose peer this is; a restart is the same node');

/** A peer's id as Bitcoin Core numbers it (the key of a session over every process is `pid:id`). */
function peerIdText(id: string): string {
  const colon = id.indexOf(':');
  return colon < 0 ? id : id.slice(colon + 1);
}

/**
 * A session filtered in the kernel: p2p-traffic's probe then counts every message per peer in the kernel
 * (`p2p:peer_totals`), while only the filtered messages arrive. Recordings made before it counted only those.
 */
function renderKernelFilterNote(): void {
  const filter = model.session?.kernelFilter ?? null;
  kernelFilterNote.hidden = filter === null;
  if (filter === null) return;
  const overAll = [...model.peers.values()].some((p) => p.kernelTotals);
  setUntrustedText(
    kernelFilterNote,
    overAll
      ? `Filtered in the kernel (${filter}): the peers, their totals and Received/Sent count every message, filtered out or not (counted in the kernel); the message list and the message types show only the messages that passed the filter.`
      : `Filtered in the kernel (${filter}): only the messages that passed the filter are shown and counted.`,
  );
}

function renderPeers(): void {
  nodeColumn.show(header.nodes.showNodeColumn, peerHeadRow, peerRows);
  // Connection type choices.
  const connTypes = [...new Set([...model.peers.values()].map((p) => p.connType))].sort();
  if (page.ui.connTypeFilter && !connTypes.includes(page.ui.connTypeFilter)) connTypes.push(page.ui.connTypeFilter);
  const wanted = connTypes.join('\u0001');
  if (connTypeSelect.dataset.shown !== wanted) {
    connTypeSelect.dataset.shown = wanted;
    connTypeSelect.textContent = '';
    connTypeSelect.append(el('option', undefined, 'All connection types'));
    (connTypeSelect.firstChild as HTMLOptionElement).value = '';
    for (const type of connTypes) {
      const option = el('option');
      option.value = type;
      option.textContent = visibleText(type);
      connTypeSelect.append(option);
    }
  }
  connTypeSelect.value = page.ui.connTypeFilter;
  if (filterInput.value !== page.ui.filterText && document.activeElement !== filterInput) filterInput.value = page.ui.filterText;

  for (const th of peerHeadRow.querySelectorAll('th')) th.setAttribute('aria-sort', 'none');
  for (const [column, { target, th }] of sortTargets) {
    const active = column === page.ui.sortColumn;
    if (active) th.setAttribute('aria-sort', page.ui.sortDescending ? 'descending' : 'ascending');
    setText(target.lastElementChild as Element, active ? (page.ui.sortDescending ? ' ▼' : ' ▲') : '');
  }

  const rows = visiblePeers();
  const shown = Math.min(rows.length, MAX_PEER_ROWS);
  // Nothing chosen yet: show the top (by default the busiest) peer's messages rather than an empty pane, following
  // it until the user chooses.
  if (!peerChosen && rows.length > 0 && page.ui.selectedPeerId !== rows[0].id) {
    model.detail = null;
    saveUi({ selectedPeerId: rows[0].id });
    dirty.messages = true;
  }
  const filtered = page.ui.filterText.trim() !== '' || page.ui.connTypeFilter !== '';
  setText(peerCount, filtered ? `${formatCount(rows.length)} of ${countOf(model.peers.size, 'peer', 'peers')}` : countOf(model.peers.size, 'peer', 'peers'));

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
    row.classList.toggle('selected', peer.id === page.ui.selectedPeerId);
    row.setAttribute('aria-selected', String(peer.id === page.ui.selectedPeerId));
    const cells = row.cells;
    const c = nodeColumn.shown ? 1 : 0;
    if (nodeColumn.shown) setUntrustedText(cells[0], header.nodes.nodeOfPid(peer.pid));
    setText(cells[c], peerIdText(peer.id));
    setConnectionType(cells[c + 1], peer.connType);
    if (peer.addr === '' && peer.kernelTotals && model.session?.kernelFilter) {
      setText(cells[c + 2], '—');
      cells[c + 2].title = 'Not known: none of its messages passed the kernel filter (the kernel counts every peer, without its address)';
    } else setUntrustedText(cells[c + 2], peer.addr);
    setText(cells[c + 3], `${formatCount(peer.msgsIn)} / ${formatCount(peer.msgsOut)}`);
    setText(cells[c + 4], `${formatBytes(peer.bytesIn)} / ${formatBytes(peer.bytesOut)}`);
    setText(cells[c + 5], formatSessionTime(peer.lastActivityNs));
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
  const selected = page.ui.selectedPeerId;
  const peer = selected !== null ? model.peers.get(selected) : undefined;
  messagesHeading.textContent = '';
  if (selected === null) {
    messagesHeading.textContent = 'Recent messages';
    peerTypesLine.textContent = '';
    messageList.textContent = '';
    messageList.append(el('div', 'hint', 'Select a peer to see its recent messages in time order.'));
    return;
  }
  const ofNode = peer && header.nodes.showNodeColumn ? ` of ${visibleText(header.nodes.nodeOfPid(peer.pid))}` : '';
  messagesHeading.append(document.createTextNode(`Recent messages — peer ${peerIdText(selected)}${ofNode} `));
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

// Theme change: VS Code swaps the body class; rebuild the charts with the new colors.
onThemeChange(() => {
  rateCharts.rebuild();
  comparison.rebuildCharts();
});

// ---------- render report (integration tests) ----------

/** How far the peer table's last column reaches past what its box (and the panel) shows: 0 when every column is in view. */
function peerTableCutPx(): number {
  const last = peerHeadRow.lastElementChild;
  if (!last) return 0;
  const box = peerTableWrap.getBoundingClientRect();
  const visibleRight = Math.min(box.left + peerTableWrap.clientLeft + peerTableWrap.clientWidth, document.documentElement.clientWidth);
  return Math.max(0, Math.ceil(last.getBoundingClientRect().right - visibleRight));
}

function renderReport(): P2pRenderReport {
  const displayed = visibleText;
  return {
    sessionId: model.sessionId,
    sessionState: header.stateText,
    kernelFilterShown: header.kernelFilterShown,
    comparison: comparison.report(),
    nodes: header.nodes.report(),
    peerRowCount: tableRows.length,
    peerTableCutPx: peerTableCutPx(),
    totalPeers: model.peers.size,
    firstRows: tableRows.slice(0, 10).map((peer) => ({
      id: peerIdText(peer.id),
      connType: displayed(peer.connType),
      addr: displayed(peer.addr),
      msgsIn: peer.msgsIn,
      bytesIn: peer.bytesIn,
      msgsOut: peer.msgsOut,
      bytesOut: peer.bytesOut,
      ...(nodeColumn.shown ? { node: displayed(header.nodes.nodeOfPid(peer.pid)) } : {}),
    })),
    selectedPeerId: page.ui.selectedPeerId,
    messageRowCount: messageList.querySelectorAll('.message').length,
    firstMessageTypes: [...messageList.querySelectorAll('.message .msg-type')].slice(0, 10).map((e) => e.textContent ?? ''),
    messageTypeRowCount: typesBody.querySelectorAll('td.type-name').length,
    lostText: header.lostCounter.textContent ?? '',
    truncatedText: header.cutCounter.textContent ?? '',
    lostAlarm: header.lossBanner.classList.contains('alarm'),
    receivedText: summaryItems.msgsIn.textContent ?? '',
    sentText: summaryItems.msgsOut.textContent ?? '',
    kernelFilterNote: kernelFilterNote.hidden ? '' : (kernelFilterNote.textContent ?? ''),
    chartCanvasCount: charts.querySelectorAll('canvas').length,
    ...activeElementCounts(app),
    dataFrames: page.dataFrames.times(),
    updateTimings: updateTiming.timings ? [...updateTiming.timings] : undefined,
  };
}

// ---------- start ----------

render();
page.start((message) => {
  if (updateTiming.timings && (message.type === 'delta' || message.type === 'peerDetail')) {
    const start = performance.now();
    handleMessage(message);
    updateTiming.handlerMs += performance.now() - start;
    updateTiming.waiting = frameRequested; // the frame that will draw it (none for another session's delta)
  } else {
    handleMessage(message);
  }
}, { report: answerRenderReport, parts: [header, comparison] });

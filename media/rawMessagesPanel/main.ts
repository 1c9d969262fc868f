// The Raw P2P messages panel (webview). Everything it shows arrives by postMessage; strings from peers and
// message bytes go into the DOM only as text. The list and the hex view are virtualized: only the rows in
// view exist as elements, whatever the number of messages or the size of a message (up to 4 MB).
import './styles.css';
import {
  HEX_BYTES_PER_ROW,
  MAX_LIST_WINDOW,
  RAW_PAGE,
  type DecodedNode,
  type RawMessageRow,
  type RawRenderReport,
  type RawSummary,
  type RawUiState,
  type SelectedMessage,
  type SessionChoice,
  type ToWebview,
} from '../../src/shared/rawMessagesProtocol';
import { contrastRatio } from '../../src/shared/colorContrast';
import { activeElementCounts, countOf, el, formatBytes, formatSessionTime, setUntrustedText, visibleText } from '../shared/dom';
import { onThemeChange, PageConnection } from '../shared/pageConnection';
import { ComparisonView } from '../shared/comparisonView';
import { KernelFilterButton, liveSessionStarting, SessionPicker } from '../shared/sessionHeader';

const page = new PageConnection(RAW_PAGE);

const LIST_ROW_HEIGHT = 22;
const HEX_ROW_HEIGHT = 18;
const HEX_PAGE_BYTES = 4_096;
const HEX_CACHE_PAGES = 64;
/** Rows fetched around the visible ones. */
const LIST_FETCH = 300;
/** Browsers cap element heights (~33M px in Chromium); beyond this the scroll position is scaled. */
const MAX_SPACER_PX = 15_000_000;

// ---------- model ----------

const model = {
  sessions: [] as SessionChoice[],
  sessionId: null as string | null,
  summary: null as RawSummary | null,
  matching: 0,
  /** The last list window received. */
  listStart: 0,
  listRows: [] as RawMessageRow[],
  selected: null as SelectedMessage | null,
  hexPages: new Map<number, Uint8Array>(),
  hexPending: new Set<number>(),
};

let nextListRequest = 1;
let latestListRequest = 0;
let listRequestedRange: { start: number; count: number } | null = null;

function saveUi(next: Partial<RawUiState>): void {
  page.saveUi(next, (uiState) => ({ type: 'uiState', uiState }));
}

const integer = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 });

// ---------- layout ----------

const app = document.getElementById('app') ?? document.body;
app.textContent = '';

const toolbar = el('header', 'toolbar');
const sessionPicker = new SessionPicker((sessionId) => page.post({ type: 'selectSession', sessionId }));
const sessionState = el('span', 'session-state');
const kernelFilter = new KernelFilterButton((sessionId) => page.post({ type: 'filterInKernel', sessionId }));
const lossBanner = el('div', 'loss-banner');
lossBanner.setAttribute('role', 'status');
const lostCounter = el('span', 'counter lost');
lostCounter.title = 'Messages that fired in bitcoind but never reached the panel (ring buffer full)';
const droppedCounter = el('span', 'counter dropped');
droppedCounter.title = 'Oldest messages dropped to keep the memory bound';
const cutCounter = el('span', 'counter cut');
cutCounter.title = 'Messages whose bytes arrived cut (captured < size)';
lossBanner.append(lostCounter, droppedCounter, cutCounter);
toolbar.append(sessionPicker.element, sessionState, kernelFilter.element, el('span', 'spacer'), lossBanner);

const notesBar = el('div', 'notes');
const emptyState = el('div', 'empty-state');
emptyState.append(
  el('p', 'empty-title', 'No raw P2P messages yet'),
  el('p', undefined, 'Start the raw-p2p-msgs probe (Bitcoin USDT: Start probe…), or open a recording of one (Bitcoin USDT: Open recording…).'),
);

const filterBar = el('div', 'filter-bar');
const directionSelect = el('select');
directionSelect.setAttribute('aria-label', 'Direction');
for (const [value, label] of [['', 'Both directions'], ['in', '← Received'], ['out', '→ Sent']] as const) {
  const option = el('option', undefined, label);
  option.value = value;
  directionSelect.append(option);
}
const typeSelect = el('select');
typeSelect.setAttribute('aria-label', 'Message type');
const peerSelect = el('select');
peerSelect.setAttribute('aria-label', 'Peer');
const filterInput = el('input');
filterInput.type = 'search';
filterInput.placeholder = 'Filter: type, address, connection type or id';
filterInput.setAttribute('aria-label', 'Filter messages by text');
filterInput.spellcheck = false;
const followLabel = el('label', 'follow');
const followBox = el('input');
followBox.type = 'checkbox';
followLabel.append(followBox, document.createTextNode(' Follow newest'));
const matchCount = el('span', 'match-count');
filterBar.append(directionSelect, typeSelect, peerSelect, filterInput, followLabel, matchCount);

const listSection = el('section', 'list-section');
const listHeader = el('div', 'list-row list-header');
const LIST_COLUMNS = [
  ['time', 'Time'],
  ['dir', ''],
  ['peer', 'Peer'],
  ['type', 'Type'],
  ['size', 'Size'],
  ['cut', ''],
] as const;
for (const [name, title] of LIST_COLUMNS) listHeader.append(el('span', `c-${name}`, title));
/** A virtualized scroll area: a spacer as tall as all its rows, the host of the rows in view, and a hint while there are none. */
function virtualScroll(className: string): { scroll: HTMLDivElement; spacer: HTMLDivElement; rowsHost: HTMLDivElement; empty: HTMLDivElement } {
  const scroll = el('div', className);
  scroll.tabIndex = 0;
  const parts = { scroll, spacer: el('div', 'spacer-block'), rowsHost: el('div', 'rows-host'), empty: el('div', 'hint') };
  scroll.append(parts.spacer, parts.rowsHost, parts.empty);
  return parts;
}

const { scroll: listScroll, spacer: listSpacer, rowsHost: listRowsHost, empty: listEmpty } = virtualScroll('list-scroll');
listScroll.setAttribute('role', 'listbox');
listScroll.setAttribute('aria-label', 'Messages');
listSection.append(listHeader, listScroll);

const detail = el('div', 'detail');
const hexSection = el('section', 'hex-section');
const hexHeading = el('h2', undefined, 'Bytes');
const { scroll: hexScroll, spacer: hexSpacer, rowsHost: hexRowsHost, empty: hexEmpty } = virtualScroll('hex-scroll');
hexSection.append(hexHeading, hexScroll);

const decodedSection = el('section', 'decoded-section');
const decodedHeading = el('h2', undefined, 'Decoded');
const decodedBanner = el('div', 'decoded-banner');
decodedBanner.setAttribute('role', 'status');
const decodedSummary = el('div', 'decoded-summary');
const decodedTree = el('div', 'tree');
decodedTree.setAttribute('role', 'tree');
decodedSection.append(decodedHeading, decodedBanner, decodedSummary, decodedTree);
detail.append(hexSection, decodedSection);

const content = el('div', 'content');
content.append(filterBar, listSection, detail);
const comparison = new ComparisonView((message) => page.post(message));
app.append(toolbar, notesBar, comparison.element, emptyState, content);
onThemeChange(() => comparison.rebuildCharts());

// ---------- interaction ----------

directionSelect.addEventListener('change', () => {
  const value = directionSelect.value;
  setFilter({ direction: value === 'in' || value === 'out' ? value : '' });
});
typeSelect.addEventListener('change', () => setFilter({ msgType: typeSelect.value }));
peerSelect.addEventListener('change', () => setFilter({ peerId: peerSelect.value }));
let filterTimer: number | undefined;
filterInput.addEventListener('input', () => {
  window.clearTimeout(filterTimer);
  filterTimer = window.setTimeout(() => setFilter({ text: filterInput.value }), 200);
});
followBox.addEventListener('change', () => {
  saveUi({ follow: followBox.checked });
  if (page.ui.follow) requestList(true);
});

function setFilter(change: Partial<RawUiState['filter']>): void {
  saveUi({ filter: { ...page.ui.filter, ...change } });
  model.listRows = [];
  listRequestedRange = null;
  // The host answers with a summary holding the new match count; the list is fetched then.
}

let scrollRequested = false;
let programmaticScrollTop = -1;

function scrollListToEnd(): void {
  listScroll.scrollTop = listScroll.scrollHeight;
  programmaticScrollTop = listScroll.scrollTop;
}

listScroll.addEventListener('scroll', () => {
  if (scrollRequested) return;
  scrollRequested = true;
  requestAnimationFrame(() => {
    scrollRequested = false;
    const atBottom = listScroll.scrollTop + listScroll.clientHeight >= listScroll.scrollHeight - LIST_ROW_HEIGHT;
    // Only a scroll by the user (not our own follow scrolling) turns following on or off.
    const byUser = Math.abs(listScroll.scrollTop - programmaticScrollTop) > 1;
    if (byUser && page.ui.follow !== atBottom) saveUi({ follow: atBottom });
    renderList();
  });
});
listScroll.addEventListener('keydown', (event) => {
  if (event.key !== 'ArrowDown' && event.key !== 'ArrowUp') return;
  event.preventDefault();
  const index = model.listRows.findIndex((r) => r.seq === page.ui.selectedSeq);
  const next = model.listRows[index + (event.key === 'ArrowDown' ? 1 : -1)];
  if (next) selectMessage(next.seq);
});

let hexScrollRequested = false;
hexScroll.addEventListener('scroll', () => {
  if (hexScrollRequested) return;
  hexScrollRequested = true;
  requestAnimationFrame(() => {
    hexScrollRequested = false;
    renderHex();
  });
});

function selectMessage(seq: number): void {
  if (page.ui.selectedSeq === seq) return;
  saveUi({ selectedSeq: seq, follow: false });
  model.selected = null;
  model.hexPages.clear();
  model.hexPending.clear();
  hexScroll.scrollTop = 0;
  renderList();
  renderDetail();
}

// ---------- list (virtualized) ----------

/** Spacer height and the factor from scroll pixels to row positions (1 unless the list is huge). */
function listGeometry(): { height: number; scale: number } {
  const natural = model.matching * LIST_ROW_HEIGHT;
  return natural > MAX_SPACER_PX ? { height: MAX_SPACER_PX, scale: natural / MAX_SPACER_PX } : { height: natural, scale: 1 };
}

function visibleListRange(): { first: number; count: number } {
  const { scale } = listGeometry();
  const first = Math.max(0, Math.floor((listScroll.scrollTop * scale) / LIST_ROW_HEIGHT));
  const count = Math.ceil(listScroll.clientHeight / LIST_ROW_HEIGHT) + 2;
  return { first, count: Math.max(1, Math.min(count, model.matching - first)) };
}

/** Brings row `index` of the matching list into view (when it is not already). */
function scrollListTo(index: number): void {
  const { scale } = listGeometry();
  const top = (index * LIST_ROW_HEIGHT) / scale;
  if (top >= listScroll.scrollTop && top + LIST_ROW_HEIGHT <= listScroll.scrollTop + listScroll.clientHeight) return;
  listScroll.scrollTop = Math.max(0, top - listScroll.clientHeight / 3);
  programmaticScrollTop = listScroll.scrollTop;
}

function requestList(newest: boolean): void {
  if (model.sessionId === null) return;
  let start: number;
  if (newest) start = -1;
  else {
    const { first, count } = visibleListRange();
    start = Math.max(0, first - Math.floor((LIST_FETCH - count) / 2));
  }
  const count = Math.min(LIST_FETCH, MAX_LIST_WINDOW);
  listRequestedRange = { start, count };
  latestListRequest = nextListRequest++;
  page.post({ type: 'requestListWindow', requestId: latestListRequest, start, count });
}

const listRowPool: HTMLDivElement[] = [];
const rowSeq = new WeakMap<HTMLElement, number>();

function listRowElement(index: number): HTMLDivElement {
  let row = listRowPool[index];
  if (!row) {
    row = el('div', 'list-row');
    row.setAttribute('role', 'option');
    for (const [name] of LIST_COLUMNS) row.append(el('span', `c-${name}`));
    row.addEventListener('click', () => {
      const seq = rowSeq.get(row as HTMLDivElement);
      if (seq !== undefined) selectMessage(seq);
    });
    listRowPool[index] = row;
  }
  return row;
}

function renderList(): void {
  const { height, scale } = listGeometry();
  listSpacer.style.height = `${height}px`;
  listEmpty.hidden = model.matching > 0;
  listEmpty.textContent = model.summary && model.summary.counters.messagesKept > 0 ? 'No message matches the filter.' : 'No messages yet.';
  if (page.ui.follow && model.matching > 0) scrollListToEnd();
  const { first, count } = visibleListRange();
  const cacheEnd = model.listStart + model.listRows.length;
  const needed = model.matching > 0 && (first < model.listStart || first + count > cacheEnd) && (model.listRows.length === 0 || first + count <= model.matching);
  if (needed && !listRequestedRangeCovers(first, count)) requestList(page.ui.follow);
  let shown = 0;
  for (let i = first; i < first + count; i++) {
    const row = model.listRows[i - model.listStart];
    if (!row) continue;
    const element = listRowElement(shown++);
    element.style.top = `${(i * LIST_ROW_HEIGHT) / scale}px`;
    fillListRow(element, row);
    if (element.parentElement !== listRowsHost) listRowsHost.append(element);
  }
  for (let i = shown; i < listRowPool.length; i++) listRowPool[i].remove();
}

function listRequestedRangeCovers(first: number, count: number): boolean {
  if (!listRequestedRange) return false;
  if (listRequestedRange.start < 0) return page.ui.follow;
  return first >= listRequestedRange.start && first + count <= listRequestedRange.start + listRequestedRange.count;
}

function fillListRow(element: HTMLDivElement, row: RawMessageRow): void {
  rowSeq.set(element, row.seq);
  const cells = element.children as HTMLCollectionOf<HTMLElement>;
  element.classList.toggle('selected', row.seq === page.ui.selectedSeq);
  element.classList.toggle('in', row.direction === 'in');
  element.classList.toggle('out', row.direction === 'out');
  element.setAttribute('aria-selected', String(row.seq === page.ui.selectedSeq));
  cells[0].textContent = formatSessionTime(row.elapsedNs);
  cells[1].textContent = row.direction === 'in' ? '←' : '→';
  cells[1].title = row.direction === 'in' ? 'received from the peer' : 'sent to the peer';
  cells[2].textContent = '';
  cells[2].append(el('span', 'peer-id', row.peerId));
  const addr = el('span', 'peer-addr');
  setUntrustedText(addr, row.peerAddr);
  cells[2].append(addr);
  setUntrustedText(cells[3], row.msgType);
  cells[4].textContent = formatBytes(row.size);
  // Only cut messages have fewer bytes than their size: the flag says how many arrived (no column that is always empty).
  cells[5].textContent = '';
  if (row.cut) cells[5].append(el('span', 'flag', 'cut'), el('span', 'captured', formatBytes(row.captured)));
  cells[5].title = row.cut ? `only ${integer.format(row.captured)} of ${integer.format(row.size)} bytes were captured` : '';
}

// ---------- hex view (virtualized, paged) ----------

function hexTotalRows(): number {
  const selected = model.selected;
  return selected && selected.available ? Math.ceil(selected.row.captured / HEX_BYTES_PER_ROW) : 0;
}

function requestHexPage(hexPage: number): void {
  const selected = model.selected;
  if (!selected || model.hexPending.has(hexPage) || model.hexPages.has(hexPage)) return;
  model.hexPending.add(hexPage);
  page.post({ type: 'requestHexRange', seq: selected.row.seq, offset: hexPage * HEX_PAGE_BYTES, length: HEX_PAGE_BYTES });
}

function hexBytesOf(text: string): Uint8Array {
  const bytes = new Uint8Array(text.length >> 1);
  for (let i = 0; i < bytes.length; i++) bytes[i] = parseInt(text.substr(i * 2, 2), 16);
  return bytes;
}

const hexRowPool: HTMLDivElement[] = [];

function hexRowElement(index: number): HTMLDivElement {
  let row = hexRowPool[index];
  if (!row) {
    row = el('div', 'hex-row');
    row.append(el('span', 'hex-offset'), el('span', 'hex-bytes'), el('span', 'hex-ascii'));
    hexRowPool[index] = row;
  }
  return row;
}

function hexPair(byte: number): string {
  return byte.toString(16).padStart(2, '0');
}

function renderHex(): void {
  const selected = model.selected;
  const total = hexTotalRows();
  hexSpacer.style.height = `${total * HEX_ROW_HEIGHT}px`;
  hexEmpty.hidden = total > 0;
  if (!selected) hexEmpty.textContent = 'Select a message to see its bytes.';
  else if (!selected.available) hexEmpty.textContent = 'The bytes of this message were dropped to stay within the memory bound.';
  else hexEmpty.textContent = selected.row.size === 0 ? 'No payload (0 bytes).' : 'No bytes were captured for this message.';
  hexHeading.textContent = selected
    ? `Bytes — ${integer.format(selected.row.captured)}${selected.row.cut ? ` of ${integer.format(selected.row.size)} (cut)` : ''}`
    : 'Bytes';
  const first = Math.max(0, Math.floor(hexScroll.scrollTop / HEX_ROW_HEIGHT));
  const count = Math.min(total - first, Math.ceil(hexScroll.clientHeight / HEX_ROW_HEIGHT) + 2);
  let shown = 0;
  for (let rowIndex = first; rowIndex < first + count; rowIndex++) {
    const offset = rowIndex * HEX_BYTES_PER_ROW;
    const hexPage = Math.floor(offset / HEX_PAGE_BYTES);
    const data = model.hexPages.get(hexPage);
    const element = hexRowElement(shown++);
    element.style.top = `${rowIndex * HEX_ROW_HEIGHT}px`;
    const [offsetCell, bytesCell, asciiCell] = element.children as HTMLCollectionOf<HTMLElement>;
    offsetCell.textContent = offset.toString(16).padStart(8, '0');
    if (!data) {
      requestHexPage(hexPage);
      bytesCell.textContent = '…';
      asciiCell.textContent = '';
    } else {
      const start = offset - hexPage * HEX_PAGE_BYTES;
      const end = Math.min(start + HEX_BYTES_PER_ROW, data.length);
      let hex = '';
      let ascii = '';
      for (let i = start; i < end; i++) {
        const byte = data[i];
        hex += (i === start ? '' : i - start === 8 ? '  ' : ' ') + hexPair(byte);
        ascii += byte >= 0x20 && byte < 0x7f ? String.fromCharCode(byte) : '.';
      }
      bytesCell.textContent = hex;
      asciiCell.textContent = ascii;
    }
    if (element.parentElement !== hexRowsHost) hexRowsHost.append(element);
  }
  for (let i = shown; i < hexRowPool.length; i++) hexRowPool[i].remove();
}

// ---------- decoded tree (children built on expand) ----------

function treeNode(nodeData: DecodedNode, depth: number, expanded: boolean): HTMLElement {
  const item = el('div', 'tree-item');
  item.setAttribute('role', 'treeitem');
  const line = el('div', 'tree-line');
  line.style.paddingLeft = `${depth * 14}px`;
  const toggle = el('span', 'tree-toggle');
  const name = el('span', 'tree-name');
  setUntrustedText(name, nodeData.name);
  const value = el('span', 'tree-value');
  setUntrustedText(value, nodeData.value);
  line.append(toggle, name, value);
  item.append(line);
  const children = nodeData.children ?? [];
  if (children.length === 0) {
    toggle.textContent = '';
    return item;
  }
  const childHost = el('div', 'tree-children');
  let built = false;
  const setExpanded = (open: boolean): void => {
    if (open && !built) {
      built = true;
      for (const child of children) childHost.append(treeNode(child, depth + 1, false));
    }
    childHost.hidden = !open;
    toggle.textContent = open ? '▾' : '▸';
    item.setAttribute('aria-expanded', String(open));
  };
  line.classList.add('expandable');
  line.tabIndex = 0;
  line.addEventListener('click', () => setExpanded(childHost.hidden));
  line.addEventListener('keydown', (event) => {
    if (event.key === 'Enter' || event.key === ' ') {
      event.preventDefault();
      setExpanded(childHost.hidden);
    }
  });
  childHost.hidden = true;
  item.append(childHost);
  setExpanded(expanded);
  return item;
}

function renderDecoded(): void {
  const selected = model.selected;
  decodedTree.textContent = '';
  decodedBanner.textContent = '';
  decodedBanner.className = 'decoded-banner';
  decodedSummary.textContent = '';
  if (!selected) {
    decodedHeading.textContent = 'Decoded';
    decodedSummary.append(el('span', 'hint', 'Select a message to decode it.'));
    return;
  }
  decodedHeading.textContent = '';
  decodedHeading.append(document.createTextNode(`Decoded — #${selected.row.seq} `));
  const typeName = el('span', 'heading-type');
  setUntrustedText(typeName, selected.row.msgType);
  decodedHeading.append(typeName);
  const decoded = selected.decoded;
  if (!decoded) {
    decodedBanner.classList.add('error');
    decodedBanner.textContent = 'The message is no longer held (dropped to stay within the memory bound).';
    return;
  }
  const banners: { level: 'error' | 'warning' | 'info'; text: string }[] = [];
  if (decoded.status === 'cannot-decode' && decoded.reason) banners.push({ level: 'error', text: decoded.reason });
  if (decoded.status === 'partial' && decoded.reason) banners.push({ level: 'warning', text: `Cut message: ${decoded.reason}` });
  if (decoded.status === 'not-supported') banners.push({ level: 'info', text: `Not decoded: ${decoded.reason ?? 'no decoder for this message type'}` });
  if (decoded.status === 'no-bytes') banners.push({ level: 'error', text: decoded.reason ?? 'no bytes' });
  for (const warning of decoded.warnings) banners.push({ level: 'warning', text: warning });
  for (const banner of banners) {
    const line = el('div', `banner-line ${banner.level}`);
    setUntrustedText(line, banner.text);
    decodedBanner.append(line);
  }
  decodedBanner.hidden = banners.length === 0;
  if (decoded.summary) setUntrustedText(decodedSummary, decoded.summary);
  const small = decoded.fields.length <= 40;
  for (const field of decoded.fields) decodedTree.append(treeNode(field, 0, small && (field.children?.length ?? 0) <= 12));
}

function renderDetail(): void {
  renderHex();
  renderDecoded();
}

// ---------- header, filters ----------

function fillSelect(select: HTMLSelectElement, allLabel: string, options: readonly { value: string; label: string }[], value: string): void {
  const key = options.map((o) => `${o.value}\u0001${o.label}`).join('\u0002');
  if (select.dataset.key !== key) {
    select.dataset.key = key;
    select.textContent = '';
    const all = el('option', undefined, allLabel);
    all.value = '';
    select.append(all);
    for (const option of options) {
      const element = el('option', undefined, option.label);
      element.value = option.value;
      select.append(element);
    }
  }
  select.value = value;
}

function renderHeader(): void {
  const current = model.sessions.find((s) => s.id === model.sessionId);
  sessionPicker.update(model.sessions, model.sessionId);
  emptyState.hidden = model.sessionId !== null;
  content.hidden = model.sessionId === null;
  const summary = model.summary;
  kernelFilter.update(current, summary?.session.ended ?? false);
  sessionState.className = 'session-state';
  const starting = liveSessionStarting(current, summary?.session ?? null);
  if (current && starting) {
    sessionState.textContent = starting;
    sessionState.classList.add('starting');
  } else if (current && summary) {
    const state = summary.session.ended ? `ended${summary.session.endReason ? `: ${visibleText(summary.session.endReason)}` : ''}` : current.source === 'live' ? 'live' : 'loading';
    const filtered = summary.session.kernelFilter === null ? '' : ` · only ${visibleText(summary.session.kernelFilter)} (filtered in the kernel)`;
    sessionState.textContent = `${state}${filtered} · ${countOf(summary.counters.messagesSeen, 'message', 'messages')} · ${formatBytes(summary.counters.bytesKept)} of ${formatBytes(summary.counters.bytesLimit)} held`;
    if (!summary.session.ended && current.source === 'live') sessionState.classList.add('live');
  } else {
    sessionState.textContent = '';
  }
  const counters = summary?.counters;
  lostCounter.textContent = `Lost: ${integer.format(counters?.lostEvents ?? 0)}`;
  lostCounter.classList.toggle('alarm', (counters?.lostEvents ?? 0) !== 0);
  droppedCounter.textContent = `Dropped (memory bound): ${integer.format(counters?.messagesDropped ?? 0)}`;
  droppedCounter.classList.toggle('warn', (counters?.messagesDropped ?? 0) > 0);
  cutCounter.textContent = `Cut messages: ${integer.format(counters?.messagesCut ?? 0)}`;
  cutCounter.classList.toggle('warn', (counters?.messagesCut ?? 0) > 0);
  lossBanner.classList.toggle('alarm', (counters?.lostEvents ?? 0) !== 0);

  notesBar.textContent = '';
  const important = (summary?.session.notes ?? []).filter((n) => n.level !== 'info').slice(-3);
  for (const note of important) {
    const line = el('div', `note ${note.level}`);
    setUntrustedText(line, note.message);
    notesBar.append(line);
  }
  if (counters && counters.truncatedStrings > 0) {
    notesBar.append(el('div', 'note warning', `${countOf(counters.truncatedStrings, 'string', 'strings')} (addresses or types) reached the probe's length limit and may be cut.`));
  }
  if (counters && counters.ignoredEvents > 0) {
    notesBar.append(el('div', 'note warning', `${countOf(counters.ignoredEvents, 'event', 'events')} with malformed fields ${counters.ignoredEvents === 1 ? 'was' : 'were'} skipped.`));
  }
  notesBar.hidden = notesBar.childElementCount === 0;

  const choices = summary?.choices ?? { msgTypes: [], peers: [] };
  const types = [...choices.msgTypes];
  if (page.ui.filter.msgType && !types.includes(page.ui.filter.msgType)) types.push(page.ui.filter.msgType);
  fillSelect(typeSelect, 'All message types', types.map((t) => ({ value: t, label: visibleText(t) })), page.ui.filter.msgType);
  const peers = choices.peers.map((p) => ({ value: p.id, label: `${p.id} ${visibleText(p.addr)}` }));
  if (page.ui.filter.peerId && !peers.some((p) => p.value === page.ui.filter.peerId)) peers.push({ value: page.ui.filter.peerId, label: page.ui.filter.peerId });
  fillSelect(peerSelect, 'All peers', peers, page.ui.filter.peerId);
  directionSelect.value = page.ui.filter.direction;
  if (document.activeElement !== filterInput) filterInput.value = page.ui.filter.text;
  followBox.checked = page.ui.follow;
  const kept = counters?.messagesKept ?? 0;
  const filtered = page.ui.filter.text.trim() !== '' || page.ui.filter.msgType !== '' || page.ui.filter.peerId !== '' || page.ui.filter.direction !== '';
  matchCount.textContent = filtered ? `${integer.format(model.matching)} of ${countOf(kept, 'message', 'messages')}` : countOf(kept, 'message', 'messages');
}

// ---------- messages from the host ----------

function handleMessage(message: ToWebview): void {
  switch (message.type) {
    case 'snapshot':
      model.sessions = [...message.sessions];
      model.sessionId = message.sessionId;
      model.summary = message.summary;
      model.matching = message.summary?.matching ?? 0;
      model.listRows = [];
      model.listStart = 0;
      listRequestedRange = null;
      model.selected = null;
      model.hexPages.clear();
      model.hexPending.clear();
      page.ui = { ...message.uiState, sessionId: message.sessionId };
      page.keepUi();
      renderHeader();
      renderList();
      renderDetail();
      if (model.sessionId !== null) requestList(page.ui.follow);
      return;
    case 'summary':
      if (message.sessionId !== model.sessionId) return;
      if (message.sessions) model.sessions = [...message.sessions];
      model.summary = message.summary;
      if (message.summary.matching !== model.matching) {
        model.matching = message.summary.matching;
        listRequestedRange = null;
        requestList(page.ui.follow);
      }
      renderHeader();
      renderList();
      return;
    case 'listWindow':
      if (message.sessionId !== model.sessionId || message.requestId !== latestListRequest) return;
      model.listStart = message.start;
      model.listRows = [...message.rows];
      model.matching = message.matching;
      if (page.ui.follow) scrollListToEnd();
      if (page.ui.selectedSeq === null && model.listRows.length > 0 && model.selected === null) {
        // Nothing chosen yet: show the newest message rather than an empty detail.
        saveUi({ selectedSeq: model.listRows[model.listRows.length - 1].seq });
      }
      renderHeader();
      renderList();
      if (model.listRows.length > 0) page.dataFrames.dataDrawn();
      return;
    case 'selected':
      if (message.sessionId !== model.sessionId) return;
      model.selected = message.selected;
      model.hexPages.clear();
      model.hexPending.clear();
      if (message.index !== null && !page.ui.follow) scrollListTo(message.index);
      renderList();
      renderDetail();
      if (model.selected) page.dataFrames.dataDrawn();
      return;
    case 'hexRange': {
      const selected = model.selected;
      if (message.sessionId !== model.sessionId || !selected || selected.row.seq !== message.seq) return;
      const hexPage = Math.floor(message.offset / HEX_PAGE_BYTES);
      model.hexPending.delete(hexPage);
      model.hexPages.set(hexPage, hexBytesOf(message.hex));
      while (model.hexPages.size > HEX_CACHE_PAGES) {
        const oldest = model.hexPages.keys().next().value;
        if (oldest === undefined) break;
        model.hexPages.delete(oldest);
      }
      renderHex();
      page.dataFrames.dataDrawn();
      return;
    }
  }
}

// ---------- render report (integration tests) ----------

function lineText(item: Element): string {
  const name = item.querySelector(':scope > .tree-line > .tree-name')?.textContent ?? '';
  const value = item.querySelector(':scope > .tree-line > .tree-value')?.textContent ?? '';
  return `${name} = ${value}`;
}

/** How readable the selected row is: the lowest contrast of its text parts on the row's background. */
function selectedRowContrast(): number | null {
  const row = listRowsHost.querySelector('.list-row.selected');
  if (!row) return null;
  const background = getComputedStyle(row).backgroundColor;
  const base = getComputedStyle(document.body).backgroundColor;
  const ratios = [...row.querySelectorAll('.c-time, .c-dir, .peer-id, .peer-addr, .c-type, .c-size')].map((part) => contrastRatio(getComputedStyle(part).color, background, base) ?? 0);
  return ratios.length === 0 ? null : Math.min(...ratios);
}

function renderReport(): RawRenderReport {
  const rows = [...listRowsHost.querySelectorAll('.list-row')];
  const visibleTreeItems = [...decodedTree.querySelectorAll('.tree-item')].filter((item) => item.closest('.tree-children[hidden]') === null);
  return {
    sessionId: model.sessionId,
    comparison: comparison.report(),
    matching: model.matching,
    listRowsInDom: rows.length,
    firstRows: rows.slice(0, 40).map((row) => {
      const cells = row.children;
      return {
        seq: rowSeq.get(row as HTMLElement) ?? -1,
        direction: row.classList.contains('in') ? 'in' : 'out',
        peer: cells[2].textContent ?? '',
        msgType: cells[3].textContent ?? '',
        size: cells[4].textContent ?? '',
        captured: cells[5].querySelector('.captured')?.textContent ?? '',
        cut: cells[5].querySelector('.flag')?.textContent === 'cut',
      };
    }),
    selectedSeq: page.ui.selectedSeq,
    selectedRowContrast: selectedRowContrast(),
    themeKind: [...document.body.classList].find((c) => /^vscode-(light|dark|high-contrast|high-contrast-light)$/.test(c)) ?? '',
    hexRowsInDom: hexRowsHost.querySelectorAll('.hex-row').length,
    hexTotalRows: hexTotalRows(),
    firstHexRows: [...hexRowsHost.querySelectorAll('.hex-row')].slice(0, 8).map((row) => [...row.children].map((c) => c.textContent ?? '').join(' | ')),
    decodedStatus: model.selected?.decoded?.status ?? '',
    decodedSummary: decodedSummary.textContent ?? '',
    decodedBanner: decodedBanner.textContent ?? '',
    decodedLines: visibleTreeItems.slice(0, 60).map(lineText),
    sessionState: sessionState.textContent ?? '',
    kernelFilterShown: kernelFilter.shown,
    lostText: lostCounter.textContent ?? '',
    droppedText: droppedCounter.textContent ?? '',
    cutText: cutCounter.textContent ?? '',
    lostAlarm: lossBanner.classList.contains('alarm'),
    ...activeElementCounts(app),
    elementCount: document.getElementsByTagName('*').length,
    dataFrames: page.dataFrames.times(),
  };
}

// ---------- start ----------

new ResizeObserver(() => {
  renderList();
  renderHex();
}).observe(document.body);

renderHeader();
renderDetail();
page.start(handleMessage, {
  report: () => {
    renderList();
    renderHex();
    return renderReport();
  },
  parts: [comparison, kernelFilter],
});

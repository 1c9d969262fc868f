// The Network panel's page: the traced nodes, the connections between them with their messages, and the message
// sequence of two chosen nodes (each message once, sender → receiver, with its latency; unpaired ones marked;
// blocks and mempool events of both nodes on the same timeline). Long sequences are virtual: only the rows in
// view are in the DOM. Every string from a session goes in through setUntrustedText / visibleText.
import './styles.css';
import {
  NETWORK_PAGE,
  type DirectionCounts,
  type MessageSequence,
  type NetworkRenderReport,
  type NetworkSnapshot,
  type SequenceEntry,
} from '../../src/shared/networkProtocol';
import { setConnectionType } from '../shared/connectionType';
import { activeElementCounts, el, formatBytes, formatCount, formatDuration, FrameScheduler, setText, setUntrustedText, visibleText } from '../shared/dom';
import { PageConnection } from '../shared/pageConnection';

const page = new PageConnection(NETWORK_PAGE);
const ROW_HEIGHT = 22;
const OVERSCAN = 10;

const model = {
  snapshot: null as NetworkSnapshot | null,
  sequence: null as MessageSequence | null,
  ui: page.ui,
};

// ---------- layout ----------

const app = document.getElementById('app') ?? document.body;
app.textContent = '';

const toolbar = el('header', 'toolbar');
const title = el('span', 'panel-title', 'Network');
const summary = el('span', 'session-state');
const clearButton = el('button', 'button', 'Clear');
clearButton.title = 'Start an empty network view (running sessions go on feeding it)';
toolbar.append(title, summary, el('span', 'spacer'), clearButton);

const emptyState = el('div', 'empty-state');
emptyState.append(
  el('p', 'empty-title', 'No nodes yet'),
  el('p', undefined, 'Start p2p-traffic on two or more bitcoind nodes (Bitcoin USDT: Start probe…, one per node or every process of the build), or open their recordings.'),
);

const content = el('div', 'content');
const nodesSection = el('section', 'table-section');
const nodesTable = el('table', 'data-table nodes-table');
nodesSection.append(el('h2', undefined, 'Nodes'), nodesTable);
const connectionsSection = el('section', 'table-section');
const connectionsTable = el('table', 'data-table connections-table');
connectionsSection.append(el('h2', undefined, 'Connections'), connectionsTable);

const sequenceSection = el('section', 'sequence-section');
const sequenceHeading = el('div', 'section-heading');
const pickA = el('select');
pickA.setAttribute('aria-label', 'First node');
const pickB = el('select');
pickB.setAttribute('aria-label', 'Second node');
const swapButton = el('button', 'button secondary', '⇄');
swapButton.title = 'Swap the two nodes';
const nodeEventsLabel = el('label', 'check');
const nodeEventsBox = el('input');
nodeEventsBox.type = 'checkbox';
nodeEventsLabel.append(nodeEventsBox, document.createTextNode(' blocks and mempool'));
const sequenceCount = el('span', 'match-count');
const pickers = el('div', 'filter-bar');
pickers.append(pickA, swapButton, pickB, nodeEventsLabel, sequenceCount);
sequenceHeading.append(el('h2', undefined, 'Message sequence'), pickers);
const laneHeader = el('div', 'seq-row seq-head');
const laneTime = el('span', 'seq-time', 'time');
const laneA = el('span', 'seq-lane lane-a');
const laneArrow = el('span', 'seq-arrow', 'message');
const laneB = el('span', 'seq-lane lane-b');
laneHeader.append(laneTime, laneA, laneArrow, laneB, el('span', 'seq-latency', 'latency'), el('span', 'seq-status', 'status'));
const viewport = el('div', 'seq-viewport');
viewport.tabIndex = 0;
viewport.setAttribute('aria-label', 'Message sequence');
const spacer = el('div', 'seq-spacer');
const rowsLayer = el('div', 'seq-rows');
spacer.append(rowsLayer);
viewport.append(spacer);
sequenceSection.append(sequenceHeading, laneHeader, viewport);

content.append(nodesSection, connectionsSection, sequenceSection);
app.append(toolbar, emptyState, content);

// ---------- interaction ----------

function choosePair(nodeA: string | null, nodeB: string | null): void {
  page.saveUi({ nodeA, nodeB }, (ui) => ({ type: 'uiState', uiState: ui }));
  follow = true;
}
pickA.addEventListener('change', () => choosePair(pickA.value, pickB.value === pickA.value ? null : pickB.value));
pickB.addEventListener('change', () => choosePair(pickA.value === pickB.value ? null : pickA.value, pickB.value));
swapButton.addEventListener('click', () => choosePair(pickB.value || null, pickA.value || null));
nodeEventsBox.addEventListener('change', () => page.saveUi({ showNodeEvents: nodeEventsBox.checked }, (ui) => ({ type: 'uiState', uiState: ui })));
clearButton.addEventListener('click', () => page.post({ type: 'clear' }));

/** Keep the newest rows in view while the user has not scrolled away from the bottom. */
let follow = true;
viewport.addEventListener('scroll', () => {
  follow = viewport.scrollTop + viewport.clientHeight >= viewport.scrollHeight - ROW_HEIGHT;
  frames.schedule();
});

// ---------- messages ----------

page.start((message) => {
  switch (message.type) {
    case 'network':
      model.snapshot = message.snapshot;
      model.sequence = message.sequence;
      model.ui = message.uiState;
      page.saveUi({ nodeA: message.uiState.nodeA, nodeB: message.uiState.nodeB, showNodeEvents: message.uiState.showNodeEvents });
      frames.schedule();
      return;
    case 'sessions':
      return;
  }
}, {
  report: () => {
    render();
    return renderReport();
  },
});

// ---------- rendering ----------

const frames = new FrameScheduler(() => render());

function nodeName(key: string | null): string {
  return model.snapshot?.nodes.find((n) => n.key === key)?.name ?? (key ?? '');
}

function render(): void {
  const snapshot = model.snapshot;
  emptyState.hidden = snapshot !== null && snapshot.nodes.length > 0;
  content.hidden = !emptyState.hidden;
  if (!snapshot) {
    setText(summary, '');
    return;
  }
  const clock = snapshot.clock;
  const clockText =
    clock.clocks <= 1
      ? 'one clock'
      : clock.alignment === 'message pairs'
        ? `${clock.clocks} clocks aligned from message pairs ± ${formatDuration(clock.uncertaintyNs ?? 0)}`
        : clock.alignment === 'arrival times'
          ? `${clock.clocks} clocks aligned from message pairs${clock.uncertaintyNs === null ? '' : ` ± ${formatDuration(clock.uncertaintyNs)}`}, other tools' events (≈) by arrival`
          : `${clock.clocks} clocks, some aligned by start time only (± 1 s)`;
  const matched = snapshot.connections.filter((c) => c.state === 'matched').length;
  setText(summary, `${formatCount(snapshot.nodes.length)} nodes · ${formatCount(matched)} connections between them · ${clockText}`);
  renderNodes(snapshot);
  renderConnections(snapshot);
  renderPickers(snapshot);
  renderSequence();
}

/**
 * A table column: short header, its meaning in the header's tooltip, and the class of its cells. The tables are
 * compact so that they fit the panel at 1400×900 (node names, ends and paths end in "…", whole in their tooltips;
 * counts and latencies wrap onto a second line rather than push the last column out of view).
 */
interface Column {
  readonly title: string;
  readonly tooltip: string;
  readonly className?: string;
}

const NODE_COLUMNS: readonly Column[] = [
  { title: 'node', tooltip: 'The node, named by its datadir', className: 'col-name' },
  { title: 'pids', tooltip: 'Its process ids, oldest first (a restart stays the same node)' },
  { title: 'P2P port', tooltip: 'The port it listens on for peers' },
  { title: 'chain', tooltip: 'Its chain' },
  { title: 'peers', tooltip: 'Peers seen in the trace' },
  { title: 'msgs in / out', tooltip: 'Messages received / sent' },
  { title: 'bytes in / out', tooltip: 'Bytes received / sent' },
  { title: 'run', tooltip: "The folder of its datadir (a functional test's run)", className: 'col-run' },
];

const CONNECTION_COLUMNS: readonly Column[] = [
  { title: 'from', tooltip: 'The node that opened the connection and its peer id there (or the other end, when it is not a traced node)', className: 'col-end' },
  { title: 'to', tooltip: 'The node it connected to and its peer id there (or the other end, when it is not a traced node)', className: 'col-end' },
  { title: 'type', tooltip: 'Connection type (the full name in the tooltip)', className: 'col-type' },
  { title: 'state', tooltip: 'matched: both ends traced and paired; peer not traced; other end not found (it should be a traced node)' },
  { title: 'from → to', tooltip: 'Messages from → to: sent, and paired with their receive (in flight, not received, send not traced when any)', className: 'col-msgs' },
  { title: 'latency', tooltip: 'From send to receive, from → to: mean (min–max)', className: 'col-latency' },
  { title: 'to → from', tooltip: 'Messages to → from: sent, and paired with their receive (in flight, not received, send not traced when any)', className: 'col-msgs' },
  { title: 'latency', tooltip: 'From send to receive, to → from: mean (min–max)', className: 'col-latency' },
];

type Cell = string | { readonly untrusted: string } | HTMLElement;

function headerRow(columns: readonly Column[]): HTMLTableRowElement {
  const row = el('tr');
  for (const column of columns) {
    const th = el('th', column.className, column.title);
    th.title = column.tooltip;
    row.append(th);
  }
  return row;
}

function cellRow(columns: readonly Column[], cells: readonly Cell[]): HTMLTableRowElement {
  const row = el('tr');
  cells.forEach((cell, i) => {
    const td = el('td', columns[i]?.className);
    if (typeof cell === 'string') td.textContent = cell;
    else if (cell instanceof HTMLElement) td.append(cell);
    else setUntrustedText(td, cell.untrusted);
    row.append(td);
  });
  return row;
}

/** Text in parts that stay whole, joined by `separator`: the cell wraps between parts when the panel is narrow. */
function partsCell(parts: readonly string[], tooltip?: string, separator = ' · '): HTMLElement {
  const cell = el('span', 'parts');
  parts.forEach((part, i) => {
    if (i > 0) cell.append(document.createTextNode(separator));
    cell.append(el('span', 'part', part));
  });
  if (tooltip) cell.title = tooltip;
  return cell;
}

function renderNodes(snapshot: NetworkSnapshot): void {
  nodesTable.textContent = '';
  nodesTable.append(headerRow(NODE_COLUMNS));
  for (const node of snapshot.nodes) {
    const row = cellRow(NODE_COLUMNS, [
      { untrusted: node.name },
      node.pids.join(', ') + (node.alive ? '' : ' (exited)'),
      node.p2pPort === null ? '—' : String(node.p2pPort),
      { untrusted: node.chain ?? '—' },
      formatCount(node.peers),
      `${formatCount(node.msgsIn)} / ${formatCount(node.msgsOut)}`,
      `${formatBytes(node.bytesIn)} / ${formatBytes(node.bytesOut)}`,
      { untrusted: node.run ?? '—' },
    ]);
    row.className = 'node-row';
    nodesTable.append(row);
  }
}

function directionParts(d: DirectionCounts): string[] {
  const parts = [`${formatCount(d.sent)} sent`, `${formatCount(d.paired)} paired`];
  if (d.inFlight > 0) parts.push(`${formatCount(d.inFlight)} in flight`);
  if (d.unmatchedSends > 0) parts.push(`${formatCount(d.unmatchedSends)} not received`);
  if (d.unmatchedReceives > 0) parts.push(`${formatCount(d.unmatchedReceives)} send not traced`);
  return parts;
}

/**
 * One direction's messages: sent and paired (and what did not pair) between traced nodes; only the count where the
 * other end is not traced (nothing there to pair with), the whole account in the tooltip.
 */
function directionCell(d: DirectionCounts, matched: boolean): HTMLElement {
  const parts = directionParts(d);
  return matched ? partsCell(parts) : partsCell([parts[0]], parts.join(' · '));
}

function latencyCell(d: DirectionCounts): Cell {
  if (d.latencyMeanNs === null) return '—';
  return partsCell([formatDuration(d.latencyMeanNs), `(${formatDuration(d.latencyMinNs ?? 0)}–${formatDuration(d.latencyMaxNs ?? 0)})`], undefined, ' ');
}

function renderConnections(snapshot: NetworkSnapshot): void {
  connectionsTable.textContent = '';
  connectionsTable.append(headerRow(CONNECTION_COLUMNS));
  for (const c of snapshot.connections) {
    const matched = c.state === 'matched';
    // The other end when it is not a traced node: what it is (a test framework's P2P connection…) and its address.
    const otherEnd = { untrusted: c.otherEnd === null ? c.peerAddr : `${c.otherEnd} · ${c.peerAddr}` };
    const to = c.toNode === null ? otherEnd : { untrusted: `${nodeName(c.toNode)} #${c.toPeerId}` };
    const from = { untrusted: `${nodeName(c.fromNode)} #${c.fromPeerId}` };
    const type = el('span');
    setConnectionType(type, c.connType);
    const state = el('span', `state ${matched ? 'ok' : 'muted'}`, c.state);
    // What the untraced other end sent is what `from` received.
    const receivedFromOtherEnd = { ...c.directions[1], sent: c.directions[1].received };
    const row = cellRow(
      CONNECTION_COLUMNS,
      c.toNode === null && c.inbound
        ? [otherEnd, from, type, state, directionCell(receivedFromOtherEnd, false), '—', directionCell(c.directions[0], false), '—']
        : matched
          ? [from, to, type, state, directionCell(c.directions[0], true), latencyCell(c.directions[0]), directionCell(c.directions[1], true), latencyCell(c.directions[1])]
          : [from, to, type, state, directionCell(c.directions[0], false), '—', directionCell(receivedFromOtherEnd, false), '—'],
    );
    row.className = `connection-row ${matched ? '' : 'unmatched'}`;
    connectionsTable.append(row);
  }
}

function renderPickers(snapshot: NetworkSnapshot): void {
  for (const [select, chosen] of [
    [pickA, model.ui.nodeA],
    [pickB, model.ui.nodeB],
  ] as const) {
    const wanted = snapshot.nodes.map((n) => `${n.key}\u0001${n.name}`).join('\u0002');
    if (select.dataset.options !== wanted) {
      select.dataset.options = wanted;
      select.textContent = '';
      for (const node of snapshot.nodes) {
        const option = el('option', undefined, visibleText(node.name));
        option.value = node.key;
        select.append(option);
      }
    }
    select.value = chosen ?? '';
  }
  nodeEventsBox.checked = model.ui.showNodeEvents;
  setUntrustedText(laneA, nodeName(model.ui.nodeA));
  setUntrustedText(laneB, nodeName(model.ui.nodeB));
}

let renderedRows = 0;

function renderSequence(): void {
  const sequence = model.sequence;
  const rows = sequence?.rows ?? [];
  const firstNs = rows[0]?.timeNs ?? 0;
  const dropped = sequence?.dropped ?? 0;
  setText(sequenceCount, sequence ? `${formatCount(sequence.total)} rows${dropped > 0 ? ` (${formatCount(dropped)} oldest not kept)` : ''}` : 'choose two nodes');
  spacer.style.height = `${rows.length * ROW_HEIGHT}px`;
  if (follow) viewport.scrollTop = viewport.scrollHeight;
  const first = Math.max(0, Math.floor(viewport.scrollTop / ROW_HEIGHT) - OVERSCAN);
  const last = Math.min(rows.length, Math.ceil((viewport.scrollTop + viewport.clientHeight) / ROW_HEIGHT) + OVERSCAN);
  rowsLayer.textContent = '';
  rowsLayer.style.transform = `translateY(${first * ROW_HEIGHT}px)`;
  const nameA = nodeName(model.ui.nodeA);
  for (let i = first; i < last; i++) rowsLayer.append(sequenceRow(rows[i], firstNs, nameA));
  renderedRows = last - first;
}

function sequenceRow(entry: SequenceEntry, firstNs: number, nameA: string): HTMLElement {
  const row = el('div', 'seq-row');
  const time = el('span', 'seq-time', `${entry.kind === 'node' && entry.approximate ? '≈' : ''}+${formatDuration(entry.timeNs - firstNs)}`);
  if (entry.kind === 'node' && entry.approximate) time.title = "This tool's session has no messages paired with the others: placed by when its events arrived";
  const laneLeft = el('span', 'seq-lane lane-a');
  const arrow = el('span', 'seq-arrow');
  const laneRight = el('span', 'seq-lane lane-b');
  const latency = el('span', 'seq-latency');
  const status = el('span', 'seq-status');
  if (entry.kind === 'node') {
    row.classList.add('node-event', entry.category);
    setUntrustedText(entry.node === nameA ? laneLeft : laneRight, entry.text);
  } else {
    const leftToRight = entry.from === nameA;
    row.classList.add(leftToRight ? 'a-to-b' : 'b-to-a', entry.status.replace(/ /g, '-'));
    const label = el('span', 'seq-label');
    setUntrustedText(label, `${entry.msgType} · ${formatBytes(entry.msgSize)}`);
    arrow.append(el('span', 'seq-line'), label);
    arrow.title = `${visibleText(entry.from)} → ${visibleText(entry.to)}: ${visibleText(entry.msgType)}, ${entry.msgSize} bytes, ${entry.status}`;
    setText(latency, entry.latencyNs === null ? '' : formatDuration(entry.latencyNs));
    setText(status, entry.status === 'paired' ? '' : entry.status);
  }
  row.append(time, laneLeft, arrow, laneRight, latency, status);
  return row;
}

// ---------- render report (integration tests) ----------

function rowText(row: Element): string {
  return [...row.children].map((c) => c.textContent ?? '').filter((t) => t !== '').join(' | ');
}

/** How far a table's last column reaches past what its section (and the panel) shows: 0 when every column is in view. */
function tableCutPx(table: HTMLTableElement): number {
  const last = table.rows[0]?.lastElementChild;
  const section = table.parentElement;
  if (!last || !section) return 0;
  const box = section.getBoundingClientRect();
  const visibleRight = Math.min(box.left + section.clientLeft + section.clientWidth, document.documentElement.clientWidth);
  return Math.max(0, Math.ceil(last.getBoundingClientRect().right - visibleRight));
}

function renderReport(): NetworkRenderReport {
  const rows = model.sequence?.rows ?? [];
  const messages = rows.filter((r) => r.kind === 'message');
  return {
    nodes: [...nodesTable.querySelectorAll('tr.node-row')].map((row) => row.firstElementChild?.textContent ?? ''),
    connectionRows: connectionsTable.querySelectorAll('tr.connection-row').length,
    connectionTexts: [...connectionsTable.querySelectorAll('tr.connection-row')].map(rowText),
    connectionTableCutPx: tableCutPx(connectionsTable),
    nodeTableCutPx: tableCutPx(nodesTable),
    sequence: {
      nodeA: model.ui.nodeA,
      nodeB: model.ui.nodeB,
      total: model.sequence?.total ?? 0,
      renderedRows,
      firstRows: [...rowsLayer.children].slice(0, 12).map(rowText),
      paired: messages.filter((r) => r.kind === 'message' && r.status === 'paired').length,
      unpaired: messages.filter((r) => r.kind === 'message' && r.status !== 'paired').length,
    },
    ...activeElementCounts(app),
  };
}

render();

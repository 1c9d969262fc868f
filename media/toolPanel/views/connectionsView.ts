import type { ConnectionRow, ConnectionsView, ToolCounters } from '../../../src/shared/toolPanelProtocol';
import { countOf, el, formatAxisTime, formatCount, formatDuration, formatSessionTime, themeColors, visibleText } from '../../shared/dom';
import { defineView, newestFirst, type CellContent, type ExtraPart } from '../viewModule';

/** Rows are taller when there are few connections. */
function rowHeight(rows: number): number {
  return rows <= 30 ? 14 : 9;
}
const AXIS_HEIGHT = 18;
const MAX_TIMELINE_ROWS = 120;

function endText(row: ConnectionRow): string {
  if (row.endKind === null) return row.openedNs !== null ? 'open' : row.openAtAttach ? 'open at attach' : '';
  return `${row.endKind} ${formatSessionTime(row.endedNs ?? 0)}`;
}

function openedCell(row: ConnectionRow): CellContent {
  if (row.openedNs !== null) {
    const existing = row.existing === null || row.direction === null ? undefined : `${row.existing} ${row.direction} ${row.existing === '1' ? 'connection' : 'connections'} then, this one included`;
    return { text: formatSessionTime(row.openedNs), ...(existing ? { title: existing } : {}) };
  }
  if (row.openAtAttach) return { text: 'at attach', className: 'at-attach', title: "Open when the probe attached (from the node's getpeerinfo)" };
  return { text: 'before', className: 'muted', title: 'Opened before the session started (seen closing)' };
}

function lifetimeCell(row: ConnectionRow): CellContent {
  if (row.endKind === null) return { text: 'open', className: 'ok', title: 'Not closed yet' };
  const lasted = row.durationNs === null ? row.endKind : formatDuration(row.durationNs);
  const at = `${row.endKind} at ${formatSessionTime(row.endedNs ?? 0)}`;
  return row.endKind === 'evicted' ? { text: `evicted ${row.durationNs === null ? '' : lasted}`.trim(), className: 'bad', title: at } : { text: lasted, title: at };
}

/** Per connection a bar from connect to close/eviction; red ticks where the peer misbehaved. */
function createTimeline(): ExtraPart<ConnectionsView> {
  const element = el('div', 'timeline');
  const heading = el('h2', undefined, 'Connection timeline');
  const legend = el('div', 'timeline-legend');
  for (const [className, label] of [['in', 'inbound'], ['out', 'outbound'], ['evicted', 'evicted'], ['mark', 'misbehaving']] as const) {
    const item = el('span', `legend-item ${className}`);
    item.append(el('span', 'swatch'), document.createTextNode(label));
    legend.append(item);
  }
  const canvas = el('canvas', 'timeline-canvas');
  canvas.setAttribute('role', 'img');
  canvas.setAttribute('aria-label', 'Connection timeline');
  const note = el('div', 'timeline-note');
  element.append(heading, legend, canvas, note);
  let last: { rows: readonly ConnectionRow[]; endNs: number } = { rows: [], endNs: 0 };

  function draw(): void {
    const { rows, endNs } = last;
    const width = Math.max(200, Math.floor(element.clientWidth || 600));
    const rowPx = rowHeight(rows.length);
    const barPx = rowPx - 4;
    const height = AXIS_HEIGHT + Math.max(1, rows.length) * rowPx + 4;
    const ratio = window.devicePixelRatio || 1;
    canvas.style.width = `${width}px`;
    canvas.style.height = `${height}px`;
    canvas.width = Math.floor(width * ratio);
    canvas.height = Math.floor(height * ratio);
    const ctx = canvas.getContext('2d');
    if (!ctx) return;
    ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
    ctx.clearRect(0, 0, width, height);
    const { blue: inColor, orange: outColor, red: alarm, foreground: muted, grid, fontFamily: font } = themeColors();
    const span = Math.max(1e9, endNs);
    const left = 4;
    const plotWidth = width - 8;
    const xOf = (ns: number): number => left + (Math.max(0, Math.min(ns, span)) / span) * plotWidth;
    // Axis: five ticks of session time.
    ctx.font = `10px ${font}`;
    ctx.fillStyle = muted;
    ctx.strokeStyle = grid;
    ctx.lineWidth = 1;
    for (let i = 0; i <= 4; i++) {
      const ns = (span * i) / 4;
      const x = Math.round(xOf(ns)) + 0.5;
      ctx.beginPath();
      ctx.moveTo(x, AXIS_HEIGHT - 4);
      ctx.lineTo(x, height);
      ctx.stroke();
      const label = formatAxisTime(ns / 1e9);
      const textWidth = ctx.measureText(label).width;
      ctx.fillText(label, Math.min(Math.max(0, x - textWidth / 2), width - textWidth), 11);
    }
    rows.forEach((row, i) => {
      const y = AXIS_HEIGHT + i * rowPx;
      const start = xOf(row.openedNs ?? 0);
      const end = xOf(row.endedNs ?? endNs);
      ctx.fillStyle = row.direction === 'inbound' ? inColor : row.direction === 'outbound' ? outColor : muted;
      ctx.globalAlpha = row.openedNs === null ? 0.45 : 1;
      ctx.fillRect(start, y, Math.max(2, end - start), barPx);
      ctx.globalAlpha = 1;
      if (row.endKind === 'evicted') {
        ctx.fillStyle = alarm;
        ctx.fillRect(end - 2, y - 1, 3, barPx + 2);
      }
      ctx.fillStyle = alarm;
      for (const mark of row.misbehaving) {
        const x = xOf(mark.elapsedNs);
        ctx.beginPath();
        ctx.moveTo(x, y - 1);
        ctx.lineTo(x + 3, y + barPx / 2);
        ctx.lineTo(x, y + barPx + 1);
        ctx.lineTo(x - 3, y + barPx / 2);
        ctx.fill();
      }
    });
  }

  canvas.addEventListener('mousemove', (event) => {
    const index = Math.floor((event.offsetY - AXIS_HEIGHT) / rowHeight(last.rows.length));
    const row = last.rows[index];
    canvas.title = row
      ? visibleText(`peer ${row.peerId} ${row.addr} (${row.connType}) ${row.openedNs === null ? 'opened before the session' : `opened ${formatSessionTime(row.openedNs)}`} ${endText(row)}${row.misbehavingCount ? `, misbehaving ×${row.misbehavingCount}` : ''}`)
      : '';
  });
  new ResizeObserver(() => requestAnimationFrame(draw)).observe(element);

  return {
    element,
    update(view: ConnectionsView, counters: ToolCounters): void {
      // Oldest connection at the top; those opened before the session first.
      const rows = view.rows.slice(-MAX_TIMELINE_ROWS).sort((a, b) => (a.openedNs ?? -1) - (b.openedNs ?? -1));
      last = { rows, endNs: counters.lastElapsedNs };
      note.textContent = view.rows.length > rows.length ? `Newest ${formatCount(rows.length)} of ${countOf(view.matchingRows, 'connection', 'connections')} drawn (the table lists up to 1,000).` : '';
      draw();
    },
    rebuild: draw,
  };
}

export const connectionsView = defineView<ConnectionsView, ConnectionRow>({
  tool: 'p2p-connections',
  filterPlaceholder: 'Filter: address, peer id, type, network or reason',
  kinds: [
    { value: 'inbound', label: 'Inbound' },
    { value: 'outbound', label: 'Outbound' },
    { value: 'open', label: 'Open' },
    { value: 'closed', label: 'Closed' },
    { value: 'evicted', label: 'Evicted' },
    { value: 'misbehaving', label: 'Misbehaving' },
    ...['outbound-full-relay', 'block-relay-only', 'manual', 'feeler', 'addr-fetch', 'private-broadcast'],
  ],
  rowNoun: ['connection', 'connections'],
  tableTitle: 'Connections (newest first)',
  summary: (view) => [
    { label: 'Open', value: formatCount(view.open) },
    view.openAtAttach !== null
      ? { label: 'Open at attach', value: formatCount(view.openAtAttach), title: "From the node's getpeerinfo when the probe attached" }
      : { label: 'Before the attach', value: view.atAttachNote === null ? '…' : 'appear when they close', title: view.atAttachNote ?? "Asking the node's RPC for the connections open at the attach" },
    { label: 'Inbound', value: formatCount(view.inbound), tone: 'in' },
    { label: 'Outbound', value: formatCount(view.outbound), tone: 'out' },
    { label: 'Closed', value: formatCount(view.closed) },
    { label: 'Evicted', value: formatCount(view.evicted), tone: view.evicted > 0 ? 'alarm' : undefined },
    { label: 'Misbehaving', value: formatCount(view.misbehaving), tone: view.misbehaving > 0 ? 'alarm' : undefined },
    {
      label: 'Messages from',
      value: view.trafficSession === null ? 'no P2P traffic session' : visibleText(view.trafficSession),
      title: 'Message counts per peer id joined from the newest p2p-traffic / p2p-monitor session',
    },
  ],
  charts: () => [],
  createExtra: createTimeline,
  // Narrow enough for a panel beside the source at 1600×1000: the type (coloured by direction) says the direction,
  // the opening's "existing" count and the closing time are the cells' tooltips, the address takes what is left.
  tableClass: 'connections-table',
  columns: [
    { title: 'Peer', numeric: true, cell: (r) => r.peerId },
    { title: 'Address', cell: (r) => ({ text: r.addr, untrusted: true, className: 'addr' }) },
    {
      title: 'Type',
      tooltip: 'Connection type (inbound in blue, outbound in orange)',
      cell: (r) => ({ text: r.connType, untrusted: true, className: `conn-type ${r.direction === 'inbound' ? 'dir-in' : r.direction === 'outbound' ? 'dir-out' : ''}`, title: `${visibleText(r.connType)}${r.direction === null ? '' : ` (${r.direction})`}` }),
    },
    { title: 'Network', cell: (r) => ({ text: r.networkName, untrusted: true }) },
    { title: 'Opened', numeric: true, cell: openedCell },
    { title: 'Lifetime', numeric: true, tooltip: 'How long the connection lasted (the closing time in the cell\'s tooltip); open: not closed yet', cell: lifetimeCell },
    { title: 'In/out', numeric: true, tooltip: 'Messages in / out, from the P2P traffic session, by peer id', cell: (r) => (r.msgsIn === null ? '' : `${formatCount(r.msgsIn)} / ${formatCount(r.msgsOut ?? 0)}`) },
    {
      title: 'Misbehaving',
      cell: (r) => (r.misbehavingCount === 0 ? '' : { text: `${r.misbehavingCount > r.misbehaving.length ? `×${r.misbehavingCount}: ` : ''}${r.misbehaving.map((m) => m.message).join('; ')}`, untrusted: true, className: 'bad' }),
    },
  ],
  // Newest connection first; connections opened before the session last.
  rows: (view) => newestFirst(view.rows).sort((a, b) => (b.openedNs ?? -1) - (a.openedNs ?? -1)),
  counts: (view) => ({ matching: view.matchingRows, total: view.totalConnections }),
});

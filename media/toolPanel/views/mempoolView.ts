import { MEMPOOL_KINDS, type MempoolCounts, type MempoolRow, type MempoolView, type TimeInMempool } from '../../../src/shared/toolPanelProtocol';
import { countOf, formatBytes, formatCount, formatDecimal, formatDuration, formatInt64, formatSessionTime, formatWholeSeconds } from '../../shared/dom';
import { defineView, newestFirst, type Cell } from '../viewModule';

function line(counts: MempoolCounts): string {
  return `${formatCount(counts.added)} added · ${formatCount(counts.removed)} removed · ${formatCount(counts.replaced)} replaced · ${formatCount(counts.rejected)} rejected`;
}

/** To the precision of its source: ns from the session's own `added` event, whole seconds from entry_time. */
function inMempool(time: TimeInMempool | null): Cell {
  if (time === null) return '';
  return time.from === 'added'
    ? { text: formatDuration(time.ns), title: 'From its added event in this session' }
    : { text: formatWholeSeconds(time.ns / 1e9), title: 'From the tracepoint’s entry time (whole seconds): added before this session started' };
}

function shortId(id: string): string {
  return id.length > 20 ? `${id.slice(0, 16)}…` : id;
}

function details(row: MempoolRow): Cell {
  const r = row.replacement;
  if (!r) return row.reason === null ? '' : { text: row.reason, untrusted: true, className: 'fill reason' };
  const rate = r.replacementFee !== null && r.replacementVsize ? ` (${formatDecimal(Number(r.replacementFee) / r.replacementVsize)} sat/vB)` : '';
  const by = r.byTransaction === false ? 'package' : 'tx';
  const figures = `${r.replacementVsize ?? '?'} vB, fee ${r.replacementFee === null ? '?' : formatInt64(r.replacementFee)} sat${rate}`;
  return { text: `by ${by} ${shortId(r.replacementId)}: ${figures}`, untrusted: true, className: 'fill reason', title: `replaced by ${by} ${r.replacementId}: ${figures}` };
}

export const mempoolView = defineView<MempoolView, MempoolRow>({
  tool: 'mempool-monitor',
  filterPlaceholder: 'Filter: txid prefix or reason',
  kinds: MEMPOOL_KINDS,
  rowNoun: ['event', 'events'],
  tableTitle: 'Event log (newest first)',
  summary: (view) => [
    view.atAttach !== null
      ? { label: 'In mempool at attach', value: `${countOf(view.atAttach.size, 'transaction', 'transactions')} · ${formatBytes(view.atAttach.bytes)}`, title: "From the node's getmempoolinfo when the probe attached" }
      : { label: 'In mempool at attach', value: view.atAttachNote === null ? '…' : 'not known', title: view.atAttachNote ?? "Asking the node's RPC" },
    { label: 'Added', value: formatCount(view.total.added), tone: 'ok' },
    { label: 'Removed', value: formatCount(view.total.removed), tone: 'in' },
    { label: 'Replaced', value: formatCount(view.total.replaced), tone: 'warn' },
    { label: 'Rejected', value: formatCount(view.total.rejected), tone: 'alarm' },
    { label: 'Last 1 min', value: line(view.lastMinute), title: 'Events in the last minute of the session clock' },
    { label: 'Last 10 min', value: line(view.lastTenMinutes), title: 'Events in the last ten minutes of the session clock' },
  ],
  charts: (view) => [
    {
      title: 'Events per second',
      x: view.rates.added.map((_v, i) => view.rates.startSecond + i),
      formatValue: formatCount,
      series: [
        { label: 'added', colorVar: '--vscode-charts-green', fallback: '#89d185', values: view.rates.added },
        { label: 'removed', colorVar: '--vscode-charts-blue', fallback: '#3794ff', values: view.rates.removed },
        { label: 'replaced', colorVar: '--vscode-charts-orange', fallback: '#d18616', values: view.rates.replaced },
        { label: 'rejected', colorVar: '--vscode-charts-red', fallback: '#f14c4c', values: view.rates.rejected },
      ],
    },
  ],
  columns: [
    { title: 'Time', numeric: true, cell: (r) => formatSessionTime(r.elapsedNs) },
    { title: 'Event', cell: (r) => ({ text: r.kind, className: `kind-${r.kind}` }) },
    { title: 'vsize', numeric: true, cell: (r) => (r.vsize === null ? '' : `${formatCount(r.vsize)} vB`) },
    { title: 'Fee (sat)', numeric: true, cell: (r) => (r.fee === null ? '' : formatInt64(r.fee)) },
    { title: 'sat/vB', numeric: true, cell: (r) => (r.feeRate === null ? '' : formatDecimal(r.feeRate)) },
    { title: 'In mempool', numeric: true, tooltip: 'Time between entry and removal', cell: (r) => inMempool(r.inMempool) },
    { title: 'Reason', tooltip: 'Why it was removed or rejected; for replaced: by what', cell: details },
    { title: 'txid', tooltip: 'For replaced: the replaced transaction', cell: (r) => ({ text: r.txid, className: 'mono fill', title: r.txid }) },
  ],
  rows: (view) => newestFirst(view.rows),
  counts: (view) => ({ matching: view.matchingRows, total: view.keptRows }),
});

import { UTXO_OPERATIONS, type UtxoRow, type UtxosView } from '../../../src/shared/toolPanelProtocol';
import { formatBtc, formatCount, formatInt64, formatSessionTime } from '../../shared/dom';
import { defineView, newestFirst } from '../viewModule';

const OP_LABELS = { add: 'add', spent: 'spent', uncache: 'uncache' } as const;

export const utxosView = defineView<UtxosView, UtxoRow>({
  tool: 'utxos',
  filterPlaceholder: 'Filter: txid prefix',
  kinds: UTXO_OPERATIONS,
  rowNoun: ['operation', 'operations'],
  tableTitle: 'Operations (newest first)',
  summary: (view) => {
    const exact = view.countsFromKernel ? 'counted in the kernel: exact' : 'delivered events (the probe reported no kernel counts)';
    return [
      { label: 'Added', value: formatCount(view.counts.add), tone: 'in', title: exact },
      { label: 'Spent', value: formatCount(view.counts.spent), tone: 'out', title: exact },
      { label: 'Uncached', value: formatCount(view.counts.uncache), title: exact },
      { label: 'Counts', value: view.countsFromKernel ? 'exact (kernel)' : 'delivered', title: exact },
      { label: 'Listed', value: `${formatCount(view.delivered.add + view.delivered.spent + view.delivered.uncache)} delivered`, title: 'Operations delivered one by one (the newest are kept for the log)' },
    ];
  },
  charts: (view) => {
    const x = view.rates.add.map((_v, i) => view.rates.startSecond + i);
    return [
      {
        title: 'Operations per second',
        x,
        formatValue: formatCount,
        series: [
          { label: 'add', colorVar: '--vscode-charts-blue', fallback: '#3794ff', values: view.rates.add },
          { label: 'spent', colorVar: '--vscode-charts-orange', fallback: '#d18616', values: view.rates.spent },
          { label: 'uncache', colorVar: '--vscode-charts-purple', fallback: '#b180d7', values: view.rates.uncache },
        ],
      },
    ];
  },
  columns: [
    { title: 'Time', numeric: true, cell: (r) => formatSessionTime(r.elapsedNs) },
    { title: 'Op', cell: (r) => ({ text: OP_LABELS[r.op], className: `op-${r.op}` }) },
    { title: 'Value (BTC)', numeric: true, cell: (r) => formatBtc(r.valueSat) },
    { title: 'Value (sat)', numeric: true, cell: (r) => formatInt64(r.valueSat) },
    { title: 'Height', numeric: true, cell: (r) => String(r.height) },
    { title: 'Coinbase', cell: (r) => (r.isCoinbase ? { text: 'coinbase', className: 'flag' } : '') },
    { title: 'Outpoint', tooltip: 'txid:output index', cell: (r) => ({ text: `${r.txid}:${r.index}`, className: 'mono fill', title: `${r.txid}:${r.index}` }) },
  ],
  rows: (view) => newestFirst(view.rows),
  counts: (view) => ({ matching: view.matchingRows, total: view.keptRows }),
});

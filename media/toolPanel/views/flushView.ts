import type { FlushRow, FlushView } from '../../../src/shared/toolPanelProtocol';
import { formatCount, formatDecimal, formatSessionTime, formatTwoDecimals } from '../../shared/dom';
import { defineView, newestFirst } from '../viewModule';

const MIB = 1024 * 1024;

export const flushView = defineView<FlushView, FlushRow>({
  tool: 'utxocache-flush',
  filterPlaceholder: 'Filter: mode name',
  kinds: [
    { value: 'prune', label: 'For prune' },
    // Mode names follow the traced build's version (ALWAYS before v31, FORCE_FLUSH and FORCE_SYNC from v31).
    ...['NONE', 'IF_NEEDED', 'PERIODIC', 'ALWAYS', 'FORCE_FLUSH', 'FORCE_SYNC'],
  ],
  rowNoun: ['flush', 'flushes'],
  tableTitle: 'Flushes',
  summary: (view) => [
    { label: 'Flushes', value: formatCount(view.totalFlushes) },
    { label: 'Total time', value: `${formatDecimal(view.totalDurationUs / 1000)} ms` },
    { label: 'Longest', value: `${formatDecimal(view.maxDurationUs / 1000)} ms` },
    { label: 'By mode', value: view.byMode.map((m) => `${m.name} ${formatCount(m.count)}`).join(' · ') || '—' },
    {
      label: 'When',
      value: 'when the cache is full, about once a day (periodic), at shutdown; cause one with bitcoin-cli gettxoutsetinfo, or watch many with -reindex',
      title: 'Bitcoin Core flushes its coins cache when it outgrows -dbcache, periodically, at shutdown, and when an RPC needs the chainstate on disk (gettxoutsetinfo)',
    },
  ],
  charts: (view) => {
    const x = view.rows.map((r) => r.elapsedNs / 1e9);
    return [
      { title: 'Flush duration (ms)', x, points: true, series: [{ label: 'Duration', colorVar: '--vscode-charts-orange', fallback: '#d18616', values: view.rows.map((r) => Number(r.duration_us) / 1000) }] },
      { title: 'Coins in cache before the flush', x, points: true, formatValue: formatCount, series: [{ label: 'Coins', colorVar: '--vscode-charts-blue', fallback: '#3794ff', values: view.rows.map((r) => Number(r.coins_count)) }] },
      { title: 'Cache memory (MB)', x, points: true, series: [{ label: 'Memory', colorVar: '--vscode-charts-purple', fallback: '#b180d7', values: view.rows.map((r) => Number(r.coins_mem_usage) / MIB) }] },
    ];
  },
  columns: [
    { title: '#', numeric: true, cell: (r) => String(r.seq) },
    { title: 'Time', numeric: true, tooltip: 'Since the session started', cell: (r) => formatSessionTime(r.elapsedNs) },
    { title: 'Duration', numeric: true, cell: (r) => `${formatTwoDecimals(Number(r.duration_us) / 1000)} ms` },
    { title: 'Mode', cell: (r) => ({ text: r.mode_name, untrusted: true, className: ['ALWAYS', 'FORCE_FLUSH', 'FORCE_SYNC'].includes(r.mode_name) ? 'mode-strong' : '', title: `mode ${r.mode}` }) },
    { title: 'Coins', numeric: true, cell: (r) => formatCount(Number(r.coins_count)) },
    { title: 'Memory', numeric: true, tooltip: 'Cache memory usage (MiB)', cell: (r) => `${formatTwoDecimals(Number(r.coins_mem_usage) / MIB)} MB` },
    { title: 'Prune', cell: (r) => (r.is_flush_for_prune ? { text: 'yes', className: 'flag' } : '') },
    { title: 'Thread', tooltip: 'The bitcoind thread that flushed (b-scheduler: periodic)', cell: (r) => ({ text: r.thread ?? '', untrusted: true }) },
  ],
  rows: (view) => newestFirst(view.rows),
  counts: (view) => ({ matching: view.matchingRows, total: view.totalFlushes }),
});

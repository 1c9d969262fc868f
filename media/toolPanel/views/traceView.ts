import { TRACE_VALUE_COLUMNS, type TraceRow, type TraceView } from '../../../src/shared/toolPanelProtocol';
import { formatCount, formatSessionTime } from '../../shared/dom';
import { defineView, newestFirst, type Column } from '../viewModule';

/** The value of argument `i`: integers right-aligned, strings untrusted text, hex and hashes as they are. */
function valueColumn(i: number): Column<TraceRow> {
  return {
    title: `arg${i}`,
    cell: (row) => {
      const value = row.values[i];
      if (value === undefined) return '';
      if (value === null) return { text: '–', title: 'not read' };
      return { text: value, untrusted: true, title: `arg${i}` };
    },
  };
}

// The columns are fixed (arg0…arg5: all bpftrace 0.17 can read); their titles name each argument's reading.
export const traceView = defineView<TraceView, TraceRow>({
  tool: 'trace-tracepoint',
  filterPlaceholder: 'Filter: any value',
  kinds: [],
  rowNoun: ['hit', 'hits'],
  tableTitle: 'Hits',
  summary: (view) => [
    { label: 'Tracepoint', value: view.tracepoint ?? '—' },
    { label: 'Hits', value: formatCount(view.totalHits) },
    {
      label: 'Readings',
      value: view.columns.map((c) => `arg${c.index} ${c.label}`).join(' · ') || '—',
      title: 'How each argument is read (chosen when the probe started)',
    },
  ],
  charts: () => [],
  columns: [
    { title: '#', numeric: true, cell: (r) => String(r.seq) },
    { title: 'Time', numeric: true, tooltip: 'Since the session started', cell: (r) => formatSessionTime(r.elapsedNs) },
    ...Array.from({ length: TRACE_VALUE_COLUMNS }, (_, i) => valueColumn(i)),
  ],
  columnTitles: (view) => [
    '#',
    'Time',
    ...Array.from({ length: TRACE_VALUE_COLUMNS }, (_, i) => {
      const column = view.columns[i];
      if (!column) return '';
      const kind = column.kind === 'str' || column.kind === 'hex' ? `${column.kind}${column.bytes}` : column.kind;
      return `arg${i} (${kind === 'skip' ? 'not read' : kind})`;
    }),
  ],
  rows: (view) => newestFirst(view.rows),
  counts: (view) => ({ matching: view.matchingRows, total: view.totalHits }),
});

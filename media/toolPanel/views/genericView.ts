// The generic view: any tool on the tool panel without a view of its own, drawn from its records' field tables
// (eventSchema.ts), which the host sends in the view. One column per field name (a name that several records
// share is one column), drawn while a record shown has that field; a row fills the columns of its own record. Strings are untrusted text; hashes and hex as
// text; integers in exact decimal; booleans yes/no (the host sends every value as text).
import type { GenericView, SchemaRecordTable, SchemaRow, ToolCounters, ToolView } from '../../../src/shared/toolPanelProtocol';
import { formatCount, formatSessionTime } from '../../shared/dom';
import { defineView, newestFirst, type Cell, type Column, type FilterKind, type ToolViewRenderer, type ViewParts } from '../viewModule';

const INTEGER_KINDS: ReadonlySet<string> = new Set(['u64', 'i64', 'u32', 'i32']);

/** A field name's column: where each record has it, and of what kind. */
interface FieldColumn {
  readonly name: string;
  readonly at: Map<string, { readonly index: number; readonly kind: string }>;
  readonly docs: string[];
}

function fieldColumns(records: readonly SchemaRecordTable[]): FieldColumn[] {
  const columns = new Map<string, FieldColumn>();
  for (const record of records) {
    record.fields.forEach((field, index) => {
      let column = columns.get(field.name);
      if (!column) {
        column = { name: field.name, at: new Map(), docs: [] };
        columns.set(field.name, column);
      }
      column.at.set(record.event, { index, kind: field.kind });
      if (!column.docs.includes(field.doc)) column.docs.push(field.doc);
    });
  }
  return [...columns.values()];
}

function valueCell(column: FieldColumn, row: SchemaRow): Cell {
  const at = column.at.get(row.event);
  if (at === undefined) return '';
  const value = row.values[at.index];
  if (value === null || value === undefined) return { text: '–', title: `${column.name}: not in this record` };
  if (at.kind === 'hash' || at.kind === 'hex') return { text: value, untrusted: true, className: 'mono', title: value };
  return { text: value, untrusted: true };
}

function columnOf(column: FieldColumn): Column<SchemaRow> {
  const numeric = [...column.at.values()].every((a) => INTEGER_KINDS.has(a.kind));
  return { title: column.name, numeric, tooltip: column.docs.join('; '), cell: (row) => valueCell(column, row) };
}

/** The fixed columns before the fields: #, Time, Event. */
const FIXED_COLUMNS = 3;

function viewOf(records: readonly SchemaRecordTable[]): ToolViewRenderer {
  const fields = fieldColumns(records);
  return defineView<GenericView, SchemaRow>({
    tool: 'generic',
    filterPlaceholder: 'Filter: text and hash fields',
    kinds: records.map((r) => ({ value: r.event, label: r.event })),
    rowNoun: ['record', 'records'],
    tableTitle: 'Records',
    summary: (view) => [
      { label: 'Records', value: formatCount(view.totalRows) },
      { label: 'By event', value: view.byEvent.map((e) => `${e.name} ${formatCount(e.count)}`).join(' · ') || '—' },
      ...(view.forgottenRows > 0 ? [{ label: 'Forgotten', value: formatCount(view.forgottenRows), title: 'The oldest records, dropped to stay bounded' }] : []),
    ],
    charts: () => [],
    columns: [
      { title: '#', numeric: true, cell: (r) => String(r.seq) },
      { title: 'Time', numeric: true, tooltip: 'Since the session started', cell: (r) => formatSessionTime(r.elapsedNs) },
      { title: 'Event', cell: (r) => ({ text: r.event, untrusted: true }) },
      ...fields.map(columnOf),
    ],
    // The fields of the records shown (all of them before any row): "mempool:added" alone shows its own columns.
    columnShown: (view) => {
      const events = new Set(view.rows.map((r) => r.event));
      return [...Array.from({ length: FIXED_COLUMNS }, () => true), ...fields.map((f) => events.size === 0 || [...f.at.keys()].some((e) => events.has(e)))];
    },
    rows: (view) => newestFirst(view.rows),
    counts: (view) => ({ matching: view.matchingRows, total: view.totalRows }),
  });
}

/** The generic view; its columns and kinds come with the first view (a tool's tables are fixed). */
export function createGenericView(): ToolViewRenderer {
  let parts: ViewParts | null = null;
  let inner: ToolViewRenderer | null = null;
  return {
    filterPlaceholder: 'Filter: text and hash fields',
    get kinds(): readonly FilterKind[] {
      return inner?.kinds ?? [{ value: '', label: 'All records' }];
    },
    get columnTitles(): readonly string[] {
      return inner?.columnTitles ?? [];
    },
    mount(p: ViewParts): void {
      parts = p;
    },
    update(view: ToolView, counters: ToolCounters, nodeOfPid?: ((pid: number | undefined) => string) | null): void {
      if (view.tool !== 'generic' || parts === null) return;
      if (inner === null) {
        inner = viewOf(view.records);
        inner.mount(parts);
      }
      inner.update(view, counters, nodeOfPid);
    },
    rebuildCharts: () => inner?.rebuildCharts(),
    chartReports: () => inner?.chartReports() ?? [],
    tableRows: () => inner?.tableRows() ?? [],
    summaryTexts: () => inner?.summaryTexts() ?? {},
  };
}

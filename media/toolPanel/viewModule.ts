// How a tool's view is described (summary, charts, table columns, optional extra drawing) and the generic
// renderer that turns the description into DOM: every cell is text, untrusted cells go through
// setUntrustedText.
import type { ChartReport } from '../../src/shared/chartAxis';
import type { ToolCounters, ToolView } from '../../src/shared/toolPanelProtocol';
import { ChartSlot, type ChartSpec } from '../shared/charts';
import { el, formatCount, plural, setText, setUntrustedText } from '../shared/dom';
import { NodeColumn } from '../shared/nodeSelector';

export interface CellContent {
  readonly text: string;
  /** From a tracepoint (or a recording): shown with invisible characters escaped. */
  readonly untrusted?: boolean;
  readonly className?: string;
  readonly title?: string;
}

export type Cell = string | CellContent;

export interface Column<R> {
  readonly title: string;
  readonly numeric?: boolean;
  readonly tooltip?: string;
  cell(row: R): Cell;
}

export interface SummaryItem {
  readonly label: string;
  readonly value: string;
  readonly tone?: 'in' | 'out' | 'alarm' | 'ok' | 'warn';
  readonly title?: string;
}

export interface ExtraPart<V> {
  readonly element: HTMLElement;
  update(view: V, counters: ToolCounters): void;
  rebuild?(): void;
}

/** One choice of the table's kind filter. */
export interface FilterKind {
  readonly value: string;
  readonly label: string;
}

export interface ViewSpec<V extends ToolView, R> {
  readonly tool: V['tool'];
  readonly filterPlaceholder: string;
  /** The rows' kinds to choose from after "All <rows>" (which comes first); a string is its own label. */
  readonly kinds: readonly (string | FilterKind)[];
  /** What a row is called: one, many ("connection", "connections"). */
  readonly rowNoun: readonly [string, string];
  readonly tableTitle: string;
  /** A class of the table, for a view's own column widths. */
  readonly tableClass?: string;
  summary(view: V, counters: ToolCounters): readonly SummaryItem[];
  charts(view: V, counters: ToolCounters): readonly ChartSpec[];
  readonly columns: readonly Column<R>[];
  /** Column titles that follow the view (the generic trace panel names each argument's reading); default: the columns'. */
  columnTitles?(view: V): readonly string[];
  /** Which columns are drawn (the generic view drops the fields no shown record has); default: all. */
  columnShown?(view: V): readonly boolean[];
  /** Rows to show, in display order (newest first). */
  rows(view: V): readonly R[];
  /** Rows that pass the filter (rows() shows the newest of them) and rows in all. */
  counts(view: V): { readonly matching: number; readonly total: number };
  createExtra?(): ExtraPart<V>;
}

export interface ViewParts {
  readonly summary: HTMLElement;
  readonly extra: HTMLElement;
  readonly charts: HTMLElement;
  readonly tableTitle: HTMLElement;
  readonly tableWrap: HTMLElement;
  readonly matchCount: HTMLElement;
}

/** A tool's view with its type erased, for main.ts. */
export interface ToolViewRenderer {
  readonly filterPlaceholder: string;
  readonly kinds: readonly FilterKind[];
  readonly columnTitles: readonly string[];
  mount(parts: ViewParts): void;
  /** `nodeOfPid`: all nodes of a session over every process are shown: a Node column names each row's node. */
  update(view: ToolView, counters: ToolCounters, nodeOfPid?: ((pid: number | undefined) => string) | null): void;
  rebuildCharts(): void;
  chartReports(): ChartReport[];
  tableRows(): readonly HTMLTableRowElement[];
  summaryTexts(): Record<string, string>;
}

const MAX_DISPLAYED_ROWS = 1_000;

export function defineView<V extends ToolView, R>(spec: ViewSpec<V, R>): ToolViewRenderer {
  const isOwn = (view: ToolView): view is V => view.tool === spec.tool;
  let parts: ViewParts | undefined;
  const charts: ChartSlot[] = [];
  let extra: ExtraPart<V> | undefined;
  const table = el('table', spec.tableClass ? `data-table ${spec.tableClass}` : 'data-table');
  const body = el('tbody');
  const rowElements: HTMLTableRowElement[] = [];
  const summaryValues = new Map<string, HTMLElement>();
  const summaryItems = new Map<string, HTMLElement>();
  let shownRows = 0;

  const head = el('thead');
  const headRow = el('tr');
  for (const column of spec.columns) {
    const th = el('th', column.numeric ? 'numeric' : undefined, column.title);
    if (column.tooltip) th.title = column.tooltip;
    headRow.append(th);
  }
  head.append(headRow);
  table.append(head, body);
  const emptyRow = el('tr', 'more-row');
  const emptyCell = el('td');
  emptyCell.colSpan = spec.columns.length;
  emptyRow.append(emptyCell);
  // The Node column (all nodes of a session over every process): first, present only while shown.
  const nodeColumn = new NodeColumn('node-column', 'The node (datadir) whose process the row is from; a restart is the same node');

  function showNodeColumn(on: boolean): void {
    if (nodeColumn.show(on, headRow, rowElements)) emptyCell.colSpan = spec.columns.length + (on ? 1 : 0);
  }

  function rowElement(index: number): HTMLTableRowElement {
    let row = rowElements[index];
    if (!row) {
      row = el('tr', 'data-row');
      if (nodeColumn.shown) row.append(nodeColumn.cellOf(row));
      for (const column of spec.columns) row.append(el('td', column.numeric ? 'numeric' : undefined));
      rowElements[index] = row;
    }
    return row;
  }

  function fillCell(td: HTMLTableCellElement, content: Cell, numeric: boolean): void {
    const cell: CellContent = typeof content === 'string' ? { text: content } : content;
    if (cell.untrusted) setUntrustedText(td, cell.text);
    else setText(td, cell.text);
    if (cell.title !== undefined) td.title = cell.title;
    const className = `${numeric ? 'numeric' : ''} ${cell.className ?? ''}`.trim();
    if (td.className !== className) td.className = className;
  }

  let titles: readonly string[] = spec.columns.map((c) => c.title);
  let shownColumns: readonly boolean[] = spec.columns.map(() => true);
  return {
    filterPlaceholder: spec.filterPlaceholder,
    kinds: [{ value: '', label: `All ${spec.rowNoun[1]}` }, ...spec.kinds.map((kind) => (typeof kind === 'string' ? { value: kind, label: kind } : kind))],
    get columnTitles(): readonly string[] {
      const drawn = titles.filter((_title, c) => shownColumns[c] !== false);
      return nodeColumn.shown ? ['Node', ...drawn] : drawn;
    },
    mount(p: ViewParts): void {
      parts = p;
      setText(p.tableTitle, spec.tableTitle);
      p.tableWrap.append(table);
      if (spec.createExtra) {
        extra = spec.createExtra();
        p.extra.append(extra.element);
      }
      p.extra.hidden = extra === undefined;
    },
    update(view: ToolView, counters: ToolCounters, nodeOfPid?: ((pid: number | undefined) => string) | null): void {
      if (!parts || !isOwn(view)) return;
      showNodeColumn(typeof nodeOfPid === 'function');
      // Summary: one item per label, created once.
      const items = spec.summary(view, counters);
      const wanted = new Set(items.map((i) => i.label));
      for (const [label, item] of summaryItems) item.hidden = !wanted.has(label);
      for (const item of items) {
        let box = summaryItems.get(item.label);
        let value = summaryValues.get(item.label);
        if (!box || !value) {
          box = el('div', 'summary-item');
          value = el('span', 'summary-value');
          box.append(el('span', 'summary-label', item.label), value);
          parts.summary.append(box);
          summaryItems.set(item.label, box);
          summaryValues.set(item.label, value);
        }
        box.className = `summary-item ${item.tone ?? ''}`;
        setText(value, item.value);
        if (item.title) box.title = item.title;
      }
      // Charts.
      const specs = spec.charts(view, counters);
      while (charts.length < specs.length) charts.push(new ChartSlot(parts.charts));
      specs.forEach((chart, i) => {
        charts[i].box.hidden = false;
        charts[i].update(chart);
      });
      for (let i = specs.length; i < charts.length; i++) charts[i].box.hidden = true;
      parts.charts.hidden = specs.length === 0;
      extra?.update(view, counters);
      // Table.
      if (spec.columnTitles) {
        const wanted = spec.columnTitles(view);
        if (wanted.join('\u0000') !== titles.join('\u0000')) {
          titles = wanted;
          const offset = nodeColumn.shown ? 1 : 0;
          wanted.forEach((title, c) => headRow.cells[c + offset] && setUntrustedText(headRow.cells[c + offset], title));
        }
      }
      if (spec.columnShown) {
        shownColumns = spec.columnShown(view);
        const offset = nodeColumn.shown ? 1 : 0;
        spec.columns.forEach((_column, c) => {
          const th = headRow.cells[c + offset];
          if (th) th.hidden = shownColumns[c] === false;
        });
      }
      const rows = spec.rows(view);
      const shown = Math.min(rows.length, MAX_DISPLAYED_ROWS);
      for (let i = 0; i < shown; i++) {
        const tr = rowElement(i);
        const cells = tr.cells;
        const offset = nodeColumn.shown ? 1 : 0;
        if (nodeOfPid) setUntrustedText(cells[0], nodeOfPid((rows[i] as { readonly pid?: number }).pid));
        spec.columns.forEach((column, c) => {
          fillCell(cells[c + offset], column.cell(rows[i]), column.numeric === true);
          cells[c + offset].hidden = shownColumns[c] === false;
        });
        if (body.children[i] !== tr) body.insertBefore(tr, body.children[i] ?? null);
      }
      while (body.children.length > shown) body.lastElementChild?.remove();
      shownRows = shown;
      const { matching, total } = spec.counts(view);
      if (shown === 0) {
        const [one, many] = spec.rowNoun;
        setText(emptyCell, total === 0 ? `No ${many} yet.` : `No ${one} matches the filter.`);
        body.append(emptyRow);
      }
      const more = matching > shown ? ` (newest ${formatCount(shown)} shown)` : '';
      const noun = plural(total, ...spec.rowNoun);
      setText(parts.matchCount, matching === total ? `${formatCount(total)} ${noun}${more}` : `${formatCount(matching)} of ${formatCount(total)} ${noun}${more}`);
    },
    rebuildCharts(): void {
      for (const chart of charts) chart.rebuild();
      extra?.rebuild?.();
    },
    chartReports(): ChartReport[] {
      return charts.filter((chart) => !chart.box.hidden).map((chart) => chart.report());
    },
    tableRows(): readonly HTMLTableRowElement[] {
      return rowElements.slice(0, shownRows);
    },
    summaryTexts(): Record<string, string> {
      const texts: Record<string, string> = {};
      for (const [label, value] of summaryValues) if (!summaryItems.get(label)?.hidden) texts[label] = value.textContent ?? '';
      return texts;
    },
  };
}

export function newestFirst<R>(rows: readonly R[]): R[] {
  return [...rows].reverse();
}

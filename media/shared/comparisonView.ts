// The A/B section every panel page shows when its host compares the run shown (A) with another (B): totals,
// per-second rates of both runs on one chart each, every count table with deltas, ratios and shares, and the
// distributions with their quantiles; what differs beyond the host's threshold is marked. Hidden while the
// panel compares nothing. A page creates one, puts `element` where it wants it, gives it to page.start as a
// part (it takes each `comparison` message) and adds `report()` to its render report.
import type { ComparedDistribution, ComparedRate, ComparedRow, ComparisonMessage, ComparisonReport, RunComparison, TableBox } from '../../src/shared/panelProtocol';
import { ChartSlot } from './charts';
import { el, formatBytes, formatCount, formatDecimal, formatWholeSeconds, setText, setUntrustedText } from './dom';
import type { PagePart } from './pageConnection';

type Post = (message: { readonly type: 'selectComparison'; readonly sessionId: null } | { readonly type: 'compareWith' }) => void;

function formatValue(value: number, unit: string | null): string {
  if (unit === 'bytes') return formatBytes(value);
  const number = Number.isInteger(value) ? formatCount(value) : formatDecimal(value);
  return unit ? `${number} ${unit}` : number;
}

function formatDelta(delta: number, unit: string | null): string {
  if (delta === 0) return '0';
  return `${delta > 0 ? '+' : '−'}${formatValue(Math.abs(delta), unit)}`;
}

function formatRatio(row: Pick<ComparedRow, 'ratio' | 'b'>): string {
  if (row.ratio === null) return row.b > 0 ? 'new in B' : '—';
  if (row.ratio === 0) return 'none in B';
  return `×${row.ratio >= 10 ? formatDecimal(row.ratio) : row.ratio.toFixed(2)}`;
}

function formatShare(share: number): string {
  return `${(share * 100).toFixed(1)} %`;
}

function cellsOf(row: HTMLTableRowElement): string[] {
  return [...row.cells].map((cell) => cell.textContent ?? '');
}

export class ComparisonView implements PagePart {
  readonly element = el('details', 'comparison');
  private readonly summary = el('summary', undefined, 'A/B comparison');
  private readonly runA = el('span', 'comparison-label');
  private readonly runB = el('span', 'comparison-label');
  private readonly totals = el('table', 'comparison-totals');
  private readonly charts = el('section', 'charts');
  private readonly tables = el('div', 'comparison-tables');
  private readonly distributions = el('div', 'comparison-tables');
  private readonly chartSlots: ChartSlot[] = [];
  private comparison: RunComparison | null = null;

  constructor(post: Post) {
    this.element.open = true;
    this.element.hidden = true;
    const bar = el('div', 'comparison-bar');
    const a = el('span', 'comparison-run');
    a.append(el('span', 'run-badge a', 'A'), this.runA);
    const b = el('span', 'comparison-run');
    b.append(el('span', 'run-badge b', 'B'), this.runB);
    const change = el('button', 'compare', 'Compare with…');
    change.type = 'button';
    change.addEventListener('click', () => post({ type: 'compareWith' }));
    const stop = el('button', 'compare', 'Stop comparing');
    stop.type = 'button';
    stop.addEventListener('click', () => post({ type: 'selectComparison', sessionId: null }));
    bar.append(a, el('span', 'muted', 'vs'), b, el('span', 'spacer'), change, stop);
    this.element.append(this.summary, bar, this.totals, this.charts, this.tables, this.distributions);
  }

  get shown(): boolean {
    return this.comparison !== null;
  }

  /** Takes `comparison`. */
  take(message: { readonly type: string }): boolean {
    if (message.type !== 'comparison') return false;
    this.update(message as ComparisonMessage);
    return true;
  }

  update(message: ComparisonMessage): void {
    this.comparison = message.comparison;
    this.element.hidden = message.comparison === null;
    if (message.comparison) this.render(message.comparison);
  }

  /** Theme change: charts in the new colours. */
  rebuildCharts(): void {
    for (const slot of this.chartSlots) slot.rebuild();
  }

  private render(c: RunComparison): void {
    const describe = (run: RunComparison['a']): string => `${run.label} — ${run.source === 'recording' ? 'recording' : 'live'}, ${formatWholeSeconds(Math.round(run.durationSeconds))}`;
    setUntrustedText(this.runA, describe(c.a));
    setUntrustedText(this.runB, describe(c.b));
    setText(this.summary, `A/B comparison — marked: one run has ×${c.threshold.ratio} the other's or more (counts from ${c.threshold.minCount})`);
    this.renderTotals(c.totals);
    this.renderRates(c.rates);
    this.tables.textContent = '';
    for (const table of c.tables) this.tables.append(this.countTable(table.title, table.rows, table.amountUnit, table.omittedRows));
    this.distributions.textContent = '';
    for (const d of c.distributions) this.distributions.append(this.distributionTable(d));
  }

  private renderTotals(rows: readonly ComparedRow[]): void {
    this.totals.textContent = '';
    const head = this.totals.createTHead().insertRow();
    for (const title of ['Total', 'A', 'B', 'B − A', 'B / A']) head.append(el('th', undefined, title));
    const body = this.totals.createTBody();
    for (const row of rows) {
      const tr = body.insertRow();
      if (row.highlight) tr.className = `diff-${row.highlight}`;
      const whole = !row.key.endsWith('/s');
      const show = (v: number): string => (whole ? formatCount(Math.round(v)) : formatDecimal(v));
      tr.append(el('td', undefined, row.key), el('td', undefined, show(row.a)), el('td', undefined, show(row.b)), el('td', 'delta', row.delta === 0 ? '0' : `${row.delta > 0 ? '+' : '−'}${show(Math.abs(row.delta))}`), el('td', undefined, formatRatio(row)));
    }
  }

  private renderRates(rates: readonly ComparedRate[]): void {
    while (this.chartSlots.length < rates.length) this.chartSlots.push(new ChartSlot(this.charts));
    this.chartSlots.forEach((slot, i) => {
      const rate = rates[i];
      slot.box.hidden = rate === undefined;
      if (!rate) return;
      slot.box.classList.toggle('diff-more', rate.highlight);
      slot.update({
        title: `${rate.unit}: A ${formatDecimal(rate.meanA)}, B ${formatDecimal(rate.meanB)} on average`,
        x: rate.seconds,
        series: [
          { label: 'A', colorVar: '--vscode-charts-blue', fallback: '#3794ff', values: rate.a },
          { label: 'B', colorVar: '--vscode-charts-orange', fallback: '#d18616', values: rate.b },
        ],
        formatValue: rate.title === 'bytes' ? formatBytes : formatDecimal,
      });
    });
  }

  private countTable(title: string, rows: readonly ComparedRow[], amountUnit: string | null, omitted: number): HTMLElement {
    const box = el('section', 'comparison-table');
    const heading = el('h2');
    setUntrustedText(heading, title);
    const table = el('table');
    const head = table.createTHead().insertRow();
    const titles = ['', 'A', 'B', 'B − A', 'B / A', 'share A → B', ...(amountUnit ? [`${amountUnit} A → B`] : [])];
    for (const t of titles) head.append(el('th', undefined, t));
    const body = table.createTBody();
    for (const row of rows) {
      const tr = body.insertRow();
      if (row.highlight) tr.className = `diff-${row.highlight}`;
      const key = el('td');
      setUntrustedText(key, row.key);
      tr.append(key, el('td', undefined, formatCount(row.a)), el('td', undefined, formatCount(row.b)), el('td', 'delta', formatDelta(row.delta, null)), el('td', undefined, formatRatio(row)));
      tr.append(el('td', undefined, `${formatShare(row.shareA)} → ${formatShare(row.shareB)}`));
      if (amountUnit) tr.append(el('td', undefined, `${formatValue(row.amountA ?? 0, amountUnit)} → ${formatValue(row.amountB ?? 0, amountUnit)}`));
    }
    box.append(heading, table);
    if (omitted > 0) box.append(el('div', 'omitted', `${formatCount(omitted)} more not shown (the smallest)`));
    return box;
  }

  private distributionTable(d: ComparedDistribution): HTMLElement {
    const box = el('section', 'comparison-table distribution');
    const heading = el('h2');
    setUntrustedText(heading, d.unit ? `${d.title} (${d.unit})` : d.title);
    const quantiles = el('table', 'quantiles');
    const qHead = quantiles.createTHead().insertRow();
    for (const t of ['', 'A', 'B', 'B / A']) qHead.append(el('th', undefined, t));
    const qBody = quantiles.createTBody();
    for (const q of d.quantiles) {
      const tr = qBody.insertRow();
      if (q.highlight) tr.className = q.a !== null && q.b !== null && q.b > q.a ? 'diff-more' : 'diff-fewer';
      const show = (v: number | null): string => (v === null ? '—' : formatValue(v, d.unit));
      tr.append(el('td', undefined, q.name), el('td', undefined, show(q.a)), el('td', undefined, show(q.b)), el('td', undefined, q.a && q.b !== null ? formatRatio({ ratio: q.b / q.a, b: q.b }) : '—'));
    }
    const buckets = el('table', 'buckets');
    const bHead = buckets.createTHead().insertRow();
    for (const t of ['bucket', 'A', 'B']) bHead.append(el('th', undefined, t));
    const bBody = buckets.createTBody();
    for (const bucket of d.buckets) {
      const tr = bBody.insertRow();
      const range = `${formatValue(bucket.min, d.unit)} – ${formatValue(bucket.max, d.unit)}`;
      const [a, b] = [bucket.a, bucket.b];
      if (Math.max(a, b) >= 5 && (a === 0 || b === 0 || b / a >= 1.5 || a / b >= 1.5)) tr.className = b > a ? 'diff-more' : 'diff-fewer';
      tr.append(el('td', undefined, range), el('td', undefined, formatCount(a)), el('td', undefined, formatCount(b)));
    }
    box.append(heading, quantiles, buckets);
    return box;
  }

  /** What the section drew (render reports). */
  report(): ComparisonReport {
    const c = this.comparison;
    if (!c) return { shown: false, runA: '', runB: '', tables: [], totals: [], rateCharts: 0, distributions: [], tableBoxes: [], visibleRight: 0 };
    const section = this.element.getBoundingClientRect();
    return {
      shown: !this.element.hidden,
      runA: this.runA.textContent ?? '',
      runB: this.runB.textContent ?? '',
      totals: [...this.totals.tBodies[0]?.rows ?? []].map(cellsOf),
      tables: [...this.tables.querySelectorAll('.comparison-table')].map((box) => ({
        title: box.querySelector('h2')?.textContent ?? '',
        rows: [...box.querySelectorAll('tbody tr')].map((tr) => cellsOf(tr as HTMLTableRowElement)),
        highlighted: box.querySelectorAll('tbody tr[class^="diff-"]').length,
      })),
      rateCharts: this.charts.querySelectorAll('canvas').length,
      distributions: [...this.distributions.querySelectorAll('.distribution')].map((box) => ({
        title: box.querySelector('h2')?.textContent ?? '',
        quantiles: [...box.querySelectorAll('.quantiles tbody tr')].map((tr) => cellsOf(tr as HTMLTableRowElement).join(' ')),
      })),
      tableBoxes: [...this.element.querySelectorAll('.comparison-table table')].map((table): TableBox => {
        const title = table.parentElement?.querySelector('h2')?.textContent ?? '';
        const { left, top, right, bottom } = table.getBoundingClientRect();
        return { title: table.classList.length > 0 ? `${title} ${table.className}` : title, left, top, right, bottom };
      }),
      visibleRight: Math.min(section.left + this.element.clientLeft + this.element.clientWidth, document.documentElement.clientWidth),
    };
  }
}

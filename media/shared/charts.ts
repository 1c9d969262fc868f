// uPlot line charts in theme colours: one ChartSlot per chart, rebuilt when the theme or the series change,
// resized with the panel.
import uPlot from 'uplot';
import { latestIndex, WHOLE_SECOND_STEPS, wholeAxisSplits, type ChartReport } from '../../src/shared/chartAxis';
import { cssColor, el, formatAxisTime, formatDecimal, themeColors } from './dom';

/** A uPlot axis in the theme's colours (each chart adds its ticks and labels). */
export function themedAxis(): uPlot.Axis {
  const { foreground, grid, fontFamily } = themeColors();
  return { stroke: foreground, font: `11px ${fontFamily}`, grid: { stroke: grid, width: 1 }, ticks: { stroke: grid, width: 1 } };
}

/** The y axis' ticks: whole steps, so that no two labels read alike (src/shared/chartAxis.ts). */
export function wholeSplits(_u: uPlot, _axis: number, _min: number, max: number): number[] {
  return wholeAxisSplits(max);
}

/** Hooks that keep the newest values in the legend while the cursor is not on the chart (not "—" until hovered). */
export function latestInLegend(): uPlot.Hooks.Arrays {
  const showLatest = (u: uPlot): void => {
    if (u.cursor.idx !== null && u.cursor.idx !== undefined) return;
    const idx = latestIndex(u.data.slice(1) as (number | null | undefined)[][]);
    if (idx >= 0 && u.legend.idx !== idx) u.setLegend({ idx }, false);
  };
  return { ready: [showLatest], setData: [showLatest], setLegend: [showLatest] };
}

export function chartReport(title: string, plot: uPlot | undefined, formatAxis: (value: number) => string): ChartReport {
  if (!plot) return { title, legend: '', yLabels: [] };
  const legend = [...plot.root.querySelectorAll('.u-legend .u-series')].map((row) => (row.textContent ?? '').replace(/\s+/g, ' ').trim()).join(' | ');
  const max = plot.scales.y?.max ?? 0;
  return { title, legend, yLabels: wholeAxisSplits(max).map(formatAxis) };
}

export interface SeriesSpec {
  readonly label: string;
  /** A VS Code theme colour variable, e.g. --vscode-charts-blue. */
  readonly colorVar: string;
  readonly fallback: string;
  readonly values: readonly (number | null)[];
  /** Fill the area under the line (lightly). */
  readonly fill?: boolean;
}

export interface ChartSpec {
  readonly title: string;
  /** Seconds since the session started. */
  readonly x: readonly number[];
  readonly series: readonly SeriesSpec[];
  readonly formatValue?: (value: number) => string;
  /** Draw points (sparse data such as flushes) rather than only lines; 'auto': where they have room (uPlot's choice). */
  readonly points?: boolean | 'auto';
  /** The y axis' labels (default: formatValue, compact above 10,000) and width in px (default 60). */
  readonly formatAxis?: (value: number) => string;
  readonly axisSize?: number;
  /** The time axis' tick steps in seconds (default: WHOLE_SECOND_STEPS). */
  readonly timeSteps?: readonly number[];
}

const CHART_HEIGHT = 150;
const compact = new Intl.NumberFormat('en-US', { notation: 'compact', maximumFractionDigits: 1 });

export class ChartSlot {
  readonly box: HTMLElement;
  private readonly heading: HTMLElement;
  private readonly host: HTMLElement;
  private plot: uPlot | undefined;
  private shape = '';
  private spec: ChartSpec | undefined;

  constructor(parent: HTMLElement) {
    this.box = el('div', 'chart-box');
    this.heading = el('h2');
    this.host = el('div', 'chart');
    this.box.append(this.heading, this.host);
    parent.append(this.box);
    new ResizeObserver(() => requestAnimationFrame(() => this.resize())).observe(this.host);
  }

  update(spec: ChartSpec): void {
    this.spec = spec;
    this.heading.textContent = spec.title;
    const shape = `${spec.title}\u0001${spec.series.map((s) => s.label).join('\u0001')}\u0001${spec.points === true}`;
    const data = [spec.x, ...spec.series.map((s) => s.values)] as uPlot.AlignedData;
    if (this.plot && shape === this.shape) {
      this.plot.setData(data);
      return;
    }
    this.plot?.destroy();
    this.shape = shape;
    this.plot = new uPlot(this.options(spec), data, this.host);
  }

  private axisFormat(spec: ChartSpec): (value: number) => string {
    const format = spec.formatValue ?? ((v: number) => formatDecimal(v));
    return spec.formatAxis ?? ((v: number) => (Math.abs(v) >= 10_000 ? compact.format(v) : format(v)));
  }

  /** What the chart shows now (render reports). */
  report(): ChartReport {
    return chartReport(this.spec?.title ?? '', this.plot, this.spec ? this.axisFormat(this.spec) : formatDecimal);
  }

  /** Theme change: rebuild with the new colours. */
  rebuild(): void {
    this.plot?.destroy();
    this.plot = undefined;
    this.shape = '';
    if (this.spec) this.update(this.spec);
  }

  private resize(): void {
    if (!this.plot) return;
    const width = Math.max(200, Math.floor(this.host.clientWidth));
    if (width !== this.plot.width) this.plot.setSize({ width, height: CHART_HEIGHT });
  }

  private options(spec: ChartSpec): uPlot.Options {
    const axis = themedAxis();
    const format = spec.formatValue ?? ((v: number) => formatDecimal(v));
    const show = (v: number | null | undefined): string => (v === null || v === undefined ? '—' : format(v));
    const formatAxis = this.axisFormat(spec);
    return {
      width: Math.max(200, this.host.clientWidth),
      height: CHART_HEIGHT,
      legend: { show: true, live: true },
      cursor: { drag: { x: false, y: false } },
      scales: { x: { time: false }, y: { range: (_u, _min, max) => [0, Math.max(1, max * 1.1)] } },
      axes: [
        { ...axis, incrs: [...(spec.timeSteps ?? WHOLE_SECOND_STEPS)], values: (_u, splits) => splits.map(formatAxisTime) },
        { ...axis, size: spec.axisSize ?? 60, splits: wholeSplits, values: (_u, splits) => splits.map(formatAxis) },
      ],
      hooks: latestInLegend(),
      series: [
        { label: 'Time', value: (_u, v) => (v === null || v === undefined ? '—' : formatAxisTime(v)) },
        ...spec.series.map((s) => {
          const color = cssColor(s.colorVar, s.fallback);
          return {
            label: s.label,
            stroke: color,
            width: 1.5,
            points: spec.points === 'auto' ? {} : { show: spec.points === true, size: 5, fill: color },
            fill: s.fill === true && /^#[0-9a-f]{6}$/i.test(color) ? `${color}26` : undefined,
            value: (_u: uPlot, v: number | null) => show(v),
          };
        }),
      ],
    };
  }
}

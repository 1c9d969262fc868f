// The P2P page's two rate charts (messages and bytes per second, in and out) on the shared ChartSlot.
import { ChartSlot, type SeriesSpec } from '../shared/charts';
import { formatBytes } from '../shared/dom';
import type { Rates } from './model';

const integer = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 });
const oneDecimal = new Intl.NumberFormat('en-US', { maximumFractionDigits: 1 });
const TIME_STEPS = [1, 2, 5, 10, 15, 30, 60, 120, 300, 600];

function inOut(valuesIn: readonly number[], valuesOut: readonly number[]): SeriesSpec[] {
  return [
    { label: 'In', colorVar: '--vscode-charts-blue', fallback: '#3794ff', values: valuesIn, fill: true },
    { label: 'Out', colorVar: '--vscode-charts-orange', fallback: '#d18616', values: valuesOut },
  ];
}

export class RateCharts {
  private readonly messages: ChartSlot;
  private readonly bytes: ChartSlot;

  constructor(parent: HTMLElement) {
    this.messages = new ChartSlot(parent);
    this.bytes = new ChartSlot(parent);
  }

  update(rates: Rates): void {
    const x = rates.msgsIn.map((_v, i) => rates.startSecond + i);
    this.messages.update({
      title: 'Messages per second',
      x,
      series: inOut(rates.msgsIn, rates.msgsOut),
      formatValue: (v) => oneDecimal.format(v),
      formatAxis: (v) => integer.format(v),
      axisSize: 50,
      timeSteps: TIME_STEPS,
      points: 'auto',
    });
    this.bytes.update({ title: 'Bytes per second', x, series: inOut(rates.bytesIn, rates.bytesOut), formatValue: formatBytes, formatAxis: formatBytes, axisSize: 70, timeSteps: TIME_STEPS, points: 'auto' });
  }

  /** Theme change: rebuild with the new colours. */
  rebuild(): void {
    this.messages.rebuild();
    this.bytes.rebuild();
  }
}

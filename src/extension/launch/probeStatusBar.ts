import * as vscode from 'vscode';
import { EventRateMeter, formatProbeStatusText } from '../../core/process/probeStatusText';

/** What the status bar reads from the running probe, about once a second. */
export interface ProbeCounters {
  readonly tool: string;
  /** Still waiting for the helper to connect (password prompt). */
  readonly connected: boolean;
  /** Tracepoint events delivered since the session started (cumulative). */
  readonly delivered: number;
  /** Events known lost since the session started (cumulative). */
  readonly lost: number;
}

export const PROBE_STATUS_ACTIONS_COMMAND = 'bitcoinUsdt.probeStatusActions';
const UPDATE_INTERVAL_MS = 1000;

/** `$(pulse) p2p-traffic · 1,234 ev/s · lost 0` while a probe runs; warning background once anything is lost. */
export class ProbeStatusBar implements vscode.Disposable {
  private readonly item = vscode.window.createStatusBarItem('bitcoinUsdt.probeStatus', vscode.StatusBarAlignment.Left, 50);
  private timer: NodeJS.Timeout | undefined;
  private meter: EventRateMeter | undefined;
  private visible = false;

  constructor() {
    this.item.name = 'Bitcoin USDT probe';
    this.item.command = { command: PROBE_STATUS_ACTIONS_COMMAND, title: 'Probe actions' };
  }

  /** Shows the item and reads the counters every second until `hide`. */
  show(readCounters: () => ProbeCounters): void {
    this.hide();
    this.meter = new EventRateMeter(Date.now());
    const update = (): void => this.render(readCounters());
    update();
    this.item.show();
    this.visible = true;
    this.timer = setInterval(update, UPDATE_INTERVAL_MS);
  }

  hide(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    this.meter = undefined;
    this.item.hide();
    this.visible = false;
  }

  /** The text currently shown; empty while hidden. */
  get text(): string {
    return this.visible ? this.item.text : '';
  }

  dispose(): void {
    this.hide();
    this.item.dispose();
  }

  private render(counters: ProbeCounters): void {
    const eventsPerSecond = this.meter?.sample(counters.delivered, Date.now()) ?? 0;
    this.item.text = formatProbeStatusText({ tool: counters.tool, eventsPerSecond, lost: counters.lost, waiting: !counters.connected });
    this.item.backgroundColor = counters.lost > 0 ? new vscode.ThemeColor('statusBarItem.warningBackground') : undefined;
    const tooltip = new vscode.MarkdownString();
    tooltip.appendText(
      counters.connected
        ? `${counters.tool}: ${counters.delivered.toLocaleString('en-US')} events delivered, ${counters.lost.toLocaleString('en-US')} lost. Click for actions.`
        : `${counters.tool}: waiting for the helper to start (type your password in the terminal). Click for actions.`,
    );
    this.item.tooltip = tooltip;
  }
}

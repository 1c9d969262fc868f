import * as vscode from 'vscode';
import { EventRateMeter, formatProbesStatusText } from '../../core/process/probeStatusText';

/** What the status bar reads from one running probe, about once a second. */
export interface ProbeCounters {
  readonly sessionId: string;
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

/**
 * `$(pulse) p2p-traffic · 1,234 ev/s · lost 0` while one probe runs, `$(pulse) 3 probes · …` (summed) while
 * several do; warning background once anything is lost.
 */
export class ProbeStatusBar implements vscode.Disposable {
  private readonly item = vscode.window.createStatusBarItem('bitcoinUsdt.probeStatus', vscode.StatusBarAlignment.Left, 50);
  private timer: NodeJS.Timeout | undefined;
  /** One rate meter per running session. */
  private readonly meters = new Map<string, EventRateMeter>();
  private readCounters: (() => readonly ProbeCounters[]) | undefined;
  private visible = false;

  constructor() {
    this.item.name = 'Bitcoin USDT probe';
    this.item.command = { command: PROBE_STATUS_ACTIONS_COMMAND, title: 'Probe actions' };
  }

  /** Shows the item (if hidden) and reads every session's counters each second until `hide`. */
  show(readCounters: () => readonly ProbeCounters[]): void {
    this.readCounters = readCounters;
    this.update();
    if (this.visible) return;
    this.item.show();
    this.visible = true;
    this.timer = setInterval(() => this.update(), UPDATE_INTERVAL_MS);
  }

  hide(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    this.meters.clear();
    this.readCounters = undefined;
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

  private update(): void {
    const all = this.readCounters?.() ?? [];
    const now = Date.now();
    for (const id of [...this.meters.keys()]) if (!all.some((c) => c.sessionId === id)) this.meters.delete(id);
    const statuses = all.map((counters) => {
      let meter = this.meters.get(counters.sessionId);
      if (!meter) this.meters.set(counters.sessionId, (meter = new EventRateMeter(now)));
      return { tool: counters.tool, eventsPerSecond: meter.sample(counters.delivered, now), lost: counters.lost, waiting: !counters.connected };
    });
    this.item.text = formatProbesStatusText(statuses);
    this.item.backgroundColor = all.some((c) => c.lost > 0) ? new vscode.ThemeColor('statusBarItem.warningBackground') : undefined;
    const tooltip = new vscode.MarkdownString();
    for (const counters of all) {
      tooltip.appendText(
        counters.connected
          ? `${counters.tool}: ${counters.delivered.toLocaleString('en-US')} events delivered, ${counters.lost.toLocaleString('en-US')} lost.`
          : `${counters.tool}: waiting for the helper to start (type your password in the terminal).`,
      );
      tooltip.appendMarkdown('\n\n');
    }
    tooltip.appendText('Click for actions.');
    this.item.tooltip = tooltip;
  }
}

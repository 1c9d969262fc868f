// The text of the running probe's status bar item, and the event rate it shows.

export interface ProbeStatus {
  readonly tool: string;
  readonly eventsPerSecond: number;
  readonly lost: number;
  /** Still waiting for the helper (password prompt in the terminal). */
  readonly waiting?: boolean;
}

// Created on first use: building an Intl formatter is a large part of the extension's load time.
let numberFormat: Intl.NumberFormat | undefined;
function formatCount(value: number): string {
  numberFormat ??= new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 });
  return numberFormat.format(value);
}

/** `$(pulse) p2p-traffic · 1,234 ev/s · lost 0` (codicon syntax of VS Code's status bar). */
export function formatProbeStatusText(status: ProbeStatus): string {
  if (status.waiting) return `$(loading~spin) ${status.tool} · waiting for the helper`;
  return `$(pulse) ${status.tool} · ${formatCount(Math.round(status.eventsPerSecond))} ev/s · lost ${formatCount(status.lost)}`;
}

/**
 * The status bar text for every running probe: one probe as `formatProbeStatusText`, several as
 * `$(pulse) 3 probes · 1,234 ev/s · lost 0` (rates and losses summed; ` · 1 waiting` while helpers start).
 */
export function formatProbesStatusText(statuses: readonly ProbeStatus[]): string {
  if (statuses.length === 0) return '';
  if (statuses.length === 1) return formatProbeStatusText(statuses[0]);
  const waiting = statuses.filter((s) => s.waiting).length;
  if (waiting === statuses.length) return `$(loading~spin) ${statuses.length} probes · waiting for the helpers`;
  const running = statuses.filter((s) => !s.waiting);
  const rate = running.reduce((sum, s) => sum + s.eventsPerSecond, 0);
  const lost = running.reduce((sum, s) => sum + s.lost, 0);
  return `$(pulse) ${statuses.length} probes · ${formatCount(Math.round(rate))} ev/s · lost ${formatCount(lost)}${waiting > 0 ? ` · ${waiting} waiting` : ''}`;
}

/** Events per second between two readings of a cumulative count (ticks about once a second). */
export class EventRateMeter {
  private lastCount = 0;
  private lastTimeMs: number;
  private rate = 0;

  constructor(startTimeMs: number) {
    this.lastTimeMs = startTimeMs;
  }

  /** Takes the cumulative count at `nowMs` and returns the rate since the previous reading. */
  sample(cumulativeCount: number, nowMs: number): number {
    const elapsedMs = nowMs - this.lastTimeMs;
    if (elapsedMs <= 0) return this.rate;
    this.rate = Math.max(0, cumulativeCount - this.lastCount) / (elapsedMs / 1000);
    this.lastCount = cumulativeCount;
    this.lastTimeMs = nowMs;
    return this.rate;
  }
}

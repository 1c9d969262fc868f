// What every tool view shares: the session account (loss, truncation, fired and ignored counts, session
// status and notes: core/session/sessionAccount.ts) and change tracking. Each tool's aggregator handles its own tracepoint events in `ingestToolEvent`.

import type { ToolCounters, ToolFilter, ToolPanelTool, ToolSnapshot, ToolView } from '../../shared/toolPanelProtocol';
import { DEFAULT_ACCOUNT_LIMITS, SessionAccount } from '../session/sessionAccount';
import { fieldsOf, numberField, type ToolEventLike } from './eventFields';

export interface ToolViewOptions {
  /**
   * Wall-clock time (ms since the epoch) the session started: turns UNIX-second fields into durations. A
   * `session:attached` event's `wall_clock_ms` (the helper's clock at the attach, where elapsed_ns counts from)
   * replaces it: the launch time would count the password and the compile too.
   */
  readonly startedAtMs?: number | null;
  readonly maxSessionNotes?: number;
  /** Distinct names kept in the truncated-by-field and fired-count tables. */
  readonly maxNamedCounters?: number;
}

export interface ToolViewAggregator {
  readonly tool: ToolPanelTool;
  /** Something changed since the last snapshot. */
  readonly hasChanges: boolean;
  /** Wall-clock ms of elapsed_ns 0: the attach (from the helper), else the session's start; null when unknown. */
  readonly timeOriginMs: number | null;
  /** The probe is attached (live sessions count their clock from then). */
  readonly attached: boolean;
  ingestAll(events: readonly ToolEventLike[]): void;
  markEnded(reason: string): void;
  /** The view for `filter`; `nowElapsedNs`: the session clock now (live sessions), for windows and rates. */
  snapshot(filter: ToolFilter, nowElapsedNs?: number): ToolSnapshot;
}

export abstract class ToolViewBase implements ToolViewAggregator {
  abstract readonly tool: ToolPanelTool;
  protected startedAtMs: number | null;
  protected readonly account: SessionAccount;
  private changed = true;

  constructor(options: ToolViewOptions = {}) {
    this.startedAtMs = typeof options.startedAtMs === 'number' && Number.isFinite(options.startedAtMs) ? options.startedAtMs : null;
    this.account = new SessionAccount({
      maxSessionNotes: options.maxSessionNotes ?? DEFAULT_ACCOUNT_LIMITS.maxSessionNotes,
      maxNamedCounters: options.maxNamedCounters ?? DEFAULT_ACCOUNT_LIMITS.maxNamedCounters,
    });
  }

  get hasChanges(): boolean {
    return this.changed;
  }

  get timeOriginMs(): number | null {
    return this.startedAtMs;
  }

  get attached(): boolean {
    return this.account.status().attachedProbes !== null;
  }

  protected get lastElapsedNs(): number {
    return this.account.lastElapsedNs;
  }

  ingestAll(events: readonly ToolEventLike[]): void {
    for (const event of events) this.ingest(event);
  }

  ingest(event: ToolEventLike): void {
    this.changed = true;
    if (event.event === 'session:attached') {
      const wallClock = numberField(fieldsOf(event).wall_clock_ms);
      if (wallClock !== null && Number.isFinite(wallClock) && wallClock > 0) this.startedAtMs = wallClock;
    }
    if (this.account.take(event)) {
      if (event.event === 'fired') this.firedCountsChanged(numberField(fieldsOf(event).elapsed_ns));
      return;
    }
    const fields = fieldsOf(event);
    const elapsed = numberField(fields.elapsed_ns);
    const result = this.ingestToolEvent(event, fields, elapsed ?? this.lastElapsedNs);
    if (result === 'accepted') this.account.accepted();
    else if (result === 'ignored') this.account.ignore();
  }

  markEnded(reason: string): void {
    this.account.markEnded(reason);
    this.changed = true;
  }

  /** 'accepted': one of this tool's events; 'ignored': this tool's event with bad fields; 'other': not this tool's. */
  protected abstract ingestToolEvent(event: ToolEventLike, fields: Readonly<Record<string, unknown>>, elapsedNs: number): 'accepted' | 'ignored' | 'other';

  /** Called after a `fired` event updated the kernel counts. */
  protected firedCountsChanged(_elapsedNs: number | null): void {}

  protected abstract buildView(filter: ToolFilter, nowElapsedNs: number): ToolView;

  /** Marks the view changed (for changes that do not come from events, such as a joined session). */
  protected touch(): void {
    this.changed = true;
  }

  snapshot(filter: ToolFilter, nowElapsedNs = 0): ToolSnapshot {
    this.changed = false;
    const now = Math.max(this.lastElapsedNs, nowElapsedNs);
    const counters: ToolCounters = this.account.counts();
    return { view: this.buildView(filter, now), counters, session: this.account.status() };
  }
}

/** Lower-cased, trimmed filter text ('' = no text filter). */
export function filterNeedle(filter: ToolFilter): string {
  return filter.text.trim().toLowerCase();
}

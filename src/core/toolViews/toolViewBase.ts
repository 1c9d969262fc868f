// What every tool view shares: loss, truncation and fired counters, session status and notes, change
// tracking. Each tool's aggregator handles its own tracepoint events in `ingestToolEvent`.

import type { NamedCount, SessionNote, SessionStatus, ToolCounters, ToolFilter, ToolPanelTool, ToolSnapshot, ToolView } from '../../shared/toolPanelProtocol';
import { fieldsOf, isRecord, numberField, stringField, type ToolEventLike } from './eventFields';

export interface ToolViewOptions {
  /** Wall-clock time (ms since the epoch) the session started: turns UNIX-second fields into durations. */
  readonly startedAtMs?: number | null;
  readonly maxSessionNotes?: number;
  /** Distinct names kept in the truncated-by-field and fired-count tables. */
  readonly maxNamedCounters?: number;
}

export interface ToolViewAggregator {
  readonly tool: ToolPanelTool;
  /** Something changed since the last snapshot. */
  readonly hasChanges: boolean;
  ingestAll(events: readonly ToolEventLike[]): void;
  markEnded(reason: string): void;
  /** The view for `filter`; `nowElapsedNs`: the session clock now (live sessions), for windows and rates. */
  snapshot(filter: ToolFilter, nowElapsedNs?: number): ToolSnapshot;
}

export abstract class ToolViewBase implements ToolViewAggregator {
  abstract readonly tool: ToolPanelTool;
  protected readonly startedAtMs: number | null;
  private readonly maxNotes: number;
  private readonly maxNamed: number;

  private deliveredEvents = 0;
  private lostEvents = 0;
  private ignoredEvents = 0;
  private truncatedStrings = 0;
  private readonly truncatedByField = new Map<string, number>();
  protected readonly fired = new Map<string, number>();
  protected lastElapsedNs = 0;
  private changed = true;
  private readonly session: { tool: string; binary: string | null; pid: number | null; attachedProbes: number | null; ended: boolean; endReason: string | null; notes: SessionNote[] } = {
    tool: '',
    binary: null,
    pid: null,
    attachedProbes: null,
    ended: false,
    endReason: null,
    notes: [],
  };

  constructor(options: ToolViewOptions = {}) {
    this.startedAtMs = typeof options.startedAtMs === 'number' && Number.isFinite(options.startedAtMs) ? options.startedAtMs : null;
    this.maxNotes = options.maxSessionNotes ?? 50;
    this.maxNamed = options.maxNamedCounters ?? 64;
  }

  get hasChanges(): boolean {
    return this.changed;
  }

  ingestAll(events: readonly ToolEventLike[]): void {
    for (const event of events) this.ingest(event);
  }

  ingest(event: ToolEventLike): void {
    const fields = fieldsOf(event);
    const elapsed = numberField(fields.elapsed_ns);
    if (elapsed !== null && elapsed > this.lastElapsedNs) this.lastElapsedNs = elapsed;
    this.changed = true;
    switch (event.event) {
      case 'lost': {
        // A reconciled count can be negative (it corrects an over-report); the sum is exact.
        const count = numberField(fields.count);
        if (count !== null) this.lostEvents += count;
        else this.ignoredEvents++;
        return;
      }
      case 'truncated': {
        const count = numberField(fields.count);
        if (count === null || count <= 0) return;
        this.truncatedStrings += count;
        this.addNamed(this.truncatedByField, String(fields.field), count, false);
        return;
      }
      case 'fired': {
        if (!isRecord(fields.counts)) return;
        for (const [name, value] of Object.entries(fields.counts)) {
          const count = numberField(value);
          if (count !== null) this.addNamed(this.fired, name, count, true);
        }
        this.firedCountsChanged(elapsed);
        return;
      }
      case 'session:start':
        this.session.tool = stringField(fields.tool) ?? '';
        this.session.binary = stringField(fields.binary);
        this.session.pid = numberField(fields.pid);
        return;
      case 'session:attached':
        this.session.attachedProbes = numberField(fields.probes);
        if (numberField(fields.pid) !== null) this.session.pid = numberField(fields.pid);
        return;
      case 'session:message': {
        const level = fields.level === 'warning' || fields.level === 'error' ? fields.level : 'info';
        this.session.notes.push({ level, message: String(fields.message ?? '') });
        if (this.session.notes.length > this.maxNotes) this.session.notes.splice(0, this.session.notes.length - this.maxNotes);
        return;
      }
      case 'session:end':
        this.session.ended = true;
        this.session.endReason = stringField(fields.reason);
        return;
      default: {
        const result = this.ingestToolEvent(event, fields, elapsed ?? this.lastElapsedNs);
        if (result === 'accepted') this.deliveredEvents++;
        else if (result === 'ignored') this.ignoredEvents++;
      }
    }
  }

  markEnded(reason: string): void {
    if (!this.session.ended) {
      this.session.ended = true;
      this.session.endReason = reason;
    }
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
    return { view: this.buildView(filter, now), counters: this.counters(), session: this.status() };
  }

  private counters(): ToolCounters {
    return {
      delivered: this.deliveredEvents,
      lostEvents: this.lostEvents,
      ignoredEvents: this.ignoredEvents,
      truncatedStrings: this.truncatedStrings,
      truncatedByField: namedCounts(this.truncatedByField),
      fired: namedCounts(this.fired),
      lastElapsedNs: this.lastElapsedNs,
    };
  }

  private status(): SessionStatus {
    return { ...this.session, notes: [...this.session.notes] };
  }

  private addNamed(map: Map<string, number>, name: string, count: number, replace: boolean): void {
    if (!map.has(name) && map.size >= this.maxNamed) name = '(other)';
    map.set(name, replace && name !== '(other)' ? count : (map.get(name) ?? 0) + count);
  }
}

function namedCounts(map: Map<string, number>): NamedCount[] {
  return [...map].map(([name, count]) => ({ name, count }));
}

/** Lower-cased, trimmed filter text ('' = no text filter). */
export function filterNeedle(filter: ToolFilter): string {
  return filter.text.trim().toLowerCase();
}

// One session's account, the same for every model (P2P, raw messages, benchmark, tool views) and the CLI:
// what was delivered, lost (bpftrace, reconciled, recording), cut (by field), fired in the kernel, ignored
// (events with fields of the wrong types), and the session's status (tool, target, notes, end). A model
// hands every event to `take()` first and handles only those it returns false for.

import type { NamedCount, SessionNote, SessionStatus } from '../../shared/p2pProtocol';
import type { AccountCounts } from '../../shared/sessionCounts';
import { describeFilters } from '../tools/toolFilters';

export type { AccountCounts };

export interface SessionAccountLimits {
  /** Distinct names kept in the truncated-by-field and fired tables; more fold into `(other)`. */
  maxNamedCounters: number;
  /** session:message notes kept (the newest). */
  maxSessionNotes: number;
}

export const DEFAULT_ACCOUNT_LIMITS: SessionAccountLimits = { maxNamedCounters: 64, maxSessionNotes: 50 };

/** The name more names than the limit fold into. */
export const OTHER_NAME = '(other)';


type EventLike = { readonly event: string };

/** session:start's `filters` (parameter → value) described, or null without any (or not an object of strings). */
function kernelFilterOf(filters: unknown): string | null {
  if (typeof filters !== 'object' || filters === null || Array.isArray(filters)) return null;
  const strings: Record<string, string> = {};
  for (const [name, value] of Object.entries(filters)) if (typeof value === 'string') strings[name] = value;
  return describeFilters(strings) || null;
}

function finite(v: unknown): number | null {
  return typeof v === 'number' && Number.isFinite(v) ? v : null;
}

export class SessionAccount {
  private delivered = 0;
  private lost = 0;
  private ignored = 0;
  private truncated = 0;
  private readonly truncatedByField = new Map<string, number>();
  private readonly fired = new Map<string, number>();
  private latestElapsedNs = 0;
  private readonly session: { -readonly [K in keyof SessionStatus]: SessionStatus[K] } & { notes: SessionNote[] } = {
    tool: '',
    binary: null,
    pid: null,
    attachedProbes: null,
    ended: false,
    endReason: null,
    kernelFilter: null,
    notes: [],
  };
  /** Whether the status changed since `takeStatusChange()`. */
  private statusChanged = true;

  constructor(private readonly limits: SessionAccountLimits = DEFAULT_ACCOUNT_LIMITS) {}

  /**
   * Takes the account's and the session's events (`lost`, `truncated`, `fired`, `session:*`): true when it
   * took `event`, false when it is the model's to handle. Keeps the latest `elapsed_ns` of every event.
   */
  take(event: EventLike): boolean {
    const fields = event as unknown as Readonly<Record<string, unknown>>;
    const elapsed = finite(fields.elapsed_ns);
    if (elapsed !== null && elapsed >= 0 && elapsed < Number.MAX_SAFE_INTEGER && elapsed > this.latestElapsedNs) this.latestElapsedNs = elapsed;
    switch (event.event) {
      case 'lost': {
        const count = finite(fields.count);
        if (count === null) this.ignored++;
        else this.lost += count;
        return true;
      }
      case 'truncated': {
        const count = finite(fields.count);
        if (count === null || typeof fields.field !== 'string') this.ignored++;
        else if (count > 0) {
          this.truncated += count;
          this.addNamed(this.truncatedByField, fields.field, count, false);
        }
        return true;
      }
      case 'fired': {
        const counts = fields.counts;
        if (typeof counts !== 'object' || counts === null || Array.isArray(counts)) {
          this.ignored++;
          return true;
        }
        for (const [name, value] of Object.entries(counts)) {
          const count = finite(value);
          if (count !== null) this.addNamed(this.fired, name, count, true);
        }
        return true;
      }
      case 'session:start':
        this.session.tool = typeof fields.tool === 'string' ? fields.tool : '';
        this.session.binary = typeof fields.binary === 'string' ? fields.binary : null;
        this.session.pid = finite(fields.pid);
        this.session.kernelFilter = kernelFilterOf(fields.filters);
        this.statusChanged = true;
        return true;
      case 'session:attached':
        this.session.attachedProbes = finite(fields.probes);
        if (finite(fields.pid) !== null) this.session.pid = finite(fields.pid);
        this.statusChanged = true;
        return true;
      case 'session:message': {
        const level = fields.level === 'warning' || fields.level === 'error' ? fields.level : 'info';
        this.session.notes.push({ level, message: String(fields.message ?? '') });
        if (this.session.notes.length > this.limits.maxSessionNotes) this.session.notes.splice(0, this.session.notes.length - this.limits.maxSessionNotes);
        this.statusChanged = true;
        return true;
      }
      case 'session:end':
        this.markEnded(typeof fields.reason === 'string' ? fields.reason : 'ended');
        return true;
      default:
        return false;
    }
  }

  /** The model took one of its own events. */
  accepted(): void {
    this.delivered++;
  }

  /** The model could not use one of its own events (fields of the wrong types). */
  ignore(): void {
    this.ignored++;
  }

  /** The session ended without a session:end event (e.g. the hub's end notification). */
  markEnded(reason: string): void {
    if (this.session.ended) return;
    this.session.ended = true;
    this.session.endReason = reason;
    this.statusChanged = true;
  }

  get lastElapsedNs(): number {
    return this.latestElapsedNs;
  }

  get ended(): boolean {
    return this.session.ended;
  }

  /** The kernel's latest cumulative count of one tracepoint (null before any). */
  firedCount(name: string): number | null {
    return this.fired.get(name) ?? null;
  }

  counts(): AccountCounts {
    return {
      delivered: this.delivered,
      lostEvents: this.lost,
      ignoredEvents: this.ignored,
      truncatedStrings: this.truncated,
      truncatedByField: namedCounts(this.truncatedByField),
      fired: namedCounts(this.fired),
      lastElapsedNs: this.latestElapsedNs,
    };
  }

  status(): SessionStatus {
    return { ...this.session, notes: [...this.session.notes] };
  }

  /** Whether the status changed since the last `takeStatusChange()`. */
  get hasStatusChange(): boolean {
    return this.statusChanged;
  }

  /** Whether the status changed since the last call. */
  takeStatusChange(): boolean {
    const changed = this.statusChanged;
    this.statusChanged = false;
    return changed;
  }

  private addNamed(map: Map<string, number>, name: string, count: number, cumulative: boolean): void {
    if (!map.has(name) && map.size >= this.limits.maxNamedCounters) name = OTHER_NAME;
    map.set(name, cumulative && name !== OTHER_NAME ? count : (map.get(name) ?? 0) + count);
  }
}

function namedCounts(map: ReadonlyMap<string, number>): NamedCount[] {
  return [...map].map(([name, count]) => ({ name, count }));
}

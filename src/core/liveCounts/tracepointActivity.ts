// What the source shows while tracepoints are traced: per session and tracepoint, the kernel's cumulative
// `fired` count, its current rate, the session's losses, and the last few events' argument values. Fed the
// normalized event stream of every session (live or replayed); bounded in sessions, tracepoints and samples.

import { formatCount, formatDecimal } from '../../shared/format';

/** Which session counted: shown with its counts when several sessions trace one tracepoint. */
export interface ActivitySession {
  readonly id: string;
  readonly tool: string;
  readonly pid: number | null;
  readonly source: 'live' | 'recording';
  /** The session's own label (a recording's file name and tool, …). */
  readonly label: string;
}

export interface ActivityLimits {
  /** Events whose argument values are kept per session and tracepoint (the newest). */
  readonly recentEvents: number;
  /** Sessions kept; beyond it the oldest ended ones are forgotten. */
  readonly maxSessions: number;
  /** Event names (tracepoints) kept per session; more are not counted. */
  readonly maxTracepointsPerSession: number;
  /** The rate is taken over at least this much of the session clock (the kernel reports every 0.5–1 s). */
  readonly rateWindowNs: number;
  /** Characters of one argument value kept (longer ones are cut and marked). */
  readonly maxValueLength: number;
  /** Arguments of one event kept. */
  readonly maxFields: number;
}

export const DEFAULT_ACTIVITY_LIMITS: ActivityLimits = {
  recentEvents: 5,
  maxSessions: 16,
  maxTracepointsPerSession: 64,
  rateWindowNs: 1e9,
  maxValueLength: 96,
  maxFields: 12,
};

/** One session's counts of one tracepoint. */
export interface TracepointSessionCounts {
  readonly session: ActivitySession;
  /** The kernel's cumulative count (null: the session reported none for it yet). */
  readonly fired: number | null;
  /** Events of this tracepoint that reached the extension (0 for tools that count in the kernel only). */
  readonly delivered: number;
  /** Per second: over the last report interval while live; over the whole session once it ended. Null: not measurable yet. */
  readonly ratePerSecond: number | null;
  /** Σ of the session's `lost` counts (the kernel reports losses per session, not per tracepoint). */
  readonly sessionLost: number;
  readonly ended: boolean;
}

/** One event's argument values, as text (untrusted: escape where shown). */
export interface ArgumentSample {
  readonly session: ActivitySession;
  readonly elapsedNs: number | null;
  readonly fields: readonly { readonly name: string; readonly value: string }[];
}

type EventLike = { readonly event: string };

interface FiredSample {
  readonly elapsedNs: number;
  readonly count: number;
}

interface TracepointState {
  fired: number | null;
  delivered: number;
  /** The newest kernel reports, oldest first (enough to span the rate window). */
  samples: FiredSample[];
  /** Ring of the newest events (references; formatted only when asked). */
  recent: EventLike[];
  nextRecent: number;
}

interface SessionState {
  readonly session: ActivitySession;
  readonly tracepoints: Map<string, TracepointState>;
  lost: number;
  lastElapsedNs: number;
  ended: boolean;
}

const MAX_FIRED_SAMPLES = 8;
/** Events that are the session's bookkeeping, never a tracepoint's. */
const NOT_TRACEPOINT_EVENTS: ReadonlySet<string> = new Set(['fired', 'lost', 'truncated']);

/** A tracepoint event's name: "context:event", not a session record. */
export function isTracepointEventName(name: string): boolean {
  return name.includes(':') && !name.startsWith('session:') && !NOT_TRACEPOINT_EVENTS.has(name);
}

export class TracepointActivity {
  private readonly sessions = new Map<string, SessionState>();
  private changed = false;

  constructor(private readonly limits: ActivityLimits = DEFAULT_ACTIVITY_LIMITS) {}

  /** Sessions kept (live and ended). */
  get sessionCount(): number {
    return this.sessions.size;
  }

  get liveSessionCount(): number {
    let live = 0;
    for (const state of this.sessions.values()) if (!state.ended) live++;
    return live;
  }

  /** A new session; the ended sessions `replaces` picks (say, of the same tool) are forgotten. */
  startSession(session: ActivitySession, replaces: (ended: ActivitySession) => boolean = () => false): void {
    for (const [id, state] of this.sessions) if (state.ended && replaces(state.session)) this.sessions.delete(id);
    this.sessions.set(session.id, { session, tracepoints: new Map(), lost: 0, lastElapsedNs: 0, ended: false });
    this.changed = true;
    for (const [id, state] of this.sessions) {
      if (this.sessions.size <= this.limits.maxSessions) break;
      if (state.ended) this.sessions.delete(id);
    }
  }

  /** Takes a batch of one session's events; events of an unknown session are ignored. */
  ingest(sessionId: string, events: readonly EventLike[]): void {
    const state = this.sessions.get(sessionId);
    if (!state) return;
    for (const event of events) {
      // A generated probe's hits (trace-tracepoint) name their tracepoint in a field; its spec is no hit.
      if (event.event === 'tracepoint:spec') continue;
      const hitOf = event.event === 'tracepoint:hit' ? (event as { tracepoint?: unknown }).tracepoint : undefined;
      const name = typeof hitOf === 'string' ? hitOf : event.event;
      if (name === 'fired') this.takeFired(state, event);
      else if (name === 'lost') {
        const count = (event as { count?: unknown }).count;
        if (typeof count === 'number' && Number.isFinite(count)) state.lost += count;
      } else if (isTracepointEventName(name)) {
        const tracepoint = this.tracepointState(state, name);
        if (!tracepoint) continue;
        tracepoint.delivered++;
        tracepoint.recent[tracepoint.nextRecent] = event;
        tracepoint.nextRecent = (tracepoint.nextRecent + 1) % this.limits.recentEvents;
      } else continue;
      this.changed = true;
    }
  }

  endSession(sessionId: string): void {
    const state = this.sessions.get(sessionId);
    if (!state || state.ended) return;
    state.ended = true;
    this.changed = true;
  }

  /** Forgets every ended session. */
  clearEnded(): void {
    for (const [id, state] of this.sessions) if (state.ended) this.sessions.delete(id);
    this.changed = true;
  }

  /** Whether anything changed since the last call. */
  takeChanged(): boolean {
    const changed = this.changed;
    this.changed = false;
    return changed;
  }

  /** Every tracepoint some session counted or delivered. */
  tracepoints(): Set<string> {
    const names = new Set<string>();
    for (const state of this.sessions.values()) for (const name of state.tracepoints.keys()) names.add(name);
    return names;
  }

  /** Each session's counts of `tracepoint` (sessions that never saw it are left out): live ones first, newest first. */
  countsOf(tracepoint: string): TracepointSessionCounts[] {
    const counts: TracepointSessionCounts[] = [];
    for (const state of this.sessions.values()) {
      const tp = state.tracepoints.get(tracepoint);
      if (!tp) continue;
      counts.push({
        session: state.session,
        fired: tp.fired,
        delivered: tp.delivered,
        ratePerSecond: state.ended ? averageRate(tp, state.lastElapsedNs) : this.currentRate(tp),
        sessionLost: state.lost,
        ended: state.ended,
      });
    }
    return counts.reverse().sort((a, b) => Number(a.ended) - Number(b.ended));
  }

  /** The newest events' argument values of `tracepoint`, at most `max`: the sessions in `countsOf`'s order, each newest first. */
  recentArguments(tracepoint: string, max = this.limits.recentEvents): ArgumentSample[] {
    const samples: ArgumentSample[] = [];
    for (const { session } of this.countsOf(tracepoint)) {
      const tp = this.sessions.get(session.id)?.tracepoints.get(tracepoint);
      if (!tp) continue;
      const size = tp.recent.length;
      // Newest to oldest: the slot before the ring's next one is its newest.
      for (let i = 1; i <= size && samples.length < max; i++) {
        const event = tp.recent[(tp.nextRecent - i + size) % size];
        const elapsed = (event as { elapsed_ns?: unknown }).elapsed_ns;
        samples.push({ session, elapsedNs: typeof elapsed === 'number' ? elapsed : null, fields: this.argumentFields(event) });
      }
    }
    return samples;
  }

  private tracepointState(state: SessionState, name: string): TracepointState | undefined {
    let tp = state.tracepoints.get(name);
    if (!tp && state.tracepoints.size < this.limits.maxTracepointsPerSession) {
      tp = { fired: null, delivered: 0, samples: [], recent: [], nextRecent: 0 };
      state.tracepoints.set(name, tp);
    }
    return tp;
  }

  private takeFired(state: SessionState, event: EventLike): void {
    const { counts, elapsed_ns: elapsed } = event as { counts?: unknown; elapsed_ns?: unknown };
    if (typeof counts !== 'object' || counts === null || Array.isArray(counts)) return;
    const elapsedNs = typeof elapsed === 'number' && Number.isFinite(elapsed) && elapsed >= 0 ? elapsed : null;
    if (elapsedNs !== null && elapsedNs > state.lastElapsedNs) state.lastElapsedNs = elapsedNs;
    for (const [name, value] of Object.entries(counts as Record<string, unknown>)) {
      if (typeof value !== 'number' || !Number.isFinite(value)) continue;
      const tp = this.tracepointState(state, name);
      if (!tp) continue;
      // Cumulative over the session: the newest report is the count.
      tp.fired = value;
      if (elapsedNs === null) continue;
      const last = tp.samples[tp.samples.length - 1];
      if (last && elapsedNs <= last.elapsedNs) {
        if (elapsedNs === last.elapsedNs) tp.samples[tp.samples.length - 1] = { elapsedNs, count: value };
        continue;
      }
      tp.samples.push({ elapsedNs, count: value });
      if (tp.samples.length > MAX_FIRED_SAMPLES) tp.samples.shift();
    }
  }

  /** Over the newest reports spanning at least the rate window (or all there are). */
  private currentRate(tp: TracepointState): number | null {
    const { samples } = tp;
    if (samples.length < 2) return null;
    const newest = samples[samples.length - 1];
    let reference = samples[0];
    for (let i = samples.length - 2; i >= 0; i--) {
      reference = samples[i];
      if (newest.elapsedNs - samples[i].elapsedNs >= this.limits.rateWindowNs) break;
    }
    const seconds = (newest.elapsedNs - reference.elapsedNs) / 1e9;
    return seconds > 0 ? Math.max(0, newest.count - reference.count) / seconds : null;
  }

  private argumentFields(event: EventLike): { name: string; value: string }[] {
    const fields: { name: string; value: string }[] = [];
    for (const [name, value] of Object.entries(event)) {
      if (name === 'event' || name === 'elapsed_ns') continue;
      if (fields.length >= this.limits.maxFields) break;
      fields.push({ name, value: this.valueText(value) });
    }
    return fields;
  }

  private valueText(value: unknown): string {
    let text: string;
    if (typeof value === 'string') text = JSON.stringify(value);
    else if (typeof value === 'number' || typeof value === 'boolean' || value === null) text = String(value);
    else text = JSON.stringify(value) ?? String(value);
    const max = this.limits.maxValueLength;
    return text.length > max ? `${text.slice(0, max)}… (${formatCount(text.length)} characters)` : text;
  }
}

/** Over the whole session (an ended session, or a recording replayed at once). */
function averageRate(tp: TracepointState, sessionElapsedNs: number): number | null {
  if (tp.fired === null || sessionElapsedNs <= 0) return null;
  return tp.fired / (sessionElapsedNs / 1e9);
}

/** "p2p-traffic · pid 4242", "utxos · every process", or a recording's label. */
export function sessionTag(session: ActivitySession): string {
  if (session.source === 'recording') return session.label;
  return `${session.tool} · ${session.pid === null ? 'every process' : `pid ${session.pid}`}`;
}

/** A rate as shown: "0/s", "3.5/s", "1,234/s". */
export function formatRate(perSecond: number): string {
  return `${perSecond >= 100 ? formatCount(Math.round(perSecond)) : formatDecimal(perSecond)}/s`;
}

/** One session's figures, e.g. "1,234 fired · 56/s · 0 lost" ("ended · avg 3.5/s" once it ended). */
export function countsText(counts: TracepointSessionCounts): string {
  const fired = counts.fired === null ? `${formatCount(counts.delivered)} delivered` : `${formatCount(counts.fired)} fired`;
  const rate = counts.ratePerSecond === null ? '' : counts.ended ? ` · avg ${formatRate(counts.ratePerSecond)}` : ` · ${formatRate(counts.ratePerSecond)}`;
  return `${fired}${rate} · ${formatCount(counts.sessionLost)} lost${counts.ended ? ' · ended' : ''}`;
}

/** Sessions named inline; more are summed up as "+N more" (the hover lists all). */
export const INLINE_SESSIONS = 3;

/**
 * The text after a call site: one session's figures alone, or each session's tagged
 * ("utxos · pid 42: 10 fired · … | utxos · pid 43: …") when several trace the tracepoint.
 */
export function callSiteText(all: readonly TracepointSessionCounts[]): string {
  if (all.length === 0) return '';
  if (all.length === 1) return countsText(all[0]);
  const shown = all.slice(0, INLINE_SESSIONS).map((counts) => `${sessionTag(counts.session)}: ${countsText(counts)}`);
  if (all.length > INLINE_SESSIONS) shown.push(`+${all.length - INLINE_SESSIONS} more`);
  return shown.join('  |  ');
}

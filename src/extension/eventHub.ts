import * as vscode from 'vscode';
import type { NormalizedEvent } from '../core/events/eventTypes';

/** One stream of normalized events: a live probe session or a replayed recording. */
export interface SessionDescriptor {
  readonly id: string;
  readonly tool: string;
  readonly source: 'live' | 'recording';
  readonly label: string;
  readonly binary: string | null;
  readonly pid: number | null;
  /** ISO 8601 */
  readonly startedAt: string;
  /** The tool's parameters as launched (live sessions; a recording does not keep them). */
  readonly params?: Readonly<Record<string, string>>;
  /** A live session's state until its helper connects ("waiting for the password (in the probe terminal)", "starting"). */
  readonly startingText?: string;
  /** Names the session's recording besides its tool (the functional test it traces). */
  readonly recordingName?: string;
}

export interface SessionEvents {
  readonly session: SessionDescriptor;
  readonly events: readonly NormalizedEvent[];
}

/**
 * Where live sessions and replayed recordings publish their events, and where panels and the
 * recorder subscribe. Producers publish in batches; nothing is buffered here.
 */
export class EventHub implements vscode.Disposable {
  private readonly sessions = new Map<string, SessionDescriptor>();
  private readonly started = new vscode.EventEmitter<SessionDescriptor>();
  private readonly received = new vscode.EventEmitter<SessionEvents>();
  private readonly ended = new vscode.EventEmitter<{ session: SessionDescriptor; reason: string }>();

  readonly onDidStartSession = this.started.event;
  readonly onDidReceiveEvents = this.received.event;
  readonly onDidEndSession = this.ended.event;

  get activeSessions(): readonly SessionDescriptor[] {
    return [...this.sessions.values()];
  }

  startSession(session: SessionDescriptor): void {
    this.sessions.set(session.id, session);
    this.started.fire(session);
  }

  publish(sessionId: string, events: readonly NormalizedEvent[]): void {
    const session = this.sessions.get(sessionId);
    if (session && events.length > 0) this.received.fire({ session, events });
  }

  endSession(sessionId: string, reason: string): void {
    const session = this.sessions.get(sessionId);
    if (!session) return;
    this.sessions.delete(sessionId);
    this.ended.fire({ session, reason });
  }

  dispose(): void {
    this.started.dispose();
    this.received.dispose();
    this.ended.dispose();
  }
}

import type * as vscode from 'vscode';
import type { SessionDescriptor, SessionEvents } from '../eventHub';
import type { LaunchRequest } from './launchRequest';
import type { LiveSessionState, SessionNotice } from './liveProbeSession';
import type { ProbeCounters } from './probeStatusBar';

export interface ActiveProbeSession {
  readonly descriptor: SessionDescriptor;
  readonly state: LiveSessionState;
  /** The argv that runs in the terminal (privilege prefix, python, helper, arguments). */
  readonly command: readonly string[];
  readonly terminal: vscode.Terminal;
  readonly counters: ProbeCounters;
}

/** `activate(...).launcher`: what integration tests (and other extensions) can observe of the launcher. */
export interface LauncherApi {
  /** The most recently started session still running. */
  activeSession(): ActiveProbeSession | undefined;
  /** Every running session, oldest first. */
  activeSessions(): ActiveProbeSession[];
  /** The argv of the most recent launch, as it ran in the terminal. */
  lastCommandLine(): readonly string[] | undefined;
  /** The terminal of the most recent launch (it stays open after a failure, for reading). */
  lastTerminal(): vscode.Terminal | undefined;
  /** The argv that would run as root for this request (socket path is a placeholder). */
  previewRootCommand(request: LaunchRequest): Promise<string[]>;
  /** Messages shown to the user by the launcher, newest last. */
  recentNotices(): readonly SessionNotice[];
  /** What the launcher wrote to its output channel, newest last. */
  recentLog(): readonly string[];
  statusBarText(): string;
  /** Events published into the hub by any session. */
  readonly onDidReceiveEvents: vscode.Event<SessionEvents>;
  readonly onDidEndSession: vscode.Event<{ session: SessionDescriptor; reason: string }>;
}

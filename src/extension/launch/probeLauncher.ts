import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { createPrivateSocket, type PrivateSocket } from '../../core/probeSession';
import { findTool, type ToolDefinition } from '../../core/tools/toolCatalog';
import { checkToolTarget } from '../../core/tools/toolTarget';
import type { ClientVersion } from '../../core/elf/clientVersion';
import { readRootSettings } from '../config';
import type { EventHub, SessionDescriptor } from '../eventHub';
import { HelperTerminal, type HelperExit } from './helperTerminal';
import { requestedPid, validatedParams, type LaunchRequest } from './launchRequest';
import { LiveProbeSession, noticeToWindow, sessionLabel, type SessionNotice } from './liveProbeSession';
import { ProbeStatusBar } from './probeStatusBar';
import { buildRootCommand, earlyExitHint, privilegeReason, RootCommandError, startingText, type RootCommandInputs, type RootCommandTarget } from './rootCommand';

export const PROBE_RUNNING_CONTEXT_KEY = 'bitcoinUsdt.probeRunning';
/** Shown in previews instead of the random socket path of a real session. */
export const PREVIEW_SOCKET_PATH = '/tmp/bitcoin-usdt-XXXXXX/probe.sock';
const CONNECT_TIMEOUT_MS = 5 * 60_000;
/** Notices and log lines kept for recentNotices() and recentLog(), newest last. */
const KEPT_RECENT = 20;

/** Why a launch did not happen, in words for the user. */
export class LaunchRefused extends Error {
  /** `shared`: the cause without the tool's part when it is the binary's (ToolTargetCheck.sharedRefusal). */
  constructor(
    message: string,
    readonly shared: string | null = null,
  ) {
    super(message);
  }
}

/** A refusal as a sentence: capitalized, ending with a full stop. */
function sentence(text: string): string {
  return `${text.charAt(0).toUpperCase()}${text.slice(1)}${text.endsWith('.') ? '' : '.'}`;
}

interface CheckedRequest {
  readonly target: Omit<RootCommandTarget, 'socketPath'> & { readonly params: Readonly<Record<string, string>> };
  readonly clientVersion: ClientVersion | null;
  /** Not part of the root command: only the recording's file name. */
  readonly recordingName?: string;
}

export interface StartedTogether {
  readonly started: readonly LiveProbeSession[];
  readonly refused: readonly { readonly request: LaunchRequest; readonly error: LaunchRefused }[];
}

/**
 * Starts and stops probe sessions (any number at once, each its own helper in its own terminal): builds the root command from the installed extension
 * and machine-level settings only, runs it in a visible terminal, and tracks the session until it ends.
 */
export class ProbeLauncher implements vscode.Disposable {
  /** Running sessions, oldest first. */
  private readonly sessions = new Map<string, LiveProbeSession>();
  /** What each running session was started with (checked: the real binary, the validated parameters). */
  private readonly requests = new Map<string, LaunchRequest>();
  private lastCommand: readonly string[] | undefined;
  private lastHelperTerminal: vscode.Terminal | undefined;
  private readonly notices: SessionNotice[] = [];
  private readonly logLines: string[] = [];
  /** Where the whole text behind a session's short messages goes (a BCC program's Python traceback). */
  private readonly output = vscode.window.createOutputChannel('Bitcoin USDT');
  private sequence = 0;

  constructor(
    private readonly extensionPath: string,
    private readonly hub: EventHub,
    private readonly statusBar: ProbeStatusBar,
  ) {}

  /** The most recently started session that is still running. */
  get activeSession(): LiveProbeSession | undefined {
    return [...this.sessions.values()].at(-1);
  }

  /** Every running session, oldest first. */
  get activeSessions(): readonly LiveProbeSession[] {
    return [...this.sessions.values()];
  }

  /** The request a running session was started with (its real binary and checked parameters), to start it again. */
  requestOf(sessionId: string): LaunchRequest | undefined {
    return this.requests.get(sessionId);
  }

  get lastCommandLine(): readonly string[] | undefined {
    return this.lastCommand;
  }

  get lastTerminal(): vscode.Terminal | undefined {
    return this.lastHelperTerminal;
  }

  get recentNotices(): readonly SessionNotice[] {
    return this.notices;
  }

  /** The argv that `start` would run as root for this request (with a placeholder socket path). */
  async previewRootCommand(request: LaunchRequest): Promise<string[]> {
    const params = this.checkedParams(request);
    const binaryPath = await this.resolveBinary(request.binaryPath);
    return buildRootCommand(this.rootInputs(), {
      tool: request.tool,
      binaryPath,
      pid: requestedPid(request),
      follow: request.follow ?? false,
      socketPath: PREVIEW_SOCKET_PATH,
      params,
    });
  }

  /** Starts a session; throws LaunchRefused with a message for the user when it cannot. */
  async start(request: LaunchRequest): Promise<LiveProbeSession> {
    const { started, refused } = await this.startTogether([request]);
    if (refused.length > 0) throw refused[0].error;
    return started[0];
  }

  /**
   * Starts several sessions together: those that pass the checks run in one helper, in one terminal, so sudo
   * (or pkexec) asks once for all of them. Each refused request comes back with its reason.
   */
  async startTogether(requests: readonly LaunchRequest[]): Promise<StartedTogether> {
    if (!vscode.workspace.isTrusted) {
      throw new LaunchRefused('Starting a probe runs a helper as root, which is disabled in untrusted workspaces. Trust this workspace first (Workspaces: Manage Workspace Trust).');
    }
    const checked: CheckedRequest[] = [];
    const refused: { request: LaunchRequest; error: LaunchRefused }[] = [];
    for (const request of requests) {
      try {
        checked.push(await this.checkRequest(request));
      } catch (error) {
        if (!(error instanceof LaunchRefused)) throw error;
        refused.push({ request, error });
      }
    }
    if (checked.length === 0) return { started: [], refused };

    const inputs = this.rootInputs();
    const sockets: PrivateSocket[] = [];
    let terminal: HelperTerminal | undefined;
    try {
      for (let i = 0; i < checked.length; i++) sockets.push(await createPrivateSocket());
      const command = await buildRootCommand(inputs, checked.map((c, i) => ({ ...c.target, socketPath: sockets[i].path })));
      const tools = checked.map((c) => c.target.tool);
      terminal = await HelperTerminal.create({
        name: `Bitcoin USDT: ${tools.length <= 2 ? tools.join(' + ') : `${tools.length} probes`}`,
        reason: privilegeReason(inputs.settings.privilege, inputs.isRoot),
        command,
      });
      this.lastCommand = command;
      this.lastHelperTerminal = terminal.terminal;
      const sharedTerminal = terminal;
      const sessions: LiveProbeSession[] = [];
      let earlyExitShown = false;
      const onEarlyExit = (exit: HelperExit): void => {
        if (earlyExitShown) return;
        earlyExitShown = true;
        const waiting = sessions.filter((s) => s.state === 'waiting').map((s) => s.descriptor.tool);
        const who = waiting.length === 1 ? `Probe ${waiting[0]}` : `Probes ${waiting.join(', ')}`;
        const status = exit.status === undefined ? 'without an exit status' : `with status ${exit.status}`;
        this.notify({
          level: 'error',
          text: exit.status === undefined && exit.terminalClosed
            ? `${who} did not start: the terminal was closed before the helper connected.`
            : `${who} did not start: the command exited ${status} before the helper connected (${earlyExitHint(inputs.settings.privilege, inputs.isRoot, exit.status)}). The terminal "${sharedTerminal.terminal.name}" shows what happened.`,
        });
      };
      checked.forEach((c, i) => sessions.push(this.createSession(c, sockets[i], sharedTerminal, command, inputs, onEarlyExit)));
      sessions.forEach((session) => this.track(session));
      return { started: sessions, refused };
    } catch (error) {
      terminal?.dispose();
      await Promise.all(sockets.map((socket) => socket.close()));
      if (error instanceof RootCommandError) throw new LaunchRefused(error.message);
      throw error;
    }
  }

  /** Everything known before root: the tool, its parameters, the binary and the target PID. */
  private async checkRequest(request: LaunchRequest): Promise<CheckedRequest> {
    const params = this.checkedParams(request);
    const pid = requestedPid(request);
    const follow = request.follow ?? false;
    if (follow && pid === null) throw new LaunchRefused('"Follow restarts" needs one process: pick a PID.');
    const binaryPath = await this.resolveBinary(request.binaryPath);
    const { refusal, sharedRefusal, clientVersion } = await checkToolTarget({ toolId: request.tool, binaryPath, pid });
    if (refusal) throw new LaunchRefused(sentence(refusal), sharedRefusal === null ? null : sentence(sharedRefusal));
    return { target: { tool: request.tool, binaryPath, pid, follow, params }, clientVersion, ...(request.recordingName !== undefined ? { recordingName: request.recordingName } : {}) };
  }

  /** Stops one session by id, or every running session. */
  async stop(sessionId?: string): Promise<void> {
    const stopping = sessionId === undefined ? this.activeSessions : [this.sessions.get(sessionId)].filter((s) => s !== undefined);
    await Promise.all(stopping.map((session) => session.stop('stopped from VS Code')));
  }

  dispose(): void {
    for (const session of this.sessions.values()) session.disposeNow();
    this.statusBar.dispose();
    this.output.dispose();
  }

  /** Lines written to the output channel, newest last. */
  get recentLog(): readonly string[] {
    return this.logLines;
  }

  private log(text: string): void {
    this.output.appendLine(text);
    this.logLines.push(text);
    if (this.logLines.length > KEPT_RECENT) this.logLines.shift();
  }

  notify(notice: SessionNotice): void {
    this.notices.push(notice);
    if (this.notices.length > KEPT_RECENT) this.notices.shift();
    noticeToWindow(notice);
  }

  private createSession(
    checked: CheckedRequest,
    socket: PrivateSocket,
    terminal: HelperTerminal,
    command: readonly string[],
    inputs: RootCommandInputs,
    onEarlyExit: (exit: HelperExit) => void,
  ): LiveProbeSession {
    const { tool, binaryPath, pid, follow, params } = checked.target;
    const descriptor: SessionDescriptor = {
      id: `live-${++this.sequence}-${Date.now()}`,
      tool,
      source: 'live',
      label: sessionLabel(tool, binaryPath, pid),
      binary: binaryPath,
      pid,
      startedAt: new Date().toISOString(),
      params,
      startingText: startingText(inputs.settings.privilege, inputs.isRoot),
      ...(checked.recordingName !== undefined ? { recordingName: checked.recordingName } : {}),
    };
    this.requests.set(descriptor.id, {
      tool, binaryPath, pid: pid ?? 'all', follow, params,
      ...(checked.recordingName !== undefined ? { recordingName: checked.recordingName } : {}),
    });
    return new LiveProbeSession({
      hub: this.hub,
      descriptor,
      socket,
      terminal,
      command,
      clientVersion: checked.clientVersion,
      connectTimeoutMs: CONNECT_TIMEOUT_MS,
      onEarlyExit,
      notify: (notice) => this.notify(notice),
      log: (text) => this.log(text),
      onEnded: () => this.untrack(descriptor.id),
    });
  }

  private track(session: LiveProbeSession): LiveProbeSession {
    this.sessions.set(session.descriptor.id, session);
    void vscode.commands.executeCommand('setContext', PROBE_RUNNING_CONTEXT_KEY, true);
    session.terminal.show();
    session.run();
    this.statusBar.show(() => this.activeSessions.map((s) => s.counters()));
    return session;
  }

  private untrack(sessionId: string): void {
    this.requests.delete(sessionId);
    if (!this.sessions.delete(sessionId)) return;
    if (this.sessions.size > 0) return;
    this.statusBar.hide();
    void vscode.commands.executeCommand('setContext', PROBE_RUNNING_CONTEXT_KEY, false);
  }

  /** The request's tool parameters, checked like the prompts check them; refuses an unknown tool. */
  private checkedParams(request: LaunchRequest): Record<string, string> {
    const tool: ToolDefinition | undefined = findTool(request.tool);
    if (!tool) throw new LaunchRefused(`Unknown probe tool ${JSON.stringify(request.tool)}.`);
    try {
      return validatedParams(tool, request.params);
    } catch (error) {
      throw new LaunchRefused(error instanceof Error ? error.message : String(error));
    }
  }

  private rootInputs(): RootCommandInputs {
    return { extensionPath: this.extensionPath, settings: readRootSettings(), isRoot: process.getuid?.() === 0 };
  }

  /** The real file (the helper refuses symlinks and relative paths). */
  private async resolveBinary(binaryPath: string): Promise<string> {
    if (!path.isAbsolute(binaryPath)) throw new LaunchRefused(`The binary path must be absolute: ${binaryPath}`);
    try {
      const real = await fs.realpath(binaryPath);
      const stat = await fs.stat(real);
      if (!stat.isFile()) throw new LaunchRefused(`${binaryPath} is not a file.`);
      return real;
    } catch (error) {
      if (error instanceof LaunchRefused) throw error;
      throw new LaunchRefused(`Cannot use ${binaryPath}: ${error instanceof Error ? error.message : String(error)}`);
    }
  }
}

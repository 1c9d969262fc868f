import type { ClientVersion } from '../../core/elf/clientVersion';
import * as path from 'node:path';
import type { NormalizedEvent } from '../../core/events/eventTypes';
import { BpftraceDecoder } from '../../core/events/bpftraceDecoder';
import { ProbeSessionReader, type HelperStream, type PrivateSocket } from '../../core/probeSession';
import { findTool, streamedTracepoints } from '../../core/tools/toolCatalog';
import { NodeResolver } from '../../core/network/nodeResolver';
import type { EventHub, SessionDescriptor } from '../eventHub';
import { HelperTerminal, type HelperExit } from './helperTerminal';
import type { ProbeCounters } from './probeStatusBar';
import { showError, showInformation, showWarning } from '../notifications';
import { nodeStateAtAttachEvent, readNodeStateAtAttach } from '../../core/node/nodeState';

export type LiveSessionState = 'waiting' | 'connected' | 'ended';

/** What the session tells the person at the keyboard; the launcher shows it (and tests read it). */
export interface SessionNotice {
  readonly level: 'info' | 'warning' | 'error';
  readonly text: string;
}

export interface LiveProbeSessionOptions {
  readonly hub: EventHub;
  readonly descriptor: SessionDescriptor;
  readonly socket: PrivateSocket;
  readonly terminal: HelperTerminal;
  readonly command: readonly string[];
  /** The traced build's Bitcoin Core version, read from the binary (value names follow it). */
  readonly clientVersion: ClientVersion | null;
  /** How long to wait for the helper to connect (the user may be typing a password). */
  readonly connectTimeoutMs: number;
  /**
   * The command in the terminal exited before this session's helper connected: the launcher says so once for
   * every session of that terminal ("a wrong or cancelled sudo password…").
   */
  readonly onEarlyExit: (exit: HelperExit) => void;
  readonly notify: (notice: SessionNotice) => void;
  /** Writes the whole text behind a message (a Python traceback) to the output channel. */
  readonly log: (text: string) => void;
  /** Called once when the session ends, before the hub hears of it. */
  readonly onEnded: (reason: string) => void;
}

/** After the socket is closed, how long the helper gets to exit before (another) Ctrl-C, and then before the terminal is disposed. */
const STOP_GRACE_MS = 5000;
/**
 * The same for a helper that was connected: it heard the stop and is ending bpftrace (detaching every uprobe,
 * which takes seconds on a loaded machine); a Ctrl-C then would only make it exit 130 and its terminal wait for Enter.
 */
const CONNECTED_STOP_GRACE_MS = 15_000;
/** After Ctrl-C, how long the helper gets to deliver bpftrace's final counts and close the socket. */
const FINAL_COUNTS_GRACE_MS = 5000;
const INTERRUPT_GRACE_MS = 2000;
/** How long a terminal whose command failed stays for reading after a stop before it is closed. */
const CLOSE_GRACE_MS = 500;
/** A clean exit ends the shell and VS Code closes the terminal by itself (seconds later on a loaded machine). */
const CLEAN_CLOSE_GRACE_MS = 15_000;
/** Tools whose panels start from the node's state at the attach (open connections, mempool size). */
const STATE_AT_ATTACH_TOOLS = new Set(['p2p-connections', 'mempool-monitor']);
const REATTACHED_PREFIX = 're-attached to PID';
/** bpftrace's last complaints, quoted when a session fails. */
const KEPT_WARNINGS = 3;

/**
 * One running probe: the helper in its terminal, the socket it writes to, and the reader that publishes
 * the decoded events into the hub. Ends when the helper closes the socket, the terminal goes away, or Stop.
 */
export class LiveProbeSession {
  readonly descriptor: SessionDescriptor;
  readonly command: readonly string[];
  /** Resolves with the reason once the session has ended and its terminal is gone or left for the user to read. */
  readonly ended: Promise<string>;
  private stateValue: LiveSessionState = 'waiting';
  private reader: ProbeSessionReader | undefined;
  private connection: HelperStream | undefined;
  /** Set when the session ended: no other session still runs its helper in this terminal. */
  private lastOnTerminal = false;
  private nodes: NodeResolver | undefined;
  private stopping: Promise<void> | undefined;
  private endReason: string | undefined;
  private stopReason: string | undefined;
  private endExitCode: number | null = null;
  private errorShown = false;
  private readonly recentWarnings: string[] = [];
  /** Sum of the `lost` events so far (the decoder's and the tool decoders' own, e.g. the benchmark's). */
  private lostEvents = 0;
  /** Tracepoint hits counted in the kernel, from the latest `fired` event (what aggregating tools saw). */
  private firedTotal = 0;
  private readonly aggregating: boolean;
  /** The node's RPC was asked for its state at the attach (connections, mempool). */
  private stateAsked = false;
  private reportEnded: (reason: string) => void = () => undefined;

  constructor(private readonly options: LiveProbeSessionOptions) {
    this.descriptor = options.descriptor;
    this.command = options.command;
    this.ended = new Promise((resolve) => (this.reportEnded = resolve));
    this.aggregating = findTool(options.descriptor.tool)?.mode === 'aggregate';
  }

  get state(): LiveSessionState {
    return this.stateValue;
  }

  get terminal(): HelperTerminal {
    return this.options.terminal;
  }

  counters(): ProbeCounters {
    const counters = this.reader?.counters;
    const delivered = counters?.delivered ?? 0;
    return {
      sessionId: this.descriptor.id,
      tool: this.descriptor.tool,
      connected: this.stateValue === 'connected',
      // Aggregating tools count in the kernel and stream little or nothing: their rate is the tracepoints'.
      delivered: this.aggregating ? Math.max(delivered, this.firedTotal) : delivered,
      lost: Math.max(counters?.lost ?? 0, this.lostEvents),
    };
  }

  /** Starts waiting for the helper; call once, right after the terminal was created. */
  run(): void {
    const { socket, terminal, connectTimeoutMs } = this.options;
    terminal.retain();
    this.options.hub.startSession(this.descriptor);
    void terminal.exited.then((exit) => this.onHelperExit(exit));
    void terminal.closed.then(() => {
      if (this.stateValue !== 'ended') void this.finish('the probe terminal was closed');
    });
    socket.waitForConnection(connectTimeoutMs).then(
      (connection) => this.onConnected(connection),
      (error: unknown) => {
        if (this.stateValue !== 'waiting') return;
        this.options.notify({
          level: 'error',
          text: `Probe ${this.descriptor.tool}: ${error instanceof Error ? error.message : String(error)}. Stopped it; see the terminal.`,
        });
        void this.stop('the helper did not connect');
      },
    );
  }

  /**
   * Stop: shut our side of the socket (the helper stops bpftrace, delivers the final counts and closes it), then
   * close the socket (a helper that is still running stops because its reader went away); when no other session
   * runs in the terminal, Ctrl-C there (sudo may still be asking) and dispose it.
   */
  stop(reason = 'stopped'): Promise<void> {
    this.stopping ??= this.stopInOrder(reason);
    return this.stopping;
  }

  /** Immediate teardown (extension deactivation): closing the terminal hangs up the helper. */
  disposeNow(): void {
    void this.options.socket.close();
    this.options.terminal.dispose();
    void this.finish('VS Code is shutting down');
  }

  private async stopInOrder(reason: string): Promise<void> {
    const { terminal } = this.options;
    this.stopReason = reason;
    if (this.stateValue === 'connected' && this.reader && this.connection) {
      // The stop request: the helper stops bpftrace, forwards its final counts (exact loss accounting), then closes
      // the socket. Only this session's helper hears it, whoever else runs in the same terminal.
      this.connection.end();
      await settlesWithin(this.reader.done, FINAL_COUNTS_GRACE_MS);
    }
    const helperConnected = this.stateValue === 'connected';
    // Closing the socket stops a helper that is still running: its reader went away.
    await this.finish(reason);
    if (!this.lastOnTerminal) return;
    // Never connected: sudo may be asking for the password, or the helper is starting; nothing reads the socket.
    if (!helperConnected && !terminal.hasExited) terminal.interrupt();
    const exitGraceMs = helperConnected ? CONNECTED_STOP_GRACE_MS : STOP_GRACE_MS;
    if (!(await settlesWithin(terminal.exited, exitGraceMs))) {
      this.options.log(`[${this.descriptor.label}] stopped (${reason}); the command in the terminal had not exited ${exitGraceMs / 1000} s later: sent Ctrl-C`);
      terminal.interrupt();
      await settlesWithin(terminal.exited, INTERRUPT_GRACE_MS);
    }
    // A command that exited 0 ends its shell, and VS Code closes the terminal (slowly on a loaded machine):
    // disposing it first would leave VS Code showing no exit status. Exited with an error, the script waits for
    // Enter; still not gone: the user asked to stop, so close it.
    const status = terminal.hasExited ? (await terminal.exited).status : undefined;
    const exitedCleanly = status === 0;
    if (!(await settlesWithin(terminal.closed, exitedCleanly ? CLEAN_CLOSE_GRACE_MS : CLOSE_GRACE_MS))) {
      this.options.log(`[${this.descriptor.label}] stopped (${reason}); the command in the terminal ${status === undefined ? 'had not exited' : `exited with status ${status}`}${this.endExitCode === null ? '' : ` (bpftrace's exit code ${this.endExitCode})`} and the terminal was still open: closed it`);
      terminal.dispose();
    }
    await settlesWithin(terminal.closed, INTERRUPT_GRACE_MS);
  }

  private onConnected(connection: HelperStream): void {
    if (this.stateValue !== 'waiting') {
      connection.destroy();
      return;
    }
    this.stateValue = 'connected';
    this.connection = connection;
    const tool = findTool(this.descriptor.tool);
    this.nodes = new NodeResolver({
      sessionPid: this.descriptor.pid,
      emit: (events) => {
        if (this.stateValue !== 'ended') this.options.hub.publish(this.descriptor.id, events);
      },
    });
    this.reader = new ProbeSessionReader({
      decoder: new BpftraceDecoder({ streamedTracepoints: tool ? streamedTracepoints(tool) : [], clientVersion: this.options.clientVersion }),
      onBatch: (events) => this.onBatch(events),
    });
    this.reader.attach(connection);
    void this.reader.done.then(() => {
      const reason = this.endReason ?? 'the helper closed the connection';
      if (this.stateValue !== 'ended') this.reportNaturalEnd(reason);
      return this.finish(reason);
    });
  }

  private onBatch(events: readonly NormalizedEvent[]): void {
    for (const event of events) {
      if (event.event === 'session:attached' && !this.stateAsked && STATE_AT_ATTACH_TOOLS.has(this.descriptor.tool) && this.descriptor.pid !== null) {
        this.stateAsked = true;
        const pid = this.descriptor.pid;
        void readNodeStateAtAttach(pid).then((state) => {
          if (this.stateValue === 'ended') return;
          this.options.hub.publish(this.descriptor.id, [nodeStateAtAttachEvent(pid, state)]);
        });
      }
      if (event.event === 'lost') this.lostEvents += event.count;
      else if (event.event === 'fired') this.firedTotal = Object.values(event.counts).reduce((sum, n) => sum + n, 0);
      if (event.event === 'session:message') {
        if (event.details !== undefined) this.options.log(`[${this.descriptor.label}] ${event.message}\n${event.details}\n`);
        if (event.level === 'error') {
          this.errorShown = true;
          this.options.notify({ level: 'error', text: `Probe ${this.descriptor.tool}: ${event.message}` });
        } else if (event.message.startsWith(REATTACHED_PREFIX)) {
          this.options.notify({ level: 'info', text: `Probe ${this.descriptor.tool}: bitcoind restarted, ${event.message}.` });
        } else if (event.level === 'warning') {
          this.recentWarnings.push(event.message);
          if (this.recentWarnings.length > KEPT_WARNINGS) this.recentWarnings.shift();
        }
      } else if (event.event === 'session:end' && this.endReason === undefined) {
        this.endReason = event.reason;
        this.endExitCode = event.exit_code ?? null;
      }
    }
    this.options.hub.publish(this.descriptor.id, events);
    this.nodes?.observe(events);
  }

  /** The helper ended the session by itself: say why when it failed or bitcoind went away. */
  private reportNaturalEnd(reason: string): void {
    if (this.stopReason !== undefined || this.errorShown) return;
    if (this.endExitCode !== null && this.endExitCode !== 0) {
      const details = this.recentWarnings.length > 0 ? ` ${this.recentWarnings.join(' · ')}` : '';
      this.options.notify({ level: 'error', text: `Probe ${this.descriptor.tool} failed: ${reason} (exit code ${this.endExitCode}).${details}` });
    } else if (/^target process \d+ exited/.test(reason)) {
      this.options.notify({ level: 'info', text: `Probe ${this.descriptor.tool} ended: ${reason}.` });
    }
  }

  private onHelperExit(exit: HelperExit): void {
    if (this.stateValue !== 'waiting') return;
    this.options.onEarlyExit(exit);
    void this.finish(`the helper exited ${exit.status === undefined ? 'without an exit status' : `with status ${exit.status}`} before connecting`);
  }

  private async finish(reason: string): Promise<void> {
    if (this.stateValue === 'ended') return;
    this.stateValue = 'ended';
    this.lastOnTerminal = this.options.terminal.release();
    reason = this.stopReason ?? reason;
    this.reader?.flush();
    await this.options.socket.close();
    this.reader?.end();
    this.options.onEnded(reason);
    this.options.hub.endSession(this.descriptor.id, reason);
    this.reportEnded(reason);
  }
}

export function sessionLabel(tool: string, binaryPath: string, pid: number | null): string {
  return `${tool} · ${path.basename(binaryPath)} · ${pid === null ? 'every process' : `PID ${pid}`}`;
}

async function settlesWithin(promise: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), ms)));
  const settled = await Promise.race([promise.then(() => true as const), timeout]);
  clearTimeout(timer);
  return settled;
}

export function noticeToWindow(notice: SessionNotice): void {
  const show =
    notice.level === 'error' ? showError : notice.level === 'warning' ? showWarning : showInformation;
  void show(notice.text);
}

import { promises as fs } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import * as vscode from 'vscode';
import {
  TERMINAL_ENVIRONMENT,
  TERMINAL_SHELL_PATH,
  parseExitStatus,
  privilegedTerminalShellArgs,
} from '../../core/process/privilegedTerminalScript';

/** How the command in the terminal ended, as far as the extension can tell. */
export interface HelperExit {
  /** The command's exit status (from the status file); undefined when the terminal was closed first. */
  readonly status: number | undefined;
  /** The terminal went away (closed by hand, disposed, or the shell exited). */
  readonly terminalClosed: boolean;
}

export interface HelperTerminalOptions {
  readonly name: string;
  /** One line printed above the command: why it runs (as root). */
  readonly reason: string;
  readonly command: readonly string[];
}

const STATUS_POLL_MS = 250;

/**
 * The visible terminal that runs the privileged helper through the fixed script (see
 * privilegedTerminalScript.ts): the user reads the exact command there and types the sudo password. Probes
 * started together share one terminal: one helper starts a session for each.
 */
export class HelperTerminal implements vscode.Disposable {
  readonly terminal: vscode.Terminal;
  /** Resolves once: when the exit status appears or the terminal closes, whichever is first. */
  readonly exited: Promise<HelperExit>;
  /** Resolves when the terminal is gone. */
  readonly closed: Promise<void>;
  private open = true;
  private exitSeen = false;
  /** Sessions whose helper runs in this terminal and that have not ended. */
  private users = 0;
  private poll: NodeJS.Timeout | undefined;
  private readonly closeListener: vscode.Disposable;

  /** Opens the terminal; the shell writes the command's exit status into a private directory of its own. */
  static async create(options: HelperTerminalOptions): Promise<HelperTerminal> {
    const statusDirectory = await fs.mkdtemp(path.join(tmpdir(), 'bitcoin-usdt-status-'));
    try {
      await fs.chmod(statusDirectory, 0o700);
      return new HelperTerminal(options, statusDirectory);
    } catch (error) {
      await fs.rm(statusDirectory, { recursive: true, force: true });
      throw error;
    }
  }

  private constructor(options: HelperTerminalOptions, private readonly statusDirectory: string) {
    const statusFile = path.join(statusDirectory, 'exit-status');
    const shellArgs = privilegedTerminalShellArgs(options.reason, statusFile, options.command);
    let reportExit: (exit: HelperExit) => void = () => undefined;
    this.exited = new Promise((resolve) => (reportExit = resolve));
    let reportClosed: () => void = () => undefined;
    this.closed = new Promise((resolve) => (reportClosed = resolve));
    const finish = (exit: HelperExit): void => {
      if (this.exitSeen) return;
      this.exitSeen = true;
      if (this.poll) clearTimeout(this.poll);
      reportExit(exit);
    };

    this.terminal = vscode.window.createTerminal({
      name: options.name,
      shellPath: TERMINAL_SHELL_PATH,
      shellArgs,
      cwd: '/',
      // Only this environment: nothing from VS Code's, an extension's or the workspace's terminal settings.
      env: { ...TERMINAL_ENVIRONMENT },
      strictEnv: true,
      iconPath: new vscode.ThemeIcon('pulse'),
      isTransient: true,
    });
    this.closeListener = vscode.window.onDidCloseTerminal((closed) => {
      if (closed !== this.terminal) return;
      this.open = false;
      this.closeListener.dispose();
      void this.readStatus(statusFile).then((status) => {
        // Only the status file tells the command's status: the shell itself always exits 0 (see the script).
        finish({ status, terminalClosed: true });
        reportClosed();
        void fs.rm(this.statusDirectory, { recursive: true, force: true });
      });
    });

    const pollStatus = async (): Promise<void> => {
      const status = await this.readStatus(statusFile);
      if (this.exitSeen) return;
      if (status !== undefined) finish({ status, terminalClosed: !this.open });
      else this.poll = setTimeout(() => void pollStatus(), STATUS_POLL_MS);
    };
    this.poll = setTimeout(() => void pollStatus(), STATUS_POLL_MS);
  }

  /** One more session runs its helper here (sessions started together share one terminal and one password). */
  retain(): void {
    this.users++;
  }

  /** A session of this terminal ended; true when it was the last one. */
  release(): boolean {
    this.users = Math.max(0, this.users - 1);
    return this.users === 0;
  }

  get isOpen(): boolean {
    return this.open;
  }

  get hasExited(): boolean {
    return this.exitSeen;
  }

  show(): void {
    this.terminal.show(false);
  }

  /** Ctrl-C, as if typed: stops sudo's prompt or the helper (which stops bpftrace). */
  interrupt(): void {
    if (this.open) this.terminal.sendText('\x03', false);
  }

  dispose(): void {
    if (this.poll) clearTimeout(this.poll);
    this.poll = undefined;
    if (this.open) this.terminal.dispose();
    else void fs.rm(this.statusDirectory, { recursive: true, force: true });
  }

  private async readStatus(statusFile: string): Promise<number | undefined> {
    try {
      return parseExitStatus(await fs.readFile(statusFile, 'utf8'));
    } catch {
      return undefined;
    }
  }
}

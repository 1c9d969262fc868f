import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { buildSeveralHelperArgv, withPrivilegePrefix } from '../../core/probeSession';
import type { PrivilegeMode, RootSettings } from '../config';

/**
 * The only inputs that decide what runs as root: the installed extension's own directory, the user's
 * machine-level settings (readRootSettings), whether VS Code runs as root, and the probe target.
 * Nothing from the workspace (settings, files, tasks) or the environment reaches this.
 */
export interface RootCommandInputs {
  readonly extensionPath: string;
  readonly settings: RootSettings;
  readonly isRoot: boolean;
}

export interface RootCommandTarget {
  readonly tool: string;
  /** Real path of the binary (the helper refuses symlinks). */
  readonly binaryPath: string;
  readonly pid: number | null;
  readonly follow: boolean;
  readonly socketPath: string;
  /** The tool's validated parameters, in the tool's order (`--param name=value`). */
  readonly params?: Readonly<Record<string, string>>;
}

/** Where sudo and pkexec are looked for; an absolute path runs, never whatever a PATH finds first. */
const PRIVILEGE_PROGRAM_LOCATIONS: Readonly<Record<'sudo' | 'pkexec', readonly string[]>> = {
  sudo: ['/usr/bin/sudo', '/bin/sudo', '/usr/local/bin/sudo'],
  pkexec: ['/usr/bin/pkexec', '/bin/pkexec'],
};

export class RootCommandError extends Error {}

export function helperScriptPath(extensionPath: string): string {
  return path.join(extensionPath, 'probes', 'bitcoin-usdt-helper.py');
}

/**
 * The full argv the terminal runs: privilege prefix (absolute) + python + the extension's helper + arguments;
 * several targets: one helper that starts a session for each (one password for all of them).
 */
export async function buildRootCommand(inputs: RootCommandInputs, targets: RootCommandTarget | readonly RootCommandTarget[]): Promise<string[]> {
  const { settings } = inputs;
  if (!path.isAbsolute(settings.pythonPath)) {
    throw new RootCommandError(`bitcoinUsdt.pythonPath must be an absolute path (is ${JSON.stringify(settings.pythonPath)})`);
  }
  if (settings.bpftracePath && !path.isAbsolute(settings.bpftracePath)) {
    throw new RootCommandError(`bitcoinUsdt.bpftracePath must be an absolute path (is ${JSON.stringify(settings.bpftracePath)})`);
  }
  const helperArgv = buildSeveralHelperArgv((Array.isArray(targets) ? targets : [targets] as readonly RootCommandTarget[]).map((target) => ({
    pythonPath: settings.pythonPath,
    probesDir: path.dirname(helperScriptPath(inputs.extensionPath)),
    tool: target.tool,
    binary: target.binaryPath,
    pid: target.pid,
    follow: target.follow,
    socketPath: target.socketPath,
    bpftracePath: settings.bpftracePath || null,
    params: target.params,
  })));
  const command = withPrivilegePrefix(settings.privilege, helperArgv, inputs.isRoot);
  const program = command[0];
  if (program === 'sudo' || program === 'pkexec') command[0] = await locatePrivilegeProgram(program);
  return command;
}

/** What the terminal says above the command. */
export function privilegeReason(mode: PrivilegeMode, isRoot: boolean): string {
  const effective = mode === 'auto' ? (isRoot ? 'none' : 'sudo') : mode;
  const why = 'Loading eBPF programs into the kernel needs root.';
  const what = 'The helper only runs the selected probe script against bitcoind and streams its output to VS Code; Ctrl-C or closing this terminal stops it.';
  switch (effective) {
    case 'sudo':
      return `Bitcoin USDT runs its probe helper as root through sudo (type your password here). ${why} ${what}`;
    case 'pkexec':
      return `Bitcoin USDT runs its probe helper as root through pkexec (authorize it in the polkit dialog). ${why} ${what}`;
    default:
      return isRoot
        ? `Bitcoin USDT runs its probe helper; VS Code already runs as root, so without sudo. ${what}`
        : `Bitcoin USDT runs its probe helper without sudo (bitcoinUsdt.privilege is "none": it needs BPF rights already). ${what}`;
  }
}

/** What a panel says about a live session until its helper connects. */
export function startingText(mode: PrivilegeMode, isRoot: boolean): string {
  const effective = mode === 'auto' ? (isRoot ? 'none' : 'sudo') : mode;
  if (effective === 'sudo') return 'waiting for the password (in the probe terminal)';
  if (effective === 'pkexec') return 'waiting for the polkit authorization';
  return 'starting';
}

/** What usually went wrong when the command in the terminal exited before the helper connected. */
export function earlyExitHint(mode: PrivilegeMode, isRoot: boolean, status: number | undefined): string {
  const effective = mode === 'auto' ? (isRoot ? 'none' : 'sudo') : mode;
  if (effective === 'sudo') return 'a wrong or cancelled sudo password, or no permission to use sudo';
  if (effective === 'pkexec') {
    if (status === 126) return 'the polkit authorization was dismissed';
    if (status === 127) return 'no polkit agent is running or authorization was refused (try bitcoinUsdt.privilege "sudo")';
    return 'the polkit authorization failed';
  }
  return 'Python or the helper could not start';
}

async function locatePrivilegeProgram(name: 'sudo' | 'pkexec'): Promise<string> {
  for (const candidate of PRIVILEGE_PROGRAM_LOCATIONS[name]) {
    try {
      await fs.access(candidate, fs.constants.X_OK);
      return candidate;
    } catch {
      // try the next location
    }
  }
  throw new RootCommandError(`${name} is not installed (looked in ${PRIVILEGE_PROGRAM_LOCATIONS[name].join(', ')}); install it or change bitcoinUsdt.privilege`);
}

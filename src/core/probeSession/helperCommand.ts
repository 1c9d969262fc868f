// The exact command line of the privileged helper, its privilege prefix, and how it is shown to the user.
// Every input here comes from the installed extension or machine-level settings, never from a workspace.

import { join } from 'node:path';

export const HELPER_SCRIPT = 'bitcoin-usdt-helper.py';

export interface HelperLaunch {
  /** Python 3 interpreter (absolute path), e.g. /usr/bin/python3. */
  pythonPath: string;
  /** The installed extension's probes/ directory. */
  probesDir: string;
  tool: string;
  binary: string;
  pid?: number | null;
  follow?: boolean;
  socketPath: string;
  /** Absolute bpftrace path; omitted: the helper picks /usr/bin, /usr/local/bin or /usr/sbin. */
  bpftracePath?: string | null;
  params?: Readonly<Record<string, string>>;
}

export function buildHelperArgv(launch: HelperLaunch): string[] {
  const argv = [
    launch.pythonPath, '-I', '-S', join(launch.probesDir, HELPER_SCRIPT), 'run',
    '--tool', launch.tool,
    '--binary', launch.binary,
  ];
  if (launch.pid !== undefined && launch.pid !== null) argv.push('--pid', String(launch.pid));
  if (launch.follow) argv.push('--follow');
  argv.push('--socket', launch.socketPath);
  if (launch.bpftracePath) argv.push('--bpftrace', launch.bpftracePath);
  for (const [name, value] of Object.entries(launch.params ?? {})) argv.push('--param', `${name}=${value}`);
  return argv;
}

/**
 * One helper invocation that starts several sessions: the first session's argv followed by each other
 * session's `run …` group (the helper runs each group in a child of its own), so they share one privilege
 * prompt. All sessions must use the same interpreter and probes directory.
 */
export function buildSeveralHelperArgv(launches: readonly HelperLaunch[]): string[] {
  if (launches.length === 0) throw new Error('no session to start');
  const [first, ...rest] = launches.map(buildHelperArgv);
  const runAt = first.indexOf('run');
  for (const argv of rest) {
    if (argv.slice(0, runAt).join('\0') !== first.slice(0, runAt).join('\0')) throw new Error('sessions started together must use one helper');
  }
  return [...first, ...rest.flatMap((argv) => argv.slice(runAt))];
}

export type PrivilegeMode = 'auto' | 'sudo' | 'pkexec' | 'none';

/** auto: nothing when already root, else sudo. */
export function withPrivilegePrefix(mode: PrivilegeMode, argv: readonly string[], isRoot: boolean): string[] {
  const effective = mode === 'auto' ? (isRoot ? 'none' : 'sudo') : mode;
  switch (effective) {
    case 'sudo':
      return ['sudo', '--', ...argv];
    case 'pkexec':
      return ['pkexec', ...argv];
    default:
      return [...argv];
  }
}

/** POSIX shell quoting, for showing the command in a terminal banner (never for running it). */
export function formatCommandForDisplay(argv: readonly string[]): string {
  return argv.map(shellQuote).join(' ');
}

function shellQuote(word: string): string {
  if (word !== '' && /^[A-Za-z0-9_@%+=:,./-]+$/.test(word)) return word;
  return `'${word.replace(/'/g, `'\\''`)}'`;
}

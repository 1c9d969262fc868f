import { promises as fs } from 'node:fs';
import * as path from 'node:path';

/** Names a bitcoind is known by, besides the selected binary's own file name. */
export const BITCOIND_PROCESS_NAMES: readonly string[] = ['bitcoind', 'bitcoin-node'];

/** What the kernel appends to /proc/PID/exe's link text when the executable was unlinked (e.g. rebuilt). */
const DELETED_SUFFIX = ' (deleted)';

/**
 * How a running process relates to the selected binary:
 * - `same`: it runs that very file (same device and inode).
 * - `rebuilt`: it was started from that path, but the file has been replaced since.
 * - `different`: it runs another file.
 * - `unknown`: its executable cannot be read (another user's process and we are not root), or no binary was given.
 */
export type BinaryMatch = 'same' | 'rebuilt' | 'different' | 'unknown';

export interface BitcoindProcess {
  readonly pid: number;
  /** The command line, split at NUL bytes. Empty for kernel threads and zombies. */
  readonly args: readonly string[];
  /** The executable's path without the " (deleted)" suffix; null when it cannot be read (EACCES). */
  readonly exePath: string | null;
  /** The executable was unlinked after the process started (a rebuild replaced it). */
  readonly exeDeleted: boolean;
  readonly match: BinaryMatch;
}

export interface ListBitcoindProcessesOptions {
  /** The binary the user selected: processes running it are listed even under another name, and `match` compares against it. */
  readonly binaryPath?: string;
  /** For tests: another proc file system mount. */
  readonly procRoot?: string;
}

interface FileIdentity {
  readonly dev: number;
  readonly ino: number;
}

/** Every running process that looks like a bitcoind (by executable or argv[0] name, or by running the selected binary). */
export async function listBitcoindProcesses(options: ListBitcoindProcessesOptions = {}): Promise<BitcoindProcess[]> {
  const procRoot = options.procRoot ?? '/proc';
  const binary = options.binaryPath ? await describeBinary(options.binaryPath) : undefined;
  const names = new Set(BITCOIND_PROCESS_NAMES);
  if (binary) names.add(path.basename(binary.path));

  const entries = await fs.readdir(procRoot);
  const pids = entries.filter((name) => /^[1-9][0-9]*$/.test(name)).map(Number);
  const processes = await Promise.all(pids.map((pid) => readProcess(procRoot, pid, binary)));
  return processes
    .filter((p): p is BitcoindProcess => p !== undefined && looksLikeBitcoind(p, names))
    .sort((a, b) => a.pid - b.pid);
}

/** One line for a picker: why this process does or does not match the selected build. */
export function describeBinaryMatch(process: BitcoindProcess): string {
  switch (process.match) {
    case 'same':
      return 'matches selected build';
    case 'rebuilt':
      return 'binary was rebuilt since this process started';
    case 'different':
      return process.exePath ? `runs another binary: ${process.exePath}` : 'runs another binary';
    case 'unknown':
      return 'executable unknown (permission denied)';
  }
}

/** The command line as a person reads it (arguments joined by spaces; not meant for a shell). */
export function commandLineForDisplay(process: BitcoindProcess): string {
  return process.args.length > 0 ? process.args.join(' ') : `[pid ${process.pid}]`;
}

interface SelectedBinary {
  /** Real path (symlinks resolved) when the file exists, otherwise the absolute path as given. */
  readonly path: string;
  readonly identity: FileIdentity | undefined;
}

async function describeBinary(binaryPath: string): Promise<SelectedBinary> {
  const absolute = path.resolve(binaryPath);
  try {
    const [real, stat] = await Promise.all([fs.realpath(absolute), fs.stat(absolute)]);
    return { path: real, identity: { dev: stat.dev, ino: stat.ino } };
  } catch {
    return { path: absolute, identity: undefined };
  }
}

async function readProcess(procRoot: string, pid: number, binary: SelectedBinary | undefined): Promise<BitcoindProcess | undefined> {
  const dir = path.join(procRoot, String(pid));
  let cmdline: Buffer;
  try {
    cmdline = await fs.readFile(path.join(dir, 'cmdline'));
  } catch {
    return undefined; // exited while we listed
  }
  const args = splitCmdline(cmdline);

  let linkText: string | null = null;
  try {
    linkText = await fs.readlink(path.join(dir, 'exe'));
  } catch {
    linkText = null; // EACCES (another user's process), ENOENT (kernel thread, exited)
  }
  const exeDeleted = linkText !== null && linkText.endsWith(DELETED_SUFFIX);
  const exePath = linkText === null ? null : exeDeleted ? linkText.slice(0, -DELETED_SUFFIX.length) : linkText;

  let exeIdentity: FileIdentity | undefined;
  if (linkText !== null && binary?.identity) {
    try {
      // stat through the magic link reaches the running executable even when it has been unlinked.
      const stat = await fs.stat(path.join(dir, 'exe'));
      exeIdentity = { dev: stat.dev, ino: stat.ino };
    } catch {
      exeIdentity = undefined;
    }
  }

  return { pid, args, exePath, exeDeleted, match: compareWithBinary(exePath, exeDeleted, exeIdentity, binary) };
}

function compareWithBinary(
  exePath: string | null,
  exeDeleted: boolean,
  exeIdentity: FileIdentity | undefined,
  binary: SelectedBinary | undefined,
): BinaryMatch {
  if (!binary || exePath === null) return 'unknown';
  if (exeIdentity && binary.identity) {
    if (exeIdentity.dev === binary.identity.dev && exeIdentity.ino === binary.identity.ino) return 'same';
    return exePath === binary.path && exeDeleted ? 'rebuilt' : 'different';
  }
  if (exePath !== binary.path) return 'different';
  return exeDeleted ? 'rebuilt' : 'same';
}

function looksLikeBitcoind(process: BitcoindProcess, names: ReadonlySet<string>): boolean {
  if (process.match === 'same' || process.match === 'rebuilt') return true;
  if (process.exePath !== null && names.has(path.basename(process.exePath))) return true;
  const argv0 = process.args[0];
  return argv0 !== undefined && names.has(path.basename(argv0));
}

/** /proc/PID/cmdline: arguments each followed by a NUL (the last NUL may be missing after setproctitle). */
export function splitCmdline(raw: Buffer): string[] {
  const text = raw.toString('utf8');
  if (text.length === 0) return [];
  const parts = text.split('\0');
  if (parts[parts.length - 1] === '') parts.pop();
  return parts;
}

// The non-root integration run (`node dist/test/runIntegration.js --mode nonroot`, as root): VS Code runs as an
// unprivileged user created for the test, who may use sudo with a password, as a real user does. This module sets
// that up and takes it down again: the user (created once, a fresh random password each run), a sudoers drop-in,
// and a read-only view of the repository at a root-owned path every user can reach (a clone under /root is not),
// which also keeps the helper's probes/ root-owned and not writable by others.
// Cleanup is synchronous so that it also runs from the runner's exit handler (a signal, an uncaught error):
// every process of the user is killed, the user's password is locked, the drop-in and the mount are removed.
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, chownSync, existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export const TEST_USER = 'bitcoin-usdt-test';
export const SUDOERS_DROP_IN = '/etc/sudoers.d/bitcoin-usdt-nonroot-test';
/** Where the repository is mounted read-only for the test user: root-owned all the way up, not writable by others. */
export const STAGED_REPO = '/run/bitcoin-usdt-nonroot-test/repo';
const SUDO = '/usr/bin/sudo';

export interface TestUser {
  readonly name: string;
  readonly uid: number;
  readonly gid: number;
  readonly home: string;
  /** Set by this run; the tests type it into the terminal's sudo prompt. */
  readonly password: string;
}

function run(program: string, args: readonly string[], input?: string): string {
  return execFileSync(program, args, { encoding: 'utf8', input, stdio: [input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'] });
}

function passwdEntry(name: string): { uid: number; gid: number; home: string } | undefined {
  const line = readFileSync('/etc/passwd', 'utf8').split('\n').find((l) => l.startsWith(`${name}:`));
  if (!line) return undefined;
  const fields = line.split(':');
  return { uid: Number(fields[2]), gid: Number(fields[3]), home: fields[5] };
}

/** PIDs of the processes whose real or effective user is `uid`. */
function processesOf(uid: number): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let status: string;
    try {
      status = readFileSync(`/proc/${entry}/status`, 'utf8');
    } catch {
      continue;
    }
    const uids = /^Uid:\s+(\d+)\s+(\d+)/m.exec(status);
    if (uids && (Number(uids[1]) === uid || Number(uids[2]) === uid)) pids.push(Number(entry));
  }
  return pids;
}

/** SIGKILLs every process of `uid` until none is left (a few rounds: a dying parent may still fork). */
export function killProcessesOf(uid: number): void {
  for (let round = 0; round < 50; round++) {
    const pids = processesOf(uid);
    if (pids.length === 0) return;
    for (const pid of pids) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // gone already
      }
    }
    execFileSync('/bin/sleep', ['0.1']);
  }
  throw new Error(`processes of uid ${uid} survive SIGKILL: ${processesOf(uid).join(', ')}`);
}

function isMountPoint(path: string): boolean {
  return readFileSync('/proc/self/mounts', 'utf8').split('\n').some((line) => line.split(' ')[1] === path);
}

/** Creates the user if needed, sets a fresh password, allows sudo with that password, kills what an earlier run left. */
export function prepareTestUser(): TestUser {
  if (process.getuid?.() !== 0) throw new Error('--mode nonroot creates a test user and a sudoers rule: run it as root');
  if (!existsSync(SUDO)) throw new Error(`${SUDO} is missing: install sudo (scripts/setup.sh does)`);
  if (!passwdEntry(TEST_USER)) run('useradd', ['--create-home', '--user-group', '--shell', '/bin/sh', '--comment', 'bitcoin-usdt non-root integration test', TEST_USER]);
  const entry = passwdEntry(TEST_USER);
  if (!entry) throw new Error(`useradd did not create ${TEST_USER}`);
  if (entry.uid === 0) throw new Error(`${TEST_USER} has uid 0`);
  killProcessesOf(entry.uid);
  const password = randomBytes(18).toString('base64url');
  run('chpasswd', [], `${TEST_USER}:${password}\n`);
  run('usermod', ['--unlock', TEST_USER]);
  // Every start asks for the password (no cached credential across tests), and one wrong password ends sudo (a
  // user with the default three tries sees the same message after the third).
  const rules = [
    '# Written by test/runIntegration.ts --mode nonroot and removed when that run ends.',
    `Defaults:${TEST_USER} timestamp_timeout=0, passwd_tries=1, !lecture`,
    `${TEST_USER} ALL=(root) ALL`,
    '',
  ].join('\n');
  const draft = `${SUDOERS_DROP_IN}.draft`; // sudo skips names with a dot
  writeFileSync(draft, rules, { mode: 0o440 });
  chmodSync(draft, 0o440);
  try {
    run('visudo', ['-c', '-q', '-f', draft]);
  } catch (error) {
    rmSync(draft, { force: true });
    throw new Error(`visudo rejects the drop-in: ${error instanceof Error ? error.message : String(error)}`);
  }
  renameSync(draft, SUDOERS_DROP_IN);
  return { name: TEST_USER, uid: entry.uid, gid: entry.gid, home: entry.home, password };
}

/** Mounts `repoRoot` read-only at STAGED_REPO (replacing a mount an interrupted run left) and returns STAGED_REPO. */
export function stageRepository(repoRoot: string): string {
  mkdirSync(STAGED_REPO, { recursive: true, mode: 0o755 });
  for (let dir = STAGED_REPO; dir !== '/'; dir = join(dir, '..')) {
    const st = lstatSync(dir);
    if (st.uid !== 0 || st.mode & 0o022) throw new Error(`${dir} must be root-owned and not writable by others`);
  }
  if (isMountPoint(STAGED_REPO)) run('umount', [STAGED_REPO]);
  run('mount', ['--bind', repoRoot, STAGED_REPO]);
  run('mount', ['-o', 'remount,bind,ro', STAGED_REPO]);
  return STAGED_REPO;
}

/** Gives `path` and everything below it to the user (the run's temporary directory: workspace, VS Code's data). */
export function chownTree(path: string, user: TestUser): void {
  chownSync(path, user.uid, user.gid);
  if (!lstatSync(path).isDirectory()) return;
  for (const name of readdirSync(path)) {
    const child = join(path, name);
    if (lstatSync(child).isSymbolicLink()) continue;
    chownTree(child, user);
  }
}

/** Everything the run set up goes away; safe to call more than once and when set-up stopped half-way. */
export function cleanUpTestUser(): string[] {
  const problems: string[] = [];
  const attempt = (what: string, step: () => void): void => {
    try {
      step();
    } catch (error) {
      problems.push(`${what}: ${error instanceof Error ? error.message : String(error)}`);
    }
  };
  const entry = passwdEntry(TEST_USER);
  if (entry && entry.uid !== 0) {
    attempt(`killing the processes of ${TEST_USER}`, () => killProcessesOf(entry.uid));
    attempt(`locking the password of ${TEST_USER}`, () => run('usermod', ['--lock', TEST_USER]));
  }
  attempt(`removing ${SUDOERS_DROP_IN}`, () => {
    rmSync(SUDOERS_DROP_IN, { force: true });
    rmSync(`${SUDOERS_DROP_IN}.draft`, { force: true });
  });
  attempt(`unmounting ${STAGED_REPO}`, () => {
    if (existsSync(STAGED_REPO) && isMountPoint(STAGED_REPO)) run('umount', [STAGED_REPO]);
  });
  return problems;
}

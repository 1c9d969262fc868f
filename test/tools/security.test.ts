// The root helper against a second, unprivileged local user who has the README's password-less sudo rule
// (SECURITY.md, "A local user with the sudo rule"). The test creates that user (bitcoin-usdt-attacker) if it
// is missing, stages the helper, the CLI and the tracee under a root-owned directory the user can read (the
// clone itself may live where that user cannot look), writes the sudo rule into /etc/sudoers.d and removes it
// afterwards. Each attack must be refused with nothing run, opened or shown; each has a control that works.
// Needs root, sudo, setpriv, bpftrace, `make -C test/tracee` and `npm run build` (dist/cli.js).

import { strict as assert } from 'node:assert';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chmodSync, copyFileSync, cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { processesWith, waitUntil } from './childProcessWaits';

const ROOT = resolve(__dirname, '..', '..');
const TRACEE = join(ROOT, 'test', 'tracee', 'build', 'tracee-legacy');
const CLI = join(ROOT, 'dist', 'cli.js');
const ATTACKER = 'bitcoin-usdt-attacker';
const STAGE_PARENT = '/var/lib/bitcoin-usdt-security-test';
const SUDOERS = '/etc/sudoers.d/bitcoin-usdt-security-test';
const ENV = { PATH: '/usr/sbin:/usr/bin:/sbin:/bin', LANG: 'C' };
const HELPER_NAME = 'bitcoin-usdt-helper.py';

interface HelperRecord { type: string; data: Record<string, unknown> }
interface SessionEnd { code: number; stderr: string }

function run(argv: string[], options: { input?: string } = {}): { code: number | null; stdout: string; stderr: string } {
  const result = spawnSync(argv[0], argv.slice(1), { env: ENV, encoding: 'utf8', timeout: 60_000, input: options.input });
  return { code: result.status, stdout: result.stdout ?? '', stderr: result.stderr ?? '' };
}

function mustRun(argv: string[]): string {
  const result = run(argv);
  assert.equal(result.code, 0, `${argv.join(' ')}: ${result.stderr}`);
  return result.stdout;
}

/** argv run as the attacker: real and effective uid and gid, their groups, nothing of root's. */
function asAttacker(argv: string[]): string[] {
  return ['/usr/bin/setpriv', `--reuid=${ATTACKER}`, `--regid=${ATTACKER}`, '--init-groups', '--', ...argv];
}

/** A running tracee of the staged binary, started by root or by the attacker; fires on `fire()`. */
class Tracee {
  readonly process: ChildProcess;
  readonly ready: Promise<void>;
  readonly done: Promise<number>;

  constructor(binary: string, asUser: boolean, count: number) {
    const argv = [binary, '--scenario', 'p2p', '--count', String(count), '--wait-signal', '--linger-ms', '1500'];
    const full = asUser ? asAttacker(argv) : argv;
    this.process = spawn(full[0], full.slice(1), { env: ENV, stdio: ['ignore', 'pipe', 'inherit'] });
    const lines = createInterface({ input: this.process.stdout! });
    this.ready = new Promise((r) => lines.on('line', (line) => line.startsWith('ready') && r()));
    this.done = new Promise((r) => lines.on('line', (line) => {
      const match = /^done fired=(\d+)/.exec(line);
      if (match) r(Number(match[1]));
    }));
  }

  get pid(): number {
    return this.process.pid!;
  }

  fire(): Promise<number> {
    this.process.kill('SIGUSR1');
    return this.done;
  }

  kill(): void {
    this.process.kill('SIGKILL');
  }
}

/** One helper session run through sudo (attackerSession.py) by the attacker (or by root), records as they arrive. */
class AttackerSession {
  readonly records: HelperRecord[] = [];
  readonly end: Promise<SessionEnd>;
  private readonly child: ChildProcess;

  constructor(stage: Stage, helperArgs: string[], options: { helper?: string; stopFile?: string; asRoot?: boolean } = {}) {
    const argv = (options.asRoot ? (a: string[]) => a : asAttacker)(['/usr/bin/python3', '-I', stage.sessionScript, options.helper ?? stage.helper,
      ...(options.stopFile ? ['--stop-file', options.stopFile] : []), '--', ...helperArgs]);
    this.child = spawn(argv[0], argv.slice(1), { env: ENV, cwd: '/', stdio: ['ignore', 'pipe', 'inherit'] });
    const lines = createInterface({ input: this.child.stdout! });
    this.end = new Promise((done) => lines.on('line', (line) => {
      const parsed = JSON.parse(line) as { end?: SessionEnd } & HelperRecord;
      if (parsed.end) done(parsed.end);
      else this.records.push(parsed);
    }));
  }

  events(): string[] {
    return this.records.filter((r) => r.type === 'helper').map((r) => String(r.data.event));
  }

  waitFor(event: string, ms: number): Promise<void> {
    return waitUntil(() => this.events().includes(event), ms, `helper record '${event}' (got ${this.events().join(', ')})`);
  }

  /** Message records (p2p-traffic's "in"/"out" tuples) and the last kernel count of fired tracepoints. */
  counts(): { delivered: number; fired: number } {
    let fired = 0;
    let delivered = 0;
    for (const record of this.records) {
      if (record.type === 'value' && Array.isArray(record.data) && (record.data[0] === 'in' || record.data[0] === 'out')) delivered += 1;
      const map = (record.data as Record<string, Record<string, number>> | undefined)?.['@fired'];
      if (record.type === 'map' && map) fired = Object.values(map).reduce((a, b) => a + b, 0);
    }
    return { delivered, fired };
  }

  /** The session's end; when it has not ended within `ms`, stops it (SIGINT to the helper) and fails. */
  async ended(ms = 60_000): Promise<SessionEnd> {
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<'late'>((r) => (timer = setTimeout(() => r('late'), ms)));
    const result = await Promise.race([this.end, late]);
    clearTimeout(timer);
    if (result !== 'late') return result;
    this.kill();
    await this.end;
    throw new Error(`the helper was still running after ${ms} ms (records: ${this.events().join(', ')})`);
  }

  /** Stops the session: the helper gets SIGINT through sudo, and the session script ends. */
  kill(): void {
    this.child.kill('SIGTERM');
  }
}

/** A copy of what the sudo rule runs, in a root-owned directory every user can read. */
class Stage {
  readonly dir: string;
  readonly helper: string;
  readonly binary: string;
  readonly sessionScript: string;
  readonly marks: string;

  constructor() {
    mkdirSync(STAGE_PARENT, { recursive: true, mode: 0o755 });
    chmodSync(STAGE_PARENT, 0o755);
    this.dir = mkdtempSync(join(STAGE_PARENT, 'run-'));
    chmodSync(this.dir, 0o755);
    this.helper = this.copyProbes(join(this.dir, 'probes'));
    mkdirSync(join(this.dir, 'dist'), { mode: 0o755 });
    copyFileSync(CLI, join(this.dir, 'dist', 'cli.js'));
    chmodSync(join(this.dir, 'dist', 'cli.js'), 0o644);
    this.binary = join(this.dir, 'bitcoind');
    copyFileSync(TRACEE, this.binary);
    chmodSync(this.binary, 0o755);
    this.sessionScript = join(this.dir, 'attackerSession.py');
    copyFileSync(join(__dirname, 'security', 'attackerSession.py'), this.sessionScript);
    chmodSync(this.sessionScript, 0o644);
    // What root runs when a protection fails leaves a mark here (root-only: the attacker cannot fake one).
    this.marks = join(this.dir, 'marks');
    mkdirSync(this.marks, { mode: 0o700 });
  }

  /** A copy of probes/ (root-owned, 0644 files, 0755 directory); returns its helper's path. */
  copyProbes(target: string): string {
    cpSync(join(ROOT, 'probes'), target, { recursive: true, filter: (source) => !source.includes('__pycache__') });
    chmodSync(target, 0o755);
    for (const name of readdirSync(target)) chmodSync(join(target, name), 0o644);
    return join(target, HELPER_NAME);
  }

  mark(name: string): string {
    return join(this.marks, name);
  }

  remove(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** The README's rule, for each staged helper. */
function writeSudoers(helpers: string[]): void {
  const text = helpers.map((helper) => `${ATTACKER} ALL=(root) NOPASSWD: /usr/bin/python3 -I -S ${helper} *\n`).join('');
  const draft = `${SUDOERS}.draft`;
  writeFileSync(draft, text, { mode: 0o440 });
  mustRun(['visudo', '-cf', draft]);
  renameSync(draft, SUDOERS);
}

function ensureAttacker(): void {
  if (run(['id', '-u', ATTACKER]).code === 0) return;
  mustRun(['useradd', '--system', '--no-create-home', '--home-dir', '/nonexistent', '--shell', '/usr/sbin/nologin', ATTACKER]);
}

/** Counts opens (inotify IN_OPEN) of the given paths while `body` runs. */
async function countOpens(paths: string[], body: () => Promise<void>): Promise<Record<string, number>> {
  const watcher = spawn('/usr/bin/python3', ['-I', join(__dirname, 'security', 'watchOpens.py'), ...paths], { env: ENV, stdio: ['pipe', 'pipe', 'inherit'] });
  const lines = createInterface({ input: watcher.stdout! });
  const output: string[] = [];
  const ready = new Promise<void>((r) => lines.on('line', (line) => (line === 'ready' ? r() : output.push(line))));
  const closed = new Promise<void>((r) => watcher.once('close', () => r()));
  await ready;
  try {
    await body();
  } finally {
    watcher.stdin!.end();
    await closed;
  }
  return JSON.parse(output[0]) as Record<string, number>;
}

describe('security: a local user with the sudo rule for the helper', function () {
  this.timeout(240_000);
  let stage: Stage;
  let bccWritable: string;
  let dirWritable: string;
  const cleanups: Array<() => void> = [];

  before(() => {
    assert.equal(process.geteuid?.(), 0, 'these tests run as root');
    for (const needed of [TRACEE, CLI, '/usr/bin/sudo', '/usr/bin/setpriv', '/usr/sbin/visudo']) {
      assert.ok(existsSync(needed), `${needed} is missing (make -C test/tracee, npm run build, apt install sudo util-linux)`);
    }
    ensureAttacker();
    stage = new Stage();
    // A copy whose bcc_common.py is group-writable, and one whose probes directory anyone can write. The
    // group-writable module leaves a mark if it is ever imported (as root: it could do anything).
    bccWritable = stage.copyProbes(join(stage.dir, 'bcc-writable', 'probes'));
    const common = join(stage.dir, 'bcc-writable', 'probes', 'bcc_common.py');
    writeFileSync(common, `open(${JSON.stringify(stage.mark('bcc-common-imported'))}, 'w').close()\n${readFileSync(common, 'utf8')}`);
    chmodSync(common, 0o664);
    chmodSync(join(stage.dir, 'bcc-writable'), 0o755);
    dirWritable = stage.copyProbes(join(stage.dir, 'dir-writable', 'probes'));
    chmodSync(join(stage.dir, 'dir-writable'), 0o755);
    chmodSync(join(stage.dir, 'dir-writable', 'probes'), 0o777);
    writeSudoers([stage.helper, bccWritable, dirWritable]);
  });

  after(() => {
    for (const cleanup of cleanups.splice(0)) cleanup();
    rmSync(SUDOERS, { force: true });
    stage?.remove();
  });

  /** Nothing runs from the staged copies but the given processes (tracees): no helper, bpftrace or BCC program. */
  function nothingRunningBut(pids: number[]): void {
    // A refused helper may still be exiting when the session has ended: give it up to 3 s to be gone.
    const deadline = Date.now() + 3_000;
    let others = pidsWith(stage.dir).filter((pid) => !pids.includes(pid));
    while (others.length > 0 && Date.now() < deadline) {
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 50);
      others = pidsWith(stage.dir).filter((pid) => !pids.includes(pid));
    }
    const commands = others.map((pid) => {
      try {
        return `${pid}: ${readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ')}`;
      } catch {
        return `${pid}: (exited)`;
      }
    });
    assert.deepEqual(commands, [], 'no process of the staged copies runs');
  }

  function assertRefused(session: AttackerSession, end: SessionEnd, pattern: RegExp): void {
    assert.equal(end.code, 2, `the helper refuses (stderr: ${end.stderr})`);
    assert.match(end.stderr, pattern);
    assert.ok(!session.events().includes('started'), 'nothing was started');
    assert.ok(!session.records.some((r) => r.type !== 'helper'), 'no probe output reached the attacker');
  }

  it("another user's PID is refused, naming the owner problem; the attacker's own PID works", async () => {
    const rootTracee = new Tracee(stage.binary, false, 40);
    const ownTracee = new Tracee(stage.binary, true, 25);
    cleanups.push(() => rootTracee.kill(), () => ownTracee.kill());
    await Promise.all([rootTracee.ready, ownTracee.ready]);

    const refused = new AttackerSession(stage, ['--tool', 'p2p-traffic', '--binary', stage.binary, '--pid', String(rootTracee.pid)]);
    const refusedEnd = await refused.ended();
    assertRefused(refused, refusedEnd, /process \d+ belongs to another user \(real uid 0, effective uid 0\): as uid \d+ you may trace only your own processes/);
    assert.match(String(refused.records.find((r) => r.data.event === 'error')?.data.message), /belongs to another user/);

    // The README's flow: the CLI as that user, through sudo.
    const cli = run(asAttacker(['/usr/bin/node', join(stage.dir, 'dist', 'cli.js'), 'run', 'p2p-traffic', '--pid', String(rootTracee.pid), '--binary', stage.binary, '--duration', '5']));
    assert.notEqual(cli.code, 0);
    assert.match(cli.stderr, /belongs to another user/);
    assert.doesNotMatch(cli.stdout, /msg/);

    const own = new AttackerSession(stage, ['--tool', 'p2p-traffic', '--binary', stage.binary, '--pid', String(ownTracee.pid)]);
    cleanups.push(() => own.kill());
    await own.waitFor('attached', 60_000);
    assert.equal(await ownTracee.fire(), 25);
    const ownEnd = await own.end; // bpftrace -p exits when the tracee does
    assert.ok(ownEnd.code !== 2, ownEnd.stderr);
    assert.deepEqual(own.counts(), { delivered: 25, fired: 25 });
    await rootTracee.fire();
  });

  it("a binary-wide session sees only the attacker's processes (filtered by uid in the kernel); root's sees all", async () => {
    const stopFile = join('/tmp', `bitcoin-usdt-security-stop-${process.pid}`);
    const rootTracee = new Tracee(stage.binary, false, 300);
    const ownTracee = new Tracee(stage.binary, true, 30);
    cleanups.push(() => rootTracee.kill(), () => ownTracee.kill(), () => rmSync(stopFile, { force: true }));
    await Promise.all([rootTracee.ready, ownTracee.ready]);
    const session = new AttackerSession(stage, ['--tool', 'p2p-traffic', '--binary', stage.binary], { stopFile });
    const rootSession = new AttackerSession(stage, ['--tool', 'p2p-traffic', '--binary', stage.binary], { stopFile, asRoot: true });
    cleanups.push(() => session.kill(), () => rootSession.kill());
    await Promise.all([session.waitFor('attached', 60_000), rootSession.waitFor('attached', 60_000)]);
    assert.equal(await rootTracee.fire(), 300);
    assert.equal(await ownTracee.fire(), 30);
    // p2p-traffic prints its kernel counts every 500 ms and at exit.
    await new Promise((r) => setTimeout(r, 1500));
    writeFileSync(stopFile, '');
    const end = await session.end;
    assert.equal(end.code, 0, end.stderr);
    assert.deepEqual(session.counts(), { delivered: 30, fired: 30 }, 'exactly the attacker\'s own 30 messages, none of root\'s 300');
    assert.equal((await rootSession.end).code, 0);
    assert.deepEqual(rootSession.counts(), { delivered: 330, fired: 330 }, 'root traces every process');
    // The helper's node records (from /proc) name only processes the session may trace.
    const nodePids = (s: AttackerSession): number[] =>
      s.records.filter((r) => r.type === 'helper' && r.data.event === 'node').map((r) => Number(r.data.pid)).sort((a, b) => a - b);
    assert.deepEqual(nodePids(session), [ownTracee.pid], 'the attacker\'s session names only the attacker\'s process');
    // Root's session sees every process of the binary: both tracees (and any other still running it).
    assert.ok([rootTracee.pid, ownTracee.pid].every((pid) => nodePids(rootSession).includes(pid)), `root's names both (${nodePids(rootSession).join(', ')})`);
  });

  it("--follow re-attaches to the attacker's next process of the binary, never to root's", async () => {
    const stopFile = join('/tmp', `bitcoin-usdt-security-stop-follow-${process.pid}`);
    cleanups.push(() => rmSync(stopFile, { force: true }));
    const first = new Tracee(stage.binary, true, 5);
    cleanups.push(() => first.kill());
    await first.ready;
    const session = new AttackerSession(stage, ['--tool', 'p2p-traffic', '--binary', stage.binary, '--pid', String(first.pid), '--follow'], { stopFile });
    cleanups.push(() => session.kill());
    await session.waitFor('attached', 60_000);
    assert.equal(await first.fire(), 5);
    await session.waitFor('bpftrace_exit', 30_000);
    // A process of the binary started by root while the session waits: not the attacker's, so not followed.
    const rootTracee = new Tracee(stage.binary, false, 40);
    cleanups.push(() => rootTracee.kill());
    await rootTracee.ready;
    await new Promise((r) => setTimeout(r, 2500)); // five of the helper's polls
    assert.ok(!session.events().includes('reattached'), "the helper did not follow root's process");
    assert.equal(await rootTracee.fire(), 40);
    const next = new Tracee(stage.binary, true, 7);
    cleanups.push(() => next.kill());
    await next.ready;
    await waitUntil(() => session.events().filter((e) => e === 'attached').length === 2, 60_000, 're-attached to the next process');
    assert.equal(session.records.find((r) => r.data.event === 'reattached')?.data.pid, next.pid);
    assert.equal(await next.fire(), 7);
    await new Promise((r) => setTimeout(r, 1000));
    writeFileSync(stopFile, '');
    await session.end;
    assert.equal(session.counts().delivered, 12, "the attacker's own 5 + 7 messages, none of root's 40");
  });

  it('a tracee in its own mount namespace, where the path names another file, is refused', async () => {
    // The attacker starts the staged binary in a user and mount namespace of their own, then binds another
    // ELF file with tracepoints over its path there: /proc/PID/exe is the checked file, but bpftrace -p
    // would open /proc/PID/root/<path>, the other one.
    const other = mkdtempSync('/tmp/bitcoin-usdt-other-');
    chmodSync(other, 0o755);
    const otherBinary = join(other, 'bitcoind');
    copyFileSync(join(ROOT, 'test', 'tracee', 'build', 'tracee-v29'), otherBinary);
    chmodSync(otherBinary, 0o755);
    cleanups.push(() => rmSync(other, { recursive: true, force: true }));
    const script = `${stage.binary} --scenario p2p --count 1 --wait-signal & sleep 0.5; mount --bind ${otherBinary} ${stage.binary}; echo mounted; wait`;
    const argv = asAttacker(['/usr/bin/unshare', '--map-root-user', '--mount', '/bin/sh', '-c', script]);
    const inner = spawn(argv[0], argv.slice(1), { env: ENV, stdio: ['ignore', 'pipe', 'inherit'] });
    cleanups.push(() => inner.kill('SIGKILL'));
    const lines = createInterface({ input: inner.stdout! });
    let pid = 0;
    await new Promise<void>((resolveMounted, reject) => {
      lines.on('line', (line) => {
        const ready = /^ready pid=(\d+)/.exec(line);
        if (ready) pid = Number(ready[1]);
        if (line === 'mounted') resolveMounted();
      });
      inner.once('exit', (code) => reject(new Error(`unshare --map-root-user --mount exited (${code}) before binding the other file: are user namespaces allowed here?`)));
    });
    assert.ok(pid > 0);
    const session = new AttackerSession(stage, ['--tool', 'p2p-traffic', '--binary', stage.binary, '--pid', String(pid)]);
    assertRefused(session, await session.ended(), new RegExp(`process ${pid} sees another file at ${stage.binary} \\(it runs in its own mount namespace\\)`));
    process.kill(pid, 'SIGKILL');
  });

  it('the socket symlink race: over 1,000 swaps, root never connects to the swapped-in socket', async () => {
    // Root's private socket, which the attacker must never reach through the helper.
    const rootDir = mkdtempSync('/tmp/bitcoin-usdt-root-');
    const rootSocketPath = join(rootDir, 'probe.sock');
    let rootConnections = 0;
    const server: Server = createServer((connection: Socket) => {
      rootConnections += 1;
      connection.destroy();
    });
    await new Promise<void>((r) => server.listen(rootSocketPath, () => r()));
    cleanups.push(() => server.close(), () => rmSync(rootDir, { recursive: true, force: true }));

    // The attacker's directory: probe.sock is swapped between a socket of their own and a symlink to root's
    // socket, as fast as it goes, while the helper is started again and again. (The helper used to connect as
    // root after checking the name: this loop got it connected to root's socket about once in 10-30 runs.)
    const swapperArgv = asAttacker(['/usr/bin/python3', '-I', '-c', SWAPPER, rootSocketPath]);
    const swapper = spawn(swapperArgv[0], swapperArgv.slice(1), { env: ENV, stdio: ['ignore', 'pipe', 'inherit'] });
    cleanups.push(() => swapper.kill('SIGKILL'));
    const lines = createInterface({ input: swapper.stdout! });
    const output: string[] = [];
    const directory = await new Promise<string>((r) => lines.on('line', (line) => (output.push(line), output.length === 1 && r(line))));
    const attempts = 20;
    for (let i = 0; i < attempts; i++) {
      const attempt = run(asAttacker(['sudo', '-n', '--', '/usr/bin/python3', '-I', '-S', stage.helper, 'run', '--tool', 'p2p-traffic',
        '--binary', stage.binary, '--socket', join(directory, 'probe.sock')]));
      assert.equal(attempt.code, 2, attempt.stderr);
      assert.match(attempt.stderr, /refused: (cannot connect to|.* is not a socket|cannot use socket)/);
    }
    // Its output, not only its exit: the last line may be read after the exit event.
    const swapperDone = new Promise<void>((r) => lines.once('close', () => r()));
    writeFileSync(join(directory, 'stop'), '');
    await swapperDone;
    const swaps = Number(output[1]);
    assert.ok(swaps >= 1000, `the swapper swapped ${swaps} times during ${attempts} helper runs`);
    assert.equal(rootConnections, 0, 'root never connected to the socket swapped in');
    rmSync(directory, { recursive: true, force: true });
  });

  it("root never connects for the user: a socket file the user may not write is not connected, though root's listener is behind it", async () => {
    // Deterministic counterpart of the race: every check on names and owners passes (the user's 0700
    // directory, a socket owned by the user), but the socket's mode lets only root connect.
    const dirArgv = asAttacker(['/usr/bin/python3', '-I', '-c', 'import tempfile; print(tempfile.mkdtemp(prefix="bitcoin-usdt-mode-"))']);
    const directory = mustRun(dirArgv).trim();
    cleanups.push(() => rmSync(directory, { recursive: true, force: true }));
    const socketPath = join(directory, 'probe.sock');
    let rootConnections = 0;
    const server: Server = createServer((connection: Socket) => {
      rootConnections += 1;
      connection.destroy();
    });
    await new Promise<void>((r) => server.listen(socketPath, () => r()));
    cleanups.push(() => server.close());
    mustRun(['chown', ATTACKER, socketPath]);
    chmodSync(socketPath, 0o000);
    const attempt = run(asAttacker(['sudo', '-n', '--', '/usr/bin/python3', '-I', '-S', stage.helper, 'run', '--tool', 'p2p-traffic', '--binary', stage.binary, '--socket', socketPath]));
    assert.equal(attempt.code, 2, attempt.stderr);
    assert.match(attempt.stderr, /refused: cannot connect to .*probe\.sock: Permission denied/);
    assert.equal(rootConnections, 0, 'root never connected');
    server.close();
  });

  it("a device or another user's file is never opened as root, and an unreadable file looks like a missing one", async () => {
    const device = ['/dev/ttyS0', '/dev/tty0', '/dev/console'].find((path) => existsSync(path));
    assert.ok(device, 'a root-only character device to try');
    const secret = mkdtempSync('/root/bitcoin-usdt-secret-');
    const secretFile = join(secret, 'bitcoind');
    copyFileSync(stage.binary, secretFile);
    cleanups.push(() => rmSync(secret, { recursive: true, force: true }));
    const ends: Record<string, SessionEnd> = {};
    const opens = await countOpens([device!, secretFile], async () => {
      for (const binary of [device!, secretFile, join(secret, 'no-such-file')]) {
        const session = new AttackerSession(stage, ['--tool', 'p2p-traffic', '--binary', binary]);
        ends[binary] = await session.ended();
        assertRefused(session, ends[binary], /refused: (binary .* is not a regular file|cannot read binary)/);
      }
    });
    assert.deepEqual(opens, { [device!]: 0, [secretFile]: 0 }, 'root opened neither');
    assert.match(ends[device!].stderr, /binary \/dev\/\w+ is not a regular file/);
    const shown = (binary: string): string => (ends[binary].stderr.match(/refused: .*/)?.[0] ?? '').replace(binary, 'PATH');
    assert.equal(shown(secretFile), shown(join(secret, 'no-such-file')), 'an existing unreadable file and a missing one give the same error');
    assert.match(shown(secretFile), /Permission denied/);
  });

  it('a bpftrace symlink to another root-owned program is refused before that program runs', async () => {
    // A root-owned program in a root-owned directory that leaves a mark when it runs: only its name is wrong.
    const program = join(stage.dir, 'not-bpftrace');
    writeFileSync(program, `#!/bin/sh\ntouch ${stage.mark('not-bpftrace-ran')}\necho 'bpftrace v0.17.0'\n`, { mode: 0o755 });
    const linkDir = mkdtempSync('/tmp/bitcoin-usdt-links-');
    chmodSync(linkDir, 0o755);
    const link = join(linkDir, 'bpftrace-evil');
    symlinkSync(program, link);
    cleanups.push(() => rmSync(linkDir, { recursive: true, force: true }));
    const own = new Tracee(stage.binary, true, 1);
    cleanups.push(() => own.kill());
    await own.ready;
    const session = new AttackerSession(stage, ['--tool', 'p2p-traffic', '--binary', stage.binary, '--pid', String(own.pid), '--bpftrace', link]);
    assertRefused(session, await session.ended(), /bpftrace path .*bpftrace-evil leads to .*not-bpftrace, which does not name a bpftrace program/);
    assert.ok(!existsSync(stage.mark('not-bpftrace-ran')), 'the program never ran');
    own.kill();
  });

  it('a group-writable bcc_common.py or a writable probes directory is refused: nothing imported or run', async () => {
    const own = new Tracee(stage.binary, true, 1);
    cleanups.push(() => own.kill());
    await own.ready;
    const bcc = new AttackerSession(stage, ['--tool', 'raw-p2p-msgs', '--binary', stage.binary, '--pid', String(own.pid)], { helper: bccWritable });
    assertRefused(bcc, await bcc.ended(), /tool script .*bcc_common\.py is not owned by root or is writable by group or others/);
    assert.ok(!existsSync(stage.mark('bcc-common-imported')), 'bcc_common.py was never imported');
    const dir = new AttackerSession(stage, ['--tool', 'p2p-traffic', '--binary', stage.binary, '--pid', String(own.pid)], { helper: dirWritable });
    assertRefused(dir, await dir.ended(), /(?:probes directory .*dir-writable\/probes .*is not owned by root or is writable by group or others|tool manifest .*dir-writable\/probes\/tools\.json is in .*dir-writable\/probes, which someone other than root can change)/);
    nothingRunningBut([own.pid]);
    own.kill();
  });

  it('the per-user session limit from a root-owned helper.conf: two run, two more are refused naming it', async () => {
    // The default (10) lets one user run every tool at once; the limit itself is checked with a lower one.
    const confDir = '/etc/bitcoin-usdt';
    const conf = join(confDir, 'helper.conf');
    const confDirExisted = existsSync(confDir);
    const previous = existsSync(conf) ? readFileSync(conf) : null;
    mkdirSync(confDir, { recursive: true, mode: 0o755 });
    writeFileSync(conf, 'max_sessions_per_user = 2\n', { mode: 0o644 });
    cleanups.push(() => {
      if (previous !== null) writeFileSync(conf, previous);
      else if (confDirExisted) rmSync(conf, { force: true });
      else rmSync(confDir, { recursive: true, force: true });
    });
    const stopFile = join('/tmp', `bitcoin-usdt-security-stop-limit-${process.pid}`);
    cleanups.push(() => rmSync(stopFile, { force: true }));
    const sessions: AttackerSession[] = [];
    for (let i = 0; i < 2; i++) sessions.push(new AttackerSession(stage, ['--tool', 'p2p-monitor', '--binary', stage.binary], { stopFile }));
    cleanups.push(() => sessions.forEach((s) => s.kill()));
    await Promise.all(sessions.map((s) => s.waitFor('attached', 120_000)));
    const bpftraces = (): number[] => pidsWith(stage.binary).filter((pid) => /^[^\0]*\/bpftrace\0/.test(readFileSync(`/proc/${pid}/cmdline`, 'utf8')));
    assert.equal(bpftraces().length, 2, 'one bpftrace per running session');
    for (let i = 0; i < 2; i++) {
      const extra = new AttackerSession(stage, ['--tool', 'p2p-monitor', '--binary', stage.binary], { stopFile });
      assertRefused(extra, await extra.ended(), /uid \d+ already runs 2 probe sessions, the most one user may run at once \(root sets max_sessions_per_user in \/etc\/bitcoin-usdt\/helper\.conf\); stop one first/);
    }
    assert.equal(bpftraces().length, 2, 'the refused sessions started nothing');
    writeFileSync(stopFile, '');
    for (const session of sessions) assert.equal((await session.end).code, 0);
  });
});

// Swaps probe.sock (a hard link of a socket of the attacker's own, bound but not listening) and a symlink to
// root's socket in one renameat2(RENAME_EXCHANGE) call each, as fast as Python goes.
const SWAPPER = `
import ctypes, os, socket, sys, tempfile
d = tempfile.mkdtemp(prefix='bitcoin-usdt-race-')
own = socket.socket(socket.AF_UNIX)
own.bind(os.path.join(d, 'own.sock'))
os.link(os.path.join(d, 'own.sock'), os.path.join(d, 'probe.sock'))
os.symlink(sys.argv[1], os.path.join(d, 'other'))
print(d, flush=True)
exchange = ctypes.CDLL(None, use_errno=True).renameat2
directory = os.open(d, os.O_RDONLY | os.O_DIRECTORY)
swaps = 0
while not os.path.exists(os.path.join(d, 'stop')):
    for _ in range(1000):
        exchange(directory, b'probe.sock', directory, b'other', 2)
    swaps += 1000
print(swaps, flush=True)
`;

const pidsWith = (needle: string): number[] => processesWith(needle).map((p) => p.pid);

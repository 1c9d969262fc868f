// The privileged helper (probes/bitcoin-usdt-helper.py) for real, as root: what it refuses, and that no
// process (helper or bpftrace) outlives a session however it ends. Needs root, bpftrace and the tracee.

import { strict as assert } from 'node:assert';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { buildHelperArgv, buildSeveralHelperArgv, createPrivateSocket, type HelperStream, type PrivateSocket } from '../../src/core/probeSession';
import { processesWith, waitUntil } from './childProcessWaits';

const pidsWith = (needle: string): number[] => processesWith(needle).map((p) => p.pid);

const ROOT = resolve(__dirname, '..', '..');
const PROBES = join(ROOT, 'probes');
const TRACEE = join(ROOT, 'test', 'tracee', 'build', 'tracee-legacy');
const PYTHON = '/usr/bin/python3';
const CLEAN_ENV = { PATH: '/usr/bin:/bin' }; // no SUDO_UID: the invoking user is root

function helperArgv(socketPath: string, overrides: { tool?: string; binary: string; pid?: string }): string[] {
  const argv = buildHelperArgv({ pythonPath: PYTHON, probesDir: PROBES, tool: overrides.tool ?? 'p2p-traffic', binary: overrides.binary, socketPath });
  if (overrides.pid !== undefined) argv.push('--pid', overrides.pid);
  return argv;
}

/** Runs the helper to completion; returns its exit code and stderr. */
function runHelperSync(argv: string[]): { code: number | null; stderr: string } {
  const result = spawnSync(argv[0], argv.slice(1), { env: CLEAN_ENV, encoding: 'utf8', timeout: 30_000 });
  return { code: result.status, stderr: result.stderr };
}

function readRecords(connection: HelperStream): { records: Array<{ type: string; data: Record<string, unknown> }>; waitFor: (event: string, ms: number) => Promise<void> } {
  const records: Array<{ type: string; data: Record<string, unknown> }> = [];
  let buffered = '';
  connection.on('data', (chunk: Buffer) => {
    buffered += chunk.toString('latin1');
    const lines = buffered.split('\n');
    buffered = lines.pop() ?? '';
    for (const line of lines) if (line.startsWith('{"type": "helper"')) records.push(JSON.parse(line));
  });
  return {
    records,
    waitFor: (event, ms) => waitUntil(() => records.some((r) => r.data.event === event), ms, `helper record '${event}'`),
  };
}

describe('bitcoin-usdt-helper.py refuses bad input', function () {
  this.timeout(60_000);
  let socket: PrivateSocket;
  let work: string;

  before(() => {
    if (!existsSync(TRACEE)) throw new Error(`${TRACEE} is missing: run \`make -C test/tracee\` first`);
  });
  beforeEach(async () => {
    socket = await createPrivateSocket();
    work = mkdtempSync(join(tmpdir(), 'helper-test-'));
  });
  afterEach(async () => {
    await socket.close();
    rmSync(work, { recursive: true, force: true });
  });

  const refuses = (argv: string[], pattern: RegExp): void => {
    const { code, stderr } = runHelperSync(argv);
    assert.equal(code, 2, `exit code (stderr: ${stderr})`);
    assert.match(stderr, pattern);
  };

  it('refuses tool names it does not ship, and tells the reader why', async () => {
    const records = socket.waitForConnection(20_000).then((c) => readRecords(c));
    refuses(helperArgv(socket.path, { tool: '../../bin/sh', binary: TRACEE }), /unknown tool/);
    refuses(helperArgv(socket.path, { tool: 'p2p-traffic.bt', binary: TRACEE }), /unknown tool/);
    const { records: got, waitFor } = await records;
    await waitFor('error', 5000);
    assert.match(String(got[0].data.message), /unknown tool/);
  });

  it('refuses non-numeric, negative, zero and dead PIDs', () => {
    for (const pid of ['abc', '-5', '0', '12x', ' 7']) refuses(helperArgv(socket.path, { binary: TRACEE, pid }), /PID must be a positive/);
    const dead = spawnSync('/bin/true');
    refuses(helperArgv(socket.path, { binary: TRACEE, pid: String(dead.pid) }), /no process with PID/);
  });

  it('refuses a PID whose executable is another file', async () => {
    const sleeper = spawn('/bin/sleep', ['30']);
    try {
      refuses(helperArgv(socket.path, { binary: TRACEE, pid: String(sleeper.pid) }), /does not run the binary/);
    } finally {
      sleeper.kill('SIGKILL');
    }
  });

  it('refuses a non-ELF file, a directory, a symlink and a relative path', () => {
    const text = join(work, 'bitcoind');
    writeFileSync(text, '#!/bin/sh\necho not elf\n');
    refuses(helperArgv(socket.path, { binary: text }), /not an ELF file/);
    refuses(helperArgv(socket.path, { binary: work }), /not a regular file/);
    const link = join(work, 'link-to-tracee');
    symlinkSync(TRACEE, link);
    refuses(helperArgv(socket.path, { binary: link }), /symlink/);
    refuses(helperArgv(socket.path, { binary: 'test/tracee/build/tracee-legacy' }), /must be absolute/);
  });

  it('refuses a target without the tool\'s tracepoints (read from its notes), naming them, before anything runs', async () => {
    const bash = spawn('/usr/bin/bash', ['-c', 'sleep 30; exit 0']); // not a lone command: bash stays, it does not exec sleep
    await new Promise((r) => setTimeout(r, 300)); // the child has exec'd bash
    try {
      refuses(helperArgv(socket.path, { binary: '/usr/bin/bash', pid: String(bash.pid) }),
        new RegExp(`refused: process ${bash.pid} is not a bitcoind with USDT tracepoints \\(it has no USDT tracepoints\\); ` +
          'p2p-traffic needs net:inbound_message, net:outbound_message'));
    } finally {
      bash.kill('SIGKILL');
    }
    refuses(helperArgv(socket.path, { binary: '/usr/bin/python3.11' }),
      /refused: the binary is not a bitcoind with USDT tracepoints \(none of its \d+ USDT tracepoints is Bitcoin Core's\); p2p-traffic needs net:inbound_message, net:outbound_message/);
    const old = process.env.BITCOIND_OLD ?? join(ROOT, '.real-node', 'v28.99', 'bin', 'bitcoind');
    assert.ok(existsSync(old), `${old} is missing: run scripts/unpack-real-node.sh (or set BITCOIND_OLD)`);
    refuses(helperArgv(socket.path, { tool: 'p2p-connections', binary: old }),
      /refused: the binary lacks the tracepoint\(s\) net:inbound_connection, net:outbound_connection, net:evicted_inbound_connection, net:misbehaving_connection, net:closed_connection that p2p-connections attaches to/);
    assert.deepEqual(pidsWith('bpftrace').filter((pid) => readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(old)), [], 'no bpftrace started');
  });

  it('refuses a parameter the tool does not take and a value its pattern does not match whole, before anything runs (a BCC program gets only checked values)', () => {
    const tracee = spawn(TRACEE, ['--scenario', 'p2p', '--wait-signal'], { stdio: 'ignore' });
    try {
      const argv = (...params: string[]): string[] => [...helperArgv(socket.path, { tool: 'raw-p2p-msgs', binary: TRACEE, pid: String(tracee.pid) }), ...params.flatMap((p) => ['--param', p])];
      refuses(argv('msg_type=tx;rm'), /refused: parameter msg_type has an invalid value/);
      refuses(argv('msg_type=tx --peer=1'), /refused: parameter msg_type has an invalid value/);
      refuses(argv('msg_type=TX'), /refused: parameter msg_type has an invalid value/);
      refuses(argv('peer=-2'), /refused: parameter peer has an invalid value/);
      refuses(argv('peer=1\n'), /refused: parameter peer has an invalid value/);
      refuses(argv('binary=/bin/sh'), /refused: tool raw-p2p-msgs does not take parameter 'binary=\/bin\/sh'/);
      assert.deepEqual(processesWith('raw-p2p-msgs.py').map((p) => p.pid), [], 'no BCC program started');
    } finally {
      tracee.kill('SIGKILL');
    }
  });

  it('refuses a socket in a directory others can reach', async () => {
    chmodSync(socket.directory, 0o777);
    refuses(helperArgv(socket.path, { binary: TRACEE }), /mode 0700/);
    const open = join(work, 'open');
    mkdirSync(open);
    chmodSync(open, 0o755);
    refuses(helperArgv(join(open, 'probe.sock'), { binary: TRACEE }), /cannot use socket|0700/);
  });
});

/**
 * Copies the tracee into a fresh directory and starts the copy (p2p scenario, waiting for a signal): its path
 * identifies our helper and bpftrace processes among any others on the machine.
 */
async function startPrivateTracee(prefix: string): Promise<{ work: string; binary: string; tracee: ChildProcess }> {
  if (!existsSync(TRACEE)) throw new Error(`${TRACEE} is missing: run \`make -C test/tracee\` first`);
  const work = mkdtempSync(join(tmpdir(), prefix));
  const binary = join(work, 'bitcoind-under-test');
  copyFileSync(TRACEE, binary);
  chmodSync(binary, 0o755);
  const tracee = spawn(binary, ['--scenario', 'p2p', '--wait-signal'], { stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise<void>((r) => tracee.stdout?.once('data', () => r()));
  return { work, binary, tracee };
}

describe('bitcoin-usdt-helper.py leaves no process behind', function () {
  this.timeout(60_000);
  let work: string;
  let binary: string;
  let tracee: ChildProcess;

  before(async () => {
    ({ work, binary, tracee } = await startPrivateTracee('helper-cleanup-'));
  });
  after(() => {
    tracee.kill('SIGKILL');
    rmSync(work, { recursive: true, force: true });
  });

  async function startSession(): Promise<{ helper: ChildProcess; socket: PrivateSocket; connection: HelperStream; exited: Promise<number | null> }> {
    const socket = await createPrivateSocket();
    const argv = helperArgv(socket.path, { binary, pid: String(tracee.pid) });
    const helper = spawn(argv[0], argv.slice(1), { env: CLEAN_ENV, stdio: ['ignore', 'ignore', 'ignore'] });
    const exited = new Promise<number | null>((r) => helper.once('exit', (code) => r(code)));
    const connection = await socket.waitForConnection(20_000);
    await readRecords(connection).waitFor('attached', 20_000);
    assert.equal(pidsWith(binary).filter((pid) => pid !== tracee.pid).length, 2, 'helper and bpftrace are running');
    return { helper, socket, connection, exited };
  }

  async function assertAllGone(helper: ChildProcess): Promise<void> {
    await waitUntil(() => pidsWith(binary).every((pid) => pid === tracee.pid), 8000, 'helper and bpftrace gone');
    assert.ok(!existsSync(`/proc/${helper.pid}`) || readFileSync(`/proc/${helper.pid}/stat`, 'utf8').includes(') Z'));
  }

  it('normal stop (SIGINT): bpftrace and the helper exit, with code 0', async () => {
    const session = await startSession();
    session.helper.kill('SIGINT');
    assert.equal(await session.exited, 0);
    await assertAllGone(session.helper);
    await session.socket.close();
  });

  it('terminal closed (SIGHUP)', async () => {
    const session = await startSession();
    session.helper.kill('SIGHUP');
    await session.exited;
    await assertAllGone(session.helper);
    await session.socket.close();
  });

  it('reader gone (socket closed)', async () => {
    const session = await startSession();
    session.connection.destroy();
    await session.exited;
    await assertAllGone(session.helper);
    await session.socket.close();
  });

  it('helper killed with SIGKILL: bpftrace dies with it (PR_SET_PDEATHSIG)', async () => {
    const session = await startSession();
    session.helper.kill('SIGKILL');
    await session.exited;
    await assertAllGone(session.helper);
    await session.socket.close();
  });
});

describe('bitcoin-usdt-helper.py starts several sessions from one invocation (one password)', function () {
  this.timeout(120_000);
  let work: string;
  let binary: string;
  let tracee: ChildProcess;

  before(async () => {
    ({ work, binary, tracee } = await startPrivateTracee('helper-several-'));
  });
  after(() => {
    tracee.kill('SIGKILL');
    rmSync(work, { recursive: true, force: true });
  });

  it('runs each session in its own child; one stops alone when its reader shuts its side (final records delivered), Ctrl-C stops the rest', async () => {
    const sockets = [await createPrivateSocket(), await createPrivateSocket()];
    const tools = ['p2p-traffic', 'p2p-monitor'];
    const argv = buildSeveralHelperArgv(tools.map((tool, i) => ({ pythonPath: PYTHON, probesDir: PROBES, tool, binary, pid: tracee.pid, socketPath: sockets[i].path })));
    assert.deepEqual(argv.filter((a) => a === 'run').length, 2);
    // A process group of its own, like the terminal's foreground group.
    const helper = spawn(argv[0], argv.slice(1), { env: CLEAN_ENV, stdio: ['ignore', 'ignore', 'ignore'], detached: true });
    const exited = new Promise<number | null>((r) => helper.once('exit', (code) => r(code)));
    try {
      const connections = await Promise.all(sockets.map((s) => s.waitForConnection(30_000)));
      const readers = connections.map(readRecords);
      await Promise.all(readers.map((r) => r.waitFor('attached', 60_000)));
      assert.deepEqual(readers.map((r) => r.records.find((x) => x.data.event === 'target')?.data.tool), tools);
      // parent helper + one child and one bpftrace per session
      assert.equal(pidsWith(binary).filter((pid) => pid !== tracee.pid).length, 5, 'parent, two children, two bpftrace');

      connections[0].end();
      await readers[0].waitFor('exit', 20_000);
      const exit = readers[0].records.find((r) => r.data.event === 'exit');
      assert.equal(exit?.data.reason, 'stopped by the reader');
      assert.ok(readers[0].records.some((r) => r.data.event === 'bpftrace_exit'), 'the stopped session still got its final records');
      await waitUntil(() => pidsWith(binary).filter((pid) => pid !== tracee.pid).length === 3, 10_000, 'the first session\'s child and bpftrace gone');
      assert.ok(!readers[1].records.some((r) => r.data.event === 'exit'), 'the other session still runs');

      process.kill(-(helper.pid ?? 0), 'SIGINT'); // Ctrl-C in the terminal: the foreground process group
      await readers[1].waitFor('exit', 20_000);
      assert.equal(await exited, 0);
      await waitUntil(() => pidsWith(binary).every((pid) => pid === tracee.pid), 8000, 'every helper and bpftrace gone');
    } finally {
      helper.kill('SIGKILL');
      await Promise.all(sockets.map((s) => s.close()));
    }
  });
});

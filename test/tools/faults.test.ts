// Faults, for real and as root: bpftrace killed, the traced process killed, bpftrace missing, too old, not
// bpftrace at all, printing errors and dying mid-stream, BPF not permitted, and a recording on a read-only or
// full file system. Each must end with a clear message, keep what arrived before, and leave no helper or
// bpftrace process behind. Needs root, bpftrace, mount(8), setpriv(1) and `make -C test/tracee`.

import { strict as assert } from 'node:assert';
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { BpftraceDecoder } from '../../src/core/events/bpftraceDecoder';
import type { NetMessageEvent, NormalizedEvent, SessionEndEvent, SessionMessageEvent } from '../../src/core/events/eventTypes';
import { loadRecording, RecordingError, RecordingWriter } from '../../src/core/events/recording';
import { buildHelperArgv, createPrivateSocket, type HelperStream, type PrivateSocket } from '../../src/core/probeSession';
import { processesWith, waitUntil } from './childProcessWaits';

const describedProcessesWith = (needle: string): string[] => processesWith(needle).map((p) => `${p.pid}: ${p.cmdline.split('\0').join(' ')}`);

const ROOT = resolve(__dirname, '..', '..');
const PROBES = join(ROOT, 'probes');
const TRACEE = join(ROOT, 'test', 'tracee', 'build', 'tracee-legacy');
const PYTHON = '/usr/bin/python3';
const CLEAN_ENV = { PATH: '/usr/bin:/bin' };

interface HelperRecord {
  type: string;
  data: Record<string, unknown>;
}

/** No helper (its command line names the binary) and no bpftrace for `needle` is left. */
async function assertNothingLeft(needle: string, except: number[] = []): Promise<void> {
  const others = (): string[] => describedProcessesWith(needle).filter((line) => !except.includes(Number(line.split(':')[0])));
  await waitUntil(() => others().length === 0, 8000, `no helper or bpftrace left for ${needle}: ${others().join('\n')}`).catch(() => {
    assert.fail(`left behind:\n${others().join('\n')}`);
  });
}

/** Reads the helper's stream like the extension does (decoder) and keeps the helper's own records. */
class SessionStream {
  readonly events: NormalizedEvent[] = [];
  readonly records: HelperRecord[] = [];
  readonly closed: Promise<void>;
  private readonly decoder = new BpftraceDecoder();

  constructor(connection: HelperStream) {
    let buffered = Buffer.alloc(0);
    connection.on('data', (chunk: Buffer) => {
      buffered = Buffer.concat([buffered, chunk]);
      for (let nl = buffered.indexOf(0x0a); nl >= 0; nl = buffered.indexOf(0x0a)) {
        const line = buffered.subarray(0, nl);
        buffered = buffered.subarray(nl + 1);
        const text = line.toString('latin1');
        if (text.startsWith('{"type": "helper"')) this.records.push(JSON.parse(line.toString('utf8')) as HelperRecord);
        this.events.push(...this.decoder.decodeLine(line));
      }
    });
    this.closed = new Promise((r) => connection.once('close', () => {
      this.events.push(...this.decoder.finish('the helper closed the connection'));
      r();
    }));
  }

  waitFor(event: string, ms: number): Promise<void> {
    return waitUntil(() => this.records.some((r) => r.data.event === event), ms, `helper record '${event}'`);
  }

  record(event: string): HelperRecord | undefined {
    return this.records.find((r) => r.data.event === event);
  }

  get messages(): NetMessageEvent[] {
    return this.events.filter((e): e is NetMessageEvent => e.event === 'net:inbound_message' || e.event === 'net:outbound_message');
  }

  get end(): SessionEndEvent | undefined {
    return this.events.find((e): e is SessionEndEvent => e.event === 'session:end');
  }

  notes(level: SessionMessageEvent['level']): string[] {
    return this.events.filter((e): e is SessionMessageEvent => e.event === 'session:message' && e.level === level).map((e) => e.message);
  }
}

interface RunningHelper {
  helper: ChildProcess;
  stream: SessionStream;
  exited: Promise<number | null>;
  stderr: () => string;
}

async function startHelper(socket: PrivateSocket, options: { binary: string; pid?: number; bpftrace?: string; prefix?: string[] }): Promise<RunningHelper> {
  const argv = [
    ...(options.prefix ?? []),
    ...buildHelperArgv({ pythonPath: PYTHON, probesDir: PROBES, tool: 'p2p-traffic', binary: options.binary, pid: options.pid, socketPath: socket.path, bpftracePath: options.bpftrace }),
  ];
  const helper = spawn(argv[0], argv.slice(1), { env: CLEAN_ENV, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  helper.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<number | null>((r) => helper.once('exit', (code) => r(code)));
  const connection = await Promise.race([
    socket.waitForConnection(20_000),
    exited.then((code) => Promise.reject(new Error(`the helper exited (${code}) before connecting: ${stderr}`))),
  ]);
  return { helper, stream: new SessionStream(connection), exited, stderr: () => stderr };
}

/** A root-only directory (mode 0700 under /root): the helper accepts a bpftrace there. */
function rootOnlyDirectory(): string {
  const directory = mkdtempSync('/root/bitcoin-usdt-faults-');
  chmodSync(directory, 0o700);
  return directory;
}

function writeExecutable(path: string, text: string): string {
  writeFileSync(path, text);
  chmodSync(path, 0o755);
  return path;
}

describe('faults: bpftrace and the traced process going away mid-session', function () {
  this.timeout(90_000);
  let work: string;
  let binary: string;
  let tracee: ChildProcess | undefined;
  let socket: PrivateSocket;

  before(() => {
    if (!existsSync(TRACEE)) throw new Error(`${TRACEE} is missing: run \`make -C test/tracee\` first`);
    assert.equal(process.getuid?.(), 0, 'the fault tests run the helper as root');
  });
  beforeEach(async () => {
    // A private copy: its path identifies this test's helper and bpftrace among any others on the machine.
    work = mkdtempSync(join(tmpdir(), 'faults-'));
    binary = join(work, 'bitcoind-faults');
    copyFileSync(TRACEE, binary);
    chmodSync(binary, 0o755);
    socket = await createPrivateSocket();
  });
  afterEach(async () => {
    tracee?.kill('SIGKILL');
    tracee = undefined;
    await socket.close();
    rmSync(work, { recursive: true, force: true });
  });

  async function startTracee(): Promise<number> {
    const child = spawn(binary, ['--scenario', 'p2p', '--rate', '2000', '--duration-ms', '600000'], { stdio: ['ignore', 'pipe', 'ignore'] });
    tracee = child;
    return new Promise<number>((r, reject) => {
      child.stdout?.once('data', (chunk: Buffer) => {
        const match = /ready pid=(\d+)/.exec(chunk.toString());
        if (match) r(Number(match[1]));
        else reject(new Error(`unexpected tracee output ${chunk.toString()}`));
      });
    });
  }

  it('bpftrace killed (SIGKILL): the session ends saying so, keeps the messages that arrived, warns that later losses are unknown, leaves nothing', async () => {
    const pid = await startTracee();
    const run = await startHelper(socket, { binary, pid });
    await run.stream.waitFor('attached', 20_000);
    await waitUntil(() => run.stream.messages.length >= 50, 20_000, 'messages before the fault');
    const bpftracePid = Number(run.stream.record('started')?.data.bpftrace_pid);
    assert.ok(bpftracePid > 0, 'the helper reported bpftrace\'s PID');
    process.kill(bpftracePid, 'SIGKILL');
    assert.equal(await run.exited, 1, `the helper reports the failure by its exit code (stderr: ${run.stderr()})`);
    await run.stream.closed;
    assert.equal(run.stream.end?.reason, 'bpftrace was killed by SIGKILL');
    assert.ok(run.stream.events.at(-1)?.event === 'session:end', 'session:end is the last event');
    assert.ok(run.stream.notes('warning').some((m) => /losses after the last count are unknown/.test(m)), JSON.stringify(run.stream.notes('warning')));
    assert.ok(run.stream.messages.length >= 50, 'the messages delivered before the fault are kept');
    assert.match(run.stderr(), /stopped: bpftrace was killed by SIGKILL/);
    assert.ok(existsSync(`/proc/${pid}`), 'bitcoind is untouched');
    await assertNothingLeft(binary, [pid]);
  });

  it('the traced process killed (no --follow): the helper ends cleanly with "target process N exited" and exact counts', async () => {
    const pid = await startTracee();
    const run = await startHelper(socket, { binary, pid });
    await run.stream.waitFor('attached', 20_000);
    await waitUntil(() => run.stream.messages.length >= 20, 20_000, 'messages before the fault');
    tracee?.kill('SIGKILL');
    await run.exited;
    await run.stream.closed;
    assert.equal(run.stream.end?.reason, `target process ${pid} exited`);
    assert.deepEqual(run.stream.notes('error'), []);
    assert.ok(run.stream.messages.length >= 20);
    await assertNothingLeft(binary);
  });
});

describe('faults: bpftrace missing, too old, not bpftrace, or failing', function () {
  this.timeout(60_000);
  let socket: PrivateSocket;
  const cleanup: string[] = [];

  before(() => {
    if (!existsSync(TRACEE)) throw new Error(`${TRACEE} is missing: run \`make -C test/tracee\` first`);
  });
  beforeEach(async () => {
    socket = await createPrivateSocket();
  });
  afterEach(async () => {
    await socket.close();
    for (const path of cleanup.splice(0)) rmSync(path, { recursive: true, force: true });
  });

  /** Runs the helper to its end; it must refuse (exit 2) with `pattern`, on stderr and as an error record. */
  async function refuses(options: { bpftrace?: string; prefix?: string[] }, pattern: RegExp): Promise<void> {
    // One connection per private socket: a fresh one for each helper run.
    await socket.close();
    socket = await createPrivateSocket();
    const run = await startHelper(socket, { binary: TRACEE, ...options });
    assert.equal(await run.exited, 2, `exit code (stderr: ${run.stderr()})`);
    await run.stream.closed;
    assert.match(run.stderr(), pattern);
    const errors = run.stream.notes('error');
    assert.equal(errors.length, 1, JSON.stringify(run.stream.events));
    assert.match(errors[0], pattern);
    assert.equal(run.stream.end?.event, 'session:end');
    await assertNothingLeft(socket.path);
  }

  it('bpftrace missing: names the path and why', async () => {
    await refuses({ bpftrace: '/nonexistent/bpftrace' }, /cannot use bpftrace \/nonexistent\/bpftrace: No such file or directory/);
  });

  it('a program that is not bpftrace, or a bpftrace others could replace, is refused before it runs', async () => {
    await refuses({ bpftrace: '/usr/bin/python3' }, /does not name a bpftrace program/);
    const open = mkdtempSync(join(tmpdir(), 'faults-bpftrace-'));
    cleanup.push(open);
    chmodSync(open, 0o777);
    const fake = writeExecutable(join(open, 'bpftrace'), '#!/bin/sh\necho "bpftrace v0.20.0"\n');
    await refuses({ bpftrace: fake }, /which someone other than root can change/);
  });

  it('bpftrace too old: names the minimum version', async () => {
    const directory = rootOnlyDirectory();
    cleanup.push(directory);
    const fake = writeExecutable(join(directory, 'bpftrace'), '#!/bin/sh\necho "bpftrace v0.9.0"\n');
    await refuses({ bpftrace: fake }, /bpftrace v0\.9\.0 is too old: version 0\.17 or newer is needed/);
  });

  it('a "bpftrace" whose version output is not bpftrace\'s is refused', async () => {
    const directory = rootOnlyDirectory();
    cleanup.push(directory);
    const fake = writeExecutable(join(directory, 'bpftrace'), '#!/bin/sh\necho "Python 3.11.2"\n');
    await refuses({ bpftrace: fake }, /cannot read the bpftrace version/);
  });

  it('BPF not permitted (root without CAP_BPF/CAP_SYS_ADMIN, as in a container)', async () => {
    const setpriv = ['/usr/bin/setpriv', '/bin/setpriv'].find((p) => existsSync(p));
    assert.ok(setpriv, 'setpriv (util-linux) is needed for this test');
    await refuses({ prefix: [setpriv, '--bounding-set=-all', '--inh-caps=-all'] }, /BPF is not permitted here/);
  });

  it('bpftrace prints garbage and errors, then dies mid-line: clear warnings, the good records kept, the exit code reported', async () => {
    const directory = rootOnlyDirectory();
    cleanup.push(directory);
    const lines = [
      '{"type": "attached_probes", "data": {"probes": 2}}',
      '{"type": "value", "data": ["in", 1000, 4242, 1, "1.2.3.4:8333", "inbound", "inv", 37]}',
      'this is not json',
      '{"type": "mystery", "data": 1}',
      '{"type": "value", "data": ["out", 2000, 4242, 1, "1.2.3.4:8333", "inbound", "tx", 250]}',
    ];
    const fake = writeExecutable(join(directory, 'bpftrace'), [
      '#!/bin/sh',
      'case "$1" in',
      '  --version) echo "bpftrace v0.17.0"; exit 0 ;;',
      '  --info) printf "  probe_read_user_str: yes\\n  uprobe refcount (depends on Build:bcc bpf_attach_uprobe refcount): yes\\n"; exit 0 ;;',
      'esac',
      `printf '%s\\n' ${lines.map((l) => `'${l}'`).join(' ')}`,
      "printf '%s' '{\"type\": \"value\", \"data\": [\"in\", 3000, 1'",
      'echo "ERROR: the kernel said no" >&2',
      'exit 3',
    ].join('\n') + '\n');
    const run = await startHelper(socket, { binary: TRACEE, bpftrace: fake });
    assert.equal(await run.exited, 1, `stderr: ${run.stderr()}`);
    await run.stream.closed;
    assert.deepEqual(run.stream.messages.map((m) => m.msg_type), ['inv', 'tx'], 'the good records are kept');
    const warnings = run.stream.notes('warning');
    assert.ok(warnings.some((m) => /ignored a malformed line \(not JSON/.test(m) && m.includes('this is not json')), JSON.stringify(warnings));
    assert.ok(warnings.some((m) => /unknown record type "mystery"/.test(m)), JSON.stringify(warnings));
    assert.ok(warnings.some((m) => /ignored a malformed line \(not JSON/.test(m) && m.includes('3000, 1')), 'the cut last line is reported');
    assert.ok(warnings.includes('bpftrace: ERROR: the kernel said no'), 'bpftrace\'s stderr is shown');
    assert.deepEqual({ reason: run.stream.end?.reason, exit_code: run.stream.end?.exit_code }, { reason: 'bpftrace exited', exit_code: 3 });
    assert.ok(run.stream.events.at(-1)?.event === 'session:end');
    await assertNothingLeft(fake);
    await assertNothingLeft(socket.path);
  });
});

describe('faults: recording to a read-only or full file system', function () {
  this.timeout(60_000);
  let mountPoint: string;

  beforeEach(() => {
    mountPoint = mkdtempSync(join(tmpdir(), 'faults-fs-'));
  });
  afterEach(() => {
    spawnSync('umount', [mountPoint]);
    rmSync(mountPoint, { recursive: true, force: true });
  });

  const header = { tool: 'p2p-traffic', started_at: '2026-01-01T00:00:00.000Z', binary: '/x/bitcoind', pid: 1, producer: 'faults.test' };
  const message = (i: number): NetMessageEvent => ({
    event: 'net:inbound_message', elapsed_ns: i * 1000, peer_id: i % 7, peer_addr: `203.0.113.${i % 250}:8333`, conn_type: 'inbound', msg_type: 'inv', msg_size: 37 + i,
  });

  it('a read-only directory: creating the recording fails with a clear error', async () => {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=64k,ro', 'tmpfs', mountPoint]);
    const path = join(mountPoint, 'session.ndjson');
    await assert.rejects(RecordingWriter.create(path, header), (error: unknown) => {
      assert.ok(error instanceof RecordingError);
      assert.match(error.message, new RegExp(`^cannot create recording ${path}: .*read-only file system`, 'i'));
      return true;
    });
  });

  it('a full file system: the writer stops with ENOSPC, and what was written reads back', async () => {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=64k', 'tmpfs', mountPoint]);
    const path = join(mountPoint, 'session.ndjson');
    const writer = await RecordingWriter.create(path, header, { flushBytes: 4096 });
    const written: NetMessageEvent[] = [];
    for (let i = 0; i < 5000 && writer.error === null; i++) {
      const event = message(i);
      written.push(event);
      writer.write([event]);
      if (i % 50 === 0) await writer.flush();
    }
    await writer.flush();
    assert.ok(writer.error, 'the writer noticed the full disk');
    assert.match(writer.error.message, new RegExp(`^recording to ${path} stopped: .*(ENOSPC|no space left)`, 'i'));
    await assert.rejects(writer.close(), RecordingError);
    const contents = await loadRecording(path);
    assert.equal(contents.header.tool, 'p2p-traffic');
    assert.ok(contents.events.length > 100, `kept ${contents.events.length} events`);
    assert.deepEqual(contents.events, written.slice(0, contents.events.length), 'the kept events are exactly the first ones written');
    assert.ok(contents.malformed.length <= 1, 'at most the last, cut line is malformed');
  });
});

describe('root boundary: the helper refuses paths and sockets it would not expect', function () {
  this.timeout(60_000);
  let work: string;

  before(() => {
    if (!existsSync(TRACEE)) throw new Error(`${TRACEE} is missing: run \`make -C test/tracee\` first`);
  });
  beforeEach(() => {
    work = mkdtempSync(join(tmpdir(), 'faults-paths-'));
  });
  afterEach(() => rmSync(work, { recursive: true, force: true }));

  function runHelper(argv: string[], env: Record<string, string> = CLEAN_ENV): { code: number | null; stderr: string } {
    const result = spawnSync(argv[0], argv.slice(1), { env, encoding: 'utf8', timeout: 30_000 });
    return { code: result.status, stderr: result.stderr };
  }

  function helperArgv(socketPath: string, binary: string): string[] {
    return buildHelperArgv({ pythonPath: PYTHON, probesDir: PROBES, tool: 'p2p-traffic', binary, socketPath });
  }

  it('a binary path bpftrace would read as a wildcard or split at ":" (a file really named so)', async () => {
    const socket = await createPrivateSocket();
    try {
      for (const name of ['bitcoind*', 'bit:coind', 'bitcoind[1]']) {
        const path = join(work, name);
        copyFileSync(TRACEE, path);
        const { code, stderr } = runHelper(helperArgv(socket.path, path));
        assert.equal(code, 2, stderr);
        assert.match(stderr, /contains a character bpftrace would misread/);
      }
    } finally {
      await socket.close();
    }
  });

  it('a socket directory that is a symlink to a good private directory', async () => {
    const socket = await createPrivateSocket();
    try {
      const link = join(work, 'link');
      execFileSync('ln', ['-s', socket.directory, link]);
      const { code, stderr } = runHelper(helperArgv(join(link, 'probe.sock'), TRACEE));
      assert.equal(code, 2, stderr);
      assert.match(stderr, /socket directory .* must be a real directory/);
    } finally {
      await socket.close();
    }
  });

  it('a socket with another name than probe.sock', () => {
    const { code, stderr } = runHelper(helperArgv(join(work, 'other.sock'), TRACEE));
    assert.equal(code, 2, stderr);
    assert.match(stderr, /socket must be named probe\.sock/);
  });

  it('a socket whose files belong to the invoking user but whose listener is another user (SO_PEERCRED)', async () => {
    // The invoking user is uid 65534 (as sudo would say in SUDO_UID); the listener is this test, uid 0.
    const socket = await createPrivateSocket();
    try {
      execFileSync('chown', ['65534', socket.directory, socket.path]);
      const { code, stderr } = runHelper(helperArgv(socket.path, TRACEE), { ...CLEAN_ENV, SUDO_UID: '65534' });
      assert.equal(code, 2, stderr);
      assert.match(stderr, /the socket is served by uid 0, not by the invoking user \(uid 65534\)/);
    } finally {
      await socket.close();
    }
  });
});

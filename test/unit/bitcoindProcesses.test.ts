import * as assert from 'node:assert/strict';
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';
import * as esbuild from 'esbuild';
import {
  commandLineForDisplay,
  describeBinaryMatch,
  listBitcoindProcesses,
  splitCmdline,
  type BitcoindProcess,
} from '../../src/core/process/bitcoindProcesses';

const execFileAsync = promisify(execFile);
const SLEEP = '/bin/sleep';

describe('bitcoindProcesses', () => {
  let tmp: string;
  const children: ChildProcess[] = [];

  beforeEach(async () => {
    tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'bitcoind-processes-'));
  });

  afterEach(async () => {
    for (const child of children.splice(0)) child.kill('SIGKILL');
    await fs.rm(tmp, { recursive: true, force: true });
  });

  async function copySleepTo(relative: string): Promise<string> {
    const target = path.join(tmp, relative);
    await fs.mkdir(path.dirname(target), { recursive: true });
    await fs.copyFile(SLEEP, target);
    await fs.chmod(target, 0o755);
    return target;
  }

  function start(executable: string, args: string[], argv0?: string): number {
    const child = spawn(executable, args, { stdio: 'ignore', ...(argv0 ? { argv0 } : {}) });
    children.push(child);
    assert.ok(child.pid, `could not start ${executable}`);
    return child.pid;
  }

  function find(processes: readonly BitcoindProcess[], pid: number): BitcoindProcess | undefined {
    return processes.find((p) => p.pid === pid);
  }

  /** Waits until the child has exec'd (its exe link points at the new image, not at node). */
  async function waitForExec(pid: number, expectedExeBase: string): Promise<void> {
    for (let i = 0; i < 100; i++) {
      const link = await fs.readlink(`/proc/${pid}/exe`).catch(() => '');
      if (path.basename(link.replace(/ \(deleted\)$/, '')) === expectedExeBase) return;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    assert.fail(`process ${pid} did not exec ${expectedExeBase}`);
  }

  it('lists a process running the selected binary with its command line and marks it as the same build', async () => {
    const binary = await copySleepTo('build/bin/bitcoind');
    const pid = start(binary, ['300', '1s']);
    await waitForExec(pid, 'bitcoind');

    const found = find(await listBitcoindProcesses({ binaryPath: binary }), pid);
    assert.ok(found, 'the spawned bitcoind is listed');
    assert.deepEqual(found.args, [binary, '300', '1s']);
    assert.equal(found.exePath, await fs.realpath(binary));
    assert.equal(found.exeDeleted, false);
    assert.equal(found.match, 'same');
    assert.equal(describeBinaryMatch(found), 'matches selected build');
    assert.equal(commandLineForDisplay(found), `${binary} 300 1s`);
  });

  it('resolves a symlinked selected binary to the file the process runs', async () => {
    const binary = await copySleepTo('build/bin/bitcoind');
    const link = path.join(tmp, 'bitcoind-link');
    await fs.symlink(binary, link);
    const pid = start(binary, ['300']);
    await waitForExec(pid, 'bitcoind');

    const found = find(await listBitcoindProcesses({ binaryPath: link }), pid);
    assert.equal(found?.match, 'same');
  });

  it('marks a bitcoind of another build as different', async () => {
    const selected = await copySleepTo('a/bitcoind');
    const other = await copySleepTo('b/bitcoind');
    const pid = start(other, ['300']);
    await waitForExec(pid, 'bitcoind');

    const found = find(await listBitcoindProcesses({ binaryPath: selected }), pid);
    assert.ok(found, 'a bitcoind of another build is still listed');
    assert.equal(found.match, 'different');
    assert.equal(describeBinaryMatch(found), `runs another binary: ${await fs.realpath(other)}`);
  });

  it('says the binary was rebuilt when the file was replaced after the process started', async () => {
    const binary = await copySleepTo('build/bin/bitcoind');
    const pid = start(binary, ['300']);
    await waitForExec(pid, 'bitcoind');
    // What a linker does: write a new file and rename it over the old one.
    const fresh = `${binary}.new`;
    await fs.copyFile(SLEEP, fresh);
    await fs.rename(fresh, binary);

    const found = find(await listBitcoindProcesses({ binaryPath: binary }), pid);
    assert.ok(found, 'the process of the old build is listed');
    assert.equal(found.exeDeleted, true);
    assert.equal(found.exePath, await fs.realpath(binary));
    assert.equal(found.match, 'rebuilt');
    assert.equal(describeBinaryMatch(found), 'binary was rebuilt since this process started');
  });

  it('finds processes by the name bitcoin-node in argv[0], and by the selected binary under any name', async () => {
    const renamed = await copySleepTo('custom/my-node-build');
    const byArgv0 = start(SLEEP, ['300'], 'bitcoin-node');
    const bySelection = start(renamed, ['300']);
    const unrelated = start(await copySleepTo('other/sleepy'), ['300']);
    await waitForExec(byArgv0, 'sleep');
    await waitForExec(bySelection, 'my-node-build');
    await waitForExec(unrelated, 'sleepy');

    const withSelection = await listBitcoindProcesses({ binaryPath: renamed });
    assert.equal(find(withSelection, bySelection)?.match, 'same');
    assert.equal(find(withSelection, byArgv0)?.match, 'different');
    assert.deepEqual(find(withSelection, byArgv0)?.args, ['bitcoin-node', '300']);
    assert.equal(find(withSelection, unrelated), undefined, 'a process of another name is not listed');

    const withoutSelection = await listBitcoindProcesses();
    assert.equal(find(withoutSelection, bySelection), undefined, 'without a selection only bitcoind names count');
    assert.equal(find(withoutSelection, byArgv0)?.match, 'unknown');
  });

  it('marks the executable unknown when /proc/PID/exe cannot be read (another user, not root)', async function () {
    assert.equal(process.getuid?.(), 0, 'this test drops privileges and needs to run as root (as on CI)');
    const binary = await copySleepTo('build/bin/bitcoind');
    await fs.chmod(tmp, 0o755);
    const pid = start(binary, ['300']);
    await waitForExec(pid, 'bitcoind');

    // The other user may not read this clone (under /root, say): it runs a bundle of the module from the
    // world-readable temporary directory instead of the sources.
    const bundle = path.join(tmp, 'bitcoindProcesses.cjs');
    await esbuild.build({
      entryPoints: [path.resolve(__dirname, '../../src/core/process/bitcoindProcesses.ts')],
      bundle: true,
      platform: 'node',
      format: 'cjs',
      outfile: bundle,
      logLevel: 'silent',
    });
    await fs.chmod(bundle, 0o644);
    const script = [
      `const { listBitcoindProcesses } = require(${JSON.stringify(bundle)});`,
      `listBitcoindProcesses({ binaryPath: ${JSON.stringify(binary)} }).then((list) => process.stdout.write(JSON.stringify(list)));`,
    ].join('\n');
    const { stdout } = await execFileAsync(process.execPath, ['-e', script], {
      uid: 65534,
      gid: 65534,
      cwd: '/',
    });
    const listed = JSON.parse(stdout) as BitcoindProcess[];
    const found = find(listed, pid);
    assert.ok(found, 'listed by its command line although the executable is unreadable');
    assert.equal(found.exePath, null);
    assert.equal(found.match, 'unknown');
    assert.equal(describeBinaryMatch(found), 'executable unknown (permission denied)');
  });

  it('does not list processes that have exited', async () => {
    const binary = await copySleepTo('build/bin/bitcoind');
    const child = spawn(binary, ['0.01'], { stdio: 'ignore' });
    const pid = child.pid;
    await new Promise((resolve) => child.on('exit', resolve));
    assert.ok(pid);
    assert.equal(find(await listBitcoindProcesses({ binaryPath: binary }), pid), undefined);
  });
});

describe('splitCmdline', () => {
  it('splits at NUL bytes and drops the trailing terminator', () => {
    assert.deepEqual(splitCmdline(Buffer.from('bitcoind\0-regtest\0-datadir=/tmp/a b\0')), ['bitcoind', '-regtest', '-datadir=/tmp/a b']);
  });
  it('keeps an empty argument and a missing final NUL', () => {
    assert.deepEqual(splitCmdline(Buffer.from('bitcoind\0\0x')), ['bitcoind', '', 'x']);
  });
  it('gives no arguments for an empty command line (kernel thread, zombie)', () => {
    assert.deepEqual(splitCmdline(Buffer.alloc(0)), []);
  });
});

import * as assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';
import {
  PRIVILEGED_TERMINAL_SCRIPT,
  TERMINAL_SHELL_PATH,
  parseExitStatus,
  privilegedTerminalShellArgs,
  quoteForDisplay,
} from '../../src/core/process/privilegedTerminalScript';

const execFileAsync = promisify(execFile);

/** Words a hostile path or setting could contain: none may become shell code. */
const AWKWARD_ARGUMENTS = ["it's", 'a b', '$(touch PWNED)', '`touch PWNED`', '', 'x;touch PWNED', "''", '"quoted"', '*', '~', '-n', 'ünï', 'a\\b'];

describe('privilegedTerminalScript', () => {
  let tmp: string;
  beforeEach(async () => {
    tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'terminal-script-'));
  });
  afterEach(async () => {
    await fs.rm(tmp, { recursive: true, force: true });
  });

  /** Runs the script the way the terminal does; stdin gets one Enter (answers "Press Enter" at once). */
  async function runScript(reason: string, command: string[]): Promise<{ stdout: string; code: number | null; statusFile: string }> {
    const statusFile = path.join(tmp, 'exit-status');
    const child = spawn(TERMINAL_SHELL_PATH, privilegedTerminalShellArgs(reason, statusFile, command), { cwd: tmp, env: {}, stdio: ['pipe', 'pipe', 'inherit'] });
    // Only a failing command reads the Enter; a script that exits first closes stdin (EPIPE, not an error here).
    child.stdin.on('error', (error: NodeJS.ErrnoException) => {
      if (error.code !== 'EPIPE') throw error;
    });
    child.stdin.end('\n');
    let stdout = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    return { stdout, code, statusFile };
  }

  it('prints the reason and the command, then runs exactly those arguments without evaluating any of them', async () => {
    const command = ['/usr/bin/printf', '[%s]\\n', ...AWKWARD_ARGUMENTS];
    const { stdout, code, statusFile } = await runScript('Why: eBPF needs root.', command);
    assert.equal(code, 0);
    const [reasonLine, commandLine, blank, ...output] = stdout.split('\n');
    assert.equal(reasonLine, 'Why: eBPF needs root.');
    assert.equal(blank, '');
    assert.deepEqual(output.slice(0, AWKWARD_ARGUMENTS.length), AWKWARD_ARGUMENTS.map((a) => `[${a}]`));
    assert.equal(commandLine, `Command: ${command.map(quoteForDisplay).join(' ')}`);
    await assert.rejects(fs.access(path.join(tmp, 'PWNED')), 'nothing was executed from an argument');
    assert.equal(parseExitStatus(await fs.readFile(statusFile, 'utf8')), 0);
  });

  it('shows a command line that a POSIX shell reads back as the very same arguments', async () => {
    const command = ['/bin/echo', ...AWKWARD_ARGUMENTS];
    const { stdout } = await runScript('reason', command);
    const shown = stdout.split('\n')[1].slice('Command: '.length);
    const { stdout: parsed } = await execFileAsync('/bin/sh', ['-c', 'eval "set -- $1"; printf "%s\\0" "$@"', 'parse', shown], { cwd: tmp });
    assert.deepEqual(parsed.split('\0').slice(0, -1), command);
  });

  it('writes a failing status, says how to close the terminal, and itself exits 0 (VS Code quotes the whole script in a notification for any other exit code once the user typed into the terminal)', async () => {
    const { stdout, code, statusFile } = await runScript('reason', ['/bin/sh', '-c', 'exit 3']);
    assert.equal(code, 0);
    assert.match(stdout, /Exited with status 3\. Press Enter to close this terminal\./);
    assert.equal(parseExitStatus(await fs.readFile(statusFile, 'utf8')), 3);
  });

  it('stays silent when its status directory was already removed', async () => {
    const statusFile = path.join(tmp, 'gone', 'exit-status');
    const { stdout, stderr } = await execFileAsync(TERMINAL_SHELL_PATH, privilegedTerminalShellArgs('reason', statusFile, ['/bin/true']), { env: {} });
    assert.equal(stderr, '');
    assert.equal(stdout, 'reason\nCommand: /bin/true\n\n');
  });

  it('passes every value as a positional parameter after the fixed script', () => {
    const args = privilegedTerminalShellArgs('reason', '/tmp/s', ['/usr/bin/python3', '$HOME']);
    assert.deepEqual(args, ['-c', PRIVILEGED_TERMINAL_SCRIPT, 'bitcoin-usdt', 'reason', '/tmp/s', '/usr/bin/python3', '$HOME']);
    assert.ok(!PRIVILEGED_TERMINAL_SCRIPT.includes('python'), 'the script names no program of its own');
  });

  it('refuses arguments with control characters, which would not show faithfully in a terminal', () => {
    assert.throws(() => privilegedTerminalShellArgs('reason', '/tmp/s', ['/usr/bin/python3', 'bitcoind\u001b[2K']), /control characters/);
    assert.throws(() => privilegedTerminalShellArgs('reason', '/tmp/s', ['/usr/bin/python3', 'a\nb']), /control characters/);
    assert.throws(() => privilegedTerminalShellArgs('reason', '/tmp/s', []), /no command/);
  });

  it('reads the status file only once it is complete', () => {
    assert.equal(parseExitStatus(''), undefined);
    assert.equal(parseExitStatus('12'), undefined);
    assert.equal(parseExitStatus('127\n'), 127);
  });
});

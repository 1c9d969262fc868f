// The functional test terminal of Trace functional test… (src/core/functionalTest/functionalTestTerminal.ts): which
// files are tests, where their test class is (the CodeLens), and the fixed script that runs a test as the user —
// run here for real with /bin/sh, on hostile paths and arguments, and on the real p2p_ping.py's class line.

import * as assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { promises as fs, readFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import {
  TEST_TERMINAL_SHELL_PATH,
  functionalTestTerminalArgs,
  isFunctionalTestFile,
  listedFunctionalTests,
  testClassLines,
  testOfActiveEditor,
  testTerminalCommand,
} from '../../src/core/functionalTest/functionalTestTerminal';
import { parseExitStatus, quoteForDisplay } from '../../src/core/process/privilegedTerminalScript';
import { bitcoinSource } from '../realNode/realNodeEnv';

/** Words a workspace's test path or argument could contain: none may become shell code. */
const AWKWARD = ["it's", 'a b', '$(touch PWNED)', '`touch PWNED`', '', 'x;touch PWNED', '"q"', '*', '~', '-n', 'ünï', 'a\\b'];

describe('functional test terminal', () => {
  let tmp: string;
  beforeEach(async () => {
    tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'functional-test-terminal-'));
  });
  afterEach(async () => {
    await fs.rm(tmp, { recursive: true, force: true });
  });

  /** Runs the script as the terminal does; stdin answers "Press Enter". */
  async function runScript(name: string, command: string[]): Promise<{ stdout: string; code: number | null; status: number | undefined }> {
    const statusFile = path.join(tmp, 'exit-status');
    const child = spawn(TEST_TERMINAL_SHELL_PATH, functionalTestTerminalArgs(name, statusFile, command), { cwd: tmp, env: {}, stdio: ['pipe', 'pipe', 'inherit'] });
    child.stdin.end('\n');
    let stdout = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    const status = parseExitStatus(await fs.readFile(statusFile, 'utf8').catch(() => ''));
    return { stdout, code, status };
  }

  it('finds the test class lines of the real p2p_ping.py, and only class lines deriving from BitcoinTestFramework', () => {
    const file = path.join(bitcoinSource(), 'test', 'functional', 'p2p_ping.py');
    const text = readFileSync(file, 'utf8');
    const found = testClassLines(text);
    assert.equal(found.length, 1);
    assert.equal(text.split('\n')[found[0].line], 'class PingPongTest(BitcoinTestFramework):');
    assert.deepEqual({ column: found[0].column, className: found[0].className }, { column: 0, className: 'PingPongTest' });
    assert.deepEqual(
      testClassLines('class A(object):\n  class B( BitcoinTestFramework ) :\r\n# class C(BitcoinTestFramework):\nclass D(BitcoinTestFrameworkX):\nclass E(BitcoinTestFramework):  # x\n'),
      [{ line: 1, column: 2, className: 'B' }, { line: 4, column: 0, className: 'E' }],
    );
  });

  it('tells functional tests from other Python files, and picks the active editor\'s test', () => {
    assert.ok(isFunctionalTestFile('/src/bitcoin/test/functional/p2p_ping.py'));
    assert.ok(isFunctionalTestFile('/src/bitcoin/build/test/functional/test_runner.py'));
    for (const other of ['/src/bitcoin/test/functional/test_framework/util.py', '/src/bitcoin/test/functional/__init__.py', '/src/bitcoin/test/functional/p2p_ping.pyc',
      '/src/bitcoin/contrib/functional/x.py', '/src/bitcoin/test/lint/lint-files.py', 'p2p_ping.py']) {
      assert.equal(isFunctionalTestFile(other), false, other);
    }
    assert.equal(testOfActiveEditor('/b/test/functional/rpc_net.py'), '/b/test/functional/rpc_net.py');
    assert.equal(testOfActiveEditor('/b/src/net.cpp'), undefined);
    assert.equal(testOfActiveEditor(undefined), undefined);
    assert.deepEqual(
      listedFunctionalTests(['/b/test/functional/wallet_x.py', '/b/test/functional/test_framework/util.py', '/b/build/test/functional/test_runner.py', '/b/test/functional/p2p_ping.py', '/b/test/functional/p2p_ping.py']),
      ['/b/build/test/functional/test_runner.py', '/b/test/functional/p2p_ping.py', '/b/test/functional/wallet_x.py'],
    );
  });

  it('shows the command with its environment, then runs exactly those arguments without evaluating any of them', async () => {
    const testPath = path.join(tmp, "it's a $(test).py");
    const command = testTerminalCommand({ env: { BITCOIND: '/b d/bitcoind', BITCOINCLI: '/b d/bitcoin-cli' }, argv: ['/usr/bin/printf', '[%s]\\n', testPath, ...AWKWARD] });
    assert.deepEqual(command.slice(0, 4), ['/usr/bin/env', 'BITCOIND=/b d/bitcoind', 'BITCOINCLI=/b d/bitcoin-cli', '/usr/bin/printf']);
    const { stdout, code, status } = await runScript("p2p_ping.py", command);
    assert.equal(code, 0, 'the shell always exits 0 (VS Code would quote the whole script in a notification otherwise)');
    assert.equal(status, 0);
    const lines = stdout.split('\n');
    assert.equal(lines[0], 'Functional test p2p_ping.py, run as you with the probes attached to every process of the build.');
    assert.equal(lines[1], `Command: ${command.map(quoteForDisplay).join(' ')}`);
    assert.deepEqual(lines.slice(3, 4 + AWKWARD.length), [`[${testPath}]`, ...AWKWARD.map((a) => `[${a}]`)]);
    assert.ok(stdout.endsWith('\np2p_ping.py passed.\nThe probes stop now. Press Enter to close this terminal.\n'), stdout);
    await assert.rejects(fs.access(path.join(tmp, 'PWNED')), 'nothing was executed from an argument');
  });

  it('the test sees the environment the command line names', async () => {
    const { stdout } = await runScript('t.py', testTerminalCommand({ env: { BITCOIND: "/x/it's/bitcoind" }, argv: ['/bin/sh', '-c', 'printf "<%s>\\n" "$BITCOIND"'] }));
    assert.ok(stdout.includes("\n</x/it's/bitcoind>\n"), stdout);
  });

  it('says a failing test failed, with its exit status, in the terminal and the status file', async () => {
    const { stdout, code, status } = await runScript('p2p_ping.py', ['/bin/sh', '-c', 'exit 3']);
    assert.equal(code, 0);
    assert.equal(status, 3);
    assert.ok(stdout.includes('\np2p_ping.py failed (exit status 3).\n'), stdout);
  });

  it('refuses control characters (the terminal would not show them faithfully) and an empty command', () => {
    assert.throws(() => functionalTestTerminalArgs('t.py', '/s', ['/usr/bin/env', '/x/te\nst.py']), /control characters/);
    assert.throws(() => functionalTestTerminalArgs('t\u001b[2J.py', '/s', ['python3']), /control characters/);
    assert.throws(() => functionalTestTerminalArgs('t.py', '/s', []), /no command/);
  });
});

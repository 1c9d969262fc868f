// Trace functional test… the way a user starts it, in the real VS Code: from the CodeLens of a test file in the
// workspace, through the pickers (the build, the tools with p2p-traffic ticked), with the real helper and bpftrace
// over every process of the workspace's bitcoind (the test tracee). The "test" is a small Python file of the
// workspace's test/functional/ (it prints its environment and exits): it runs as the user in its own terminal once
// the probe is attached, and the probe stops when it ends. The real Bitcoin Core run is realNodeTraceFunctionalTest.

import { strict as assert } from 'node:assert';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import * as vscode from 'vscode';
import type { FunctionalTestRunResult } from '../../src/extension/functionalTest/registerFunctionalTest';
import { acceptPromptsUntilSettled, closePanelTabs, extensionApis, liveProbeSuiteHooks, openFunctionalTest, requiredEnv, sessionRecording, waitFor, workspaceBitcoind } from './integrationHelpers';
import { screenshot } from './screenshot';

const TEST_SOURCE = [
  'import os',
  'import sys',
  '',
  'class BitcoinTestFramework:',
  '    pass',
  '',
  'class PaletteTest(BitcoinTestFramework):',
  '    pass',
  '',
  "print('BITCOIND seen by the test: ' + os.environ.get('BITCOIND', ''))",
  "print('arguments: ' + ' '.join(sys.argv[1:]))",
  "print('uid ' + str(os.getuid()))",
  '',
].join('\n');

describe('Trace functional test… from the CodeLens, through the pickers', function () {
  this.timeout(180_000);
  liveProbeSuiteHooks('Trace functional test');

  it('asks for the build and the tools (p2p-traffic ticked), attaches, runs the test as the user in its own terminal, stops the probe when it ends', async () => {
    const { launcher, functionalTest } = await extensionApis('launcher', 'functionalTest');
    const testDir = join(requiredEnv('BITCOIN_USDT_TEST_WORKSPACE'), 'test', 'functional');
    mkdirSync(join(testDir, 'test_framework'), { recursive: true });
    writeFileSync(join(testDir, 'test_framework', 'test_framework.py'), '');
    const testPath = join(testDir, 'feature_palette.py');
    writeFileSync(testPath, TEST_SOURCE);
    try {
      const { lenses } = await openFunctionalTest(testPath);
      assert.equal(lenses.length, 1);
      assert.equal(lenses[0].range.start.line, 6, 'on the class line');
      await screenshot('trace-functional-test-codelens');

      const command = lenses[0].command;
      assert.ok(command);
      const pending = Promise.resolve(vscode.commands.executeCommand<FunctionalTestRunResult | undefined>(command.command, ...(command.arguments ?? [])));
      await acceptPromptsUntilSettled(Promise.race([pending, waitFor('the probe session', 60_000, () => launcher.activeSessions().length > 0)]));
      const result = await pending;
      assert.ok(result, 'the command ran the test');
      assert.equal(result.exitStatus, 0);
      assert.equal(result.binaryPath, workspaceBitcoind(), 'the workspace\'s build');
      assert.equal(result.sessionIds.length, 1);
      assert.match(basename(await sessionRecording(result.sessionIds[0])), /-feature_palette-p2p-traffic\.ndjson$/, 'p2p-traffic, ticked at first; the recording named after the test');
      assert.ok(launcher.lastCommandLine()?.includes('p2p-traffic'));
      assert.ok(!launcher.lastCommandLine()?.includes('--pid'), 'every process of the build');
      assert.deepEqual(launcher.activeSessions(), [], 'the probe stopped when the test ended');

      const terminal = functionalTest.lastTerminal();
      assert.ok(terminal);
      assert.equal(terminal.name, 'Functional test: feature_palette');
      terminal.show(false);
      await vscode.env.clipboard.writeText('');
      await vscode.commands.executeCommand('workbench.action.terminal.selectAll');
      await vscode.commands.executeCommand('workbench.action.terminal.copySelection');
      await vscode.commands.executeCommand('workbench.action.terminal.clearSelection');
      const text = await vscode.env.clipboard.readText();
      assert.ok(text.includes(`BITCOIND seen by the test: ${workspaceBitcoind()}`), text);
      assert.match(text, /arguments: --configfile=\/tmp\/bitcoin-usdt-functional-test-\w+\/config\.ini/, 'a config.ini made for the build');
      assert.ok(text.includes(`uid ${process.getuid?.()}`), 'the test runs as the VS Code user');
      assert.match(text, /feature_palette\.py passed\./);
      await screenshot('trace-functional-test-terminal');
      terminal.sendText('', true);
      await waitFor('the test terminal to close', 10_000, () => !vscode.window.terminals.includes(terminal));
    } finally {
      for (const session of launcher.activeSessions()) await vscode.commands.executeCommand('bitcoinUsdt.stopProbe', session.descriptor.id);
      rmSync(join(requiredEnv('BITCOIN_USDT_TEST_WORKSPACE'), 'test'), { recursive: true, force: true });
      await closePanelTabs('bitcoinUsdt.networkPanel');
      await closePanelTabs('bitcoinUsdt.p2pPanel');
      await vscode.commands.executeCommand('workbench.action.closeAllEditors');
    }
  });
});

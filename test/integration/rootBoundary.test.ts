import { strict as assert } from 'node:assert';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as vscode from 'vscode';
import type { LauncherApi } from '../../src/extension/launch/launcherApi';
import { extensionApis, extensionId, requiredEnv } from './integrationHelpers';

/** What test/runIntegration.ts writes into the workspace's .vscode/settings.json. */
const HOSTILE_WORKSPACE_VALUES: Record<string, string> = {
  privilege: 'none',
  bpftracePath: '/tmp/not-trusted/bpftrace',
  pythonPath: '/tmp/not-trusted/python3',
};

async function activated(): Promise<{ launcher: LauncherApi; extensionPath: string }> {
  const { launcher } = await extensionApis('launcher');
  const extension = vscode.extensions.getExtension(extensionId);
  assert.ok(extension);
  return { launcher, extensionPath: extension.extensionPath };
}

describe('root boundary: workspace settings never change what runs as root', () => {
  const binaryPath = (): string => join(requiredEnv('BITCOIN_USDT_TEST_WORKSPACE'), 'build', 'bin', 'bitcoind');

  it('the hostile workspace values are really present (otherwise this test proves nothing)', () => {
    const settingsFile = join(requiredEnv('BITCOIN_USDT_TEST_WORKSPACE'), '.vscode', 'settings.json');
    const written = JSON.parse(readFileSync(settingsFile, 'utf8')) as Record<string, unknown>;
    const configuration = vscode.workspace.getConfiguration('bitcoinUsdt');
    for (const [key, hostile] of Object.entries(HOSTILE_WORKSPACE_VALUES)) {
      assert.equal(written[`bitcoinUsdt.${key}`], hostile, `${settingsFile} sets bitcoinUsdt.${key}`);
      // VS Code itself may already drop machine-scoped values from a workspace; either way they must not win.
      const inspected = configuration.inspect<string>(key);
      assert.ok(inspected?.workspaceValue === undefined || inspected.workspaceValue === hostile);
    }
    assert.ok(existsSync(binaryPath()));
  });

  it('uses the extension\'s own helper, /usr/bin/python3, no bpftrace override and the user-level privilege mode', async () => {
    const { launcher, extensionPath } = await activated();
    const configuration = vscode.workspace.getConfiguration('bitcoinUsdt');
    const userPrivilege = configuration.inspect<string>('privilege')?.globalValue ?? configuration.inspect<string>('privilege')?.defaultValue;
    assert.equal(userPrivilege, 'auto', 'the runner sets privilege "auto" at user level');
    const isRoot = process.getuid?.() === 0;

    const argv = await launcher.previewRootCommand({ tool: 'p2p-traffic', binaryPath: binaryPath(), pid: 4242 });
    const expectedPrefix = isRoot ? [] : ['/usr/bin/sudo', '--'];
    assert.deepEqual(argv.slice(0, expectedPrefix.length), expectedPrefix, 'privilege prefix from the user-level "auto"');
    const helper = argv.slice(expectedPrefix.length);
    assert.deepEqual(helper, [
      '/usr/bin/python3', '-I', '-S', join(extensionPath, 'probes', 'bitcoin-usdt-helper.py'), 'run',
      '--tool', 'p2p-traffic',
      '--binary', binaryPath(),
      '--pid', '4242',
      '--socket', '/tmp/bitcoin-usdt-XXXXXX/probe.sock',
    ]);
    for (const word of argv) assert.ok(!word.includes('/tmp/not-trusted'), `workspace value leaked into the root command: ${word}`);
    assert.ok(!argv.includes('--bpftrace'), 'no --bpftrace: the user level leaves bpftracePath empty');
  });

  it('follows a change of the user-level privilege setting (and still ignores the workspace\'s "none")', async () => {
    const { launcher } = await activated();
    const configuration = vscode.workspace.getConfiguration('bitcoinUsdt');
    await configuration.update('privilege', 'sudo', vscode.ConfigurationTarget.Global);
    try {
      assert.equal(vscode.workspace.getConfiguration('bitcoinUsdt').inspect<string>('privilege')?.globalValue, 'sudo', 'the user-level value changed');
      const request = { tool: 'p2p-traffic', binaryPath: binaryPath(), pid: 4242 };
      const sudo = ['/usr/bin/sudo', '/bin/sudo', '/usr/local/bin/sudo'].find((candidate) => existsSync(candidate));
      if (sudo) {
        const argv = await launcher.previewRootCommand(request);
        assert.deepEqual(argv.slice(0, 3), [sudo, '--', '/usr/bin/python3']);
      } else {
        // No sudo on this machine: the user-level "sudo" is still what decides (the workspace's "none" would have run).
        await assert.rejects(launcher.previewRootCommand(request), /sudo is not installed/);
      }
    } finally {
      await configuration.update('privilege', 'auto', vscode.ConfigurationTarget.Global);
    }
  });

  it('starts the real session with the same command (only the socket path differs)', async () => {
    const { launcher } = await activated();
    const request = { tool: 'p2p-traffic', binaryPath: binaryPath(), pid: 'all' as const };
    const preview = await launcher.previewRootCommand(request);
    const sessionId = await vscode.commands.executeCommand<string | undefined>('bitcoinUsdt.startProbe', request);
    assert.ok(sessionId);
    try {
      const command = launcher.activeSession()?.command;
      assert.ok(command);
      const socketIndex = preview.indexOf('--socket') + 1;
      assert.ok(socketIndex > 0);
      assert.deepEqual([...command.slice(0, socketIndex), ...command.slice(socketIndex + 1)], [...preview.slice(0, socketIndex), ...preview.slice(socketIndex + 1)]);
      assert.match(command[socketIndex], /^\/tmp\/bitcoin-usdt-[^/]+\/probe\.sock$/);
      const options = launcher.activeSession()?.terminal.creationOptions as vscode.TerminalOptions;
      assert.equal(options.strictEnv, true, 'the terminal does not inherit terminal.integrated.env.* or the extension host environment');
      assert.deepEqual(Object.keys(options.env ?? {}).sort(), ['LANG', 'PATH']);
    } finally {
      await vscode.commands.executeCommand('bitcoinUsdt.stopProbe');
    }
  });
});

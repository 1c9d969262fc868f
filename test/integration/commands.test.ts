import { strict as assert } from 'node:assert';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as vscode from 'vscode';
import { extensionId, repoRoot, waitFor } from './integrationHelpers';
import { screenshot } from './screenshot';

interface ContributedCommand {
  command: string;
}

interface ExtensionManifest {
  name: string;
  contributes: { commands: ContributedCommand[] };
}

const manifest = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as ExtensionManifest;

describe('extension activation and commands', () => {
  it(`is installed as ${extensionId}`, () => {
    const extension = vscode.extensions.getExtension(extensionId);
    assert.ok(extension, `extension ${extensionId} is not loaded`);
    assert.equal(extension.packageJSON.name, manifest.name);
  });

  it('activates by itself in a workspace that contains build/bin/bitcoind', async () => {
    const folders = vscode.workspace.workspaceFolders ?? [];
    assert.ok(folders.length > 0, 'no workspace folder is open');
    const bitcoind = vscode.Uri.joinPath(folders[0].uri, 'build', 'bin', 'bitcoind');
    const stat = await vscode.workspace.fs.stat(bitcoind);
    assert.equal(stat.type & vscode.FileType.File, vscode.FileType.File, `${bitcoind.fsPath} is not a file`);
    const extension = vscode.extensions.getExtension(extensionId);
    assert.ok(extension);
    // workspaceContains:build/bin/bitcoind must activate it without anyone calling activate().
    await waitFor('the extension to activate by itself', 30_000, () => extension.isActive);
  });

  it('registers every command contributed in package.json', async () => {
    const extension = vscode.extensions.getExtension(extensionId);
    assert.ok(extension);
    await extension.activate();
    const registered = new Set(await vscode.commands.getCommands(true));
    const contributed = manifest.contributes.commands.map((c) => c.command);
    assert.ok(contributed.length > 0, 'package.json contributes no commands');
    const missing = contributed.filter((id) => !registered.has(id));
    assert.deepEqual(missing, [], `contributed but not registered: ${missing.join(', ')}`);
  });

  it('opens its view container (workbench.view.extension.bitcoinUsdt)', async () => {
    await vscode.commands.executeCommand('workbench.view.extension.bitcoinUsdt');
    await screenshot('activity-bar-view');
  });
});

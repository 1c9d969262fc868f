// Runs only under `node dist/test/runIntegration.js --mode untrusted`: workspace trust is on and the test workspace
// is not trusted. Discovery and replay must work; starting a probe and the restricted setting must not.
import { strict as assert } from 'node:assert';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as vscode from 'vscode';
import { TRACEPOINT_CATALOG } from '../../src/core/catalog/tracepointCatalog';
import { loadRecording } from '../../src/core/events/recording';
import type { TracepointTreeApi } from '../../src/extension/tree/tracepointTreeProvider';
import type { TracepointTreeNode } from '../../src/extension/tree/treeNodes';
import { extensionApi, extensionId, functionalTestLenses, p2pPanelReport, repoRoot, waitFor, watchTerminalsOpened } from './integrationHelpers';
import { screenshot } from './screenshot';

const demoRecording = join(repoRoot, 'demo', 'recordings', 'p2p-traffic-demo.ndjson');
// The runner lists this copy of the tracee in the workspace's bitcoinUsdt.bitcoindPaths (a restricted setting).
const extraBinaryRelative = join('extra', 'bitcoind');

async function binaryPaths(tree: TracepointTreeApi): Promise<string[]> {
  return (await tree.getChildren()).map((node) => node.binaryPath);
}

async function tracepointIds(tree: TracepointTreeApi, binary: TracepointTreeNode): Promise<string[]> {
  const contexts = (await tree.getChildren(binary)).filter((node) => tree.getTreeItem(node).contextValue === 'bitcoinUsdt.context');
  const ids: string[] = [];
  for (const context of contexts) {
    for (const node of await tree.getChildren(context)) if (node.tracepoint !== undefined) ids.push(node.tracepoint);
  }
  return ids.sort();
}

function workspaceDir(): string {
  const value = process.env.BITCOIN_USDT_TEST_WORKSPACE;
  if (!value) throw new Error('BITCOIN_USDT_TEST_WORKSPACE is not set: run node dist/test/runIntegration.js --mode untrusted');
  return value;
}

if (process.env.BITCOIN_USDT_INTEGRATION_MODE === 'untrusted') {
  describe('untrusted workspace @untrusted-workspace', function () {
    this.timeout(60_000);

    it('opens the test workspace untrusted (workspace trust on, folder not trusted)', async () => {
      assert.equal(vscode.workspace.getConfiguration('security.workspace.trust').get('enabled'), true, 'the runner did not enable workspace trust');
      assert.equal(vscode.workspace.isTrusted, false, 'the test workspace is trusted');
      const extension = vscode.extensions.getExtension(extensionId);
      assert.ok(extension, 'the extension is not loaded in restricted mode');
      await extensionApi();
      assert.equal(extension.isActive, true, 'the extension did not activate in an untrusted workspace');
    });

    it('still lists the tracepoints of build/bin/bitcoind', async () => {
      const api = await extensionApi();
      const tree = api.tracepointTree;
      assert.ok(tree, 'activate() did not export tracepointTree');
      await vscode.commands.executeCommand('workbench.view.extension.bitcoinUsdt');
      const bitcoind = join(workspaceDir(), 'build', 'bin', 'bitcoind');
      const binary = await waitFor(`${bitcoind} in the tree`, 15_000, async () => (await tree.getChildren()).find((node) => node.binaryPath === bitcoind));
      // Every documented tracepoint and the tracee's own three (its `undocumented` scenario), once.
      const expected = [...TRACEPOINT_CATALOG.map((doc) => doc.id), 'tracee:buffers', 'tracee:signed_ints', 'tracee:unsigned_ints'].sort();
      let shown: string[] = [];
      await waitFor('every tracepoint of the binary', 15_000, async () => {
        shown = await tracepointIds(tree, binary);
        return shown.length === expected.length ? true : undefined;
      }).catch((error: Error) => assert.fail(`${error.message}; the tree shows ${shown.join(', ')}`));
      assert.deepEqual(shown, expected, 'every tracepoint, once');
      await screenshot('untrusted-tree');
    });

    it('ignores bitcoinUsdt.bitcoindPaths from the workspace, but not from the user settings', async () => {
      const tree = (await extensionApi()).tracepointTree;
      assert.ok(tree);
      const extra = join(workspaceDir(), extraBinaryRelative);
      assert.ok(existsSync(extra), `the runner did not create ${extra}`);
      const settingsFile = JSON.parse(readFileSync(join(workspaceDir(), '.vscode', 'settings.json'), 'utf8')) as Record<string, unknown>;
      assert.deepEqual(settingsFile['bitcoinUsdt.bitcoindPaths'], [extraBinaryRelative], 'the workspace does not set bitcoindPaths');

      const configuration = vscode.workspace.getConfiguration('bitcoinUsdt', vscode.workspace.workspaceFolders?.[0].uri);
      assert.deepEqual(configuration.get('bitcoindPaths'), [], 'the restricted setting is read from an untrusted workspace');
      assert.ok(!(await binaryPaths(tree)).includes(extra), `${extra} is listed although only the untrusted workspace names it`);

      // The same list from the user settings is honoured: the setting works, only the workspace's value is dropped.
      await configuration.update('bitcoindPaths', [extra], vscode.ConfigurationTarget.Global);
      try {
        await waitFor(`${extra} from the user settings in the tree`, 15_000, async () => ((await binaryPaths(tree)).includes(extra) ? true : undefined));
      } finally {
        await configuration.update('bitcoindPaths', undefined, vscode.ConfigurationTarget.Global);
      }
      await waitFor(`${extra} to leave the tree again`, 15_000, async () => ((await binaryPaths(tree)).includes(extra) ? undefined : true));
    });

    it('replays a recording into the P2P panel', async () => {
      assert.ok(existsSync(demoRecording), `the shipped recording ${demoRecording} is missing`);
      const panel = (await extensionApi()).p2pPanel;
      assert.ok(panel, 'activate() returned no p2pPanel API');
      const recording = await loadRecording(demoRecording);
      const peerIds = new Set<string>();
      for (const event of recording.events) {
        if (event.event === 'net:inbound_message' || event.event === 'net:outbound_message') peerIds.add(String(event.peer_id));
      }
      assert.ok(peerIds.size > 0, 'the demo recording has no P2P messages');

      const sessionId = await vscode.commands.executeCommand<string | undefined>('bitcoinUsdt.openRecording', vscode.Uri.file(demoRecording));
      assert.ok(sessionId, 'Open recording returned no session in an untrusted workspace');
      assert.equal(panel.isOpen, true);
      const report = await p2pPanelReport((r) => r.sessionId === sessionId && r.peerRowCount === Math.min(peerIds.size, 1000) && r.messageRowCount > 0);
      assert.equal(report.totalPeers, peerIds.size);
      for (const row of report.firstRows) assert.ok(peerIds.has(row.id), `the panel shows peer ${row.id}, which is not in the recording`);
      await screenshot('untrusted-p2p-panel');
    });

    it('refuses to start a probe, with a clear message, and runs nothing', async () => {
      const launcher = (await extensionApi()).launcher;
      assert.ok(launcher, 'activate() returned no launcher API');
      const terminals = watchTerminalsOpened();
      const noticesBefore = launcher.recentNotices();
      const request = { tool: 'p2p-traffic', binaryPath: join(workspaceDir(), 'build', 'bin', 'bitcoind') };
      await assert.rejects(
        Promise.resolve(vscode.commands.executeCommand('bitcoinUsdt.startProbe', request)),
        (error: Error) => {
          assert.match(error.message, /disabled in untrusted workspaces/);
          assert.match(error.message, /Trust this workspace/);
          return true;
        },
      );
      const notices = launcher.recentNotices().filter((notice) => !noticesBefore.includes(notice));
      assert.ok(
        notices.some((notice) => notice.level === 'error' && /untrusted workspaces/.test(notice.text)),
        `the user was not told why: ${JSON.stringify(notices)}`,
      );
      // Without a request (the command palette's way in) it refuses the same way, before asking anything.
      assert.equal(await vscode.commands.executeCommand('bitcoinUsdt.startProbe'), undefined);

      // Give a terminal that was wrongly created time to appear before checking that none was.
      await new Promise((r) => setTimeout(r, 1_000));
      terminals.dispose();
      assert.deepEqual(terminals.names(), [], 'a terminal was opened');
      assert.equal(launcher.activeSession(), undefined, 'a probe session exists');
      assert.equal(launcher.lastCommandLine(), undefined, 'a root command was built');
      assert.equal(launcher.lastTerminal(), undefined, 'a helper terminal was created');
      await screenshot('untrusted-start-probe-refused');
    });

    it('offers no "Trace this functional test" CodeLens and refuses Trace functional test…, running nothing', async () => {
      const api = await extensionApi();
      const testDir = join(workspaceDir(), 'test', 'functional');
      mkdirSync(join(testDir, 'test_framework'), { recursive: true });
      writeFileSync(join(testDir, 'test_framework', 'test_framework.py'), 'class BitcoinTestFramework:\n    pass\n');
      const testPath = join(testDir, 'p2p_untrusted.py');
      writeFileSync(testPath, 'from test_framework.test_framework import BitcoinTestFramework\n\nclass UntrustedTest(BitcoinTestFramework):\n    pass\n');
      const document = await vscode.workspace.openTextDocument(testPath);
      await vscode.window.showTextDocument(document);
      assert.deepEqual(await functionalTestLenses(document.uri), [], 'a CodeLens offered in an untrusted workspace');
      const terminals = watchTerminalsOpened();
      const request = { testPath, binaryPath: join(workspaceDir(), 'build', 'bin', 'bitcoind'), tools: ['p2p-traffic'], testArgs: [] };
      await assert.rejects(Promise.resolve(vscode.commands.executeCommand('bitcoinUsdt.traceFunctionalTest', request)), /disabled in untrusted workspaces\. Trust this workspace first/);
      // The palette's way in (the active editor's test) refuses the same way, before asking anything.
      assert.equal(await vscode.commands.executeCommand('bitcoinUsdt.traceFunctionalTest'), undefined);
      await new Promise((r) => setTimeout(r, 1_000));
      terminals.dispose();
      assert.deepEqual(terminals.names(), [], 'a terminal was opened');
      assert.equal(api.functionalTest?.lastTerminal(), undefined, 'a test terminal was created');
      assert.equal(api.launcher?.lastCommandLine(), undefined, 'a root command was built');
      await vscode.commands.executeCommand('workbench.action.closeAllEditors');
    });
  });
}

import * as vscode from 'vscode';
import { BinaryRegistry } from '../binaries/binaryRegistry';
import type { Services, TreeNodeTarget } from '../services';
import { CallSiteCache } from './callSiteCache';
import { compareBuilds } from './compareBuilds';
import { goToSource } from './goToSource';
import { TracepointModel } from './tracepointModel';
import { TracepointTreeProvider, type TracepointCountsSource } from './tracepointTreeProvider';
import { showInformation } from '../notifications';

export const TRACEPOINT_VIEW_ID = 'bitcoinUsdt.tracepoints';

/**
 * The Tracepoints view and its commands (refresh, add/remove binary, go to source, copy attach point).
 * Nothing is read here: binaries are discovered and read when the view first asks for its nodes.
 * Traced tracepoints show their live counts (`counts`). Exposes the tree's data to the integration tests as `api.tracepointTree`.
 */
export function registerTracepointTree(
  services: Services,
  counts: TracepointCountsSource,
): { model: TracepointModel; callSites: CallSiteCache; selectedBinary: () => string | undefined } {
  const { subscriptions, workspaceState } = services.context;
  const registry = new BinaryRegistry(workspaceState);
  const model = new TracepointModel(registry);
  const callSites = new CallSiteCache();
  const provider = new TracepointTreeProvider(model, counts);
  const treeView = vscode.window.createTreeView(TRACEPOINT_VIEW_ID, { treeDataProvider: provider, showCollapseAll: true });
  subscriptions.push(registry, model, callSites, treeView);

  subscriptions.push(
    vscode.commands.registerCommand('bitcoinUsdt.refresh', async () => {
      callSites.clear();
      await model.reload();
    }),
    vscode.commands.registerCommand('bitcoinUsdt.addBinary', async () => {
      const picked = await vscode.window.showOpenDialog({
        title: 'Add bitcoind binary',
        openLabel: 'Add binary',
        canSelectFiles: true,
        canSelectFolders: false,
        canSelectMany: true,
        defaultUri: vscode.workspace.workspaceFolders?.[0]?.uri,
      });
      const paths = (picked ?? []).filter((uri) => uri.scheme === 'file').map((uri) => uri.fsPath);
      if (paths.length > 0) await registry.addBinaries(paths);
    }),
    vscode.commands.registerCommand('bitcoinUsdt.removeBinary', async (target?: TreeNodeTarget) => {
      if (!target?.binaryPath) return;
      if (!(await registry.removeBinary(target.binaryPath))) {
        void showInformation(
          `${target.binaryPath} was not added with "Add bitcoind binary…": binaries found in the workspace or listed in bitcoinUsdt.bitcoindPaths stay in the list.`,
        );
      }
    }),
    vscode.commands.registerCommand('bitcoinUsdt.compareBuilds', (target?: TreeNodeTarget) => compareBuilds(registry, target)),
    vscode.commands.registerCommand('bitcoinUsdt.goToSource', (target?: TreeNodeTarget) => goToSource(target, model, callSites)),
    vscode.commands.registerCommand('bitcoinUsdt.copyAttachPoint', async (target?: TreeNodeTarget) => {
      if (!target?.binaryPath || !target.tracepoint) {
        void showInformation('Copy bpftrace attach point works on a tracepoint in the Tracepoints view.');
        return;
      }
      const attachPoint = `usdt:${target.binaryPath}:${target.tracepoint}`;
      await vscode.env.clipboard.writeText(attachPoint);
      vscode.window.setStatusBarMessage(`Copied ${attachPoint}`, 3000);
    }),
  );
  services.api.tracepointTree = {
    onDidChangeTreeData: provider.onDidChangeTreeData,
    getChildren: (node) => provider.getChildren(node),
    getTreeItem: (node) => provider.getTreeItem(node),
    reveal: async (node, options) => {
      await treeView.reveal(node, { select: true, focus: false, expand: options?.expand ?? false });
    },
  };
  // The binary of the node selected in the view (a binary, or any node under one).
  return { model, callSites, selectedBinary: () => treeView.selection.find((node) => node.binaryPath !== undefined)?.binaryPath };
}

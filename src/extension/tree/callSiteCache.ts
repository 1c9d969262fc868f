import * as vscode from 'vscode';
import { SOURCE_EXTENSIONS, findCallSites, type CallSite, type CallSiteIndex } from '../../core/source/callSiteFinder';

/**
 * The TRACEPOINT / TRACEn call sites of each workspace folder, scanned on first use and kept until a
 * C/C++ source or header of that folder changes.
 */
export class CallSiteCache implements vscode.Disposable {
  private readonly indexes = new Map<string, Promise<CallSiteIndex>>();
  private readonly subscriptions: vscode.Disposable[] = [];

  constructor() {
    const extensions = SOURCE_EXTENSIONS.map((extension) => extension.replace(/^\./, '')).join(',');
    const watcher = vscode.workspace.createFileSystemWatcher(`**/*.{${extensions}}`);
    const invalidate = (uri: vscode.Uri): void => {
      const folder = vscode.workspace.getWorkspaceFolder(uri);
      if (folder) this.indexes.delete(folder.uri.toString());
    };
    this.subscriptions.push(
      watcher,
      watcher.onDidCreate(invalidate),
      watcher.onDidChange(invalidate),
      watcher.onDidDelete(invalidate),
      vscode.workspace.onDidChangeWorkspaceFolders((event) => {
        for (const folder of event.removed) this.indexes.delete(folder.uri.toString());
      }),
    );
  }

  /** Call sites of "context:event" in every workspace folder, in folder order. */
  async callSitesOf(tracepoint: string): Promise<CallSite[]> {
    const folders = (vscode.workspace.workspaceFolders ?? []).filter((folder) => folder.uri.scheme === 'file');
    const indexes = await Promise.all(folders.map((folder) => this.indexOf(folder)));
    return indexes.flatMap((index) => [...(index.get(tracepoint) ?? [])]);
  }

  clear(): void {
    this.indexes.clear();
  }

  dispose(): void {
    this.indexes.clear();
    for (const subscription of this.subscriptions) subscription.dispose();
  }

  private indexOf(folder: vscode.WorkspaceFolder): Promise<CallSiteIndex> {
    const key = folder.uri.toString();
    let index = this.indexes.get(key);
    if (!index) {
      index = findCallSites([folder.uri.fsPath]);
      // A failed scan is not cached: the next Go to source tries again.
      index.catch(() => {
        if (this.indexes.get(key) === index) this.indexes.delete(key);
      });
      this.indexes.set(key, index);
    }
    return index;
  }
}

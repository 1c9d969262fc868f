import * as path from 'node:path';
import * as vscode from 'vscode';
import { diffInterfaces, formatInterfaceDiffMarkdown } from '../../core/catalog/interfaceDiff';
import type { StapsdtReport } from '../../core/elf/stapsdtNotes';
import { readBitcoindNotes } from '../../core/catalog/catalogMatch';
import type { BinaryRegistry } from '../binaries/binaryRegistry';
import { showError } from '../notifications';
import type { TreeNodeTarget } from '../services';

interface BuildItem extends vscode.QuickPickItem {
  readonly binaryPath?: string;
}

/**
 * Compare two builds: picks two binaries (the first may come from the tree node), reads their notes and opens the
 * interface diff (tracepoints added, removed, or whose arguments changed) as a Markdown document beside.
 * Resolves with the document, or undefined when cancelled or a binary cannot be read (the user is told why).
 */
export async function compareBuilds(registry: BinaryRegistry, target?: TreeNodeTarget): Promise<vscode.TextDocument | undefined> {
  const first = target?.binaryPath ?? (await pickBuild(registry, 'Compare two builds: build A (say master)', undefined));
  if (!first) return undefined;
  const second = await pickBuild(registry, `Compare two builds: build B, compared with ${path.basename(first)}`, first);
  if (!second) return undefined;
  let reports: [StapsdtReport, StapsdtReport];
  try {
    reports = await Promise.all([readBitcoindNotes(first), readBitcoindNotes(second)]);
  } catch (error) {
    void showError(`Cannot compare the builds: ${error instanceof Error ? error.message : String(error)}`);
    return undefined;
  }
  const noUsdt = reports.find((report) => report.notes.length === 0);
  if (noUsdt) {
    void showError(`${noUsdt.path} has no USDT tracepoints: nothing to compare.`);
    return undefined;
  }
  const document = await vscode.workspace.openTextDocument({ language: 'markdown', content: formatInterfaceDiffMarkdown(diffInterfaces(...reports)) });
  await vscode.window.showTextDocument(document, { viewColumn: vscode.ViewColumn.Beside, preview: false });
  return document;
}

async function pickBuild(registry: BinaryRegistry, title: string, exclude: string | undefined): Promise<string | undefined> {
  const binaries = (await registry.getBinaries()).filter((binary) => binary.path !== exclude);
  const browse: BuildItem = { label: '$(folder-opened) Browse…', description: 'pick a bitcoind binary' };
  const items: BuildItem[] = [
    ...binaries.map((binary) => ({ label: `$(file-binary) ${path.basename(binary.path)}`, description: binary.folderName, detail: binary.path, binaryPath: binary.path })),
    browse,
  ];
  const picked = binaries.length === 0 ? browse : await vscode.window.showQuickPick(items, { title, placeHolder: 'Which build?' });
  if (!picked) return undefined;
  if (picked.binaryPath) return picked.binaryPath;
  const chosen = await vscode.window.showOpenDialog({ canSelectMany: false, canSelectFolders: false, title, openLabel: 'Compare this build' });
  return chosen?.[0]?.fsPath;
}

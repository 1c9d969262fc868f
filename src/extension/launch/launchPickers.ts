import * as path from 'node:path';
import * as vscode from 'vscode';
import { checkToolTarget } from '../../core/tools/toolTarget';
import { readStapsdtNotes } from '../../core/elf/stapsdtNotes';
import {
  commandLineForDisplay,
  describeBinaryMatch,
  listBitcoindProcesses,
  type BitcoindProcess,
} from '../../core/process/bitcoindProcesses';
import { noToolMessage } from '../../core/tools/noToolMessage';
import { findTool, toolsAvailableFor, type ToolAvailability, type ToolDefinition } from '../../core/tools/toolCatalog';
import { BinaryRegistry, type BinaryOrigin } from '../binaries/binaryRegistry';
import type { TreeNodeTarget } from '../services';
import { parameterDefault, parameterProblem, type LaunchRequest } from './launchRequest';
import { showError, showInformation, showWarning } from '../notifications';

/** What a tree node passes to Start probe…: its binary and tracepoint, and on a "Probe tools" entry the tool. */
export interface ProbeLaunchTarget extends TreeNodeTarget {
  /** A tool id: the tool picker is skipped (the tree offers only the tools the binary can run). */
  readonly probeTool?: string;
}

/**
 * Asks for binary, tools (several may be picked), each tool's parameters and one target for them all (skipping
 * what the tree node already says). One request per tool; undefined when cancelled.
 */
export async function pickLaunchRequests(
  workspaceState: vscode.Memento,
  node: ProbeLaunchTarget | undefined,
): Promise<LaunchRequest[] | undefined> {
  const binaryPath = node?.binaryPath ?? (await pickBinary(workspaceState));
  if (!binaryPath) return undefined;
  const preset = node?.probeTool !== undefined ? await presetTool(binaryPath, node.probeTool) : undefined;
  const tools = preset !== undefined ? [preset] : node?.probeTool !== undefined ? undefined : await pickTools(binaryPath, node);
  if (!tools) return undefined;
  const paramsByTool: Record<string, string>[] = [];
  for (const tool of tools) {
    const params = await promptParameters(findTool(tool));
    if (!params) return undefined;
    paramsByTool.push(params);
  }
  // Known before any process is picked: which tools cannot trace every process (BCC on a v29+ build, or not as root).
  const everyProcessRefusals = (await Promise.all(tools.map((toolId) => checkToolTarget({ toolId, binaryPath, pid: null }))))
    .map((check) => check.refusal)
    .filter((refusal): refusal is string => refusal !== null);
  const target = await pickTarget(binaryPath, tools.length === 1 ? tools[0] : `${tools.length} tools`, everyProcessRefusals.length === tools.length ? everyProcessRefusals : []);
  if (!target) return undefined;
  return tools.map((tool, index) => ({
    tool, binaryPath: target.binaryPath, pid: target.pid, follow: target.follow,
    ...(Object.keys(paramsByTool[index]).length > 0 ? { params: paramsByTool[index] } : {}),
  }));
}

/** The tool chosen in the tree, if the binary (still) has its tracepoints; else says why and returns undefined. */
async function presetTool(binaryPath: string, toolId: string): Promise<string | undefined> {
  const availability = await readAvailability(binaryPath);
  if (!availability) return undefined;
  const wanted = availability.find((a) => a.tool.id === toolId);
  if (!wanted) {
    void showError(`Unknown probe tool ${JSON.stringify(toolId)}.`);
    return undefined;
  }
  if (!wanted.available) {
    void showError(`${wanted.tool.title} cannot run against ${binaryPath}: ${wanted.reason ?? 'unavailable'}.`);
    return undefined;
  }
  return wanted.tool.id;
}

/**
 * One input box per parameter of the tool, prefilled with its default and checked as typed. Resolves with the
 * values by name ({} for a tool without parameters), or undefined when a prompt is cancelled. Filters and
 * samples (parameters with a `filter` key) are not asked here: they are left at "everything".
 */
async function promptParameters(tool: ToolDefinition | undefined): Promise<Record<string, string> | undefined> {
  const params: Record<string, string> = {};
  if (!tool) return params;
  const asked = tool.parameters.filter((parameter) => parameter.filter === undefined);
  for (const [index, parameter] of asked.entries()) {
    const value = await vscode.window.showInputBox({
      title: `Start probe ${tool.id}: ${parameter.name} (${index + 1}/${asked.length})`,
      prompt: parameter.description,
      value: parameterDefault(parameter),
      ignoreFocusOut: true,
      validateInput: (text) => parameterProblem(parameter, text, params),
    });
    if (value === undefined) return undefined;
    params[parameter.name] = value;
  }
  return params;
}

export async function readAvailability(binaryPath: string): Promise<ToolAvailability[] | undefined> {
  try {
    const report = await readStapsdtNotes(binaryPath);
    return toolsAvailableFor(report.notes.map((note) => `${note.provider}:${note.name}`));
  } catch (error) {
    void showError(`Cannot read the tracepoints of ${binaryPath}: ${error instanceof Error ? error.message : String(error)}`);
    return undefined;
  }
}

const ORIGIN_LABELS: Readonly<Record<BinaryOrigin, string>> = {
  workspace: 'build output',
  setting: 'from bitcoinUsdt.bitcoindPaths',
  added: 'added by you',
};

interface BinaryItem extends vscode.QuickPickItem {
  readonly binaryPath?: string;
}

/** The bitcoind to use: one of the tree's binaries, or a file browsed for; undefined when cancelled. */
export async function pickBinary(workspaceState: vscode.Memento, title = 'Start probe: bitcoind binary'): Promise<string | undefined> {
  // The tree keeps its own registry; a short-lived one gives the same list (same workspace state).
  const registry = new BinaryRegistry(workspaceState);
  let binaries;
  try {
    binaries = await registry.getBinaries();
  } finally {
    registry.dispose();
  }
  const browse: BinaryItem = { label: '$(folder-opened) Browse…', description: 'pick a bitcoind binary' };
  const items: BinaryItem[] = [
    ...binaries.map((binary) => ({
      label: `$(file-binary) ${path.basename(binary.path)}`,
      description: [binary.folderName, ORIGIN_LABELS[binary.origin]].filter(Boolean).join(' · '),
      detail: binary.path,
      binaryPath: binary.path,
    })),
    browse,
  ];
  const picked = binaries.length === 0 ? browse : await vscode.window.showQuickPick(items, { title, placeHolder: 'Which build of bitcoind?' });
  if (!picked) return undefined;
  if (picked.binaryPath) return picked.binaryPath;
  const chosen = await vscode.window.showOpenDialog({ canSelectMany: false, canSelectFolders: false, title: 'Pick a bitcoind built with -DWITH_USDT=ON', openLabel: 'Probe this binary' });
  return chosen?.[0]?.fsPath;
}

interface ToolItem extends vscode.QuickPickItem {
  readonly availability?: ToolAvailability;
}

/** The tools to start together (a multi-select pick); undefined when cancelled or none can run. */
async function pickTools(binaryPath: string, node: TreeNodeTarget | undefined): Promise<string[] | undefined> {
  const availability = await readAvailability(binaryPath);
  if (!availability) return undefined;
  const relevant = (a: ToolAvailability): boolean =>
    (node?.tracepoint !== undefined && a.tool.tracepoints.includes(node.tracepoint)) ||
    (node?.context !== undefined && a.tool.tracepoints.some((t) => t.startsWith(`${node.context}:`)));
  const available = availability.filter((a) => a.available).sort((a, b) => Number(relevant(b)) - Number(relevant(a)));
  const unavailable = availability.filter((a) => !a.available);
  if (available.length === 0) {
    void showError(noToolMessage(binaryPath, unavailable));
    return undefined;
  }
  const items: ToolItem[] = [
    ...available.map((a) => ({ label: a.tool.id, description: a.tool.title, detail: a.tool.description, availability: a })),
    ...(unavailable.length > 0 ? [{ label: 'Unavailable for this binary', kind: vscode.QuickPickItemKind.Separator }] : []),
    ...unavailable.map((a) => ({ label: `$(circle-slash) ${a.tool.id}`, description: a.tool.title, detail: a.reason ?? 'unavailable', availability: a })),
  ];
  for (;;) {
    const picked = await pickMany(items, `Start probe: tools for ${path.basename(binaryPath)}`, 'Which probe tools? Tick several to start them together, or Enter on one');
    if (!picked || picked.length === 0) return undefined;
    const refused = picked.filter((item) => item.availability && !item.availability.available);
    if (refused.length === 0) return picked.flatMap((item) => (item.availability ? [item.availability.tool.id] : []));
    const reasons = refused.map((item) => `${item.availability?.tool.title ?? item.label}: ${item.availability?.reason ?? 'unavailable'}`).join('; ');
    await showWarning(`Cannot run ${reasons}.`, { modal: true });
  }
}

/**
 * A multi-select pick (`ticked` ticked at first); Enter with nothing ticked takes the highlighted item. Undefined
 * when cancelled.
 */
export async function pickMany<T extends vscode.QuickPickItem>(items: readonly T[], title: string, placeholder: string, ticked: readonly T[] = []): Promise<readonly T[] | undefined> {
  const quickPick = vscode.window.createQuickPick<T>();
  quickPick.title = title;
  quickPick.placeholder = placeholder;
  quickPick.matchOnDetail = true;
  quickPick.canSelectMany = true;
  quickPick.items = items;
  const first = items.find((item) => item.kind !== vscode.QuickPickItemKind.Separator);
  if (first) quickPick.activeItems = [first];
  if (ticked.length > 0) quickPick.selectedItems = ticked;
  const picked = await new Promise<readonly T[] | undefined>((resolve) => {
    quickPick.onDidAccept(() => {
      resolve(quickPick.selectedItems.length > 0 ? [...quickPick.selectedItems] : [...quickPick.activeItems]);
      quickPick.hide();
    });
    quickPick.onDidHide(() => resolve(undefined));
    quickPick.show();
  });
  quickPick.dispose();
  return picked;
}

interface TargetItem extends vscode.QuickPickItem {
  readonly target?: BitcoindProcess | 'all';
  readonly toggleFollow?: true;
}

interface PickedTarget {
  readonly binaryPath: string;
  readonly pid: number | 'all';
  readonly follow: boolean;
}

/** `everyProcessRefused`: why none of the tools can trace every process (then that choice is not offered). */
export async function pickTarget(binaryPath: string, tool: string, everyProcessRefused: readonly string[]): Promise<PickedTarget | undefined> {
  const processes = await listBitcoindProcesses({ binaryPath });
  const quickPick = vscode.window.createQuickPick<TargetItem>();
  quickPick.title = `Start probe ${tool}: which process?`;
  const everyProcess = everyProcessRefused.length === 0;
  quickPick.placeholder = !everyProcess
    ? (processes.length === 0 ? `No bitcoind is running, and ${everyProcessRefused[0].replace(/^A BCC tool/, 'a BCC tool')}` : 'Pick a running bitcoind (a BCC tool traces one process)')
    : processes.length === 0 ? 'No bitcoind is running: trace every process of this binary as it starts' : 'Pick a running bitcoind, or every process of this binary';
  quickPick.matchOnDetail = true;
  quickPick.ignoreFocusOut = true; // as the parameter prompts before it: a click elsewhere does not cancel the launch
  let follow = false;
  const render = (): void => {
    const active = quickPick.activeItems[0];
    const items: TargetItem[] = [
      ...(everyProcess ? [{ label: '$(files) Every process of this binary', description: 'including processes started later', detail: binaryPath, target: 'all' as const }] : []),
      ...processes.map((p) => ({
        label: `$(server-process) PID ${p.pid}`,
        description: describeBinaryMatch(p),
        detail: commandLineForDisplay(p),
        target: p,
      })),
      { label: '', kind: vscode.QuickPickItemKind.Separator },
      {
        label: `${follow ? '$(check)' : '$(circle-large-outline)'} Follow restarts`,
        description: follow ? 'on' : 'off',
        detail: 'After the chosen process exits, re-attach to the next process of the same binary',
        toggleFollow: true,
      },
    ];
    quickPick.items = items;
    const again = items.find((item) => item.label === active?.label || (item.toggleFollow && active?.toggleFollow));
    if (again) quickPick.activeItems = [again];
  };
  render();

  const picked = await new Promise<TargetItem | undefined>((resolve) => {
    quickPick.onDidAccept(() => {
      // Enter before an item is highlighted (the list still drawing) keeps the picker open rather than cancelling.
      const item = quickPick.selectedItems[0] ?? quickPick.activeItems[0];
      if (!item) return;
      if (item.toggleFollow) {
        follow = !follow;
        render();
        return;
      }
      resolve(item);
      quickPick.hide();
    });
    quickPick.onDidHide(() => resolve(undefined));
    quickPick.show();
  });
  quickPick.dispose();
  if (!picked?.target) return undefined;
  if (picked.target === 'all') {
    if (follow) void showInformation('Every process of this binary is traced already, including restarts: "Follow restarts" is only needed for a single process.');
    return { binaryPath, pid: 'all', follow: false };
  }
  const chosen = picked.target;
  switch (chosen.match) {
    case 'same':
    case 'unknown':
      return { binaryPath, pid: chosen.pid, follow };
    case 'rebuilt':
      void showError(
        `PID ${chosen.pid}: the binary was rebuilt since this process started, so its tracepoints are in a file that no longer exists. Restart bitcoind to probe it.`,
      );
      return undefined;
    case 'different': {
      if (!chosen.exePath) return undefined;
      const answer = await showWarning(
        `PID ${chosen.pid} runs ${chosen.exePath}, not ${binaryPath}. Probe that binary instead?`,
        { modal: true },
        'Probe its binary',
      );
      return answer ? { binaryPath: chosen.exePath, pid: chosen.pid, follow } : undefined;
    }
  }
}

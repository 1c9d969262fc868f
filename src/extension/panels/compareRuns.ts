import * as vscode from 'vscode';
import type { SessionDescriptor } from '../eventHub';
import { showWarning } from '../notifications';

/** What "Compare two runs…" needs of a panel (every PanelHost). */
export interface ComparablePanel {
  readonly title: string;
  tracks(id: string | null): id is string;
  trackedRuns(): readonly SessionDescriptor[];
  showRun(id: string): boolean;
  compareWith(target?: unknown): Promise<string | undefined>;
}

/** Where the two runs compared are shown. */
export interface ComparedRuns {
  readonly panel: string;
  readonly runA: string;
  readonly runB: string;
}

function asRecording(target: unknown): vscode.Uri | undefined {
  if (target instanceof vscode.Uri) return target;
  return typeof target === 'string' && target.startsWith('/') ? vscode.Uri.file(target) : undefined;
}

/** Run A: a tracked session id, a recording to open, or a pick among every panel's runs and "Open recording…". */
async function pickRunA(panels: readonly ComparablePanel[], target: unknown): Promise<{ panel: ComparablePanel; id: string } | undefined> {
  const owner = (id: string): ComparablePanel | undefined => panels.find((p) => p.tracks(id));
  if (typeof target === 'string' && owner(target)) return { panel: owner(target) as ComparablePanel, id: target };
  let uri = asRecording(target);
  if (!uri) {
    interface RunPick extends vscode.QuickPickItem {
      readonly panel?: ComparablePanel;
      readonly sessionId?: string;
    }
    const picks: RunPick[] = panels.flatMap((panel) =>
      [...panel.trackedRuns()].reverse().map((run) => ({ label: run.label, description: `${panel.title} · ${run.source}, started ${run.startedAt}`, panel, sessionId: run.id })),
    );
    picks.push({ label: '$(folder-opened) Open recording…', description: 'a recording (.ndjson) of any tool' });
    const picked = await vscode.window.showQuickPick(picks, { title: 'Compare two runs: run A (shown on the left of each figure)' });
    if (!picked) return undefined;
    if (picked.panel && picked.sessionId) return { panel: picked.panel, id: picked.sessionId };
    const files = await vscode.window.showOpenDialog({ canSelectMany: false, openLabel: 'Run A', filters: { 'Bitcoin USDT recordings': ['ndjson'], 'All files': ['*'] } });
    uri = files?.[0];
    if (!uri) return undefined;
  }
  const id = await vscode.commands.executeCommand<string | undefined>('bitcoinUsdt.openRecording', uri);
  const panel = id === undefined ? undefined : owner(id);
  if (id === undefined || !panel) {
    if (id !== undefined) void showWarning('Bitcoin USDT: no panel shows that recording.');
    return undefined;
  }
  return { panel, id };
}

/**
 * "Compare two runs…": run A (a session of any panel, or a recording) is shown in its panel and run B (another
 * session of that panel, or a recording of the same tool) is compared with it there. Either may be given
 * (session ids, recording paths or Uris), else each is picked.
 */
export async function compareTwoRuns(panels: readonly ComparablePanel[], a?: unknown, b?: unknown): Promise<ComparedRuns | undefined> {
  const runA = await pickRunA(panels, a);
  if (!runA) return undefined;
  runA.panel.showRun(runA.id);
  const runB = await runA.panel.compareWith(b);
  return runB === undefined ? undefined : { panel: runA.panel.title, runA: runA.id, runB };
}

import * as vscode from 'vscode';
import { TRACEPOINT_CATALOG, findTracepointDocById } from '../../core/catalog/tracepointCatalog';
import type { CallSite } from '../../core/source/callSiteFinder';
import type { TreeNodeTarget } from '../services';
import type { CallSiteCache } from './callSiteCache';
import type { TracepointModel } from './tracepointModel';
import { showInformation } from '../notifications';

/**
 * Opens the TRACEPOINT / TRACEn call site of a tracepoint node (or of one picked from a list), with
 * its line selected; a list when there are several, a message when there is none.
 */
export async function goToSource(target: TreeNodeTarget | undefined, model: TracepointModel, callSites: CallSiteCache): Promise<void> {
  const tracepoint = target?.tracepoint ?? (await pickTracepoint(model));
  if (!tracepoint) return;
  const found = await vscode.window.withProgress(
    { location: vscode.ProgressLocation.Window, title: `Looking for ${tracepoint} call sites` },
    () => callSites.callSitesOf(tracepoint),
  );
  const [context, event] = splitTracepoint(tracepoint);
  if (found.length === 0) {
    void showInformation(
      `No TRACEPOINT(${context}, ${event}, …) call site found in the workspace folders. Open a Bitcoin Core source tree as a workspace folder to go to the source.`,
    );
    return;
  }
  const sites = await preferBinaryMacros(found, target?.binaryPath, model);
  const site = sites.length === 1 ? sites[0] : await pickCallSite(tracepoint, sites);
  if (site) await revealCallSite(site);
}

/**
 * A v29+ binary (semaphores) was built from TRACEPOINT(…) sites, an older one from TRACEn(…): when the
 * workspace holds both styles (e.g. two checkouts), keep the ones that can have produced the binary.
 */
async function preferBinaryMacros(sites: readonly CallSite[], binaryPath: string | undefined, model: TracepointModel): Promise<readonly CallSite[]> {
  if (sites.length < 2 || binaryPath === undefined) return sites;
  const binary = (await model.getBinaries()).find((candidate) => candidate.path === binaryPath);
  if (!binary) return sites;
  const inspection = await model.inspect(binary);
  if (inspection.kind !== 'read' || inspection.match.noteCount === 0) return sites;
  const wantsTracepointMacro = inspection.match.usesSemaphores;
  const matching = sites.filter((site) => (site.macro === 'TRACEPOINT') === wantsTracepointMacro);
  return matching.length > 0 ? matching : sites;
}

async function revealCallSite(site: CallSite): Promise<void> {
  const document = await vscode.workspace.openTextDocument(vscode.Uri.file(site.path));
  const line = Math.min(Math.max(site.line - 1, 0), document.lineCount - 1);
  const lineRange = document.lineAt(line).range;
  // From the macro to the end of its line.
  const range = new vscode.Range(lineRange.start.with({ character: Math.min(Math.max(site.column - 1, 0), lineRange.end.character) }), lineRange.end);
  const editor = await vscode.window.showTextDocument(document, { selection: new vscode.Selection(range.start, range.end), preview: true });
  editor.revealRange(range, vscode.TextEditorRevealType.InCenterIfOutsideViewport);
}

interface CallSitePick extends vscode.QuickPickItem {
  readonly site: CallSite;
}

async function pickCallSite(tracepoint: string, sites: readonly CallSite[]): Promise<CallSite | undefined> {
  const items: CallSitePick[] = sites.map((site) => ({
    label: `${vscode.workspace.asRelativePath(site.path)}:${site.line}`,
    description: `${site.macro}(${site.context}, ${site.event}, …)`,
    site,
  }));
  const picked = await vscode.window.showQuickPick(items, {
    title: `${tracepoint}: ${sites.length} call sites`,
    placeHolder: 'Pick the call site to open',
    matchOnDescription: true,
  });
  return picked?.site;
}

interface TracepointPick extends vscode.QuickPickItem {
  readonly tracepoint: string;
}

/** Every documented tracepoint plus the undocumented ones found in the listed binaries. */
async function pickTracepoint(model: TracepointModel): Promise<string | undefined> {
  const items: TracepointPick[] = TRACEPOINT_CATALOG.map((doc) => ({
    label: doc.id,
    description: `added in ${doc.versionAdded}`,
    detail: doc.description,
    tracepoint: doc.id,
  }));
  const known = new Set(items.map((item) => item.tracepoint));
  for (const inspection of await model.inspectAll()) {
    if (inspection.kind !== 'read') continue;
    for (const matched of inspection.match.tracepoints) {
      if (known.has(matched.id) || findTracepointDocById(matched.id)) continue;
      known.add(matched.id);
      items.push({ label: matched.id, description: 'undocumented', tracepoint: matched.id });
    }
  }
  const picked = await vscode.window.showQuickPick(items, { title: 'Go to the source of a tracepoint', matchOnDescription: true, matchOnDetail: true });
  return picked?.tracepoint;
}

function splitTracepoint(tracepoint: string): [string, string] {
  const separator = tracepoint.indexOf(':');
  return separator === -1 ? [tracepoint, ''] : [tracepoint.slice(0, separator), tracepoint.slice(separator + 1)];
}

import { execFile } from 'node:child_process';
import * as vscode from 'vscode';
import { readBitcoindNotes } from '../../core/catalog/catalogMatch';
import { findCallSitesInText, type CallSite } from '../../core/source/callSiteFinder';
import { proposeTrace, TraceProposalError, type TraceProposal } from '../../core/trace/traceProposal';
import {
  INTEGER_READINGS,
  MAX_HEX_BYTES,
  MAX_STRING_BYTES,
  TRACE_TOOL_ID,
  parseReadings,
  readingLabel,
  readingsText,
  type TraceReading,
} from '../../core/trace/traceReadings';
import { readRootSettings } from '../config';
import { helperScriptPath } from '../launch/rootCommand';
import { pickTarget } from '../launch/launchPickers';
import type { LaunchRequest } from '../launch/launchRequest';
import { showError, showInformation } from '../notifications';
import type { Services, TreeNodeTarget } from '../services';
import type { CallSiteCache } from '../tree/callSiteCache';
import type { TracepointModel } from '../tree/tracepointModel';

export const TRACE_TRACEPOINT_COMMAND = 'bitcoinUsdt.traceTracepoint';

/**
 * What "Trace this tracepoint" acts on: a tree node (binary and tracepoint), a call site (the CodeLens), or a
 * full request from tests and automation (readings and target given: no pickers).
 */
export interface TraceThisRequest {
  readonly tracepoint: string;
  readonly binaryPath?: string;
  readonly callSite?: { readonly path: string; readonly line: number; readonly column: number };
  /** `u8,str71,hash,-`: the readings, skipping the review. */
  readonly readings?: string;
  readonly pid?: number | 'all';
}

/** What tests see: the last proposal and the program the helper generated for the last request. */
export interface TraceThisApi {
  lastProposal(): TraceProposal | undefined;
  lastProgram(): string | undefined;
}

function isTraceThisRequest(value: unknown): value is TraceThisRequest {
  return typeof value === 'object' && value !== null && typeof (value as { tracepoint?: unknown }).tracepoint === 'string';
}

/** The program the helper would run for these parameters: the helper's own `script` command, unprivileged. */
function generatedProgram(extensionPath: string, binaryPath: string, tracepoint: string, readings: string): Promise<string> {
  const { pythonPath } = readRootSettings();
  const args = ['-I', '-S', helperScriptPath(extensionPath), 'script', '--tool', TRACE_TOOL_ID, '--binary', binaryPath,
    '--param', `tracepoint=${tracepoint}`, '--param', `args=${readings}`];
  return new Promise((resolve, reject) => {
    execFile(pythonPath, args, { timeout: 20_000, maxBuffer: 1 << 20, env: { PATH: '/usr/bin:/bin', LANG: 'C' } }, (error, stdout, stderr) => {
      if (error) reject(new Error(stderr.trim().replace(/^bitcoin-usdt-helper: (refused: )?/gm, '') || error.message));
      else resolve(stdout);
    });
  });
}

/** Lets the user review and change each argument's reading; undefined when cancelled. */
async function reviewReadings(proposal: TraceProposal): Promise<TraceReading[] | undefined> {
  const readings = proposal.proposals.map((p) => p.reading);
  for (;;) {
    const start = { label: '$(play) Trace with these readings', description: readingsText(readings) || 'no arguments', index: -1 };
    const items = [start, ...proposal.proposals.map((p, i) => ({
      label: `arg${i}: ${readingLabel(readings[i])}`,
      description: p.expression ?? '',
      detail: p.why,
      index: i,
    }))];
    const picked = await vscode.window.showQuickPick(items, {
      title: `Trace this tracepoint: ${proposal.tracepoint}`,
      placeHolder: 'Pick an argument to change how it is read, or start',
    });
    if (!picked) return undefined;
    if (picked.index < 0) return readings;
    const kind = await vscode.window.showQuickPick(
      [...INTEGER_READINGS.map((k) => ({ label: k, detail: readingLabel({ kind: k }) })),
        { label: 'str', detail: `a string of at most N bytes (N ≤ ${MAX_STRING_BYTES})` },
        { label: 'hex', detail: `N bytes as hex (N ≤ ${MAX_HEX_BYTES})` },
        { label: 'hash', detail: '32 bytes shown as a hash in display order' },
        { label: '-', detail: 'not read' }],
      { title: `arg${picked.index}: read as` },
    );
    if (!kind) continue;
    if (kind.label === 'str' || kind.label === 'hex') {
      const limit = kind.label === 'str' ? MAX_STRING_BYTES : MAX_HEX_BYTES;
      const bytes = await vscode.window.showInputBox({
        title: `arg${picked.index}: how many bytes?`,
        value: String(limit),
        validateInput: (v) => (/^[1-9][0-9]{0,2}$/.test(v) && Number(v) <= limit ? undefined : `a whole number from 1 to ${limit}`),
      });
      if (bytes === undefined) continue;
      readings[picked.index] = { kind: kind.label, bytes: Number(bytes) };
    } else {
      readings[picked.index] = parseReadings(kind.label)[0];
    }
  }
}

/** The binaries of the tree that have the tracepoint; the one given first. */
async function binariesWith(model: TracepointModel, tracepoint: string): Promise<string[]> {
  const found: string[] = [];
  for (const inspection of await model.inspectAll()) {
    if (inspection.kind === 'read' && inspection.report.notes.some((n) => `${n.provider}:${n.name}` === tracepoint)) found.push(inspection.report.path);
  }
  return found;
}

/**
 * "Trace this tracepoint": a CodeLens on each TRACEPOINT( / TRACEn( call site and an action on tracepoints in the
 * tree. The readings are proposed from the notes and the call site, reviewed by the user, turned into a program
 * by the helper itself (shown before anything runs as root), and started as the trace-tracepoint tool.
 */
export function registerTraceThis(services: Services, model: TracepointModel, callSites: CallSiteCache): void {
  const { subscriptions, extensionPath } = services.context;
  let lastProposal: TraceProposal | undefined;
  let lastProgram: string | undefined;

  const traceTracepoint = async (arg?: TraceThisRequest | TreeNodeTarget): Promise<LaunchRequest | undefined> => {
    const tracepoint = isTraceThisRequest(arg) ? arg.tracepoint : arg?.tracepoint;
    if (!tracepoint) {
      void showInformation('Trace this tracepoint works on a TRACEPOINT( call site or a tracepoint in the Bitcoin USDT view.');
      return undefined;
    }
    if (!vscode.workspace.isTrusted) {
      void showError('Starting probes is disabled in untrusted workspaces. Trust this workspace first.');
      return undefined;
    }
    const request: TraceThisRequest = isTraceThisRequest(arg) ? arg : { tracepoint, binaryPath: arg?.binaryPath };
    let binaryPath = request.binaryPath;
    if (!binaryPath) {
      const candidates = await binariesWith(model, tracepoint);
      if (candidates.length === 0) {
        void showError(`No bitcoind in the Bitcoin USDT view has the tracepoint ${tracepoint}: build with -DWITH_USDT=ON, or add the binary.`);
        return undefined;
      }
      binaryPath = candidates.length === 1 ? candidates[0] : await vscode.window.showQuickPick(candidates, { title: `Trace ${tracepoint}: which build?` });
      if (!binaryPath) return undefined;
    }
    const given: CallSite[] = request.callSite
      ? [{ tracepoint, context: tracepoint.split(':')[0], event: tracepoint.split(':')[1], macro: 'TRACEPOINT', ...request.callSite }]
      : [];
    let proposal: TraceProposal;
    try {
      const notes = (await readBitcoindNotes(binaryPath)).notes;
      proposal = await proposeTrace(notes, tracepoint, [...given, ...(await callSites.callSitesOf(tracepoint))]);
    } catch (error) {
      void showError(error instanceof TraceProposalError || error instanceof Error ? error.message : String(error));
      return undefined;
    }
    lastProposal = proposal;
    const readings = request.readings !== undefined ? parseReadings(request.readings) : await reviewReadings(proposal);
    if (!readings) return undefined;
    const args = readingsText(readings);
    let program: string;
    try {
      program = await generatedProgram(extensionPath, binaryPath, tracepoint, args);
    } catch (error) {
      void showError(`Cannot trace ${tracepoint} this way: ${(error as Error).message}`);
      return undefined;
    }
    lastProgram = program;
    const preview = await vscode.workspace.openTextDocument({
      content: `// The program the root helper generated for ${tracepoint} (${args || 'no arguments'}) of ${binaryPath}.\n` +
        `// It runs as root once you start it; $1 is the binary, $2 your uid (only your processes are traced).\n\n${program}`,
      language: 'plaintext',
    });
    await vscode.window.showTextDocument(preview, { viewColumn: vscode.ViewColumn.Beside, preview: true, preserveFocus: true });
    let pid = request.pid;
    let follow = false;
    if (pid === undefined) {
      const target = await pickTarget(binaryPath, TRACE_TOOL_ID, []);
      if (!target) return undefined;
      pid = target.pid;
      follow = target.follow;
    }
    const launch: LaunchRequest = { tool: TRACE_TOOL_ID, binaryPath, pid, follow, params: { tracepoint, args } };
    await vscode.commands.executeCommand('bitcoinUsdt.startProbe', launch);
    return launch;
  };

  const codeLenses: vscode.CodeLensProvider = {
    provideCodeLenses(document) {
      if (document.uri.scheme !== 'file') return [];
      return findCallSitesInText(document.getText(), document.uri.fsPath).map((site) => {
        const position = new vscode.Position(site.line - 1, site.column - 1);
        return new vscode.CodeLens(new vscode.Range(position, position), {
          title: '$(debug-start) Trace this tracepoint',
          tooltip: `Trace ${site.tracepoint}: read each argument as you choose, in a panel beside`,
          command: TRACE_TRACEPOINT_COMMAND,
          arguments: [{ tracepoint: site.tracepoint, callSite: { path: site.path, line: site.line, column: site.column } } satisfies TraceThisRequest],
        });
      });
    },
  };

  subscriptions.push(
    vscode.commands.registerCommand(TRACE_TRACEPOINT_COMMAND, traceTracepoint),
    vscode.languages.registerCodeLensProvider([{ language: 'c', scheme: 'file' }, { language: 'cpp', scheme: 'file' }], codeLenses),
  );
  services.api.traceThis = { lastProposal: () => lastProposal, lastProgram: () => lastProgram };
}

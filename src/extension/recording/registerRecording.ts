import * as vscode from 'vscode';
import { basename, isAbsolute } from 'node:path';
import { copyFile } from 'node:fs/promises';
import { RecordingError } from '../../core/events/recording';
import type { SessionDescriptor } from '../eventHub';
import type { Services } from '../services';
import { replayRecording, type ReplayResult } from './recordingReplay';
import { SessionRecorder } from './sessionRecorder';
import { showError, showInformation, showWarning } from '../notifications';

export interface RecordingService {
  readonly recorder: SessionRecorder;
  /** Replays a recording into the hub; shows errors and warnings itself. undefined: it could not be read. */
  openRecording(path: string): Promise<ReplayResult | undefined>;
}

function describeMalformed(result: ReplayResult): string {
  const first = result.malformed[0];
  return (
    `Bitcoin USDT: ${result.malformed.length} malformed line(s) in ${basename(result.session.label)} were skipped ` +
    `(first at line ${first.line}: ${first.reason}); the other ${result.events} events were loaded.`
  );
}

/**
 * Automatic recording of live sessions, Save recording…, Open recording… and the
 * `bitcoinUsdt.startupRecording` setting.
 */
export function registerRecording(services: Services): RecordingService {
  const { context, hub } = services;
  const version = (context.extension?.packageJSON as { version?: string } | undefined)?.version ?? '0';
  const recorder = new SessionRecorder(hub, vscode.Uri.joinPath(context.globalStorageUri, 'recordings'), `bitcoin-usdt vscode ${version}`);
  context.subscriptions.push(recorder);

  // The same file opened twice at once (startup setting and panel restore) is read once.
  const opening = new Map<string, Promise<ReplayResult | undefined>>();

  const openRecording = (path: string): Promise<ReplayResult | undefined> => {
    const running = opening.get(path);
    if (running) return running;
    const replay = (async () => {
      try {
        const result = await replayRecording(hub, path, (session: SessionDescriptor) => recorder.noteRecordingFile(session, path));
        if (result.malformed.length > 0) void showWarning(describeMalformed(result));
        return result;
      } catch (error) {
        const message = error instanceof RecordingError ? error.message : `cannot open ${path}: ${(error as Error).message}`;
        void showError(`Bitcoin USDT: ${message}`);
        return undefined;
      } finally {
        opening.delete(path);
      }
    })();
    opening.set(path, replay);
    return replay;
  };

  context.subscriptions.push(
    vscode.commands.registerCommand('bitcoinUsdt.openRecording', async (target?: unknown): Promise<string | undefined> => {
      let uri = target instanceof vscode.Uri ? target : undefined;
      if (!uri) {
        const picked = await vscode.window.showOpenDialog({
          canSelectMany: false,
          openLabel: 'Open recording',
          filters: { 'Bitcoin USDT recordings': ['ndjson'], 'All files': ['*'] },
        });
        uri = picked?.[0];
      }
      if (!uri) return undefined;
      if (uri.scheme !== 'file') {
        void showError(`Bitcoin USDT: recordings must be local files (${uri.toString()})`);
        return undefined;
      }
      const result = await openRecording(uri.fsPath);
      return result?.session.id;
    }),

    vscode.commands.registerCommand('bitcoinUsdt.saveRecording', async (request?: unknown): Promise<string | undefined> => {
      const automated = isSaveRecordingRequest(request) ? request : undefined;
      let source: RecordingChoice | undefined;
      if (automated) {
        const recorded = recorder.recordedSessions.find((r) => r.session.id === automated.sessionId);
        if (!recorded) throw new Error(`no recording of session ${automated.sessionId}`);
        source = { label: recorded.session.label, path: recorded.path, live: recorded.live };
      } else {
        source = await pickRecording(recorder);
      }
      if (!source) return undefined;
      const folder = vscode.workspace.workspaceFolders?.[0]?.uri;
      const destination =
        automated?.destination ??
        (await vscode.window.showSaveDialog({
          defaultUri: folder ? vscode.Uri.joinPath(folder, basename(source.path)) : vscode.Uri.file(source.path),
          filters: { 'Bitcoin USDT recordings': ['ndjson'] },
          saveLabel: 'Save recording',
        }));
      if (!destination) return undefined;
      if (destination.scheme !== 'file') {
        await vscode.workspace.fs.copy(vscode.Uri.file(source.path), destination, { overwrite: true });
      } else if (destination.fsPath !== source.path) {
        await copyFile(source.path, destination.fsPath);
      }
      const still = source.live ? ' (the session is still running: saved what was recorded so far)' : '';
      void showInformation(`Bitcoin USDT: recording saved to ${destination.fsPath}${still}`);
      return destination.fsPath;
    }),
  );

  void openStartupRecordings(openRecording);
  context.subscriptions.push(
    vscode.workspace.onDidChangeConfiguration((event) => {
      if (event.affectsConfiguration('bitcoinUsdt.startupRecording')) void openStartupRecordings(openRecording);
    }),
  );
  return { recorder, openRecording };
}

/** The argument of `bitcoinUsdt.saveRecording` for tests and automation (skips the picker and the dialog). */
export interface SaveRecordingRequest {
  readonly sessionId: string;
  readonly destination: vscode.Uri;
}

function isSaveRecordingRequest(value: unknown): value is SaveRecordingRequest {
  if (typeof value !== 'object' || value === null) return false;
  const candidate = value as Record<string, unknown>;
  return typeof candidate.sessionId === 'string' && candidate.destination instanceof vscode.Uri;
}

interface RecordingChoice extends vscode.QuickPickItem {
  readonly path: string;
  readonly live: boolean;
}

async function pickRecording(recorder: SessionRecorder): Promise<RecordingChoice | undefined> {
  const choices: RecordingChoice[] = [];
  const seen = new Set<string>();
  for (const recorded of recorder.recordedSessions) {
    seen.add(recorded.path);
    choices.push({
      label: recorded.session.label,
      description: `${recorded.session.source}, started ${recorded.session.startedAt}`,
      detail: recorded.path,
      path: recorded.path,
      live: recorded.live,
    });
  }
  for (const path of await recorder.recordingFilesOnDisk()) {
    if (seen.has(path)) continue;
    choices.push({ label: basename(path), description: 'earlier session', detail: path, path, live: false });
  }
  if (choices.length === 0) {
    void showInformation('Bitcoin USDT: no recorded session yet. Start a probe, or open a recording.');
    return undefined;
  }
  return vscode.window.showQuickPick(choices, { title: 'Save which recording?', matchOnDetail: true });
}

/**
 * `bitcoinUsdt.startupRecording` of each workspace folder, relative to that folder or absolute: opened at
 * activation and again when the setting changes.
 */
async function openStartupRecordings(openRecording: (path: string) => Promise<ReplayResult | undefined>): Promise<void> {
  for (const folder of vscode.workspace.workspaceFolders ?? []) {
    const setting = vscode.workspace.getConfiguration('bitcoinUsdt', folder.uri).get<string>('startupRecording');
    if (typeof setting !== 'string' || setting.trim() === '') continue;
    const uri = isAbsolute(setting) ? vscode.Uri.file(setting) : vscode.Uri.joinPath(folder.uri, setting);
    await openRecording(uri.fsPath);
  }
}

import * as vscode from 'vscode';
import { basename } from 'node:path';
import { readdir, rm } from 'node:fs/promises';
import { RecordingWriter } from '../../core/events/recording';
import type { EventHub, SessionDescriptor } from '../eventHub';
import { showWarning } from '../notifications';

/** Automatic recordings kept in global storage; older ones are deleted. */
export const KEPT_RECORDINGS = 20;

export interface RecordedSession {
  readonly session: SessionDescriptor;
  /** Absolute path of the NDJSON file holding the session's events. */
  readonly path: string;
  readonly live: boolean;
}

function fileStamp(date: Date): string {
  return date.toISOString().replace(/[:.]/g, '-');
}

/** A name for a file name: tool ids, and the functional test a session traces (a workspace file's name). */
function safeFileNamePart(name: string): string {
  return name.replace(/[^A-Za-z0-9_-]/g, '_').slice(0, 40) || 'session';
}

/**
 * Writes every live session's events to `<globalStorage>/recordings/<timestamp>-<tool>.ndjson` (or
 * `<timestamp>-<test>-<tool>.ndjson` for a functional test's session) and remembers
 * which file holds which session (live ones and opened recordings), for Save recording… and panel restore.
 */
export class SessionRecorder implements vscode.Disposable {
  private readonly writers = new Map<string, Promise<RecordingWriter | undefined>>();
  private readonly files = new Map<string, RecordedSession>();
  private readonly warned = new Set<string>();
  private readonly disposables: vscode.Disposable[] = [];
  private readonly changed = new vscode.EventEmitter<RecordedSession>();
  /** Fires when a session's recording file becomes known. */
  readonly onDidRecordSession = this.changed.event;

  constructor(
    hub: EventHub,
    private readonly directory: vscode.Uri,
    private readonly producer: string,
  ) {
    this.disposables.push(
      this.changed,
      hub.onDidStartSession((session) => {
        if (session.source === 'live') this.startRecording(session);
      }),
      hub.onDidReceiveEvents(({ session, events }) => {
        const writer = this.writers.get(session.id);
        if (writer) {
          void writer.then((w) => {
            if (!w) return;
            w.write(events);
            if (w.error) this.warnWriteFailed(session, w);
            else if (w.dropped > 0) this.warnDisk(session, w);
          });
        }
      }),
      hub.onDidEndSession(({ session }) => void this.finish(session)),
    );
  }

  /** Sessions with a file, newest first. */
  get recordedSessions(): readonly RecordedSession[] {
    return [...this.files.values()].reverse();
  }

  fileOf(sessionId: string): string | undefined {
    return this.files.get(sessionId)?.path;
  }

  /** Remembers the file an opened recording came from. */
  noteRecordingFile(session: SessionDescriptor, path: string): void {
    this.remember({ session, path, live: false });
  }

  private remember(recorded: RecordedSession): void {
    this.files.set(recorded.session.id, recorded);
    // Bounded: keep the newest entries only.
    while (this.files.size > KEPT_RECORDINGS * 2) {
      const oldest = this.files.keys().next().value;
      if (oldest === undefined) break;
      this.files.delete(oldest);
    }
    this.changed.fire(recorded);
  }

  private startRecording(session: SessionDescriptor): void {
    const started = new Date(Number.isNaN(Date.parse(session.startedAt)) ? Date.now() : Date.parse(session.startedAt));
    const name = [session.recordingName, session.tool].filter((part) => part !== undefined).map(safeFileNamePart).join('-');
    const file = vscode.Uri.joinPath(this.directory, `${fileStamp(started)}-${name}.ndjson`);
    const writer = (async (): Promise<RecordingWriter | undefined> => {
      try {
        await vscode.workspace.fs.createDirectory(this.directory);
        const created = await RecordingWriter.create(file.fsPath, {
          tool: session.tool,
          started_at: started.toISOString(),
          binary: session.binary,
          pid: session.pid,
          producer: this.producer,
        });
        this.remember({ session, path: file.fsPath, live: true });
        return created;
      } catch (error) {
        void showWarning(
          `Bitcoin USDT: the session "${session.label}" is not being recorded: ${(error as Error).message}`,
        );
        return undefined;
      }
    })();
    this.writers.set(session.id, writer);
  }

  private async finish(session: SessionDescriptor): Promise<void> {
    const pending = this.writers.get(session.id);
    if (!pending) return;
    this.writers.delete(session.id);
    const writer = await pending;
    if (!writer) return;
    await writer.close().catch(() => undefined);
    if (writer.error) this.warnWriteFailed(session, writer);
    this.warned.delete(session.id);
    await this.pruneOldRecordings();
  }

  /** Once per session: the session goes on, the file keeps what was written before the error. */
  private warnWriteFailed(session: SessionDescriptor, writer: RecordingWriter): void {
    if (this.warned.has(session.id) || !writer.error) return;
    this.warned.add(session.id);
    void showWarning(
      `Bitcoin USDT: recording of "${session.label}" stopped (${writer.error.message}). The session goes on; ` +
        `${basename(writer.path)} keeps what was written before the error.`,
    );
  }

  /** Once per session: the live view has every event; the file counts what it misses in `lost` lines. */
  private warnDisk(session: SessionDescriptor, writer: RecordingWriter): void {
    if (this.warned.has(session.id)) return;
    this.warned.add(session.id);
    void showWarning(
      `Bitcoin USDT: the disk could not keep up with "${session.label}": ${basename(writer.path)} misses some ` +
        'events, counted as lost (source "recording") where they are missing. The live view has them all.',
    );
  }

  /** Keeps the newest KEPT_RECORDINGS files (names start with an ISO timestamp, so names sort by age). */
  private async pruneOldRecordings(): Promise<void> {
    const directory = this.directory.fsPath;
    const names = (await readdir(directory).catch(() => [] as string[])).filter((n) => n.endsWith('.ndjson')).sort();
    const inUse = new Set([...this.writers.keys()].map((id) => this.files.get(id)?.path));
    for (const name of names.slice(0, Math.max(0, names.length - KEPT_RECORDINGS))) {
      const path = vscode.Uri.joinPath(this.directory, name).fsPath;
      if (!inUse.has(path)) await rm(path, { force: true }).catch(() => undefined);
    }
  }

  /** Recording files on disk (newest first), including those of earlier VS Code windows. */
  async recordingFilesOnDisk(): Promise<string[]> {
    const names = await readdir(this.directory.fsPath).catch(() => [] as string[]);
    return names
      .filter((n) => n.endsWith('.ndjson'))
      .sort()
      .reverse()
      .map((n) => vscode.Uri.joinPath(this.directory, n).fsPath);
  }

  async dispose(): Promise<void> {
    for (const d of this.disposables) d.dispose();
    const pending = [...this.writers.values()];
    this.writers.clear();
    for (const writer of pending) {
      const w = await writer;
      await w?.close().catch(() => undefined);
    }
  }
}

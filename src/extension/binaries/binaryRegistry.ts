import * as path from 'node:path';
import { promises as fs } from 'node:fs';
import * as vscode from 'vscode';
import { affectsSetting, readBitcoindPaths } from '../config';

/** Where a binary in the list comes from: a well-known build path, the setting, or the Add command. */
export type BinaryOrigin = 'workspace' | 'setting' | 'added';

export interface DiscoveredBinary {
  /** Absolute and normalized; the identity of the binary everywhere in the extension. */
  readonly path: string;
  readonly origin: BinaryOrigin;
  /** The workspace folder the path was found in or resolved against, if any. */
  readonly folderName?: string;
}

/** Build outputs of CMake (`-DWITH_USDT=ON`) and of the autotools era (`--enable-usdt`). */
export const WELL_KNOWN_BINARY_PATHS: readonly string[] = ['build/bin/bitcoind', 'src/bitcoind'];

const ADDED_BINARIES_KEY = 'bitcoinUsdt.addedBinaries';
/** A linker writes the output in several steps; wait until it has been quiet this long. */
const REBUILD_QUIET_MS = 300;

interface Candidate {
  readonly path: string;
  readonly origin: BinaryOrigin;
  readonly folder?: vscode.WorkspaceFolder;
  /** Listed only while the file exists (well-known paths); the others are listed regardless, so a wrong path shows as an error. */
  readonly onlyIfPresent: boolean;
}

/**
 * The bitcoind binaries of the workspace: the well-known build paths in every folder, the
 * `bitcoinUsdt.bitcoindPaths` setting, and binaries the user added. Watches each of them and reports a
 * rebuild (debounced) so their tracepoints can be read again. Discovery starts on the first `getBinaries`.
 */
export class BinaryRegistry implements vscode.Disposable {
  private binaries: readonly DiscoveredBinary[] = [];
  private discovery: Promise<void> | undefined;
  private readonly watchers = new Map<string, vscode.Disposable>();
  private readonly quietTimers = new Map<string, NodeJS.Timeout>();
  private readonly listChanged = new vscode.EventEmitter<void>();
  private readonly rebuilt = new vscode.EventEmitter<string>();
  private readonly subscriptions: vscode.Disposable[] = [];

  /** The list of binaries changed (folder, setting, added/removed, a well-known path appeared or vanished). */
  readonly onDidChangeBinaries = this.listChanged.event;
  /** A listed binary was written, replaced or deleted; the argument is its path. */
  readonly onDidRebuildBinary = this.rebuilt.event;

  constructor(private readonly workspaceState: vscode.Memento) {
    this.subscriptions.push(
      this.listChanged,
      this.rebuilt,
      vscode.workspace.onDidChangeWorkspaceFolders(() => void this.rediscover()),
      vscode.workspace.onDidChangeConfiguration((event) => {
        if (affectsSetting(event, 'bitcoindPaths')) void this.rediscover();
      }),
    );
  }

  async getBinaries(): Promise<readonly DiscoveredBinary[]> {
    if (!this.discovery) await this.rediscover();
    else await this.discovery;
    return this.binaries;
  }

  /** Looks for the binaries again; resolves when this discovery (queued after any running one) is done. */
  rediscover(): Promise<void> {
    // A discovery that failed must not stop the ones queued after it.
    const previous = (this.discovery ?? Promise.resolve()).catch(() => undefined);
    const next = previous.then(() => this.discover());
    this.discovery = next;
    return next;
  }

  isAdded(binaryPath: string): boolean {
    return this.addedPaths().includes(path.normalize(binaryPath));
  }

  async addBinaries(paths: readonly string[]): Promise<void> {
    const added = this.addedPaths();
    for (const candidate of paths) {
      const normalized = path.normalize(path.resolve(candidate));
      if (!added.includes(normalized)) added.push(normalized);
    }
    await this.workspaceState.update(ADDED_BINARIES_KEY, added);
    await this.rediscover();
  }

  /** Returns false when the path was not added with the Add command (well-known and setting paths stay). */
  async removeBinary(binaryPath: string): Promise<boolean> {
    const normalized = path.normalize(binaryPath);
    const added = this.addedPaths();
    if (!added.includes(normalized)) return false;
    await this.workspaceState.update(
      ADDED_BINARIES_KEY,
      added.filter((p) => p !== normalized),
    );
    await this.rediscover();
    return true;
  }

  dispose(): void {
    for (const timer of this.quietTimers.values()) clearTimeout(timer);
    this.quietTimers.clear();
    for (const watcher of this.watchers.values()) watcher.dispose();
    this.watchers.clear();
    for (const subscription of this.subscriptions) subscription.dispose();
  }

  private addedPaths(): string[] {
    const stored = this.workspaceState.get<unknown>(ADDED_BINARIES_KEY, []);
    return Array.isArray(stored) ? stored.filter((p): p is string => typeof p === 'string' && path.isAbsolute(p)) : [];
  }

  private candidates(): Candidate[] {
    const candidates: Candidate[] = [];
    for (const folder of vscode.workspace.workspaceFolders ?? []) {
      if (folder.uri.scheme !== 'file') continue;
      const root = folder.uri.fsPath;
      for (const relative of WELL_KNOWN_BINARY_PATHS) {
        candidates.push({ path: path.join(root, relative), origin: 'workspace', folder, onlyIfPresent: true });
      }
      for (const configured of readBitcoindPaths(folder)) {
        candidates.push({ path: path.resolve(root, configured), origin: 'setting', folder, onlyIfPresent: false });
      }
    }
    if (!vscode.workspace.workspaceFolders?.length) {
      for (const configured of readBitcoindPaths()) {
        if (path.isAbsolute(configured)) candidates.push({ path: path.normalize(configured), origin: 'setting', onlyIfPresent: false });
      }
    }
    for (const added of this.addedPaths()) candidates.push({ path: added, origin: 'added', onlyIfPresent: false });
    return candidates;
  }

  private async discover(): Promise<void> {
    const candidates = this.candidates();
    const present = await Promise.all(candidates.map((c) => (c.onlyIfPresent ? exists(c.path) : Promise.resolve(true))));
    const seen = new Set<string>();
    const binaries: DiscoveredBinary[] = [];
    candidates.forEach((candidate, i) => {
      if (!present[i] || seen.has(candidate.path)) return;
      seen.add(candidate.path);
      binaries.push({ path: candidate.path, origin: candidate.origin, ...(candidate.folder ? { folderName: candidate.folder.name } : {}) });
    });
    this.watch(candidates);
    const changed = JSON.stringify(binaries) !== JSON.stringify(this.binaries);
    this.binaries = binaries;
    if (changed) this.listChanged.fire();
  }

  /** Watches every candidate, present or not, so the first build of a well-known path is noticed too. */
  private watch(candidates: readonly Candidate[]): void {
    const wanted = new Map<string, Candidate>();
    for (const candidate of candidates) if (!wanted.has(candidate.path)) wanted.set(candidate.path, candidate);
    for (const [watchedPath, watcher] of this.watchers) {
      if (!wanted.has(watchedPath)) {
        watcher.dispose();
        this.watchers.delete(watchedPath);
      }
    }
    for (const [wantedPath, candidate] of wanted) {
      if (this.watchers.has(wantedPath)) continue;
      this.watchers.set(wantedPath, this.createWatcher(wantedPath, candidate.folder));
    }
  }

  private createWatcher(binaryPath: string, folder: vscode.WorkspaceFolder | undefined): vscode.Disposable {
    const relative = folder ? path.relative(folder.uri.fsPath, binaryPath) : '';
    const insideFolder = folder !== undefined && relative !== '' && !relative.startsWith('..') && !path.isAbsolute(relative);
    const pattern = insideFolder
      ? new vscode.RelativePattern(folder, relative.split(path.sep).join('/'))
      : new vscode.RelativePattern(vscode.Uri.file(path.dirname(binaryPath)), globEscape(path.basename(binaryPath)));
    const watcher = vscode.workspace.createFileSystemWatcher(pattern);
    const onEvent = (): void => this.scheduleRebuild(binaryPath);
    const listeners = [watcher.onDidCreate(onEvent), watcher.onDidChange(onEvent), watcher.onDidDelete(onEvent)];
    return new vscode.Disposable(() => {
      for (const listener of listeners) listener.dispose();
      watcher.dispose();
      const timer = this.quietTimers.get(binaryPath);
      if (timer) clearTimeout(timer);
      this.quietTimers.delete(binaryPath);
    });
  }

  private scheduleRebuild(binaryPath: string): void {
    const pending = this.quietTimers.get(binaryPath);
    if (pending) clearTimeout(pending);
    this.quietTimers.set(
      binaryPath,
      setTimeout(() => {
        this.quietTimers.delete(binaryPath);
        void this.rediscover().then(() => this.rebuilt.fire(binaryPath));
      }, REBUILD_QUIET_MS),
    );
  }
}

async function exists(filePath: string): Promise<boolean> {
  try {
    await fs.stat(filePath);
    return true;
  } catch {
    return false;
  }
}

/** A file name as a glob that matches only itself. */
function globEscape(name: string): string {
  return name.replace(/[\\*?[\]{}()!]/g, (c) => `[${c}]`);
}

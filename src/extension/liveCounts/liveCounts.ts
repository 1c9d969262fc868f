import * as vscode from 'vscode';
import { callSiteText, TracepointActivity, type TracepointSessionCounts } from '../../core/liveCounts/tracepointActivity';
import { findCallSitesInText, isSourceFile, type CallSite } from '../../core/source/callSiteFinder';
import { escapeInvisible } from '../../shared/visibleText';
import type { EventHub, SessionDescriptor } from '../eventHub';
import type { Services } from '../services';
import { liveCountsHover } from './liveCountsHover';

/** How often the call sites are redrawn while a session runs (only when a count changed). */
export const LIVE_COUNTS_INTERVAL_MS = 250;
/** The tracepoint tree is redrawn at most this often (a whole-tree refresh). */
const TREE_INTERVAL_MS = 1_000;

/** What one call site line shows now. */
export interface ShownCallSite {
  /** 1-based */
  readonly line: number;
  readonly tracepoint: string;
  /** The decoration's text as drawn after the line. */
  readonly text: string;
  /** The counts it was drawn from, one per session. */
  readonly sessions: readonly { readonly sessionId: string; readonly tool: string; readonly fired: number | null }[];
}

/** What integration tests see of the live counts (through the extension's exports). */
export interface LiveCountsTestApi {
  /** The call sites of a visible editor's file and what each shows (empty: nothing shown there, or not visible). */
  shownIn(fsPath: string): readonly ShownCallSite[];
  countsOf(tracepoint: string): readonly TracepointSessionCounts[];
  /** What runs: the event listener and the timer only while a session is live; the editor side while counts are shown. */
  working(): { readonly eventListener: boolean; readonly timer: boolean; readonly editorSide: boolean };
}

/** The parts that exist only while counts are shown (ended sessions included): nothing of it when nothing was traced. */
interface EditorSide {
  readonly decoration: vscode.TextEditorDecorationType;
  /** What each editor was last given (its document version and texts). */
  readonly drawn: WeakMap<vscode.TextEditor, string>;
  readonly disposables: vscode.Disposable[];
}

/**
 * Live counts on the TRACEPOINT / TRACEn call sites of the visible editors: after each traced call site's line
 * (a decoration's `after` text: redrawing it never moves a line, unlike a CodeLens that appears, disappears
 * or is resolved again), a hover with the last events' arguments and a link to the session's panel, and the
 * counts for the tracepoint tree. Listens to the hub's events and runs its timer only while a session is live.
 */
export class LiveCounts implements vscode.Disposable, LiveCountsTestApi {
  readonly activity = new TracepointActivity();
  private readonly treeChanged = new vscode.EventEmitter<void>();
  /** Fired (at most once a second) when the counts the tree shows changed. */
  readonly onDidChangeCounts = this.treeChanged.event;
  private readonly subscriptions: vscode.Disposable[];
  private eventListener: vscode.Disposable | null = null;
  private timer: NodeJS.Timeout | null = null;
  private editorSide: EditorSide | null = null;
  private lastTreeUpdate = 0;
  private treeUpdatePending = false;
  /** Call sites per document version (documents of the visible editors). */
  private readonly sitesByDocument = new Map<string, { version: number; sites: CallSite[] }>();
  /** What each document's call sites show, by fsPath (also to skip drawing the same text again). */
  private readonly shown = new Map<string, ShownCallSite[]>();

  constructor(private readonly hub: EventHub) {
    this.subscriptions = [
      this.treeChanged,
      hub.onDidStartSession((session) => this.start(session)),
      hub.onDidEndSession(({ session }) => this.end(session)),
    ];
  }

  shownIn(fsPath: string): readonly ShownCallSite[] {
    return this.shown.get(fsPath) ?? [];
  }

  countsOf(tracepoint: string): readonly TracepointSessionCounts[] {
    return this.activity.countsOf(tracepoint);
  }

  working(): { eventListener: boolean; timer: boolean; editorSide: boolean } {
    return { eventListener: this.eventListener !== null, timer: this.timer !== null, editorSide: this.editorSide !== null };
  }

  /** Forgets the ended sessions; with none left running, the call sites show nothing again. */
  clearEnded(): void {
    this.activity.clearEnded();
    if (this.activity.sessionCount === 0) this.stopEditorSide();
    else this.update();
    this.treeChanged.fire();
  }

  private start(session: SessionDescriptor): void {
    // A new session of a tool takes the place of that tool's ended sessions.
    this.activity.startSession({ id: session.id, tool: session.tool, pid: session.pid, source: session.source, label: session.label }, (other) => other.tool === session.tool);
    this.eventListener ??= this.hub.onDidReceiveEvents(({ session: from, events }) => this.activity.ingest(from.id, events));
    this.timer ??= setInterval(() => this.update(), LIVE_COUNTS_INTERVAL_MS);
    this.startEditorSide();
  }

  private end(session: SessionDescriptor): void {
    this.activity.endSession(session.id);
    if (this.activity.liveSessionCount === 0) {
      this.eventListener?.dispose();
      this.eventListener = null;
      if (this.timer) clearInterval(this.timer);
      this.timer = null;
    }
    // The final counts (the session's last events were published before its end).
    this.update(true);
  }

  private startEditorSide(): void {
    if (this.editorSide) return;
    const decoration = vscode.window.createTextEditorDecorationType({
      after: { color: new vscode.ThemeColor('editorCodeLens.foreground'), fontStyle: 'italic', margin: '0 0 0 3em' },
      rangeBehavior: vscode.DecorationRangeBehavior.ClosedClosed,
    });
    const selector: vscode.DocumentSelector = { scheme: 'file', pattern: '**/*.{c,cpp,h,hpp,C,CPP,H,HPP}' };
    this.editorSide = {
      decoration,
      drawn: new WeakMap(),
      disposables: [
        decoration,
        vscode.window.onDidChangeVisibleTextEditors(() => this.draw()),
        vscode.workspace.onDidCloseTextDocument((document) => {
          this.sitesByDocument.delete(document.uri.toString());
          this.shown.delete(document.uri.fsPath);
        }),
        vscode.languages.registerHoverProvider(selector, { provideHover: (document, position) => this.hover(document, position) }),
      ],
    };
  }

  private stopEditorSide(): void {
    if (!this.editorSide) return;
    for (const disposable of this.editorSide.disposables) disposable.dispose();
    this.editorSide = null;
    this.sitesByDocument.clear();
    this.shown.clear();
  }

  /** Redraws when a count changed (or `force`); tells the tree at most once a second. */
  private update(force = false): void {
    if (this.activity.takeChanged() || force) {
      this.draw();
      this.treeUpdatePending = true;
    }
    const now = Date.now();
    if (this.treeUpdatePending && (force || now - this.lastTreeUpdate >= TREE_INTERVAL_MS)) {
      this.lastTreeUpdate = now;
      this.treeUpdatePending = false;
      this.treeChanged.fire();
    }
  }

  private draw(): void {
    const side = this.editorSide;
    if (!side) return;
    const visible = new Set(vscode.window.visibleTextEditors.map((editor) => editor.document.uri.fsPath));
    for (const path of this.shown.keys()) if (!visible.has(path)) this.shown.delete(path);
    for (const editor of vscode.window.visibleTextEditors) {
      const { document } = editor;
      if (document.uri.scheme !== 'file' || !isSourceFile(document.uri.fsPath)) continue;
      const options: vscode.DecorationOptions[] = [];
      const sites: ShownCallSite[] = [];
      for (const site of this.sitesOf(document)) {
        const counts = this.activity.countsOf(site.tracepoint);
        if (counts.length === 0 || site.line > document.lineCount) continue;
        const text = callSiteText(counts);
        const end = document.lineAt(site.line - 1).range.end;
        options.push({ range: new vscode.Range(end, end), renderOptions: { after: { contentText: escapeInvisible(text) } } });
        sites.push({ line: site.line, tracepoint: site.tracepoint, text, sessions: counts.map((c) => ({ sessionId: c.session.id, tool: c.session.tool, fired: c.fired })) });
      }
      this.shown.set(document.uri.fsPath, sites);
      // The same text is not drawn again on the same editor (an editor shown again is a new one).
      const key = `${document.version}\n${sites.map((site) => `${site.line} ${site.text}`).join('\n')}`;
      if (side.drawn.get(editor) === key) continue;
      side.drawn.set(editor, key);
      editor.setDecorations(side.decoration, options);
    }
  }

  private sitesOf(document: vscode.TextDocument): CallSite[] {
    const key = document.uri.toString();
    const cached = this.sitesByDocument.get(key);
    if (cached?.version === document.version) return cached.sites;
    const sites = findCallSitesInText(document.getText(), document.uri.fsPath);
    this.sitesByDocument.set(key, { version: document.version, sites });
    return sites;
  }

  private hover(document: vscode.TextDocument, position: vscode.Position): vscode.Hover | undefined {
    const line = position.line + 1;
    const tracepoints = [...new Set(this.sitesOf(document).filter((site) => site.line === line).map((site) => site.tracepoint))];
    const contents = tracepoints.map((tracepoint) => liveCountsHover(tracepoint, this.activity)).filter((markdown) => markdown !== null);
    return contents.length > 0 ? new vscode.Hover(contents, document.lineAt(position.line).range) : undefined;
  }

  dispose(): void {
    this.eventListener?.dispose();
    if (this.timer) clearInterval(this.timer);
    this.stopEditorSide();
    for (const subscription of this.subscriptions) subscription.dispose();
  }
}

/** Live counts on the call sites and `bitcoinUsdt.clearLiveCounts`; the tree reads the same counts. */
export function registerLiveCounts(services: Services): LiveCounts {
  const liveCounts = new LiveCounts(services.hub);
  services.context.subscriptions.push(liveCounts, vscode.commands.registerCommand('bitcoinUsdt.clearLiveCounts', () => liveCounts.clearEnded()));
  services.api.liveCounts = liveCounts;
  return liveCounts;
}

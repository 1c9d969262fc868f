import * as vscode from 'vscode';
import { basename } from 'node:path';
import { access } from 'node:fs/promises';
import type { NormalizedEvent } from '../../core/events/eventTypes';
import { compareProfiles } from '../../core/comparison/profileComparison';
import { RunProfile, type ProfileSpec } from '../../core/comparison/runProfile';
import { SessionNodes } from '../../core/network/sessionNodes';
import type { CommonFromWebview, ComparisonMessage, PageProtocol, PageTypes, NodeChoice, NodesMessage, PickNodeMessage, PressKernelFilterMessage, RenderReportRequest, SessionChoice, SessionsMessage } from '../../shared/panelProtocol';
import { FILTER_PROBE_COMMAND, filterableTool } from '../launch/registerProbeLauncher';
import { showWarning } from '../notifications';
import type { EventHub, SessionDescriptor } from '../eventHub';
import type { RecordingService } from '../recording/registerRecording';
import type { PanelPlacement } from './panelPlacement';
import { panelOfTool, type PanelId } from './panelRouting';
import { RenderReportRequests } from './renderReportRequest';
import { connectWebviewPanel } from './webviewConnection';
import { webviewBuildRoot, type WebviewPage } from './webviewPageHtml';

/** What a panel kind's model must do with its session's events (P2pAggregator, RawMessageStore, …). */
export interface PanelModel {
  ingestAll(events: readonly NormalizedEvent[]): unknown;
  markEnded(reason: string): void;
}

export interface PanelSession<Model extends PanelModel> {
  readonly descriptor: SessionDescriptor;
  readonly model: Model;
  /** What the panel compares of this run (PanelKind.profile); null when the panel keeps none. */
  readonly profile: RunProfile | null;
  /** A session over every process of a build: its nodes, each with a model of its own (null: one process). */
  readonly nodes: SessionNodes<Model> | null;
  ended: boolean;
}

/** What every panel needs from the extension, shared by all of them. */
export interface PanelServices {
  readonly context: vscode.ExtensionContext;
  readonly hub: EventHub;
  readonly recordings: RecordingService;
  readonly placement: PanelPlacement;
}

/** What a panel kind is: its page, its webview type, its limits. */
export interface PanelKind<Page extends PageTypes> {
  /** The panel's id in the routing (panelOfTool): sessions of tools routed here open the panel. */
  readonly id: PanelId;
  readonly viewType: string;
  /** The page (bundle in dist/webview and title). */
  readonly page: WebviewPage;
  /** "the P2P panel", in errors. */
  readonly what: string;
  /** How often batched updates go to a visible page. */
  readonly flushIntervalMs: number;
  /** Sessions kept in the picker (each holds a bounded model); the oldest ended ones not shown go first. */
  readonly maxSessions: number;
  /** The page's protocol: validates its saved UI state (from webview storage or a message) and what it posts. */
  readonly protocol: PageProtocol<Page>;
  /**
   * workspaceState key under which the shown session's recording file is kept, to replay it when the panel is
   * restored after a window reload; undefined: the panel comes back empty (it holds what cannot be replayed cheaply).
   */
  readonly lastRecordingKey?: string;
  /**
   * What the panel compares of two runs (A/B): a profile of every session is kept beside its model and the
   * page gets the comparison of the run shown (A) with the run compared (B). Undefined: the panel compares in
   * its own way (the benchmark panel) and uses only the host's run B.
   */
  readonly profile?: ProfileSpec;
  /** "a connectblock-benchmark recording", in the run picker. */
  readonly recordingKind?: string;
}

/** What a page posts that is its panel's own (not one of the common messages the host handles). */
export type OwnMessage<Page extends PageTypes> = Exclude<Page['fromPage'], CommonFromWebview<Page['uiState'], Page['report']>>;

/** Comparisons are recomputed at most this often while a compared run is live. */
const COMPARISON_INTERVAL_MS = 1_000;
/** A page showing this long without `ready` is opened again (see watchLoading), at most MAX_PAGE_REOPENS times in a row. */
const PAGE_LOAD_TIMEOUT_MS = 10_000;
const MAX_PAGE_REOPENS = 3;
/** The panel whose page was last opened again and has not said `ready` yet: pages reopened together race again. */
let pageReopening: { readonly host: object; readonly since: number } | undefined;

/**
 * One panel of one kind: owns its webview's life (create beside the source, reveal, restore after a window
 * reload through the serializer, dispose), the sessions it tracks (from the event hub: sessions of tools routed
 * to it, and sessions of unknown tools whose events it accepts), the session picker, eviction, visibility-gated
 * batched updates and render reports. A panel kind subclasses it and supplies its model, which events it
 * accepts, its snapshot (sent when the page is ready, becomes visible or the session changes) and its delta
 * (sent every flush interval while the page is visible and no post is in flight).
 *
 * Pages are not retained while hidden: the page asks again with `ready` when it is shown.
 */
export abstract class PanelHost<Model extends PanelModel, Page extends PageTypes> implements vscode.Disposable {
  protected readonly sessions = new Map<string, PanelSession<Model>>();
  protected current: string | null = null;
  /** A session started or ended since the page last got the list. */
  protected sessionsChanged = false;
  private webviewPanel: vscode.WebviewPanel | undefined;
  private connection: vscode.Disposable | undefined;
  private ready = false;
  private posting = false;
  private readonly disposables: vscode.Disposable[] = [];
  private readonly renderReports: RenderReportRequests<Page['report']>;
  /** Run B: the session compared with the one shown (A/B), or null. */
  protected compared: string | null = null;
  /** Set while compareWith opens a recording: the session it starts becomes run B, not the one shown. */
  private openingForComparison = 0;
  private lastComparisonAt = 0;
  /** The page shows a comparison (it must be told when it ends). */
  private pageHasComparison = false;
  /** The node shown of an every-process session (its key), null: all nodes. */
  private node: string | null = null;
  /** The shown session's SessionNodes.changeCount the page last got (-1: send). */
  private sentNodesChange = -1;
  private sentUnattributedLost = 0;
  /** The page was sent nodes (it must be told when the session shown has none). */
  private pageHasNodes = false;
  /** Since when the panel shows without its page having said `ready` (undefined: ready, or hidden). */
  private loadingSince: number | undefined;
  /** Pages reopened because they did not load, since a page last said `ready`. */
  private reopenedPages = 0;

  constructor(
    protected readonly services: PanelServices,
    protected readonly kind: PanelKind<Page>,
  ) {
    this.renderReports = new RenderReportRequests({ what: kind.what, panel: () => this.webviewPanel, ready: () => this.ready });
    const { hub, recordings } = services;
    this.disposables.push(
      hub.onDidStartSession((session) => {
        if (panelOfTool(session.tool) === kind.id) this.track(session);
      }),
      hub.onDidReceiveEvents(({ session, events }) => {
        let tracked = this.sessions.get(session.id);
        if (!tracked && panelOfTool(session.tool) === undefined && events.some((e) => this.acceptsEvent(e))) tracked = this.track(session);
        tracked?.model.ingestAll(events);
        tracked?.nodes?.ingestAll(events);
        tracked?.profile?.ingestAll(events);
      }),
      hub.onDidEndSession(({ session, reason }) => {
        const tracked = this.sessions.get(session.id);
        if (!tracked) return;
        tracked.ended = true;
        tracked.model.markEnded(reason);
        tracked.nodes?.markEnded(reason);
        this.sessionsChanged = true;
      }),
      recordings.recorder.onDidRecordSession((recorded) => {
        if (recorded.session.id === this.current) void this.rememberRecording(recorded.path);
      }),
    );
  }

  // ---- what a panel kind supplies ----

  /** An event that makes an untracked session of an unknown tool (an older recording) show here. */
  protected abstract acceptsEvent(event: NormalizedEvent): boolean;
  protected abstract createModel(descriptor: SessionDescriptor): Model;
  /** Posts the whole (bounded) state of the session shown (`undefined`: none) to a ready page. */
  protected abstract postSnapshot(shown: PanelSession<Model> | undefined): void;
  /** Posts what changed since the last post, if anything; called while the page is visible and idle. */
  protected abstract postDelta(shown: PanelSession<Model> | undefined): void;
  /** The page is ready; `saved` is the UI state it kept (null: a fresh page). Adopt what is still valid. */
  protected abstract pageReady(saved: Page['uiState'] | null): void;
  /** The panel's own messages from the page. */
  protected abstract handlePageMessage(message: OwnMessage<Page>): void;
  /** A webview restored after a window reload brings the UI state it saved. */
  protected abstract restoreUiState(saved: Page['uiState']): void;

  /** A session is about to be shown instead of `previous` (reset what belongs to the previous one). */
  protected willSelect(_next: PanelSession<Model>, _previous: string | null): void {}
  /** A new session was tracked (default: show it). */
  protected tracked(session: PanelSession<Model>): void {
    this.select(session.descriptor.id);
  }
  /** Sessions eviction must keep besides the one shown and the one compared. */
  protected pinned(_id: string): boolean {
    return false;
  }
  /** The node shown changed (reset what belongs to the previous node's model, as for another session). */
  protected nodeChanged(): void {}
  /** Run B changed (default: the page gets the comparison now). */
  protected comparisonChanged(): void {
    this.postComparison();
  }

  // ---- sessions ----

  get viewType(): string {
    return this.kind.viewType;
  }

  get isOpen(): boolean {
    return this.webviewPanel !== undefined;
  }

  get currentSessionId(): string | null {
    return this.current;
  }

  /** The session shown; with a node selected, its `model` is that node's. */
  protected get shown(): PanelSession<Model> | undefined {
    const session = this.current === null ? undefined : this.sessions.get(this.current);
    if (!session || this.node === null) return session;
    const model = session.nodes?.model(this.node);
    return model ? { ...session, model } : session;
  }

  /** The nodes of the session shown (empty: it covers one process). */
  nodeChoices(): NodeChoice[] {
    const session = this.current === null ? undefined : this.sessions.get(this.current);
    return session?.nodes?.nodes() ?? [];
  }

  /** The node shown (its key), null: all nodes. */
  get selectedNode(): string | null {
    return this.node;
  }

  /** Shows one node of the session shown (null: all nodes); false when the session has no such node. */
  selectNode(key: string | null): boolean {
    const session = this.current === null ? undefined : this.sessions.get(this.current);
    if (key !== null && !session?.nodes?.model(key)) return false;
    if (key === this.node) return true;
    this.node = key;
    this.nodeChanged();
    this.sentNodesChange = -1;
    this.refresh();
    return true;
  }

  /** Presses the header's "Kernel filter…" button as the user would (tests): the page sends `filterInKernel`. */
  pressKernelFilter(): void {
    const message: PressKernelFilterMessage = { type: 'pressKernelFilter' };
    void this.webviewPanel?.webview.postMessage(message);
  }

  /** Picks a node in the page's selector as the user would (tests): the page sends `selectNode` back. */
  pickNode(key: string | null): void {
    const message: PickNodeMessage = { type: 'pickNode', nodeKey: key };
    void this.webviewPanel?.webview.postMessage(message);
  }

  private nodesMessage(): NodesMessage {
    const nodes = this.current === null ? undefined : this.sessions.get(this.current)?.nodes;
    this.sentNodesChange = nodes?.changeCount ?? 0;
    return {
      type: 'nodes',
      nodes: nodes?.nodes() ?? [],
      selected: this.node,
      unattributedLost: nodes?.unattributedLost ?? 0,
      processesWithoutNode: nodes?.processesWithoutNode ?? 0,
    };
  }

  /** The nodes changed since the page got them (a node started, restarted or ended). */
  private nodesChanged(): boolean {
    const nodes = this.current === null ? undefined : this.sessions.get(this.current)?.nodes;
    return nodes !== undefined && nodes !== null && (nodes.changeCount !== this.sentNodesChange || nodes.unattributedLost !== this.sentUnattributedLost);
  }

  protected track(descriptor: SessionDescriptor): PanelSession<Model> {
    const profile = this.kind.profile ? new RunProfile(this.kind.profile) : null;
    const nodes = descriptor.pid === null ? new SessionNodes(() => this.createModel(descriptor)) : null;
    const session: PanelSession<Model> = { descriptor, model: this.createModel(descriptor), profile, nodes, ended: false };
    this.sessions.set(descriptor.id, session);
    this.sessionsChanged = true;
    for (const [id, old] of this.sessions) {
      if (this.sessions.size <= this.kind.maxSessions) break;
      if (old.ended && id !== this.current && id !== descriptor.id && id !== this.compared && !this.pinned(id)) this.sessions.delete(id);
    }
    if (this.openingForComparison > 0 && this.current !== null) this.setCompared(descriptor.id);
    else {
      if (this.compared === descriptor.id) this.compared = null;
      this.tracked(session);
    }
    this.show(true); // a new session was asked for (a probe started, a recording opened): bring its panel to the front
    return session;
  }

  protected select(id: string): void {
    const next = this.sessions.get(id);
    if (!next) return;
    this.willSelect(next, this.current);
    if (id !== this.current && this.node !== null) {
      this.node = null;
      this.nodeChanged();
    }
    this.current = id;
    this.sentNodesChange = -1;
    const file = this.services.recordings.recorder.fileOf(id);
    if (file) void this.rememberRecording(file);
    this.refresh();
  }

  /** Shows a tracked session (run A); false when it is not tracked here. */
  showRun(id: string): boolean {
    if (!this.sessions.has(id)) return false;
    if (this.compared === id) this.compared = null;
    if (this.current === id) this.refresh();
    else this.select(id);
    return true;
  }

  /** The session id of run B (the run compared with the one shown), or null. */
  get comparedSessionId(): string | null {
    return this.compared;
  }

  /** Whether this panel tracks a session. */
  tracks(id: string | null): id is string {
    return id !== null && this.sessions.has(id);
  }

  /** The sessions this panel tracks, newest last (the run pickers). */
  trackedRuns(): readonly SessionDescriptor[] {
    return [...this.sessions.values()].map((s) => s.descriptor);
  }

  get title(): string {
    return this.kind.page.title;
  }

  protected setCompared(sessionId: string | null): string | undefined {
    this.compared = sessionId === this.current || !this.tracks(sessionId) ? null : sessionId;
    this.comparisonChanged();
    return this.compared ?? undefined;
  }

  /**
   * Chooses run B, compared with the run shown: a tracked session id, a recording (Uri or path) to open, or (no
   * argument) a pick among the other runs and "Open recording…". Returns run B's session id.
   */
  async compareWith(target?: unknown): Promise<string | undefined> {
    if (typeof target === 'string' && this.sessions.has(target)) return this.setCompared(target);
    let uri = target instanceof vscode.Uri ? target : typeof target === 'string' && target.startsWith('/') ? vscode.Uri.file(target) : undefined;
    if (!uri) {
      interface RunPick extends vscode.QuickPickItem {
        readonly sessionId?: string;
      }
      const picks: RunPick[] = [...this.sessions.values()]
        .filter((r) => r.descriptor.id !== this.current)
        .reverse()
        .map((r) => ({ label: r.descriptor.label, description: `${r.descriptor.source}, started ${r.descriptor.startedAt}`, sessionId: r.descriptor.id }));
      picks.push({ label: '$(folder-opened) Open recording…', description: `${this.kind.recordingKind ?? 'a recording'} (.ndjson)` });
      const picked = await vscode.window.showQuickPick(picks, { title: `Compare ${this.kind.what} with which run?` });
      if (!picked) return undefined;
      if (picked.sessionId) return this.setCompared(picked.sessionId);
      const files = await vscode.window.showOpenDialog({ canSelectMany: false, openLabel: 'Compare with', filters: { 'Bitcoin USDT recordings': ['ndjson'], 'All files': ['*'] } });
      uri = files?.[0];
      if (!uri) return undefined;
    }
    this.show(true);
    this.openingForComparison++;
    let sessionId: string | undefined;
    try {
      sessionId = await vscode.commands.executeCommand<string | undefined>('bitcoinUsdt.openRecording', uri);
    } finally {
      this.openingForComparison--;
    }
    if (sessionId === undefined) return undefined;
    if (!this.sessions.has(sessionId)) {
      void showWarning(`Bitcoin USDT: ${basename(uri.fsPath)} holds no events for ${this.kind.what}.`);
      return undefined;
    }
    return this.setCompared(sessionId);
  }

  /** The comparison of the run shown (A) with run B, for pages of panels that keep profiles. */
  protected comparisonMessage(): ComparisonMessage {
    const a = this.shown;
    const b = this.compared === null ? undefined : this.sessions.get(this.compared);
    const info = (s: PanelSession<Model>): { sessionId: string; label: string; source: 'live' | 'recording'; tool: string } => ({
      sessionId: s.descriptor.id,
      label: s.descriptor.label,
      source: s.descriptor.source,
      tool: s.descriptor.tool,
    });
    const comparison = a?.profile && b?.profile ? compareProfiles(a.profile, b.profile, info(a), info(b)) : null;
    return { type: 'comparison', comparedSessionId: b ? this.compared : null, comparison };
  }

  /** Sends the comparison (panels with profiles); marks both runs' profiles as sent. */
  private postComparison(): void {
    if (!this.kind.profile || !this.webviewPanel || !this.ready) return;
    this.shown?.profile?.takeChanged();
    if (this.compared !== null) this.sessions.get(this.compared)?.profile?.takeChanged();
    this.lastComparisonAt = Date.now();
    const message = this.comparisonMessage();
    this.pageHasComparison = message.comparison !== null;
    this.post(message);
  }

  /** A compared run that got events is compared again, at most every COMPARISON_INTERVAL_MS. */
  private postComparisonDelta(): void {
    if (!this.kind.profile || this.compared === null || Date.now() - this.lastComparisonAt < COMPARISON_INTERVAL_MS) return;
    const b = this.sessions.get(this.compared);
    const changedA = this.shown?.profile?.takeChanged() ?? false;
    const changedB = b?.profile?.takeChanged() ?? false;
    if (changedA || changedB) this.postComparison();
  }

  private async rememberRecording(path: string): Promise<void> {
    if (this.kind.lastRecordingKey) await this.services.context.workspaceState.update(this.kind.lastRecordingKey, path);
  }

  /** Shows one of the sessions this panel tracks (a call site's "Show in panel"); false when it tracks none of that id. */
  showSession(id: string): boolean {
    if (!this.sessions.has(id)) return false;
    this.show(true);
    this.select(id);
    return true;
  }

  protected sessionChoices(): SessionChoice[] {
    return [...this.sessions.values()].map(({ descriptor, ended }) => ({
      id: descriptor.id,
      label: descriptor.label,
      source: descriptor.source,
      tool: descriptor.tool,
      startedAt: descriptor.startedAt,
      ended,
      ...(descriptor.startingText ? { startingText: descriptor.startingText } : {}),
      ...(descriptor.source === 'live' && !ended && filterableTool(descriptor.tool) ? { filterable: true } : {}),
    }));
  }

  /** The session list for the picker (clears sessionsChanged). */
  protected sessionsMessage(): SessionsMessage {
    this.sessionsChanged = false;
    return { type: 'sessions', sessions: this.sessionChoices(), currentSessionId: this.current };
  }

  // ---- webview life ----

  /** Opens the panel (as a tab beside the source, see PanelPlacement); `reveal`: also bring a hidden panel to the front. */
  show(reveal = false): void {
    if (this.webviewPanel) {
      if (reveal && !this.webviewPanel.visible) this.webviewPanel.reveal(undefined, true);
      return;
    }
    this.attach(this.createPanel(this.services.placement.column()));
  }

  private createPanel(viewColumn: vscode.ViewColumn): vscode.WebviewPanel {
    return vscode.window.createWebviewPanel(
      this.kind.viewType,
      this.kind.page.title,
      { viewColumn, preserveFocus: true },
      { enableScripts: true, localResourceRoots: [webviewBuildRoot(this.services.context.extensionUri)], retainContextWhenHidden: false },
    );
  }

  /**
   * A page that shows but never says `ready` is opened again in a new panel at the same place. VS Code in a
   * browser (code-server, serve-web) serves every webview from one origin; webviews that load at the same
   * moment (three probes started together open three panels) race for its service worker, and the loser waits
   * forever ("Found unexpected service worker controller … Waiting for controllerchange"). A new webview loads
   * alone, so panels stuck together are reopened one after the other. Desktop VS Code gives each webview its own
   * origin.
   */
  private watchLoading(panel: vscode.WebviewPanel): void {
    if (!panel.visible || this.ready) {
      this.loadingSince = undefined;
      return;
    }
    const now = Date.now();
    this.loadingSince ??= now;
    if (now - this.loadingSince < PAGE_LOAD_TIMEOUT_MS || this.reopenedPages >= MAX_PAGE_REOPENS) return;
    // One page at a time: two stuck panels reopened at the same tick would race for the worker again.
    if (pageReopening && pageReopening.host !== this && now - pageReopening.since < PAGE_LOAD_TIMEOUT_MS) return;
    pageReopening = { host: this, since: now };
    this.reopenedPages++;
    console.warn(`Bitcoin USDT: ${this.kind.what} did not load its page within ${PAGE_LOAD_TIMEOUT_MS / 1000} s; opening it again (${this.reopenedPages} of ${MAX_PAGE_REOPENS})`);
    const reopened = this.createPanel(panel.viewColumn ?? this.services.placement.column());
    this.attach(reopened);
    panel.dispose();
  }

  /**
   * Takes over a webview restored after a window reload (a panel already open is kept: the restored one is
   * closed), and replays the last session's recording when the kind keeps one and nothing is tracked yet.
   */
  async restore(panel: vscode.WebviewPanel, state: unknown): Promise<void> {
    if (this.webviewPanel) {
      panel.dispose();
      return;
    }
    this.restoreUiState(this.kind.protocol.parseUiState(state));
    this.attach(panel);
    const key = this.kind.lastRecordingKey;
    if (!key || this.sessions.size > 0) return;
    const last = this.services.context.workspaceState.get<string>(key);
    if (typeof last !== 'string' || last === '') return;
    if (!(await access(last).then(() => true, () => false))) return;
    await this.services.recordings.openRecording(last);
  }

  private attach(panel: vscode.WebviewPanel): void {
    this.detach();
    this.webviewPanel = panel;
    this.ready = false;
    this.loadingSince = undefined;
    panel.title = this.kind.page.title;
    const placement = this.services.placement.watch(panel);
    const connection = connectWebviewPanel(panel, {
      extensionUri: this.services.context.extensionUri,
      page: this.kind.page,
      parseMessage: (raw) => this.kind.protocol.parseFromPage(raw),
      onMessage: (message) => this.receive(message),
      onVisible: () => this.refresh(),
      onDispose: () => {
        if (this.webviewPanel === panel) this.detach();
      },
      flush: () => {
        this.watchLoading(panel);
        if (!this.webviewPanel?.visible || !this.ready || this.posting) return;
        if (this.nodesChanged()) this.postNodes();
        this.postDelta(this.shown);
        this.postComparisonDelta();
      },
      flushIntervalMs: this.kind.flushIntervalMs,
    });
    this.connection = vscode.Disposable.from(connection, placement);
  }

  private detach(): void {
    this.connection?.dispose();
    this.connection = undefined;
    this.webviewPanel = undefined;
    this.ready = false;
    this.posting = false;
  }

  private receive(message: Page['fromPage']): void {
    const common = message as unknown as CommonFromWebview<Page['uiState'], Page['report']>;
    switch (common.type) {
      case 'ready':
        this.ready = true;
        this.reopenedPages = 0;
        if (pageReopening?.host === this) pageReopening = undefined;
        this.pageHasComparison = false;
        this.pageHasNodes = false;
        this.pageReady(common.uiState);
        this.refresh();
        return;
      case 'selectSession':
        if (common.sessionId !== this.current) this.select(common.sessionId);
        return;
      case 'selectNode':
        if (!this.selectNode(common.nodeKey)) this.refresh();
        return;
      case 'renderReport':
        this.renderReports.answer(common.requestId, common.report);
        return;
      case 'selectComparison':
        this.setCompared(common.sessionId);
        return;
      case 'compareWith':
        void this.compareWith();
        return;
      case 'filterInKernel': {
        // Only the session shown, while it runs; the command asks for the filters and restarts it.
        const session = this.sessions.get(common.sessionId);
        if (common.sessionId !== this.current || !session || session.ended || session.descriptor.source !== 'live') return;
        void vscode.commands.executeCommand(FILTER_PROBE_COMMAND, common.sessionId);
        return;
      }
      default:
        this.handlePageMessage(message as OwnMessage<Page>);
    }
  }

  /** Sends the snapshot now, if the page is there to take it. */
  protected refresh(): void {
    if (!this.webviewPanel || !this.ready) return;
    this.postNodes();
    this.postSnapshot(this.shown);
    if (this.compared === this.current) this.compared = null;
    if (this.compared !== null || this.pageHasComparison) this.postComparison();
  }

  /** The nodes go before the snapshot they name (the page's node column reads them). */
  private postNodes(): void {
    // Sessions of one process send nothing (the page's selector stays hidden), unless the page has nodes to clear.
    const hasNodes = (this.current === null ? undefined : this.sessions.get(this.current)?.nodes) != null;
    if (!hasNodes && !this.pageHasNodes) return;
    const message = this.nodesMessage();
    this.sentUnattributedLost = message.unattributedLost;
    this.pageHasNodes = message.nodes.length > 0;
    this.post(message);
  }

  /** Posts to a ready page; until VS Code has delivered it, flushes wait (a busy page is not flooded). */
  protected post(message: Page['toPage'] | SessionsMessage | ComparisonMessage | NodesMessage): void {
    const panel = this.webviewPanel;
    if (!panel || !this.ready) return;
    this.posting = true;
    const done = (): void => {
      if (this.webviewPanel === panel) this.posting = false;
    };
    panel.webview.postMessage(message).then(done, done);
  }

  /** Asks the page what it drew (waits for it to be ready). `timeUpdates`: see RenderReportRequest. */
  renderReport(timeoutMs = 10_000, options: { readonly timeUpdates?: boolean } = {}): Promise<Page['report']> {
    return this.renderReports.request(timeoutMs, (requestId) => {
      const request: RenderReportRequest = { type: 'requestRenderReport', requestId, ...(options.timeUpdates === undefined ? {} : { timeUpdates: options.timeUpdates }) };
      void this.webviewPanel?.webview.postMessage(request);
    });
  }

  /** Brings the panel to the front and focuses it (its editor group becomes the active one). */
  focus(): void {
    this.webviewPanel?.reveal(undefined, false);
  }

  close(): void {
    this.webviewPanel?.dispose();
  }

  dispose(): void {
    this.webviewPanel?.dispose();
    this.detach();
    for (const d of this.disposables) d.dispose();
    this.sessions.clear();
  }
}

import * as vscode from 'vscode';
import { createToolViewAggregator, type ToolViewAggregator } from '../../core/toolViews/toolViews';
import {
  EMPTY_FILTER,
  parseToolFromWebview,
  TOOL_PANEL_TITLES,
  type SessionChoice,
  type ToolFilter,
  type ToolFromWebview,
  type ToolPanelTool,
  type ToolRenderReport,
  type ToolToWebview,
  type ToolUiState,
} from '../../shared/toolPanelProtocol';
import type { SessionDescriptor } from '../eventHub';
import { webviewBuildRoot } from '../panels/webviewPageHtml';
import { connectWebviewPanel } from '../panels/webviewConnection';
import { RenderReportRequests } from '../panels/renderReportRequest';

export const TOOL_PANEL_VIEW_TYPE = 'bitcoinUsdt.toolPanel';
/** Sessions kept in each panel's picker (each holds a bounded aggregator); the oldest ended ones go first. */
export const MAX_TOOL_PANEL_SESSIONS = 8;
/** ≤ 4 updates per second, only while visible. */
const FLUSH_INTERVAL_MS = 250;
/** Live sessions are re-sent at least this often, so time windows ("last minute") move without events. */
const LIVE_REFRESH_MS = 1_000;

export interface TrackedToolSession {
  readonly descriptor: SessionDescriptor;
  readonly aggregator: ToolViewAggregator;
  ended: boolean;
}

/** Host side of what a panel needs from its owner. */
export interface ToolPanelHost {
  readonly extensionUri: vscode.Uri;
  /**
   * Remembers the recording file of the session shown (to reload it after a window reload); false: its file
   * is not known yet (a live session's recording is created asynchronously).
   */
  rememberSession(tool: ToolPanelTool, sessionId: string): boolean;
}

/**
 * One tool's panel: a webview beside the editor showing one of the tool's sessions (live or replayed).
 * The webview asks for a snapshot when it loads (and again each time it becomes visible, since its context
 * is not retained while hidden); then the host sends a fresh bounded snapshot at most every 250 ms while
 * visible and something changed.
 */
export class ToolPanel implements vscode.Disposable {
  private panel: vscode.WebviewPanel | undefined;
  private connection: vscode.Disposable | undefined;
  private ready = false;
  private posting = false;
  private readonly sessions = new Map<string, TrackedToolSession>();
  private current: string | null = null;
  private filter: ToolFilter = EMPTY_FILTER;
  private sessionsChanged = false;
  private lastPostAt = 0;
  private rememberedSessionId: string | null = null;
  private readonly renderReports: RenderReportRequests<ToolRenderReport>;

  constructor(
    readonly tool: ToolPanelTool,
    private readonly host: ToolPanelHost,
  ) {
    this.renderReports = new RenderReportRequests({ what: `the ${tool} panel`, panel: () => this.panel, ready: () => this.ready });
  }

  get isOpen(): boolean {
    return this.panel !== undefined;
  }

  get currentSessionId(): string | null {
    return this.current;
  }

  get hasSessions(): boolean {
    return this.sessions.size > 0;
  }

  session(id: string): TrackedToolSession | undefined {
    return this.sessions.get(id);
  }

  *trackedSessions(): Iterable<TrackedToolSession> {
    yield* this.sessions.values();
  }

  track(descriptor: SessionDescriptor): TrackedToolSession {
    const startedAtMs = Date.parse(descriptor.startedAt);
    const tracked: TrackedToolSession = {
      descriptor,
      aggregator: createToolViewAggregator(this.tool, { startedAtMs: Number.isNaN(startedAtMs) ? null : startedAtMs }),
      ended: false,
    };
    this.sessions.set(descriptor.id, tracked);
    for (const [id, old] of this.sessions) {
      if (this.sessions.size <= MAX_TOOL_PANEL_SESSIONS) break;
      if (old.ended && id !== descriptor.id) this.sessions.delete(id);
    }
    this.sessionsChanged = true;
    this.selectSession(descriptor.id);
    // A new session was asked for (a probe started, a recording opened): bring its panel to the front.
    this.show(true);
    return tracked;
  }

  markEnded(sessionId: string, reason: string): void {
    const tracked = this.sessions.get(sessionId);
    if (!tracked) return;
    tracked.ended = true;
    tracked.aggregator.markEnded(reason);
    this.sessionsChanged = true;
    if (sessionId === this.current) this.remember();
  }

  private remember(): void {
    if (this.current !== null && this.host.rememberSession(this.tool, this.current)) this.rememberedSessionId = this.current;
  }

  private selectSession(id: string): void {
    if (!this.sessions.has(id)) return;
    this.current = id;
    this.remember();
    this.postSnapshot();
  }

  /** Opens the panel beside the editor; `reveal`: also bring an open but hidden panel to the front. */
  show(reveal = false): void {
    if (this.panel) {
      if (reveal && !this.panel.visible) this.panel.reveal(undefined, true);
      return;
    }
    const panel = vscode.window.createWebviewPanel(
      TOOL_PANEL_VIEW_TYPE,
      TOOL_PANEL_TITLES[this.tool],
      { viewColumn: vscode.ViewColumn.Beside, preserveFocus: true },
      { enableScripts: true, localResourceRoots: [webviewBuildRoot(this.host.extensionUri)], retainContextWhenHidden: false },
    );
    this.attach(panel);
  }

  /** Takes over a panel restored after a window reload. */
  restore(panel: vscode.WebviewPanel, uiState: ToolUiState): void {
    this.filter = uiState.filter;
    this.attach(panel);
  }

  private attach(panel: vscode.WebviewPanel): void {
    this.detach();
    this.panel = panel;
    this.ready = false;
    panel.title = TOOL_PANEL_TITLES[this.tool];
    this.connection = connectWebviewPanel(panel, {
      extensionUri: this.host.extensionUri,
      page: { bundle: 'toolPanel', title: TOOL_PANEL_TITLES[this.tool], extraStyles: ['uPlot.min.css'] },
      parseMessage: parseToolFromWebview,
      onMessage: (message) => this.handleMessage(message),
      onVisible: () => {
        if (this.ready) this.postSnapshot();
      },
      onDispose: () => {
        if (this.panel === panel) this.detach();
      },
      flush: () => this.flush(),
      flushIntervalMs: FLUSH_INTERVAL_MS,
    });
  }

  private detach(): void {
    this.connection?.dispose();
    this.connection = undefined;
    this.panel = undefined;
    this.ready = false;
    this.posting = false;
  }

  private handleMessage(message: ToolFromWebview): void {
    switch (message.type) {
      case 'ready':
        this.ready = true;
        // A page re-created after being hidden brings the state it saved then: the host's is newer once it shows a session.
        if (message.uiState && this.current === null) {
          this.filter = message.uiState.filter;
          if (message.uiState.sessionId && this.sessions.has(message.uiState.sessionId)) this.current = message.uiState.sessionId;
        }
        this.postSnapshot();
        return;
      case 'filter':
        this.filter = message.filter;
        this.postSnapshot();
        return;
      case 'selectSession':
        if (message.sessionId !== this.current) this.selectSession(message.sessionId);
        return;
      case 'renderReport':
        this.renderReports.answer(message.requestId, message.report);
        return;
    }
  }

  private sessionChoices(): SessionChoice[] {
    return [...this.sessions.values()].map(({ descriptor, ended }) => ({
      id: descriptor.id,
      label: descriptor.label,
      source: descriptor.source,
      tool: descriptor.tool,
      startedAt: descriptor.startedAt,
      ended,
    }));
  }

  private post(message: ToolToWebview): void {
    if (!this.panel || !this.ready) return;
    this.posting = true;
    const panel = this.panel;
    const done = (): void => {
      if (this.panel === panel) this.posting = false;
    };
    panel.webview.postMessage(message).then(done, done);
  }

  /** The session clock now, for live sessions (time windows keep moving without events). */
  private nowElapsedNs(tracked: TrackedToolSession): number {
    if (tracked.descriptor.source !== 'live' || tracked.ended) return 0;
    const started = Date.parse(tracked.descriptor.startedAt);
    return Number.isNaN(started) ? 0 : Math.max(0, (Date.now() - started) * 1e6);
  }

  private postSnapshot(): void {
    if (!this.panel || !this.ready) return;
    const tracked = this.current ? this.sessions.get(this.current) : undefined;
    this.sessionsChanged = false;
    this.lastPostAt = Date.now();
    this.post({
      type: 'snapshot',
      tool: this.tool,
      sessionId: tracked ? tracked.descriptor.id : null,
      sessions: this.sessionChoices(),
      snapshot: tracked ? tracked.aggregator.snapshot(this.filter, this.nowElapsedNs(tracked)) : null,
      filter: this.filter,
    });
  }

  private flush(): void {
    if (this.current !== null && this.rememberedSessionId !== this.current) this.remember();
    if (!this.panel || !this.ready || !this.panel.visible || this.posting) return;
    const tracked = this.current ? this.sessions.get(this.current) : undefined;
    const liveClock = tracked !== undefined && tracked.descriptor.source === 'live' && !tracked.ended && Date.now() - this.lastPostAt >= LIVE_REFRESH_MS;
    if (this.sessionsChanged || liveClock || (tracked?.aggregator.hasChanges ?? false)) this.postSnapshot();
  }

  /** Sets the webview's filter as if typed (tests and commands). */
  setFilter(filter: ToolFilter): void {
    if (this.panel && this.ready) void this.panel.webview.postMessage({ type: 'setFilter', filter } satisfies ToolToWebview);
  }

  renderReport(timeoutMs = 10_000): Promise<ToolRenderReport> {
    return this.renderReports.request(timeoutMs, (requestId) => void this.panel?.webview.postMessage({ type: 'requestRenderReport', requestId } satisfies ToolToWebview));
  }

  /** Brings the panel to the front and focuses it (its editor group becomes the active one). */
  focus(): void {
    this.panel?.reveal(undefined, false);
  }

  close(): void {
    this.panel?.dispose();
  }

  dispose(): void {
    this.panel?.dispose();
    this.detach();
    this.sessions.clear();
  }
}

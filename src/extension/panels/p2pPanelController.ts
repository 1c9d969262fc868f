import * as vscode from 'vscode';
import { access } from 'node:fs/promises';
import { P2pAggregator } from '../../core/p2p/p2pAggregator';
import type { NormalizedEvent } from '../../core/events/eventTypes';
import {
  DEFAULT_UI_STATE,
  parseFromWebview,
  parseUiState,
  type FromWebview,
  type P2pCounters,
  type P2pRenderReport,
  type P2pUiState,
  type PeerDetail,
  type SessionChoice,
  type ToWebview,
} from '../../shared/p2pProtocol';
import type { EventHub, SessionDescriptor } from '../eventHub';
import type { RecordingService } from '../recording/registerRecording';
import { webviewBuildRoot } from './webviewPageHtml';
import { connectWebviewPanel } from './webviewConnection';
import { RenderReportRequests } from './renderReportRequest';

export const P2P_PANEL_VIEW_TYPE = 'bitcoinUsdt.p2pPanel';
/** Tools whose sessions open the panel when they start. */
export const P2P_TOOLS: ReadonlySet<string> = new Set(['p2p-traffic', 'p2p-monitor']);
/** Sessions kept in the picker (each holds a bounded aggregator); the oldest ended ones go first. */
export const MAX_PANEL_SESSIONS = 8;
const FLUSH_INTERVAL_MS = 250;
const LAST_RECORDING_KEY = 'bitcoinUsdt.p2pPanel.lastRecording';

/** What integration tests see of the panel (through the extension's exports). */
export interface P2pPanelTestApi {
  readonly isOpen: boolean;
  readonly currentSessionId: string | null;
  /**
   * Asks the webview what it rendered (waits for the webview to be ready). `timeUpdates`: start (true) or end
   * (false, after this report) the timing of each update in the webview (RenderReportRequest.timeUpdates).
   */
  renderReport(timeoutMs?: number, options?: { readonly timeUpdates?: boolean }): Promise<P2pRenderReport>;
  /** Sessions that have a recording file (automatic recordings of live sessions, opened recordings). */
  recordings(): readonly { readonly sessionId: string; readonly path: string; readonly live: boolean }[];
  /** A session's counters as its model holds them (every snapshot and delta carries them to the page); undefined when not tracked. */
  sessionCounters(sessionId: string): P2pCounters | undefined;
}

interface TrackedSession {
  readonly descriptor: SessionDescriptor;
  readonly aggregator: P2pAggregator;
  ended: boolean;
}

const P2P_EVENTS: ReadonlySet<string> = new Set(['net:inbound_message', 'net:outbound_message', 'p2p:peer_totals', 'p2p:msg_type_totals']);

function isP2pEvent(event: NormalizedEvent): boolean {
  return P2P_EVENTS.has(event.event);
}

/**
 * The P2P traffic panel: one webview beside the editor, fed by an aggregator per P2P session (live or
 * replayed). Sends a snapshot when the webview asks (on load, and again each time it becomes visible,
 * since its context is not retained while hidden), then deltas every 250 ms while visible.
 */
export class P2pPanelController implements vscode.Disposable, P2pPanelTestApi {
  private panel: vscode.WebviewPanel | undefined;
  private connection: vscode.Disposable | undefined;
  private readonly disposables: vscode.Disposable[] = [];
  private ready = false;
  private readonly sessions = new Map<string, TrackedSession>();
  private current: string | null = null;
  private uiState: P2pUiState = DEFAULT_UI_STATE;
  /** The selected peer's messages the webview holds up to (sequence number). */
  private sentPeerId: string | null = null;
  private sentPeerSeq = 0;
  private sessionsChanged = false;
  private posting = false;
  private readonly renderReports = new RenderReportRequests<P2pRenderReport>({ what: 'the P2P panel', panel: () => this.panel, ready: () => this.ready });

  constructor(
    private readonly context: vscode.ExtensionContext,
    hub: EventHub,
    private readonly recordingService: RecordingService,
  ) {
    this.disposables.push(
      hub.onDidStartSession((session) => {
        if (P2P_TOOLS.has(session.tool)) this.track(session);
      }),
      hub.onDidReceiveEvents(({ session, events }) => {
        let tracked = this.sessions.get(session.id);
        // Raw message captures have a panel of their own; every other stream with P2P events shows here.
        if (!tracked && session.tool !== 'raw-p2p-msgs' && events.some(isP2pEvent)) tracked = this.track(session);
        tracked?.aggregator.ingestAll(events);
      }),
      hub.onDidEndSession(({ session, reason }) => {
        const tracked = this.sessions.get(session.id);
        if (!tracked) return;
        tracked.ended = true;
        tracked.aggregator.markEnded(reason);
        this.sessionsChanged = true;
      }),
      recordingService.recorder.onDidRecordSession((recorded) => {
        if (recorded.session.id === this.current) void this.rememberRecording(recorded.path);
      }),
    );
  }

  get isOpen(): boolean {
    return this.panel !== undefined;
  }

  get currentSessionId(): string | null {
    return this.current;
  }

  private track(session: SessionDescriptor): TrackedSession {
    const tracked: TrackedSession = { descriptor: session, aggregator: new P2pAggregator(), ended: false };
    this.sessions.set(session.id, tracked);
    this.evictOldSessions();
    this.selectSession(session.id);
    this.show(true); // a new session was asked for: bring its panel to the front
    return tracked;
  }

  private evictOldSessions(): void {
    for (const [id, tracked] of this.sessions) {
      if (this.sessions.size <= MAX_PANEL_SESSIONS) break;
      if (tracked.ended && id !== this.current) this.sessions.delete(id);
    }
  }

  private selectSession(id: string): void {
    if (!this.sessions.has(id)) return;
    // Peer ids belong to one node run: a peer selected in another session is another peer. (With no session
    // yet, the selection is the one a restored page brought back, for the same recording.)
    if (this.current !== null && this.current !== id) this.uiState = { ...this.uiState, selectedPeerId: null };
    this.current = id;
    this.sentPeerId = null;
    this.sentPeerSeq = 0;
    const file = this.recordingService.recorder.fileOf(id);
    if (file) void this.rememberRecording(file);
    this.postSnapshot();
  }

  private async rememberRecording(path: string): Promise<void> {
    await this.context.workspaceState.update(LAST_RECORDING_KEY, path);
  }

  /** Opens the panel beside the editor; `reveal`: also bring an open but hidden panel to the front. */
  show(reveal = false): void {
    if (this.panel) {
      if (reveal && !this.panel.visible) this.panel.reveal(undefined, true);
      return;
    }
    const panel = vscode.window.createWebviewPanel(
      P2P_PANEL_VIEW_TYPE,
      'P2P traffic',
      { viewColumn: vscode.ViewColumn.Beside, preserveFocus: true },
      { enableScripts: true, localResourceRoots: [webviewBuildRoot(this.context.extensionUri)], retainContextWhenHidden: false },
    );
    this.attach(panel);
  }

  /** Takes over a panel restored after a window reload and reloads the last session's recording. */
  async restore(panel: vscode.WebviewPanel, state: unknown): Promise<void> {
    this.uiState = parseUiState(state);
    this.attach(panel);
    if (this.sessions.size > 0) return;
    const last = this.context.workspaceState.get<string>(LAST_RECORDING_KEY);
    if (typeof last !== 'string' || last === '') return;
    if (!(await access(last).then(() => true, () => false))) return;
    await this.recordingService.openRecording(last);
  }

  private attach(panel: vscode.WebviewPanel): void {
    this.detach();
    this.panel = panel;
    this.ready = false;
    this.connection = connectWebviewPanel(panel, {
      extensionUri: this.context.extensionUri,
      page: { bundle: 'p2pPanel', title: 'P2P traffic', extraStyles: ['uPlot.min.css'] },
      parseMessage: parseFromWebview,
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

  private handleMessage(message: FromWebview): void {
    switch (message.type) {
      case 'ready':
        this.ready = true;
        // The host decides the session shown (the newest, or the one picked); the page's state may be older.
        if (message.uiState && this.current === null) this.uiState = message.uiState;
        this.postSnapshot();
        return;
      case 'uiState': {
        const peerChanged = message.uiState.selectedPeerId !== this.uiState.selectedPeerId;
        this.uiState = message.uiState;
        if (peerChanged) this.postPeerDetail();
        return;
      }
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

  private post(message: ToWebview): void {
    if (!this.panel || !this.ready) return;
    this.posting = true;
    const panel = this.panel;
    panel.webview.postMessage(message).then(
      () => {
        if (this.panel === panel) this.posting = false;
      },
      () => {
        if (this.panel === panel) this.posting = false;
      },
    );
  }

  private selectedDetail(tracked: TrackedSession, fromStart: boolean): PeerDetail | null {
    const peerId = this.uiState.selectedPeerId;
    if (peerId === null) {
      this.sentPeerId = null;
      this.sentPeerSeq = 0;
      return null;
    }
    const afterSeq = fromStart || this.sentPeerId !== peerId ? 0 : this.sentPeerSeq;
    const detail = tracked.aggregator.peerDetail(peerId, afterSeq);
    this.sentPeerId = peerId;
    this.sentPeerSeq = tracked.aggregator.latestMessageSeq(peerId);
    return detail;
  }

  private postSnapshot(): void {
    if (!this.panel || !this.ready) return;
    const tracked = this.current ? this.sessions.get(this.current) : undefined;
    this.sessionsChanged = false;
    this.post({
      type: 'snapshot',
      sessionId: tracked ? tracked.descriptor.id : null,
      sessions: this.sessionChoices(),
      snapshot: tracked ? tracked.aggregator.snapshot() : null,
      peerDetail: tracked ? this.selectedDetail(tracked, true) : null,
      uiState: { ...this.uiState, sessionId: this.current },
    });
  }

  private postPeerDetail(): void {
    const tracked = this.current ? this.sessions.get(this.current) : undefined;
    if (!tracked || !this.panel || !this.ready) return;
    this.post({ type: 'peerDetail', sessionId: tracked.descriptor.id, peerDetail: this.selectedDetail(tracked, true) });
  }

  private flush(): void {
    if (!this.panel || !this.ready || !this.panel.visible || this.posting) return;
    if (this.sessionsChanged) {
      this.sessionsChanged = false;
      this.post({ type: 'sessions', sessions: this.sessionChoices(), currentSessionId: this.current });
    }
    const tracked = this.current ? this.sessions.get(this.current) : undefined;
    if (!tracked) return;
    const peerId = this.uiState.selectedPeerId;
    const peerMoved = peerId !== null && tracked.aggregator.latestMessageSeq(peerId) !== this.sentPeerSeq;
    if (!tracked.aggregator.hasChanges && !peerMoved) return;
    const delta = tracked.aggregator.delta();
    this.post({ type: 'delta', sessionId: tracked.descriptor.id, delta, peerDetail: peerMoved ? this.selectedDetail(tracked, false) : null });
  }

  recordings(): readonly { readonly sessionId: string; readonly path: string; readonly live: boolean }[] {
    return this.recordingService.recorder.recordedSessions.map((r) => ({ sessionId: r.session.id, path: r.path, live: r.live }));
  }

  sessionCounters(sessionId: string): P2pCounters | undefined {
    return this.sessions.get(sessionId)?.aggregator.counters();
  }

  renderReport(timeoutMs = 10_000, options: { readonly timeUpdates?: boolean } = {}): Promise<P2pRenderReport> {
    return this.renderReports.request(timeoutMs, (requestId) => void this.panel?.webview.postMessage({ type: 'requestRenderReport', requestId, timeUpdates: options.timeUpdates } satisfies ToWebview));
  }

  dispose(): void {
    this.panel?.dispose();
    this.detach();
    for (const d of this.disposables) d.dispose();
    this.sessions.clear();
  }
}

import * as vscode from 'vscode';
import type { NormalizedEvent } from '../../core/events/eventTypes';
import { RawMessageStore } from '../../core/rawMessages/rawMessageStore';
import {
  DEFAULT_RAW_UI_STATE,
  HEX_BYTES_PER_ROW,
  MAX_HEX_RANGE,
  parseRawFromWebview,
  parseRawUiState,
  type FromWebview,
  type RawRenderReport,
  type RawUiState,
  type SelectedMessage,
  type SessionChoice,
  type ToWebview,
} from '../../shared/rawMessagesProtocol';
import type { EventHub, SessionDescriptor } from '../eventHub';
import { webviewBuildRoot } from '../panels/webviewPageHtml';
import { connectWebviewPanel } from '../panels/webviewConnection';
import { RenderReportRequests } from '../panels/renderReportRequest';

export const RAW_MESSAGES_PANEL_VIEW_TYPE = 'bitcoinUsdt.rawMessagesPanel';
export const RAW_MESSAGES_TOOL = 'raw-p2p-msgs';
/** Sessions held at once (each may hold up to 64 MiB of message bytes); the oldest ended ones go first. */
export const MAX_RAW_SESSIONS = 2;
const FLUSH_INTERVAL_MS = 250;

/** What integration tests see of the panel. */
export interface RawMessagesPanelTestApi {
  readonly isOpen: boolean;
  readonly currentSessionId: string | null;
  /** Asks the webview what it rendered (waits for the webview to be ready). */
  renderReport(timeoutMs?: number): Promise<RawRenderReport>;
  /** Filters and selects as the webview would (for tests that cannot click into the webview). */
  applyUiState(uiState: Partial<RawUiState>): void;
}

interface TrackedSession {
  readonly descriptor: SessionDescriptor;
  readonly store: RawMessageStore;
  ended: boolean;
}

function isRawMessageEvent(event: NormalizedEvent): boolean {
  return (event.event === 'net:inbound_message' || event.event === 'net:outbound_message') && 'msg' in event;
}

/**
 * The Raw P2P messages panel: the messages of a raw-p2p-msgs session with their bytes (bounded in the core
 * store), a filtered list the webview reads window by window, the selected message's bytes range by range
 * and its decoded tree (decoded here, never in the webview).
 */
export class RawMessagesPanelController implements vscode.Disposable, RawMessagesPanelTestApi {
  private panel: vscode.WebviewPanel | undefined;
  private connection: vscode.Disposable | undefined;
  private readonly disposables: vscode.Disposable[] = [];
  private ready = false;
  private readonly sessions = new Map<string, TrackedSession>();
  private current: string | null = null;
  private uiState: RawUiState = DEFAULT_RAW_UI_STATE;
  private sessionsChanged = false;
  private readonly renderReports = new RenderReportRequests<RawRenderReport>({ what: 'the raw messages panel', panel: () => this.panel, ready: () => this.ready });

  constructor(
    private readonly context: vscode.ExtensionContext,
    hub: EventHub,
  ) {
    this.disposables.push(
      hub.onDidStartSession((session) => {
        if (session.tool === RAW_MESSAGES_TOOL) this.track(session);
      }),
      hub.onDidReceiveEvents(({ session, events }) => {
        let tracked = this.sessions.get(session.id);
        if (!tracked && events.some(isRawMessageEvent)) tracked = this.track(session);
        tracked?.store.ingestAll(events);
      }),
      hub.onDidEndSession(({ session, reason }) => {
        const tracked = this.sessions.get(session.id);
        if (!tracked) return;
        tracked.ended = true;
        tracked.store.markEnded(reason);
        this.sessionsChanged = true;
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
    const tracked: TrackedSession = { descriptor: session, store: new RawMessageStore(), ended: false };
    tracked.store.setFilter(this.uiState.filter);
    this.sessions.set(session.id, tracked);
    for (const [id, other] of this.sessions) {
      if (this.sessions.size <= MAX_RAW_SESSIONS) break;
      if (other.ended && id !== session.id) this.sessions.delete(id);
    }
    this.selectSession(session.id);
    this.show(true); // a new session was asked for: bring its panel to the front
    return tracked;
  }

  private selectSession(id: string): void {
    const tracked = this.sessions.get(id);
    if (!tracked) return;
    if (this.current !== id) this.uiState = { ...this.uiState, selectedSeq: null, follow: true };
    this.current = id;
    tracked.store.setFilter(this.uiState.filter);
    this.postSnapshot();
  }

  /** Opens the panel beside the editor; `reveal`: also bring an open but hidden panel to the front. */
  show(reveal = false): void {
    if (this.panel) {
      if (reveal) this.panel.reveal(undefined, true);
      return;
    }
    const panel = vscode.window.createWebviewPanel(
      RAW_MESSAGES_PANEL_VIEW_TYPE,
      'Raw P2P messages',
      { viewColumn: vscode.ViewColumn.Beside, preserveFocus: true },
      { enableScripts: true, localResourceRoots: [webviewBuildRoot(this.context.extensionUri)], retainContextWhenHidden: false },
    );
    this.attach(panel);
  }

  /** Takes over a panel restored after a window reload (message bytes are not persisted: it starts empty). */
  restore(panel: vscode.WebviewPanel, state: unknown): void {
    this.uiState = { ...parseRawUiState(state), selectedSeq: null };
    this.attach(panel);
  }

  private attach(panel: vscode.WebviewPanel): void {
    this.detach();
    this.panel = panel;
    this.ready = false;
    this.connection = connectWebviewPanel(panel, {
      extensionUri: this.context.extensionUri,
      page: { bundle: 'rawMessagesPanel', title: 'Raw P2P messages' },
      parseMessage: parseRawFromWebview,
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
  }

  private currentTracked(): TrackedSession | undefined {
    return this.current ? this.sessions.get(this.current) : undefined;
  }

  applyUiState(uiState: Partial<RawUiState>): void {
    this.setUiState({ ...this.uiState, ...uiState });
    this.postSnapshot();
  }

  private setUiState(next: RawUiState): void {
    const previous = this.uiState;
    this.uiState = next;
    const tracked = this.currentTracked();
    if (!tracked) return;
    if (JSON.stringify(previous.filter) !== JSON.stringify(next.filter)) {
      tracked.store.setFilter(next.filter);
      this.post({ type: 'summary', sessionId: tracked.descriptor.id, sessions: null, summary: tracked.store.summary() });
    }
    if (previous.selectedSeq !== next.selectedSeq) this.postSelected();
  }

  private handleMessage(message: FromWebview): void {
    const tracked = this.currentTracked();
    switch (message.type) {
      case 'ready':
        this.ready = true;
        // A page re-created after being hidden brings the state it saved then; once the host shows a session
        // its own state is newer (a session may have started since), so the page's is used only until then.
        if (message.uiState && this.current === null) {
          this.uiState = message.uiState;
          if (this.uiState.sessionId && this.sessions.has(this.uiState.sessionId)) this.current = this.uiState.sessionId;
          this.currentTracked()?.store.setFilter(this.uiState.filter);
        }
        this.postSnapshot();
        return;
      case 'uiState':
        this.setUiState(message.uiState);
        return;
      case 'selectSession':
        if (message.sessionId !== this.current) this.selectSession(message.sessionId);
        return;
      case 'requestListWindow': {
        if (!tracked) return;
        const window = tracked.store.window(message.start, message.count);
        this.post({ type: 'listWindow', sessionId: tracked.descriptor.id, requestId: message.requestId, start: window.start, matching: tracked.store.matchingCount, rows: window.rows });
        return;
      }
      case 'requestHexRange': {
        if (!tracked) return;
        const offset = message.offset - (message.offset % HEX_BYTES_PER_ROW);
        const bytes = tracked.store.bytes(message.seq, offset, Math.min(message.length, MAX_HEX_RANGE));
        this.post({ type: 'hexRange', sessionId: tracked.descriptor.id, seq: message.seq, offset, hex: bytes ? Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex') : '' });
        return;
      }
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
    void this.panel.webview.postMessage(message).then(undefined, () => undefined);
  }

  private selectedMessage(tracked: TrackedSession): SelectedMessage | null {
    const seq = this.uiState.selectedSeq;
    if (seq === null) return null;
    const row = tracked.store.row(seq);
    if (!row) return null;
    return { row, available: true, decoded: tracked.store.decoded(seq) ?? null };
  }

  private postSelected(): void {
    const tracked = this.currentTracked();
    if (!tracked) return;
    const selected = this.selectedMessage(tracked);
    this.post({ type: 'selected', sessionId: tracked.descriptor.id, selected, index: selected ? (tracked.store.indexOf(selected.row.seq) ?? null) : null });
  }

  private postSnapshot(): void {
    if (!this.panel || !this.ready) return;
    const tracked = this.currentTracked();
    this.sessionsChanged = false;
    tracked?.store.takeChanged();
    this.post({
      type: 'snapshot',
      sessionId: tracked ? tracked.descriptor.id : null,
      sessions: this.sessionChoices(),
      summary: tracked ? tracked.store.summary() : null,
      uiState: { ...this.uiState, sessionId: this.current },
    });
    if (tracked) this.postSelected();
  }

  private flush(): void {
    if (!this.panel || !this.ready || !this.panel.visible) return;
    const tracked = this.currentTracked();
    if (!tracked) {
      if (this.sessionsChanged) this.postSnapshot();
      return;
    }
    const sessionsChanged = this.sessionsChanged;
    if (!tracked.store.takeChanged() && !sessionsChanged) return;
    this.sessionsChanged = false;
    this.post({ type: 'summary', sessionId: tracked.descriptor.id, sessions: sessionsChanged ? this.sessionChoices() : null, summary: tracked.store.summary() });
  }

  renderReport(timeoutMs = 10_000): Promise<RawRenderReport> {
    return this.renderReports.request(timeoutMs, (requestId) => void this.panel?.webview.postMessage({ type: 'requestRenderReport', requestId } satisfies ToWebview));
  }

  dispose(): void {
    this.panel?.dispose();
    this.detach();
    for (const d of this.disposables) d.dispose();
    this.sessions.clear();
  }
}

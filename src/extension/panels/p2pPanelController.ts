import { P2pAggregator } from '../../core/p2p/p2pAggregator';
import { P2P_PROFILE } from '../../core/p2p/p2pProfile';
import type { NormalizedEvent } from '../../core/events/eventTypes';
import {
  DEFAULT_UI_STATE,
  P2P_PAGE,
  type P2pPage,
  type P2pCounters,
  type P2pRenderReport,
  type P2pUiState,
  type PeerDetail,
} from '../../shared/p2pProtocol';
import type { NodeChoice } from '../../shared/panelProtocol';
import type { SessionDescriptor } from '../eventHub';
import { PanelHost, type OwnMessage, type PanelServices, type PanelSession } from './panelHost';


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
  /** The nodes of the session shown (a session over every process of a build; empty: one process). */
  nodeChoices(): NodeChoice[];
  /** The node shown (its key), null: all nodes. */
  readonly selectedNode: string | null;
  /** Picks a node in the page's selector as the user would (null: all nodes). */
  pickNode(key: string | null): void;
  /** Presses the header's "Kernel filter…" button as the user would (bitcoinUsdt.filterProbe for the session shown). */
  pressKernelFilter(): void;
  /** A session's counters as its model holds them (every snapshot and delta carries them to the page); undefined when not tracked. */
  sessionCounters(sessionId: string): P2pCounters | undefined;
}

const P2P_EVENTS: ReadonlySet<string> = new Set(['net:inbound_message', 'net:outbound_message', 'p2p:peer_totals', 'p2p:msg_type_totals']);

type P2pSession = PanelSession<P2pAggregator>;

/**
 * The P2P traffic panel: an aggregator per P2P session (live or replayed); a snapshot when the page asks, then
 * deltas every 250 ms while visible, and the selected peer's messages from where the page's copy ends.
 */
export class P2pPanelController extends PanelHost<P2pAggregator, P2pPage> implements P2pPanelTestApi {
  private uiState: P2pUiState = DEFAULT_UI_STATE;
  /** The selected peer's messages the webview holds up to (sequence number). */
  private sentPeerId: string | null = null;
  private sentPeerSeq = 0;

  constructor(services: PanelServices) {
    super(services, {
      id: 'p2p',
      viewType: 'bitcoinUsdt.p2pPanel',
      page: { bundle: 'p2pPanel', title: 'P2P', extraStyles: ['uPlot.min.css'] },
      what: 'the P2P panel',
      flushIntervalMs: 250,
      maxSessions: 8,
      protocol: P2P_PAGE,
      lastRecordingKey: 'bitcoinUsdt.p2pPanel.lastRecording',
      profile: P2P_PROFILE,
      recordingKind: 'a p2p-traffic or p2p-monitor recording',
    });
  }

  protected acceptsEvent(event: NormalizedEvent): boolean {
    return P2P_EVENTS.has(event.event);
  }

  protected createModel(descriptor: SessionDescriptor): P2pAggregator {
    // Over every process of a build, peer ids are each process's own.
    return new P2pAggregator({}, { perProcess: descriptor.pid === null });
  }

  protected restoreUiState(saved: P2pUiState): void {
    this.uiState = saved;
  }

  protected override willSelect(_next: P2pSession, previous: string | null): void {
    // Peer ids belong to one node run: a peer selected in another session is another peer. (With no session
    // yet, the selection is the one a restored page brought back, for the same recording.)
    if (previous !== null) this.uiState = { ...this.uiState, selectedPeerId: null };
    this.sentPeerId = null;
    this.sentPeerSeq = 0;
  }

  protected override nodeChanged(): void {
    // Another node's model: its messages are sent from the start (a peer key is the same in both models).
    this.sentPeerId = null;
    this.sentPeerSeq = 0;
  }

  protected pageReady(saved: P2pUiState | null): void {
    // The host decides the session shown (the newest, or the one picked); the page's state may be older.
    if (saved && this.current === null) this.uiState = saved;
  }

  protected handlePageMessage(message: OwnMessage<P2pPage>): void {
    const peerChanged = message.uiState.selectedPeerId !== this.uiState.selectedPeerId;
    this.uiState = message.uiState;
    const shown = this.shown;
    if (peerChanged && shown) this.post({ type: 'peerDetail', sessionId: shown.descriptor.id, peerDetail: this.selectedDetail(shown, true) });
  }

  private selectedDetail(shown: P2pSession, fromStart: boolean): PeerDetail | null {
    const peerId = this.uiState.selectedPeerId;
    if (peerId === null) {
      this.sentPeerId = null;
      this.sentPeerSeq = 0;
      return null;
    }
    const afterSeq = fromStart || this.sentPeerId !== peerId ? 0 : this.sentPeerSeq;
    const detail = shown.model.peerDetail(peerId, afterSeq);
    this.sentPeerId = peerId;
    this.sentPeerSeq = shown.model.latestMessageSeq(peerId);
    return detail;
  }

  protected postSnapshot(shown: P2pSession | undefined): void {
    this.sessionsChanged = false;
    this.post({
      type: 'snapshot',
      sessionId: shown ? shown.descriptor.id : null,
      sessions: this.sessionChoices(),
      snapshot: shown ? shown.model.snapshot() : null,
      peerDetail: shown ? this.selectedDetail(shown, true) : null,
      uiState: { ...this.uiState, sessionId: this.current },
    });
  }

  protected postDelta(shown: P2pSession | undefined): void {
    if (this.sessionsChanged) this.post(this.sessionsMessage());
    if (!shown) return;
    const peerId = this.uiState.selectedPeerId;
    const peerMoved = peerId !== null && shown.model.latestMessageSeq(peerId) !== this.sentPeerSeq;
    if (!shown.model.hasChanges && !peerMoved) return;
    const delta = shown.model.delta();
    this.post({ type: 'delta', sessionId: shown.descriptor.id, delta, peerDetail: peerMoved ? this.selectedDetail(shown, false) : null });
  }

  recordings(): readonly { readonly sessionId: string; readonly path: string; readonly live: boolean }[] {
    return this.services.recordings.recorder.recordedSessions.map((r) => ({ sessionId: r.session.id, path: r.path, live: r.live }));
  }

  sessionCounters(sessionId: string): P2pCounters | undefined {
    return this.sessions.get(sessionId)?.model.counters();
  }
}

import type * as vscode from 'vscode';
import type { NormalizedEvent } from '../../core/events/eventTypes';
import { NetworkModel, type SessionInfo } from '../../core/network/networkModel';
import { OtherEndNames } from '../../core/network/otherEnds';
import {
  DEFAULT_NETWORK_UI_STATE,
  NETWORK_PAGE,
  type NetworkPage,
  type NetworkRenderReport,
  type NetworkSnapshot,
  type NetworkUiState,
} from '../../shared/networkProtocol';
import type { SessionDescriptor } from '../eventHub';
import { PanelHost, type OwnMessage, type PanelModel, type PanelServices, type PanelSession } from '../panels/panelHost';

/** Sequence rows sent to the page (it draws only those in view). */
export const SEQUENCE_ROWS_SENT = 5_000;
/** The tools whose sessions feed the network: P2P messages and connections, blocks, the mempool. */
const NETWORK_TOOLS: ReadonlySet<string> = new Set(['p2p-traffic', 'raw-p2p-msgs', 'p2p-connections', 'connectblock-benchmark', 'mempool-monitor']);

/** How long after events arrive the other ends of unpaired loopback connections are looked up. */
const OTHER_END_DELAY_MS = 1_000;

/** What integration tests see of the panel. */
export interface NetworkPanelTestApi {
  readonly isOpen: boolean;
  renderReport(timeoutMs?: number): Promise<NetworkRenderReport>;
  /** The model's snapshot as the host holds it. */
  snapshot(): NetworkSnapshot;
  /** Chooses the two nodes of the sequence view, as the page's selects do (node keys). */
  selectPair(nodeA: string, nodeB: string): void;
  /** Starts an empty model, as the page's Clear does. */
  clear(): void;
  focus(): void;
  close(): void;
}

/** One session's feed into the shared network model. */
class NetworkSessionFeed implements PanelModel {
  constructor(
    private readonly network: () => NetworkModel,
    private readonly sessionId: string,
  ) {}

  ingestAll(events: readonly NormalizedEvent[]): void {
    this.network().ingest(this.sessionId, events);
  }

  markEnded(): void {
    this.network().endSession(this.sessionId);
  }
}

/**
 * The Network panel: every node of every session of the network tools (live or replayed) in one model — the
 * nodes, the connections between them, and the message sequence of two chosen nodes. Unlike the other panels
 * it shows all sessions at once (one session per node, or one every-process session), so it has no session
 * picker; the page's Clear starts an empty model. Sent whole (bounded) at most every 500 ms while visible.
 */
export class NetworkPanelController extends PanelHost<NetworkSessionFeed, NetworkPage> implements NetworkPanelTestApi {
  private network = new NetworkModel();
  private readonly feeds = new Map<string, NetworkSessionFeed>();
  private readonly fed = new Map<string, SessionInfo>();
  private uiState: NetworkUiState = DEFAULT_NETWORK_UI_STATE;
  private uiChanged = false;
  private readonly subscriptions: vscode.Disposable[];
  private readonly otherEnds = new OtherEndNames();
  private otherEndsTimer: NodeJS.Timeout | undefined;
  private otherEndsRunning = false;

  constructor(services: PanelServices) {
    super(services, {
      id: 'network',
      viewType: 'bitcoinUsdt.networkPanel',
      page: { bundle: 'networkPanel', title: 'Network' },
      what: 'the Network panel',
      flushIntervalMs: 500,
      maxSessions: 1,
      protocol: NETWORK_PAGE,
    });
    const { hub } = services;
    this.subscriptions = [
      hub.onDidStartSession((session) => this.feed(session)),
      hub.onDidReceiveEvents(({ session, events }) => {
        const feed = this.feeds.get(session.id);
        if (!feed) return;
        feed.ingestAll(events);
        this.scheduleOtherEnds();
      }),
      hub.onDidEndSession(({ session }) => {
        this.feeds.get(session.id)?.markEnded();
        this.feeds.delete(session.id);
        this.fed.delete(session.id);
      }),
    ];
    for (const session of hub.activeSessions) this.feed(session);
  }

  private feed(session: SessionDescriptor): void {
    if (!NETWORK_TOOLS.has(session.tool) || this.feeds.has(session.id)) return;
    const info: SessionInfo = { id: session.id, pid: session.pid, startedAt: session.startedAt };
    this.fed.set(session.id, info);
    this.network.addSession(info);
    this.feeds.set(session.id, this.createModel(session));
  }

  /**
   * Names the other ends of unpaired loopback connections a little after events arrive (the traced other end's
   * events may be on their way), while the connections are open; one look-up at a time.
   */
  private scheduleOtherEnds(): void {
    if (this.otherEndsTimer !== undefined || this.otherEndsRunning) return;
    this.otherEndsTimer = setTimeout(() => {
      this.otherEndsTimer = undefined;
      this.otherEndsRunning = true;
      const network = this.network;
      this.otherEnds
        .nameUnpaired(network)
        .then((named) => {
          if (named && network === this.network) this.refresh();
        })
        .catch(() => undefined)
        .finally(() => (this.otherEndsRunning = false));
    }, OTHER_END_DELAY_MS);
  }

  protected acceptsEvent(): boolean {
    return false;
  }

  protected createModel(descriptor: SessionDescriptor): NetworkSessionFeed {
    return new NetworkSessionFeed(() => this.network, descriptor.id);
  }

  protected restoreUiState(saved: NetworkUiState): void {
    this.uiState = saved;
  }

  protected pageReady(saved: NetworkUiState | null): void {
    if (saved) this.uiState = saved;
  }

  protected handlePageMessage(message: OwnMessage<NetworkPage>): void {
    if (message.type === 'uiState') {
      this.uiState = message.uiState;
      this.uiChanged = true;
    } else if (message.type === 'clear') {
      this.clear();
      return;
    }
    this.refresh();
  }

  clear(): void {
    // Sessions still running keep feeding the new model from here on.
    this.network = new NetworkModel();
    for (const info of this.fed.values()) this.network.addSession(info);
    this.uiChanged = true;
    this.refresh();
  }

  /**
   * The pair shown: the page's choice when both nodes exist, else the two ends of the newest connection between
   * traced nodes (a functional test's node0 and node1, not the cache nodes it ran first), else the first two nodes.
   */
  private pair(snapshot: NetworkSnapshot): { a: string | null; b: string | null } {
    const keys = snapshot.nodes.map((n) => n.key);
    const connected = snapshot.connections.filter((c) => c.state === 'matched' && c.toNode !== null).at(-1);
    const [firstA, firstB] = connected ? [connected.toNode ?? '', connected.fromNode].sort() : keys;
    const a = this.uiState.nodeA !== null && keys.includes(this.uiState.nodeA) ? this.uiState.nodeA : (firstA ?? null);
    const b = this.uiState.nodeB !== null && keys.includes(this.uiState.nodeB) && this.uiState.nodeB !== a
      ? this.uiState.nodeB
      : (firstB !== undefined && firstB !== a ? firstB : (keys.find((k) => k !== a) ?? null));
    return { a, b };
  }

  protected postSnapshot(_shown: PanelSession<NetworkSessionFeed> | undefined): void {
    this.network.takeChanged();
    this.uiChanged = false;
    const snapshot = this.network.snapshot();
    const { a, b } = this.pair(snapshot);
    const sequence = a !== null && b !== null ? this.network.sequence(a, b, SEQUENCE_ROWS_SENT, this.uiState.showNodeEvents) : null;
    this.post({ type: 'network', snapshot, sequence, uiState: { ...this.uiState, nodeA: a, nodeB: b } });
  }

  protected postDelta(shown: PanelSession<NetworkSessionFeed> | undefined): void {
    if (this.network.takeChanged() || this.uiChanged) this.postSnapshot(shown);
  }

  snapshot(): NetworkSnapshot {
    return this.network.snapshot();
  }

  selectPair(nodeA: string, nodeB: string): void {
    this.uiState = { ...this.uiState, nodeA, nodeB };
    this.refresh();
  }

  override dispose(): void {
    clearTimeout(this.otherEndsTimer);
    for (const s of this.subscriptions) s.dispose();
    super.dispose();
  }
}

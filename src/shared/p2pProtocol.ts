// The typed messages between the extension host and the P2P traffic webview (after vscode-hexeditor's
// shared/protocol.ts): one interface per message, `ToWebview` / `FromWebview` unions narrowed by `type`.
//
// Numbers: peer ids are int64 in Bitcoin Core and cross as decimal strings. Message and byte counters,
// sizes and elapsed nanoseconds cross as numbers: they are sums of message sizes (≤ 4 MB each) and
// nanoseconds since the session started, far below 2^53 for any real session.

import type { DataFrameTimes, UpdateTiming } from './panelTiming';
import { isRecord, pageProtocol, sessionIdOrNull, type CommonFromWebview, type PageProtocol, type PageTypes, type ComparisonMessage, type ComparisonReport, type NodeSelectorReport, type NodesMessage, type PickNodeMessage, type PressKernelFilterMessage, type RenderReportRequest, type SecondBuckets, type SessionChoice, type SessionsMessage, type ActiveElementCounts, type UiStateMessage } from './panelProtocol';
import type { AccountCounts } from './sessionCounts';

/** Decimal string of Bitcoin Core's int64 peer id. */
export type PeerId = string;

export type Direction = 'in' | 'out';

export interface PeerRow {
  /** The peer's key: its id, or `pid:id` in a session over every process (ids are each process's own). */
  readonly id: PeerId;
  /** The bitcoind process whose peer this is (null: not known, older recordings). */
  readonly pid: number | null;
  readonly connType: string;
  readonly addr: string;
  readonly msgsIn: number;
  readonly bytesIn: number;
  readonly msgsOut: number;
  readonly bytesOut: number;
  /** Elapsed ns of the first and latest message (or totals change) of this peer. */
  readonly firstSeenNs: number;
  readonly lastActivityNs: number;
  /** Counts come from the kernel's p2p:peer_totals (exact) rather than from individual messages. */
  readonly kernelTotals: boolean;
}

export interface RecentMessage {
  /** Position in this peer's message stream since the session started (1-based). */
  readonly seq: number;
  readonly elapsedNs: number;
  readonly direction: Direction;
  /** null: one of the message types beyond the kept-types cap (the name was not kept). */
  readonly msgType: string | null;
  readonly size: number;
}

export interface MessageTypeRow {
  /** null: all message types beyond the kept-types cap together. */
  readonly msgType: string | null;
  readonly msgsIn: number;
  readonly bytesIn: number;
  readonly msgsOut: number;
  readonly bytesOut: number;
}

export type RateSeries = SecondBuckets<'msgsIn' | 'msgsOut' | 'bytesIn' | 'bytesOut'>;

export interface NamedCount {
  readonly name: string;
  readonly count: number;
}

/** The P2P session's counts: the session account's (but `delivered`: messages are counted in and out) and the peers'. */
export interface P2pCounters extends Omit<AccountCounts, 'delivered'> {
  readonly peers: number;
  readonly peersEvicted: number;
  readonly msgsIn: number;
  readonly bytesIn: number;
  readonly msgsOut: number;
  readonly bytesOut: number;
  /** Messages whose type was not kept because too many distinct types were seen. */
  readonly messagesOfOverflowTypes: number;
}

export interface SessionNote {
  readonly level: 'info' | 'warning' | 'error';
  readonly message: string;
}

export interface SessionStatus {
  readonly tool: string;
  readonly binary: string | null;
  readonly pid: number | null;
  readonly attachedProbes: number | null;
  readonly ended: boolean;
  readonly endReason: string | null;
  /** The filters the kernel applies (session:start's `filters`, as "peer 3, type tx"); null: every event is streamed. */
  readonly kernelFilter: string | null;
  /** The latest session:message notes (bounded). */
  readonly notes: readonly SessionNote[];
}

/** The whole model of one session, sent when the webview asks for it or becomes visible again. */
export interface P2pSnapshot {
  readonly peers: readonly PeerRow[];
  readonly messageTypes: readonly MessageTypeRow[];
  readonly rates: RateSeries;
  readonly counters: P2pCounters;
  readonly session: SessionStatus;
}

/** What changed since the previous snapshot or delta. */
export interface P2pDelta {
  readonly peers: readonly PeerRow[];
  readonly removedPeerIds: readonly PeerId[];
  readonly messageTypes: readonly MessageTypeRow[];
  /** Buckets from the first changed second to the newest; replaces those seconds. */
  readonly rates: RateSeries;
  readonly counters: P2pCounters;
  readonly session: SessionStatus | null;
}

export interface PeerMessageTypeRow {
  readonly msgType: string | null;
  readonly msgsIn: number;
  readonly msgsOut: number;
}

/** The selected peer's recent messages (in time order) and its per-type counts. */
export interface PeerDetail {
  readonly peerId: PeerId;
  /** true: `messages` replaces what the webview holds; false: append them. */
  readonly replace: boolean;
  readonly messages: readonly RecentMessage[];
  readonly messageTypes: readonly PeerMessageTypeRow[];
  /** The peer is no longer in the model (evicted). */
  readonly gone: boolean;
}

export type { SessionChoice, SessionsMessage } from './panelProtocol';

export type SortColumn = 'id' | 'connType' | 'addr' | 'msgsIn' | 'bytesIn' | 'msgsOut' | 'bytesOut' | 'lastActivity';

export const SORT_COLUMNS: readonly SortColumn[] = ['id', 'connType', 'addr', 'msgsIn', 'bytesIn', 'msgsOut', 'bytesOut', 'lastActivity'];

/** The webview's UI state: kept by vscode.setState and sent to the host for restore. */
export interface P2pUiState {
  readonly sortColumn: SortColumn;
  readonly sortDescending: boolean;
  readonly filterText: string;
  /** '' = all connection types */
  readonly connTypeFilter: string;
  readonly selectedPeerId: PeerId | null;
  readonly sessionId: string | null;
}

export const DEFAULT_UI_STATE: P2pUiState = {
  sortColumn: 'msgsIn',
  sortDescending: true,
  filterText: '',
  connTypeFilter: '',
  selectedPeerId: null,
  sessionId: null,
};

/** What the webview rendered, for integration tests (the webview DOM is not reachable from the host). */
export interface P2pRenderReport extends ActiveElementCounts {
  readonly sessionId: string | null;
  /** The session's state as the header shows it ("Live · p2p-traffic · …", "p2p-traffic · waiting for the password …"). */
  readonly sessionState: string;
  /** The header offers "Kernel filter…" (a running session whose tool takes kernel filters). */
  readonly kernelFilterShown: boolean;
  /** The A/B section (media/shared/comparisonView.ts). */
  readonly comparison: ComparisonReport;
  /** The node selector (sessions over every process of a build). */
  readonly nodes: NodeSelectorReport;
  readonly peerRowCount: number;
  /** Pixels of the peer table's last column beyond the table's visible box or the panel (0: every column in view). */
  readonly peerTableCutPx: number;
  readonly totalPeers: number;
  /** `node`: the Node column's text (all nodes of an every-process session shown), else absent. */
  readonly firstRows: readonly {
    readonly id: string;
    readonly addr: string;
    readonly connType: string;
    readonly node?: string;
    readonly msgsIn: number;
    readonly bytesIn: number;
    readonly msgsOut: number;
    readonly bytesOut: number;
  }[];
  readonly selectedPeerId: PeerId | null;
  readonly messageRowCount: number;
  readonly firstMessageTypes: readonly string[];
  readonly messageTypeRowCount: number;
  readonly lostText: string;
  readonly truncatedText: string;
  readonly lostAlarm: boolean;
  /** The summary's "Received" and "Sent" values as shown (e.g. "1,234 msgs · 56.7 KiB"). */
  readonly receivedText: string;
  readonly sentText: string;
  /** The note over the peer table in a session filtered in the kernel ('' when hidden). */
  readonly kernelFilterNote: string;
  readonly chartCanvasCount: number;
  readonly dataFrames: DataFrameTimes;
  /** Each update (delta or peer detail and its frame) since the request that started the timing, while it runs. */
  readonly updateTimings?: readonly UpdateTiming[];
}

// ---- host → webview ----

export interface SnapshotMessage {
  readonly type: 'snapshot';
  readonly sessionId: string | null;
  readonly sessions: readonly SessionChoice[];
  readonly snapshot: P2pSnapshot | null;
  readonly peerDetail: PeerDetail | null;
  /** UI state to restore (the host's copy; used when the webview has none of its own). */
  readonly uiState: P2pUiState;
}

export interface DeltaMessage {
  readonly type: 'delta';
  readonly sessionId: string;
  readonly delta: P2pDelta;
  readonly peerDetail: PeerDetail | null;
}

export interface PeerDetailMessage {
  readonly type: 'peerDetail';
  readonly sessionId: string;
  readonly peerDetail: PeerDetail | null;
}

export type ToWebview = SessionsMessage | NodesMessage | PickNodeMessage | PressKernelFilterMessage | SnapshotMessage | DeltaMessage | PeerDetailMessage | RenderReportRequest | ComparisonMessage;

// ---- webview → host ----

export type FromWebview = CommonFromWebview<P2pUiState, P2pRenderReport> | UiStateMessage<P2pUiState>;

/** Validates a UI state coming from webview storage or postMessage; falls back field by field. */
export function parseUiState(value: unknown): P2pUiState {
  if (!isRecord(value)) return DEFAULT_UI_STATE;
  const sortColumn = SORT_COLUMNS.find((c) => c === value.sortColumn) ?? DEFAULT_UI_STATE.sortColumn;
  return {
    sortColumn,
    sortDescending: typeof value.sortDescending === 'boolean' ? value.sortDescending : DEFAULT_UI_STATE.sortDescending,
    filterText: typeof value.filterText === 'string' ? value.filterText.slice(0, 500) : '',
    connTypeFilter: typeof value.connTypeFilter === 'string' ? value.connTypeFilter.slice(0, 100) : '',
    // A peer id, or `pid:id` in a session over every process (PeerRow.id).
    selectedPeerId: typeof value.selectedPeerId === 'string' && /^(\d{1,10}:)?-?\d{1,20}$/.test(value.selectedPeerId) ? value.selectedPeerId : null,
    sessionId: sessionIdOrNull(value.sessionId),
  };
}


export type P2pPage = PageTypes<P2pUiState, FromWebview, ToWebview, P2pRenderReport>;
export const P2P_PAGE: PageProtocol<P2pPage> = pageProtocol<P2pUiState, UiStateMessage<P2pUiState>, ToWebview, P2pRenderReport>(parseUiState, (message) =>
  message.type === 'uiState' ? { type: 'uiState', uiState: parseUiState(message.uiState) } : undefined,
);
/** Narrows an untyped postMessage payload from the page; unknown shapes give undefined. */
export const parseFromWebview = P2P_PAGE.parseFromPage;

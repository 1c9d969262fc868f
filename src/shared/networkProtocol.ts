// The Network panel (src/extension/networkPanel/) and its page (media/networkPanel/): the traced nodes, the
// connections between them with their messages, and the message sequence of two chosen nodes. The model is
// src/core/network/networkModel.ts. Every string here (node names, addresses, message types) is untrusted.

import { isRecord, pageProtocol, type CommonFromWebview, type PageProtocol, type PageTypes, type SessionsMessage, type ActiveElementCounts, type UiStateMessage } from './panelProtocol';

export interface NetworkNodeRow {
  /** The node's key (its datadir, or `pid:N` when unknown). */
  readonly key: string;
  readonly name: string;
  readonly run: string | null;
  readonly chain: string | null;
  readonly p2pPort: number | null;
  /** Every pid the node had (restarts), oldest first; `alive`: the newest has not exited. */
  readonly pids: readonly number[];
  readonly alive: boolean;
  readonly peers: number;
  readonly msgsIn: number;
  readonly msgsOut: number;
  readonly bytesIn: number;
  readonly bytesOut: number;
}

/** One direction of a connection: messages sent by `from`, received by `to`. */
export interface DirectionCounts {
  readonly sent: number;
  readonly received: number;
  readonly paired: number;
  /** Sends not (yet) received: in flight while both traces run. */
  readonly inFlight: number;
  /** Sends the receiver's trace never had (lost, or before its trace started). */
  readonly unmatchedSends: number;
  /** Receives whose send the sender's trace never had. */
  readonly unmatchedReceives: number;
  readonly latencyMeanNs: number | null;
  readonly latencyMinNs: number | null;
  readonly latencyMaxNs: number | null;
}

export type ConnectionState = 'matched' | 'peer not traced' | 'other end not found';

export interface NetworkConnectionRow {
  readonly id: string;
  /** The node that opened the connection (outbound side), or the traced inbound side when the opener is not traced. */
  readonly fromNode: string;
  readonly fromPeerId: string;
  readonly toNode: string | null;
  readonly toPeerId: string | null;
  /** The address the `from` side sees. */
  readonly peerAddr: string;
  readonly connType: string;
  readonly inbound: boolean;
  readonly state: ConnectionState;
  /**
   * The other end when it is not a traced node, as found from /proc while the connection was open (untrusted: it
   * comes from a command line): `test framework (feature_x.py)`, `python3 x.py (pid N)`, `bitcoind (pid N), not
   * traced`, `not a traced node` (its process cannot be read); null when not known.
   */
  readonly otherEnd: string | null;
  /** [from → to, to → from]; for a connection whose other end is not traced, what `from` sent and received. */
  readonly directions: readonly [DirectionCounts, DirectionCounts];
}

export interface ClockNote {
  /** Sessions (separate clocks) feeding the model. */
  readonly clocks: number;
  /**
   * How the clocks were aligned: one clock; from message pairs (± uncertainty); sessions without pairs (another
   * tool on the same node) by when their events arrived (`clock` events, to about a millisecond), or, in
   * recordings without them, by the sessions' start times (to about a second: the probe attaches after it starts).
   */
  readonly alignment: 'one clock' | 'message pairs' | 'arrival times' | 'start times';
  readonly uncertaintyNs: number | null;
}

export interface NetworkSnapshot {
  readonly nodes: readonly NetworkNodeRow[];
  readonly connections: readonly NetworkConnectionRow[];
  readonly clock: ClockNote;
  readonly sessions: number;
}

export type SequenceStatus = 'paired' | 'in flight' | 'not received' | 'send not traced';

export interface SequenceRow {
  readonly kind: 'message';
  /** Aligned time of the row (the send, or the receive when the send is unknown), ns. */
  readonly timeNs: number;
  readonly from: string;
  readonly to: string;
  readonly msgType: string;
  readonly msgSize: number;
  readonly connectionId: string;
  readonly latencyNs: number | null;
  readonly status: SequenceStatus;
}

export interface SequenceNodeEventRow {
  readonly kind: 'node';
  readonly timeNs: number;
  readonly node: string;
  /** `block`, `mempool`. */
  readonly category: string;
  readonly text: string;
  /** Its session has no message pairs with the others: placed by arrival or start time (≈). */
  readonly approximate: boolean;
}

export type SequenceEntry = SequenceRow | SequenceNodeEventRow;

export interface MessageSequence {
  readonly nodeA: string;
  readonly nodeB: string;
  readonly rows: readonly SequenceEntry[];
  /** Rows of this pair older than the ones kept (bounded memory); counts in the connection table stay exact. */
  readonly dropped: number;
  readonly total: number;
}

export interface NetworkUiState {
  readonly nodeA: string | null;
  readonly nodeB: string | null;
  /** Show blocks and mempool events in the sequence. */
  readonly showNodeEvents: boolean;
}

export const DEFAULT_NETWORK_UI_STATE: NetworkUiState = { nodeA: null, nodeB: null, showNodeEvents: true };

export function parseNetworkUiState(state: unknown): NetworkUiState {
  if (!isRecord(state)) return DEFAULT_NETWORK_UI_STATE;
  const key = (value: unknown): string | null => (typeof value === 'string' ? value.slice(0, 4096) : null);
  return { nodeA: key(state.nodeA), nodeB: key(state.nodeB), showNodeEvents: state.showNodeEvents !== false };
}

export interface NetworkRenderReport extends ActiveElementCounts {
  readonly nodes: readonly string[];
  readonly connectionRows: number;
  /** Connection rows as drawn: "node0 → node1 manual matched 12/12". */
  readonly connectionTexts: readonly string[];
  /** Pixels of the connections table's last column beyond its section or the panel (0: every column in view). */
  readonly connectionTableCutPx: number;
  /** The same for the nodes table. */
  readonly nodeTableCutPx: number;
  readonly sequence: {
    readonly nodeA: string | null;
    readonly nodeB: string | null;
    readonly total: number;
    /** Rows in the DOM now (virtual: only those in view). */
    readonly renderedRows: number;
    readonly firstRows: readonly string[];
    readonly paired: number;
    readonly unpaired: number;
  };
}

// ---- host → page ----

export interface NetworkSnapshotMessage {
  readonly type: 'network';
  readonly snapshot: NetworkSnapshot;
  readonly sequence: MessageSequence | null;
  readonly uiState: NetworkUiState;
}

export type NetworkToWebview = NetworkSnapshotMessage | SessionsMessage | { readonly type: 'requestRenderReport'; readonly requestId: number };

// ---- page → host ----

/** Start an empty model (the sessions still running go on feeding it). */
export interface NetworkClearMessage {
  readonly type: 'clear';
}

export type NetworkFromWebview = CommonFromWebview<NetworkUiState, NetworkRenderReport> | UiStateMessage<NetworkUiState> | NetworkClearMessage;


export type NetworkPage = PageTypes<NetworkUiState, NetworkFromWebview, NetworkToWebview, NetworkRenderReport>;
export const NETWORK_PAGE: PageProtocol<NetworkPage> = pageProtocol<NetworkUiState, UiStateMessage<NetworkUiState> | NetworkClearMessage, NetworkToWebview, NetworkRenderReport>(parseNetworkUiState, (message) => {
  if (message.type === 'uiState') return { type: 'uiState', uiState: parseNetworkUiState(message.uiState) };
  if (message.type === 'clear') return { type: 'clear' };
  return undefined;
});
/** Narrows an untyped postMessage payload from the page; unknown shapes give undefined. */
export const parseNetworkFromWebview = NETWORK_PAGE.parseFromPage;

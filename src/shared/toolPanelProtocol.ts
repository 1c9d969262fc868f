// The typed messages between the extension host and the tool panels' webview (one webview app for the
// p2p-connections, utxocache-flush, utxos, mempool-monitor and coin-selection tools). One interface per
// message, `ToWebview` / `FromWebview` unions narrowed by `type`, as in p2pProtocol.ts.
//
// Numbers: peer ids, fees, values, targets and waste are int64 in Bitcoin Core and cross as decimal strings.
// Counters, sizes, durations in µs and elapsed nanoseconds cross as numbers (far below 2^53 in any session).
// Every view is bounded: the host sends at most the newest MAX_*_ROWS rows that pass the filter.

import type { UtxoCacheFlushEvent } from '../core/events/bpftraceToolEventTypes';
import { TOOL_PANEL_TOOLS, TOOL_TITLES, type ToolPanelTool } from '../core/tools/toolManifest';
import type { ChartReport } from './chartAxis';
import type { NamedCount, SessionStatus } from './p2pProtocol';
import type { DataFrameTimes } from './panelTiming';
import { isRecord, pageProtocol, sessionIdOrNull, type CommonFromWebview, type PageProtocol, type PageTypes, type ComparisonMessage, type ComparisonReport, type NodeSelectorReport, type NodesMessage, type PickNodeMessage, type PressKernelFilterMessage, type RenderReportRequest, type SecondBuckets, type SessionChoice, type SessionsMessage, type ActiveElementCounts } from './panelProtocol';
import type { AccountCounts } from './sessionCounts';

export type { NamedCount, SessionNote, SessionStatus } from './p2pProtocol';
export type { SessionChoice } from './panelProtocol';

export type { ToolPanelTool } from '../core/tools/toolManifest';
export { TOOL_PANEL_TOOLS };

/**
 * Tab titles, short so that six tabs fit beside the source (1600×1000); a tool without one here has its
 * manifest title (probes/tools.json), which must then be short too (test/unit/toolManifest.test.ts).
 */
const SHORT_TITLES: Readonly<Partial<Record<ToolPanelTool, string>>> = {
  'p2p-connections': 'Connections',
  'utxocache-flush': 'Flushes',
  utxos: 'UTXO ops',
  'mempool-monitor': 'Mempool',
  'coin-selection': 'Coin selection',
  'trace-tracepoint': 'Trace a tracepoint',
};

export const TOOL_PANEL_TITLES: Readonly<Record<ToolPanelTool, string>> = Object.fromEntries(
  TOOL_PANEL_TOOLS.map((tool) => [tool, SHORT_TITLES[tool] ?? TOOL_TITLES[tool]]),
) as Record<ToolPanelTool, string>;

export function isToolPanelTool(value: unknown): value is ToolPanelTool {
  return typeof value === 'string' && (TOOL_PANEL_TOOLS as readonly string[]).includes(value);
}

/** Rows the host sends per table (the newest that pass the filter). */
export const MAX_SENT_ROWS = 1_000;

/** Decimal string of an int64 (peer ids, sat amounts). */
export type Int64Text = string;

/** A tool session's counts: the session account's. */
export type ToolCounters = AccountCounts;

// ---------------- p2p-connections ----------------

export type ConnectionDirection = 'inbound' | 'outbound';

export interface MisbehavingMark {
  readonly elapsedNs: number;
  readonly message: string;
}

export interface ConnectionRow {
  /** The bitcoind process of the event (sessions over every process of a build name each row's node). */
  readonly pid?: number;
  /** Unique per connection in the session (a peer id is used once by Bitcoin Core, but stay safe). */
  readonly key: string;
  readonly peerId: Int64Text;
  readonly addr: string;
  readonly connType: string;
  readonly network: number | null;
  readonly networkName: string;
  /** null: only seen closing (opened before the session started). */
  readonly direction: ConnectionDirection | null;
  /** Connections of that direction including this one, when it opened. */
  readonly existing: Int64Text | null;
  readonly openedNs: number | null;
  readonly endedNs: number | null;
  readonly endKind: 'closed' | 'evicted' | null;
  /** UNIX seconds the connection was established (from the close/evict event). */
  readonly timeEstablished: Int64Text | null;
  /** Connection lifetime in ns, when it is known (opened and ended in the session, or established time known). */
  readonly durationNs: number | null;
  readonly misbehaving: readonly MisbehavingMark[];
  readonly misbehavingCount: number;
  /** Open when the probe attached (from the node's getpeerinfo), not seen opening. */
  readonly openAtAttach: boolean;
  /** Messages of this peer id in the P2P traffic session in the hub (null: no such session or no messages). */
  readonly msgsIn: number | null;
  readonly msgsOut: number | null;
}

export interface ConnectionsView {
  readonly tool: 'p2p-connections';
  readonly rows: readonly ConnectionRow[];
  /** Connections that pass the filter (rows holds the newest MAX_SENT_ROWS of them). */
  readonly matchingRows: number;
  readonly totalConnections: number;
  /** Connections dropped from memory (oldest ended first) to stay bounded. */
  readonly forgottenConnections: number;
  readonly inbound: number;
  readonly outbound: number;
  readonly closed: number;
  readonly evicted: number;
  readonly misbehaving: number;
  readonly open: number;
  /** The P2P session whose message counts are joined in, if any. */
  readonly trafficSession: string | null;
  /** Connections open at the attach (getpeerinfo); null: not known (see atAttachNote). */
  readonly openAtAttach: number | null;
  /** Why the connections open at the attach are not listed, when they are not (null: listed, or not asked yet). */
  readonly atAttachNote: string | null;
}

// ---------------- trace-tracepoint (any tracepoint, generated probe) ----------------

/** Value columns the panel has: bpftrace 0.17 reads arg0..arg5, so later arguments are never read. */
export const TRACE_VALUE_COLUMNS = 6;

/** One argument's reading, as the session's spec says (`kind`: u8…s64, str, hex, hash, skip). */
export interface TraceColumn {
  readonly index: number;
  readonly kind: string;
  readonly bytes: number;
  /** In words: "string ≤ 71 bytes", "hash (display order)". */
  readonly label: string;
}

export interface TraceRow {
  /** The bitcoind process of the event (sessions over every process of a build name each row's node). */
  readonly pid?: number;
  readonly seq: number;
  readonly elapsedNs: number;
  /** One per argument: decimal integers, text (untrusted), lowercase hex; null: not read. */
  readonly values: readonly (string | null)[];
}

export interface TraceView {
  readonly tool: 'trace-tracepoint';
  /** provider:name, null before the session said what it reads. */
  readonly tracepoint: string | null;
  readonly columns: readonly TraceColumn[];
  readonly rows: readonly TraceRow[];
  readonly matchingRows: number;
  readonly totalHits: number;
  readonly forgottenHits: number;
}

// ---------------- utxocache-flush ----------------

/**
 * One flush: every field of its record as decoded (`utxocache:flush` in eventSchema.ts, so a field added there
 * reaches the page with no change here; `mode_name` is the decoder's or, for an old recording, the current name),
 * numbered in the session.
 */
export type FlushRow = UtxoCacheFlushEvent & {
  readonly seq: number;
  readonly elapsedNs: number;
};

export interface FlushView {
  readonly tool: 'utxocache-flush';
  readonly rows: readonly FlushRow[];
  readonly matchingRows: number;
  readonly totalFlushes: number;
  readonly forgottenFlushes: number;
  readonly byMode: readonly NamedCount[];
  readonly totalDurationUs: number;
  readonly maxDurationUs: number;
}

// ---------------- utxos ----------------

export type UtxoOperation = 'add' | 'spent' | 'uncache';
export const UTXO_OPERATIONS: readonly UtxoOperation[] = ['add', 'spent', 'uncache'];

export interface UtxoRow {
  /** The bitcoind process of the event (sessions over every process of a build name each row's node). */
  readonly pid?: number;
  readonly seq: number;
  readonly elapsedNs: number;
  readonly op: UtxoOperation;
  readonly txid: string;
  readonly index: number;
  readonly height: number;
  readonly valueSat: Int64Text;
  readonly isCoinbase: boolean;
}

export type OperationCounts = Readonly<Record<UtxoOperation, number>>;
export type OperationRates = SecondBuckets<UtxoOperation>;

export interface UtxosView {
  readonly tool: 'utxos';
  /** Exact counts from the kernel when the probe reports them, else the delivered counts. */
  readonly counts: OperationCounts;
  readonly countsFromKernel: boolean;
  readonly delivered: OperationCounts;
  readonly rates: OperationRates;
  readonly rows: readonly UtxoRow[];
  readonly matchingRows: number;
  /** Rows kept in memory (the newest), of which `matchingRows` pass the filter. */
  readonly keptRows: number;
}

// ---------------- mempool-monitor ----------------

export type MempoolKind = 'added' | 'removed' | 'replaced' | 'rejected';
export const MEMPOOL_KINDS: readonly MempoolKind[] = ['added', 'removed', 'replaced', 'rejected'];

export type MempoolCounts = Readonly<Record<MempoolKind, number>>;
export type MempoolRates = SecondBuckets<MempoolKind>;

export interface ReplacementDetail {
  readonly replacedVsize: number | null;
  readonly replacedFee: Int64Text | null;
  readonly replacementId: string;
  readonly replacementVsize: number | null;
  readonly replacementFee: Int64Text | null;
  readonly byTransaction: boolean | null;
}

/**
 * Time between entry and removal, to the precision of its source: `added` — from the `added` event this session
 * saw (ns, on the probe's clock); `entry_time` — the tracepoint's entry time (whole UNIX seconds) against the
 * removal's wall-clock second, so whole seconds only.
 */
export interface TimeInMempool {
  readonly ns: number;
  readonly from: 'added' | 'entry_time';
}

export interface MempoolRow {
  readonly seq: number;
  readonly elapsedNs: number;
  readonly kind: MempoolKind;
  /** The transaction added, removed or rejected; for `replaced`, the replaced transaction. */
  readonly txid: string;
  readonly vsize: number | null;
  readonly fee: Int64Text | null;
  /** sat/vB */
  readonly feeRate: number | null;
  readonly reason: string | null;
  /** How long the transaction was in the mempool (removed, replaced); null when unknown. */
  readonly inMempool: TimeInMempool | null;
  readonly replacement: ReplacementDetail | null;
}

export interface MempoolView {
  readonly tool: 'mempool-monitor';
  readonly total: MempoolCounts;
  readonly lastMinute: MempoolCounts;
  readonly lastTenMinutes: MempoolCounts;
  readonly rates: MempoolRates;
  readonly rows: readonly MempoolRow[];
  readonly matchingRows: number;
  readonly keptRows: number;
  /** The mempool when the probe attached (getmempoolinfo); null: not known (see atAttachNote). */
  readonly atAttach: { readonly size: number; readonly bytes: number } | null;
  readonly atAttachNote: string | null;
}

// ---------------- coin-selection ----------------

export interface CoinSelectionPart {
  readonly algo: string | null;
  readonly target: Int64Text | null;
  readonly waste: Int64Text | null;
  readonly selectedValue: Int64Text | null;
  readonly fee: Int64Text | null;
  readonly changePos: number | null;
  /** null: the create_tx tracepoint of this part has not fired (yet). */
  readonly success: boolean | null;
}

export interface CoinSelectionAttempt {
  readonly seq: number;
  readonly elapsedNs: number;
  readonly wallet: string;
  readonly normal: CoinSelectionPart | null;
  /** Avoid-partial-spends attempt (attempting_aps_create_tx fired). */
  readonly aps: CoinSelectionPart | null;
  /** aps_create_tx_internal's use_aps: the APS transaction was the one used. */
  readonly apsUsed: boolean | null;
}

export interface CoinSelectionView {
  readonly tool: 'coin-selection';
  readonly rows: readonly CoinSelectionAttempt[];
  readonly matchingRows: number;
  readonly totalAttempts: number;
  readonly forgottenAttempts: number;
  readonly succeeded: number;
  readonly failed: number;
  readonly apsUsed: number;
  readonly wallets: readonly NamedCount[];
}

// ---------------- any tool without a view of its own: its records' field tables ----------------

/** A field of a record, as its table in eventSchema.ts says (`kind`: u64, i64, u32, i32, bool, string, hash, hex). */
export interface SchemaField {
  readonly name: string;
  readonly kind: string;
  readonly doc: string;
}

export interface SchemaRecordTable {
  readonly event: string;
  readonly doc: string;
  readonly fields: readonly SchemaField[];
}

export interface SchemaRow {
  /** The bitcoind process of the event (sessions over every process of a build name each row's node). */
  readonly pid?: number;
  readonly seq: number;
  readonly elapsedNs: number;
  readonly event: string;
  /**
   * One per field of the event's table, in its order, as text: integers in exact decimal, `yes`/`no`, hashes and
   * hex as lowercase hex, strings as they came (untrusted); null: a field the event lacks (an optional one).
   */
  readonly values: readonly (string | null)[];
}

/** The generic view (`tool: 'generic'`): the newest records of any tool on the tool panel that has no view of its own. */
export interface GenericView {
  readonly tool: 'generic';
  readonly records: readonly SchemaRecordTable[];
  readonly rows: readonly SchemaRow[];
  readonly matchingRows: number;
  readonly totalRows: number;
  /** Rows dropped from memory (the oldest) to stay bounded. */
  readonly forgottenRows: number;
  /** Records per event, in the tables' order. */
  readonly byEvent: readonly NamedCount[];
}

export type ToolView = ConnectionsView | FlushView | UtxosView | MempoolView | CoinSelectionView | TraceView | GenericView;

/** What the webview shows for one session of the panel's tool. */
export interface ToolSnapshot {
  readonly view: ToolView;
  readonly counters: ToolCounters;
  readonly session: SessionStatus;
}

/** Filters (applied by the host, so they cover every row in memory, not only those sent). */
export interface ToolFilter {
  /** Free text: txid prefix (utxos), txid/reason (mempool), wallet/algo (coin selection), address/id/type (connections), mode (flush). */
  readonly text: string;
  /** '' = all; otherwise an operation, mempool kind, direction, connection type, or 'ok'/'failed'. */
  readonly kind: string;
}

export const EMPTY_FILTER: ToolFilter = { text: '', kind: '' };

/** The webview's UI state: kept by vscode.setState (also read by the host's serializer for the tool). */
export interface ToolUiState {
  readonly tool: ToolPanelTool | null;
  readonly sessionId: string | null;
  readonly filter: ToolFilter;
}

/** What the webview rendered, for integration tests (the webview DOM is not reachable from the host). */
export interface ToolRenderReport extends ActiveElementCounts {
  readonly tool: ToolPanelTool | null;
  readonly sessionId: string | null;
  /** The session's state as the header shows it. */
  readonly sessionState: string;
  /** The header offers "Kernel filter…" (a running session whose tool takes kernel filters). */
  readonly kernelFilterShown: boolean;
  /** The A/B section (media/shared/comparisonView.ts). */
  readonly comparison: ComparisonReport;
  /** The node selector (sessions over every process of a build). */
  readonly nodes: NodeSelectorReport;
  /** Rows in the main table (the log or connection table). */
  readonly rowCount: number;
  /** Text of each cell of the first rows. */
  readonly firstRows: readonly (readonly string[])[];
  readonly columns: readonly string[];
  /** How far the table is wider than its box (0: it fits, no horizontal scroll), and the page than the panel, in px. */
  readonly tableOverflowPx: number;
  readonly pageOverflowPx: number;
  /** Named summary values as shown (label → text). */
  readonly summary: Readonly<Record<string, string>>;
  readonly matchText: string;
  /** The filter the rows shown were selected with. */
  readonly filter: ToolFilter;
  readonly lostText: string;
  readonly truncatedText: string;
  readonly lostAlarm: boolean;
  readonly chartCanvasCount: number;
  /** Each chart's legend and y-axis labels as drawn. */
  readonly charts: readonly ChartReport[];
  /** <script> elements in the document now and when the page started (VS Code injects its own). */
  readonly scriptElementsInDocument: number;
  readonly scriptElementsAtStart: number;
  readonly dataFrames: DataFrameTimes;
}

// ---- host → webview ----

export interface ToolSnapshotMessage {
  readonly type: 'snapshot';
  readonly tool: ToolPanelTool;
  readonly sessionId: string | null;
  readonly sessions: readonly SessionChoice[];
  readonly snapshot: ToolSnapshot | null;
  readonly filter: ToolFilter;
}

/** Sets the filter as if typed (the command palette and tests use it). */
export interface SetFilterMessage {
  readonly type: 'setFilter';
  readonly filter: ToolFilter;
}

export type ToolToWebview = ToolSnapshotMessage | SessionsMessage | NodesMessage | PickNodeMessage | PressKernelFilterMessage | SetFilterMessage | RenderReportRequest | ComparisonMessage;

// ---- webview → host ----

export interface ToolFilterMessage {
  readonly type: 'filter';
  readonly filter: ToolFilter;
}

export type ToolFromWebview = CommonFromWebview<ToolUiState, ToolRenderReport> | ToolFilterMessage;

export function parseFilter(value: unknown): ToolFilter {
  if (!isRecord(value)) return EMPTY_FILTER;
  return {
    text: typeof value.text === 'string' ? value.text.slice(0, 200) : '',
    kind: typeof value.kind === 'string' ? value.kind.slice(0, 100) : '',
  };
}

/** Validates a UI state from webview storage or postMessage; falls back field by field. */
export function parseToolUiState(value: unknown): ToolUiState {
  if (!isRecord(value)) return { tool: null, sessionId: null, filter: EMPTY_FILTER };
  return {
    tool: isToolPanelTool(value.tool) ? value.tool : null,
    sessionId: sessionIdOrNull(value.sessionId),
    filter: parseFilter(value.filter),
  };
}


export type ToolPage = PageTypes<ToolUiState, ToolFromWebview, ToolToWebview, ToolRenderReport>;
export const TOOL_PAGE: PageProtocol<ToolPage> = pageProtocol<ToolUiState, ToolFilterMessage, ToolToWebview, ToolRenderReport>(parseToolUiState, (message) =>
  message.type === 'filter' ? { type: 'filter', filter: parseFilter(message.filter) } : undefined,
);
/** Narrows an untyped postMessage payload from the page; unknown shapes give undefined. */
export const parseToolFromWebview = TOOL_PAGE.parseFromPage;
